"""Figures for the notebooks. Every figure names the weights that made it; random weights loudly.

The functions return matplotlib figures and never call ``plt.show()``; notebooks display them.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import torch

from .weights import WeightsInfo

__all__ = ["weights_caption", "show_images", "to_numpy_image"]


def weights_caption(weights: WeightsInfo) -> str:
    """The line every figure carries: which weights made it.

    >>> from tutorial_style.weights import load_weights
    >>> weights_caption(load_weights("random")[1])
    'Weights: RANDOM weights (seed 0), not pretrained - NOT what a trained VGG19 sees'
    """
    if weights.pretrained:
        return f"Weights: {weights.label}"
    return f"Weights: {weights.label} - NOT what a trained VGG19 sees"


def to_numpy_image(image: torch.Tensor):
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> (H, W, 3) numpy array for ``imshow``."""
    if image.dim() == 4:
        image = image[0]
    return image.detach().float().cpu().clamp(0, 1).permute(1, 2, 0).numpy()


def show_images(images: Sequence[torch.Tensor], titles: Sequence[str], weights: WeightsInfo | None, *, size: float = 3.0, suptitle: str = ""):
    """A row of images with titles; ``weights`` (or None for plain photos) is named under the title."""
    fig, axes = plt.subplots(1, len(images), figsize=(size * len(images), size * 1.1), squeeze=False)
    for ax, image, title in zip(axes[0], images, titles):
        ax.imshow(to_numpy_image(image))
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    caption = weights_caption(weights) if weights is not None else ""
    text = "\n".join(t for t in (suptitle, caption) if t)
    if text:
        fig.suptitle(text, fontsize=10, color="black" if weights is None or weights.pretrained else "crimson")
    fig.tight_layout()
    return fig
