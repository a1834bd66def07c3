"""Resuming a training from its checkpoint: where it stood, and the checks that it is still the same training.

A checkpoint (``checkpoint.py``) holds what made its network (``meta``) and, written by a training, where the
training stood (``training``: the step reached, the optimiser's state, the loss history). ``train_network(...,
resume=True)`` continues from there; it must keep the settings of :data:`~.config.FIXED_ON_RESUME` (the loss, the
optimiser, the photos' order), the style and VGG19's weights, and a one-line error names the one that differs. The
crops' size and the number of steps may change, and so may the photos, the device and the checkpoints' spacing.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Callable

from .checkpoint import CheckpointError, load_checkpoint
from .config import FIXED_ON_RESUME, TrainingSettings
from .network import StyleNetwork

__all__ = ["Start", "resume_from", "check_resume", "check_weights", "recorded_options"]


@dataclass
class Start:
    """Where a training starts: its first step, the network, the optimiser's state and the loss history so far, and
    the checkpoint's ``meta`` (all empty for a fresh start)."""

    step: int
    network: StyleNetwork
    optimizer: dict | None = None
    history: list = dataclasses.field(default_factory=list)
    meta: dict = dataclasses.field(default_factory=dict)


def resume_from(
    path: str | os.PathLike, settings: TrainingSettings, network: StyleNetwork | None
) -> tuple[Start, TrainingSettings]:
    """The checkpoint's :class:`Start` (its network into ``network`` when one is given), and ``settings`` with the
    checkpoint's alpha and style_size when none was given (the loss goes on as it was, at any size). A checkpoint
    without training state, another network shape or a finished run is a one-line error."""
    entry, where = load_checkpoint(path), f"checkpoint {str(path)!r}"
    training = entry.get("training")
    if not isinstance(training, dict) or "optimizer" not in training:
        raise CheckpointError(f"{where} has no training state to resume (it holds only a network); train a new one")
    config = entry["network"]["config"]
    clash = {k: v for k, v in settings.shape.items() if float(v) != float(config.get(k, False))}
    if clash:
        raise ValueError(f"{where} holds a network with {config}, not {clash}; leave width/blocks out to resume it")
    step = int(training["step"])
    if step >= settings.steps:
        raise ValueError(f"{where} has already trained {step} steps; ask for more steps (steps > {step}) to resume")
    net = network if network is not None else StyleNetwork(**config)
    net.load_state_dict(entry["network"]["state_dict"])
    meta = dict(entry.get("meta") or {})
    if settings.alpha is None and "alpha" in meta:
        settings = dataclasses.replace(settings, alpha=float(meta["alpha"]))
    if settings.style_size is None and meta.get("style_size") is not None:
        settings = dataclasses.replace(settings, style_size=int(meta["style_size"]))
    return Start(step, net, training["optimizer"], list(training.get("history") or []), meta), settings


def check_resume(
    meta: dict, path, settings: TrainingSettings, fingerprint: str, digest_at: Callable[[int], str]
) -> None:
    """When resuming (``meta`` not empty): the same style, and the settings of :data:`FIXED_ON_RESUME`; a one-line
    error names what differs. ``fingerprint``: the artwork's (``train._fingerprint``); ``digest_at(size)``: the
    digest of the artwork prepared at ``size``, which older checkpoints recorded instead."""
    if not meta:
        return
    if "style_fingerprint" in meta:
        same = meta["style_fingerprint"] == fingerprint
    elif "style_digest" in meta and "size" in meta:  # older checkpoints: the artwork prepared at their size
        same = meta["style_digest"] == digest_at(int(meta["size"]))
    else:
        same = True
    where = f"checkpoint {str(path)!r}"
    if not same:
        raise ValueError(
            f"{where} was trained on another style ({meta.get('style')!r}); resume it with that style, or "
            "train a new network"
        )
    for name in FIXED_ON_RESUME:
        old, given = _plain(meta.get(name)), _plain(getattr(settings, name))
        if name in meta and not _same(old, given):
            raise ValueError(
                f"{where} was trained with {name}={old!r}, not {name}={given!r}; resume with the same "
                f"{name}, or train a new network (size and steps may change on resume)"
            )


def check_weights(meta: dict, path, label: str) -> None:
    """When resuming: VGG19's weights (their ``weights_info.label``) must be those the checkpoint was trained with."""
    recorded = meta.get("weights")
    if recorded is not None and recorded != label:
        raise ValueError(
            f"checkpoint {str(path)!r} was trained with VGG19 weights {recorded!r}, not {label!r}; "
            "resume it with the same weights (--weights), or train a new network"
        )


def recorded_options(path: str | os.PathLike) -> dict:
    """The training settings a checkpoint records (:data:`FIXED_ON_RESUME` and ``size``), as ``TrainingSettings``'
    fields: what ``train --resume`` continues with unless told otherwise."""
    meta = load_checkpoint(path).get("meta") or {}
    options = {name: meta[name] for name in (*FIXED_ON_RESUME, "size") if name in meta}
    return {name: tuple(v) if isinstance(v, list) else v for name, v in options.items()}


def _same(a, b) -> bool:
    """Two recorded values alike: lists as tuples, strings exactly, numbers to 1e-12.

    >>> _same([1, 2], (1, 2)), _same(1e-3, 0.001 + 1e-18), _same("warp", "difference")
    (True, True, False)
    """
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
