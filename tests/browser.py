"""Headless Debian Chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"  # kept out of git (var/ is ignored)


def launch(playwright):  # type: ignore[no-untyped-def]
    assert CHROMIUM, "Debian chromium is not installed: run `make test` (it installs it)"
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
