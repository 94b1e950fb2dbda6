"""The 2-D map: coordinates, the plotly figure, ``paperlike map`` and the page in a real browser.

The browser test drives Debian's ``chromium`` with Playwright. Outside CI, without a browser or
Playwright, it skips and says what to install; under ``CI=true`` a missing browser fails it.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.readers import read_corpus
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.viz.projection import project_2d

pd = pytest.importorskip("pandas")
pytest.importorskip("plotly")

EVIL = '</script><script>alert("pwned")</script> <img src=x onerror=alert(1)> Evil & co'


@pytest.fixture
def rec(hash_index_copy):
    # A copy: computing themes for the map saves them beside the index.
    return Recommender.load(hash_index_copy)


def test_map_2d_has_one_row_per_paper_with_its_theme(rec):
    frame = rec.map_2d()
    assert list(frame.columns) == ["id", "title", "x", "y", "theme", "theme_label"]
    assert list(frame["id"]) == rec.index.ids and len(frame) == 75
    assert frame.attrs["method"] == "t-SNE"
    themes = rec.latest_themes()
    labels = {t.id: t.label for t in themes}
    assert set(frame["theme"]) <= set(labels) and all(labels[t] == lab for t, lab in zip(frame["theme"], frame["theme_label"]))
    assert frame[["x", "y"]].abs().max().max() <= 1.0


def test_map_2d_is_deterministic(rec, hash_index_copy):
    again = Recommender.load(hash_index_copy).map_2d()
    pd.testing.assert_frame_equal(rec.map_2d(), again)


def test_nearby_dots_are_similar_papers(rec):
    frame = rec.map_2d()
    xy = frame[["x", "y"]].to_numpy()
    vectors = rec.index.all_vectors()
    # Each paper's nearest dot is among its 10 most similar papers far more often than chance.
    hits = 0
    for i in range(len(xy)):
        d = np.linalg.norm(xy - xy[i], axis=1)
        d[i] = np.inf
        sims = vectors @ vectors[i]
        sims[i] = -np.inf
        hits += int(np.argmin(d) in np.argsort(-sims)[:10])
    assert hits / len(xy) > 0.4  # chance is 10/74 = 0.14


def test_tiny_corpora_still_get_coordinates():
    for n in (1, 2, 3):
        coords, method = project_2d(np.eye(4)[:n])
        assert coords.shape == (n, 2) and np.isfinite(coords).all()


def test_neighbours_match_brute_force(rec):
    got = rec.neighbours(3)
    vectors = rec.index.all_vectors()
    for i in (0, 10, 74):
        sims = vectors @ vectors[i]
        sims[i] = -np.inf
        expected = sorted(range(len(sims)), key=lambda j: (-sims[j], j))[:3]
        assert [pid for pid, _ in got[rec.index.ids[i]]] == [rec.index.ids[j] for j in expected]


@pytest.fixture
def evil_index(tmp_path, hash_index_dir):
    records = [{"id": "evil", "title": EVIL, "abstract": "A paper about <b>knowledge distillation</b> & tricks."}]
    records += [
        {"id": p.id, "title": p.title, "abstract": p.abstract} for p in Recommender.load(hash_index_dir).index.papers()[:30]
    ]
    src = write_jsonl(tmp_path / "papers.jsonl", records)
    directory = tmp_path / "evil-index"
    build_index(read_corpus(src), HashingEmbedder(), directory)
    return directory


def _write_map(directory, out):
    result = CliRunner().invoke(cli, ["map", "--out", str(out), "--index-dir", str(directory), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_map_html_is_self_contained_and_escapes_paper_text(evil_index, tmp_path):
    out = tmp_path / "themes.html"
    summary = _write_map(evil_index, out)
    assert summary["papers"] == 31 and summary["out"] == str(out.resolve())
    page = out.read_text(encoding="utf-8")
    tags = _tags(page)
    # plotly.js is inlined: no script, stylesheet or image is loaded from anywhere.
    assert not [a for t, a in tags if t in ("script", "link", "img", "iframe") and ("src" in a or "href" in a)]
    assert [t for t, _ in tags].count("script") >= 2 and "Plotly.newPlot" in page
    assert not [a for t, a in tags if t == "img"]  # the hostile <img> of the title is not a tag
    assert 'alert("pwned")' not in page and "<img src=x" not in page
    assert page.count("</script>") == page.count("<script")  # no script closed early by a title


def _tags(page: str) -> list[tuple[str, dict]]:
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(page)
    return parser.found


def test_map_errors(hash_index_copy, tmp_path):
    hash_index_dir = hash_index_copy
    result = CliRunner().invoke(
        cli, ["map", "--out", str(tmp_path / "no" / "dir" / "m.html"), "--index-dir", str(hash_index_dir)]
    )
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = CliRunner().invoke(cli, ["map", "--index-dir", str(hash_index_dir)])
    assert result.exit_code == 2 and "--out" in result.stderr


def _browser():
    """(playwright module, chromium path), or a reason why not."""
    chromium = os.environ.get("PAPERLIKE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, "playwright is not installed (pip install -e '.[dev]')"
    if not chromium:
        return None, "no chromium on PATH (Debian: apt-get install -y chromium)"
    return (sync_playwright, chromium), None


def test_map_opens_in_headless_chromium(evil_index, tmp_path):
    found, why_not = _browser()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser test cannot run under CI: {why_not}")
        pytest.skip(f"browser test skipped: {why_not}")
    sync_playwright, chromium = found
    out = tmp_path / "themes.html"
    _write_map(evil_index, out)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 850})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (problems.append(f"a script ran: dialog {d.message!r}"), d.dismiss()))
        page.on(
            "request",
            lambda r: problems.append(f"network request {r.url}") if not r.url.startswith(("file:", "data:", "blob:")) else None,
        )
        page.goto(out.as_uri())
        page.wait_for_selector(".scatterlayer .point", timeout=30000)
        assert page.locator(".scatterlayer .point").count() == 31
        # The hostile title shows as text in the hover data, and nothing ran.
        titles = page.evaluate("PAPERS.map(p => p.title)")
        assert EVIL in titles
        # Search highlights matching titles.
        page.fill("#search", "evil")
        page.wait_for_function("document.getElementById('count').textContent === '1 matching'", timeout=5000)
        # A click lists papers like the clicked one.
        page.evaluate("""() => { const d = document.getElementById('paperlike-map');
            d.emit('plotly_click', {points: [{customdata: d.data[0].customdata[0]}]}); }""")
        assert page.locator("#like li").count() == 5
        assert page.text_content("#cmd").startswith("paperlike similar ")
        shot = tmp_path / "map.png"
        page.screenshot(path=str(shot))
        # Not blank: count the distinct colours of the screenshot, drawn on a canvas by the browser.
        colours = page.evaluate(
            """async (src) => { const img = new Image(); img.src = src; await img.decode();
               const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
               const g = c.getContext('2d'); g.drawImage(img, 0, 0);
               const d = g.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
               for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
               return seen.size; }""",
            "data:image/png;base64," + __import__("base64").b64encode(shot.read_bytes()).decode(),
        )
        browser.close()
    assert shot.stat().st_size > 20_000
    assert colours > 20, f"screenshot looks blank ({colours} colours)"
    assert problems == []
