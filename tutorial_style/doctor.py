"""``python -m tutorial_style doctor``: is this machine ready for the tutorial? One line per check, with the fix.

A teacher runs it at the start of a workshop; a learner runs it when something looks wrong. Nothing here
downloads anything: the network is only probed (a few seconds at most) when the weights are missing.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
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
    checks += [_torch_build(), _device(), _weights(probe_network), _caches(), _widgets_frontend()]
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


CPU_INSTALL = "pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu"


def _torch_build() -> Check:
    """Which PyTorch build is installed (CPU-only, CUDA, ROCm; Apple's MPS) and whether it can use a GPU here.

    The default Linux wheel carries the CUDA libraries (several GB), useless without an NVIDIA GPU; the
    CPU-only build is the light install for such a machine. Advice only: any build runs the tutorial.
    """
    import torch

    version = torch.__version__
    gpu_build = (
        f"CUDA {torch.version.cuda}"
        if torch.version.cuda
        else f"ROCm {torch.version.hip}"
        if torch.version.hip
        else None
    )
    if gpu_build is not None:
        if torch.cuda.is_available():
            return Check(
                "PyTorch build",
                True,
                f"{gpu_build} build (torch {version}), using the GPU: {torch.cuda.get_device_name(0)}",
            )
        return Check(
            "PyTorch build",
            False,
            f"{gpu_build} build (torch {version}), but PyTorch finds no usable GPU here: "
            "its GPU libraries (several GB) go unused",
            f"without a GPU the CPU-only build is enough (docs/install.md, 'A light install'): {CPU_INSTALL}",
            essential=False,
        )
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_built():
        usable = "using the Apple GPU (MPS)" if mps.is_available() else "but the Apple GPU (MPS) is not available here"
        return Check("PyTorch build", True, f"build with Apple's MPS (torch {version}), {usable}", essential=False)
    if _nvidia_driver():
        return Check(
            "PyTorch build",
            False,
            f"CPU-only build (torch {version}), but this machine has an NVIDIA GPU it cannot use",
            "install the default build, which can: pip install --force-reinstall torch torchvision",
            essential=False,
        )
    return Check(
        "PyTorch build", True, f"CPU-only build (torch {version}): no GPU support, none needed here", essential=False
    )


def _nvidia_driver() -> bool:
    """Does this machine have an NVIDIA driver (so a CUDA build could use its GPU)?"""
    return shutil.which("nvidia-smi") is not None or os.path.exists("/proc/driver/nvidia/version")


def _device() -> Check:
    import torch

    from .machine import PROFILE_VAR, choose_profile

    try:
        profile, reason, device = choose_profile()
    except ValueError as e:  # an unknown TUTORIAL_STYLE_PROFILE: every notebook would stop at its first cell
        return Check("device", False, str(e), f"set {PROFILE_VAR} to quick, laptop or paper, or unset it")
    if device.type == "cuda":
        found = f"CUDA GPU: {torch.cuda.get_device_name(device)}"
    elif device.type == "mps":
        found = "Apple GPU (MPS)"
    else:
        found = f"CPU only ({os.cpu_count()} cores)"
    return Check(
        "device", True, f"{found}; the notebooks take the {profile} profile, because {reason}", essential=False
    )


def _weights(probe_network: bool) -> Check:
    from .weights import ENV_VAR, WeightsError, imagenet_weights_path, load_weights, server_reachable

    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen and chosen not in ("auto", "imagenet"):
        if chosen == "random":
            return Check(
                "VGG19 weights",
                False,
                f"{ENV_VAR}=random: figures will show an UNTRAINED network",
                f"unset {ENV_VAR} and run `python -m tutorial_style fetch-weights`",
            )
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
        "to a slim file made by `fetch-weights --slim FILE`. To try the code on a machine that cannot download them, "
        f"ask for random weights on purpose: {ENV_VAR}=random (or --weights random); nothing is then stylised"
    )
    if probe_network and server_reachable():
        return Check(
            "VGG19 weights",
            False,
            "ImageNet weights not cached yet; the download server answers (548 MB on first use)",
            fix,
        )
    return Check(
        "VGG19 weights",
        False,
        f"ImageNet weights MISSING: not in {path} and no download possible; notebooks would use RANDOM weights",
        fix,
    )


def _caches() -> Check:
    from .files import cache_dir

    folder = cache_dir("tradeoff")
    entries = [p for p in folder.glob("*") if p.is_file() and not p.name.startswith(".")]
    if entries:
        return Check("precomputed caches", True, f"{len(entries)} trade-off grid file(s) in {folder}", essential=False)
    return Check(
        "precomputed caches",
        False,
        f"none in {folder}: notebook 06 will compute its grid on first open",
        "for the paper's grid, run `python -m tutorial_style precompute` before the workshop on a machine with a GPU "
        "(hours on a CPU) and copy the cache folder; without it, a laptop computes a smaller grid in minutes",
        essential=False,
    )


def _widgets_frontend() -> Check:
    try:
        version = importlib.metadata.version("jupyterlab_widgets")
    except importlib.metadata.PackageNotFoundError:
        return Check(
            "JupyterLab widgets",
            False,
            "jupyterlab_widgets is not installed: sliders and buttons will not show",
            "pip install -U ipywidgets jupyterlab_widgets, then restart JupyterLab",
        )
    folders = [Path(p) / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager" for p in _jupyter_data_dirs()]
    if any(f.is_dir() for f in folders):
        return Check("JupyterLab widgets", True, f"front-end extension installed (jupyterlab_widgets {version})")
    return Check(
        "JupyterLab widgets",
        False,
        "jupyterlab_widgets is installed but JupyterLab cannot see its extension",
        "pip install --force-reinstall jupyterlab_widgets, then restart JupyterLab",
    )


def _jupyter_data_dirs() -> list[str]:
    try:
        from jupyter_core.paths import jupyter_path

        return jupyter_path()
    except ImportError:
        return [os.path.join(sys.prefix, "share", "jupyter")]
