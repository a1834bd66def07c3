"""VGG19's convolutional part under the paper's names, frozen: the network every loss looks through.

The layer table (names, channels, strides) lives in ``layers.py``; the weights come from ``weights.py``; the
paper's rescaling of the filters from ``normalization.py``. Here they are put together into
:class:`VGG19Features`, and :func:`get_vgg` keeps one network per setting so that notebooks and runs share it.
"""

from __future__ import annotations

import copy
import functools
import itertools
import os
from typing import Sequence

import torch
from torch import nn

from .layers import (
    CONV_LAYERS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    LAYER_INFO,
    LAYERS,
    PAPER_CONTENT_LAYERS,
    PAPER_STYLE_LAYERS,
    check_layers,
    check_network_options,
    make_layers,
    min_input_size,
)
from .normalization import paper_normalization
from .weights import ENV_VAR, load_weights

__all__ = [
    "VGG19Features",
    "get_vgg",
    "on_device",
    "default_device",
    "check_device",
    # the layer table, from layers.py, for `from tutorial_style.vgg import LAYERS`
    "LAYERS",
    "LAYER_INFO",
    "PAPER_CONTENT_LAYERS",
    "PAPER_STYLE_LAYERS",
]


class VGG19Features(nn.Module):
    """VGG19's convolutional part, frozen, returning features under the paper's layer names.

    Args:
        weights: ``"auto"`` (ImageNet if it can be had, else loudly labelled random weights; the
            default, overridden by ``$TUTORIAL_STYLE_WEIGHTS``), ``"imagenet"``, ``"random"``
            (seeded, deterministic) or the path of a state-dict file. See ``weights.py``.
        pooling: ``"avg"`` (the paper's choice) or ``"max"`` (torchvision's).
        normalize: ``"paper"`` rescales each convolution so its mean rectified activation over the
            bundled images is 1, as in the paper (see ``normalization.py``); ``None`` keeps the raw
            weights. The default alpha (``settings.default_alpha``) was measured with ``"paper"``.

    ``vgg(x, layers)`` takes images (B, 3, H, W) in [0, 1]; ImageNet normalisation happens inside.
    It returns ``{name: features (B, N_l, H_l, W_l)}`` and runs only as deep as the deepest layer asked.

    ``vgg.weights_info`` says which weights these are; ``vgg.weights_info.label`` is meant for figures.
    ``vgg.floored`` says, per convolution, which filters the normalisation could not bring to mean 1 because
    they hardly ever fire (see ``normalization.py``); ``vgg.floored_filters`` counts them.

    >>> vgg = VGG19Features(weights="random")
    >>> feats = vgg(torch.rand(1, 3, 64, 64), layers=["relu1_1", "relu4_2"])
    >>> {name: tuple(f.shape) for name, f in feats.items()}
    {'relu1_1': (1, 64, 64, 64), 'relu4_2': (1, 512, 8, 8)}
    """

    def __init__(self, weights: str = "auto", pooling: str = "avg", normalize: str | None = "paper"):
        super().__init__()
        check_network_options(pooling, normalize)
        self.layers = make_layers(pooling)
        state, info = load_weights(weights)
        self.layers.load_state_dict(state)
        self.floored = {name: torch.zeros(LAYER_INFO[name].channels, dtype=torch.bool) for name in CONV_LAYERS}
        if normalize == "paper":
            scales, self.floored = paper_normalization(self.layers, info, pooling)
            _rescale(self.layers, scales)
        self.weights_info = info
        self.pooling = pooling
        self.normalize = normalize
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    @property
    def floored_filters(self) -> int:
        """How many of the 5,504 filters the paper normalisation floored instead of bringing to mean 1."""
        return int(sum(int(mask.sum()) for mask in self.floored.values()))

    def forward(self, image: torch.Tensor, layers: Sequence[str] = PAPER_STYLE_LAYERS) -> dict[str, torch.Tensor]:
        wanted = check_layers(layers)
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"VGG19Features takes images of shape (B, 3, H, W), got {tuple(image.shape)}")
        smallest = min_input_size(wanted)
        if min(image.shape[-2:]) < smallest:
            raise ValueError(
                f"image of {image.shape[-2]}x{image.shape[-1]} px is too small for layer "
                f"{max(wanted, key=lambda n: LAYER_INFO[n].stride)}: its sides must be at least {smallest} px"
            )
        deepest = max(LAYER_INFO[n].index for n in wanted)
        x = (image - self.mean) / self.std
        out = {}
        for name, module in self.layers.named_children():
            x = module(x)
            if name in wanted:
                out[name] = x
            if LAYER_INFO[name].index == deepest:
                break
        return {name: out[name] for name in wanted}

    @property
    def device(self) -> torch.device:
        return self.mean.device

    def extra_repr(self) -> str:
        return f"weights={self.weights_info.label!r}, pooling={self.pooling!r}, normalize={self.normalize!r}"


@torch.no_grad()
def _rescale(layers: nn.Sequential, scales: dict[str, torch.Tensor]) -> None:
    """Divide each convolution's filters by its scale and multiply the next convolution's inputs by it.

    Because relu(x / c) = relu(x) / c for c > 0 and pooling is linear (average) or commutes with
    positive scaling (max), the next layer sees exactly the same input after compensation.
    """
    previous = None
    for name in CONV_LAYERS:
        conv = layers.get_submodule(name)
        s = scales[name].to(conv.weight)
        if previous is not None:
            conv.weight.mul_(previous.view(1, -1, 1, 1))
        conv.weight.div_(s.view(-1, 1, 1, 1))
        conv.bias.div_(s)
        previous = s


# --- Devices, and one network per setting ------------------------------------------------------------


def default_device() -> torch.device:
    """CUDA if available, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_device(device) -> torch.device:
    """``device`` as a ``torch.device`` that exists here (None: :func:`default_device`), else a one-line ValueError."""
    if device is None:
        return default_device()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device {device!r} is not a device name; use 'cpu', 'cuda' or 'mps'") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} is not available here (no CUDA GPU); use device='cpu'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {str(device)!r} does not exist; this machine has {torch.cuda.device_count()} GPU(s)")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {str(device)!r} is not available here (no Apple GPU); use device='cpu'")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {str(device)!r} is not supported; use 'cpu', 'cuda' or 'mps'")
    return device


@functools.lru_cache(maxsize=4)
def _cached_vgg(weights: str, pooling: str, normalize: str | None, device: str, _env: str, _stamp) -> VGG19Features:
    return VGG19Features(weights=weights, pooling=pooling, normalize=normalize).to(device)


def get_vgg(weights="auto", pooling="avg", normalize="paper", device=None) -> VGG19Features:
    """A :class:`VGG19Features` on ``device``, reused across calls with the same settings (loading takes seconds).

    The network is shared: treat it as read-only (it is frozen), and use :func:`on_device` rather than ``.to()``.
    """
    device = check_device(device)
    stamp = None
    if isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights):
        st = os.stat(weights)
        stamp = (st.st_size, st.st_mtime_ns)
    return _cached_vgg(str(weights), pooling, normalize, str(device), os.environ.get(ENV_VAR, ""), stamp)


def on_device(network: nn.Module, device: str | torch.device) -> nn.Module:
    """``network`` itself if it is on ``device``, else a copy there. A network passed in by a caller (or held by
    :func:`get_vgg`'s cache) is never moved: ``.to()`` would move it in place, under its owner's feet. Any module
    (VGG19, a style network); its place is that of its first parameter or buffer."""
    device = torch.device(device)
    here = next(itertools.chain(network.parameters(), network.buffers()), torch.empty(0)).device
    if here.type == device.type and (device.index is None or here.index == device.index):
        return network
    return copy.deepcopy(network).to(device)
