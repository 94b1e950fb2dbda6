"""Regenerate docs/map.png: the map of the bundled papers, made by ``paperlike map``, in Chromium.

Usage (needs the dev extras and Debian's chromium)::

    paperlike map --out /tmp/themes.html --seed distillation --seed "continual learning" \\
        --seed "task-agnostic training" --title "75 bundled papers by theme"
    python docs/screenshot.py /tmp/themes.html docs/map.png

The page is shown with "distil" typed into the search box and AutoDistil clicked.
"""

import shutil
import sys

from playwright.sync_api import sync_playwright


def main(page_path: str, png_path: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no chromium on PATH; install it with: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 760})
        page.goto("file://" + page_path)
        page.wait_for_selector(".scatterlayer .point")
        page.fill("#search", "distil")
        page.wait_for_timeout(300)
        page.evaluate("""() => { const d = document.getElementById('paperlike-map');
            const i = d.data.findIndex(t => t.customdata.some(c => c[0] === 'autodistil'));
            const c = d.data[i].customdata.find(c => c[0] === 'autodistil');
            d.emit('plotly_click', {points: [{customdata: c}]}); }""")
        page.wait_for_timeout(300)
        page.screenshot(path=png_path)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
