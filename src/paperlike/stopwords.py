"""Words that say nothing about a paper's topic: English function words and the boilerplate of
abstracts. Theme labels and the key terms of ``--why`` leave them out (ranking does not: BM25 and
TF-IDF weigh words by rarity, and their tokenisers keep their own short stop lists).

Kept here as plain data so that ``similar --why`` needs no scikit-learn import (1 s).
"""

from __future__ import annotations

__all__ = ["ENGLISH_STOP_WORDS", "ACADEMIC_STOP_WORDS", "STOP_WORDS", "is_stop_word"]

# scikit-learn's ENGLISH_STOP_WORDS (BSD-3-Clause; from the Glasgow Information Retrieval Group's list), verbatim.
ENGLISH_STOP_WORDS = frozenset(
    (
        "a about above across after afterwards again against all almost alone along already also although "
        "always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere "
        "are around as at back be became because become becomes becoming been before beforehand behind being "
        "below beside besides between beyond bill both bottom but by call can cannot cant co con could "
        "couldnt cry de describe detail do done down due during each eg eight either eleven else elsewhere "
        "empty enough etc even ever every everyone everything everywhere except few fifteen fifty fill find "
        "fire first five for former formerly forty found four from front full further get give go had has "
        "hasnt have he hence her here hereafter hereby herein hereupon hers herself him himself his how "
        "however hundred i ie if in inc indeed interest into is it its itself keep last latter latterly least "
        "less ltd made many may me meanwhile might mill mine more moreover most mostly move much must my "
        "myself name namely neither never nevertheless next nine no nobody none noone nor not nothing now "
        "nowhere of off often on once one only onto or other others otherwise our ours ourselves out over own "
        "part per perhaps please put rather re same see seem seemed seeming seems serious several she should "
        "show side since sincere six sixty so some somehow someone something sometime sometimes somewhere "
        "still such system take ten than that the their them themselves then thence there thereafter thereby "
        "therefore therein thereupon these they thick thin third this those though three through throughout "
        "thru thus to together too top toward towards twelve twenty two un under until up upon us very via "
        "was we well were what whatever when whence whenever where whereafter whereas whereby wherein "
        "whereupon wherever whether which while whither who whoever whole whom whose why will with within "
        "without would yet you your yours yourself yourselves "
    ).split()
)

# The vocabulary of abstracts in general ("we propose a novel approach..."), in any field.
ACADEMIC_STOP_WORDS = frozenset(
    (
        "paper papers propose proposed proposes approach approaches method methods result results show shows "
        "shown demonstrate demonstrates based using use used uses new novel work works present presents "
        "introduce introduces achieve achieves achieved existing extensive experiments experimental "
        "significantly respectively et al github com https http www code available furthermore moreover "
        "however various different state art study task tasks able via make makes including number large "
        "small high low improve improves improved improving performance effective effectiveness effectively efficient efficiency efficiently framework models "
        "model learning data training trained train problem problems set sets well also outperforms "
        "outperform leading leverage leverages leveraging key within across lead leads terms term way ways "
        "further first one two three many much "
    ).split()
)

STOP_WORDS = ENGLISH_STOP_WORDS | ACADEMIC_STOP_WORDS


# Adverbs in -ly ("typically", "directly", "empirically") qualify a claim; they are never its topic.
# The few nouns in -ly that are topics stay.
_LY_NOUNS = frozenset("anomaly assembly family supply early italy monopoly poly butterfly ally rely reply apply".split())


def is_stop_word(word: str) -> bool:
    """Whether a lowercase word says nothing of a topic: a stop word, a bare number, or an
    adverb in -ly."""
    return word in STOP_WORDS or word.isdigit() or (word.endswith("ly") and len(word) > 4 and word not in _LY_NOUNS)
