"""Total variation: a prior that prefers smooth images, against the high-frequency noise the paper notes.

    L_tv(x) = sum_ij (x_i,j+1 - x_i,j)^2 + (x_i+1,j - x_i,j)^2        (summed over channels too)

The 2016 paper uses no prior ("no TV or other prior"); Mahendran & Vedaldi (2015) add one to inversions of
network features, and Johnson et al. (2016) to their feed-forward network's loss. ``stylize(..., tv_weight=w)``
adds ``w * L_tv`` to the total; the default 0 keeps the paper's objective.
"""

from __future__ import annotations

import torch

from ..gram import at_least_float32

__all__ = ["tv_loss", "TVTerm"]


def tv_loss(images: torch.Tensor) -> torch.Tensor:
    """The squared total variation of each image: (B, C, H, W) -> (B,), a sum over channels and pixels (in float32,
    or float64 for float64 images).

    >>> x = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])  # one vertical edge of height 1, two rows
    >>> tv_loss(x)
    tensor([2.])
    """
    if images.dim() != 4:
        raise ValueError(f"tv_loss takes images of shape (B, C, H, W), got {tuple(images.shape)}")
    across = images[..., :, 1:] - images[..., :, :-1]
    down = images[..., 1:, :] - images[..., :-1, :]
    return at_least_float32(across).pow(2).flatten(1).sum(1) + at_least_float32(down).pow(2).flatten(1).sum(1)


class TVTerm:
    """The objective's total-variation term: it needs no features, only the image."""

    layers: tuple[str, ...] = ()

    def __call__(self, features, image: torch.Tensor) -> torch.Tensor:
        return tv_loss(image)
