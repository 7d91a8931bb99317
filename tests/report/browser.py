"""Open a page in headless Chromium (Debian's ``chromium``), read the media check, measure its height, take a
screenshot."""

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


def media_status(page: Path, profile: Path, *, width: int = 1400, height: int = 900) -> dict[str, str]:
    """The data-* attributes the page's status script sets on <body> once media have settled, in a window of
    ``width`` x ``height`` pixels."""
    dom = _run(page, profile, "--dump-dom", f"--window-size={width},{height}")
    body = re.search(r"<body([^>]*)>", dom)
    assert body is not None, "no <body> in the rendered DOM"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


def screenshot(page: Path, profile: Path, out: Path, *, width: int = 1200, height: int = 2400) -> Path:
    """A PNG of the first ``width`` x ``height`` pixels of the page."""
    _run(page, profile, f"--screenshot={out}", f"--window-size={width},{height}")
    return out


_MEASURE = ("<script>window.addEventListener('load', () => setTimeout(() => "
            "{document.body.dataset.measuredHeight = document.documentElement.scrollHeight;}, 500));</script>")


def visible_height(page: Path, profile: Path, *, width: int = 1400) -> int:
    """The page's height in pixels at ``width`` with its folded parts closed, measured on a copy of any page (one
    written before the page reported its own height too): a script added before ``</body>`` reads it once loaded."""
    text = page.read_text(encoding="utf-8")
    end = text.rfind("</body>")
    copy = page.with_name(f".measured-{page.name}")
    copy.write_text(text[:end] + _MEASURE + text[end:], encoding="utf-8")
    try:
        dom = _run(copy, profile, "--dump-dom", f"--window-size={width},900")
    finally:
        copy.unlink()
    found = re.search(r'data-measured-height="(\d+)"', dom)
    assert found is not None, "the page's height was not measured"
    return int(found.group(1))
