"""``paperlike serve`` in headless Chromium: search -> paper -> similar -> like / not like ->
theme -> map click -> paper, with no console error, no request leaving localhost, and hostile
titles shown as text.

Drives Debian's ``chromium`` with Playwright, as tests/test_map.py does: outside CI, without a
browser or Playwright, it skips and says what to install; under ``CI=true`` it fails instead.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("starlette")
pytest.importorskip("plotly")
pytest.importorskip("pandas")

from browser_support import chromium_or_skip
from paperlike.web import create_app  # noqa: E402
from serve_support import EVIL_IMG, EVIL_SCRIPT, build_serve_index, live_server  # noqa: E402


def _ids_in_url(url: str, key: str) -> list[str]:
    return parse_qs(urlparse(url).query).get(key, [])


def test_click_through_in_headless_chromium(tmp_path):
    sync_playwright, chromium = chromium_or_skip()
    app = create_app(build_serve_index(tmp_path / "index"))
    problems: list[str] = []
    with live_server(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (problems.append(f"a script ran: dialog {d.message!r}"), d.dismiss()))
        page.on(
            "request",
            lambda r: (
                problems.append(f"request left localhost: {r.url}")
                if not r.url.startswith((base + "/", "data:", "blob:"))
                else None
            ),
        )

        # Search by title: the query paper and its similar papers, with the why.
        page.goto(base + "/")
        page.fill("#q", "AutoDistil")
        page.press("#q", "Enter")
        page.wait_for_selector("#query-paper")
        assert page.text_content("#query-paper").startswith("AutoDistil")
        assert page.locator("ol.results li.result").count() == 10 and page.locator(".why .term").count() > 0

        # -> the paper page, then a similar paper's page.
        page.click("#query-paper")
        assert page.text_content("#paper-id") == "autodistil"
        first = page.locator("ol.results li.result").first.get_attribute("data-id")
        page.locator("ol.results li.result a.title").first.click()
        assert page.text_content("#paper-id") == first

        # Like / not like refine the list; the chips undo them.
        page.goto(base + "/paper?id=autodistil")
        before = [li.get_attribute("data-id") for li in page.locator("li.result").all()]
        page.locator("li.result a.like").nth(0).click()
        assert _ids_in_url(page.url, "like") == [before[0]]
        page.locator("li.result a.not").nth(2).click()
        liked, unliked = _ids_in_url(page.url, "like"), _ids_in_url(page.url, "not")
        assert len(liked) == 1 and len(unliked) == 1 and page.locator(".chip.like").count() == 1
        after = [li.get_attribute("data-id") for li in page.locator("li.result").all()]
        assert after != before and not ({*liked, *unliked, "autodistil"} & set(after))
        export = page.get_attribute("#export", "href")
        bib = page.request.get(base + export)
        assert bib.ok and bib.text().count("@") == len(after)
        page.locator(".chip.not").click()  # undo the not-like
        assert _ids_in_url(page.url, "not") == [] and _ids_in_url(page.url, "like") == liked

        # Themes -> a theme -> one of its papers.
        page.goto(base + "/themes")
        page.locator("a.theme-link").first.click()
        assert page.locator("li.result").count() > 0
        member = page.locator("li.result").first.get_attribute("data-id")
        page.locator("li.result a.title").first.click()
        assert page.text_content("#paper-id") == member

        # A seeded theme set: its theme pages and its map name the same set.
        page.goto(base + "/themes?seed=distillation")
        page.locator("a.theme-link", has_text="distillation").click()
        assert _ids_in_url(page.url, "seed") == ["distillation"] and page.text_content("h1").startswith("distillation:")
        page.goto(base + "/themes?seed=distillation")
        assert _ids_in_url(base + page.get_attribute("#map-link", "href"), "seed") == ["distillation"]

        # The map: a click on a dot opens that paper's page.
        page.goto(base + "/map")
        page.wait_for_selector("#map[data-ready='1'] .scatterlayer .point", timeout=60000)
        assert page.locator(".scatterlayer .point").count() == 77
        # Its theme labels, placed again for this window, keep off the dots and off each other.
        page.wait_for_function(
            "(u => u !== null && Object.keys(u).length === 0)(paperlikeLabelUpdate(document.getElementById('map')))",
            timeout=15000,
        )
        boxes = page.evaluate("""() => { const r = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
            return [Array.from(document.querySelectorAll('#map .annotation-text-g')).map(r),
                    Array.from(document.querySelectorAll('#map .scatterlayer .point')).map(r)]; }""")
        apart = lambda a, b: a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]  # noqa: E731
        labels, dots = boxes
        assert labels and [(i, j) for i, a in enumerate(labels) for j, d in enumerate(dots) if not apart(a, d)] == []
        assert [(i, j) for i, a in enumerate(labels) for j, c in enumerate(labels) if i < j and not apart(a, c)] == []
        clicked = page.evaluate("""() => { const d = document.getElementById('map');
            const c = d.data[0].customdata[0]; d.emit('plotly_click', {points: [{customdata: c}]}); return c[0]; }""")
        page.wait_for_url("**/paper?id=*")
        assert page.text_content("#paper-id") == clicked

        # Hostile titles are text: the heading shows them literally and nothing ran.
        for pid, title in (("evil-script", EVIL_SCRIPT), ("evil-img", EVIL_IMG)):
            page.goto(base + "/paper?id=" + pid)
            assert page.text_content("#paper-title") == title
            assert page.locator("main img, main script, main iframe").count() == 0
        page.goto(base + "/?q=" + "evil-script")
        assert page.text_content("#query-paper") == EVIL_SCRIPT
        browser.close()
    assert problems == []
