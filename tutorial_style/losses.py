"""The paper's losses, as written there: sums, not means.

L_content (eq. 1) is a sum over positions, so it grows with the image's size while E_l (eq. 4) does not;
``settings.default_alpha`` allows for that.

Batches: every loss takes features of shape (B, N, H, W) and returns one value **per image**, a
tensor of shape (B,). Targets of batch size 1 are broadcast over the batch. To backpropagate, sum
over the batch: the images do not interact, so each one receives exactly the gradient of its own loss.
Sums are taken in float32, or in float64 for float64 input (``gram.at_least_float32``).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from .gram import at_least_float32, gram_matrix

__all__ = ["content_loss", "style_layer_loss", "style_loss", "layer_weights"]


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L_content = 1/2 sum_ij (F_ij - P_ij)^2 (paper eq. 1), per image: (B, N, H, W) -> (B,).

    >>> F = torch.ones(1, 2, 2, 2); P = torch.zeros(1, 2, 2, 2)
    >>> content_loss(F, P)  # 8 entries, each (1 - 0)^2 / 2
    tensor([4.])
    """
    _check_pair(features, target, "content_loss")
    diff = (at_least_float32(features) - at_least_float32(target)).flatten(1)
    return 0.5 * (diff * diff).sum(dim=1)


def style_layer_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """E_l = 1 / (4 N_l^2 M_l^2) sum_ij (G_ij - A_ij)^2 (paper eq. 4), per image: -> (B,).

    ``features`` are (B, N, H, W); ``target_gram`` is A, the (B or 1, N, N) Gram matrix of the style image.
    Dividing by N^2 M^2 makes layers of different size comparable: G grows with M (a sum over positions).

    >>> F = torch.ones(1, 1, 1, 2)  # N=1, M=2: G = [[2]]
    >>> style_layer_loss(F, torch.zeros(1, 1, 1))  # (2 - 0)^2 / (4 * 1 * 4)
    tensor([0.2500])
    """
    if features.dim() != 4:
        raise ValueError(f"style_layer_loss takes features of shape (B, N, H, W), got {tuple(features.shape)}")
    n, m = features.shape[1], features.shape[2] * features.shape[3]
    if target_gram.dim() != 3 or target_gram.shape[-2:] != (n, n):
        raise ValueError(
            f"style_layer_loss: target Gram matrix must be (B, {n}, {n}) for {n} feature maps, "
            f"got {tuple(target_gram.shape)}"
        )
    diff = (gram_matrix(features) - at_least_float32(target_gram)).flatten(1)
    return (diff * diff).sum(dim=1) / (4.0 * n**2 * m**2)


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    weights: Mapping[str, float] | Sequence[float] | None = None,
) -> torch.Tensor:
    """L_style = sum_l w_l E_l (paper eq. 5), per image: -> (B,).

    ``features`` and ``target_grams`` map layer names to features and target Gram matrices; the layers
    are those of ``target_grams``. ``weights`` are the w_l, by name or in the same order; by default
    w_l = 1 / (number of layers), the paper's choice.

    >>> F = {"relu1_1": torch.ones(1, 1, 1, 2)}
    >>> style_loss(F, {"relu1_1": torch.zeros(1, 1, 1)})
    tensor([0.2500])
    """
    layers = list(target_grams)
    if not layers:
        raise ValueError("style_loss needs at least one layer in target_grams")
    w = layer_weights(layers, weights)
    missing = [name for name in layers if name not in features]
    if missing:
        raise ValueError(f"style_loss: no features given for layer(s) {missing}")
    return sum(w[name] * style_layer_loss(features[name], target_grams[name]) for name in layers)


def layer_weights(layers: Sequence[str], weights, what: str = "style weights") -> dict[str, float]:
    """The w_l of eq. 5 by layer: ``weights`` by name (missing layers 0) or in the order of ``layers``, checked
    (finite, non-negative), or the paper's 1 / (number of layers) for None. Every style term, and ``Settings``, takes
    its weights here; ``what`` names them in the one-line errors.

    >>> layer_weights(["relu1_1", "relu2_1"], None)
    {'relu1_1': 0.5, 'relu2_1': 0.5}
    >>> layer_weights(["relu1_1"], [1, 2], what="style_weights")
    Traceback (most recent call last):
    ...
    ValueError: 2 style_weights for 1 style layers ['relu1_1']
    """
    layers = list(layers)
    if weights is None:
        return {name: 1.0 / len(layers) for name in layers}
    if isinstance(weights, Mapping):
        unknown = set(weights) - set(layers)
        if unknown:
            raise ValueError(f"{what} given for layers that are not style layers: {sorted(unknown)}")
        w = {name: weights.get(name, 0.0) for name in layers}
    else:
        try:
            if isinstance(weights, (str, bytes)):
                raise TypeError
            weights = list(weights)
        except TypeError:
            what_is = f"{what} must be a dict {{layer: weight}} or one number per style layer"
            raise ValueError(f"{what_is}, got {weights!r}") from None
        if len(weights) != len(layers):
            raise ValueError(f"{len(weights)} {what} for {len(layers)} style layers {layers}")
        w = dict(zip(layers, weights))
    try:
        w = {k: float(v) for k, v in w.items()}
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{what} must be numbers, got {weights!r}") from None
    bad = {k: v for k, v in w.items() if not (v >= 0 and v != float("inf"))}
    if bad:
        raise ValueError(f"{what} must be finite and non-negative, got {bad}")
    return w


def _check_pair(features: torch.Tensor, target: torch.Tensor, what: str) -> None:
    if features.dim() != 4 or target.dim() != 4 or features.shape[1:] != target.shape[1:]:
        raise ValueError(
            f"{what}: features {tuple(features.shape)} and target {tuple(target.shape)} must both be "
            "(B, N, H, W) with the same N, H, W (was the target computed at another image size?)"
        )
    if target.shape[0] not in (1, features.shape[0]):
        raise ValueError(f"{what}: target batch {target.shape[0]} must be 1 or match the features' {features.shape[0]}")
