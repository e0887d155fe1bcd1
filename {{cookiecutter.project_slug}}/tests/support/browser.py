"""Chromium for the demo page's tests: the system's own browser, driven by Playwright.

Playwright's browser builds are never downloaded (no `playwright install`):
the tests drive the Chromium the system's package manager installed
(`apt-get install chromium` on Debian), or the browser CHROMIUM names. Without
one they skip, saying so; under REQUIRE_SERVICES=1 they fail.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from playwright.sync_api import BrowserContext, sync_playwright

from .localservers import missing_service

# Headless, no sandbox (tests may run as root in a container), and nothing the
# browser would do on its own: no updates, sync, first-run pages or QUIC.
FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
# Where the system's packages put it; on GitHub's runners, Chrome stands in.
NAMES: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_binary() -> str:
    """The browser's path; a skip saying how to get one, or a failure under REQUIRE_SERVICES=1."""
    named = os.environ.get("CHROMIUM")
    if named:
        if not os.access(named, os.X_OK):
            missing_service(f"CHROMIUM={named} is not an executable browser")
        return named
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    missing_service(
        "Chromium is not installed (apt-get install chromium, or set CHROMIUM to a Chromium "
        "or Chrome binary): the demo page's browser tests need it"
    )


@contextmanager
def chromium(profile: Path) -> Iterator[BrowserContext]:
    """Headless Chromium with a fresh profile in `profile`, as one browser context."""
    binary = chromium_binary()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=binary, headless=True, args=list(FLAGS)
        )
        try:
            yield context
        finally:
            context.close()
