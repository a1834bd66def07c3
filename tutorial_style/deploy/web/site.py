"""The web page as a folder: the page's files, the networks as ONNX models, what made each, and ONNX Runtime Web.

``python -m tutorial_style web`` builds it in a temporary folder (linking the big files) and serves it;
``export NET.pt --web DIR`` builds it in DIR (copying them) for any static host. A network of several styles
(``StyleNetwork(styles=[...])``, exported with a second input ``mix``) is listed with its styles' names, and the page
shows a slider for each. Either way the folder is::

    index.html  app.js  sw.js       the page (tutorial_style/deploy/web/page/, the same files in both)
    networks.json                   the networks: name, model file, what the network is, what trained it, its styles
    models/NAME.onnx                each network (a checkpoint is exported to ONNX here, cached by its content)
    ort/                            ONNX Runtime Web's files (runtime.py)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ...files import atomic_write, cache_dir
from ...realtime.checkpoint import load_network
from ...realtime.stylize import trained_with
from ..export import INPUT, MIX, OUTPUT, ExportError, export_onnx, onnx_session, onnx_styles
from .runtime import FILES, runtime_dir

__all__ = ["PAGE", "WebNetwork", "web_networks", "build_site"]

PAGE = Path(__file__).resolve().parent / "page"
"""The page's own files: index.html, app.js (the one script), sw.js (the service worker)."""
PAGE_FILES = ("index.html", "app.js", "sw.js")

Log = Callable[[str], None]


@dataclass
class WebNetwork:
    """One network of the page: its ONNX model and what the page says about it."""

    name: str
    model: Path
    network: str  # what the network is, e.g. "width=0.5, blocks=3, separable"
    trained: str  # what trained it (trained_with), or that the file does not say
    pretrained: bool | None = None  # whether the VGG19 of its training loss had ImageNet weights; None: unknown
    precision: str = "fp32"
    extra: dict = field(default_factory=dict)
    styles: list[str] = field(default_factory=list)  # a network of several styles: their names (the input ``mix``)

    def entry(self, file: str) -> dict:
        return {
            "name": self.name,
            "file": file,
            "network": self.network,
            "trained": self.trained,
            "pretrained": self.pretrained,
            "precision": self.precision,
            "styles": list(self.styles),
            "bytes": self.model.stat().st_size,
        }


def web_networks(paths: Sequence[str | os.PathLike], *, int8: bool = False, log: Log | None = None) -> list[WebNetwork]:
    """The networks at ``paths``, checkpoints (exported to ONNX, cached by content) or ONNX models (checked with ONNX
    Runtime), of one style or several; ``int8`` adds an int8 copy of each (:mod:`~tutorial_style.deploy.quantize`;
    networks of one style only). One-line errors."""
    log = log or _stderr
    if not paths:
        raise ValueError(
            "give at least one network: a checkpoint NET.pt (`train` writes one) or an ONNX model NET.onnx"
        )
    networks, names = [], set()
    for path in map(Path, paths):
        name = _unique(path.stem, names)
        if path.suffix.lower() == ".onnx":
            networks.append(_onnx_network(path, name))
        else:
            networks.append(_exported(path, name, log))
    if int8:
        from ..quantize import quantize_int8

        several = [net.name for net in networks if net.styles]
        if several:
            raise ValueError(
                f"--int8: the int8 quantisation takes networks of one style only, not {', '.join(several)} "
                "(of several styles); leave out --int8"
            )

        for net in list(networks):
            target = cache_dir("web", "models") / f"{_digest(net.model)}-int8.onnx"
            if not target.is_file():
                log(f"quantising {net.name} to int8 (calibrated on the bundled photos) ...")
                quantize_int8(net.model, target)
            networks.append(
                WebNetwork(_unique(f"{net.name}-int8", names), target, net.network, net.trained, net.pretrained, "int8")
            )
    return networks


def build_site(
    networks: Sequence[WebNetwork],
    folder: str | os.PathLike,
    *,
    runtime: str | os.PathLike | None = None,
    link: bool = False,
    log: Log | None = None,
) -> Path:
    """Write the page, ``networks`` and ONNX Runtime Web's files (from ``runtime``, see ``runtime_dir``) into
    ``folder``.

    ``link``: symbolic links to the models and the runtime instead of copies (for the local server: nothing big is
    copied). The folder may exist; the files the page needs are replaced, others are left alone.
    """
    folder = Path(folder)
    ort = runtime_dir(runtime, log=log or _stderr)
    (folder / "models").mkdir(parents=True, exist_ok=True)
    (folder / "ort").mkdir(exist_ok=True)
    for name in PAGE_FILES:
        shutil.copyfile(PAGE / name, folder / name)
    for name in FILES:
        _place(ort / name, folder / "ort" / name, link)
    entries = []
    for net in networks:
        file = f"models/{net.name}.onnx"
        _place(net.model, folder / file, link)
        entries.append(net.entry(file))
    with atomic_write(folder / "networks.json", "w") as f:
        json.dump({"networks": entries}, f, indent=1)
    return folder


def _exported(path: Path, name: str, log: Log) -> WebNetwork:
    """A checkpoint as a WebNetwork: exported to ONNX once, then taken from the cache (keyed by the file's content)."""
    import torch

    network = load_network(path)  # CheckpointError (one line) for anything that is not a network checkpoint
    meta = getattr(network, "meta", {})
    # "-names": exports that store a network's style names (export.STYLES_KEY); earlier cached ones do not
    target = cache_dir("web", "models") / f"{_digest(path)}-torch{torch.__version__.split('+')[0]}-names.onnx"
    if not target.is_file():
        log(f"exporting {path} to ONNX (once; kept in the cache), about 20 s ...")
        export_onnx(network, target)
    pretrained, styles = bool(meta.get("pretrained", False)), list(network.styles or [])
    return WebNetwork(name, target, network.extra_repr(), trained_with(meta), pretrained, styles=styles)


def _onnx_network(path: Path, name: str) -> WebNetwork:
    """An ONNX model as a WebNetwork, after checking that ONNX Runtime loads it and that it takes images (and, for a
    network of several styles, their mix) and gives images. The style names are the model's metadata (export.py)."""
    if not path.is_file():
        raise ExportError(
            f"ONNX model {str(path)!r} does not exist; "
            "give a network's .onnx (`export NET.pt --onnx NET.onnx`) or its .pt"
        )
    session = onnx_session(path)
    inputs, outputs = session.get_inputs(), session.get_outputs()
    names = [i.name for i in inputs]
    mix = inputs[1] if names == [INPUT, MIX] else None
    count = mix.shape[1] if mix is not None and len(mix.shape) == 2 else None
    if (
        names not in ([INPUT], [INPUT, MIX])
        or len(inputs[0].shape) != 4
        or (mix is not None and not _count(count))
        or not outputs
    ):
        found = ", ".join(f"{i.name} {i.shape}" for i in inputs)
        raise ExportError(
            f"{str(path)!r} is not a style network exported by this tutorial (inputs: {found}; expected {INPUT!r} "
            f"(batch, 3, height, width), or {INPUT!r} and {MIX!r} (batch, styles) for a network of several styles)"
        )
    if outputs[0].name != OUTPUT:
        raise ExportError(
            f"{str(path)!r} is not a style network exported by this tutorial "
            f"(output {outputs[0].name!r}, expected {OUTPUT!r})"
        )
    styles = []
    if mix is not None:
        stored = onnx_styles(session)
        styles = stored if stored and len(stored) == count else [f"style {i + 1}" for i in range(count)]
    return WebNetwork(
        name,
        path,
        "an ONNX model" + (f" of {len(styles)} styles" if styles else ""),
        "not recorded (an ONNX file; give the checkpoint .pt to show what trained it)",
        styles=styles,
    )


def _count(n) -> bool:
    """Whether an ONNX dimension is a fixed number of styles (an int from 1 up; a named dimension is not)."""
    return isinstance(n, int) and n >= 1


def _place(source: Path, target: Path, link: bool) -> None:
    if target.is_symlink() or target.exists():
        target.unlink()
    if link:
        target.symlink_to(source.resolve())
    else:
        shutil.copyfile(source, target)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:20]


def _unique(name: str, taken: set[str]) -> str:
    """A file-safe name, not yet taken: ``mosaic``, then ``mosaic-2`` ..."""
    base = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".") or "network"
    candidate, i = base, 1
    while candidate in taken:
        i += 1
        candidate = f"{base}-{i}"
    taken.add(candidate)
    return candidate


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
