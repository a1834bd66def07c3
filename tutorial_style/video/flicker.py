"""Flicker, measured: the warping error of a stylised video (Lai et al. 2018), with optical flow from OpenCV.

A network that styles each frame on its own answers small changes between frames (noise, a shift of a pixel,
compression) with different textures, and the video flickers. Lai et al. (*Learning Blind Video Temporal
Consistency*, ECCV 2018) measure it as the **warping error**: for each pair of consecutive frames,

    E_warp(O_t-1, O_t) = 1 / sum_x M_t(x)  *  sum_x M_t(x) || O_t(x) - O_t-1(x + F_t(x)) ||^2

where F_t is the optical flow from input frame t back to input frame t-1 (so that I_t(x) ~ I_t-1(x + F_t(x))),
O_t-1(x + F_t(x)) is the previous *output* frame warped to frame t by it, and M_t is 1 where the pixel is seen in
both frames: not occluded, by the forward-backward check of Ruder et al. (2016) (the flow forth and back must
cancel, and a pixel on a motion boundary is left out), and not moved in from outside the frame. The squared
difference is summed over the RGB channels of [0, 1] images and averaged over those pixels; the video's warping
error is the mean over its T - 1 pairs. The flow is estimated on the **input** video, so every styling of one
input is judged against the same motion. A still video (every frame the same) has flow 0 and scores 0 for any
per-frame styling; an output that moves with its input scores near 0; fresh texture in every frame does not.

The input video scored against itself is the floor the flow leaves: what noise, compression and the flow's own
errors add. The flow is OpenCV's DIS (Kroeger et al. 2016, "medium" preset) or Farneback's, on grey frames;
OpenCV is optional: ``pip install "tutorial_style[video]"`` (``opencv-python-headless``).

The command line's ``video-stats`` (``video.video_stats``), ``benchmarks/video.py`` and notebook 08 all measure with
:func:`warping_error`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..optional import require

__all__ = [
    "FLOW_METHODS",
    "FlowPair",
    "WarpingError",
    "as_frames",
    "check_flow_method",
    "optical_flow",
    "warp",
    "occlusion_mask",
    "flow_pair",
    "frame_flows",
    "flicker_map",
    "warping_error",
]

FLOW_METHODS = ("dis", "farneback")
"""The optical-flow estimators: OpenCV's DIS (default: fast, accurate on small motions) and Farneback."""


def _cv2():
    return require("cv2", "measuring flicker (optical flow)", pip="opencv-python-headless", extra="video")


def as_frames(video, name: str) -> np.ndarray:
    """A video (T, 3, H, W) tensor in [0, 1] or (T, H, W, 3) uint8 array, as a float32 array (T, H, W, 3) in [0, 1]."""
    if isinstance(video, torch.Tensor):
        if video.dim() != 4 or video.shape[1] != 3:
            raise ValueError(f"{name}: a video tensor must be (T, 3, H, W), got {tuple(video.shape)}")
        return np.ascontiguousarray(video.detach().float().cpu().clamp(0, 1).permute(0, 2, 3, 1).numpy())
    array = np.asarray(video)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(f"{name}: a video array must be (T, H, W, 3), got {array.shape}")
    return array.astype(np.float32) / 255 if array.dtype == np.uint8 else np.clip(array.astype(np.float32), 0, 1)


def _grey(frame: np.ndarray) -> np.ndarray:
    """A float (H, W, 3) frame in [0, 1] as contiguous grey uint8, what OpenCV's flow takes."""
    rgb = np.ascontiguousarray((frame * 255 + 0.5).clip(0, 255).astype(np.uint8))
    return np.ascontiguousarray(_cv2().cvtColor(rgb, _cv2().COLOR_RGB2GRAY))


def optical_flow(source: np.ndarray, target: np.ndarray, method: str = "dis") -> np.ndarray:
    """The flow F (H, W, 2), in pixels (x, y), from frame ``source`` to frame ``target``: source(p) ~ target(p + F(p)).

    Frames are (H, W, 3) floats in [0, 1] (or grey uint8 (H, W)). Identical frames give exactly 0.
    """
    check_flow_method(method)
    cv2 = _cv2()
    a = source if source.ndim == 2 else _grey(source)
    b = target if target.ndim == 2 else _grey(target)
    if np.array_equal(a, b):
        return np.zeros((*a.shape, 2), np.float32)
    try:
        if method == "dis":
            return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None)
        return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 15, 3, 5, 1.2, 0)
    except cv2.error:  # DIS needs about 10 px a side
        raise ValueError(
            f"optical flow ({method}) cannot follow frames of {a.shape[1]}x{a.shape[0]} px: "
            "give a larger video (at least 16 px a side)"
        ) from None


def check_flow_method(method: str) -> str:
    """``method`` if it is one of :data:`FLOW_METHODS`, else a one-line ``ValueError`` naming them."""
    if method not in FLOW_METHODS:
        raise ValueError(f"flow method must be one of {', '.join(FLOW_METHODS)}, got {method!r}")
    return method


def warp(image: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (H, W, C) sampled at p + flow(p), bilinearly, and where that point lies inside the frame (H, W)
    bool."""
    cv2 = _cv2()
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = xs + flow[..., 0], ys + flow[..., 1]
    warped = cv2.remap(
        np.ascontiguousarray(image, dtype=np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return warped.reshape(image.shape), inside


def occlusion_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where frame t's pixels are seen in frame t-1 too (H, W) bool: Ruder et al.'s forward-backward check.

    ``backward``: the flow from t to t-1; ``forward``: from t-1 to t. Going back and forth must come home,
    |b + f(p + b)|^2 <= 0.01 (|b|^2 + |f(p + b)|^2) + 0.5, and a pixel on a motion boundary (where the flow's
    gradient is large, |grad b|^2 > 0.01 |b|^2 + 0.002) is left out; so is one whose match lies outside the frame.
    """
    f_at, inside = warp(forward, backward)
    round_trip = ((backward + f_at) ** 2).sum(-1)
    consistent = round_trip <= 0.01 * ((backward**2).sum(-1) + (f_at**2).sum(-1)) + 0.5
    du_y, du_x = np.gradient(backward[..., 0])
    dv_y, dv_x = np.gradient(backward[..., 1])
    boundary = (du_x**2 + du_y**2 + dv_x**2 + dv_y**2) > 0.01 * (backward**2).sum(-1) + 0.002
    return consistent & ~boundary & inside


@dataclass(frozen=True)
class FlowPair:
    """The motion between input frames t-1 and t: the flow from t back to t-1 and the mask of pixels seen in both."""

    flow: np.ndarray  # (H, W, 2)
    mask: np.ndarray  # (H, W) bool


def flow_pair(previous: np.ndarray, current: np.ndarray, method: str = "dis") -> FlowPair:
    """The :class:`FlowPair` of two consecutive input frames ((H, W, 3) floats in [0, 1] or grey uint8 (H, W))."""
    a, b = (frame if frame.ndim == 2 else _grey(frame) for frame in (previous, current))  # once for both flows
    backward, forward = optical_flow(b, a, method), optical_flow(a, b, method)
    return FlowPair(backward, occlusion_mask(backward, forward))


def frame_flows(inputs, method: str = "dis") -> list[FlowPair]:
    """The :class:`FlowPair` of each pair of consecutive frames of the input video (T - 1 of them)."""
    greys = [_grey(f) for f in as_frames(inputs, "inputs")]
    return [flow_pair(prev, cur, method) for prev, cur in zip(greys, greys[1:])]


def flicker_map(previous, current, pair: FlowPair) -> np.ndarray:
    """|O_t(x) - O_t-1(x + F_t(x))|^2 (H, W), summed over RGB, 0 where occluded: where frame t's output differs from
    the previous output moved along the input's motion. Its mean over the unoccluded pixels is the pair's warping
    error. Frames: (H, W, 3) float arrays in [0, 1], or (3, H, W) tensors."""
    previous, current = (
        as_frames(f[None], "frame")[0] if isinstance(f, torch.Tensor) else f for f in (previous, current)
    )
    warped, _ = warp(previous, pair.flow)
    return ((current - warped) ** 2).sum(-1) * pair.mask


@dataclass(frozen=True)
class WarpingError:
    """A video's warping error: ``mean`` over its frame pairs, each pair's in ``per_pair``, and the share of
    pixels the occlusion check kept (``visible``, mean over the pairs)."""

    mean: float
    per_pair: tuple[float, ...]
    visible: float

    def __str__(self) -> str:
        return (
            f"{self.mean:.3e} (mean over {len(self.per_pair)} frame pairs; {self.visible:.0%} of the pixels unoccluded)"
        )


def warping_error(
    inputs, outputs=None, *, flows: Sequence[FlowPair] | None = None, method: str = "dis"
) -> WarpingError:
    """The warping error of ``outputs`` (a styling of ``inputs``, frame by frame) as Lai et al. define it; with
    ``outputs`` None, of the input video against itself. Videos: (T, 3, H, W) tensors in [0, 1] or (T, H, W, 3)
    uint8 arrays, of equal length and size, at least 2 frames. ``flows``: :func:`frame_flows` of ``inputs``,
    computed here when not given (pass them to score several stylings of one input).

    >>> still = torch.rand(1, 3, 24, 32).expand(4, 3, 24, 32)
    >>> warping_error(still, still.flip(1)).mean  # any per-frame styling of a still video
    0.0
    """
    frames_in = as_frames(inputs, "inputs")
    frames_out = frames_in if outputs is None else as_frames(outputs, "outputs")
    if len(frames_in) < 2:
        raise ValueError(f"the video has {len(frames_in)} frame(s); the warping error needs at least 2")
    if len(frames_out) != len(frames_in):
        raise ValueError(
            f"the videos have different lengths: {len(frames_in)} input frames, {len(frames_out)} output frames"
        )
    if frames_out.shape[1:3] != frames_in.shape[1:3]:
        raise ValueError(
            f"the videos have different sizes: input {frames_in.shape[2]}x{frames_in.shape[1]}, "
            f"output {frames_out.shape[2]}x{frames_out.shape[1]} (width x height)"
        )
    flows = frame_flows(frames_in, method) if flows is None else list(flows)
    if len(flows) != len(frames_in) - 1:
        raise ValueError(
            f"flows: {len(flows)} pairs given for a video of {len(frames_in)} frames (need {len(frames_in) - 1})"
        )
    errors, visible = [], []
    for t, pair in enumerate(flows, start=1):
        squared = flicker_map(frames_out[t - 1], frames_out[t], pair)
        kept = pair.mask.sum()
        errors.append(float(squared.sum() / kept) if kept else 0.0)
        visible.append(float(pair.mask.mean()))
    return WarpingError(float(np.mean(errors)), tuple(errors), float(np.mean(visible)))
