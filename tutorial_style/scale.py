"""Scale control (Gatys et al., *Controlling Perceptual Factors in Neural Style Transfer*, CVPR 2017, section 6).

Two things depend on scale:

- **Coarse-to-fine for large images.** At high resolution the style layers' receptive fields cover only a small
  part of the image, so the style's structures come out small, and each step is slow. The paper first runs the
  transfer at a low resolution, then upsamples the result and uses it as the start at the next, higher one,
  where a few steps add the fine texture. ``stylize(..., sizes=(256, 512), steps=(300, 100))`` does this
  (``optimize.py``: each size is an ordinary run of the same loop, started from the previous result).
- **Mixing scales** (:func:`mix_scales`): a new style image with the *coarse* structure of one artwork and the
  *fine* texture of another. Start from the coarse artwork and match only the fine artwork's Gram matrices on the
  shallow layers (small receptive fields: fine texture); the deep structure of the start survives. The result
  is then used as an ordinary style image.

This module sits above ``optimize.py`` (mixing scales is a run of the optimisation), not in ``controls/``, which
holds the loss terms and image transforms that the optimisation itself is built from.
"""

from __future__ import annotations

from typing import Sequence

from .images import load_image, resize_to
from .optimize import StyleTransferResult, reconstruct_style

__all__ = ["mix_scales", "FINE_LAYERS"]

FINE_LAYERS = ("relu1_1", "relu2_1")  # the paper's shallow layers (conv1_1, conv2_1) for the fine texture


def mix_scales(
    coarse,
    fine,
    layers: Sequence[str] = FINE_LAYERS,
    *,
    steps: int = 100,
    weights="auto",
    device=None,
    progress: bool = True,
    **options,
) -> StyleTransferResult:
    """A style image with ``coarse``'s structure and ``fine``'s texture: start from ``coarse`` and match ``fine``'s
    Gram matrices on the shallow ``layers``. Returns the run's result (``.image`` has ``coarse``'s size and is an
    ordinary style image; ``.weights`` names the network). ``options``: other settings (``optimizer``, ...).
    """
    coarse = load_image(coarse)  # a tensor, a file or a bundled name
    fine = resize_to(load_image(fine), coarse.shape[-2:])
    return reconstruct_style(
        fine, layers, init=coarse, steps=steps, weights=weights, device=device, progress=progress, **options
    )
