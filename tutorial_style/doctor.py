"""``python -m tutorial_style doctor``: is this machine ready for the tutorial? One line per check, with the fix.

A teacher runs it at the start of a workshop; a learner runs it when something looks wrong. Nothing here
downloads anything: the network is only probed (a few seconds at most) when the weights are missing.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Check", "run_checks", "report"]

# (distribution, lowest version the tutorial is tested with); keep in step with pyproject.toml
REQUIREMENTS = (("torch", "2.2"), ("torchvision", "0.17"), ("ipywidgets", "8.0"), ("jupyterlab", "4.0"))


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = True  # a failed essential check makes `doctor` exit with 1


def run_checks(probe_network: bool = True) -> list[Check]:
    """Every check, in the order a teacher would fix them."""
    checks = [_python()]
    checks += [_package(name, lowest) for name, lowest in REQUIREMENTS]
    checks += [_device(), _weights(probe_network), _caches(), _widgets_frontend()]
    return checks


def report(checks: list[Check], color: bool | None = None) -> str:
    """The checklist as text: a green ✔ or red ✘ per line, the fix under each failure."""
    color = sys.stdout.isatty() if color is None else color
    green, red, reset = ("\033[32m", "\033[31m", "\033[0m") if color else ("", "", "")
    lines = []
    for c in checks:
        mark = f"{green}✔{reset}" if c.ok else f"{red}✘{reset}"
        lines.append(f"{mark} {c.name:<22} {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"  {'':<22} fix: {c.fix}")
    return "\n".join(lines)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("+")[0].split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info >= (3, 10)
    return Check("Python", ok, version, "install Python 3.10 or newer")


def _package(name: str, lowest: str) -> Check:
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Check(name, False, "not installed", 'pip install -e ".[dev]" in the tutorial folder')
    ok = _version_tuple(version) >= _version_tuple(lowest)
    return Check(name, ok, version, f"pip install -U '{name}>={lowest}'")


def _device() -> Check:
    from .vgg import default_device

    device = default_device()
    if device.type == "cuda":
        import torch

        return Check("device", True, f"CUDA GPU: {torch.cuda.get_device_name(0)}")
    if device.type == "mps":
        return Check("device", True, "Apple GPU (MPS)")
    return Check("device", True, f"CPU only ({os.cpu_count()} cores): quick mode and small images are best", essential=False)


def _weights(probe_network: bool) -> Check:
    from .weights import ENV_VAR, WeightsError, imagenet_weights_path, load_weights, server_reachable

    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen and chosen not in ("auto", "imagenet"):
        if chosen == "random":
            return Check("VGG19 weights", False, f"{ENV_VAR}=random: figures will show an UNTRAINED network",
                         f"unset {ENV_VAR} and run `python -m tutorial_style fetch-weights`")  # fmt: skip
        try:
            _, info = load_weights(chosen)
            return Check("VGG19 weights", True, f"{ENV_VAR} -> {info.label} ({chosen})")
        except WeightsError as e:
            return Check("VGG19 weights", False, f"{ENV_VAR}={chosen} is unusable", str(e))
    path = imagenet_weights_path()
    if path.is_file():
        return Check("VGG19 weights", True, f"ImageNet weights in the torch hub cache ({path})")
    fix = (
        f"run `python -m tutorial_style fetch-weights`, or copy vgg19-dcbb9e9d.pth to {path}, or set {ENV_VAR} "
        "to a slim file made by `fetch-weights --slim FILE`"
    )
    if probe_network and server_reachable():
        return Check("VGG19 weights", False, "ImageNet weights not cached yet; the download server answers (548 MB on first use)", fix)
    return Check("VGG19 weights", False, f"ImageNet weights MISSING: not in {path} and no download possible; notebooks would use RANDOM weights", fix)


def _caches() -> Check:
    from .files import cache_dir

    folder = cache_dir("tradeoff")
    entries = [p for p in folder.glob("*") if p.is_file() and not p.name.startswith(".")]
    if entries:
        return Check("precomputed caches", True, f"{len(entries)} trade-off grid file(s) in {folder}", essential=False)
    return Check("precomputed caches", False, f"none in {folder}: notebook 06 will compute its grid on first open",
                 "run `python -m tutorial_style precompute` before the workshop", essential=False)  # fmt: skip


def _widgets_frontend() -> Check:
    try:
        version = importlib.metadata.version("jupyterlab_widgets")
    except importlib.metadata.PackageNotFoundError:
        return Check("JupyterLab widgets", False, "jupyterlab_widgets is not installed: sliders and buttons will not show",
                     "pip install -U ipywidgets jupyterlab_widgets, then restart JupyterLab")  # fmt: skip
    folders = [Path(p) / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager" for p in _jupyter_data_dirs()]
    if any(f.is_dir() for f in folders):
        return Check("JupyterLab widgets", True, f"front-end extension installed (jupyterlab_widgets {version})")
    return Check("JupyterLab widgets", False, "jupyterlab_widgets is installed but JupyterLab cannot see its extension",
                 "pip install --force-reinstall jupyterlab_widgets, then restart JupyterLab")  # fmt: skip


def _jupyter_data_dirs() -> list[str]:
    try:
        from jupyter_core.paths import jupyter_path

        return jupyter_path()
    except ImportError:
        return [os.path.join(sys.prefix, "share", "jupyter")]
