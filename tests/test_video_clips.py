"""The test clips (video/clips.py): they move, one is held out, and each is the same every time."""

import torch

from tutorial_style.video.clips import CLIPS, HELD_OUT_CLIP, make_clip


def test_the_test_clips_move_and_one_is_held_out():
    assert HELD_OUT_CLIP in CLIPS and len(CLIPS) >= 3
    clip = make_clip(HELD_OUT_CLIP, frames=4, size=48)
    assert clip.shape == (4, 3, 48, 48) and 0 <= float(clip.min()) and float(clip.max()) <= 1
    assert float((clip[1:] - clip[:-1]).abs().mean()) > 0.01  # the camera moves (and the noise is fresh)
    again = make_clip(HELD_OUT_CLIP, frames=4, size=48)
    assert torch.equal(clip, again)  # the same clip every time
