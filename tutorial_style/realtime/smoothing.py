"""Flicker, reduced at run time: each styled frame blended with the previous one, moved along the input's motion.

A network trained without the temporal term (``controls/temporal.py``) flickers: it answers the noise and small
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

It is **off by default** (``s = 0`` returns the network's frames as they are), and costs two optical flows a frame
(about 2 ms at 128 px and 8 ms at 256 px on one CPU thread, docs/performance.md) and OpenCV: ``pip install
"tutorial_style[video]"``. A larger s removes more flicker and softens the texture more, and a wrong flow drags
old texture along (ghosting): measure it with ``video-stats``. ``python -m tutorial_style stylize clip.mp4
--network net.pt --temporal-blend 0.5 -o out.mp4`` uses it; ``benchmarks/video.py --temporal-blend`` measures it.
"""

from __future__ import annotations

import numpy as np
import torch

from .flicker import FlowPair, as_frames, flow_pair, warp
from .optional import require

__all__ = ["TemporalBlend", "blend_video", "check_strength"]


def check_strength(strength: float) -> float:
    """``strength`` as a float in [0, 1), or a one-line ``ValueError`` naming it."""
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise ValueError(f"blend strength must be a number in [0, 1), got {strength!r}") from None
    if not 0 <= s < 1:
        raise ValueError(f"blend strength must be in [0, 1) (0: off; 0.5 is the measured choice), got {strength!r}")
    return s


class TemporalBlend:
    """The blend of a stream of frames, one at a time: ``blended = blend(input_frame, styled_frame)``.

    Frames are (3, H, W) tensors in [0, 1] (the input and its styling, of one size); the blended frame comes back
    as a float tensor on the styled frame's device. The first frame, and every frame after a change of size, is
    returned as it is.

    >>> blend = TemporalBlend(0.5)
    >>> still, a, b = torch.full((3, 8, 8), 0.5), torch.zeros(3, 8, 8), torch.ones(3, 8, 8)
    >>> float(blend(still, a).mean()), float(blend(still, b).mean())  # a still input: half the previous result
    (0.0, 0.5)
    """

    def __init__(self, strength: float, method: str = "dis"):
        self.strength = check_strength(strength)
        self.method = method
        if self.strength:  # OpenCV now, before any frame is styled
            require("cv2", "blending video frames along the motion (optical flow)", pip="opencv-python-headless", extra="video")
        self._previous: tuple[np.ndarray, np.ndarray] | None = None  # (input frame, blended frame), (H, W, 3)

    def __call__(self, frame: torch.Tensor, styled: torch.Tensor) -> torch.Tensor:
        current, out = (as_frames(t[None], name)[0] for t, name in ((frame, "frame"), (styled, "styled")))
        if self.strength and self._previous is not None and self._previous[0].shape == current.shape:
            out = self._blend(out, self._previous[1], flow_pair(self._previous[0], current, self.method))
        self._previous = (current, out)
        return torch.from_numpy(out).permute(2, 0, 1).to(styled.device)

    def _blend(self, styled: np.ndarray, previous: np.ndarray, pair: FlowPair) -> np.ndarray:
        warped, _ = warp(previous, pair.flow)
        return np.where(pair.mask[..., None], (1 - self.strength) * styled + self.strength * warped, styled)


def blend_video(inputs: torch.Tensor, outputs: torch.Tensor, strength: float, method: str = "dis") -> torch.Tensor:
    """:class:`TemporalBlend` over a whole video: ``outputs`` (T, 3, H, W), the styling of ``inputs`` frame by frame,
    blended along the input's motion. ``strength`` 0 returns ``outputs`` unchanged."""
    if len(inputs) != len(outputs):
        raise ValueError(f"the videos have different lengths: {len(inputs)} input frames, {len(outputs)} output frames")
    if not check_strength(strength):
        return outputs
    blend = TemporalBlend(strength, method)
    return torch.stack([blend(i, o) for i, o in zip(inputs, outputs)])
