"""Which profile the notebooks take on this machine (quick, laptop or paper), and why: the choice, in one place.

The notebooks' settings per profile are notebook support (``notebook/profiles.py``); which profile a machine gets
is asked by the notebooks, by ``doctor.py`` (which reports it) and by the trade-off grid (quick mode), so it lives
here, below all three: this module imports only torch and the device choice of ``vgg.py``.

:func:`choose_profile` picks one: the name given, else quick when ``TUTORIAL_STYLE_QUICK`` is set, else
``TUTORIAL_STYLE_PROFILE`` (quick, laptop or paper), else paper on a GPU and laptop on a CPU.
"""

from __future__ import annotations

import os

import torch

from .vgg import default_device

__all__ = ["PROFILES", "PROFILE_VAR", "QUICK_VAR", "choose_profile", "quick_mode", "device_text"]

PROFILES = ("quick", "laptop", "paper")
PROFILE_VAR = "TUTORIAL_STYLE_PROFILE"
QUICK_VAR = "TUTORIAL_STYLE_QUICK"


def quick_mode() -> bool:
    """Whether ``$TUTORIAL_STYLE_QUICK`` asks for quick mode (set, and not "0"): what the tests use."""
    return os.environ.get(QUICK_VAR, "").strip() not in ("", "0")


def choose_profile(
    name: str | None = None, *, device: str | torch.device | None = None
) -> tuple[str, str, torch.device]:
    """``(profile, why, device)`` for this machine: ``name`` if given, else quick when ``$TUTORIAL_STYLE_QUICK`` is set,
    else ``$TUTORIAL_STYLE_PROFILE``, else paper on a GPU and laptop on a CPU. ``device``: where the notebooks run
    (default ``default_device()``, the fastest here). An unknown name is a one-line ValueError saying where it came
    from.

    >>> choose_profile("quick", device="cpu")[:2]
    ('quick', 'it was chosen in this notebook: profiles.choose("quick")')
    """
    device = torch.device(device) if device is not None else default_device()
    quick = os.environ.get(QUICK_VAR, "").strip()
    chosen = os.environ.get(PROFILE_VAR, "").strip()
    if name is not None:
        reason = f'it was chosen in this notebook: profiles.choose("{name}")'
        where = "profiles.choose()"
    elif quick_mode():  # the tests' switch wins over a profile left in the environment
        name, where = "quick", QUICK_VAR
        reason = f"{QUICK_VAR}={quick} is set (what the tests use)" + (
            f"; it wins over {PROFILE_VAR}={chosen}" if chosen else ""
        )
    elif chosen:
        name, where, reason = chosen, PROFILE_VAR, f"{PROFILE_VAR}={chosen} is set"
    elif device.type in ("cuda", "mps"):
        name, where, reason = "paper", "", f"this machine has a GPU ({device_text(device)})"
    else:
        name, where, reason = "laptop", "", "this machine has no GPU (PyTorch sees only the CPU)"
    if name not in PROFILES:
        raise ValueError(f"{where}: {name!r} is not a profile; use quick, laptop or paper")
    return name, reason, device


def device_text(device: torch.device) -> str:
    """The device in words: 'CPU, 2 threads', 'CUDA GPU: NVIDIA H100', 'Apple GPU (MPS)'."""
    if device.type == "cpu":
        return f"CPU, {torch.get_num_threads()} threads"
    if device.type == "cuda" and torch.cuda.is_available():
        return f"CUDA GPU: {torch.cuda.get_device_name(device)}"
    return {"cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}.get(device.type, str(device))
