"""A style network's training settings, validated once: what ``train_network``, the command line's ``train`` and the
notebooks build.

Every setting that changes the network a training makes is a field of :class:`TrainingSettings`, with its default,
one line of reason and its check in this one place (nanoGPT's ``GPTConfig``). ``train_network(style, steps=3)``
builds ``TrainingSettings(steps=3)``; ``train --steps 3`` builds the same. Fields marked ``KEEP`` are what a resumed
training must keep (:data:`FIXED_ON_RESUME`, checked in ``resume.py``): the loss, the optimiser and the photos'
order; the others (the crops' size, the steps, the spacing of checkpoints, the workers) may change on resume.

What a run needs besides its settings (the style, the photos, a given network, VGG19's weights, the device, a
callback, the checkpoint's path, a progress bar) is passed to ``train_network`` itself.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field

from ..layers import PAPER_STYLE_LAYERS, check_layer_list, min_input_size
from ..settings import check_factor, check_whole, default_alpha
from ..video.temporal import TEMPORAL_FORMS
from .network import DEFAULT, SLIM

__all__ = [
    "TrainingSettings",
    "PRESETS",
    "FIXED_ON_RESUME",
    "KEEP",
    "CONTENT_WEIGHT_AT_512_RELU2_2",
    "TEMPORAL_WEIGHT_FOR_VIDEO",
]

CONTENT_WEIGHT_AT_512_RELU2_2 = 4e-8
"""alpha on relu2_2 at 512 x 512 px crops (beta = 1), scaled to the crops' size as ``settings.default_alpha`` scales
the optimisation's (``settings.ALPHA_AT_512`` says why not the paper's 1e-3): 6.4e-7 at the CPU preset's 128 px. The
lowest tried whose held-out photos keep a content distance under 1.5 after the preset's 300 steps, and the lever that
paid most (docs/performance.md, "A recipe for a laptop"; 6e-8 before, chosen at 100 steps)."""
TEMPORAL_WEIGHT_FOR_VIDEO = 30.0
"""The temporal weight for a network meant for video (``train --temporal-weight 30``): the largest whose style loss
rose by at most 10 % on the clips for choosing (docs/performance.md, "Video without flicker"; benchmarks/video.py)."""

KEEP = {"resume": "keep"}  # a resumed training must keep this field (FIXED_ON_RESUME)


@dataclass(frozen=True)
class TrainingSettings:
    """The settings of one style network's training; the defaults are the CPU preset (minutes on a laptop).

    >>> TrainingSettings(steps=3).steps, TrainingSettings().content_layers
    (3, ('relu2_2',))
    >>> TrainingSettings(steps=0)
    Traceback (most recent call last):
    ...
    ValueError: steps must be a positive whole number of training steps, got 0
    """

    steps: int = 300  # Adam steps in all (on resume: the total to reach); the CPU preset's, docs/performance.md
    size: int = 128  # side of the square random crops, px
    style_size: int | None = field(default=None, metadata=KEEP)  # the artwork's side for its Gram matrices, px: the
    # scale of the texture the network learns; None: the crops' size (the paper's: the style image at the photo's size)
    batch: int = field(default=2, metadata=KEEP)  # crops per step, per process; the photos' order depends on it
    lr: float = field(default=1e-3, metadata=KEEP)  # Adam's learning rate, Johnson et al.'s
    alpha: float | None = field(default=None, metadata=KEEP)  # content weight; None: alpha_for(size) (resume: kept)
    beta: float = field(default=1.0, metadata=KEEP)  # style weight, as in the optimisation's Settings
    tv_weight: float = field(default=1e-3, metadata=KEEP)  # total variation of [0, 1] pixels, against speckle
    temporal_weight: float = field(default=0.0, metadata=KEEP)  # against flicker; 0: none (Johnson's per-frame net)
    temporal_form: str = field(default="warp", metadata=KEEP)  # "warp" beat "difference" (docs/performance.md)
    content_layers: tuple[str, ...] = field(default=("relu2_2",), metadata=KEEP)  # Johnson's: keeps more detail
    style_layers: tuple[str, ...] = field(default=PAPER_STYLE_LAYERS, metadata=KEEP)  # the paper's relu1_1 ... relu5_1
    width: float | None = None  # a new network's channel width; None: network.DEFAULT's (resume: the checkpoint's)
    blocks: int | None = None  # its residual blocks; None as for width (Johnson's network has 5)
    separable: bool | None = None  # depthwise separable convolutions: the web page's slim network (network.SLIM)
    checkpoint_every: int = 100  # steps between two checkpoints (and one at the end)
    seed: int = field(default=0, metadata=KEEP)  # the network's start, the photos' order and their crops
    workers: int = 0  # processes that decode the photos (a DataLoader's num_workers); 0: this one, enough on a CPU

    def __post_init__(self):
        put = object.__setattr__  # frozen: each field is normalised once, here
        put(self, "steps", check_whole(self.steps, "steps", "a positive whole number of training steps", low=1))
        put(self, "batch", check_whole(self.batch, "batch", "a positive whole number of photos per step", low=1))
        every = check_whole(self.checkpoint_every, "checkpoint_every", "a positive whole number of steps", low=1)
        put(self, "checkpoint_every", every)
        workers = check_whole(self.workers, "workers", "a whole number of processes (0: decode in this one)", low=0)
        put(self, "workers", workers)
        put(self, "seed", check_whole(self.seed, "seed", "a whole number from 0 to 2**63 - 1", low=0, high=2**63 - 1))
        put(self, "content_layers", check_layer_list(self.content_layers, "content_layers"))
        put(self, "style_layers", check_layer_list(self.style_layers, "style_layers"))
        if not self.style_layers:
            raise ValueError("style_layers is empty: a style network needs at least one style layer")
        smallest = max(min_input_size(self.content_layers + self.style_layers), 16)
        what = f"a whole number of pixels, at least {smallest} for these layers"
        put(self, "size", check_whole(self.size, "size", what, low=smallest))
        if self.style_size is not None:
            side = check_whole(self.style_size, "style_size", what + " (None: the crops' size)", low=smallest)
            put(self, "style_size", side)
        if self.temporal_form not in TEMPORAL_FORMS:
            raise ValueError(f"temporal_form must be one of {', '.join(TEMPORAL_FORMS)}, got {self.temporal_form!r}")
        for name in ("alpha", "beta", "tv_weight", "temporal_weight"):
            value = getattr(self, name)
            if value is None and name == "alpha":
                continue
            checked = check_factor(value, name)
            if isinstance(checked, tuple):
                raise ValueError(f"{name} must be one number, got {value!r}")
            put(self, name, checked)
        if not (isinstance(self.lr, (int, float)) and not isinstance(self.lr, bool) and 0 < self.lr < math.inf):
            johnson = type(self).lr  # the field's default
            raise ValueError(
                f"lr must be a positive number (Adam's learning rate; Johnson et al. use {johnson:g}), got {self.lr!r}"
            )
        put(self, "lr", float(self.lr))

    @classmethod
    def of(cls, settings: TrainingSettings | None = None, **options) -> TrainingSettings:
        """``settings`` (or the defaults) with ``options`` replaced: unknown names get a one-line error.

        >>> TrainingSettings.of(None, steps=3).steps
        3
        >>> TrainingSettings.of(None, stpes=3)
        Traceback (most recent call last):
        ...
        ValueError: unknown training setting 'stpes'; did you mean 'steps'? The settings are: steps, size, ...
        """
        names = [f.name for f in dataclasses.fields(cls)]
        for name in options:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(f"unknown training setting {name!r}; {hint}The settings are: {', '.join(names)}")
        if settings is None:
            return cls(**options)
        if not isinstance(settings, cls):
            raise ValueError(f"settings must be a TrainingSettings, got {type(settings).__name__}")
        return dataclasses.replace(settings, **options) if options else settings

    @classmethod
    def preset(cls, name: str, **options) -> TrainingSettings:
        """The named preset (:data:`PRESETS`) with ``options`` replaced.

        >>> TrainingSettings.preset("web").separable, TrainingSettings.preset("cpu", steps=5).steps
        (True, 5)
        """
        if name not in PRESETS:
            raise ValueError(f"unknown training preset {name!r}; the presets are: {', '.join(PRESETS)}")
        return cls.of(None, **{**PRESETS[name], **options})

    def alpha_for(self, size: int) -> float:
        """alpha for square crops of ``size`` px: the one given, else :data:`CONTENT_WEIGHT_AT_512_RELU2_2` scaled
        with 1 / (pixel count) by ``settings.default_alpha``.

        >>> TrainingSettings().alpha_for(512) == CONTENT_WEIGHT_AT_512_RELU2_2
        True
        >>> TrainingSettings(alpha=1e-6).alpha_for(64)  # a given alpha is used as it is
        1e-06
        """
        return self.alpha if self.alpha is not None else default_alpha(size, size, at_512=CONTENT_WEIGHT_AT_512_RELU2_2)

    @property
    def shape(self) -> dict:
        """The given network shape (``width``, ``blocks``, ``separable``), without those left to their default."""
        return {k: getattr(self, k) for k in ("width", "blocks", "separable") if getattr(self, k) is not None}


FIXED_ON_RESUME = tuple(f.name for f in dataclasses.fields(TrainingSettings) if f.metadata.get("resume") == "keep")
"""What a resumed training must keep (the fields marked ``KEEP``): the loss, the optimiser and the photos' order. The
size of the crops and the number of steps may change on resume (so may the photos, the device and the checkpoints'
spacing)."""


def _defaults(*names: str) -> dict:
    return {f.name: f.default for f in dataclasses.fields(TrainingSettings) if f.name in names}


# Named training settings, as the changes they make (train_network(style, **PRESETS[name]), train --preset NAME).
# "cpu": a network that visibly stylises photos it never saw, within 10 minutes on a 2-core laptop: the defaults
# (docs/performance.md has what it reaches and its time a step). "johnson": Johnson et al.'s run (256 px crops,
# batch 4, 40,000 steps, two epochs of COCO), for a GPU and a large folder of photos. "web": the web page's slim
# network (network.SLIM), trained as "cpu" is.
PRESETS = {
    "cpu": {**_defaults("size", "batch", "steps"), **DEFAULT},
    "johnson": {"size": 256, "batch": 4, "steps": 40_000, "width": 1.0, "blocks": 5},
    "web": {**_defaults("size", "batch", "steps"), **SLIM},
}
for _preset in PRESETS.values():
    TrainingSettings(**_preset)  # each preset is a valid TrainingSettings
