"""The defects a review and a new user's first hour found (issue 21): each test here failed before its fix.

Random weights and tiny sizes throughout, as everywhere in the tests.
"""

from __future__ import annotations

import pytest
import torch

import tutorial_style as ts
from tutorial_style.realtime import CheckpointError, StyleNetwork, VideoError, load_network, stylize_video
from tutorial_style.weights import WeightsError, load_weights


# --- One check of input files (weights, checkpoints, videos) --------------------------------------------------------


def _bad_input(tmp_path, kind: str):
    if kind == "missing":
        return tmp_path / "missing.bin"
    if kind == "folder":
        (tmp_path / "folder.bin").mkdir()
        return tmp_path / "folder.bin"
    (tmp_path / "empty.bin").write_bytes(b"")
    return tmp_path / "empty.bin"


READERS = {
    "weights file": (lambda path: load_weights(str(path)), WeightsError),
    "checkpoint": (lambda path: load_network(path), CheckpointError),
    "video": (lambda path: stylize_video(StyleNetwork(width=0.25, blocks=1), path, path.parent / "out.mp4", progress=False), VideoError),
}


@pytest.mark.parametrize("kind, why", [("missing", "no such file"), ("folder", "is a folder, not a file"), ("empty", "is empty (0 bytes)")])
@pytest.mark.parametrize("what", list(READERS))
def test_weights_checkpoints_and_videos_are_checked_alike(tmp_path, what, kind, why):
    if what == "video":
        pytest.importorskip("av")
    path = _bad_input(tmp_path, kind)
    read, error = READERS[what]
    with pytest.raises(error) as raised:
        read(path)
    assert str(raised.value).startswith(f"{what} {str(path)!r}: {why}"), str(raised.value)
    assert "\n" not in str(raised.value)
