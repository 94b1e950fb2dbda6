"""Regenerate docs/serve.png: the paper page of ``paperlike serve``, in headless Chromium.

Usage (needs the dev extras and Debian's chromium)::

    python docs/serve_screenshot.py docs/serve.png [--index-dir DIR]

Starts ``paperlike serve`` on a free local port (the default index of the 75 bundled papers
unless --index-dir is given), opens AutoDistil's page, clicks "more like this" on its first
similar paper and "not like this" on its third, and takes the picture.
"""

import argparse
import re
import shutil
import subprocess
import sys

from playwright.sync_api import sync_playwright


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("png")
    ap.add_argument("--index-dir")
    ap.add_argument("--paper", default="autodistil")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no chromium on PATH; install it with: apt-get install -y chromium")
    command = [sys.executable, "-m", "paperlike", "serve", "--port", "0"]
    if args.index_dir:
        command += ["--index-dir", args.index_dir]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        base = None
        for line in server.stderr:
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            if found:
                base = found.group(1)
                break
        if base is None:
            sys.exit("paperlike serve did not start")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1250})
            page.goto(f"{base}/paper?id={args.paper}")
            page.locator("li.result a.like").nth(0).click()
            page.locator("li.result a.not").nth(2).click()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=args.png)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
