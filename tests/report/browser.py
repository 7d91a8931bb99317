"""Open a page in headless Chromium (Debian's ``chromium``), read the media check, take a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=15000",
]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it: apt-get install chromium)"
)


def _run(page: Path, profile: Path, *extra: str) -> str:
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def media_status(page: Path, profile: Path) -> dict[str, str]:
    """The data-* attributes the page's status script sets on <body> once media have settled."""
    dom = _run(page, profile, "--dump-dom")
    body = re.search(r"<body([^>]*)>", dom)
    assert body is not None, "no <body> in the rendered DOM"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


def screenshot(page: Path, profile: Path, out: Path) -> Path:
    _run(page, profile, f"--screenshot={out}", "--window-size=1200,2400")
    return out
