"""Notebook 08: real time, a network trained once per style (Johnson, Alahi & Fei-Fei 2016). What its cells show
beside the package's own functions: which weights made a network's pictures, its stages and their shapes, any photo
stylised at once (:func:`stylize_panel`), and whether the flicker measure can run here.

The measurements are the package's (``realtime/compare.py``: speed, the same loss as the optimisation, batch
normalisation; ``deploy/compare.py``: ONNX Runtime against PyTorch), the figures are in ``plots.py`` and the live
training panel in ``nb08_training_panel.py``.
"""

from __future__ import annotations

from typing import Mapping

import ipywidgets as w
import torch
from torch import nn

from ..images import bundled_images, load_image
from ..realtime.checkpoint import load_network
from ..realtime.network import StyleNetwork
from ..realtime.stylize import in_eval
from ..shipped import LABEL, ShippedNetwork, shipped_networks
from ..weights import WeightsInfo
from . import plots
from .panels import Panel, image_view, png_bytes, take_upload

__all__ = [
    "network_caption",
    "shipped_caption",
    "beside_shipped",
    "stage_shapes",
    "print_stages",
    "stylize_panel",
    "video_tools_ready",
]


def network_caption(network: StyleNetwork, weights: WeightsInfo) -> str:
    """Which weights made a network's pictures: the VGG19 it was trained with, and how long it trained.

    >>> from tutorial_style.weights import load_weights
    >>> net = StyleNetwork(width=0.25, blocks=1); net.meta = {"steps": 30}
    >>> network_caption(net, load_weights("random")[1])
    'network trained 30 steps with RANDOM VGG19 weights (seed 0) - NOT what ImageNet weights teach'
    """
    meta = getattr(network, "meta", None) or {}
    steps = meta.get("steps")
    trained = f"network trained {steps} steps" if steps else "UNTRAINED network (random weights of its own)"
    if weights.pretrained:
        return f"{trained} with VGG19 {weights.label}"
    return f"{trained} with RANDOM VGG19 weights{_seed(weights)} - NOT what ImageNet weights teach"


def shipped_caption(shipped: ShippedNetwork) -> str:
    """What made a shipped network's pictures: its name, its loss network and its training."""
    p = shipped.provenance
    trained = f"{p.get('steps', '?')} steps, {p.get('cpu minutes', '?')} CPU min"
    return f"shipped network {shipped.name!r}, {LABEL} ({trained})"


def beside_shipped(network: StyleNetwork, photos: Mapping[str, torch.Tensor], style: str, weights: WeightsInfo):
    """Each photo, through the network trained here and through the shipped network that holds ``style`` (trained
    far longer), captioned with what trained each; None, with a line saying why, when no shipped network has it."""
    shipped = next((n for n in shipped_networks() if style in n.styles), None)
    if shipped is None:
        print(f"no network shipped with the package holds {style!r} (python -m tutorial_style networks lists them)")
        return None
    other = load_network(shipped.name)
    images, titles = [], []
    for name, photo in photos.items():
        with torch.no_grad(), in_eval(network):
            ours = network(photo.to(next(network.parameters()).device)).cpu()
            theirs = other(photo, other.mix_for(style))
        images += [photo, ours, theirs]
        titles += [f"{name} (held out)", "your network", f"shipped: {style}"]
    suptitle = f"left: {network_caption(network, weights)}\nright: {shipped_caption(shipped)}"
    return plots.show_images(images, titles, weights, size=2.6, suptitle=suptitle)


def _seed(weights: WeightsInfo) -> str:
    label = weights.label
    return label[label.index(" (") : label.index(")") + 1] if " (seed" in label else ""


def stage_shapes(network: StyleNetwork, image: torch.Tensor) -> list[tuple[str, str, tuple[int, ...], int]]:
    """``(stage, what it is, shape after it, parameters)`` for each layer of the network's stages, on ``image``.

    >>> rows = stage_shapes(StyleNetwork(width=0.25, blocks=1), torch.rand(1, 3, 32, 48))
    >>> [(name, shape) for name, _, shape, _ in rows][:2], rows[-1][2]
    ([('input', (1, 3, 32, 48)), ('down.0', (1, 8, 32, 48))], (1, 3, 32, 48))
    """
    rows = [("input", "the photo, RGB in [0, 1]", tuple(image.shape), 0)]
    h, wd = image.shape[-2:]
    ph, pw = max(-h % 4, 8 - h), max(-wd % 4, 8 - wd)  # as StyleNetwork.forward pads
    x = torch.nn.functional.pad(image, (0, pw, 0, ph), mode="replicate") if ph or pw else image
    if ph or pw:
        rows.append(("pad", "replicate the edge to a multiple of 4", tuple(x.shape), 0))
    with torch.no_grad():
        for name, stage in network.stages():
            parts = list(stage.named_children()) if name in ("down", "up") else [("", stage)]
            for part, module in parts:
                x = module(x)
                label = f"{name}.{part}" if part else name
                rows.append(
                    (label, _describe(name, module), tuple(x.shape), sum(p.numel() for p in module.parameters()))
                )
    rows.append(("output", "crop back, sigmoid: an image in [0, 1]", tuple(torch.sigmoid(x[..., :h, :wd]).shape), 0))
    return rows


def _describe(stage: str, module: nn.Module) -> str:
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if stage == "residuals":
        return f"{len(module)} residual blocks, two 3x3 convs each"
    conv = convs[-1]
    k, s = conv.kernel_size[0], conv.stride[0]
    up = "upsample x2 (nearest), " if any(isinstance(m, nn.Upsample) for m in module.modules()) else ""
    norm = ", instance norm, ReLU" if any(isinstance(m, nn.InstanceNorm2d) for m in module.modules()) else ""
    return f"{up}{k}x{k} conv{f' stride {s}' if s > 1 else ''}, {conv.in_channels}→{conv.out_channels} channels{norm}"


def print_stages(network: StyleNetwork, image: torch.Tensor) -> None:
    """The table of :func:`stage_shapes`, and the total of parameters."""
    rows = stage_shapes(network, image)
    print(f"{'stage':<10} {'what it does':<68} {'shape after it':<20} parameters")
    for name, what, shape, params in rows:
        print(f"{name:<10} {what:<68} {str(shape):<20} {params:>9,}")
    print(f"{'total':<10} {'':<68} {'':<20} {sum(p.numel() for p in network.parameters()):>9,}")


def stylize_panel(
    network: StyleNetwork,
    weights: WeightsInfo,
    photos: Mapping[str, object] | None = None,
    *,
    size: int = 256,
    max_size: int = 1024,
) -> Panel:
    """Choose a photo (bundled, held out of training, or uploaded) and a size: the network stylises it at once.

    Widgets: ``photo`` (a dropdown; ``photos`` maps names to anything ``load_image`` reads, default the bundled
    photos), ``upload``, ``size``. ``panel.result`` is the last stylised image, ``panel.milliseconds`` its time.
    """
    photos = dict(photos) if photos is not None else {n: n for n in bundled_images("content")}
    widgets_by_name = {
        "photo": w.Dropdown(
            options=list(photos), value=next(iter(photos)), description="photo", layout=w.Layout(width="260px")
        ),
        "upload": w.FileUpload(accept="image/*", multiple=False, description="upload a photo"),
        "size": w.IntSlider(
            value=size, min=32, max=max(max_size, size), step=32, description="size (px)", continuous_update=False
        ),
    }
    photo_view, result_view = image_view("300px"), image_view("300px")
    views = [
        w.HBox(
            [w.VBox([w.HTML("<b>photo</b>"), photo_view]), w.VBox([w.HTML("<b>stylised (one pass)</b>"), result_view])]
        )
    ]
    panel = Panel("Stylise any photo, instantly", widgets_by_name, views, weights, rows=[["photo", "upload", "size"]])
    panel.uploads, panel.result, panel.milliseconds = {}, None, None
    caption = network_caption(network, weights)
    device = next(network.parameters()).device

    def stylize():
        from torch.utils.benchmark import timer as clock  # perf_counter once the accelerator has finished

        name = panel.photo.value
        image = load_image(panel.uploads.get(name, photos.get(name, name)), size=int(panel.size.value)).to(device)
        with torch.no_grad(), in_eval(network):
            network(image)  # a first pass at a new size sets up the convolutions; the second one is timed
            started = clock()
            panel.result = network(image).cpu()
            panel.milliseconds = 1000 * (clock() - started)
        photo_view.value, result_view.value = (
            png_bytes(image.cpu(), min_side=128),
            png_bytes(panel.result, min_side=128),
        )
        h, wd = image.shape[-2:]
        panel.set_status(f"{name} · {wd}x{h} px in {panel.milliseconds:.0f} ms · {caption}", "done")

    def upload():
        before = panel.photo.value
        if take_upload(panel.upload, panel.photo, panel.uploads) is not None and panel.photo.value == before:
            stylize()  # the same file again: the dropdown did not change, so it did not stylise

    panel.photo.observe(panel.handler(stylize), names="value")
    panel.size.observe(panel.handler(stylize), names="value")
    panel.upload.observe(panel.handler(upload), names="value")
    panel.handler(stylize)()
    return panel


def video_tools_ready() -> bool:
    """Whether the flicker measure can run here (it needs OpenCV's optical flow); if not, one line says what to
    install."""
    from ..optional import MissingPackageError, require

    try:  # as video/flicker.py and video/smoothing.py ask for it
        require("cv2", "measuring flicker (optical flow)", pip="opencv-python-headless", extra="video")
    except MissingPackageError as e:
        print(f"{e}. The cells below skip the measurement until then.")
        return False
    return True
