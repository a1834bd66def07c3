"""Video: frames in and out, flicker measured and reduced, and the temporal term that trains a network against it.

``frames.py``: video files read and written with PyAV, each frame passed through a network (:func:`transform_video`).
``flicker.py``: the warping error of a styled video (Lai et al. 2018), with OpenCV's optical flow.
``smoothing.py``: a run-time blend of each styled frame with the previous one along the input's motion.
``temporal.py``: the temporal term of a network's training (the output of a moved photo is the moved output).
``clips.py``: test clips made from the bundled photos, without any video download.
"""

from .frames import VideoError, VideoResult, read_video, transform_video, write_video
from .temporal import Motion, TemporalTerm, temporal_loss

__all__ = [
    "VideoError",
    "VideoResult",
    "read_video",
    "write_video",
    "transform_video",
    "Motion",
    "TemporalTerm",
    "temporal_loss",
]
