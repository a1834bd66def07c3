"""The command line: ``python -m tutorial_style COMMAND``, one module per kind of command, each parser beside its
handler.

``paper.py``: ``stylize`` and ``precompute``, the paper's optimisation. ``network.py``: ``train``, ``apply``, ``export``
and ``web``, a trained style network. ``video.py``: ``video-stats``. ``machine.py``: ``fetch-weights``, ``images`` and
``doctor``. Errors are one line on stderr and a non-zero exit code, never a traceback. Ctrl-C during ``stylize`` saves
the best image so far and exits with 130; during ``apply`` it keeps the files already finished and no half-written one
(a video is written whole or not at all).
"""

from __future__ import annotations

import argparse
import sys
import warnings

from . import machine, network, paper, video
from .common import EXIT_ERROR, EXIT_INTERRUPTED

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tutorial_style",
        description="Neural style transfer as in Gatys, Ecker & Bethge (CVPR 2016), and tools for the tutorial.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (paper, machine, network, video):
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as e:  # our errors (ImageError, WeightsError, ...) are ValueErrors
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line, like errors (no source line); random weights are already announced by weights.py."""
    if category.__name__ != "RandomWeightsWarning":
        print(f"warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
