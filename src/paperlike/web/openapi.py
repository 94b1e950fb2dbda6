"""The OpenAPI 3.1 description of the JSON API (served at ``/api/openapi.json``).

Written out here, next to the routes, rather than generated: the app has no schema library, and
a test checks that every ``/api`` route is described and every described path is a route.
"""

from __future__ import annotations

from typing import Any

from paperlike import __version__
from paperlike.format_registry import EXPORT_FORMATS
from paperlike.readers.formats import FORMATS as CORPUS_FORMATS
from paperlike.records import DEFAULT_MODE, MODES

from .openapi_marks import MARK_SCHEMAS, mark_paths
from .params import KINDS, MAX_K

__all__ = ["openapi"]


def _q(name: str, desc: str, schema: dict[str, Any], *, required: bool = False, many: bool = False) -> dict[str, Any]:
    if many:
        schema = {"type": "array", "items": schema}
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": desc,
        "schema": schema,
        **({"style": "form", "explode": True} if many else {}),
    }


_STR = {"type": "string"}
_THEME_SET = [
    _q(
        "n",
        "Theme set: this many themes (with seed: seeded ones included). No n, seed or theme_set: the automatic themes.",
        {"type": "integer", "minimum": 1, "maximum": 500},
    ),
    _q("seed", "Theme set: anchor a theme on a name ('NAME' or 'NAME=words'); repeatable.", _STR, many=True),
    _q("theme_set", "Theme set: one named with 'paperlike themes ... --save-as NAME' (instead of n and seed).", _STR),
]


def _rank_params() -> list[dict[str, Any]]:
    """The ranking parameters (the modes read from the registry at each call)."""
    return [
        _q(
            "k",
            "Number of results (more than the index returns every other paper).",
            {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10},
        ),
        _q(
            "mode",
            "Ranking: TF-IDF fused with the model's cosine, the model alone, or BM25 alone.",
            {"enum": list(MODES), "default": DEFAULT_MODE},
        ),
        _q(
            "theme",
            "Only papers of this theme (id, seed name or label phrase of the set n, seed or theme_set name; "
            "or collection:PATH, a Zotero collection).",
            _STR,
        ),
        _q("diverse", "Re-rank so the top results are not variations of one idea (MMR).", {"type": "boolean", "default": False}),
        _q("why", "Attach the shared terms and best sentence of each result.", {"type": "boolean", "default": True}),
        _q("format", "Return the result papers as full records in this format instead of JSON.", {"enum": list(EXPORT_FORMATS)}),
        *_THEME_SET,
    ]


def _ok(schema_ref: str, text: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}
    if text:
        content.update(
            {"application/x-bibtex": {"schema": _STR}, "application/x-ndjson": {"schema": _STR}, "text/csv": {"schema": _STR}}
        )
    return {"200": {"description": "OK", "content": content}, "4XX": {"$ref": "#/components/responses/Error"}}


def _get(summary: str, params: list[dict[str, Any]], ok: dict[str, Any], cli: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "description": f"As `{cli}`.", "parameters": params, "responses": ok}}


def _schemas() -> dict[str, Any]:
    """The response schemas (the modes read from the registry at each call)."""
    return {
        "Error": {
            "type": "object",
            "required": ["error", "type", "status"],
            "properties": {
                "error": {"type": "string", "description": "One line: the problem and the fix."},
                "type": {"type": "string"},
                "status": {"type": "integer"},
                "candidates": {"type": "array", "items": {"type": "object"}},
                "suggestions": {"type": "array", "items": _STR},
            },
        },
        "Why": {
            "type": ["object", "null"],
            "properties": {
                "terms": {"type": "array", "items": _STR},
                "query_sentence": {"type": ["string", "null"]},
                "result_sentence": {"type": ["string", "null"]},
            },
        },
        "Result": {
            "type": "object",
            "required": ["rank", "id", "title", "score"],
            "properties": {
                "rank": {"type": "integer"},
                "id": _STR,
                "title": _STR,
                "score": {"type": "number"},
                "cosine": {"type": ["number", "null"]},
                "why": {"$ref": "#/components/schemas/Why"},
                "year": {"type": ["integer", "null"]},
                "authors": {"type": "array", "items": _STR},
                "venue": {"type": ["string", "null"]},
                "link": {"type": ["string", "null"], "description": "The record's URL, else its DOI or arXiv page."},
                "mmr": {"type": ["number", "null"], "description": "With diverse: the MMR gain that chose this rank."},
            },
        },
        "PaperRef": {"type": "object", "required": ["id", "title"], "properties": {"id": _STR, "title": _STR}},
        "Answer": {
            "type": "object",
            "required": ["query", "kind", "results", "generation"],
            "properties": {
                "query": _STR,
                "kind": {"enum": ["paper", "text", "papers"]},
                "query_kind": {
                    "enum": ["id", "arxiv_id", "doi", "url", "title", "title_prefix", "near_match", "alias", "text", "papers"],
                    "description": "How the query was read: which name of the paper it was, free text, or several papers.",
                },
                "read_as": {
                    "type": "string",
                    "description": "The same in words, e.g. 'the id of paper autodistil' or 'free text'.",
                },
                "alternatives": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/PaperRef"},
                    "description": "Free text that starts titles: those papers (give an id or 3+ words of a title to look one up).",
                },
                "paper_id": {"type": ["string", "null"]},
                "paper_title": {"type": ["string", "null"]},
                "papers": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/PaperRef"},
                    "description": "The query papers (kind papers).",
                },
                "unlike": {"type": "array", "items": {"$ref": "#/components/schemas/PaperRef"}},
                "mode": {"enum": list(MODES)},
                "score_scale": {"type": ["string", "null"], "description": "What a result's score means in this mode."},
                "diverse": {"type": "boolean"},
                "note": {
                    "type": ["string", "null"],
                    "description": "How the query was read, e.g. that it named no paper and was searched as free text.",
                },
                "generation": _STR,
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
            },
        },
        "Paper": {
            "type": "object",
            "required": ["id", "title", "abstract"],
            "properties": {
                "id": _STR,
                "title": _STR,
                "abstract": _STR,
                "authors": {"type": "array", "items": _STR},
                "year": {"type": "integer"},
                "url": _STR,
                "arxiv_id": _STR,
                "doi": _STR,
                "source": _STR,
                "generation": _STR,
            },
        },
        "PaperList": {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "offset": {"type": "integer"},
                "papers": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Theme": {
            "type": "object",
            "properties": {
                "id": _STR,
                "label": _STR,
                "size": {"type": "integer"},
                "seed": {"type": ["string", "null"]},
                "kind": {"enum": ["seeded", "discovered"]},
                "status": {"type": ["string", "null"]},
                "papers": {"type": "array", "items": {"type": "object"}},
                "theme_set": {"anyOf": [{"$ref": "#/components/schemas/ThemeSetRef"}, {"type": "null"}]},
            },
        },
        "ThemeSetRef": {
            "type": "object",
            "description": "Which theme set an answer comes from.",
            "properties": {"name": {"type": ["string", "null"]}, "options": _STR, "description": _STR},
        },
        "ThemeSet": {
            "type": "object",
            "properties": {
                "themes": {"type": "array", "items": {"$ref": "#/components/schemas/Theme"}},
                "options": {"type": "object"},
                "changes": {"type": "object"},
                "theme_set": {"$ref": "#/components/schemas/ThemeSetRef"},
                "papers": {"type": "integer", "description": "Papers in at least one theme."},
                "memberships": {"type": "integer"},
                "generation": _STR,
            },
        },
        "Map": {
            "type": "object",
            "properties": {
                "figure": {"type": "object", "description": "plotly figure JSON (data, layout)"},
                "method": _STR,
                "papers": {"type": "integer"},
                "themes": {"type": "integer"},
                "theme_set": {"$ref": "#/components/schemas/ThemeSetRef"},
                "generation": _STR,
            },
        },
        "Info": {"type": "object", "properties": {"papers": {"type": "integer"}, "model": _STR, "generation": _STR}},
        "AddReport": {
            "type": "object",
            "properties": {
                **{k: {"type": "integer"} for k in ("added", "updated", "unchanged", "duplicates", "skipped", "embedded")},
                "merged": {
                    "type": "array",
                    "description": "Records merged into a paper already indexed under another id.",
                    "items": {
                        "type": "object",
                        "properties": {"record": _STR, "into": _STR, "by": _STR, "titles_differ": {"type": "boolean"}},
                    },
                },
            },
        },
        "Csrf": {"type": "object", "properties": {"csrf_token": _STR, "header": _STR}},
        **MARK_SCHEMAS,
    }


def _paths() -> dict[str, Any]:
    q_many = _q(
        "q", "A paper id, title, DOI or arXiv id, or free text; repeat for papers like several.", _STR, required=True, many=True
    )
    not_many = _q("not", "A paper the results should not be like (repeatable).", _STR, many=True)
    return {
        "/api/similar": _get(
            "Papers like a query (a paper, or free text with a note when it names none) or like several papers",
            [
                q_many,
                not_many,
                _q(
                    "kind",
                    "Read q as a paper when it names one, else as free text (auto); only as a paper (404 when it names "
                    "none); only as text.",
                    {"enum": list(KINDS), "default": "auto"},
                ),
                *_rank_params(),
            ],
            _ok("Answer", text=True),
            "paperlike similar QUERY... [--not P] [--text|--paper]",
        ),
        "/api/text": _get(
            "Papers like a free text",
            [_q("q", "Free text.", _STR, required=True), *_rank_params()],
            _ok("Answer", text=True),
            'paperlike similar "TEXT" --text',
        ),
        "/api/like": _get(
            "Papers like these papers and unlike others (refinement)",
            [_q("paper", "A paper to find papers like (repeatable).", _STR, required=True, many=True), not_many, *_rank_params()],
            _ok("Answer", text=True),
            "paperlike similar A B --not C",
        ),
        "/api/paper": _get(
            "A paper's full record",
            [_q("id", "Id, title, DOI, arXiv id or URL of the paper.", _STR, required=True)],
            _ok("Paper"),
            "rec.paper(QUERY)",
        ),
        "/api/papers": _get(
            "Ids and titles of the indexed papers",
            [
                _q("search", "Only ids or titles containing this.", _STR),
                _q("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 100}),
                _q("offset", "Start of the page.", {"type": "integer", "minimum": 0, "default": 0}),
            ],
            _ok("PaperList"),
            "paperlike papers [--search TEXT]",
        ),
        "/api/themes": _get(
            "A theme set with labels and sizes (the same options always give the same set)",
            _THEME_SET,
            _ok("ThemeSet"),
            "paperlike themes [-n N] [--seed S]...",
        ),
        "/api/theme": _get(
            "One theme's papers, best first",
            [
                _q("name", "Theme id, seed name or label phrase.", _STR, required=True),
                _q("k", "Only the best k papers.", {"type": "integer", "minimum": 1}),
                *_THEME_SET,
            ],
            _ok("Theme"),
            "paperlike theme NAME [-k K] [-n N] [--seed S]...",
        ),
        "/api/export": _get(
            "Papers as BibTeX, JSONL or CSV (all, chosen ids, or a theme's)",
            [
                _q("format", "Output format.", {"enum": list(EXPORT_FORMATS)}, required=True),
                _q("ids", "Comma-separated ids (repeatable).", _STR, many=True),
                _q("theme", "Only this theme's papers (of the set n and seed name).", _STR),
                *_THEME_SET,
            ],
            {
                "200": {"description": "The papers as text", "content": {"application/x-bibtex": {"schema": _STR}}},
                "4XX": {"$ref": "#/components/responses/Error"},
            },
            "paperlike export --format F [--ids ...] [--theme T [-n N] [--seed S]...]",
        ),
        "/api/map": _get(
            "The interactive map's figure (plotly JSON), coloured by a theme set",
            _THEME_SET,
            _ok("Map"),
            "paperlike map [-n N] [--seed S]... [--theme-set NAME]",
        ),
        "/api/info": _get("Which index is served: papers, model, generation", [], _ok("Info"), "paperlike info"),
        "/api/csrf": _get("This session's CSRF token (sets the session cookie)", [], _ok("Csrf"), "-"),
        "/api/add": {
            "post": {
                "summary": "Add the papers of uploaded files (only with --allow-edits)",
                "description": "As `paperlike add FILE...`. Needs the session's CSRF token (X-CSRF-Token header or csrf_token "
                "field, with the session cookie) or Authorization: Bearer TOKEN.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                    "format": {"enum": list(CORPUS_FORMATS)},
                                    "strict": {"type": "boolean"},
                                    "csrf_token": _STR,
                                },
                            }
                        }
                    },
                },
                "responses": _ok("AddReport"),
            }
        },
        **mark_paths(),
        "/api/openapi.json": _get("This description", [], {"200": {"description": "OpenAPI 3.1"}}, "-"),
    }


def openapi(app: Any = None) -> dict[str, Any]:
    """The OpenAPI document (``app`` is accepted for symmetry with the routes; unused)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "paperlike",
            "version": __version__,
            "description": "Papers like a paper, themes and exports over one local index. Every answer names the "
            "index generation it came from (field `generation`, header X-Paperlike-Generation).",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": {
                "Error": {
                    "description": "Bad input or a refused request: one line naming the problem and the fix; nothing changed.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
    }
