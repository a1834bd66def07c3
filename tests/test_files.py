"""Files (files.py): atomic outputs, output paths that cannot be written named with what to do, and one check of
every input file (weights, checkpoints, videos). From issue 5's reliability work and issue 21's review."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from odd_files import leftovers
from PIL import Image

import tutorial_style as ts
from tutorial_style import WeightsError, load_image, load_weights, save_image
from tutorial_style.files import OutputPathError, atomic_write
from tutorial_style.images import check_image_path
from tutorial_style.realtime import CheckpointError, StyleNetwork, load_network, stylize_video
from tutorial_style.video import VideoError

# --- atomic outputs (issue 5) -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()])
def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, failure):
    path = tmp_path / "result.png"
    save_image(torch.zeros(1, 3, 8, 8), path)
    before = path.read_bytes()

    def save_half_then_fail(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG\r\n\x1a\n half an image")
        raise failure

    monkeypatch.setattr(Image.Image, "save", save_half_then_fail)
    with pytest.raises(type(failure)):
        save_image(torch.ones(1, 3, 8, 8), path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert load_image(path).max() == 0  # still the old, black image


def test_outputs_get_ordinary_permissions(tmp_path):
    path = save_image(torch.rand(1, 3, 8, 8), tmp_path / "out.png")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_missing_parent_folders_are_created(tmp_path):
    path = save_image(torch.rand(1, 3, 8, 8), tmp_path / "a" / "b" / "c" / "out.jpg")
    assert load_image(path).shape == (1, 3, 8, 8)


def test_a_parent_that_cannot_be_created_is_named(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    for target in (blocker / "out.png", blocker / "deeper" / "out.png"):
        with pytest.raises(OutputPathError) as error:
            save_image(torch.rand(1, 3, 8, 8), target)
        assert f"{str(blocker)!r} is a file, not a folder" in str(error.value)
        assert str(target.parent) in str(error.value)
    with pytest.raises(OutputPathError, match="is a folder"):
        save_image(torch.rand(1, 3, 8, 8), tmp_path)
    with pytest.raises(ValueError, match="unknown image file type '.svg'"):
        check_image_path(tmp_path / "out.svg")
    assert leftovers(tmp_path) == []


def test_a_read_only_folder_is_named(tmp_path, monkeypatch):
    """The folder exists but the system refuses to create a file in it. Root may write anywhere (and CI runs as
    root), so the refusal comes from the system call itself, as the kernel gives it to other users: EACCES."""
    import errno

    folder = tmp_path / "read-only"
    folder.mkdir()
    real_open = os.open

    def refuse_in_folder(path, *args, **kwargs):
        if Path(path).parent == folder:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_in_folder)
    with pytest.raises(
        OutputPathError, match=f"cannot write to the folder {str(folder)!r}: {os.strerror(errno.EACCES)}"
    ):
        check_image_path(folder / "out.png")
    with pytest.raises(OutputPathError, match="cannot write to the folder"):
        save_image(torch.rand(1, 3, 8, 8), folder / "out.png")
    monkeypatch.undo()
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's /sys, where no one may create a file")
def test_a_folder_no_one_may_write_to_is_named():
    """The same without a stand-in: sysfs refuses to create files, even for root."""
    with pytest.raises(OutputPathError, match="cannot write to the folder '/sys'"):
        check_image_path("/sys/out.png")


def test_atomic_write_of_text_cleans_up_after_an_exception(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("new but unfinished")
            raise RuntimeError("boom")
    assert path.read_text() == "old" and leftovers(tmp_path) == []


# --- one check of input files (weights, checkpoints, videos), and an output folder (issue 21) -------------------------


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
    "video": (
        lambda path: stylize_video(StyleNetwork(width=0.25, blocks=1), path, path.parent / "out.mp4", progress=False),
        VideoError,
    ),
}


@pytest.mark.parametrize(
    "kind, why", [("missing", "no such file"), ("folder", "is a folder, not a file"), ("empty", "is empty (0 bytes)")]
)
@pytest.mark.parametrize("what", list(READERS))
def test_weights_checkpoints_and_videos_are_checked_alike(tmp_path, what, kind, why):
    """Found in issue 21's review (a new user's first hour)."""
    if what == "video":
        pytest.importorskip("av")
    path = _bad_input(tmp_path, kind)
    read, error = READERS[what]
    with pytest.raises(error) as raised:
        read(path)
    assert str(raised.value).startswith(f"{what} {str(path)!r}: {why}"), str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_output_folder_error_names_the_folder_and_a_full_one_says_what_to_do(tmp_path, monkeypatch):
    """Found in issue 21's review (a new user's first hour)."""
    import errno
    import tempfile

    from tutorial_style.files import OutputPathError
    from tutorial_style.realtime import stylize_folder

    photos = tmp_path / "photos"
    photos.mkdir()
    ts.save_image(ts.load_image("coffee", size=16), photos / "a.png")
    (tmp_path / "file").write_text("a file where a folder should be")
    with pytest.raises(OutputPathError) as raised:
        stylize_folder(StyleNetwork(width=0.25, blocks=1), photos, tmp_path / "file" / "out", progress=False)
    assert ".probe" not in str(raised.value) and "'" + str(tmp_path / "file") + "' is a file" in str(raised.value)

    def refused(*args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(OutputPathError) as raised:
        stylize_folder(StyleNetwork(width=0.25, blocks=1), photos, tmp_path / "ro", progress=False)
    message = str(raised.value)
    assert (
        message.startswith(f"cannot write to the folder {str(tmp_path / 'ro')!r}: Operation not permitted")
        and ".probe" not in message
    )
    assert "Choose a folder you can write to" in message
