"""Video files as frames: read, written, and passed through a network frame by frame at the same rate and size.

What the paper's method cannot do (hundreds of VGG19 passes per frame) a trained network does with one pass per
frame (``realtime.stylize.stylize_video`` gives :func:`transform_video` the network's pass). Video is read and
written with PyAV (``av``, FFmpeg's libraries; ``pip install av``), imported only here.

The result is H.264 in the container that its suffix names (.mp4, .mov, .mkv; .webm gets VP9, .avi MPEG-4 part 2).
The sound track is not copied (the result is silent; :class:`VideoResult` says whether there was one), and frames
are written at the video's average frame rate, one after another (a variable frame rate becomes a constant one).
The file is written atomically: a temporary file next to it, renamed when the last frame is in, so an error or a
Ctrl-C leaves no half-written video.

Each frame is stylised on its own, so a network may flicker between frames: ``flicker.py`` measures it (the
warping error; ``python -m tutorial_style video-stats IN OUT``). A network trained with ``train --temporal-weight W``
(``temporal.py``) flickers less; ``temporal_blend`` (``stylize --temporal-blend S``, ``smoothing.py``; off by
default) blends each styled frame with the previous one along the input's motion.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..files import atomic_write, check_input_file, prepare_output
from ..optional import require
from .flicker import frame_flows, warping_error
from .smoothing import TemporalBlend

__all__ = [
    "VIDEO_SUFFIXES",
    "VideoError",
    "VideoResult",
    "is_video",
    "check_video_path",
    "transform_video",
    "read_video",
    "write_video",
    "video_stats",
]

# suffix -> (FFmpeg's container format, the encoders to try in turn)
_CONTAINERS = {
    ".mp4": ("mp4", ("libx264", "mpeg4")),
    ".m4v": ("mp4", ("libx264", "mpeg4")),
    ".mov": ("mov", ("libx264", "mpeg4")),
    ".mkv": ("matroska", ("libx264", "mpeg4")),
    ".webm": ("webm", ("libvpx-vp9", "libvpx")),
    ".avi": ("avi", ("mpeg4",)),
}
VIDEO_SUFFIXES = tuple(_CONTAINERS)
"""The video files read and written here, by suffix."""


class VideoError(ValueError):
    """A video cannot be read or written. The message names the file and the reason."""


@dataclass(frozen=True)
class VideoResult:
    """What :func:`transform_video` wrote: ``frames`` frames of ``width`` x ``height`` at ``fps`` frames a second."""

    path: Path
    frames: int
    width: int
    height: int
    fps: Fraction
    codec: str
    audio_dropped: bool  # the input had a sound track, which is not copied


def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a video file by its suffix (.mp4, .mov, .mkv, .webm, .avi, .m4v).

    >>> is_video("holiday.MP4"), is_video("photo.jpg")
    (True, False)
    """
    return Path(path).suffix.lower() in _CONTAINERS


def check_video_path(path: str | os.PathLike) -> Path:
    """Check, before any work, that a video can be written at ``path``: a known suffix, a writable folder."""
    path = Path(path)
    if not is_video(path):
        raise VideoError(f"{str(path)!r}: unknown video file type {path.suffix!r}; use {', '.join(VIDEO_SUFFIXES)}")
    return prepare_output(path)


def transform_video(
    source: str | os.PathLike,
    target: str | os.PathLike,
    transform: Callable[[torch.Tensor], torch.Tensor],
    *,
    batch_size: int = 4,
    progress: bool = True,
    temporal_blend: float = 0.0,
) -> VideoResult:
    """The video ``source`` with every frame through ``transform`` (frames (B, 3, H, W) in [0, 1] to frames of the same
    shape, ``batch_size`` at a time), written to ``target`` at the same frame rate and size (without its sound).
    ``temporal_blend`` > 0 blends each transformed frame with the previous one along the input's motion
    (:class:`~tutorial_style.video.smoothing.TemporalBlend`; off by default). A file that is not a readable video
    raises a one-line :class:`VideoError`. ``realtime.stylize.stylize_video`` passes a style network's pass."""
    av = require("av", "reading and writing video", pip="av")
    blender = TemporalBlend(temporal_blend, name="temporal_blend")  # checked before any file is touched
    source, target = Path(source), check_video_path(target)
    fmt, encoders = _CONTAINERS[target.suffix.lower()]
    with _open(av, source) as reader:
        stream = reader.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        audio = bool(reader.streams.audio)
        total = stream.frames or None
        bar = _bar(total, progress)
        frames, writer_state = 0, {}
        try:
            with atomic_write(target) as f, av.open(f, mode="w", format=fmt) as writer:
                for batch in _batches(av, reader, stream, source, batch_size):
                    out = transform(batch)
                    if blender.strength:
                        out = torch.stack([blender(frame, styled) for frame, styled in zip(batch, out)])
                    _encode(av, writer, writer_state, encoders, fps, out)
                    frames += len(out)
                    if bar is not None:
                        bar.update(len(out))
                if not frames:
                    raise VideoError(f"{str(source)!r}: the video has no frames that can be decoded")
                for packet in writer_state["stream"].encode():  # flush the encoder's last frames
                    writer.mux(packet)
        finally:
            if bar is not None:
                bar.close()
    out_stream = writer_state["stream"]
    return VideoResult(
        target, frames, out_stream.width, out_stream.height, Fraction(fps), out_stream.codec_context.name, audio
    )


def read_video(source: str | os.PathLike, *, max_frames: int | None = None) -> tuple[torch.Tensor, Fraction]:
    """The frames of the video ``source`` as one tensor (T, 3, H, W) in [0, 1] (the first ``max_frames``, if given),
    and its frame rate. A file that is not a readable video raises a one-line :class:`VideoError`."""
    av = require("av", "reading video", pip="av")
    source = Path(source)
    with _open(av, source) as reader:
        stream = reader.streams.video[0]
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        frames, count = [], 0
        for batch in _batches(av, reader, stream, source, 8):
            frames.append(batch)
            count += len(batch)
            if max_frames is not None and count >= max_frames:
                break
    if not frames:
        raise VideoError(f"{str(source)!r}: the video has no frames that can be decoded")
    video = torch.cat(frames)
    return (video if max_frames is None else video[:max_frames]), Fraction(fps)


def write_video(frames: torch.Tensor, target: str | os.PathLike, fps: float | Fraction = 25) -> Path:
    """Write ``frames`` (T, 3, H, W) in [0, 1] as the video ``target`` (its suffix names the container), atomically."""
    av = require("av", "writing video", pip="av")
    target = check_video_path(target)
    if not (isinstance(frames, torch.Tensor) and frames.dim() == 4 and frames.shape[1] == 3 and len(frames)):
        raise VideoError(
            f"{str(target)!r}: frames must be a tensor (T, 3, H, W) with at least one frame, "
            f"got {getattr(frames, 'shape', type(frames).__name__)}"
        )
    fmt, encoders = _CONTAINERS[target.suffix.lower()]
    state: dict = {}
    with atomic_write(target) as f, av.open(f, mode="w", format=fmt) as writer:
        for batch in frames.split(8):
            _encode(av, writer, state, encoders, Fraction(fps).limit_denominator(1001), batch.detach().float().cpu())
        for packet in state["stream"].encode():
            writer.mux(packet)
    return target


def video_stats(
    input_path: str | os.PathLike, output_path: str | os.PathLike, *, max_frames: int | None = None, method: str = "dis"
) -> dict:
    """The warping errors of the video file ``output_path`` (a styling of ``input_path``) and of the input itself:
    ``{"frames", "width", "height", "input": WarpingError, "output": WarpingError}``. Videos of different lengths or
    sizes, a one-frame video or an unreadable file are one-line errors naming the file."""
    videos = []
    for path in (input_path, output_path):
        frames, _ = read_video(path, max_frames=max_frames)
        if len(frames) < 2:
            raise VideoError(
                f"{str(path)!r}: has {len(frames)} frame; "
                "the warping error compares consecutive frames, give a video of at least 2"
            )
        videos.append(frames)
    (a, b), (pa, pb) = videos, (str(input_path), str(output_path))
    if len(a) != len(b):
        raise VideoError(
            f"{pb!r} has {len(b)} frames and {pa!r} has {len(a)}: "
            "give the styling of that very video (or --max-frames N)"
        )
    if a.shape[-2:] != b.shape[-2:]:
        raise VideoError(
            f"{pb!r} is {b.shape[-1]}x{b.shape[-2]} px and {pa!r} is {a.shape[-1]}x{a.shape[-2]}: "
            "give a styling of that video at its size"
        )
    flows = frame_flows(a, method)
    return {
        "frames": len(a),
        "width": a.shape[-1],
        "height": a.shape[-2],
        "input": warping_error(a, flows=flows),
        "output": warping_error(a, b, flows=flows),
    }


def _open(av, source: Path):
    """The video ``source`` opened for reading, or a one-line :class:`VideoError` saying why not."""
    name = repr(str(check_input_file(source, "video", VideoError)))
    try:
        reader = av.open(str(source), mode="r")
    except (av.FFmpegError, OSError, ValueError) as e:
        raise VideoError(
            f"{name}: cannot be read as a video ({_reason(e)}). It may be damaged, or not a video file."
        ) from None
    if not reader.streams.video:
        reader.close()
        raise VideoError(f"{name}: has no video stream (only sound or data)")
    return reader


def _batches(av, reader, stream, source: Path, batch_size: int):
    """The decoded frames as (B, 3, H, W) float tensors in [0, 1], ``batch_size`` at a time."""
    stream.thread_type = "AUTO"  # decode with several threads where the codec allows
    batch, decoded = [], 0
    try:
        for frame in reader.decode(stream):
            batch.append(torch.from_numpy(frame.to_ndarray(format="rgb24")))
            decoded += 1
            if len(batch) == batch_size:
                yield _to_tensor(batch)
                batch = []
    except (av.FFmpegError, OSError, ValueError) as e:
        if isinstance(e, VideoError):
            raise
        raise VideoError(
            f"{str(source)!r}: decoding failed after {decoded} frame(s) ({_reason(e)}); "
            "the file may be truncated or damaged"
        ) from None
    if batch:
        yield _to_tensor(batch)


def _to_tensor(frames: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(frames).permute(0, 3, 1, 2).float().div_(255)


def _encode(av, writer, state: dict, encoders: tuple[str, ...], fps: Fraction, images: torch.Tensor) -> None:
    """Encode a batch of stylised frames; the output stream is made at the first batch, with the frames' size."""
    if "stream" not in state:
        state["stream"] = _add_stream(av, writer, encoders, fps, *images.shape[-2:])
    stream = state["stream"]
    pixels = (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    for array in pixels:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
        for packet in stream.encode(frame):
            writer.mux(packet)


def _add_stream(av, writer, encoders: tuple[str, ...], fps: Fraction, height: int, width: int):
    """A video stream with the first encoder this FFmpeg build has. 4:2:0 colour needs even sizes; odd-sized
    video keeps its size with full-resolution colour (4:4:4) where the encoder has it (H.264, VP9)."""
    available = [name for name in encoders if name in av.codecs_available]
    if not available:
        raise VideoError(
            f"this FFmpeg build (PyAV {av.__version__}) has none of the encoders {', '.join(encoders)}; "
            "try .mp4 or .avi"
        )
    name = available[0]
    stream = writer.add_stream(name, rate=fps)
    stream.width, stream.height = width, height
    odd = width % 2 or height % 2
    stream.pix_fmt = "yuv444p" if odd and name in ("libx264", "libvpx-vp9") else "yuv420p"
    if name == "libx264":
        stream.options = {"crf": "18", "preset": "medium"}  # visually lossless: the stylised frames as they are
    return stream


def _reason(e: BaseException) -> str:
    """FFmpeg's reason without the file name (the message names it already)."""
    text = getattr(e, "strerror", None) or str(e).strip() or type(e).__name__
    return text.splitlines()[0].rstrip(".")


def _bar(total: int | None, show: bool):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="stylising video", unit="frame")
