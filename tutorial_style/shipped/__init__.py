"""Style networks that ship with the package: trained here much longer than a learner would, found by name.

Each network is two files in this folder: ``NAME.pt``, a checkpoint as ``train`` writes one (without the optimiser's
state), and ``NAME.json``, its provenance: the style images, the command that trained it, its steps and time, the
machine, and the loss network with its licence. They were trained with **ImageNet VGG16 convolutions** as the loss
network (Johnson et al. 2016 trained theirs with VGG16 too), never with VGG19: the VGG16 weights are Simonyan &
Zisserman's, CC BY 4.0, and every place that shows these networks says "trained with ImageNet VGG16 features".
``benchmarks/ship.py`` trains and writes them.

``python -m tutorial_style networks`` lists them; ``apply NAME PHOTO``, ``stylize PHOTO --network NAME`` and ``web``
(with no network given) take them by name, because :func:`~tutorial_style.realtime.load_network` looks a name up
here when no file of that name exists (:func:`network_file`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FOLDER", "LABEL", "ShippedNetwork", "shipped_networks", "shipped_network", "network_file"]

FOLDER = Path(__file__).resolve().parent
LABEL = "trained with ImageNet VGG16 features"
"""What every figure, list and page that shows a shipped network says of its loss network."""


@dataclass(frozen=True)
class ShippedNetwork:
    """One network of this folder: its name, its checkpoint and its provenance (``NAME.json``)."""

    name: str
    path: Path
    provenance: dict

    @property
    def styles(self) -> list[str]:
        return list(self.provenance.get("styles", []))

    def describe(self) -> str:
        """A few lines: the name, the styles, and what trained it, as ``networks`` prints them."""
        p = self.provenance
        lines = [
            f"{self.name}: {', '.join(self.styles)} ({LABEL})",
            f"  network: {p.get('network', 'unknown')}, {self.path.stat().st_size / 1e6:.2f} MB",
            f"  trained: {p.get('steps', '?')} steps, {p.get('cpu minutes', '?')} CPU minutes, {p.get('machine', '?')}",
            f"  command: {p.get('command', '?')}",
            f"  loss network: {p.get('loss network', '?')}; licence: {p.get('licence', '?')}",
        ]
        return "\n".join(lines)


def shipped_networks() -> list[ShippedNetwork]:
    """Every network of this folder (a ``.pt`` with its ``.json``), by name."""
    found = []
    for pt in sorted(FOLDER.glob("*.pt")):
        info = pt.with_suffix(".json")
        if info.is_file():
            found.append(ShippedNetwork(pt.stem, pt, json.loads(info.read_text(encoding="utf-8"))))
    return found


def shipped_network(name: str) -> ShippedNetwork:
    """The shipped network called ``name``; a one-line error lists the names there are."""
    for net in shipped_networks():
        if net.name == name:
            return net
    names = ", ".join(n.name for n in shipped_networks()) or "none in this installation"
    raise ValueError(f"no network file or shipped network named {name!r}; the shipped networks are: {names}")


def network_file(spec: str | os.PathLike) -> Path:
    """``spec`` as a file: the file itself when it exists (or looks like a path), else the shipped network of that
    name. A name that is neither is a one-line error naming the shipped networks."""
    path = Path(spec).expanduser()
    looks_like_a_path = path.suffix or os.sep in str(spec) or "/" in str(spec)
    if path.exists() or looks_like_a_path:
        return path
    return shipped_network(str(spec)).path
