"""A judge of stylised images, apart from the objective that made them: how far from the artwork's style, how far
from the photo's content.

    style distance   = mean over relu1_1 ... relu5_1 of |G(x) - G(a)|^2 / |G(a)|^2
    content distance = |F(x) - F(p)|^2 / |F(p)|^2 at relu4_2

measured with the raw convolutions (no normalisation, max pooling), so a change to the normalisation, the
pooling or the loss weights cannot flatter its own results. The style image is resized to the judged image's
size first. With real ImageNet features the photo itself is far from the artwork (astronaut and mosaic at
128 px: 0.63) and a faithful copy of the artwork's texture is near 0; content 0 is the photo itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial_style.gram import gram_matrix  # noqa: E402
from tutorial_style.images import resize_to  # noqa: E402
from tutorial_style.layers import PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS  # noqa: E402
from tutorial_style.vgg import VGG19Features  # noqa: E402


class Judge:
    """``Judge(weights)(image, photo, artwork) -> {"style": (B,), "style layers": {layer: (B,)}, "content": (B,)}`` on
    raw features: the style distance's mean over the layers, and each layer's."""

    def __init__(self, weights):
        self.vgg = VGG19Features(weights=weights, pooling="max", normalize=None)
        self.label = self.vgg.weights_info.label

    @torch.no_grad()
    def __call__(self, image: torch.Tensor, photo: torch.Tensor | None = None, artwork: torch.Tensor | None = None):
        image = image.float().cpu()
        f = self.vgg(image, PAPER_STYLE_LAYERS + PAPER_CONTENT_LAYERS)
        out = {}
        if artwork is not None:
            a = self.vgg(resize_to(artwork.float().cpu(), image.shape[-2:]), PAPER_STYLE_LAYERS)
            ratios = []
            for name in PAPER_STYLE_LAYERS:
                g, target = gram_matrix(f[name]), gram_matrix(a[name])
                ratios.append(((g - target) ** 2).flatten(1).sum(1) / (target**2).flatten(1).sum(1))
            out["style layers"] = dict(
                zip(PAPER_STYLE_LAYERS, ratios)
            )  # each (B,): a mean can hide where results differ
            out["style"] = torch.stack(ratios, dim=1).mean(dim=1)
        if photo is not None:
            p = self.vgg(resize_to(photo.float().cpu(), image.shape[-2:]), PAPER_CONTENT_LAYERS)
            name = PAPER_CONTENT_LAYERS[0]
            out["content"] = ((f[name] - p[name]) ** 2).flatten(1).sum(1) / (p[name] ** 2).flatten(1).sum(1)
        return out
