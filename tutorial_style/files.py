"""Where the tutorial keeps files, and how it writes them without ever leaving half a file behind.

Every output (images, weights, caches) goes through :func:`atomic_write`: the data is written to a
temporary file in the same folder, flushed to disk and then renamed over the target. A crash or a
Ctrl-C in the middle leaves either the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import IO, Callable, Iterator, Mapping

__all__ = [
    "cache_dir",
    "atomic_write",
    "prepare_output",
    "prepare_folder",
    "OutputPathError",
    "load_cache",
    "save_cache",
    "caller_stacklevel",
    "load_tensors",
    "reason",
    "digest",
    "check_input_file",
]


class OutputPathError(ValueError):
    """An output file cannot be written where it was asked to go."""


def cache_dir(*parts: str) -> Path:
    """The tutorial's cache folder (``$TUTORIAL_STYLE_CACHE`` or ``~/.cache/tutorial_style``), created on demand.

    >>> cache_dir("normalization").name
    'normalization'
    """
    root = os.environ.get("TUTORIAL_STYLE_CACHE") or Path.home() / ".cache" / "tutorial_style"
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success rename it to ``path``, on failure remove it.

    The parent folder is created if needed. A parent that cannot be created raises
    :class:`OutputPathError` naming it.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "sub" / "hello.txt"
    >>> with atomic_write(target, "w") as f:
    ...     _ = f.write("hi")
    >>> target.read_text()
    'hi'
    """
    path = prepare_output(path, probe=False)
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes private files; outputs get the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_cache(path: Path | None, valid: Callable[[dict], bool]) -> dict | None:
    """A cache entry (a dict of tensors saved by :func:`save_cache`) if ``path`` holds one that loads and that
    ``valid(entry)`` accepts; otherwise None, and the caller computes it again. Any damage means "rebuild"."""
    import torch

    try:
        if path is None or not path.is_file():
            return None
        entry = torch.load(path, map_location="cpu", weights_only=True)
        return entry if valid(entry) else None
    except Exception:
        return None


def save_cache(path: Path, entry: dict, what: str) -> None:
    """Write a cache entry atomically; a full disk or a read-only cache only warns (it costs time, never a result)."""
    import torch

    try:
        with atomic_write(path) as f:
            torch.save(entry, f)
    except (OSError, ValueError) as e:
        warnings.warn(
            f"could not cache {what} in {str(path)!r} ({e}); it will be computed again next time", stacklevel=2
        )


def digest(value) -> str:
    """A short fingerprint (16 hex digits of a sha256) of a tensor's shape and values, or of a ``{name: tensor}``
    dict's names and values, as float32 on the CPU: the one digest that keys caches (the trade-off grid's rows, the
    normalisation), names an init tensor in a run's record, identifies weights and a checkpoint's style image.

    >>> import torch
    >>> digest(torch.ones(2, 2)) == digest(torch.ones(2, 2, dtype=torch.float64)), digest(torch.ones(4)) == digest(torch.ones(2, 2))
    (True, False)
    """  # noqa: E501
    import hashlib

    import torch

    h = hashlib.sha256()
    if isinstance(value, Mapping):  # a state dict: each name, then its values (the names fix the shapes)
        for key in sorted(value):
            h.update(str(key).encode())
            h.update(value[key].detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    else:
        t = value.detach().to("cpu", torch.float32).contiguous()
        h.update(repr(tuple(t.shape)).encode() + t.numpy().tobytes())
    return h.hexdigest()[:16]


def check_input_file(path: str | os.PathLike, what: str, error: type[Exception] = ValueError, fix: str = "") -> Path:
    """``path`` (``~`` expanded) if it names a file with something in it, else ``error`` in one line naming ``what``
    and the file, why, and ``fix``: the one check of an input file before it is read (weights, checkpoints, videos).

    >>> check_input_file("/no/such/file.pt", "checkpoint", fix="Train one first.")
    Traceback (most recent call last):
    ...
    ValueError: checkpoint '/no/such/file.pt': no such file. Train one first.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        why = "is a folder, not a file"
    elif not path.exists():
        why = "no such file"
    elif not path.is_file():
        why = "is not a regular file"
    elif path.stat().st_size == 0:
        why = "is empty (0 bytes)"
    else:
        return path
    raise error(f"{what} {str(path)!r}: {why}. {fix}".strip())


def load_tensors(path: str | os.PathLike, error: type[Exception], what: str, fix: str):
    """``torch.load(path, weights_only=True)`` on the CPU, with every failure as one line: ``error`` naming
    ``what`` and the file, why, and ``fix`` (what to do). A pickle that would call a function (and so could run
    code) is refused; a truncated or foreign file says so."""
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "GLOBAL" in str(e):  # the pickle calls a Python function: it would run code
            raise error(
                f"{what} {str(path)!r} was refused: it holds more than tensors, and loading it could run code "
                f"({reason(e)}). Only use files from a source you trust. {fix}"
            ) from None
        raise error(
            f"{what} {str(path)!r} is not a PyTorch {what}, or is damaged: PyTorch cannot read it. {fix}"
        ) from None
    except Exception:  # whatever torch.load trips over in a damaged file; its words (EOF, zip records) would not help
        raise error(f"{what} {str(path)!r} is truncated or damaged: PyTorch cannot read it. {fix}") from None


def reason(error: BaseException) -> str:
    """The telling part of an error from torch.load: the line naming the problem, its first sentence."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    telling = [line for line in lines if "GLOBAL" in line or "Unsupported" in line]
    line = (telling or lines or [type(error).__name__])[0]
    return line.split(". ")[0].rstrip(".")


_WRITABLE = "Choose a folder you can write to (or give yourself write permission on this one)."


def prepare_output(path: str | os.PathLike, probe: bool = True) -> Path:
    """Create ``path``'s folder and check that a file can be written there, else :class:`OutputPathError`.

    Call it before long work, so that a bad output path fails at once rather than after the run.
    """
    path = Path(path)
    _make_folder(path.parent, f" for {str(path)!r}")
    if path.is_dir():
        raise OutputPathError(f"{str(path)!r} is a folder; give a file name such as {str(path / 'result.png')!r}")
    if probe:
        _probe(path.parent)
    return path


def prepare_folder(folder: str | os.PathLike) -> Path:
    """Create the output folder ``folder`` and check that files can be written in it, else :class:`OutputPathError`
    naming it (a folder of results: each file in it is written atomically as it is done)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{str(folder)!r} is a file; for a folder of results give an output folder")
    _make_folder(folder)
    _probe(folder)
    return folder


def _make_folder(folder: Path, purpose: str = "") -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        why = f"{str(blocker)!r} is a file, not a folder" if blocker is not None else e.strerror or e
        raise OutputPathError(f"cannot create the folder {str(folder)!r}{purpose}: {why}. {_WRITABLE}") from None


def _probe(folder: Path) -> None:
    """Write and remove a hidden file in ``folder``: that it can be written is checked, not guessed from its modes."""
    fd, tmp = _temporary(folder / "probe")
    os.close(fd)
    os.unlink(tmp)


def _temporary(path: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise OutputPathError(
            f"cannot write to the folder {str(path.parent)!r}: {e.strerror or e}. {_WRITABLE}"
        ) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def caller_stacklevel() -> int:
    """The ``stacklevel`` for a warning raised in the calling function that points at the first line outside this
    package: the learner's own cell or script, however deep inside the package the warning was raised."""
    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
