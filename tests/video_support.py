"""Helpers of the video tests (tests/test_video_*.py, test_realtime_stylize.py, test_cli.py): a clip whose motion
is known, a video file written and read with PyAV, and the mark of a test that needs the video extra."""

from __future__ import annotations

import importlib.util
from fractions import Fraction

import numpy as np
import pytest
import torch

from tutorial_style import load_image

needs_video_tools = pytest.mark.skipif(
    importlib.util.find_spec("av") is None or importlib.util.find_spec("cv2") is None,
    reason="needs the video extra (av, opencv-python-headless); the dev extra has it",
)


def shifted_clip(frames=6, step=(2, 1), size=48):
    """A photo seen through a window moved by whole pixels, ``step`` (x, y) a frame: frame t shows the photo's
    pixel (x + t dx, y + t dy) at (x, y): I_t(x) = I_t-1(x + step), so the flow from frame t back to t-1 is the step."""
    photo = load_image("astronaut", size=128)
    dx, dy = step
    return torch.cat(
        [photo[..., 20 + t * dy : 20 + t * dy + size, 20 + t * dx : 20 + t * dx + size] for t in range(frames)]
    )


def write_moving_bar(path, frames: int, width: int, height: int, fps=Fraction(30000, 1001), audio=False):
    """A small video of a bright bar moving over a gradient (and, if asked, a second of a 440 Hz tone); the frames."""
    av = pytest.importorskip("av")  # in the dev extra: CI has it
    made = []
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264" if path.suffix != ".avi" else "mpeg4", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        stream.options = {"crf": "10"} if path.suffix != ".avi" else {}
        sound = out.add_stream("aac", rate=44100) if audio else None  # every stream before the first packet
        for i in range(frames):
            array = np.tile(np.linspace(30, 200, width, dtype=np.uint8), (height, 1))[..., None].repeat(3, axis=2)
            array[:, (3 * i) % width : (3 * i) % width + 5] = (250, 60, 20)
            made.append(array.copy())
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if audio:
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)).astype(np.float32)
            for start in range(0, 44100, 1024):
                frame = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp", layout="mono")
                frame.sample_rate = 44100
                for packet in sound.encode(frame):
                    out.mux(packet)
            for packet in sound.encode():
                out.mux(packet)
    return made


def read_frames(path):
    """The frames of a video file as arrays, its frame rate and its number of audio streams."""
    av = pytest.importorskip("av")
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(stream)]
        return frames, stream.average_rate, len(video.streams.audio)
