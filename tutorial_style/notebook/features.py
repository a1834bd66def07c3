"""Notebooks 01 and 02: what one position of a layer sees, and the feature maps of each layer."""

from __future__ import annotations

import ipywidgets as w
import torch

from ..layers import LAYER_INFO, LAYERS
from ..vgg import VGG19Features
from . import plots
from .panels import Panel, as_images, figure_png, image_dropdown, image_view, layer_dropdown

__all__ = ["receptive_field_viewer", "feature_map_browser", "FEATURE_LAYERS", "RELU_LAYERS"]

# Layers whose features the paper uses: rectified (relu) outputs, and the pools between blocks.
FEATURE_LAYERS = tuple(n for n in LAYERS if LAYER_INFO[n].kind in ("relu", "pool"))
RELU_LAYERS = tuple(n for n in LAYERS if LAYER_INFO[n].kind == "relu")


# --- Notebook 01: what one position of a layer sees ---------------------------------------------------


def receptive_field_viewer(images, size: int | None = None, layer: str = "relu3_1") -> Panel:
    """Pick an image, a layer and a position: the image with the square that one feature position sees.

    No network is involved (geometry only), so every change redraws at once. ``panel.layer``,
    ``panel.image``, ``panel.x``, ``panel.y`` (fractions of the width and height) are its widgets.
    """
    images = as_images(images, size)
    widgets_by_name = {
        "image": image_dropdown(images),
        "layer": layer_dropdown(LAYERS, layer),
        "x": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="x", readout_format=".2f"),
        "y": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="y", readout_format=".2f"),
    }
    view = image_view("520px")
    panel = Panel(
        "Receptive field: what one position of a layer sees",
        widgets_by_name,
        [view],
        None,
        rows=[["image", "layer"], ["x", "y"]],
    )
    panel.view = view

    def redraw():
        image = images[panel.image.value]
        info = LAYER_INFO[panel.layer.value]
        fig = plots.show_receptive_field(image, panel.layer.value, panel.x.value, panel.y.value)
        view.value = figure_png(fig)
        h, wd = image.shape[-2] // info.stride, image.shape[-1] // info.stride
        panel.set_status(
            f"layer {info.name} · {info.channels} channels · {h}x{wd} positions · receptive field "
            f"{info.receptive_field} px"
        )

    for c in widgets_by_name.values():
        c.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel


# --- Notebook 02: feature maps ------------------------------------------------------------------------


def feature_map_browser(
    images, vgg: VGG19Features, size: int | None = None, layer: str = "relu2_1", count: int = 8
) -> Panel:
    """Browse the feature maps of ``images`` through ``vgg``: image, layer, the strongest maps or chosen ones.

    Each image's features at every relu and pool layer are computed once, on first view, and cached
    (``panel.cache``), so changing the layer or the channels answers at once. Widgets: ``panel.image``,
    ``panel.layer``, ``panel.mode`` ("strongest"/"chosen"), ``panel.count`` (how many maps),
    ``panel.channels`` (text such as "0, 5, 17", used in "chosen" mode).
    """
    images = as_images(images, size)
    widgets_by_name = {
        "image": image_dropdown(images),
        "layer": layer_dropdown(FEATURE_LAYERS, layer),
        "mode": w.ToggleButtons(options=["strongest", "chosen"], value="strongest", description="maps"),
        "count": w.IntSlider(value=count, min=1, max=16, description="how many", continuous_update=False),
        "channels": w.Text(
            value="0, 1, 2, 3", description="channels", continuous_update=False, placeholder="e.g. 0, 5, 17"
        ),
    }
    view = image_view("100%")
    panel = Panel(
        "Feature maps",
        widgets_by_name,
        [view],
        vgg.weights_info,
        rows=[["image", "layer"], ["mode", "count", "channels"]],
    )
    panel.view = view
    panel.cache = {}

    def features(name: str) -> dict[str, torch.Tensor]:
        if name not in panel.cache:
            device = vgg.device
            with torch.no_grad():
                panel.cache[name] = {k: v.cpu() for k, v in vgg(images[name].to(device), FEATURE_LAYERS).items()}
        return panel.cache[name]

    def redraw():
        F = features(panel.image.value)[panel.layer.value]
        n = F.shape[1]
        if panel.mode.value == "strongest":
            chosen = F[0].mean(dim=(1, 2)).argsort(descending=True)[: panel.count.value].tolist()
            what = f"strongest {len(chosen)}"
        else:
            chosen = _parse_channels(panel.channels.value, n)
            what = f"channels {', '.join(map(str, chosen))}"
        fig = plots.show_feature_maps(F, chosen, panel.layer.value, vgg.weights_info, image=images[panel.image.value])
        view.value = figure_png(fig)
        panel.set_status(
            f"image {panel.image.value} · layer {panel.layer.value} · {n} channels · {F.shape[2]}x{F.shape[3]} "
            f"positions · showing {what} · {panel.weights_text()}"
        )

    for c in widgets_by_name.values():
        c.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel


def _parse_channels(text: str, n: int) -> list[int]:
    """ "0, 5, 17" -> [0, 5, 17]; a clear error for anything else.

    >>> _parse_channels("3, 1,2", 64)
    [3, 1, 2]
    """
    try:
        chosen = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"channels must be whole numbers separated by commas, e.g. '0, 5, 17'; got {text!r}") from None
    if not chosen:
        raise ValueError("name at least one channel, e.g. '0, 5, 17'")
    bad = [c for c in chosen if not 0 <= c < n]
    if bad:
        raise ValueError(f"channel(s) {bad} do not exist: this layer has channels 0 to {n - 1}")
    return chosen[:16]
