"""Theme labels keep off the dots (issue 24, point 9): in the placement's geometry, in the notebook
figure, the page ``paperlike map`` writes and its static SVG, for the bundled papers, a small
index of 2-paper themes, crowded themes that need leader lines, and degenerate maps (one paper,
identical papers at one point, themes whose dots all coincide).

The browser half drives Debian's ``chromium`` with Playwright, as tests/test_map.py does: outside
CI, without a browser or Playwright, it skips and says what to install; under ``CI=true`` it fails.
"""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

from browser_support import chromium_or_skip
from conftest import write_jsonl
from paperlike.cli import cli
from paperlike.embedding import HashingEmbedder
from paperlike.readers import read_corpus
from paperlike.service import Recommender
from paperlike.service.build import build_index
from paperlike.viz.placement import FIGURE_SIZES, Box, label_spots, overlaps, place_labels
from paperlike.viz.style import AXIS_RANGE

pd = pytest.importorskip("pandas")
pytest.importorskip("plotly")

DOT_RADIUS = 5.0  # the drawn dot (4.5) and its rim
SVG_SIZE = (960.0, 620.0)  # map_svg's default plot area
TOPICS = [
    "graph neural networks message passing node classification",
    "protein folding structure prediction amino acids",
    "speech recognition acoustic model phonemes audio",
    "reinforcement learning policy gradient reward agents",
    "image segmentation pixels masks convolution",
    "machine translation bilingual sentences decoder",
]


def _frame(rows):
    """A map frame from ``(x, y, theme)`` rows (labels name the theme, long enough to cover dots)."""
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(len(rows))],
            "title": [f"paper {i}" for i in range(len(rows))],
            "x": [float(r[0]) for r in rows],
            "y": [float(r[1]) for r in rows],
            "theme": [r[2] for r in rows],
            "theme_label": [f"{r[2]}: words · about · this theme" for r in rows],
        }
    )


FRAMES = {
    # Each pair 0.04 apart: a label centred on the pair (what the map used to do) covers both.
    "two-paper themes": _frame(
        [(x + d, y, f"t{i}") for i, (x, y) in enumerate([(-0.6, 0.5), (0.4, 0.6), (-0.3, -0.4), (0.5, -0.5)]) for d in (0, 0.04)]
    ),
    # Twelve 2-paper themes in a small patch: most labels must go further out, with a leader line.
    "crowded themes": _frame(
        [(0.12 * math.cos(k / 2) + d, 0.12 * math.sin(k / 2), f"t{k}") for k in range(12) for d in (0, 0.02)]
    ),
    "one paper": _frame([(0.0, 0.0, "t1")]),
    "identical papers at one point": _frame([(0.3, -0.2, "t1")] * 4 + [(-0.5, 0.5, "t2")]),
    "themes whose dots coincide": _frame([(0.1, 0.1, "t1")] * 3 + [(0.1, 0.1, "t2")] * 2 + [(0.11, 0.1, "t3")]),
}


def _members(frame):
    order = list(dict.fromkeys(frame["theme"]))
    parts = [frame[frame["theme"] == t] for t in order]
    members = [list(zip(p["x"], p["y"])) for p in parts]
    return members, [str(p["theme_label"].iloc[0]) for p in parts], [len(p) for p in parts]


def _spots(frame, size, also=()):
    members, labels, sizes = _members(frame)
    dots = list(zip(frame["x"], frame["y"]))
    return label_spots(members, labels, sizes, dots, size, AXIS_RANGE, AXIS_RANGE, also), dots


def _dot_px(dot, size):
    span = AXIS_RANGE[1] - AXIS_RANGE[0]
    return (dot[0] - AXIS_RANGE[0]) * size[0] / span, (AXIS_RANGE[1] - dot[1]) * size[1] / span


def _covered(box: Box, dot_px) -> bool:
    """Whether a dot's disc touches the label box (pixels)."""
    gx = max(box.x - dot_px[0], 0.0, dot_px[0] - (box.x + box.w))
    gy = max(box.y - dot_px[1], 0.0, dot_px[1] - (box.y + box.h))
    return math.hypot(gx, gy) < DOT_RADIUS


def _problems(spots, dots, size) -> list[str]:
    found = [
        f"label {i} covers dot {j}" for i, s in enumerate(spots) for j, d in enumerate(dots) if _covered(s.box, _dot_px(d, size))
    ]
    found += [
        f"labels {i} and {j} overlap"
        for i, a in enumerate(spots)
        for j, b in enumerate(spots)
        if i < j and overlaps(a.box, b.box, 0)
    ]
    found += [
        f"label {i} leaves the plot"
        for i, s in enumerate(spots)
        if not (0 <= s.box.x and s.box.x + s.box.w <= size[0] and 0 <= s.box.y and s.box.y + s.box.h <= size[1])
    ]
    return found


def _small_index(tmp_path):
    """Twelve papers in six pairs of near-identical texts: ``-n 6`` makes six 2-paper themes."""
    records = [
        {"id": f"p{i}{j}", "title": f"{t.split()[0]} study {j}", "abstract": f"{t} {t} variant {j}"}
        for i, t in enumerate(TOPICS)
        for j in range(2)
    ]
    build_index(read_corpus(write_jsonl(tmp_path / "small.jsonl", records)), HashingEmbedder(), tmp_path / "small")
    return tmp_path / "small"


def test_the_measure_catches_a_label_on_its_dots():
    # The old rule (a label centred on its theme) puts a 2-paper theme's label on both its dots.
    frame = FRAMES["two-paper themes"]
    members, labels, sizes = _members(frame)
    centres = [(sum(x for x, _ in m) / len(m), sum(y for _, y in m) / len(m)) for m in members]
    spots = label_spots([[c] for c in centres], labels, sizes, (), FIGURE_SIZES[0], AXIS_RANGE, AXIS_RANGE)
    assert len([p for p in _problems(spots, list(zip(frame["x"], frame["y"])), FIGURE_SIZES[0]) if "covers" in p]) == 8


@pytest.mark.parametrize("name", list(FRAMES))
@pytest.mark.parametrize("size", [FIGURE_SIZES[0], SVG_SIZE], ids=["figure", "svg"])
def test_no_label_covers_a_dot(name, size):
    spots, dots = _spots(FRAMES[name], size)
    assert _problems(spots, dots, size) == []
    if name == "crowded themes":  # moved away from their dots: a line leads back to one of them
        leaders = [s for s in spots if s.leader]
        assert leaders and all(s.anchor in dots for s in leaders)


def test_bundled_papers_and_a_small_index_of_two_paper_themes(hash_index_dir, tmp_path):
    for directory, n in ((hash_index_dir, None), (hash_index_dir, 16), (_small_index(tmp_path), 6)):
        rec = Recommender.load(directory)
        themes = rec.themes(n, save=False)
        frame = rec.map_2d(themes)
        if n == 6:
            assert frame["theme"].value_counts().tolist() == [2] * 6
        for size in (FIGURE_SIZES[0], SVG_SIZE):  # the sizes the figure and the picture place for
            spots, dots = _spots(frame, size)
            assert _problems(spots, dots, size) == [], (directory.name, n, size)


def test_degenerate_indexes_one_paper_and_identical_papers(tmp_path):
    from paperlike.errors import QueryError
    from paperlike.viz import map_figure, map_svg

    cases = {
        "one": [{"id": "only", "title": "Only", "abstract": "graph networks"}],
        "same": [{"id": f"c{i}", "title": f"Copy {i}", "abstract": "graph networks for molecules"} for i in range(4)],
        "pair": [
            {"id": "a", "title": "A", "abstract": "graph networks"},
            {"id": "b", "title": "B", "abstract": "graph networks"},
        ],
    }
    for name, records in cases.items():
        build_index(read_corpus(write_jsonl(tmp_path / f"{name}.jsonl", records)), HashingEmbedder(), tmp_path / name)
        rec = Recommender.load(tmp_path / name)
        if name == "one":  # no themes of one paper: a clean error before any label is placed
            with pytest.raises(QueryError, match="themes need at least 2"):
                rec.map_2d()
            continue
        frame = rec.map_2d()
        for size in (FIGURE_SIZES[0], SVG_SIZE):
            spots, dots = _spots(frame, size)
            assert _problems(spots, dots, size) == [], name
        assert len(map_figure(frame).layout.annotations) == frame["theme"].nunique() and 'class="label"' in map_svg(frame)


def test_placement_is_deterministic_and_drawn_as_placed():
    from paperlike.viz import map_figure, map_svg

    frame = FRAMES["crowded themes"]
    first, again = map_figure(frame), map_figure(frame.copy())
    assert first.layout.annotations == again.layout.annotations and map_svg(frame) == map_svg(frame.copy())
    spots, _ = _spots(frame, FIGURE_SIZES[0], FIGURE_SIZES[1:])  # as the figure places them
    for spot, note in zip(spots, first.layout.annotations):
        assert (note.x, note.y) == spot.anchor and note.showarrow is spot.leader
        if spot.leader:  # the label's centre sits ax/ay pixels from the dot the line points at
            assert (note.ax, note.ay) == (round(spot.dx, 1), round(spot.dy, 1))
    assert map_svg(frame).count("<line") == sum(s.leader for s in _spots(frame, SVG_SIZE)[0])


def test_hostile_geometry_does_not_break_placement():
    nan, inf = float("nan"), float("inf")
    spots = label_spots(
        [[(nan, 0.0)], [], [(0.0, 0.0)]],
        ["a label " * 40, "empty theme", "x"],  # the first is wider than the plot
        [3, 2, 1],
        [(nan, nan), (inf, 0.0), (0.0, 0.0)],
        (400.0, 300.0),
        AXIS_RANGE,
        AXIS_RANGE,
    )
    assert len(spots) == 3 and all(math.isfinite(s.dx) and math.isfinite(s.dy) for s in spots)
    assert spots[0].box.x == 4.0  # wider than the plot: it starts at the left edge
    assert not _covered(spots[2].box, _dot_px((0.0, 0.0), (400.0, 300.0)))
    assert place_labels([], [], []) == []


# -- in a real browser --------------------------------------------------------------------------

# Label boxes (the text, not a leader line) against the dots' boxes, in the page's pixels.
MEASURE = """(sel) => { const r = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const apart = (a, b) => a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1];
  const labels = Array.from(document.querySelectorAll(sel.labels)).map(r), dots = Array.from(document.querySelectorAll(sel.dots)).map(r);
  const area = sel.area ? r(document.querySelector(sel.area)) : null;
  const out = [];
  labels.forEach((l, i) => dots.forEach((d, j) => { if (!apart(l, d)) out.push('label ' + i + ' covers dot ' + j); }));
  labels.forEach((a, i) => labels.forEach((b, j) => { if (i < j && !apart(a, b)) out.push('labels ' + i + ' and ' + j + ' overlap'); }));
  if (area) labels.forEach((l, i) => { if (l[0] < area[0] - 1 || l[1] < area[1] - 1 || l[2] > area[2] + 1 || l[3] > area[3] + 1) out.push('label ' + i + ' leaves the plot'); });
  return {labels: labels.length, dots: dots.length, problems: out}; }"""
PLOTLY = {"labels": ".annotation .annotation-text-g", "dots": ".scatterlayer .point", "area": ".nsewdrag"}
SETTLED = "(u => u !== null && Object.keys(u).length === 0)(paperlikeLabelUpdate(document.getElementById('paperlike-map')))"


def _settled_measure(page) -> dict:
    """The label measures once the page's placement has settled: plotly re-lays a resized plot
    out after a debounce, so a measure is taken only when two, 300 ms apart, agree."""
    last = None
    for _ in range(20):
        page.wait_for_function(SETTLED, timeout=15000)
        got = page.evaluate(MEASURE, PLOTLY)
        if got == last:
            return got
        last = got
        page.wait_for_timeout(300)
    return last


def test_labels_keep_off_the_dots_in_headless_chromium(hash_index_copy, tmp_path):
    sync_playwright, chromium = chromium_or_skip()
    from paperlike.viz import map_figure, map_html, map_svg

    frames, indexes = dict(FRAMES), {"bundled -n 16": (hash_index_copy, 16), "2-paper themes": (_small_index(tmp_path), 6)}
    for name, (directory, n) in indexes.items():
        rec = Recommender.load(directory)
        frames[name] = rec.map_2d(rec.themes(n, save=False))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        for i, (name, frame) in enumerate(frames.items()):
            dots = len(frame)
            # The page `paperlike map` writes: placed again in the browser, for the window's size.
            out = tmp_path / f"page{i}.html"
            if name in indexes:  # through the command itself
                args = ["map", "--out", str(out), "-n", str(indexes[name][1]), "--index-dir", str(indexes[name][0])]
                assert CliRunner().invoke(cli, args).exit_code == 0
            else:
                out.write_text(map_html(frame, {}), encoding="utf-8")
            page.goto((tmp_path / f"page{i}.html").as_uri())
            for width in (1000, 1600):
                page.set_viewport_size({"width": width, "height": 820})
                got = _settled_measure(page)
                assert got["dots"] == dots and got["problems"] == [], (name, width, got)
            # The notebook's figure (no page script): Python's placement as drawn by plotly.
            map_figure(frame).write_html(tmp_path / f"figure{i}.html", include_plotlyjs=True)
            page.set_viewport_size({"width": 920, "height": 820})
            page.goto((tmp_path / f"figure{i}.html").as_uri())
            page.wait_for_selector(".scatterlayer .point", timeout=30000)
            got = page.evaluate(MEASURE, PLOTLY)
            assert got["dots"] == dots and got["problems"] == [], (name, "figure", got)
            # The static picture: its label texts against its dots.
            page.set_content("<!DOCTYPE html><html><body style='margin:0'>" + map_svg(frame) + "</body></html>")
            got = page.evaluate(MEASURE, {"labels": "svg text.label", "dots": "svg circle.dot"})
            assert got["dots"] == dots and got["problems"] == [], (name, "svg", got)
        browser.close()


# A stand-in for a drawn plotly plot: the plot area and each label's box, as labels.js reads them.
MOCK_PLOT = """({data, boxes, size, range}) => {
  const rect = (w, h) => ({getBoundingClientRect: () => ({left: 0, top: 0, width: w, height: h, right: w, bottom: h})});
  const notes = boxes.map((b, i) => ({getAttribute: () => String(i), querySelector: () => rect(b[0], b[1])}));
  const annotations = boxes.map(() => ({x: 99, y: 99, showarrow: false}));
  const plot = {data, layout: {annotations, xaxis: {range}, yaxis: {range}},
                querySelector: () => rect(size[0], size[1]), querySelectorAll: () => notes};
  return paperlikeLabelUpdate(plot); }"""


def test_the_browser_places_labels_as_python_does(hash_index_dir):
    sync_playwright, chromium = chromium_or_skip()
    from paperlike.viz.placement import CHAR_PX, LINE_PX, PAD_PX, label_script

    rec = Recommender.load(hash_index_dir)
    frames = {**FRAMES, "bundled -n 16": rec.map_2d(rec.themes(16, save=False))}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.add_script_tag(content=label_script())
        for name, frame in frames.items():
            members, labels, _ = _members(frame)
            boxes = [[CHAR_PX * len(t) + 2 * PAD_PX, LINE_PX] for t in labels]  # the sizes Python assumes
            for size in (FIGURE_SIZES[0], (1300.0, 700.0)):
                spots, _ = _spots(frame, size)
                data = [{"x": [x for x, _ in m], "y": [y for _, y in m]} for m in members]
                got = page.evaluate(MOCK_PLOT, {"data": data, "boxes": boxes, "size": list(size), "range": list(AXIS_RANGE)})
                for i, spot in enumerate(spots):
                    key = f"annotations[{i}]."
                    assert got[key + "showarrow"] is spot.leader, (name, size, i)
                    assert got[key + "x"] == pytest.approx(spot.anchor[0], abs=1e-12), (name, size, i)
                    assert got[key + "y"] == pytest.approx(spot.anchor[1], abs=1e-12), (name, size, i)
                    dx, dy = (got[key + "ax"], got[key + "ay"]) if spot.leader else (got[key + "xshift"], -got[key + "yshift"])
                    assert (dx, dy) == (pytest.approx(spot.dx, abs=1e-6), pytest.approx(spot.dy, abs=1e-6)), (name, size, i)
        browser.close()


def test_the_web_app_serves_the_label_script(hash_index_dir):
    pytest.importorskip("starlette")
    from paperlike.viz.placement import label_script
    from paperlike.web import create_app
    from serve_support import client

    got = client(create_app(hash_index_dir)).get("/static/labels.js")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/javascript")
    assert got.text == label_script() and "function paperlikeLabelUpdate(plot)" in got.text
