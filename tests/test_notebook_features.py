"""Notebooks 01 and 02's viewers (notebook/features.py) work without a browser: the receptive field viewer and the
feature map browser follow their controls."""

import pytest

import tutorial_style as ts
from tutorial_style.notebook import widgets


@pytest.fixture(scope="module")
def images():
    return {name: ts.load_image(name, size=32) for name in ["astronaut", "chelsea", "mosaic"]}


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
    assert (
        panel.status_text
        == "ready · image astronaut · layer relu2_1 · 128 channels · 16x16 positions · showing strongest 4 · "
        "weights: RANDOM"
    )
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
