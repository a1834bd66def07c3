"""The optional packages of the real-time tools: imported when a tool needs them, so ``pip install tutorial_style``
works without them, and a missing one is a one-line error saying what to install.

``pip install -e ".[realtime]"`` in the tutorial's folder (or ``pip install "tutorial_style[realtime]"`` where the
package comes from an index) installs them all: PyAV (``av``) for video, ``onnx``, ``onnxscript`` and ``onnxruntime``
for the ONNX export. The extra ``video`` adds OpenCV (``opencv-python-headless``), whose optical flow measures a
video's flicker (``flicker.py``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingPackageError", "require", "EXTRAS", "install_hint", "ALL_TOOLS"]

EXTRAS = {"realtime": "real-time tools", "video": "video tools (flicker measured)"}
"""The optional extras of pyproject.toml that bring these packages, and what each is for."""


def install_hint(extra: str) -> str:
    """How to install an extra: from a checkout (the first form), or from an index (the second).

    >>> print(install_hint("video"))
    pip install -e ".[video]" in the tutorial's folder, or pip install "tutorial_style[video]"
    """
    return f'pip install -e ".[{extra}]" in the tutorial\'s folder, or pip install "tutorial_style[{extra}]"'


ALL_TOOLS = install_hint("realtime")
"""How to install every optional package of the real-time tools."""


class MissingPackageError(ValueError):
    """An optional package that a real-time tool needs is not installed. (A ValueError, as the package's other errors
    that the user fixes: the command line prints it as one line.)"""


def require(module: str, purpose: str, pip: str | None = None, extra: str = "realtime") -> ModuleType:
    """``import module``, or :class:`MissingPackageError` saying that ``purpose`` needs it and what to pip install.

    >>> require("math", "counting").sqrt(4)
    2.0
    >>> require("no_such_module_here", "flying", pip="wings")
    Traceback (most recent call last):
    ...
    tutorial_style.optional.MissingPackageError: flying needs the package 'wings', which is not installed: pip install wings (or, for all the real-time tools, pip install -e ".[realtime]" in the tutorial's folder, or pip install "tutorial_style[realtime]")
    """  # noqa: E501
    name = pip or module
    broken = (
        f"{purpose}: the package {name!r} is installed but cannot be imported (%s); "
        f"reinstall it: pip install --force-reinstall {name}"
    )
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is not None and module.split(".")[0] != e.name.split(".")[0]:  # it lacks a package of its own
            raise MissingPackageError(broken % e) from e
        raise MissingPackageError(
            f"{purpose} needs the package {name!r}, which is not installed: pip install {name} "
            f"(or, for all the {EXTRAS[extra]}, {install_hint(extra)})"
        ) from e
    except ImportError as e:  # installed but broken (a missing shared library, a wrong build)
        raise MissingPackageError(broken % e) from e
