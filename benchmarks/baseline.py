"""The baseline: style transfer written the way PyTorch's tutorial writes it, with the paper's layers.

A ``Sequential`` copy of VGG19 with "loss layers" inserted after the tapped ReLUs (each stashes
``self.loss`` as a side effect), max pooling, mean-squared-error losses, a Gram matrix divided by its
number of elements, the input clamped in the closure, and ``torch.optim.LBFGS``. Kept here, and only here,
as the yardstick the package is measured against; the package itself never uses this pattern.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, x):
        self.loss = F.mse_loss(x, self.target)
        return x


def _tutorial_gram(x):
    a, b, c, d = x.size()
    features = x.view(a * b, c * d)
    return torch.mm(features, features.t()).div(a * b * c * d)


class _StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = _tutorial_gram(target_feature).detach()

    def forward(self, x):
        self.loss = F.mse_loss(_tutorial_gram(x), self.target)
        return x


class _Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean.to(img.device)) / self.std.to(img.device)


def build_model(features: nn.Sequential, content, style, content_layers, style_layers):
    """The tutorial's ``get_style_model_and_losses``, tapping ReLU outputs named like the paper's layers."""
    from tutorial_style.vgg import IMAGENET_MEAN, IMAGENET_STD, LAYERS

    model = nn.Sequential(_Normalization(IMAGENET_MEAN, IMAGENET_STD).to(content.device))
    content_losses, style_losses = [], []
    for name, layer in zip(LAYERS, features):
        if isinstance(layer, nn.ReLU):
            layer = nn.ReLU(inplace=False)
        model.add_module(name, layer)
        if name in content_layers:
            loss = _ContentLoss(model(content).detach())
            model.add_module(f"content_loss_{name}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = _StyleLoss(model(style).detach())
            model.add_module(f"style_loss_{name}", loss)
            style_losses.append(loss)
    last = max(i for i, m in enumerate(model) if isinstance(m, (_ContentLoss, _StyleLoss)))
    return model[: last + 1], content_losses, style_losses


def run_baseline(
    features, content, style, content_layers, style_layers, steps, style_weight=1e6, content_weight=1.0, callback=None
):
    """Optimise with torch.optim.LBFGS for ``steps`` evaluations; ``callback(evaluation)`` after each one."""
    model, content_losses, style_losses = build_model(features, content, style, content_layers, style_layers)
    model.eval().requires_grad_(False)
    image = content.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([image], max_iter=steps, max_eval=steps)
    evaluations = [0]

    def closure():
        with torch.no_grad():
            image.clamp_(0, 1)
        optimizer.zero_grad()
        model(image)
        loss = style_weight * sum(s.loss for s in style_losses) + content_weight * sum(c.loss for c in content_losses)
        loss.backward()
        evaluations[0] += 1
        if callback is not None:
            callback(evaluations[0])
        return loss

    optimizer.step(closure)
    return image.detach().clamp(0, 1), evaluations[0]
