"""A real JupyterLab server and a real Chromium for the browser tests, shared by the whole test run.

- ``lab``: one JupyterLab server on loopback for the session, started with ``os.environ`` (quick mode,
  random weights and private caches, set by the root ``conftest.py``), serving a temporary copy of
  ``notebooks/`` so that autosave never writes outputs into the repository.
- ``browser``: one headless Chromium (the system's, e.g. Debian's ``apt-get install chromium``) driven by
  Playwright for Python. Playwright's own browser download (``playwright install``) is never needed.
- ``page``: a fresh browser context per test; the notebook's kernels are shut down afterwards.

Every notebook's test keeps a screenshot (fixture ``artifacts``). When a test fails, its screenshot(s), the
browser console log, every output's text and the server log are saved in the test's own ``tmp_path`` (pytest
names it; ``--basetemp DIR`` puts it under DIR, or set ``TUTORIAL_STYLE_BROWSER_ARTIFACTS=DIR``), and the report
says where.

Waits are generous (60 s per expected change, ``TUTORIAL_STYLE_BROWSER_TIMEOUT`` seconds to change it): on
two busy cores a notebook's widgets can be slow, and a wait ends as soon as its marker appears.

Without Chromium or Playwright the tests are skipped with a message saying how to install them, except
under CI (``CI`` set, as ``.ci/run`` does), where that is a failure: CI must never pass by skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

collect_ignore = ["lab_page.py"]  # helpers, no doctests; it needs playwright, which may be missing here

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"

# Playwright waits this long (ms) for a marker by default; generous, because 2 busy cores are slow.
EXPECT_TIMEOUT_MS = int(float(os.environ.get("TUTORIAL_STYLE_BROWSER_TIMEOUT", "60")) * 1000)
# JupyterLab's default look in a 1280 x 800 window, where issue 16 found cut-off labels and small figures.
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]  # without the networking flags Chromium keeps dialling out
CHROMIUM_CANDIDATES = [
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
]
HOW_TO_INSTALL = (
    "install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`; or any system Chromium or Chrome, "
    'named by TUTORIAL_STYLE_CHROMIUM=/path/to/chromium) and `pip install -e ".[dev]"` for Playwright; '
    "never `playwright install`"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str):
    """Locally a missing browser skips (with the fix); in CI it fails, so CI cannot pass by skipping."""
    if in_ci():
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def find_chromium() -> str | None:
    chosen = os.environ.get("TUTORIAL_STYLE_CHROMIUM", "").strip()
    for candidate in [chosen] if chosen else CHROMIUM_CANDIDATES:
        path = shutil.which(candidate) or (
            candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else None
        )
        if path:
            return path
    return None


# --- The JupyterLab server ------------------------------------------------------------------------------


class Lab:
    """A running JupyterLab server: ``url(path)``, ``api(method, path)``, ``log_text()``."""

    def __init__(self, process: subprocess.Popen, port: int, token: str, root: Path, log: Path):
        self.process, self.port, self.token, self.root, self.log = process, port, token, root, log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, method: str, path: str):
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (each notebook's holds a VGG19 in memory): the next test starts clean."""
        for session in self.api("GET", "api/sessions"):
            try:
                self.api("DELETE", f"api/sessions/{session['id']}")
            except OSError:
                pass

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """On Linux, the server (and so its kernels) stop even if pytest is killed before its teardown runs."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        except OSError:
            pass


def _lab_settings(folder: Path) -> None:
    """User settings for a quiet, deterministic JupyterLab: every cell in the page, no autosave, no news."""
    settings = {
        # Render every cell (no virtual scrolling), so the outputs of cells far down exist in the page.
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, value in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _clean_copy(src: Path, dst: Path) -> None:
    """Copy a notebook without outputs or execution counts, so every prompt number seen came from this run."""
    nb = json.loads(src.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.get("metadata", {}).pop("widgets", None)
    dst.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """One JupyterLab server for the whole run, serving a temporary copy of notebooks/."""
    if shutil.which("jupyter") is None and subprocess.run([sys.executable, "-c", "import jupyterlab"]).returncode:
        skip_or_fail("JupyterLab is not installed; " + HOW_TO_INSTALL)
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    for item in NOTEBOOKS.iterdir():
        if item.suffix == ".ipynb":
            _clean_copy(item, root / item.name)
        elif item.is_file():
            shutil.copy2(item, root / item.name)
    if (REPO / "images").is_dir():  # so a notebook's "../images/..." works from the copy too
        (base / "images").symlink_to(REPO / "images", target_is_directory=True)
    for name in ("settings", "workspaces", "runtime"):
        (base / name).mkdir()
    _lab_settings(base / "settings")

    env = dict(os.environ)  # quick mode, random weights, private caches: from the root conftest.py
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        PYTHONUNBUFFERED="1",
    )
    port, token = _free_port(), uuid.uuid4().hex
    log = base / "server.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--allow-root",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root, preexec_fn=_die_with_parent
        )
    server = Lab(process, port, token, root, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited with code {process.returncode}:\n{server.log_text()[-3000:]}", pytrace=False
                )
            try:
                server.api("GET", "api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 120 s:\n{server.log_text()[-3000:]}", pytrace=False)
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The browser ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (the system's; Playwright downloads nothing)."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the Python package playwright is not installed; " + HOW_TO_INSTALL)
    executable = find_chromium()
    if executable is None:
        skip_or_fail("no Chromium found; " + HOW_TO_INSTALL)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, lab, tmp_path, request):
    """A fresh browser tab (own context) with its console log recorded; kernels are stopped afterwards."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    tab.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    tab.on("requestfailed", lambda r: console.append(f"[requestfailed] {r.url} {r.failure}"))
    request.node._browser = {"page": tab, "console": console, "lab": lab, "tmp_path": tmp_path, "focus": []}
    try:
        yield tab
    finally:
        context.close()
        try:
            lab.shutdown_kernels()
        except OSError:
            pass


@pytest.fixture
def artifacts(tmp_path) -> Path:
    """Where a test keeps what it saw (screenshots): ``$TUTORIAL_STYLE_BROWSER_ARTIFACTS`` (CI sets it and keeps the
    folder), else the test's own ``tmp_path``."""
    chosen = os.environ.get("TUTORIAL_STYLE_BROWSER_ARTIFACTS", "").strip()
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed browser test, save what the browser showed while the page is still open."""
    outcome = yield
    report = outcome.get_result()
    state = getattr(item, "_browser", None)
    if state is None or report.when != "call" or not report.failed:
        return
    chosen = os.environ.get("TUTORIAL_STYLE_BROWSER_ARTIFACTS", "").strip()
    name = re.sub(r"[^\w.-]+", "_", getattr(getattr(item, "callspec", None), "id", item.name))  # the notebook
    folder = (Path(chosen) if chosen else state["tmp_path"]) / f"browser-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    notes = []
    tab = state["page"]
    for what, save in (
        ("screenshot.png", lambda p: tab.screenshot(path=p, timeout=15_000)),
        ("page.html", lambda p: Path(p).write_text(tab.content(), encoding="utf-8")),
        ("outputs.txt", lambda p: Path(p).write_text(_outputs_text(tab), encoding="utf-8")),
    ):
        try:
            save(str(folder / what))
        except Exception as e:  # the page may be gone; keep saving the rest
            notes.append(f"{what}: not saved ({type(e).__name__}: {e})")
    for i, locator in enumerate(state["focus"]):
        try:
            locator.screenshot(path=str(folder / f"widget-{i}.png"), timeout=15_000)
        except Exception as e:
            notes.append(f"widget-{i}.png: not saved ({type(e).__name__}: {e})")
    (folder / "console.log").write_text("\n".join(state["console"]) + "\n", encoding="utf-8")
    (folder / "server.log").write_text(state["lab"].log_text(), encoding="utf-8")
    files = ", ".join(sorted(p.name for p in folder.iterdir()))
    report.sections.append(("browser artifacts", f"saved in {folder}: {files}" + "".join(f"\n{n}" for n in notes)))


def _outputs_text(tab) -> str:
    """Every cell's outputs as text, numbered like the notebook's cells."""
    texts = tab.eval_on_selector_all(
        ".jp-Notebook .jp-Cell",
        "cells => cells.map((c, i) => { const o = c.querySelector('.jp-OutputArea');"
        " return o && o.innerText.trim() ? `--- cell ${i} ---\\n` + o.innerText : ''; })",
    )
    return "\n".join(t for t in texts if t)
