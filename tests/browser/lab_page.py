"""Driving a notebook in JupyterLab the way a person does: open it, Run > Run All Cells, read what it shows.

Only what a learner sees is used: the menu, the status bar, the cells' prompts and outputs, and the
widgets' own controls. The ``tutorial_style`` panels (``tutorial_style/notebook/panels.py``) end with a status line
``<span class="ts-status" data-state="ready|running|done|interrupted|error">state · ...</span>``: that
text is the marker a test waits for before it looks at the picture.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

WAIT_S = float(os.environ.get("TUTORIAL_STYLE_BROWSER_TIMEOUT", "60"))  # as conftest.py's expect() timeout
IDLE = re.compile(r"\(ipykernel\) \| Idle")
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# Shown by the widget front-end when it cannot draw a widget (missing extension, unknown model, ...).
WIDGET_FAILURES = ("Error displaying widget", "Failed to load model class", "model not found")

# JavaScript: the state of every cell after Run All. Prompts read "[ ]:" (never run), "[*]:" (queued or
# running) or "[12]:" (done); a cell whose code is collapsed (a hidden solution) shows no prompt: null.
_CELLS_JS = """cells => cells.map(c => {
  const prompt = c.querySelector('.jp-InputArea .jp-InputPrompt');
  return {
    code: c.classList.contains('jp-CodeCell'),
    prompt: prompt ? prompt.textContent.trim() : null,
    errors: [...c.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(o => o.textContent).filter(t => t.includes('Traceback')),
  };
})"""


# JavaScript: the visible elements among those given whose text does not fit (the browser cuts it, often with "…").
_CUT_OFF_JS = """els => els.filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => `"${(e.textContent || '').trim()}" (${e.scrollWidth} px of text in ${e.clientWidth} px)`)"""
# JavaScript: the visible images that show nothing (no picture yet, or one the browser cannot decode: the broken icon).
_BROKEN_JS = """imgs => imgs.filter(i => i.offsetParent !== null && !(i.complete && i.naturalWidth > 0))
  .map(i => (i.getAttribute('src') || '(no src)').slice(0, 60) + ` (alt: ${i.alt || 'none'})`)"""
# Widget labels, buttons and slider readouts in the notebook's outputs: what a learner reads on a control; and
# HTML widgets (tables such as notebook 06's, status lines), whose text must not run out of their box.
LABELS = ", ".join(
    f".jp-OutputArea {sel}"
    for sel in (
        ".widget-label",
        ".widget-label-basic",
        "button.jupyter-button",
        ".widget-readout",
        ".widget-html-content",
    )
)


class NotebookPage:
    """One notebook open in JupyterLab in ``page``. ``source`` is the .ipynb that the server serves."""

    def __init__(self, page: Page, lab, name: str):
        self.page, self.lab, self.name = page, lab, name
        self.source = json.loads((Path(lab.root) / name).read_text(encoding="utf-8"))
        cells = self.source["cells"]
        self.code_cells = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        # Cells tagged raises-exception (nbval's convention) show an error on purpose.
        self.expected_errors = {
            i for i, c in enumerate(cells) if "raises-exception" in c.get("metadata", {}).get("tags", [])
        }

    # --- opening and running ---------------------------------------------------------------------------

    def open(self) -> "NotebookPage":
        """Open the notebook in a fresh workspace and wait until its kernel is idle."""
        self.page.goto(self.lab.url(f"lab/tree/{self.name}?reset"))
        expect(self.page.locator(".jp-NotebookPanel")).to_be_visible()
        self.wait_idle()
        return self

    def wait_idle(self, timeout_s: float = 120) -> None:
        """Wait for the status bar's "(ipykernel) | Idle", accepting the kernel dialog if one is asked."""
        deadline = time.monotonic() + timeout_s
        idle = self.page.get_by_text(IDLE)
        dialog = self.page.locator(".jp-Dialog")
        while not idle.is_visible():
            if dialog.is_visible():  # "Select Kernel": keep the proposed one (the notebook's python3)
                dialog.get_by_role("button", name=re.compile("^Select$")).click()
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: the kernel did not become idle within {timeout_s:.0f} s")
            self.page.wait_for_timeout(250)

    def run_all(self, timeout_s: float = 900) -> None:
        """Run > Run All Cells, then wait until every code cell has run (or one failed) and the kernel is idle."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        deadline = time.monotonic() + timeout_s
        while True:
            cells = self.cells()
            # Cells run in order, so the shown prompts all numbered means every cell ran (collapsed ones too).
            shown = [i for i in self.code_cells if cells[i]["prompt"] is not None]
            assert shown, f"{self.name}: no code cell with a prompt in the page"
            done = [re.fullmatch(r"\[\d+\]:", cells[i]["prompt"]) is not None for i in shown]
            busy = any("*" in (c["prompt"] or "") for c in cells)
            failed = any(c["errors"] for c in cells)
            if all(done) or (failed and not busy):
                break
            if time.monotonic() > deadline:
                waiting = [i for i, d in zip(shown, done) if not d]
                raise AssertionError(
                    f"{self.name}: Run All did not finish within {timeout_s:.0f} s; cells not done: {waiting} "
                    f"(prompts {[cells[i]['prompt'] for i in waiting[:5]]})"
                )
            self.page.wait_for_timeout(500)
        self.wait_idle()
        self.wait_kernel_settled()

    def wait_kernel_settled(self, quiet_s: float = 2.0, timeout_s: float = 120) -> None:
        """Wait until the server has seen the kernel idle for ``quiet_s`` seconds in a row.

        The status bar can show "Idle" for a moment between two queued cells, and a widget's own work
        may still be going on; the server's record of the kernel's state, quiet for a while, is firmer.
        Run All sends every request at once, so a kernel idle for seconds has nothing left to do.
        """
        deadline, quiet_since = time.monotonic() + timeout_s, None
        while True:
            states = [k.get("execution_state") for k in self.lab.api("GET", "api/kernels")]
            if states and all(state == "idle" for state in states):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= quiet_s:
                    return
            else:
                quiet_since = None
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: the kernel did not settle within {timeout_s:.0f} s (states {states})"
                )
            self.page.wait_for_timeout(250)

    def cells(self) -> list[dict]:
        return self.page.eval_on_selector_all(".jp-Notebook .jp-Cell", _CELLS_JS)

    # --- what went wrong -------------------------------------------------------------------------------

    def errors(self) -> list[str]:
        """Every error a learner would see: tracebacks, widgets that cannot be drawn, panels in an error state.

        Warnings on stderr (e.g. the RandomWeightsWarning of random weights) are not errors.
        """
        found = []
        for i, cell in enumerate(self.cells()):
            if i in self.expected_errors:
                continue
            for text in cell["errors"]:
                found.append(f"cell {i}: {_last_lines(text)}")
        for text in self.page.locator(".jp-OutputArea-output").all_inner_texts():
            for failure in WIDGET_FAILURES:
                if failure in text:
                    found.append(f"widget not drawn: {_last_lines(text)}")
        for text in self.page.locator('.ts-status[data-state="error"]').all_inner_texts():
            found.append(f"panel error: {text}")
        return found

    def cut_off_labels(self) -> list[str]:
        """Widget labels and buttons whose text is cut off (``scrollWidth > clientWidth``): "maps sho…"."""
        return self.page.eval_on_selector_all(LABELS, _CUT_OFF_JS)

    def broken_images(self, settle_s: float = 10) -> list[str]:
        """Images in the outputs that show no picture (the broken-image icon), after up to ``settle_s`` for loading."""
        deadline = time.monotonic() + settle_s
        while True:
            broken = self.page.eval_on_selector_all(".jp-OutputArea img", _BROKEN_JS)
            if not broken or time.monotonic() > deadline:
                return broken
            self.page.wait_for_timeout(250)

    def looks_finished(self) -> list[str]:
        """What a learner would see as unfinished: cut-off labels and broken images."""
        return [f"cut-off label: {t}" for t in self.cut_off_labels()] + [
            f"broken image: {t}" for t in self.broken_images()
        ]

    # --- widgets ---------------------------------------------------------------------------------------

    def panel(self, title: str) -> Locator:
        """A ``tutorial_style`` panel, found by its bold title (the first line a learner reads)."""
        heading = self.page.locator(".widget-html b", has_text=title).first
        # The panel is the nearest box around its title that also holds a status line.
        box = heading.locator(
            "xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' widget-vbox ')]"
            "[.//span[contains(concat(' ', normalize-space(@class), ' '), ' ts-status ')]][1]"
        )
        expect(box).to_be_visible()
        box.scroll_into_view_if_needed()
        return box


def status(panel: Locator) -> Locator:
    return panel.locator(".ts-status")


def dropdown(panel: Locator, label: str) -> Locator:
    """The ``<select>`` of the ipywidgets Dropdown whose description is ``label``."""
    return panel.locator(
        ".widget-dropdown", has=panel.page.locator("label", has_text=re.compile(f"^{re.escape(label)}$"))
    ).locator("select")


def slider(panel: Locator, label: str) -> Locator:
    """The ipywidgets slider whose description is ``label`` (handle: ``.noUi-handle``, value: ``.widget-readout``)."""
    return panel.locator(
        ".widget-slider", has=panel.page.locator("label", has_text=re.compile(f"^{re.escape(label)}$"))
    )


def type_into_slider(slider_box: Locator, text: str) -> None:
    """Type a value into a slider's readout and press Enter, as a person does to jump far."""
    readout = slider_box.locator(".widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.press_sequentially(text)
    readout.press("Enter")
    expect(readout).to_have_text(text)


def press_slider(slider_box: Locator, key: str = "ArrowRight", times: int = 1) -> None:
    """Move a slider with the keyboard, as a person does: focus its handle, press the arrow key."""
    handle = slider_box.locator(".noUi-handle").first
    handle.focus()
    for _ in range(times):
        handle.press(key)


def image_sources(panel: Locator) -> list[str]:
    """The ``src`` of every image widget in the panel (blob: URLs, new ones whenever the kernel sends a picture)."""
    return panel.locator("img.widget-image").evaluate_all("imgs => imgs.map(i => i.getAttribute('src') || '')")


def wait_new_image(panel: Locator, before: list[str], index: int | None = None, timeout_s: float = WAIT_S) -> None:
    """Wait until an image of the panel (or image ``index``) shows a new, loaded, non-empty picture."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = panel.locator("img.widget-image").evaluate_all(
            "imgs => imgs.map(i => [i.getAttribute('src') || '', i.complete && i.naturalWidth > 0])"
        )
        fresh = [
            i
            for i, (src, loaded) in enumerate(now)
            if (index is None or i == index) and src and loaded and (i >= len(before) or src != before[i])
        ]
        if fresh:
            return
        if time.monotonic() > deadline:
            shown = panel.locator(".ts-status").all_inner_texts()
            raise AssertionError(
                f"no new picture in the panel within {timeout_s:.0f} s "
                f"(it has {len(now)} image(s); its status: {shown})"
            )
        panel.page.wait_for_timeout(250)


def _last_lines(text: str, n: int = 4) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:])
