"""The control panels work without a browser: set values programmatically, click, and the outputs change.

Random weights, 32-64 px images and 2 steps keep this fast.
"""

import io
from types import SimpleNamespace

import ipywidgets
import pytest
import torch
from PIL import Image

import tutorial_style as ts
from tutorial_style.notebook import reconstruct, widgets
from tutorial_style.notebook.panels import placeholder_png
from tutorial_style.weights import WeightsInfo


@pytest.fixture(scope="module")
def images():
    return {name: ts.load_image(name, size=32) for name in ["astronaut", "chelsea", "mosaic"]}


def png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def is_png(value) -> bool:
    return bytes(value).startswith(b"\x89PNG")  # an Image widget's value is a memoryview


# --- banner and building blocks -----------------------------------------------------------------


def test_banner_says_random_loudly_and_how_to_get_imagenet(vgg):
    banner = widgets.setup_banner(vgg, "cpu")
    text, page = repr(banner), banner._repr_html_()
    assert "RANDOM" in text and "python -m tutorial_style fetch-weights" in text
    assert "TORCH_HOME" in text and "TUTORIAL_STYLE_WEIGHTS" in text
    assert "torch " in text and "torchvision" in text and "ipywidgets" in text and "Device: cpu" in text
    assert "#b71c1c" in page  # red


def test_banner_is_green_for_imagenet_weights():
    info = WeightsInfo("imagenet", "ImageNet (torchvision VGG19_Weights.IMAGENET1K_V1)", True, "0" * 16)
    fake = SimpleNamespace(weights_info=info, pooling="avg", normalize="paper", parameters=lambda: iter([torch.zeros(1)]))
    banner = widgets.setup_banner(fake, "cpu")
    assert "ImageNet" in repr(banner) and "RANDOM" not in repr(banner)
    assert "#1b5e20" in banner._repr_html_()  # green


def test_png_bytes_tiles_a_batch_and_enlarges_small_images():
    assert png_size(widgets.png_bytes(torch.rand(1, 3, 8, 16), min_side=64)) == (128, 64)
    assert png_size(widgets.png_bytes(torch.rand(2, 3, 10, 10), min_side=10, gap=4)) == (24, 10)


def test_panel_refuses_control_names_that_clash_with_the_widget():
    with pytest.raises(ValueError, match="clashes"):
        widgets.Panel("x", {"children": ipywidgets.Button()}, [])


# --- cheap views: answer at once ------------------------------------------------------------------


def test_receptive_field_viewer_follows_the_controls(images):
    panel = widgets.receptive_field_viewer(images)
    before, status = panel.view.value, panel.status_text
    assert status.startswith("ready · layer relu3_1 · 256 channels · 8x8 positions · receptive field 24 px")
    panel.layer.value = "relu5_1"
    assert "layer relu5_1 · 512 channels · 2x2 positions · receptive field 156 px" in panel.status_text
    assert panel.view.value != before
    before = panel.view.value
    panel.x.value = 0.1
    assert panel.view.value != before


def test_feature_map_browser_caches_features_and_follows_the_controls(images, vgg):
    panel = widgets.feature_map_browser(images, vgg, count=4)
    assert panel.status_text == "ready · image astronaut · layer relu2_1 · 128 channels · 16x16 positions · showing strongest 4 · weights: RANDOM"
    assert list(panel.cache) == ["astronaut"]
    first = panel.view.value
    panel.layer.value = "relu3_1"
    assert "layer relu3_1 · 256 channels · 8x8 positions" in panel.status_text
    assert panel.view.value != first
    assert list(panel.cache) == ["astronaut"]  # another layer: no new forward pass
    panel.image.value = "mosaic"
    assert list(panel.cache) == ["astronaut", "mosaic"]
    panel.mode.value = "chosen"
    panel.channels.value = "3, 7"
    assert "showing channels 3, 7" in panel.status_text
    shown = panel.view.value
    panel.channels.value = "999"
    assert panel.status_text.startswith("error · ValueError: channel(s) [999] do not exist")
    panel.channels.value = "1"
    assert panel.status_text.startswith("ready") and panel.view.value != shown


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


def test_live_preview_updates_the_image_and_the_status(vgg):
    view = ipywidgets.Image()
    panel = widgets.Panel("t", {}, [view], vgg.weights_info)
    preview = widgets.LivePreview(view, panel, steps=3, label="test", min_interval=0)
    for step in range(3):
        preview(step, torch.rand(1, 3, 8, 8), {"total": torch.tensor([2.0])})
    assert preview.updates == 3 and is_png(view.value)
    assert panel.status_text == "running · test · step 3/3 · loss 2"


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
