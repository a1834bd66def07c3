"""Flicker (issue 23): the warping error (video/flicker.py) and its optical flow. Tiny sizes; random weights (the
measure does not depend on VGG19's weights: it compares a network's frames with each other)."""

import numpy as np
import pytest
import torch
from realtime_support import tiny_network
from video_support import shifted_clip

from tutorial_style import load_image
from tutorial_style.video.flicker import frame_flows, warping_error

cv2 = pytest.importorskip("cv2")  # the video extra, in the dev extra: CI has it
pytest.importorskip("av")


def test_a_still_video_has_warping_error_zero_for_any_per_frame_styling():
    still = load_image("chelsea", size=40).expand(5, 3, -1, -1)
    with torch.no_grad():
        styled = tiny_network()(still)
    assert warping_error(still).mean == 0.0
    assert warping_error(still, styled).mean == 0.0
    assert warping_error(still, 1 - still).mean == 0.0


def test_the_flow_of_a_clip_shifted_by_whole_pixels_is_that_shift():
    clip = shifted_clip(step=(2, 1))
    for pair in frame_flows(clip):
        kept = pair.flow[pair.mask]  # the flow from frame t back to t-1, where the check keeps it
        assert pair.mask.mean() > 0.8
        assert np.allclose(np.median(kept, axis=0), (2, 1), atol=0.1), np.median(kept, axis=0)


def test_an_output_that_moves_with_its_input_scores_near_zero_and_fresh_noise_does_not():
    clip = shifted_clip(step=(2, 1))
    moving = 1 - clip  # a styling pixel by pixel moves exactly with its input
    generator = torch.Generator().manual_seed(0)
    noisy = (moving + 0.1 * torch.randn(moving.shape, generator=generator)).clamp(0, 1)  # fresh noise in each frame
    flows = frame_flows(clip)
    still_ok, flickers = warping_error(clip, moving, flows=flows).mean, warping_error(clip, noisy, flows=flows).mean
    assert still_ok < 1e-3, still_ok
    assert flickers > 0.04 and flickers > 20 * still_ok, (still_ok, flickers)  # 3 channels x 2 x 0.1^2 = 0.06 expected
