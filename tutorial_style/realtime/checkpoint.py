"""A trained style network on disk: its weights and what made it, written atomically, read without running code.

A checkpoint is one ``torch.save`` of a dict of plain values and tensors:

``"format"``
    :data:`FORMAT`, so that a foreign file is recognised;
``"network"``
    the :class:`~tutorial_style.realtime.network.StyleNetwork`'s ``config`` (width, blocks) and ``state_dict``;
``"meta"``
    what made it: the style image's digest and name, alpha, beta, the layers, the weights label, size, steps, ...;
``"training"`` (optional)
    what ``--resume`` needs: the step reached, the optimiser's state, the loss history.

It is read with ``torch.load(..., weights_only=True)``, so a file whose pickle would call a function is refused; a
damaged, foreign or code-carrying file raises a one-line :class:`CheckpointError`. A checkpoint written when the
convolutions before each instance normalisation still had their (no-op) biases is read as today's network: those
biases, and their slots in the optimiser's state, are dropped (:func:`_without_no_op_biases`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..files import atomic_write, check_input_file, load_tensors
from ..shipped import network_file
from .network import StyleNetwork

__all__ = ["FORMAT", "CheckpointError", "save_checkpoint", "load_checkpoint", "load_network"]

FORMAT = "tutorial_style.StyleNetwork/1"

_FIX = "Train a network with `python -m tutorial_style train STYLE -o net.pt`, or pass the checkpoint it wrote."


class CheckpointError(ValueError):
    """A style-network checkpoint cannot be used."""


def save_checkpoint(
    path: str | os.PathLike, network: StyleNetwork, meta: dict[str, Any], training: dict[str, Any] | None = None
) -> Path:
    """Write ``network`` (its config and weights, on the CPU), ``meta`` and optionally ``training`` to ``path``,
    atomically: an interrupted write leaves the previous checkpoint in place."""
    state = {k: v.detach().to("cpu", copy=True) for k, v in _unwrap(network).state_dict().items()}
    entry = {
        "format": FORMAT,
        "network": {"config": dict(_unwrap(network).config), "state_dict": state},
        "meta": dict(meta),
    }
    if training is not None:
        entry["training"] = training
    with atomic_write(path) as f:
        torch.save(entry, f)
    return Path(path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint at ``path`` as saved (see the module's docstring), checked; :class:`CheckpointError` if not."""
    path = check_input_file(path, "checkpoint", CheckpointError, _FIX)
    entry = load_tensors(path, CheckpointError, "checkpoint", _FIX)
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        found = entry.get("format") if isinstance(entry, dict) else type(entry).__name__
        raise CheckpointError(
            f"{str(path)!r} is not a style-network checkpoint of this tutorial "
            f"(format {found!r}, expected {FORMAT!r}). {_FIX}"
        )
    network = entry.get("network")
    if not (
        isinstance(network, dict)
        and isinstance(network.get("config"), dict)
        and isinstance(network.get("state_dict"), dict)
    ):
        raise CheckpointError(f"checkpoint {str(path)!r} is damaged: it has no network config and weights. {_FIX}")
    return _without_no_op_biases(entry)


def _without_no_op_biases(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` with the biases today's network no longer has dropped: those of the convolutions before an instance
    normalisation, which subtracts them again (they never changed an output). Their slots in the optimiser's state
    go too, so that an old checkpoint also resumes. The network's parameters are its state dict's entries, in order
    (it has no buffers), which is how the optimiser's state numbers them."""
    state = entry["network"]["state_dict"]
    try:
        wanted = StyleNetwork(**entry["network"]["config"]).state_dict()
    except (TypeError, ValueError):
        return entry  # a bad config: load_network says so
    extra = {
        k for k in state if k not in wanted and k.endswith(".bias") and k.removesuffix(".bias") + ".weight" in wanted
    }
    if not extra:
        return entry
    keys = list(state)
    entry["network"]["state_dict"] = {k: v for k, v in state.items() if k not in extra}
    optimizer = (entry.get("training") or {}).get("optimizer")
    groups = optimizer.get("param_groups") if isinstance(optimizer, dict) else None
    if isinstance(groups, list) and len(groups) == 1 and len(groups[0].get("params", ())) == len(keys):
        kept = [index for index, key in zip(groups[0]["params"], keys) if key not in extra]
        optimizer["state"] = {
            new: optimizer["state"][old] for new, old in enumerate(kept) if old in optimizer.get("state", {})
        }
        groups[0]["params"] = list(range(len(kept)))
    return entry


def load_network(path: str | os.PathLike, device: str | torch.device | None = None) -> StyleNetwork:
    """The :class:`StyleNetwork` saved at ``path``, in eval mode, on ``device`` (default the CPU).

    Its ``meta`` attribute holds what made it (style, alpha, beta, layers, weights label, size, steps). ``path`` may
    also name a network that ships with the package (``python -m tutorial_style networks``; ``shipped/``).
    """
    path = network_file(path)
    entry = load_checkpoint(path)
    config, state = entry["network"]["config"], entry["network"]["state_dict"]
    try:
        network = StyleNetwork(**config)
        network.load_state_dict(state)
    except (TypeError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"checkpoint {str(path)!r} does not match its network ({first}). {_FIX}") from None
    network.meta = dict(entry.get("meta") or {})
    return network.to(device or "cpu").eval()


def _unwrap(network: torch.nn.Module) -> StyleNetwork:
    """The network inside a DistributedDataParallel (or DataParallel) wrapper, or the network itself."""
    return getattr(network, "module", network)
