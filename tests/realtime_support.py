"""Helpers of the real-time tests (tests/test_realtime_*.py, test_deploy_*.py, test_video_*.py, test_cli.py): tiny
training settings in both spellings, a checkpoint's record, networks made for a test (one that makes texture,
one that notes its moves, one with many styles) and a caller's own Dataset of photos."""

from __future__ import annotations

import torch

import tutorial_style as ts
from tutorial_style.realtime import StyleNetwork

TINY = dict(size=32, batch=2, width=0.25, blocks=1, weights="random", device="cpu", progress=False)
TRAIN_FLAGS = ["--size", "32", "--batch", "2", "--width", "0.25", "--blocks", "1", "--weights", "random"]
META = {"style": "mosaic", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False, "steps": 0}
STYLES = ["mosaic", "swirls"]


def tiny_network(seed=0) -> StyleNetwork:
    torch.manual_seed(seed)
    net = StyleNetwork(width=0.25, blocks=1)
    with torch.no_grad():  # instance norm starts as the identity: give it values, so the network makes texture
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return net.eval()


def random_norms(net: StyleNetwork, seed: int = 0) -> StyleNetwork:
    """``net`` with every γ and β drawn at random (they start as the identity, the same for every style)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(module.bias.shape, generator=generator) - 0.5)
    return net.eval()


def conditional(styles=STYLES, seed=0, **config) -> StyleNetwork:
    torch.manual_seed(seed)
    return random_norms(StyleNetwork(**{"width": 0.25, "blocks": 1, **config}, styles=styles), seed)


def conv_norm_pairs(network: torch.nn.Module):
    """(convolution, instance norm) for every convolution that an instance normalisation directly follows."""
    for module in network.modules():
        children = list(module.children()) if isinstance(module, torch.nn.Sequential) else []
        for a, b in zip(children, children[1:]):
            if isinstance(a, torch.nn.Conv2d) and isinstance(b, torch.nn.InstanceNorm2d):
                yield a, b


class Spy(StyleNetwork):
    """A style network that notes every move of itself: a caller's module must not be moved."""

    def to(self, *args, **kwargs):
        self.moved = True
        return super().to(*args, **kwargs)


def spy_network() -> Spy:
    spy = Spy(width=0.25, blocks=1).train()
    spy.moved = False
    return spy


class Photos(torch.utils.data.Dataset):
    """``n`` photos of 32 x 32 px, a caller's own Dataset (used as it is)."""

    def __init__(self, n: int = 2):
        names = ["astronaut", "rocket", "camera", "coffee"][:n]
        self.images = [
            torch.nn.functional.interpolate(ts.load_image(name, size=32), size=(32, 32))[0] for name in names
        ]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


SHIPPED_PROVENANCE = {
    "styles": ["mosaic", "swirls"],
    "network": "width=0.25, blocks=1",
    "steps": 8,
    "cpu minutes": 0.1,
    "machine": "a test",
    "command": "python benchmarks/ship.py train OUT",
    "loss network": "trained with ImageNet VGG16 features: a test",
    "licence": "VGG16 weights: Simonyan & Zisserman, CC BY 4.0",
}


def ship_for_test(folder, monkeypatch) -> None:
    """Make ``folder`` the shipped networks' folder (tutorial_style/shipped/), holding one two-style network
    ``pair`` (``conditional()``, random γ and β) with its provenance."""
    import json

    import tutorial_style.shipped as shipped
    from tutorial_style.realtime.checkpoint import save_checkpoint

    monkeypatch.setattr(shipped, "FOLDER", folder)
    meta = {"style": "mosaic, swirls", "steps": 8, "loss network": shipped.LABEL, "weights": "a test"}
    save_checkpoint(folder / "pair.pt", conditional(), meta)
    (folder / "pair.json").write_text(json.dumps(SHIPPED_PROVENANCE))
