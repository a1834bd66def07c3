"""Notebooks 03 and 04's panels (notebook/reconstruct.py) work without a browser: set values programmatically,
click, and the outputs change (the Gram viewer; the content and style reconstructions, with a button, a live
preview and interrupts).

Random weights, 32-64 px images and 2 steps keep this fast."""

import pytest

import tutorial_style as ts
from tutorial_style.notebook import reconstruct, widgets
from tutorial_style.notebook.panels import placeholder_png


@pytest.fixture(scope="module")
def images():
    return {name: ts.load_image(name, size=32) for name in ["astronaut", "chelsea", "mosaic"]}


def is_png(value) -> bool:
    return bytes(value).startswith(b"\x89PNG")  # an Image widget's value is a memoryview


# --- the Gram viewer --------------------------------------------------------------------------------------------------


def test_gram_viewer_compares_two_images(images, vgg):
    panel = widgets.gram_viewer(images, vgg, show=8)
    assert panel.image_a.value == "astronaut" and panel.image_b.value == "chelsea"
    assert "layer relu1_1 · Gram 64x64 (showing 8)" in panel.status_text
    first_status, first_view = panel.status_text, panel.view.value
    panel.layer.value = "relu2_1"
    assert "Gram 128x128" in panel.status_text and panel.view.value != first_view
    panel.image_b.value = "astronaut"  # an image against itself: E_l = 0
    assert "E_l(a, b) = 0 " in panel.status_text
    assert first_status != panel.status_text


# --- optimisation panels: a button, a live preview, interrupts ----------------------------------


def test_content_panel_runs_on_click_with_a_live_preview(images, vgg):
    panel = widgets.content_reconstruction_panel(images["astronaut"], vgg, steps=2)
    assert panel.status_text.startswith("ready · layer relu4_2 · press Reconstruct")
    placeholder = panel.preview.value  # what shows before the first run, not the browser's broken-image icon
    assert is_png(placeholder) and placeholder == placeholder_png("the result appears here when you press Reconstruct")
    panel.layer.value = "relu2_2"
    assert panel.preview.value == placeholder  # choosing does not run anything
    panel.run.click()
    assert panel.status_text.startswith("done · content from relu2_2 · 2 steps · loss ")
    assert panel.status_text.endswith("weights: RANDOM")
    assert is_png(panel.preview.value) and panel.preview.value != placeholder
    assert list(panel.results) == [("relu2_2", 2)]
    assert not panel.run.disabled and not panel.layer.disabled  # re-enabled after the run


def test_content_panel_shows_a_kept_result_without_rerunning(images, vgg, monkeypatch):
    panel = widgets.content_reconstruction_panel(images["astronaut"], vgg, steps=2, layer="relu1_2")
    panel.run.click()
    kept = panel.result

    def fail(*args, **kwargs):
        raise AssertionError("should not run again")

    monkeypatch.setattr(reconstruct, "reconstruct_content", fail)
    panel.run.click()
    assert panel.result is kept and panel.status_text.startswith("done")


def test_an_interrupt_stops_the_run_and_keeps_the_image(images, vgg, monkeypatch):
    panel = widgets.content_reconstruction_panel(images["astronaut"], vgg, steps=5, layer="relu1_2")
    original = widgets.LivePreview.__call__

    def interrupt_at_step_2(self, step, image, losses):
        original(self, step, image, losses)
        if step == 1:
            raise KeyboardInterrupt  # what the kernel's interrupt does

    monkeypatch.setattr(widgets.LivePreview, "__call__", interrupt_at_step_2)
    panel.run.click()
    assert panel.status_text.startswith("interrupted · content from relu1_2 · 2 steps")
    assert panel.result.interrupted and is_png(panel.preview.value)
    assert panel.results == {}  # an interrupted run is not kept as the answer for these settings


def test_an_error_during_a_run_shows_in_the_status(images, vgg, monkeypatch):
    panel = widgets.content_reconstruction_panel(images["astronaut"], vgg, steps=2)

    def broken(*args, **kwargs):
        raise ValueError("something is wrong")

    monkeypatch.setattr(reconstruct, "reconstruct_content", broken)
    panel.run.click()
    assert panel.status_text == "error · ValueError: something is wrong"
    assert not panel.run.disabled


def test_style_panel_offers_the_growing_sets_and_runs_the_chosen_one(images, vgg):
    panel = widgets.style_reconstruction_panel(images["mosaic"], vgg, steps=2)
    labels = [label for label, _ in panel.layers.options]
    assert labels[:5] == ["relu1_1", "relu1_1 + relu2_1", "relu1_1 … relu3_1", "relu1_1 … relu4_1", "relu1_1 … relu5_1"]
    assert panel.layers.value == ts.PAPER_STYLE_LAYERS
    panel.layers.value = ("relu1_1", "relu2_1")
    panel.run.click()
    assert panel.status_text.startswith("done · style from relu1_1, relu2_1 · 2 steps")
    first = panel.preview.value
    panel.layers.value = ("relu1_1",)
    panel.run.click()
    assert panel.status_text.startswith("done · style from relu1_1 · 2 steps")
    assert panel.preview.value != first
    assert set(panel.results) == {(("relu1_1", "relu2_1"), 2), (("relu1_1",), 2)}
