"""The paper's normalised network: every filter's mean rectified activation is 1.

Gatys et al. rescale VGG19 "such that the mean activation of each convolutional filter over images and
positions is equal to one". Dividing a filter (weights and bias) by c > 0 divides its ReLU output by c,
because relu(x / c) = relu(x) / c; multiplying the next convolution's matching input weights by c undoes
it, so every later layer sees exactly what it saw before. The network computes the same function; only
the *size* of each layer's features changes, and with it the balance between the layers' losses. The
paper's alpha/beta ratios are stated for its own normalised network (the authors' Caffe weights); on ours
they do not carry over, and the default alpha is measured instead (``settings.default_alpha``).

The paper does not say which images it averaged over; we use the bundled images. Nine images give a
poor estimate of the mean of a filter that almost never fires, and dividing by that tiny, noisy mean would
blow its few responses up by orders of magnitude (with random weights, factors of 1e8 were seen, and those
few spikes then dominated every Gram matrix). So no filter is divided by less than ``FLOOR`` times the
median factor of its layer: filters that fire normally get mean 1 exactly as in the paper, near-silent ones
stay quiet (``VGG19Features.floored_filters`` counts them: 1,145 of the 5,504 with the random weights). The scales
are cached on disk, keyed by the weights' digest, the pooling and the images used.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from .files import cache_dir, load_cache, save_cache
from .images import bundled_images, load_image
from .layers import CONV_LAYERS, IMAGENET_MEAN, IMAGENET_STD, LAYER_INFO

__all__ = ["paper_normalization", "mean_activations"]

STATS_SIZE = 256  # longer side of the images the means are taken over
FLOOR = 0.1  # no filter is divided by less than this fraction of its layer's median mean activation
_VERSION = 3  # bump when the computation below changes, so old cache entries are rebuilt


@torch.no_grad()
def mean_activations(layers: nn.Sequential, images: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mean of each convolution's rectified output over images and positions: {conv name: (N_l,)}.

    ``layers`` are the 37 named modules of :func:`~tutorial_style.layers.make_layers`; images are in [0, 1].
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
            if name == "relu" + CONV_LAYERS[-1][4:]:
                break  # pool5 adds nothing (and needs 32 px, where relu5_4 needs 16)
    return {name: s / len(images) for name, s in sums.items()}


def paper_normalization(
    layers: nn.Sequential, weights_info, pooling: str
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The factor to divide each convolution by, {conv name: (N_l,)}, and which filters were floored
    ({conv name: (N_l,) bool}), from the cache or computed.

    The factor is the filter's mean activation over the bundled images, but at least ``FLOOR`` times the
    median over the layer's firing filters (see the module's docstring); silent layers keep the factor 1.
    """
    images = bundled_images()
    names = sorted(images)
    files = hashlib.sha256(b"".join(images[n].path.read_bytes() for n in names)).hexdigest()  # same names, new pictures
    key = hashlib.sha256(
        f"v{_VERSION}|{weights_info.digest}|{pooling}|{STATS_SIZE}|{','.join(names)}|{files}".encode()
    ).hexdigest()[:20]
    try:
        path = cache_dir("normalization") / f"{key}.pt"
    except OSError:  # no cache folder can be made: compute every time
        path = None
    cached = load_cache(path, lambda entry: _valid(entry, key))
    if cached is not None:
        return cached["scales"], cached["floored"]
    means = mean_activations(layers, [load_image(n, size=STATS_SIZE) for n in names])
    scales = {name: _floored(m) for name, m in means.items()}
    floored = {name: scales[name] > means[name] for name in means}
    if path is not None:
        save_cache(path, {"key": key, "scales": scales, "floored": floored}, "the paper normalisation")
    return scales, floored


def _floored(means: torch.Tensor) -> torch.Tensor:
    """Each filter's mean, floored at FLOOR times the median of the layer's positive means (1 if none fire).

    >>> _floored(torch.tensor([2.0, 1.0, 1e-9, 0.0, 3.0]))
    tensor([2.0000, 1.0000, 0.1000, 0.1000, 3.0000])
    """
    firing = means[means > 0]
    if firing.numel() == 0:
        return torch.ones_like(means)
    return means.clamp_min(FLOOR * firing.median())


def _valid(entry: dict, key: str) -> bool:
    """Is this cache entry for this key, with one positive, finite factor per filter of every layer?"""
    scales, floored = entry["scales"], entry["floored"]
    ok = entry["key"] == key and set(scales) == set(CONV_LAYERS) == set(floored)
    ok = ok and all(s.shape == floored[n].shape == (LAYER_INFO[n].channels,) for n, s in scales.items())
    ok = ok and all(f.dtype == torch.bool for f in floored.values())
    return ok and all(bool(torch.isfinite(s).all() and (s > 0).all()) for s in scales.values())
