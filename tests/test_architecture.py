"""The package's shape, checked from its source: imports flow one way through the layers, no
module imports itself round a cycle (function-local imports included), the CLI stays light, every
``PAPERLIKE_*`` variable is read in settings.py only, and modules and functions stay small.

Layers, top to bottom (a module may import its own layer or any layer below it, never above)::

    cli -> service -> {search, themes, readers, embedding, viz, export, online} -> storage
        -> {records, identity, text, stopwords, settings, errors, model_registry, mode_registry,
            format_registry, registries}
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

SRC = ROOT / "src" / "paperlike"

LAYERS = {
    # The command line and the web app are the two front ends over the service layer.
    "cli": 0,
    "web": 0,
    "service": 1,
    # online/ fetches papers by identifier (--online): the layer of the readers it reuses.
    **{name: 2 for name in ("search", "themes", "readers", "embedding", "viz", "export", "online")},
    "storage": 3,
    # The registries (models, ranking modes, export formats): records, dependency-free, so the
    # CLI reads names without numpy.
    **{
        name: 4
        for name in (
            "records",
            "identity",
            "text",
            "stopwords",
            "settings",
            "errors",
            "_version",
            "model_registry",
            "mode_registry",
            "format_registry",
            "registries",
        )
    },
}
# The package's front doors sit above every layer: the lazy public API and `python -m paperlike`.
ENTRY_POINTS = {"paperlike", "paperlike.__main__"}
HEAVY_FOR_CLI = ("numpy", "faiss", "sklearn", "scipy", "torch", "sentence_transformers")
MAX_LINES = 400
MAX_COMPLEXITY = 15


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module an import statement in ``path`` names (anywhere in the file, functions and
    ``if TYPE_CHECKING`` blocks included), resolved to absolute names, with its line."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import x` and `from .pkg import mod` may name submodules: count those too.
            found.append((target, node.lineno))
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names if f"{target}.{alias.name}" in MODULES]
    return found


def _internal_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = set()
        for target, _ in _imports(path):
            # `from ..records import Paper` imports the package paperlike.records.
            while target and target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != name and target.startswith("paperlike"):
                edges.add(target)
        graph[name] = edges
    return graph


def _layer(module: str) -> int | None:
    if module in ENTRY_POINTS:
        return -1
    top = module.split(".")[1]
    return LAYERS.get(top)


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _layer(m) is None] == []


def test_imports_never_go_up_a_layer():
    wrong = []
    for name, path in MODULES.items():
        for target, line in _imports(path):
            if not target.startswith("paperlike.") or target in ENTRY_POINTS:
                continue
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            source_layer, target_layer = _layer(name), _layer(target)
            if source_layer is not None and target_layer is not None and target_layer < source_layer:
                wrong.append(f"{name}:{line} imports {target}")
    assert wrong == []


def test_no_import_cycles_local_imports_included():
    graph = _internal_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            # A package's __init__ re-exporting its own submodules is not a cycle of concerns.
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert [" -> ".join(c) for c in cycles] == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The walker sees function-local imports: a made-up package with a hidden cycle fails."""
    pkg = tmp_path / "paperlike"
    (pkg / "storage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "storage" / "__init__.py").write_text("")
    (pkg / "storage" / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "storage" / "b.py").write_text("from . import a\n")
    monkeypatch.setattr(__import__(__name__), "SRC", pkg)
    modules = {_module_name(p): p for p in sorted(pkg.rglob("*.py"))}
    monkeypatch.setattr(__import__(__name__), "MODULES", modules)
    graph = _internal_graph()
    assert "paperlike.storage.b" in graph["paperlike.storage.a"]
    assert "paperlike.storage.a" in graph["paperlike.storage.b"]
    with pytest.raises(AssertionError):
        test_no_import_cycles_local_imports_included()


def test_cli_imports_no_numpy_faiss_or_sklearn():
    heavy = [
        f"{name}:{line} imports {target}"
        for name, path in MODULES.items()
        if name.startswith("paperlike.cli")
        for target, line in _imports(path)
        if target.split(".")[0] in HEAVY_FOR_CLI
    ]
    assert heavy == []


def test_paperlike_environment_variables_are_read_in_settings_only():
    readers = []
    for name, path in MODULES.items():
        if name == "paperlike.settings":
            continue
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("PAPERLIKE_"):
                readers.append(f"{name}:{node.lineno} names {node.value}")
    assert readers == []


# File names used in more than one package: each is one concept seen from each layer (the
# themes' records, files, service and command), never two jobs under one name. A new repeat
# fails the test below until it is renamed or, if it is one concept, added here with it.
SHARED_NAMES = {
    "__init__": "a package",
    "aliases": "names of merged records: stored (storage) and looked up (search)",
    "app": "a front end's application: the click group (cli), the ASGI app (web)",
    "arxiv": "arXiv records: read from a file (readers), fetched from the API (online)",
    "base": "what a package's modules share: the embedder interface, the readers' common code",
    "generations": "index generations: on disk (storage), as the server swaps them (web)",
    "incoming": "the new-paper ranking: its records and its service",
    "index": "the index: its files (storage), its commands (cli)",
    "lexical": "the BM25 / TF-IDF side: its arrays on disk (storage), its scoring (search)",
    "marks": "the reader's marks: steering scores (search), the web endpoints (web)",
    "themes": "themes: records, saved sets (storage), theme sets by name (service), commands (cli)",
    "triage": "daily triage: its files (storage), its service, its commands (cli)",
}


def test_no_two_modules_share_a_file_name_for_different_jobs():
    by_name: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        by_name.setdefault(path.stem, []).append(name)
    repeated = {stem for stem, names in by_name.items() if len(names) > 1}
    assert sorted(repeated - set(SHARED_NAMES)) == []
    assert sorted(set(SHARED_NAMES) - repeated) == []  # the list stays true as modules go


def test_no_module_over_400_lines():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_function_over_cyclomatic_complexity_15():
    radon = pytest.importorskip("radon.complexity", reason="radon is in the 'lint' extra; CI also runs ruff's C901")
    complex_ = []
    for name, path in MODULES.items():
        for block in radon.cc_visit(path.read_text(encoding="utf-8")):
            if block.complexity > MAX_COMPLEXITY:
                complex_.append(f"{name}.{block.fullname} ({block.complexity})")
    assert complex_ == []


def test_the_where_to_add_table_of_docs_architecture_names_real_files_and_names():
    import re

    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = doc[doc.index("## Where to add things") :]
    paths = set(re.findall(r"`(src/paperlike/[\w/]+(?:\.py)?/?)`", table))
    assert len(paths) >= 10
    assert [p for p in sorted(paths) if not (ROOT / p).exists()] == []
    # The names the table says to add to are defined where it says.
    for name, path in [
        ("register_mode = ", "src/paperlike/mode_registry.py"),
        ("register_export_format = ", "src/paperlike/format_registry.py"),
        ("class ModelSpec", "src/paperlike/model_registry.py"),
        ("register_reader = ", "src/paperlike/readers/formats.py"),
        ("def sniff_format", "src/paperlike/readers/detect.py"),
    ]:
        assert name in (ROOT / path).read_text(encoding="utf-8"), (name, path)
    # Every module the layer diagram names exists, and every top-level part of the package is in it.
    diagram = doc[doc.index("```text") : doc.index("```", doc.index("```text") + 7)]
    for part in re.findall(r"([\w]+(?:/|\.py))", diagram):
        assert (SRC / part.rstrip("/")).exists(), part
    tops = {p.name for p in SRC.iterdir() if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    named = {part.rstrip("/") for part in re.findall(r"([\w]+(?:/|\.py))", diagram)}
    assert sorted(tops - named - {"__init__.py", "__main__.py", "_version.py", "data"}) == []


def _registry_copies(source: str, registries: dict[str, set[str]]) -> list[str]:
    """Literal lists, tuples, sets and dict keys made only of names of one registry, three or
    more of them: a copy of the registry that will miss the next name registered."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        if not items or not all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
            continue
        names = {i.value for i in items}  # type: ignore[attr-defined]
        for registry, known in registries.items():
            if len(names) >= 3 and names <= known:
                found.append(f"line {node.lineno}: {sorted(names)} copies the {registry} registry")
    return found


def _registries() -> dict[str, set[str]]:
    from paperlike.format_registry import EXPORT_FORMATS
    from paperlike.mode_registry import MODES
    from paperlike.model_registry import MODEL_NAMES
    from paperlike.readers.formats import FORMATS

    return {
        "ranking-mode": set(MODES),
        "export-format": set(EXPORT_FORMATS),
        "model": set(MODEL_NAMES),
        "corpus-format": set(FORMATS),
    }


def test_no_module_copies_a_registrys_names():
    registries = _registries()
    homes = {"paperlike.mode_registry", "paperlike.format_registry", "paperlike.model_registry", "paperlike.readers.formats"}
    copies = [
        f"{name} {c}"
        for name, path in MODULES.items()
        if name not in homes
        for c in _registry_copies(path.read_text(encoding="utf-8"), registries)
    ]
    assert copies == []


def test_the_registry_copy_check_finds_copies():
    registries = _registries()
    assert _registry_copies('type=click.Choice(["hybrid", "dense", "lexical"])', registries)
    assert _registry_copies('TYPES = {"bibtex": 1, "jsonl": 2, "csv": 3}', registries)
    assert _registry_copies('FORMATS = ("daily", "jsonl", "bibtex", "csv", "tsv")', registries)
    # Lists that share a few names are not copies: two modes, a mix of names.
    assert not _registry_copies('METHODS = ("hybrid", "dense", "lexical", "max", "svm")', registries)
    assert not _registry_copies('if method in ("hybrid", "lexical"): pass', registries)


def _named_literals(source: str, names: set[str]) -> list[tuple[int, str]]:
    """String constants equal to one of ``names``, docstrings left out."""
    tree = ast.parse(source)
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names and id(node) not in docstrings
    ]


def _name_homes() -> dict[str, set[str]]:
    """Where each ranking-mode, export-format and corpus-format name may be written: its
    registry, and the module its record names as its implementation (a reader, a writer).
    Stream methods (``rank --method``) share names with modes; search/stream.py implements them,
    and detect.py's content rules name the formats they tell apart."""
    from paperlike.format_registry import EXPORT_FORMATS, find_export_format
    from paperlike.mode_registry import MODES, STREAM_METHODS
    from paperlike.readers.formats import FORMATS, find_reader

    homes: dict[str, set[str]] = {}
    for mode in MODES:
        homes.setdefault(mode, set()).add("paperlike.mode_registry")
    for method in set(STREAM_METHODS) & set(MODES):
        homes[method].add("paperlike.search.stream")
    for fmt in EXPORT_FORMATS:
        homes.setdefault(fmt, set()).update({"paperlike.format_registry", find_export_format(fmt).writer.split(":")[0]})
    for fmt in FORMATS:
        reader = find_reader(fmt).reader.split(":")[0]
        homes.setdefault(fmt, set()).update({"paperlike.readers.formats", "paperlike.readers.detect", reader})
    return homes


def test_no_mode_format_or_reader_name_is_written_outside_its_record():
    """A name is written once, in its record (and its own implementation); everything else reads
    the registry, so adding or renaming a mode, format or reader touches no other module."""
    homes = _name_homes()
    stray = [
        f"{name}:{line} writes {value!r}"
        for name, path in MODULES.items()
        for line, value in _named_literals(path.read_text(encoding="utf-8"), set(homes))
        if name not in homes[value]
    ]
    assert stray == []


def test_the_name_check_finds_a_stray_name():
    assert _named_literals('if opts.mode == "topical":\n    pass\n', {"topical"}) == [(1, "topical")]
    assert _named_literals('"""Ranks in "topical" mode."""\nx = 1\n', {"topical"}) == []
