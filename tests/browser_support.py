"""Headless Chromium for the browser tests: found once here, skipped outside CI when missing."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest


def chromium_or_skip() -> tuple[Any, str]:
    """``(playwright's sync_playwright, the chromium path)``; the test is skipped when either is
    missing, and fails under CI (``CI=true``), where .ci/run installs both."""
    chromium = os.environ.get("PAPERLIKE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    why_not = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why_not = "playwright is not installed (pip install -e '.[dev]')"
    if why_not is None and not chromium:
        why_not = "no chromium on PATH (Debian: apt-get install -y chromium)"
    if why_not is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser test cannot run under CI: {why_not}")
        pytest.skip(f"browser test skipped: {why_not}")
    return sync_playwright, str(chromium)
