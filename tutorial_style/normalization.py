"""The paper's normalised network: every filter's mean rectified activation is 1.

Gatys et al. rescale VGG19 "such that the mean activation of each convolutional filter over images and
positions is equal to one". Dividing a filter (weights and bias) by c > 0 divides its ReLU output by c,
because relu(x / c) = relu(x) / c; multiplying the next convolution's matching input weights by c undoes
it, so every later layer sees exactly what it saw before. The network computes the same function; only
the *size* of each layer's features changes, and with it the balance between the layers' losses. The
paper's alpha/beta ratios are stated for this normalised network.

The paper does not say which images it averaged over; we use the bundled images. The scales are
cached on disk, keyed by the weights' digest, the pooling and the images used.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from .files import atomic_write, cache_dir
from .images import bundled_images, load_image
from .vgg import CONV_LAYERS, IMAGENET_MEAN, IMAGENET_STD

__all__ = ["paper_normalization", "mean_activations"]

STATS_SIZE = 256  # longer side of the images the means are taken over
_VERSION = 1  # bump when the computation below changes, so old cache entries are rebuilt


@torch.no_grad()
def mean_activations(layers: nn.Sequential, images: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mean of each convolution's rectified output over images and positions: {conv name: (N_l,)}.

    ``layers`` are the 37 named modules of :class:`~tutorial_style.vgg.VGG19Features`; images are in [0, 1].
    """
    sums = {name: 0.0 for name in CONV_LAYERS}
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    for image in images:
        x = (image - mean) / std
        for name, module in layers.named_children():
            x = module(x)
            if name.startswith("relu"):
                sums["conv" + name[4:]] = sums["conv" + name[4:]] + x.mean(dim=(0, 2, 3))
    return {name: s / len(images) for name, s in sums.items()}


def paper_normalization(layers: nn.Sequential, weights_info, pooling: str) -> dict[str, torch.Tensor]:
    """The factor to divide each convolution by, {conv name: (N_l,)}, from the cache or computed.

    A filter that never fires on the images (mean 0) keeps the factor 1.
    """
    names = sorted(bundled_images())
    key = hashlib.sha256(
        f"v{_VERSION}|{weights_info.digest}|{pooling}|{STATS_SIZE}|{','.join(names)}".encode()
    ).hexdigest()[:20]
    path = cache_dir("normalization") / f"{key}.pt"
    cached = _read(path, key)
    if cached is not None:
        return cached
    means = mean_activations(layers, [load_image(n, size=STATS_SIZE) for n in names])
    scales = {name: torch.where(m > 0, m, torch.ones_like(m)) for name, m in means.items()}
    with atomic_write(path) as f:
        torch.save({"key": key, "scales": scales}, f)
    return scales


def _read(path, key: str) -> dict[str, torch.Tensor] | None:
    """A cache entry if it is readable, complete and for this key; otherwise None (it is then rebuilt)."""
    if not path.is_file():
        return None
    try:
        entry = torch.load(path, map_location="cpu", weights_only=True)
        scales = entry["scales"]
        ok = entry["key"] == key and set(scales) == set(CONV_LAYERS)
        ok = ok and all(torch.isfinite(s).all() and (s > 0).all() for s in scales.values())
    except Exception:  # any damage at all means "rebuild"
        return None
    return scales if ok else None
