"""VGG19's feature layers under the paper's names: the one table, and the checks that use it.

:data:`LAYERS` is the one place where the paper's layer names meet torchvision's indices: ``LAYERS[i]`` is the
name of ``torchvision.models.vgg19().features[i]``. :data:`LAYER_INFO` adds what each layer is (channels N_l,
stride, receptive field). Everything else (the network in ``vgg.py``, the weight files in ``weights.py``, the
normalisation in ``normalization.py``, the masks of the spatial controls) reads this table; this module imports
nothing of the package.

A note on names. The paper speaks of layer "conv4_2" but differentiates the *rectified* response (its eq. 2 is
zero where F < 0). In torchvision the convolution and its ReLU are separate modules, so the paper's "conv4_2" is
what we call ``relu4_2``: :data:`PAPER_CONTENT_LAYERS` and :data:`PAPER_STYLE_LAYERS` therefore name ReLU outputs.
"""

from __future__ import annotations

import difflib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable

from torch import nn

__all__ = [
    "LAYERS",
    "LAYER_INFO",
    "LayerInfo",
    "PAPER_CONTENT_LAYERS",
    "PAPER_STYLE_LAYERS",
    "CONV_LAYERS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "check_layers",
    "check_layer_list",
    "check_network_options",
    "POOLINGS",
    "min_input_size",
    "make_layers",
]

# VGG19 configuration "E": channels of the convolutions in each of the five blocks.
_BLOCKS = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512))


@dataclass(frozen=True)
class LayerInfo:
    """What one feature layer is: its torchvision index, kind, channels N_l, stride and receptive field."""

    name: str
    index: int  # position in torchvision.models.vgg19().features
    kind: str  # "conv", "relu" or "pool"
    channels: int  # N_l, the number of feature maps
    in_channels: int
    stride: int  # input pixels per feature-map position: M_l = (H / stride) * (W / stride)
    receptive_field: int  # side of the input square that one position sees, in pixels


def _build_table() -> dict[str, LayerInfo]:
    table: dict[str, LayerInfo] = {}
    channels, stride, rf = 3, 1, 1
    for block, widths in enumerate(_BLOCKS, start=1):
        for i, width in enumerate(widths, start=1):
            rf += 2 * stride  # a 3x3 convolution widens the view by one position on each side
            table[f"conv{block}_{i}"] = LayerInfo(f"conv{block}_{i}", len(table), "conv", width, channels, stride, rf)
            table[f"relu{block}_{i}"] = LayerInfo(f"relu{block}_{i}", len(table), "relu", width, width, stride, rf)
            channels = width
        rf += stride  # a 2x2 pooling with stride 2
        stride *= 2
        table[f"pool{block}"] = LayerInfo(f"pool{block}", len(table), "pool", channels, channels, stride, rf)
    return table


LAYER_INFO: dict[str, LayerInfo] = _build_table()
"""Every feature layer by name, in order; see :class:`LayerInfo`."""

LAYERS: tuple[str, ...] = tuple(LAYER_INFO)
"""VGG19's 37 feature layers in order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, ..., relu5_4, pool5."""

CONV_LAYERS: tuple[str, ...] = tuple(n for n in LAYERS if LAYER_INFO[n].kind == "conv")

PAPER_CONTENT_LAYERS: tuple[str, ...] = ("relu4_2",)
"""The paper's content layer, "conv4_2" in the paper: the rectified response of conv4_2."""

PAPER_STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
"""The paper's style layers "conv1_1" ... "conv5_1", rectified, each weighted w_l = 1/5."""

# torchvision's ImageNet VGG19 expects RGB in [0, 1] normalised with these.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def check_layers(layers: Iterable[str], what: str = "layers") -> tuple[str, ...]:
    """Validate layer names, suggesting the closest valid one for a typo.

    >>> check_layers(["relu4_2"])
    ('relu4_2',)
    >>> check_layers(["conv42"])
    Traceback (most recent call last):
    ...
    ValueError: unknown layer 'conv42' in layers; did you mean 'relu4_2'? The paper's "conv4_2" is its rectified output, relu4_2 here ('conv4_2' is the output before the ReLU). Valid names: ...
    """  # noqa: E501
    if isinstance(layers, str):
        layers = (layers,)
    layers = tuple(layers)
    for name in layers:
        if name not in LAYER_INFO:
            raise ValueError(
                f"unknown layer {name!r} in {what}; {_hint(name)}Valid names: {', '.join(LAYERS[:2])}, ... {LAYERS[-1]}"
            )
    if not layers:
        raise ValueError(f"{what} is empty; name at least one layer, e.g. {PAPER_CONTENT_LAYERS[0]!r}")
    return layers


def _hint(name) -> str:
    """A suggestion for an unknown layer name. 'conv42', 'Conv4-2' or 'relu42' most likely mean the paper's
    conv4_2, which is relu4_2 here; other typos get the closest name by spelling."""
    m = re.fullmatch(r"(conv|relu)?[\s_.-]*([1-5])[\s_.-]*([1-4])", str(name).strip().lower())
    if m and f"relu{m[2]}_{m[3]}" in LAYER_INFO:
        n = f"{m[2]}_{m[3]}"
        return (
            f"did you mean 'relu{n}'? The paper's \"conv{n}\" is its rectified output, relu{n} here "
            f"('conv{n}' is the output before the ReLU). "
        )
    close = difflib.get_close_matches(str(name), LAYERS, n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}? " if close else ""


def check_layer_list(layers, what: str) -> tuple[str, ...]:
    """Layer names (one name or a list, possibly empty) checked against the table.

    >>> check_layer_list("relu4_2", "content_layers"), check_layer_list([], "style_layers")
    (('relu4_2',), ())
    """
    if isinstance(layers, str):
        layers = (layers,)
    try:
        layers = tuple(layers)
    except TypeError:
        raise ValueError(
            f"{what} must be a list of layer names such as {list(PAPER_STYLE_LAYERS)}, got {layers!r}"
        ) from None
    return check_layers(layers, what) if layers else ()


def min_input_size(layers: Iterable[str]) -> int:
    """The smallest image side for which every layer in ``layers`` still has at least one position.

    >>> min_input_size(PAPER_STYLE_LAYERS), min_input_size(["pool5"])
    (16, 32)
    """
    return max(LAYER_INFO[n].stride for n in check_layers(layers))


POOLINGS = ("avg", "max")  # the paper's average pooling, torchvision's max pooling


def check_network_options(pooling: str, normalize: str | None) -> None:
    """Validate the two network options shared by VGG19Features and stylize."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be 'avg' (the paper's) or 'max' (torchvision's), got {pooling!r}")
    if normalize not in ("paper", None):
        raise ValueError(f"normalize must be 'paper' or None, got {normalize!r}")


def make_layers(pooling: str) -> nn.Sequential:
    """Build the 37 modules of the table, named after the paper (conv1_1, relu1_1, ..., pool5)."""
    check_network_options(pooling, None)
    pool = nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d
    modules = {}
    for info in LAYER_INFO.values():
        if info.kind == "conv":
            modules[info.name] = nn.Conv2d(info.in_channels, info.channels, kernel_size=3, padding=1)
        elif info.kind == "relu":
            modules[info.name] = nn.ReLU(inplace=False)  # keep conv outputs intact: they can be tapped too
        else:
            modules[info.name] = pool(kernel_size=2, stride=2)
    return nn.Sequential(OrderedDict(modules))
