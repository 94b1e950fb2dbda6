"""Themes by name (issue 24, item 6): a label word several themes share is ambiguous (they are
listed); a whole label, as messages print it, names its theme; a theme only in a saved theme set
gets a hint naming the set option."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.errors import AmbiguousQueryError, QueryError
from paperlike.records import Theme, ThemePaper, ThemeSet
from paperlike.service import Recommender
from paperlike.web.wording import api_wording


def _theme(tid: str, terms: list[str], seed: str | None = None) -> Theme:
    papers = [ThemePaper(f"{tid}-paper", f"A paper of {tid}", 0.9, True)]
    return Theme(tid, " · ".join(terms), seed, papers, terms, np.zeros(4, dtype=np.float32))


SET = ThemeSet(
    [
        _theme("t1", ["speech", "speaker", "neural"]),
        _theme("t2", ["speech", "recognition", "asr"]),
        _theme("t3", ["graph", "spectral", "clustering"]),
        _theme("distillation", ["student", "teacher", "speech"], seed="distillation"),
        _theme("t4", ["graph neural networks", "message passing", "nodes"]),
    ],
    {"n": None, "seeds": [["distillation", ""]], "margin": 0.05},
    "g1",
)


@pytest.mark.parametrize(
    ("name", "theme"),
    [
        ("t3", "t3"),
        ("T3", "t3"),
        ("distillation", "distillation"),  # the seed name
        ("speech · speaker · neural", "t1"),  # the whole label, as printed
        ("Speech  ·  Speaker · NEURAL", "t1"),
        ("speech, speaker, neural", "t1"),
        ("speech·recognition·asr", "t2"),
        ("t1 (speech · speaker · neural)", "t1"),  # as error messages list a theme
        ("t3 (whatever the label)", "t3"),
        ("spectral", "t3"),  # a label word of one theme
        ("Graph Neural Networks", "t4"),  # a label phrase
        ("graph neural networks · message passing · nodes", "t4"),
    ],
)
def test_names_that_name_one_theme(name, theme):
    assert SET.get(name).id == theme


@pytest.mark.parametrize(
    ("name", "themes"),
    [
        ("speech", ["t1", "t2", "distillation"]),
        ("graph", ["t3"]),  # one theme: not ambiguous
    ],
)
def test_a_label_word_several_themes_share_is_ambiguous(name, themes):
    if len(themes) == 1:
        assert SET.get(name).id == themes[0]
        return
    with pytest.raises(AmbiguousQueryError) as err:
        SET.get(name)
    assert [c[0] for c in err.value.candidates] == themes
    message = str(err.value)
    assert message.startswith(f"theme name '{name}' is ambiguous in the themes --seed distillation: 3 themes have it")
    assert "t1 (speech · speaker · neural); t2 (speech · recognition · asr); distillation (student · teacher · speech)" in message
    assert "name one by its id (e.g. t1) or its whole label" in message


@pytest.mark.parametrize("name", ["speech · speaker", "speaker · neural · speech", "t9 (speech · speaker · neural)", "audio"])
def test_names_that_name_no_theme(name):
    with pytest.raises(QueryError) as err:
        SET.get(name)
    assert not isinstance(err.value, AmbiguousQueryError)
    assert str(err.value).startswith(f"no theme '{name}' in the themes --seed distillation; known themes: t1 (speech")


def test_cli_theme_ambiguous_and_whole_label(monkeypatch, hash_index_dir):
    import paperlike.service.themes as service_themes

    monkeypatch.setattr(service_themes, "theme_set", lambda rec, choice=None, save=True: SET)
    runner = CliRunner()
    ambiguous = runner.invoke(cli, ["theme", "speech", "--index-dir", str(hash_index_dir)])
    assert ambiguous.exit_code == 2
    assert "theme name 'speech' is ambiguous" in ambiguous.stderr and "t2 (speech · recognition · asr)" in ambiguous.stderr
    whole = runner.invoke(cli, ["theme", "speech · speaker · neural", "--index-dir", str(hash_index_dir)])
    assert whole.exit_code == 0, whole.output
    assert whole.stdout.startswith("t1: speech · speaker · neural")


def test_printed_labels_and_listings_name_their_themes(hash_index_copy):
    """On computed themes: each label as `themes --json` prints it, and each theme as the
    no-theme error lists it, names that theme."""
    runner = CliRunner()
    index = ["--index-dir", str(hash_index_copy)]
    rec = Recommender.load(hash_index_copy, embedder=HashingEmbedder())
    found = rec.themes()
    labels = {t.label: t.id for t in found}
    for label, tid in labels.items():
        if sum(1 for other in found if other.label == label) == 1:
            shown = runner.invoke(cli, ["theme", label, "-k", "1", *index])
            assert shown.exit_code == 0 and shown.stdout.startswith(f"{tid}: "), shown.output
    error = runner.invoke(cli, ["theme", "no-such-theme", *index]).stderr
    listed = error.split("known themes: ", 1)[1].split("; list them with")[0]
    first = listed.split("), ")[0] + ")"
    shown = runner.invoke(cli, ["theme", first, "-k", "1", *index])
    assert shown.exit_code == 0 and shown.stdout.startswith(first.split(" ")[0] + ": "), (first, shown.output)


def test_a_theme_only_in_a_saved_set_gets_a_hint(hash_index_copy):
    runner = CliRunner()
    index = ["--index-dir", str(hash_index_copy)]
    saved = runner.invoke(cli, ["themes", "--seed", "continual learning", "--save-as", "reading", *index])
    assert saved.exit_code == 0, saved.output
    missing = runner.invoke(cli, ["theme", "continual-learning", *index])
    assert missing.exit_code == 2
    assert (
        "Error: no theme 'continual-learning' in the automatic themes (it is a theme of the saved theme set 'reading': "
        "add --theme-set reading); known themes: t1"
    ) in missing.stderr
    also = runner.invoke(cli, ["similar", "autodistil", "--theme", "continual learning", *index])
    assert also.exit_code == 2 and "add --theme-set reading" in also.stderr
    assert runner.invoke(cli, ["theme", "continual-learning", "--theme-set", "reading", "-k", "1", *index]).exit_code == 0
    # A name no saved set has: no hint.
    nowhere = runner.invoke(cli, ["theme", "no-such-theme", *index])
    assert "saved theme set" not in nowhere.stderr
    # In the API's words, the hint names the parameter.
    assert "add theme_set=reading)" in api_wording(missing.stderr)
