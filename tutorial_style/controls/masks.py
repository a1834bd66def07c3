"""Spatial control (Gatys et al., *Controlling Perceptual Factors in Neural Style Transfer*, CVPR 2017, section 4):
one style on the sky, another on the ground.

The photo is divided into R regions by **guidance channels** T_1 ... T_R: masks with values in [0, 1] (1 inside
the region). Region r takes its style from artwork s_r, or from the part of one artwork that a second mask marks.
At each style layer l the masks are brought to the feature map's size (:func:`propagate_mask`), normalised as
the reference implementation does (T / sqrt(mean(T^2)), so that a mask of ones leaves the features unchanged),
and multiplied into the features. The **guided Gram matrices**

    G_r^l = (F^l o T_r^l) (F^l o T_r^l)^T                    (o: multiply each feature map by the mask)

are matched, region by region, to the artwork's guided Gram matrices A_r^l, with the paper's E_l (eq. 4); the
style loss of a layer averages its regions. Pixels that no mask covers only feel the content loss.

A mask is a tensor (H, W) in [0, 1] or an image file (white = 1); it is resized to each image it belongs to.
"""

from __future__ import annotations

import os
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as nnf

from ..gram import at_least_float32, gram_matrix
from ..images import ImageError, load_image
from ..layers import LAYER_INFO, check_layers
from ..losses import layer_weights, style_layer_loss

__all__ = [
    "MASK_METHODS",
    "propagate_mask",
    "normalise_mask",
    "guided_gram_matrix",
    "GuidedStyleTerm",
    "load_mask",
    "resize_mask",
    "check_masks",
    "guided_style_term",
]

MASK_METHODS = ("simple", "inside", "all")

Features = Mapping[str, torch.Tensor]


def propagate_mask(mask: torch.Tensor, layer: str, method: str = "simple") -> torch.Tensor:
    """A mask (H, W) brought to the size of ``layer``'s feature maps for an (H, W) image: (H // s, W // s), with
    s the layer's stride (``LAYER_INFO``). The paper's three ways (section 4.1):

    - ``"simple"``: resize it; each position gets the mask's mean over the s x s pixels it stands for;
    - ``"inside"``: a position keeps the region only where its whole receptive field (clipped to the image)
      lies inside it: the mask's minimum over the receptive field. No neuron then sees the other region;
    - ``"all"``: every position whose receptive field touches the region: the maximum over the receptive field.

    The receptive field holds the s x s pixels, so inside <= simple <= all at every position (the three nest).

    >>> m = torch.zeros(16, 16); m[:, :8] = 1  # the left half
    >>> for how in MASK_METHODS:  # relu2_1: stride 2 (8 x 8 positions), receptive field 10 x 10 px
    ...     print(f"{how:6}", propagate_mask(m, "relu2_1", how)[0].int().tolist())
    simple [1, 1, 1, 1, 0, 0, 0, 0]
    inside [1, 1, 0, 0, 0, 0, 0, 0]
    all    [1, 1, 1, 1, 1, 1, 0, 0]
    """
    if method not in MASK_METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, MASK_METHODS))}, got {method!r}")
    (layer,) = check_layers([layer], "layer")
    if mask.dim() != 2:
        raise ValueError(f"propagate_mask takes one mask of shape (H, W), got {tuple(mask.shape)}")
    info = LAYER_INFO[layer]
    s, rf = info.stride, info.receptive_field
    h, w = mask.shape
    if h < s or w < s:
        raise ValueError(f"a {h}x{w} mask has no position at {layer} (stride {s}); use a larger image")
    m = mask.float()[None, None]
    if method == "simple":
        out = nnf.avg_pool2d(m, kernel_size=s, stride=s)
    else:
        # The receptive field of position i spans pixels i*s - p ... i*s + s - 1 + p with p = (rf - s) / 2.
        # max_pool2d pads with -inf, so positions near the border look only at the pixels inside the image.
        p = (rf - s) // 2
        sign = 1.0 if method == "all" else -1.0
        out = sign * nnf.max_pool2d(sign * m, kernel_size=rf, stride=s, padding=p)
    return out[0, 0]


def normalise_mask(mask: torch.Tensor) -> torch.Tensor:
    """T / sqrt(mean(T^2)) over the positions of each mask (..., H, W), as the reference implementation scales its
    guidance channels: then sum T^2 = M, the number of positions, and a guided Gram matrix has the size of a plain
    one, so the paper's E_l (eq. 4) applies unchanged. An empty mask stays zero.

    >>> normalise_mask(torch.ones(2, 3)).tolist()  # a mask of ones is left as it is
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    rms = mask.float().pow(2).mean(dim=(-2, -1), keepdim=True).sqrt()
    return torch.where(rms > 0, mask.float() / rms.clamp_min(1e-12), torch.zeros_like(mask, dtype=torch.float32))


def guided_gram_matrix(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """G = (F o T)(F o T)^T: the Gram matrix of the features with each map multiplied by the mask T.
    (B, N, H, W) and (H, W) -> (B, N, N). The mask is used as given (see :func:`normalise_mask`).

    >>> F = torch.tensor([[[[1.0, 2.0]], [[0.0, 3.0]]]])  # B=1, N=2 maps, H=1, W=2
    >>> guided_gram_matrix(F, torch.tensor([[0.0, 1.0]]))  # only the second position counts
    tensor([[[4., 6.],
             [6., 9.]]])
    """
    if mask.shape[-2:] != features.shape[-2:]:
        raise ValueError(
            f"guided_gram_matrix: mask {tuple(mask.shape)} must have the features' size {tuple(features.shape[-2:])}"
        )
    return gram_matrix(at_least_float32(features) * mask.float())


class GuidedStyleTerm:
    """The style loss with guided Gram matrices: sum_l w_l (1 / R) sum_r E_l(F^l o T_r^l, A_r^l).

    ``targets``: ``{layer: A (R, N, N)}``, the artwork's guided Gram matrices; ``masks``: ``{layer: T (R, H_l, W_l)}``,
    the photo's normalised masks at each layer; ``weights``: the w_l (None: 1 / number of layers). A region whose
    mask is empty at a layer (possible with "inside" at deep layers) is left out of that layer's average.
    """

    def __init__(self, targets: Features, masks: Features, weights: Mapping[str, float] | None = None):
        self.targets, self.masks = dict(targets), dict(masks)
        self.layers = tuple(self.targets)
        self.weights = layer_weights(self.layers, weights) if self.layers else {}  # checked as StyleTerm's are

    def per_layer(self, features: Features) -> torch.Tensor:
        """E_l of each image on each style layer, averaged over the regions: (B, L). E_l is the paper's eq. 4
        (``losses.style_layer_loss``) on the masked features F o T_r against region r's target A_r."""
        columns = []
        for name, a in self.targets.items():
            f, t = features[name], self.masks[name]
            b, n, h, w = f.shape
            r = t.shape[0]
            masked = (at_least_float32(f)[:, None] * t[None, :, None]).reshape(
                b * r, n, h, w
            )  # image-major, then region
            e = style_layer_loss(masked, a.repeat(b, 1, 1)).reshape(b, r)
            present = (t.flatten(1).amax(1) > 0).to(e.dtype)  # (R,)
            columns.append((e * present).sum(1) / present.sum().clamp_min(1))
        return torch.stack(columns, dim=1)

    def __call__(self, features: Features, image: torch.Tensor) -> torch.Tensor:
        if not self.targets:
            return image.new_zeros(image.shape[0], dtype=torch.float32)
        per_layer = self.per_layer(features)
        return per_layer @ torch.tensor(
            [self.weights[n] for n in self.layers], device=image.device, dtype=per_layer.dtype
        )


def guided_style_term(
    features: Callable[[torch.Tensor, Sequence[str]], Features],
    styles: Sequence[torch.Tensor],
    content_masks: Sequence[torch.Tensor],
    style_masks: Sequence[torch.Tensor] | None,
    layers: Sequence[str],
    method: str = "simple",
    weights: Mapping[str, float] | None = None,
) -> GuidedStyleTerm:
    """Build the guided style term for R regions: ``styles`` holds R images (region r's artwork) or one image
    shared by all regions; ``content_masks`` R masks at the photo's size; ``style_masks`` R masks at the style
    images' size, or None for whole artworks. ``features(image, layers)`` is the network (the objective's)."""
    r = len(content_masks)
    styles = list(styles) if len(styles) == r else list(styles) * r
    style_masks = (
        list(style_masks) if style_masks is not None else [torch.ones(s.shape[-2:], device=s.device) for s in styles]
    )
    computed = {}  # the features of each distinct style image, once
    targets = {name: [] for name in layers}
    masks = {name: [] for name in layers}
    for style, s_mask, c_mask in zip(styles, style_masks, content_masks):
        key = id(style)
        if key not in computed:
            computed[key] = features(style, layers)
        for name in layers:
            f = computed[key][name]
            t_s = normalise_mask(propagate_mask(s_mask, name, method)).to(f.device)
            targets[name].append(guided_gram_matrix(f, t_s)[0])
            masks[name].append(normalise_mask(propagate_mask(c_mask, name, method)).to(f.device))
    return GuidedStyleTerm(
        {n: torch.stack(v) for n, v in targets.items()}, {n: torch.stack(v) for n, v in masks.items()}, weights
    )


# --- Masks as data: read, resized, checked before any work ------------------------------------------------


def load_mask(source, what: str = "mask") -> torch.Tensor:
    """A mask as a float tensor (H, W) in [0, 1]: from a tensor ((H, W), (1, H, W) or (1, 1, H, W)) or an image
    file (its luminance: white = 1, black = 0). Errors name ``what`` (e.g. "mask 2 'sky.png'")."""
    if isinstance(source, torch.Tensor):
        m = source.detach()
        while m.dim() > 2 and m.shape[0] == 1:
            m = m[0]
        if m.dim() != 2:
            raise ValueError(f"{what} must be a tensor of shape (H, W), got {tuple(source.shape)}")
        m = m.float()
        if not torch.isfinite(m).all() or float(m.min()) < 0 or float(m.max()) > 1:
            raise ValueError(f"{what} must hold values in [0, 1] (1 inside the region)")
        return m
    if not isinstance(source, (str, os.PathLike, bytes)):
        raise ValueError(f"{what} must be a tensor (H, W) in [0, 1] or an image file, got {type(source).__name__}")
    try:
        image = load_image(source)
    except ImageError as e:
        raise ValueError(f"{what}: {e}") from None
    y = 0.299 * image[0, 0] + 0.587 * image[0, 1] + 0.114 * image[0, 2]  # the luminance, as controls/colour.py
    return y.clamp(0, 1)


def resize_mask(mask: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """A mask (H, W) resized to ``hw`` (antialiased bilinear, kept in [0, 1])."""
    hw = tuple(int(n) for n in hw)
    if tuple(mask.shape) == hw:
        return mask
    return nnf.interpolate(mask[None, None], size=hw, mode="bilinear", antialias=True, align_corners=False)[0, 0].clamp(
        0, 1
    )


def check_masks(content_masks, style_masks, n_styles: int, has_blend: bool) -> tuple[list | None, list | None]:
    """Read and check the masks before any work: one-line errors for a wrong count, an unreadable file, an
    empty mask (a region with no pixels) or a region with no style. Returns the masks as (H, W) tensors."""
    if content_masks is None:
        if style_masks is not None:
            raise ValueError(
                "style_masks are given without content_masks: say with content_masks where each style goes"
            )
        return None, None
    if isinstance(content_masks, (str, os.PathLike, torch.Tensor)):
        content_masks = [content_masks]
    content_masks = list(content_masks)
    if not content_masks:
        raise ValueError("content_masks is empty: give one mask per region, or leave it out")
    if has_blend:
        raise ValueError(
            "style_blend mixes styles over the whole image and content_masks give each region its own "
            "style: use one or the other"
        )
    r = len(content_masks)
    if style_masks is None and n_styles != r:
        raise ValueError(
            f"{r} content mask(s) for {n_styles} style image(s): give one style per region "
            f"(region {min(r, n_styles) + 1} has {'no style' if n_styles < r else 'no mask'})"
        )
    if style_masks is not None:
        if isinstance(style_masks, (str, os.PathLike, torch.Tensor)):
            style_masks = [style_masks]
        style_masks = list(style_masks)
        if len(style_masks) != r:
            raise ValueError(
                f"{len(style_masks)} style mask(s) for {r} content mask(s): give one style mask per region"
            )
        if n_styles not in (1, r):
            raise ValueError(f"with style_masks give one style image, or one per region ({r}); got {n_styles}")
    content = [
        _non_empty(load_mask(m, f"content mask {i + 1}"), f"content mask {i + 1}{_name(m)}", "the region has no pixels")
        for i, m in enumerate(content_masks)
    ]
    style = None
    if style_masks is not None:
        style = [
            _non_empty(
                load_mask(m, f"style mask {i + 1}"), f"style mask {i + 1}{_name(m)}", f"region {i + 1} has no style"
            )
            for i, m in enumerate(style_masks)
        ]
    return content, style


def _name(source) -> str:
    return f" {str(source)!r}" if isinstance(source, (str, os.PathLike)) else ""


def _non_empty(mask: torch.Tensor, what: str, why: str) -> torch.Tensor:
    if not float(mask.max()) > 0:
        raise ValueError(f"{what} is all zero: {why}; paint the region white (1) on black (0)")
    return mask
