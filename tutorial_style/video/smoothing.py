"""Flicker, reduced at run time: each styled frame blended with the previous one, moved along the input's motion.

A network trained without the temporal term (``video/temporal.py``) flickers: it answers the noise and small
motions between frames with fresh texture. A cheap aid after the network, with no training, is to carry part of
the previous result along: for each frame t,

    O'_t = (1 - s) O_t + s W(O'_t-1)    where the pixel is seen in both frames (M_t),
    O'_t = O_t                          where it is not (occluded, or moved in from outside the frame),

where O_t is the network's output, W(O'_t-1) the previous *blended* frame warped to frame t by the optical flow
between the **input** frames (the flow and the mask M_t of ``flicker.py``: OpenCV's DIS flow and Ruder et al.'s
forward-backward check), and s in [0, 1) the **strength**. Because the blended frame is carried forward, each
output is an average of the recent frames along their motion, with weights (1 - s), (1 - s) s, (1 - s) s², ...:
a still region settles, a moving one follows the motion, and a newly seen one is the network's own. It is the
run-time counterpart of Ruder et al.'s (2016) temporal loss, without its optimisation; Lai et al. (2018) learn a
network for the same blend.

It is **off by default** (``s = 0`` returns the network's frames as they are). Each frame costs two optical flows
(together about 2 ms at 128 px and 8 ms at 256 px on one CPU thread), the check and the warp: about 5 ms a frame at
128 px in all (docs/performance.md). It needs OpenCV: ``pip install "tutorial_style[video]"``. A larger s removes
more flicker and softens the texture more, and a wrong flow drags old texture along (ghosting): measure it with
``video-stats``. ``python -m tutorial_style apply net.pt clip.mp4 --temporal-blend 0.5 -o out.mp4``
uses it (0.5: :data:`BLEND_FOR_VIDEO`); ``benchmarks/video.py --temporal-blend`` measures it.
"""

from __future__ import annotations

import numpy as np
import torch

from ..optional import require
from .flicker import FlowPair, as_frames, check_flow_method, flow_pair, warp

__all__ = ["BLEND_FOR_VIDEO", "TemporalBlend", "blend_video", "check_strength"]

BLEND_FOR_VIDEO = 0.5
"""The strength to try first (``stylize --temporal-blend 0.5``), chosen on the test clips that are not held out
(``video/clips.py``), real features: the smallest of 0.2, 0.3 and 0.5 that halved every clip's warping error
(to 0.20-0.38 x the per-frame network's, for 1.4-3.7 % more style loss; docs/performance.md)."""


def check_strength(strength: float, name: str = "strength") -> float:
    """``strength`` as a float in [0, 1), or a one-line ``ValueError`` naming the parameter ``name``."""
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1), got {strength!r}") from None
    if not 0 <= s < 1:
        raise ValueError(
            f"{name} must be in [0, 1) (0: off; {BLEND_FOR_VIDEO:g} is the measured choice), got {strength!r}"
        )
    return s


class TemporalBlend:
    """The blend of a stream of frames, one at a time: ``blended = blend(input_frame, styled_frame)``.

    Frames are (3, H, W) tensors in [0, 1], the input and its styling, of one size; the blended frame comes back with
    the styled frame's dtype and device. The first frame, and the first after a change of size or :meth:`reset`, is
    returned as it is.

    >>> blend = TemporalBlend(0.5)
    >>> still, a, b = torch.full((3, 16, 16), 0.5), torch.zeros(3, 16, 16), torch.ones(3, 16, 16)
    >>> float(blend(still, a).mean()), float(blend(still, b).mean())  # a still input: half the previous result
    (0.0, 0.5)
    """

    def __init__(self, strength: float, method: str = "dis", name: str = "strength"):
        self.strength = check_strength(strength, name)
        self.method = check_flow_method(method)
        if self.strength:  # OpenCV now, before any frame is styled
            require(
                "cv2",
                "blending video frames along the motion (optical flow)",
                pip="opencv-python-headless",
                extra="video",
            )
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame: the next one starts a new video."""
        self._previous: tuple[np.ndarray, np.ndarray] | None = None  # (input frame, blended frame), (H, W, 3)

    def __call__(self, frame: torch.Tensor, styled: torch.Tensor) -> torch.Tensor:
        if frame.shape != styled.shape:
            raise ValueError(
                f"the input frame {tuple(frame.shape)} and its styling {tuple(styled.shape)} differ in size: "
                "blend a styling at the input's size"
            )
        if not self.strength:
            return styled
        current, out = (as_frames(t[None], name)[0] for t, name in ((frame, "frame"), (styled, "styled")))
        if self._previous is not None and self._previous[0].shape == current.shape:
            out = self._blend(out, self._previous[1], flow_pair(self._previous[0], current, self.method))
        self._previous = (current, out)
        return torch.from_numpy(out).permute(2, 0, 1).to(device=styled.device, dtype=styled.dtype)

    def _blend(self, styled: np.ndarray, previous: np.ndarray, pair: FlowPair) -> np.ndarray:
        warped, _ = warp(previous, pair.flow)
        return np.where(pair.mask[..., None], (1 - self.strength) * styled + self.strength * warped, styled)


def blend_video(inputs: torch.Tensor, outputs: torch.Tensor, strength: float, method: str = "dis") -> torch.Tensor:
    """:class:`TemporalBlend` over a whole video: ``outputs`` (T, 3, H, W), the styling of ``inputs`` frame by frame,
    blended along the input's motion. ``strength`` 0 returns ``outputs`` unchanged."""
    if len(inputs) != len(outputs):
        raise ValueError(f"the videos have different lengths: {len(inputs)} input frames, {len(outputs)} output frames")
    blend = TemporalBlend(strength, method)
    if not blend.strength:
        return outputs
    return torch.stack([blend(i, o) for i, o in zip(inputs, outputs)])
