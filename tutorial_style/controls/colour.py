"""Colour control (Gatys, Ecker, Bethge, Hertzmann & Shechtman, *Controlling Perceptual Factors in Neural Style
Transfer*, CVPR 2017, section 5): keep the photo's colours and take only the artwork's brush strokes.

The 2016 algorithm copies the artwork's colours along with its strokes. The 2017 paper gives two ways to keep
the photo's colours instead:

- **luminance-only transfer**: both images go to their luminance Y (the brightness of the NTSC YIQ colour
  space); the style's luminance is matched to the photo's mean and spread,
  L' = sigma_c / sigma_s (L - mu_s) + mu_c; the transfer runs on grey images; the result's Y is put back
  together with the photo's I and Q (its chrominance). The result has exactly the photo's colours.
- **colour histogram matching**: the artwork's pixels are linearly transformed so that their mean and 3 x 3
  colour covariance equal the photo's (as in Image Analogies, Hertzmann et al. 2001); then the transfer runs
  as usual with this recoloured artwork.

``stylize(..., preserve_colors="luminance" | "histogram")`` does either (:func:`prepare_colours` is the one
place that prepares the images and finishes the result).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

__all__ = [
    "rgb_to_yiq",
    "yiq_to_rgb",
    "luminance",
    "match_luminance",
    "match_color",
    "COLOR_MODES",
    "MATCH_MODES",
    "prepare_colours",
]

COLOR_MODES = ("luminance", "histogram")  # the values of ``preserve_colors`` besides None
MATCH_MODES = ("pca", "chol", "sym")  # the square roots match_color can use

# NTSC YIQ: Y is the luminance (Rec. 601 weights), I and Q the chrominance. The inverse is computed from it, so
# that rgb -> yiq -> rgb gives the image back to float rounding.
_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.59590059, -0.27455667, -0.32134392], [0.21153661, -0.52273617, 0.31119955]],
    dtype=torch.float64,
)
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)
RIDGE = 1e-5  # added to each colour covariance's diagonal: a flat-coloured image still has an inverse square root


def _mix(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(x.shape)}")
    return torch.einsum("ij,bjhw->bihw", matrix.to(x.device, torch.float32), x.float())


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    """RGB images (B, 3, H, W) in [0, 1] -> YIQ (B, 3, H, W): luminance Y in [0, 1], chrominance I and Q.

    >>> rgb_to_yiq(torch.ones(1, 3, 1, 1)).flatten().round(decimals=6).add(0.0).tolist()  # white: full luminance, no colour
    [1.0, 0.0, 0.0]
    """  # noqa: E501
    return _mix(_RGB_TO_YIQ, x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """YIQ (B, 3, H, W) -> RGB (B, 3, H, W), the inverse of :func:`rgb_to_yiq` (not clipped: a YIQ triple made
    of one image's Y and another's I and Q may lie outside the RGB cube)."""
    return _mix(_YIQ_TO_RGB, x)


def luminance(x: torch.Tensor) -> torch.Tensor:
    """The luminance Y = 0.299 R + 0.587 G + 0.114 B of RGB images: (B, 3, H, W) -> (B, 1, H, W).

    >>> round(luminance(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).item(), 6)  # pure red
    0.299
    """
    return rgb_to_yiq(x)[:, :1]


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """The style's luminance shifted and scaled to the content's mean and standard deviation (paper section 5):
    L' = sigma_c / sigma_s (L - mu_s) + mu_c, per image, over all its pixels. (B, 1, H, W) -> same shape.

    Without it, a dark artwork would darken the photo: the luminance transfer would copy the artwork's brightness.

    >>> out = match_luminance(torch.tensor([0.0, 1.0]).view(1, 1, 1, 2), torch.tensor([0.4, 0.6]).view(1, 1, 1, 2))
    >>> [round(v, 6) for v in out.flatten().tolist()]
    [0.4, 0.6]
    """
    s, c = style_y.float(), content_y.float()
    mu_s, sd_s = s.mean(dim=(1, 2, 3), keepdim=True), s.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    mu_c, sd_c = c.mean(dim=(1, 2, 3), keepdim=True), c.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return sd_c / sd_s.clamp_min(1e-8) * (s - mu_s) + mu_c


def match_color(source: torch.Tensor, target: torch.Tensor, mode: str = "pca") -> torch.Tensor:
    """``source``'s pixels linearly transformed so that their mean and 3 x 3 colour covariance equal ``target``'s
    (the paper's colour histogram matching), then clipped to [0, 1]. (B or 1, 3, H, W) each; sizes may differ.

    x' = A (x - mu_s) + mu_t with A Sigma_s A^T = Sigma_t. ``mode`` picks A:

    - ``"pca"``: A = Sigma_t^1/2 Sigma_s^-1/2 with symmetric square roots (Image Analogies; the paper's choice);
    - ``"chol"``: A = L_t L_s^-1 with Cholesky factors;
    - ``"sym"``: A = Sigma_s^-1/2 (Sigma_s^1/2 Sigma_t Sigma_s^1/2)^1/2 Sigma_s^-1/2, the symmetric form that
      moves the pixels least (optimal transport between the two Gaussians).

    Each covariance gets a small ridge (``RIDGE`` on its diagonal), so a flat-coloured image works too.
    """
    if mode not in MATCH_MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MATCH_MODES))}, got {mode!r}")
    for name, x in (("source", source), ("target", target)):
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"match_color: {name} must be images of shape (B, 3, H, W), got {tuple(x.shape)}")
    xs, xt = source.double().flatten(2), target.double().flatten(2)  # (B, 3, M): float64 for the square roots
    mu_s, mu_t = xs.mean(2, keepdim=True), xt.mean(2, keepdim=True)
    cov_s, cov_t = _covariance(xs - mu_s), _covariance(xt - mu_t)
    if mode == "pca":
        a = _sqrtm(cov_t) @ torch.linalg.inv(_sqrtm(cov_s))
    elif mode == "chol":
        a = torch.linalg.cholesky(cov_t) @ torch.linalg.inv(torch.linalg.cholesky(cov_s))
    else:
        root_s = _sqrtm(cov_s)
        inv_root_s = torch.linalg.inv(root_s)
        a = inv_root_s @ _sqrtm(root_s @ cov_t @ root_s) @ inv_root_s
    out = a @ (xs - mu_s) + mu_t
    return (
        out.reshape(out.shape[0], 3, *source.shape[-2:])
        .clamp(0, 1)
        .to(source.dtype if source.is_floating_point() else torch.float32)
    )


def _covariance(centred: torch.Tensor) -> torch.Tensor:
    m = centred.shape[-1]
    return centred @ centred.transpose(1, 2) / m + RIDGE * torch.eye(3, dtype=centred.dtype, device=centred.device)


def _sqrtm(c: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of symmetric positive definite matrices (B, 3, 3)."""
    values, vectors = torch.linalg.eigh(c)
    return vectors @ torch.diag_embed(values.clamp_min(0).sqrt()) @ vectors.transpose(1, 2)


def prepare_colours(
    content: torch.Tensor, styles: Sequence[torch.Tensor], mode: str | None
) -> tuple[torch.Tensor, list[torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    """The images the network sees for ``preserve_colors=mode``, and ``finish(image)`` that makes the result.

    ``None``: unchanged. ``"histogram"``: each style image colour-matched to the photo (:func:`match_color`).
    ``"luminance"``: grey images (Y repeated in three channels), each style's Y matched to the photo's
    (:func:`match_luminance`) and clipped to [0, 1]; ``finish`` puts the optimised image's Y together with the
    photo's I and Q and clips the result to [0, 1].
    """
    if mode is None:
        return content, list(styles), _unchanged
    if mode == "histogram":
        return content, [match_color(s, content) for s in styles], _unchanged
    content_yiq = rgb_to_yiq(content)
    content_y = content_yiq[:, :1]
    grey = [match_luminance(luminance(s), content_y).clamp(0, 1).expand(-1, 3, -1, -1) for s in styles]

    def finish(image: torch.Tensor) -> torch.Tensor:
        iq = content_yiq[:, 1:].expand(image.shape[0], -1, -1, -1)
        return yiq_to_rgb(torch.cat([luminance(image), iq], dim=1)).clamp(0, 1)

    return content_y.expand(-1, 3, -1, -1), grey, finish


def _unchanged(image: torch.Tensor) -> torch.Tensor:
    return image
