"""Test clips made from the bundled photos: a camera that pans, zooms and turns a little, with a camera's noise and
a codec's JPEG artefacts in every frame. They measure flicker (``flicker.py``) without any video download.

Each clip is one photo seen through a moving window: frame t shows the photo shifted by ``t * pan`` pixels (x, y),
scaled by ``zoom ** t`` and turned by ``t * turn`` degrees about its centre (bilinear), cropped to ``size`` px,
then given fresh Gaussian noise of standard deviation ``noise`` and saved as a JPEG of quality ``jpeg`` and read
back. :data:`HELD_OUT_CLIP` is kept out of every choice of weights and settings (the temporal term's weight, the
form of the term, the run-time blend): the benchmark reports on it; the others are for choosing.

>>> clip = make_clip("chelsea-pan", frames=3, size=32)
>>> tuple(clip.shape), float(clip.min()) >= 0, float(clip.max()) <= 1
((3, 3, 32, 32), True, True)
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..images import load_image

__all__ = ["Clip", "CLIPS", "HELD_OUT_CLIP", "make_clip"]


@dataclass(frozen=True)
class Clip:
    """A camera move over one bundled photo: ``pan`` pixels a frame (x, y) at the clip's size, ``zoom`` a factor a
    frame, ``turn`` degrees a frame; ``noise`` (std of [0, 1] pixels) and ``jpeg`` (quality, None: no JPEG) per
    frame."""

    photo: str
    pan: tuple[float, float] = (0.0, 0.0)
    zoom: float = 1.0
    turn: float = 0.0
    noise: float = 0.01
    jpeg: int | None = 85


CLIPS = {
    "chelsea-pan": Clip("chelsea", pan=(1.5, 0.0)),
    "astronaut-zoom": Clip("astronaut", zoom=1.01, noise=0.015, jpeg=75),
    "rocket-turn": Clip("rocket", turn=0.4, pan=(0.0, 0.5)),
    "coffee-handheld": Clip("coffee", pan=(1.0, 0.7), zoom=1.005, turn=0.25, noise=0.015, jpeg=75),
}
"""The test clips by name: a pan, a zoom, a small rotation, and a hand-held mix of the three (the held-out one)."""
HELD_OUT_CLIP = "coffee-handheld"
"""The clip kept out of every choice: a photo the network never trained on, moved in every way at once."""


def make_clip(name: str | Clip, *, frames: int = 16, size: int = 128, seed: int = 0) -> torch.Tensor:
    """The clip ``name`` (a key of :data:`CLIPS`, or a :class:`Clip`) as frames (T, 3, size, size) in [0, 1]."""
    if isinstance(name, Clip):
        clip = name
    elif name in CLIPS:
        clip = CLIPS[name]
    else:
        raise ValueError(f"no clip {name!r}; the clips are {', '.join(CLIPS)}")
    if not (isinstance(frames, int) and frames >= 1 and isinstance(size, int) and size >= 8):
        raise ValueError(
            f"make_clip needs frames >= 1 and size >= 8 (whole numbers), got frames={frames!r}, size={size!r}"
        )
    # The photo at twice the clip's size, so that the window moves over real picture for the whole clip.
    photo = load_image(clip.photo, size=2 * size)
    h, w = photo.shape[-2:]
    generator = torch.Generator().manual_seed(seed)
    out = []
    for t in range(frames):
        angle = math.radians(clip.turn * t)
        scale = clip.zoom**t
        # Where output pixel (u, v) (in [-1, 1]) looks in the photo: the window's half side size / 2 px, turned and
        # scaled about the photo's centre, moved by the pan; in the photo's normalised coordinates (x / (w / 2), ...).
        cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
        theta = torch.tensor(
            [
                [cos * size / w, -sin * size / w, 2 * clip.pan[0] * t / w],
                [sin * size / h, cos * size / h, 2 * clip.pan[1] * t / h],
            ]
        )
        grid = F.affine_grid(theta[None], (1, 3, size, size), align_corners=False)
        frame = F.grid_sample(photo, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        if clip.noise:
            frame = frame + clip.noise * torch.randn(frame.shape, generator=generator)
        frame = frame.clamp(0, 1)
        if clip.jpeg is not None:
            frame = _jpeg(frame, clip.jpeg)
        out.append(frame)
    return torch.cat(out)


def _jpeg(frame: torch.Tensor, quality: int) -> torch.Tensor:
    """``frame`` (1, 3, H, W) saved as a JPEG of ``quality`` and read back: a codec's blocks and ringing."""
    pixels = (frame[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    back = torch.from_numpy(np.array(Image.open(buffer).convert("RGB"))).permute(2, 0, 1).float() / 255
    return back[None]
