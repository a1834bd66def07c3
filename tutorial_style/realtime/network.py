"""Johnson, Alahi & Fei-Fei's image transformation network (ECCV 2016), with Ulyanov et al.'s instance normalisation.

The 2016 paper optimises the pixels of each new image: hundreds of passes through VGG19 per picture. Johnson et
al. train a network once per style, with the same perceptual loss, so that stylising is one forward pass:

    9x9 conv (32) -> 3x3 conv stride 2 (64) -> 3x3 conv stride 2 (128)      downsampling: H/4 x W/4
    -> residual blocks (128)                                                 the work happens at 1/4 size
    -> upsample x2, 3x3 conv (64) -> upsample x2, 3x3 conv (32)              back to H x W
    -> 9x9 conv (3)                                                          an image

Each convolution but the last is followed by instance normalisation (each image's channels normalised on their
own: Ulyanov, Vedaldi & Lempitsky 2016, which makes the result independent of the photo's contrast) and a ReLU.
Those convolutions have no bias: the normalisation subtracts each channel's mean, and a bias with it, so a bias
there would never change an output (the normalisation's own shift takes its place). Checkpoints written with
those biases still load (``checkpoint.py`` drops them).
Padding is by reflection (no dark frame at the border) and upsampling is nearest-neighbour followed by a
convolution, not a transposed convolution, which leaves no checkerboard pattern (Odena et al. 2016).

``width`` scales every channel count (1.0 is Johnson's 32-64-128) and ``blocks`` is the number of residual blocks
(Johnson's 5). The default is a slimmer network that stylises fast on a laptop's CPU.

``separable=True`` makes :data:`SLIM`, the network of the web page (``deploy/web/``), where a phone's CPU or a
browser's WebAssembly has a fraction of a laptop's speed: every convolution becomes a depthwise separable one (as in
MobileNets, Howard et al. 2017), a k x k convolution of each channel on its own followed by a 1 x 1 convolution that
mixes the channels, about k*k times fewer multiplications for wide layers. The stages, the instance normalisation and
the upsampling followed by a convolution stay as they are.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["StyleNetwork", "JOHNSON", "DEFAULT", "SLIM"]

JOHNSON = {"width": 1.0, "blocks": 5}
"""Johnson et al.'s network: channels 32-64-128, five residual blocks."""
DEFAULT = {"width": 0.5, "blocks": 5}
"""The tutorial's default: channels 16-32-64, fast on a CPU."""
SLIM = {"width": 0.5, "blocks": 3, "separable": True}
"""The web page's network: channels 16-32-64, three residual blocks, depthwise separable convolutions; about ten times
fewer weights than :data:`DEFAULT` and several times faster (benchmarks/web.py, docs/performance.md)."""


class InstanceNorm(nn.InstanceNorm2d):
    """Instance normalisation with a learnt scale and shift per channel: ``nn.InstanceNorm2d(c, affine=True)``, the
    same weights and the same result, computed as a group norm with one channel per group, which is the same
    arithmetic: PyTorch's CPU kernel for group norm is faster (the network about 15 % faster on a CPU;
    benchmarks/realtime.py)."""

    def __init__(self, channels: int):
        super().__init__(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, self.num_features, self.weight, self.bias, self.eps)


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, bias: bool = True, separable: bool = False) -> nn.Module:
    """A k x k convolution with reflection padding; ``separable``: depthwise k x k, then pointwise 1 x 1 (the depthwise
    one has no bias: the pointwise one's bias takes its place, as it is linear)."""
    if separable:
        depthwise = nn.Conv2d(cin, cin, kernel, stride=stride, padding=kernel // 2, padding_mode="reflect", groups=cin, bias=False)
        return nn.Sequential(depthwise, nn.Conv2d(cin, cout, 1, bias=bias))
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, padding_mode="reflect", bias=bias)


class _ConvNormReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, separable: bool = False):
        super().__init__(_conv(cin, cout, kernel, stride, bias=False, separable=separable), InstanceNorm(cout), nn.ReLU(inplace=True))


class _Residual(nn.Module):
    """x + conv-norm-relu-conv-norm(x): the block keeps the size and learns a correction."""

    def __init__(self, channels: int, separable: bool = False):
        super().__init__()
        self.body = nn.Sequential(
            _ConvNormReLU(channels, channels, 3, separable=separable),
            _conv(channels, channels, 3, bias=False, separable=separable),
            InstanceNorm(channels),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class _Upsample(nn.Sequential):
    """Nearest-neighbour x2, then conv-norm-relu: the upsampling that leaves no checkerboard (a transposed
    convolution's kernel overlaps unevenly, Odena, Dumoulin & Olah 2016, *Deconvolution and Checkerboard Artifacts*)."""

    def __init__(self, cin: int, cout: int, separable: bool = False):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), _ConvNormReLU(cin, cout, 3, separable=separable))


class StyleNetwork(nn.Module):
    """Images (B, 3, H, W) in [0, 1] to stylised images of the same shape in [0, 1], for any H and W.

    >>> net = StyleNetwork(width=0.25, blocks=1)
    >>> net(torch.rand(2, 3, 37, 50)).shape
    torch.Size([2, 3, 37, 50])
    >>> net.config
    {'width': 0.25, 'blocks': 1}
    >>> StyleNetwork(**SLIM).config
    {'width': 0.5, 'blocks': 3, 'separable': True}
    """

    def __init__(self, width: float = DEFAULT["width"], blocks: int = DEFAULT["blocks"], separable: bool = False):
        super().__init__()
        if not (isinstance(width, (int, float)) and 0 < width <= 4):
            raise ValueError(f"width must be a number in (0, 4] (1.0 is Johnson's network), got {width!r}")
        if not (isinstance(blocks, int) and not isinstance(blocks, bool) and 0 <= blocks <= 32):
            raise ValueError(f"blocks must be a whole number from 0 to 32 (Johnson's network has 5), got {blocks!r}")
        if not isinstance(separable, bool):
            raise ValueError(f"separable must be True or False, got {separable!r}")
        # "separable" is in the config only when set: the checkpoints of the plain network stay as they were.
        self.config = {"width": float(width), "blocks": int(blocks), **({"separable": True} if separable else {})}
        c1, c2, c3 = (max(1, round(c * width)) for c in (32, 64, 128))
        s = separable
        self.down = nn.Sequential(
            _ConvNormReLU(3, c1, 9, separable=s), _ConvNormReLU(c1, c2, 3, 2, s), _ConvNormReLU(c2, c3, 3, 2, s)
        )  # fmt: skip
        self.residuals = nn.Sequential(*(_Residual(c3, s) for _ in range(blocks)))
        self.up = nn.Sequential(_Upsample(c3, c2, s), _Upsample(c2, c1, s))
        self.out = _conv(c1, 3, 9, separable=s)

    def stages(self) -> list[tuple[str, nn.Module]]:
        """The network's stages in order, by name (for showing the shape after each)."""
        return [("down", self.down), ("residuals", self.residuals), ("up", self.up), ("out", self.out)]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"StyleNetwork takes images of shape (B, 3, H, W), got {tuple(images.shape)}")
        h, w = images.shape[-2:]
        # Pad to a multiple of 4 (and at least 8) so that the two stride-2 stages and the two x2 upsamplings give
        # back H x W and the 9x9 reflection padding fits; replication works for any size, even 1 x 1.
        ph, pw = max(-h % 4, 8 - h), max(-w % 4, 8 - w)
        x = F.pad(images, (0, pw, 0, ph), mode="replicate") if ph or pw else images
        x = self.out(self.up(self.residuals(self.down(x))))
        # A sigmoid keeps the result in [0, 1] with a gradient everywhere (Johnson scales a tanh the same way).
        return torch.sigmoid(x[..., :h, :w])

    def extra_repr(self) -> str:
        separable = ", separable" if self.config.get("separable") else ""
        return f"width={self.config['width']}, blocks={self.config['blocks']}{separable}"
