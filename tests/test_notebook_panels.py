"""What every panel shares (notebook/panels.py), without a browser: the banner, PNG tiles, the panel, the live
preview and the live view."""

import io
import threading
from types import SimpleNamespace

import ipywidgets
import pytest
import torch
from PIL import Image

import tutorial_style.optimize
from tutorial_style import load_image
from tutorial_style.notebook import widgets
from tutorial_style.notebook.panels import placeholder_png
from tutorial_style.weights import WeightsInfo


def png_size(data: bytes):
    return Image.open(io.BytesIO(data)).size


# --- live views ---------------------------------------------------------------------------------------


def test_live_view_updates_and_stops_on_request(net):
    stop = threading.Event()
    live = widgets.LiveView(net.weights_info, steps=50, stop=stop, min_interval=0.0)
    content, style = load_image("chelsea", size=32), load_image("swirls", size=32)

    def callback(step, image, losses):
        if step == 2:
            stop.set()
        return live(step, image, losses)

    result = tutorial_style.stylize(content, style, steps=50, weights=net, callback=callback, progress=False)
    assert result.interrupted and len(result.history) == 3
    placeholders = (
        placeholder_png("the current image appears here while the run goes"),
        placeholder_png("the loss curves appear here while the run goes"),
    )
    assert (
        live.preview_view.value != placeholders[0]
        and live.plot_view.value != placeholders[1]
        and live.plot.redraws >= 1
    )
    live.finish(result)
    assert png_size(live.preview_view.value)[0] >= 256


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
    fake = SimpleNamespace(
        weights_info=info, pooling="avg", normalize="paper", parameters=lambda: iter([torch.zeros(1)])
    )
    banner = widgets.setup_banner(fake, "cpu")
    assert "ImageNet" in repr(banner) and "RANDOM" not in repr(banner)
    assert "#1b5e20" in banner._repr_html_()  # green


def test_png_bytes_tiles_a_batch_and_enlarges_small_images():
    assert png_size(widgets.png_bytes(torch.rand(1, 3, 8, 16), min_side=64)) == (128, 64)
    assert png_size(widgets.png_bytes(torch.rand(2, 3, 10, 10), min_side=10, gap=4)) == (24, 10)


def test_panel_refuses_control_names_that_clash_with_the_widget():
    with pytest.raises(ValueError, match="clashes"):
        widgets.Panel("x", {"children": ipywidgets.Button()}, [])


def test_live_preview_updates_the_image_and_the_status(vgg):
    view = ipywidgets.Image()
    panel = widgets.Panel("t", {}, [view], vgg.weights_info)
    preview = widgets.LivePreview(view, panel, steps=3, label="test", min_interval=0)
    for step in range(3):
        preview(step, torch.rand(1, 3, 8, 8), {"total": torch.tensor([2.0])})
    assert preview.updates == 3 and is_png(view.value)
    assert panel.status_text == "running · test · step 3/3 · loss 2"
