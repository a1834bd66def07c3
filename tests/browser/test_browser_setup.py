"""Without a browser the browser tests skip locally (saying how to install one) and fail under CI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_without_chromium(ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TUTORIAL_STYLE_CHROMIUM"] = str(REPO / "no-such-chromium")
    if ci is not None:
        env["CI"] = ci
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/browser/test_notebooks_in_browser.py",
        "-rs",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-k",
        "01_",
    ]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not any(REPO.glob("notebooks/01_*.ipynb")), reason="needs notebook 01")
def test_a_missing_chromium_skips_locally_with_the_fix():
    done = run_without_chromium(None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "no Chromium found" in done.stdout and "apt-get install chromium" in done.stdout


@pytest.mark.skipif(not any(REPO.glob("notebooks/01_*.ipynb")), reason="needs notebook 01")
def test_a_missing_chromium_fails_under_ci():
    done = run_without_chromium("true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "browser tests cannot run under CI: no Chromium found" in done.stdout
    assert "skipped" not in done.stdout
