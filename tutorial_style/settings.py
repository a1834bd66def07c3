"""One run's settings, validated once: what ``stylize``, the trade-off grid, the command line and the studio build.

Every setting that changes the picture a run makes is a field of :class:`Settings`, with its default and its
check in this one place. ``stylize(content, style, alpha=1e-2, steps=100)`` builds ``Settings(alpha=1e-2,
steps=100)``; the command line builds the same object from its flags; the grid's cache key is made from it. A bad
value raises a one-line ``ValueError`` naming the setting, before any work.

What a run needs besides its settings (the images, the network and its device, a callback, a progress bar)
is passed to ``stylize`` itself.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from .controls.colour import COLOR_MODES
from .controls.masks import MASK_METHODS
from .files import digest
from .layers import PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS, check_layer_list, check_network_options, min_input_size
from .losses import layer_weights

__all__ = [
    "Settings",
    "PRESETS",
    "OPTIMIZERS",
    "INITS",
    "PRECISIONS",
    "ADAM_LR",
    "ALPHA_AT_512",
    "default_alpha",
    "with_settings",
    "default",
    "check_factor",
    "check_whole",
]

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("noise", "content", "style")
PRECISIONS = ("fp32", "bf16")  # bf16: the network's convolutions in bfloat16; Gram matrices and losses stay float32
ADAM_LR = 0.02  # Adam's learning rate unless told, in pixel units ([0, 1] images): about 5 grey levels per step

# The content weight alpha at 512 x 512 px when none is given (beta = 1, relu4_2), chosen by measurement with real
# ImageNet features (benchmarks/alpha.py; the numbers are in docs/performance.md). The paper's alpha/beta = 1e-3 does
# not carry over: it belongs to the paper's own normalised Caffe VGG19 (with ours it leaves the photo unchanged), and
# L_content (eq. 1) is a sum over positions while E_l (eq. 4) is divided by M_l^2, so alpha must scale with
# 1 / (pixel count): default_alpha(h, w).
ALPHA_AT_512 = 6e-8
REFERENCE_PIXELS = 512 * 512


def default_alpha(height: int, width: int, at_512: float = ALPHA_AT_512) -> float:
    """The content weight used when ``alpha`` is not given, for an image of ``height`` x ``width`` px (beta = 1):
    ``at_512`` (the weight at 512 x 512 px) scaled with 1 / (pixel count). A style network's training scales its own
    weight on relu2_2 with it (``realtime/config.py``, ``CONTENT_WEIGHT_AT_512_RELU2_2``).

    >>> default_alpha(512, 512) == ALPHA_AT_512, default_alpha(256, 256) == 4 * ALPHA_AT_512
    (True, True)
    """
    return at_512 * REFERENCE_PIXELS / (height * width)


# Named settings for ``stylize(content, style, **PRESETS[name])``, the command line's ``--preset`` and the
# studio's preset menu. "paper": the paper's run, 500 L-BFGS evaluations from white noise. "fast": a result to
# show in a workshop within a minute at 256 px on a 2-core laptop. Starting from the content image is what buys
# the speed: the content term starts at zero and the optimiser only has to add the style, where from noise it
# must first build the picture. Measured in docs/performance.md (benchmarks/fast_preset.py).
PRESETS = {
    "paper": {"init": "noise", "steps": 500},
    "fast": {"init": "content", "steps": 70},
}


@dataclass(frozen=True, eq=False)
class Settings:
    """The settings of one style-transfer run; the defaults are the paper's.

    alpha, beta
        the weights of L_content and L_style (eq. 7). Either may be a list or 1-D tensor of B numbers: one run
        then optimises B images side by side (a row of the trade-off). ``alpha=None`` (the default) takes
        :func:`default_alpha` of the image's size (``ALPHA_AT_512`` says why not the paper's 1e-3).
    content_layers, style_layers
        where content and style are matched: relu4_2, and relu1_1 ... relu5_1 (the paper's "conv4_2", ...).
    style_weights
        the w_l of eq. 5, ``{layer: w}`` or one number per style layer; None gives w_l = 1 / (number of layers).
    steps
        loss-and-gradient evaluations, exactly; with ``sizes``, one number per size (or one for every size).
    init
        the start: ``"noise"`` (uniform white noise, the paper's), ``"content"``, ``"style"`` or an image tensor.
    optimizer, lr
        ``"lbfgs"`` (the paper's) or ``"adam"``; ``lr`` is Adam's learning rate (default ``ADAM_LR``).
    seed
        the seed of the white noise.
    pooling, normalize
        the network: ``"avg"`` pooling and the ``"paper"`` normalisation, as in the paper (``vgg.py``).
    precision
        ``"fp32"``, or ``"bf16"`` for the network's convolutions (faster on some hardware, ends higher).
    tv_weight
        the weight of a total-variation prior added to the total (``controls/tv.py``); 0, the paper's, adds none.

    The controls of Gatys et al. (CVPR 2017), ``controls/``; their defaults leave the 2016 algorithm unchanged:

    preserve_colors
        None, ``"luminance"`` (transfer on the luminance only, the photo's colours kept exactly) or
        ``"histogram"`` (the artwork recoloured to the photo's colour mean and covariance first); ``colour.py``.
    style_blend
        with several style images, their weights w_k (normalised here to sum to 1); the style target is
        sum_k w_k A_k (``blend.py``). None: equal weights.
    mask_propagation
        how region masks reach each layer: ``"simple"``, ``"inside"`` or ``"all"`` (``masks.py``).
    sizes
        coarse-to-fine: the longer side at each stage, increasing, e.g. ``(256, 512)``; each stage starts from
        the previous result upsampled (``scale.py``). None: one run at the content image's size.

    >>> Settings(alpha=[1e-4, 1e-3]).batch
    2
    >>> Settings(steps=0)
    Traceback (most recent call last):
    ...
    ValueError: steps must be a positive whole number of evaluations, got 0
    """

    alpha: float | tuple[float, ...] | None = None
    beta: float | tuple[float, ...] = 1.0
    content_layers: tuple[str, ...] = PAPER_CONTENT_LAYERS
    style_layers: tuple[str, ...] = PAPER_STYLE_LAYERS
    style_weights: Mapping[str, float] | None = None
    steps: int = 500
    init: str | torch.Tensor = "noise"
    optimizer: str = "lbfgs"
    lr: float | None = None
    seed: int = 0
    pooling: str = "avg"
    normalize: str | None = "paper"
    precision: str = "fp32"
    tv_weight: float = 0.0
    preserve_colors: str | None = None
    style_blend: tuple[float, ...] | None = None
    mask_propagation: str = "simple"
    sizes: tuple[int, ...] | None = None

    def __post_init__(self):
        put = object.__setattr__  # frozen: each field is normalised once, here
        put(self, "alpha", None if self.alpha is None else check_factor(self.alpha, "alpha"))
        put(self, "beta", check_factor(self.beta, "beta"))
        put(self, "content_layers", check_layer_list(self.content_layers, "content_layers"))
        put(self, "style_layers", check_layer_list(self.style_layers, "style_layers"))
        if not self.content_layers and not self.style_layers:
            raise ValueError("content_layers and style_layers are both empty: there is nothing to match")
        put(self, "style_weights", _style_weights(self.style_weights, self.style_layers))
        put(self, "sizes", _sizes(self.sizes))
        put(self, "steps", _steps(self.steps, self.sizes))
        _choice(self.optimizer, OPTIMIZERS, "optimizer")
        _choice(self.precision, PRECISIONS, "precision")
        if not isinstance(self.init, torch.Tensor):
            _choice(self.init, INITS, "init", " or an image tensor")
        if self.lr is not None:
            if self.optimizer != "adam":
                raise ValueError(f"lr is Adam's learning rate; optimizer={self.optimizer!r} takes none (leave lr out)")
            if not isinstance(self.lr, (int, float)) or isinstance(self.lr, bool) or not 0 < self.lr < math.inf:
                raise ValueError(
                    f"lr must be a positive number (Adam's learning rate, e.g. {ADAM_LR}), got {self.lr!r}"
                )
            put(self, "lr", float(self.lr))
        put(self, "seed", check_whole(self.seed, "seed", "a whole number from 0 to 2**63 - 1", low=0, high=2**63 - 1))
        check_network_options(self.pooling, self.normalize)
        put(self, "tv_weight", check_factor(self.tv_weight, "tv_weight"))
        if isinstance(self.tv_weight, tuple):
            raise ValueError(f"tv_weight must be one number, got {self.tv_weight!r}")
        if self.preserve_colors is not None:
            _choice(self.preserve_colors, COLOR_MODES, "preserve_colors", " or None")
        put(self, "style_blend", _blend(self.style_blend))
        _choice(self.mask_propagation, MASK_METHODS, "mask_propagation")
        if self.sizes is not None:
            smallest = min_input_size(self.content_layers + self.style_layers)
            if self.sizes[0] < smallest:
                raise ValueError(f"sizes: {self.sizes[0]} px is too small; the layers used need at least {smallest} px")
            if isinstance(self.init, torch.Tensor):
                raise ValueError(
                    "sizes: an init tensor has one size; start coarse-to-fine from 'noise', 'content' or 'style'"
                )
        self.batch  # alpha, beta and init agree on the batch size

    @classmethod
    def of(cls, settings: Settings | None = None, **options) -> Settings:
        """``settings`` (or the defaults) with ``options`` replaced: unknown names get a one-line error.

        >>> Settings.of(None, steps=70, init="content").steps
        70
        >>> Settings.of(None, alhpa=1)
        Traceback (most recent call last):
        ...
        ValueError: unknown setting 'alhpa'; did you mean 'alpha'? The settings are: alpha, beta, ...
        """
        names = [f.name for f in dataclasses.fields(cls)]
        for name in options:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(f"unknown setting {name!r}; {hint}The settings are: {', '.join(names)}")
        if settings is None:
            return cls(**options)
        if not isinstance(settings, cls):
            raise ValueError(f"settings must be a tutorial_style.Settings, got {type(settings).__name__}")
        return dataclasses.replace(settings, **options) if options else settings

    @classmethod
    def fixing(cls, settings: Settings | None, options: dict, who: str, **fixed) -> Settings:
        """:meth:`of` for a function that sets some settings itself (a reconstruction sets alpha and beta, the grid
        its rows and columns): giving one of those is a one-line error naming it."""
        clash = sorted(set(options) & set(fixed))
        if clash:
            raise ValueError(f"{who} sets {', '.join(clash)} itself; leave {'it' if len(clash) == 1 else 'them'} out")
        return cls.of(settings, **options, **fixed)

    @property
    def batch(self) -> int:
        """How many images one run optimises: the length of alpha, beta or a batched init tensor (else 1)."""
        sizes = {len(v) for v in (self.alpha, self.beta) if isinstance(v, tuple)}
        if isinstance(self.init, torch.Tensor) and self.init.dim() == 4 and self.init.shape[0] > 1:
            sizes.add(self.init.shape[0])
        if len(sizes - {1}) > 1:
            raise ValueError(f"alpha, beta and init disagree on the batch size: {sorted(sizes)}")
        return max(sizes, default=1)

    @property
    def stages(self) -> list[tuple[int | None, int]]:
        """``(size, steps)`` of each stage: one ``(None, steps)`` stage without ``sizes`` (the content's own size).

        >>> Settings(sizes=(128, 256), steps=(50, 20)).stages
        [(128, 50), (256, 20)]
        """
        if self.sizes is None:
            return [(None, self.steps)]
        steps = self.steps if isinstance(self.steps, tuple) else (self.steps,) * len(self.sizes)
        return list(zip(self.sizes, steps))

    @property
    def total_steps(self) -> int:
        """Every evaluation of the run, over all stages."""
        return sum(steps for _, steps in self.stages)

    def alpha_for(self, height: int, width: int) -> float | tuple[float, ...]:
        """alpha for an image of ``height`` x ``width`` px: the one given, else :func:`default_alpha` of that size."""
        return self.alpha if self.alpha is not None else default_alpha(height, width)

    def factors(self, height: int, width: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha (for an image of ``height`` x ``width`` px) and beta as float32 tensors of shape (batch,) on
        ``device``."""
        values = (self.alpha_for(height, width), self.beta)
        return tuple(torch.tensor(v, dtype=torch.float32, device=device).expand(self.batch) for v in values)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (tuples, strings, numbers), for a result's record and for cache keys (``json.dumps`` takes
        them); an init tensor becomes a digest of its pixels."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                value = "tensor " + digest(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.as_dict().items() if v != _DEFAULTS.get(k)}
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def default(name: str):
    """A setting's default, read from :class:`Settings`, the one place it is declared: the command line's help, the
    studio's controls and the figures ask here instead of writing the value again.

    >>> default("pooling"), default("mask_propagation")
    ('avg', 'simple')
    """
    if name not in _DEFAULTS:
        raise ValueError(f"unknown setting {name!r}; the settings are: {', '.join(_DEFAULTS)}")
    return _DEFAULTS[name]


def with_settings(fn=None, /, settings_class=None):
    """Give ``fn(..., settings=None, **options)`` a signature that lists every setting as a keyword with its
    default, so that ``help(ts.stylize)`` and Jupyter's Shift-Tab show them; the defaults stay in :class:`Settings`
    (or in ``settings_class``: ``@with_settings(TrainingSettings)`` for a style network's training)."""
    if isinstance(fn, type):  # @with_settings(TrainingSettings)
        return lambda f: with_settings(f, fn)
    signature = inspect.signature(fn)
    params = [p for p in signature.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    fields = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
        for f in dataclasses.fields(settings_class or Settings)
    ]
    fn.__signature__ = signature.replace(parameters=params + fields)
    return fn


def check_factor(value, name: str) -> float | tuple[float, ...]:
    """A weight (alpha, beta, tv_weight, ...): a finite non-negative number, or a tuple of them from a list or a 1-D
    tensor; else a one-line ValueError naming ``name``. The training's arguments are checked with it too.

    >>> check_factor([1e-3, 1], "alpha")
    (0.001, 1.0)
    """
    try:
        t = torch.as_tensor(value, dtype=torch.float64).detach().cpu()  # float64: 1e-3 stays exactly 1e-3
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be a number or a list / 1-D tensor of numbers, got {value!r}") from None
    if t.dim() > 1 or t.numel() == 0:
        raise ValueError(f"{name} must be a number or a 1-D tensor, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all() or (t < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
    return float(t) if t.dim() == 0 else tuple(float(v) for v in t)


def _sizes(sizes) -> tuple[int, ...] | None:
    if sizes is None:
        return None
    if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"sizes must be a list of image sizes in pixels, e.g. (256, 512), got {sizes!r}") from None
    if not sizes:
        raise ValueError("sizes is empty: give the longer side of each stage, e.g. (256, 512), or leave it out")
    sizes = tuple(check_whole(s, "sizes", "whole numbers of pixels", low=1) for s in sizes)
    if any(b <= a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"sizes must grow from coarse to fine, e.g. (256, 512), got {sizes}")
    return sizes


def _steps(steps, sizes) -> int | tuple[int, ...]:
    what = "a positive whole number of evaluations"
    if isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or not isinstance(steps, (Sequence, np.ndarray)):
        return check_whole(steps, "steps", what, low=1)
    steps = tuple(steps)
    if sizes is None:
        raise ValueError(f"steps is a list ({list(steps)}), which needs sizes: one number of steps per size")
    if len(steps) != len(sizes):
        raise ValueError(f"steps: {len(steps)} numbers for {len(sizes)} sizes {list(sizes)}; give one per size")
    return tuple(check_whole(s, "steps", what, low=1) for s in steps)


def _blend(blend) -> tuple[float, ...] | None:
    if blend is None:
        return None
    weights = check_factor(blend, "style_blend")
    weights = weights if isinstance(weights, tuple) else (weights,)
    total = sum(weights)
    if total <= 0:
        raise ValueError(f"style_blend must have a positive sum (one weight per style image), got {blend!r}")
    return tuple(w / total for w in weights)


def _style_weights(weights, layers: tuple[str, ...]) -> dict[str, float] | None:
    """``{layer: w_l}`` for every style layer (missing layers 0), checked as every style term's are, or None for the
    paper's equal weights."""
    if weights is None or not layers:
        return None
    return layer_weights(layers, weights, what="style_weights")


def check_whole(value, name: str, what: str, low: int, high: int | None = None) -> int:
    """``value`` as an int if it is a whole number from ``low`` to ``high``, else a one-line ValueError saying that
    ``name`` must be ``what``. The training's arguments are checked with it too.

    >>> check_whole(True, "steps", "a positive whole number", low=1)
    Traceback (most recent call last):
    ...
    ValueError: steps must be a positive whole number, got True
    """
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def _choice(value, options: tuple[str, ...], name: str, extra: str = "") -> None:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}{extra}, got {value!r}")


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}
