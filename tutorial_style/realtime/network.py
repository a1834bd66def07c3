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

``styles=("mosaic", "swirls", ...)`` makes one network of N styles (Dumoulin, Shlens & Kudlur 2017, *A Learned
Representation for Artistic Style*): the convolutions are shared and each style is only a scale γ and a shift β per
instance normalisation (:class:`ConditionalInstanceNorm`, parameters of shape (N, C)). ``forward(images, mix)`` takes
the styles' weights and normalises with their mix of γ and β, so styles mix at run time; a new style is learnt by
training its γ and β alone (:meth:`StyleNetwork.with_style`, :meth:`StyleNetwork.style_parameters`). Its
state-dict keys are the one-style network's (γ and β gain the style axis), whose weights can seed one
(:meth:`StyleNetwork.as_conditional`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["StyleNetwork", "ConditionalInstanceNorm", "StyleRow", "JOHNSON", "DEFAULT", "SLIM"]

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


class ConditionalInstanceNorm(nn.InstanceNorm2d):
    """Dumoulin et al.'s conditional instance normalisation: one scale γ (``weight``) and one shift β (``bias``) per
    style, shape (styles, channels), row i for style i; the names are :class:`InstanceNorm`'s.

    ``forward(x, mix)``: ``mix`` holds the styles' weights, summing to 1 (``StyleNetwork.forward`` normalises them),
    (styles,) for the whole batch or (B, styles) per image; it normalises with γ = mix @ weight and β = mix @ bias, as
    Magenta's ``conditional_instance_norm`` does. A one-hot mix is that style's own normalisation.

    >>> norm = ConditionalInstanceNorm(4, styles=2)
    >>> norm.weight.shape
    torch.Size([2, 4])
    >>> x = torch.randn(3, 4, 5, 5)
    >>> torch.allclose(norm(x, torch.tensor([1.0, 0.0])), norm(x, torch.tensor([[0.0, 1.0]] * 3)), atol=1e-6)
    True
    """

    def __init__(self, channels: int, styles: int):
        super().__init__(channels, affine=True)
        self.weight = nn.Parameter(torch.ones(styles, channels))  # γ starts as 1 and β as 0: the identity, as nn's
        self.bias = nn.Parameter(torch.zeros(styles, channels))

    def forward(self, x: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        if mix is None:
            raise ValueError("mix: a conditional instance normalisation needs the styles' weights (see mix_for)")
        gamma, beta = mix @ self.weight, mix @ self.bias
        if mix.dim() == 1:  # one mix for the batch: group norm's own affine, as InstanceNorm (the faster kernel)
            return F.group_norm(x, self.num_features, gamma, beta, self.eps)
        normed = F.group_norm(x, self.num_features, None, None, self.eps)
        return torch.addcmul(beta[:, :, None, None], normed, gamma[:, :, None, None])

    def extra_repr(self) -> str:
        return f"{self.num_features}, styles={self.weight.shape[0]}, eps={self.eps}"


def _norm(channels: int, styles: int | None) -> nn.Module:
    return InstanceNorm(channels) if styles is None else ConditionalInstanceNorm(channels, styles)


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, bias: bool = True, separable: bool = False) -> nn.Module:
    """A k x k convolution with reflection padding; ``separable``: depthwise k x k, then pointwise 1 x 1 (the depthwise
    one has no bias: the pointwise one's bias takes its place, as it is linear)."""
    if separable:
        depthwise = nn.Conv2d(
            cin, cin, kernel, stride=stride, padding=kernel // 2, padding_mode="reflect", groups=cin, bias=False
        )
        return nn.Sequential(depthwise, nn.Conv2d(cin, cout, 1, bias=bias))
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, padding_mode="reflect", bias=bias)


class _Chain(nn.Sequential):
    """nn.Sequential that hands the style mix to the children that take one; with ``mix=None`` (a one-style network)
    each child is called as nn.Sequential calls it. The mix is passed down, never stored on a module: torch.export
    traces it as an input."""

    def forward(self, x: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        for module in self:
            x = module(x) if mix is None or not isinstance(module, _TAKES_MIX) else module(x, mix)
        return x


class _ConvNormReLU(_Chain):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, separable: bool = False, styles=None):
        conv = _conv(cin, cout, kernel, stride, bias=False, separable=separable)
        super().__init__(conv, _norm(cout, styles), nn.ReLU(inplace=True))


class _Residual(nn.Module):
    """x + conv-norm-relu-conv-norm(x): the block keeps the size and learns a correction."""

    def __init__(self, channels: int, separable: bool = False, styles: int | None = None):
        super().__init__()
        self.body = _Chain(
            _ConvNormReLU(channels, channels, 3, separable=separable, styles=styles),
            _conv(channels, channels, 3, bias=False, separable=separable),
            _norm(channels, styles),
        )

    def forward(self, x: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        return x + self.body(x, mix)


class _Upsample(_Chain):
    """Nearest-neighbour x2, then conv-norm-relu: the upsampling that leaves no checkerboard (a transposed
    convolution's kernel overlaps unevenly, Odena, Dumoulin & Olah 2016, *Deconvolution and Checkerboard Artifacts*)."""

    def __init__(self, cin: int, cout: int, separable: bool = False, styles: int | None = None):
        conv = _ConvNormReLU(cin, cout, 3, separable=separable, styles=styles)
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), conv)


_TAKES_MIX = (_Chain, _Residual, ConditionalInstanceNorm)
_GAMMA_BETA = ("weight", "bias")  # γ and β under nn's names


class StyleRow(NamedTuple):
    """One style's row of one normalisation's γ or β: ``parameter[row]``, ``key`` its name in the state dict."""

    key: str
    parameter: nn.Parameter
    row: int


class StyleNetwork(nn.Module):
    """Images (B, 3, H, W) in [0, 1] to stylised images of the same shape in [0, 1], for any H and W.

    >>> net = StyleNetwork(width=0.25, blocks=1)
    >>> net(torch.rand(2, 3, 37, 50)).shape
    torch.Size([2, 3, 37, 50])
    >>> net.config
    {'width': 0.25, 'blocks': 1}
    >>> StyleNetwork(**SLIM).config
    {'width': 0.5, 'blocks': 3, 'separable': True}

    ``styles``: a list of style names makes a network of several styles (see the module's docstring); ``forward``
    then takes ``mix``, the styles' weights, (N,) for the whole batch or (B, N) per image, non-negative, each row
    normalised to sum 1 inside. ``mix=None`` is the style of a one-style conditional network and an error for
    several styles: which style a picture gets is never a silent default.

    >>> many = StyleNetwork(width=0.25, blocks=1, styles=["mosaic", "swirls"])
    >>> many.config
    {'width': 0.25, 'blocks': 1, 'styles': ['mosaic', 'swirls']}
    >>> many(torch.rand(2, 3, 37, 50), mix=many.mix_for({"mosaic": 0.7, "swirls": 0.3})).shape
    torch.Size([2, 3, 37, 50])
    """

    def __init__(
        self,
        width: float = DEFAULT["width"],
        blocks: int = DEFAULT["blocks"],
        separable: bool = False,
        styles: Sequence[str] | None = None,
    ):
        super().__init__()
        if not (isinstance(width, (int, float)) and 0 < width <= 4):
            raise ValueError(f"width must be a number in (0, 4] (1.0 is Johnson's network), got {width!r}")
        if not (isinstance(blocks, int) and not isinstance(blocks, bool) and 0 <= blocks <= 32):
            raise ValueError(f"blocks must be a whole number from 0 to 32 (Johnson's network has 5), got {blocks!r}")
        if not isinstance(separable, bool):
            raise ValueError(f"separable must be True or False, got {separable!r}")
        # The style names, in the order of ``mix``; None for a one-style network.
        self.styles = None if styles is None else _check_styles(styles)
        # "separable" and "styles" are in the config only when set: the plain network's checkpoints stay as they were.
        self.config = {"width": float(width), "blocks": int(blocks), **({"separable": True} if separable else {})}
        if self.styles is not None:
            self.config["styles"] = list(self.styles)  # a list: a checkpoint holds plain values
        c1, c2, c3 = (max(1, round(c * width)) for c in (32, 64, 128))
        s, n = separable, None if self.styles is None else len(self.styles)
        self.down = _Chain(
            _ConvNormReLU(3, c1, 9, separable=s, styles=n),
            _ConvNormReLU(c1, c2, 3, 2, s, styles=n),
            _ConvNormReLU(c2, c3, 3, 2, s, styles=n),
        )
        self.residuals = _Chain(*(_Residual(c3, s, styles=n) for _ in range(blocks)))
        self.up = _Chain(_Upsample(c3, c2, s, styles=n), _Upsample(c2, c1, s, styles=n))
        self.out = _conv(c1, 3, 9, separable=s)

    def stages(self) -> list[tuple[str, nn.Module]]:
        """The network's stages in order, by name (for showing the shape after each); a network of several styles
        calls each with the mix too, ``stage(x, mix)``."""
        return [("down", self.down), ("residuals", self.residuals), ("up", self.up), ("out", self.out)]

    def forward(self, images: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"StyleNetwork takes images of shape (B, 3, H, W), got {tuple(images.shape)}")
        mix = self._weights(mix, images)
        h, w = images.shape[-2:]
        # Pad to a multiple of 4 (and at least 8) so that the two stride-2 stages and the two x2 upsamplings give
        # back H x W and the 9x9 reflection padding fits; replication works for any size, even 1 x 1.
        ph, pw = max(-h % 4, 8 - h), max(-w % 4, 8 - w)
        x = F.pad(images, (0, pw, 0, ph), mode="replicate") if ph or pw else images
        x = self.out(self.up(self.residuals(self.down(x, mix), mix), mix))
        # A sigmoid keeps the result in [0, 1] with a gradient everywhere (Johnson scales a tanh the same way).
        return torch.sigmoid(x[..., :h, :w])

    def _weights(self, mix, images: torch.Tensor) -> torch.Tensor | None:
        """``mix`` checked and each row normalised to sum 1, on the images' device and dtype; None for one style."""
        if self.styles is None:
            if mix is not None:
                raise ValueError("mix: this network has one style and takes no mix (a network of several styles does)")
            return None
        n = len(self.styles)
        if mix is None:
            if n == 1:
                return images.new_ones(1)
            names = ", ".join(self.styles)
            raise ValueError(f"mix: this network holds {n} styles ({names}); pass mix=network.mix_for(NAME)")
        mix = torch.as_tensor(mix).to(images.device, images.dtype)
        # The batch's test before `!= 1`: with the batch dynamic in torch.export it is decided without a guard.
        rows_fit = mix.dim() != 2 or mix.shape[0] == images.shape[0] or mix.shape[0] == 1
        if mix.dim() not in (1, 2) or mix.shape[-1] != n or not rows_fit:
            shape, batch = tuple(mix.shape), images.shape[0]
            raise ValueError(f"mix must have shape ({n},) or (B, {n}) for {n} styles and {batch} images, got {shape}")
        if not (torch.compiler.is_compiling() or torch.compiler.is_exporting()):  # values are data: not traceable
            if not bool(torch.isfinite(mix).all()):
                raise ValueError("mix: every weight must be a finite number (got NaN or infinity)")
            if bool((mix < 0).any()):
                raise ValueError(f"mix: weights must be at least 0, got {mix.min().item():g}")
            if bool((mix.sum(-1) == 0).any()):
                raise ValueError("mix: the weights are all 0; give at least one style a positive weight")
        # Eager calls were checked above; an exported model (the web page's sliders) clamps instead: a negative
        # weight counts as 0, and all zeros give γ = β = 0, never NaN.
        mix = mix.clamp_min(0)
        return mix / mix.sum(-1, keepdim=True).clamp_min(torch.finfo(mix.dtype).tiny)

    def mix_for(self, spec: str | Mapping[str, float]) -> torch.Tensor:
        """The ``mix`` for ``forward``, (N,) summing to 1: a style's name gives that style alone; a mapping
        ``{name: weight}`` those weights normalised (styles it does not name get 0). One-line ValueErrors for an
        unknown name, a weight that is negative, not finite or not a number, and all-zero weights.

        >>> net = StyleNetwork(width=0.25, blocks=1, styles=["mosaic", "swirls", "wave"])
        >>> net.mix_for("swirls")
        tensor([0., 1., 0.])
        >>> net.mix_for({"mosaic": 0.7, "swirls": 0.3})
        tensor([0.7000, 0.3000, 0.0000])
        >>> net.mix_for("cubism")
        Traceback (most recent call last):
        ValueError: mix: no style 'cubism' in this network (its styles: mosaic, swirls, wave)
        """
        if self.styles is None:
            raise ValueError("mix: this network has one style and takes no mix (a network of several styles does)")
        if isinstance(spec, str):
            spec = {spec: 1.0}
        if not isinstance(spec, Mapping):
            raise ValueError(f"mix must be a style's name or a mapping {{name: weight}}, got {type(spec).__name__}")
        weights = [0.0] * len(self.styles)
        for name, weight in spec.items():
            if name not in self.styles:
                raise ValueError(f"mix: no style {name!r} in this network (its styles: {', '.join(self.styles)})")
            if isinstance(weight, torch.Tensor) and weight.numel() == 1:
                weight = weight.item()
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
                raise ValueError(f"mix: the weight of {name!r} must be a number, got {weight!r}")
            if not math.isfinite(weight):
                raise ValueError(f"mix: the weight of {name!r} must be finite, got {weight}")
            if weight < 0:
                raise ValueError(f"mix: the weight of {name!r} must be at least 0, got {weight}")
            weights[self.styles.index(name)] = float(weight)
        total = sum(weights)
        if total == 0:
            raise ValueError(f"mix: the weights are all 0; give one of {', '.join(self.styles)} a positive weight")
        return torch.tensor([weight / total for weight in weights])

    def style_parameters(self, name: str) -> list[StyleRow]:
        """Style ``name``'s γ and β in every normalisation: ``(key, parameter, row)``, its values
        ``parameter[row]``. Training a new style trains these rows alone: with a one-hot mix of that style the other
        rows' gradients are exactly 0, and zeroing every other gradient keeps the convolutions as they are.

        >>> net = StyleNetwork(width=0.25, blocks=1, styles=["mosaic", "swirls"])
        >>> rows = net.style_parameters("swirls")
        >>> len(rows), rows[0].key, rows[0].row, tuple(rows[0].parameter.shape)
        (14, 'down.0.1.weight', 1, (2, 8))
        """
        if self.styles is None:
            raise ValueError("style_parameters: this network has one style; every parameter is that style's")
        if name not in self.styles:
            raise ValueError(f"style: no style {name!r} in this network (its styles: {', '.join(self.styles)})")
        row = self.styles.index(name)
        norms = [(key, module) for key, module in self.named_modules() if isinstance(module, ConditionalInstanceNorm)]
        return [StyleRow(f"{key}.{kind}", getattr(module, kind), row) for key, module in norms for kind in _GAMMA_BETA]

    def with_style(self, name: str) -> StyleNetwork:
        """A copy of this network of several styles with one more, ``name``, last in the mix; everything else is
        copied. Its γ and β start as the mean of the others': the mix of all styles in equal parts, an output the
        convolutions were trained for (γ = 1, β = 0 would start from a normalisation none of them has seen).

        >>> net = StyleNetwork(width=0.25, blocks=1, styles=["mosaic", "swirls"]).with_style("wave")
        >>> net.styles, tuple(net.down[0][1].weight.shape)
        (('mosaic', 'swirls', 'wave'), (3, 8))
        """
        if self.styles is None:
            raise ValueError(
                "with_style: this network has one style and no style names; "
                "make it a network of styles first: network.as_conditional(NAME).with_style(NEW)"
            )
        styles = _check_styles([*self.styles, name])
        return self._with_norms(styles, lambda p: torch.cat([p, p.mean(0, keepdim=True)]))

    def as_conditional(self, *styles: str) -> StyleNetwork:
        """This one-style network as a network of ``styles``, each starting with this network's γ and β, the
        convolutions copied: with any mix it computes what this network computes, and training separates them.

        >>> one = StyleNetwork(width=0.25, blocks=1)
        >>> x = torch.rand(1, 3, 16, 16)
        >>> torch.allclose(one.as_conditional("mosaic")(x), one(x))
        True
        """
        if self.styles is not None:
            names = ", ".join(self.styles)
            raise ValueError(f"as_conditional: this network already has styles ({names}); with_style(NAME) adds one")
        styles = _check_styles(list(styles))
        return self._with_norms(styles, lambda p: p.unsqueeze(0).expand(len(styles), -1).clone())

    def _with_norms(self, styles: tuple[str, ...], rows) -> StyleNetwork:
        """A new network of ``styles``: this one's weights, each normalisation's γ and β mapped by ``rows``."""
        norms = [key for key, module in self.named_modules() if isinstance(module, nn.InstanceNorm2d)]
        norms = {f"{key}.{kind}" for key in norms for kind in _GAMMA_BETA}
        state = {k: rows(v) if k in norms else v for k, v in self.state_dict().items()}
        network = StyleNetwork(**{**self.config, "styles": list(styles)})
        network.load_state_dict(state)
        first = next(self.parameters())
        return network.to(first.device, first.dtype).train(self.training)

    def extra_repr(self) -> str:
        separable = ", separable" if self.config.get("separable") else ""
        styles = f", styles=({', '.join(self.styles)})" if self.styles is not None else ""
        return f"width={self.config['width']}, blocks={self.config['blocks']}{separable}{styles}"


def _check_styles(styles) -> tuple[str, ...]:
    """The style names as a tuple; a one-line ValueError unless they are distinct names that a mix can spell
    (``mosaic=0.7 swirls=0.3``: no spaces, ``=`` or commas)."""
    if isinstance(styles, str) or not isinstance(styles, Sequence) or not styles:
        raise ValueError(f"styles must be a non-empty list of style names, got {styles!r}")
    for name in styles:
        if not (isinstance(name, str) and name and not any(c.isspace() or c in "=," for c in name)):
            raise ValueError(f"styles: {name!r} is not a style name (a non-empty word without spaces, '=' or ',')")
    if len(set(styles)) != len(styles):
        raise ValueError(f"styles: each style once, got {', '.join(styles)}")
    return tuple(styles)
