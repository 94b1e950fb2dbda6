"""The OpenAPI entries of the reader's marks (``POST /api/mark``, ``GET /api/marks``), merged into
:func:`.openapi.openapi`; apart so that module stays small."""

from __future__ import annotations

from typing import Any

from .marks import MARK_CHOICES, MAX_PAPERS

__all__ = ["MARK_SCHEMAS", "mark_paths"]

_STR = {"type": "string"}

MARK_SCHEMAS: dict[str, Any] = {
    "MarkChanges": {
        "type": "object",
        "required": ["changes", "generation"],
        "properties": {
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": _STR,
                        "title": _STR,
                        "mark": {
                            "enum": ["like", "dislike", "cleared", "none"],
                            "description": "What changed; none: clearing a paper that had no mark.",
                        },
                        "in_library": {"type": "boolean", "description": "False: a paper `paperlike rank` showed."},
                    },
                },
            },
            "generation": _STR,
        },
    },
    "Marks": {
        "type": "object",
        "required": ["marks", "generation"],
        "properties": {
            "marks": {
                "type": "array",
                "description": "Oldest first.",
                "items": {
                    "type": "object",
                    "properties": {
                        "mark": {"enum": ["like", "dislike"]},
                        "at": {"type": "string", "description": "When (UTC, ISO 8601)."},
                        "paper": {"$ref": "#/components/schemas/Paper"},
                    },
                },
            },
            "generation": _STR,
        },
    },
}


def _ok(schema: str) -> dict[str, Any]:
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}},
        "4XX": {"$ref": "#/components/responses/Error"},
    }


def mark_paths() -> dict[str, Any]:
    """The two paths, as :mod:`.openapi` writes the others."""
    fields = {
        "type": "object",
        "required": ["paper", "mark"],
        "properties": {
            "paper": {
                "type": "array",
                "items": _STR,
                "maxItems": MAX_PAPERS,
                "description": "A library paper (id, DOI, arXiv id, URL or title) or one `paperlike rank` showed; "
                "repeatable (in JSON: a string or a list).",
            },
            "mark": {"enum": list(MARK_CHOICES)},
            "csrf_token": _STR,
        },
    }
    return {
        "/api/mark": {
            "post": {
                "summary": "Mark papers liked or not liked, or clear their marks (only with --allow-edits)",
                "description": "As `paperlike mark PAPER... --like|--dislike|--clear`. Papers marked not liked are left "
                "out of later answers. All or nothing: an unknown paper (404, named) marks none. Needs the session's CSRF "
                "token (X-CSRF-Token header or csrf_token field, with the session cookie) or Authorization: Bearer TOKEN.",
                "requestBody": {
                    "required": True,
                    "content": {
                        kind: {"schema": fields}
                        for kind in ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")
                    },
                },
                "responses": _ok("MarkChanges"),
            }
        },
        "/api/marks": {
            "get": {
                "summary": "The papers you marked liked or not liked, with their records",
                "description": "As `paperlike marks --json`.",
                "parameters": [],
                "responses": _ok("Marks"),
            }
        },
    }
