"""What every command shares: the exit codes, the weights and device options, the options given."""

from __future__ import annotations

import argparse

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def add_weights_and_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default="auto", help="auto (default), imagenet, random, or a weights file")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")


def given(args: argparse.Namespace, *names: str) -> dict:
    """The options among ``names`` that were given on the command line (their default is None)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}
