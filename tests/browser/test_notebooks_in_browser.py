"""Every notebook, in JupyterLab in Chromium: Run All in quick mode with random weights, no cell shows an
error, and its main widget works when operated as a learner would (the status line reaches the right state,
then the picture changes).

A widget can render in a test kernel and still be broken in the browser (a missing front-end extension,
a view that never updates, a button that does nothing): these tests are what catch that.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures skip (locally) or fail (CI) with the fix
    expect = None
else:
    from lab_page import (
        NotebookPage,
        dropdown,
        image_sources,
        press_slider,
        slider,
        status,
        type_into_slider,
        wait_new_image,
    )


# --- One learner's action per notebook: the notebook's main widget, operated and checked ---------------


def receptive_field(nb: NotebookPage, remember) -> None:
    """Notebook 01: pick another layer; the status names it, then the picture is redrawn."""
    panel = nb.panel("Receptive field")
    remember(panel)
    change_layer(panel, "layer", prefer=("relu4_1", "relu2_1"))


def feature_maps(nb: NotebookPage, remember) -> None:
    """Notebook 02: change the layer in the feature-map browser; status and maps follow."""
    panel = nb.panel("Feature maps")
    remember(panel)
    change_layer(panel, "layer", prefer=("relu3_1", "relu4_1"))


def change_layer(panel, label: str, prefer: tuple[str, str]) -> str:
    choice = dropdown(panel, label)
    layer = prefer[1] if choice.input_value() == prefer[0] else prefer[0]
    expect(status(panel)).to_have_attribute("data-state", "ready")
    before = image_sources(panel)
    choice.select_option(label=layer)
    expect(status(panel)).to_contain_text(f"layer {layer}")
    expect(status(panel)).to_have_attribute("data-state", "ready")
    wait_new_image(panel, before)
    return layer


def content_reconstruction(nb: NotebookPage, remember) -> None:
    """Notebook 03: pick a layer, press Reconstruct; it runs, ends "done" for that layer, shows the result."""
    panel = nb.panel("Content reconstruction")
    remember(panel)
    choice = dropdown(panel, "layer")
    layer = "relu1_2" if choice.input_value() != "relu1_2" else "relu2_2"
    choice.select_option(label=layer)
    run_and_wait(panel, "Reconstruct", f"content from {layer}")


def gram_and_style_reconstruction(nb: NotebookPage, remember) -> None:
    """Notebook 04: the Gram viewer follows a new layer; then pick a layer set, press Synthesise; it ends
    "done" for that set and shows the texture."""
    panel = nb.panel("Gram matrices")
    remember(panel)
    change_layer(panel, "layer", prefer=("relu3_1", "relu2_1"))
    panel = nb.panel("Style reconstruction")
    remember(panel)
    dropdown(panel, "layers").select_option(label="relu1_1 + relu2_1")
    run_and_wait(panel, "Synthesise", "style from relu1_1, relu2_1")


def studio_run_and_stop(nb: NotebookPage, remember) -> None:
    """Notebook 05: in the studio, ask for many steps, press Run; it runs with a live preview; Stop ends it
    early ("interrupted"), keeps the best image so far, and gives the controls back."""
    panel = nb.panel("Style-transfer studio")
    remember(panel)
    type_into_slider(slider(panel, "steps"), "1000")  # long enough that Stop comes first
    run, stop = panel.get_by_role("button", name="Run"), panel.get_by_role("button", name="Stop")
    expect(stop).to_be_disabled()
    before = image_sources(panel)
    run.click()
    expect(status(panel)).to_have_attribute("data-state", "running")
    expect(status(panel)).to_contain_text(re.compile(r"step [1-9]\d*/1000"))  # the optimisation is under way
    expect(run).to_be_disabled()
    stop.click()
    expect(status(panel)).to_have_attribute("data-state", "interrupted")
    expect(status(panel)).to_contain_text(re.compile(r"\d+ of 1000 steps"))
    expect(run).to_be_enabled()
    expect(stop).to_be_disabled()
    wait_new_image(panel, before)


def tradeoff_explorer(nb: NotebookPage, remember) -> None:
    """Notebook 06: move the α/β slider, then the style-layers slider; each move shows that cell at once:
    the status names the slider's new value, then the cell's picture arrives."""
    panel = nb.panel("trade-off, cell by cell")
    remember(panel)
    expect(status(panel)).to_have_attribute("data-state", "ready")
    for label in ("α/β", "style layers"):
        before = image_sources(panel)
        value = move_slider(slider(panel, label))
        expect(status(panel)).to_contain_text(f"{label} {value} ·")
        wait_new_image(panel, before)


def paint_two_regions(nb: NotebookPage, remember) -> None:
    """Notebook 07: start from an empty mask, paint region 1 by dragging the mouse over the photo (ipycanvas must
    render and send the mouse events: the status then reports the painted share), then run the two-region
    transfer; it ends "done" and shows the result."""
    panel = nb.panel("Two styles, two regions")
    remember(panel)
    dropdown(panel, "mask").select_option(label="paint")
    expect(status(panel)).to_contain_text("region 1 covers 0% of the photo")
    box = panel.locator("canvas").first.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 50, f"the canvas is not drawn: {box}"
    mouse = nb.page.mouse
    mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.3 * box["height"])
    mouse.down()
    for k in range(1, 11):  # a stroke across the photo, as a hand makes it
        mouse.move(box["x"] + (0.2 + 0.05 * k) * box["width"], box["y"] + (0.3 + 0.04 * k) * box["height"], steps=2)
    mouse.up()
    expect(status(panel)).to_contain_text(re.compile(r"painted · region 1 covers [1-9]\d*% of the photo"))
    run_and_wait(panel, "Run two regions", "in region 1")


def train_then_stylise_instantly(nb: NotebookPage, remember) -> None:
    """Notebook 08: the training panel (a background thread sending its live views) ended "done" after the quick
    profile's steps; then, in the instant panel, pick another photo: the status names it with its time in
    milliseconds, and the stylised picture arrives (one forward pass, no button)."""
    training = nb.panel("Training a network for")
    remember(training)
    expect(status(training)).to_have_attribute("data-state", "done")
    expect(status(training)).to_contain_text(re.compile(r"done · \d+ steps"))
    panel = nb.panel("Stylise any photo, instantly")
    remember(panel)
    expect(status(panel)).to_have_attribute("data-state", "done")
    choice = dropdown(panel, "photo")
    target = "coffee (held out)" if choice.input_value() != "coffee (held out)" else "astronaut"
    before = image_sources(panel)
    choice.select_option(label=target)
    expect(status(panel)).to_contain_text(re.compile(rf"done · {re.escape(target)} · \d+x\d+ px in \d+ ms"))
    wait_new_image(panel, before)


def move_slider(box) -> str:
    """One step right (or left, at the right end) with the arrow keys; returns the new readout."""
    readout = box.locator(".widget-readout")
    old = readout.inner_text()
    press_slider(box, "ArrowRight")
    try:
        expect(readout).not_to_have_text(old, timeout=5_000)
    except AssertionError:
        press_slider(box, "ArrowLeft")
        expect(readout).not_to_have_text(old)
    return readout.inner_text()


def run_and_wait(panel, button: str, marker: str) -> None:
    """Press ``button``; the status goes to "done · <marker> ..." and the result picture arrives."""
    before = image_sources(panel)
    panel.get_by_role("button", name=button).click()
    expect(status(panel)).to_have_attribute("data-state", "done")
    expect(status(panel)).to_contain_text(marker)
    wait_new_image(panel, before)


# Notebook file-name prefix -> its main widget's check. A notebook missing here still runs and is checked
# for errors; a new notebook with a widget should get an entry.
INTERACTIONS = {
    "01_": receptive_field,
    "02_": feature_maps,
    "03_": content_reconstruction,
    "04_": gram_and_style_reconstruction,
    "05_": studio_run_and_stop,
    "06_": tradeoff_explorer,
    "07_": paint_two_regions,
    "08_": train_then_stylise_instantly,
}


def notebooks() -> list[str]:
    return sorted(p.name for p in (Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("name", notebooks())
def test_notebook_runs_and_its_widget_works(name, page, lab, request, artifacts):
    """Run All in quick mode at 1280 x 800: no error, no cut-off widget label, no broken image; then the main
    widget works. A screenshot of the notebook at its main widget is kept in ``artifacts`` (CI keeps that folder)."""
    nb = NotebookPage(page, lab, name).open()
    nb.run_all()
    errors = nb.errors()
    assert not errors, f"{name} shows errors after Run All:\n" + "\n".join(errors)
    unfinished = nb.looks_finished()
    assert not unfinished, f"{name} after Run All, at {page.viewport_size}:\n" + "\n".join(unfinished)
    interaction = next((f for prefix, f in INTERACTIONS.items() if name.startswith(prefix)), None)
    if interaction is not None:
        interaction(nb, lambda locator: request.node._browser["focus"].append(locator))
        errors = nb.errors()
        assert not errors, f"{name} shows errors after using its widget:\n" + "\n".join(errors)
        unfinished = nb.looks_finished()
        assert not unfinished, f"{name} after using its widget:\n" + "\n".join(unfinished)
    page.screenshot(path=str(artifacts / f"{Path(name).stem}.png"))
