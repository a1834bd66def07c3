"""Several styles at once: the style target of each layer is a weighted mix of the artworks' Gram matrices.

    A^l = sum_k w_k A_k^l,        sum_k w_k = 1

This is how Gatys et al. (CVPR 2017) and jcjohnson/neural-style (``-style_blend_weights``) mix artworks: the
result matches the *average* style statistics, so it shows features of each artwork wherever it likes (to put
each style in its own place, use masks instead: ``masks.py``). ``stylize(content, [s1, s2], style_blend=[w1, w2])``
does it; without ``style_blend`` the artworks weigh the same. The weights are normalised in
:class:`~tutorial_style.Settings`.
"""

from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["blend_grams"]


def blend_grams(grams: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """sum_k w_k A_k: the blended target Gram matrix of one layer, from the K artworks' (1, N, N) matrices.

    >>> blend_grams([torch.ones(1, 2, 2), torch.zeros(1, 2, 2)], [0.25, 0.75])[0, 0].tolist()
    [0.25, 0.25]
    """
    if len(grams) != len(weights) or not grams:
        raise ValueError(f"blend_grams: {len(weights)} weights for {len(grams)} Gram matrices")
    total = grams[0].float() * float(weights[0])
    for a, w in zip(grams[1:], weights[1:]):
        total = total + float(w) * a.float()
    return total
