"""The AF report in a real headless Chromium: it loads without console errors and its screenshot
shows the leaderboard and the plots (issue 4). Chromium comes from Debian's ``chromium`` package,
installed by ``.ci/run``; the test skips with the reason when it is absent.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from focuslab.bench.af_runner import run_benchmark

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
)

WIDTH, HEIGHT = 1280, 2000


def _load(page, tmp_path, name: str):
    """Load ``page`` headless; returns (screenshot as H x W x 3 uint8, console lines)."""
    import imageio.v3 as iio

    shot = tmp_path / f"{name}.png"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / ('ud-' + name)}",
        "--enable-logging=stderr", "--v=0", "--hide-scrollbars", f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}", page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert shot.is_file(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-800:]}"
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    return np.asarray(iio.imread(shot))[..., :3], console


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    run_benchmark(out, suites=["low-texture"], methods=["oracle", "contrast-sweep"], workers=1)
    return out / "report.html"


def test_console_errors_are_seen(tmp_path):
    """The check can fail: a page that logs an error shows up in the captured console."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><p>x</p><script>console.error('boom'); undefinedCall();</script></body></html>")
    _, console = _load(bad, tmp_path, "bad")
    assert any("boom" in ln for ln in console) and any("undefinedCall" in ln for ln in console)


def test_report_loads_without_console_errors_and_shows_leaderboard_and_plots(report, tmp_path):
    img, console = _load(report, tmp_path, "report")
    assert console == [], f"console messages: {console}"
    assert img.shape[:2] == (HEIGHT, WIDTH)
    grey = img.astype(float).mean(axis=2)
    assert grey.var() > 200.0  # not a blank page
    # the page is white with dark text: the top band (title, set-up, overview heat map) has ink ...
    assert (grey[:700] < 128).mean() > 0.01
    # ... and colour: the overview's red-yellow-green heat map is drawn
    sat = img.max(axis=2).astype(int) - img.min(axis=2).astype(int)
    assert (sat[:1400] > 80).mean() > 0.01
    # the leaderboard table: its header row is grey (#eee) cells; rows of near-#eee pixels exist
    header = np.all(np.abs(img.astype(int) - 0xEE) <= 2, axis=2)
    assert (header.mean(axis=1) > 0.3).sum() >= 10
