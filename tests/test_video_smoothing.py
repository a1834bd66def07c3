"""The run-time blend (issue 23's aid, video/smoothing.py): each styled frame blended with the previous one along the
input's motion. Tiny sizes; no VGG19 (the blend acts on a network's frames, whatever made them)."""

import pytest
import torch
from cli_support import one_line_error
from realtime_support import tiny_network
from video_support import shifted_clip

from tutorial_style.cli import main
from tutorial_style.realtime import save_checkpoint
from tutorial_style.realtime.stylize import stylize_video
from tutorial_style.video.flicker import frame_flows, warping_error
from tutorial_style.video.frames import read_video, write_video
from tutorial_style.video.smoothing import TemporalBlend, blend_video

pytest.importorskip("cv2")  # the video extra, in the dev extra: CI has it
pytest.importorskip("av")


def test_strength_zero_returns_the_networks_frames_unchanged():
    clip = shifted_clip(frames=4, size=32)
    styled = torch.rand_like(clip)
    assert torch.equal(blend_video(clip, styled, 0.0), styled)
    blend = TemporalBlend(0.0)  # frame by frame too
    assert all(torch.equal(blend(frame, out), out) for frame, out in zip(clip, styled))


def test_on_a_still_video_each_frame_is_the_running_blend_of_the_network_s_frames():
    still = torch.rand(1, 3, 24, 32).expand(5, 3, 24, 32)
    styled = torch.rand(5, 3, 24, 32)
    s = 0.4
    expected = [styled[0]]
    for frame in styled[1:]:  # nothing moves and nothing is occluded: O'_t = (1 - s) O_t + s O'_t-1 everywhere
        expected.append((1 - s) * frame + s * expected[-1])
    assert torch.allclose(blend_video(still, styled, s), torch.stack(expected), atol=1e-5)


def test_on_a_moving_clip_the_blend_follows_the_motion_and_removes_fresh_noise():
    clip = shifted_clip(frames=8, step=(2, 1), size=48)
    torch.manual_seed(0)
    styled = (clip + 0.1 * torch.randn_like(clip)).clamp(0, 1)  # moves with the input, plus fresh noise in each frame
    blended = blend_video(clip, styled, 0.5)
    # judged with the other flow estimator (Farneback), not the DIS flow the blend used
    flows = frame_flows(clip, method="farneback")
    before, after = warping_error(clip, styled, flows=flows).mean, warping_error(clip, blended, flows=flows).mean
    # i.i.d. noise of variance v: 2v between raw frames, (1 - s)^2 2v / (1 + s) = v / 3 after the blend (s = 0.5)
    assert after < 0.35 * before, (before, after)
    # following the motion, not smearing it: the blend stays closer to the noise-free frames than the noisy ones are
    assert (blended[1:] - clip[1:]).abs().mean() < 0.8 * (styled[1:] - clip[1:]).abs().mean()
    # what moves in at the edges (the last column and row: the window moves right and down) is not in the previous
    # frame, so it is the network's own
    assert torch.allclose(blended[1:, :, :, -1], styled[1:, :, :, -1], atol=1e-6)
    assert torch.allclose(blended[1:, :, -1, :], styled[1:, :, -1, :], atol=1e-6)


def test_a_change_of_size_or_a_reset_starts_the_blend_again():
    blend = TemporalBlend(0.5)
    still_small, still_large = torch.full((3, 16, 16), 0.5), torch.full((3, 20, 20), 0.5)
    zeros, ones = torch.zeros(3, 20, 20), torch.ones(3, 20, 20)
    blend(still_small, torch.zeros(3, 16, 16))
    assert torch.equal(blend(still_large, zeros), zeros)  # a new size: the network's frame as it is
    assert torch.allclose(blend(still_large, ones), torch.full_like(ones, 0.5))  # then blended with it
    blend.reset()
    assert torch.equal(blend(still_large, ones), ones)


def test_the_blend_keeps_the_styled_frames_dtype():
    blend = TemporalBlend(0.5)
    still = torch.full((3, 16, 16), 0.5)
    for _ in range(2):
        out = blend(still, torch.rand(3, 16, 16, dtype=torch.float64))
    assert out.dtype == torch.float64


@pytest.mark.parametrize("strength", [-0.1, 1.0, "much"])
def test_a_strength_outside_zero_to_one_is_refused_by_name(strength):
    with pytest.raises(ValueError, match="^strength must be"):
        TemporalBlend(strength)
    with pytest.raises(ValueError, match="^temporal_blend must be"):  # stylize_video's keyword, before any file is read
        stylize_video(tiny_network(), "no-such-input.mp4", "out.mp4", temporal_blend=strength)


def test_bad_frames_and_methods_are_one_line_errors():
    with pytest.raises(ValueError, match="flow method must be one of dis, farneback"):
        TemporalBlend(0.5, method="bogus")
    blend = TemporalBlend(0.5)
    with pytest.raises(ValueError, match=r"\(3, 16, 16\) and its styling \(3, 8, 8\) differ in size"):
        blend(torch.zeros(3, 16, 16), torch.zeros(3, 8, 8))
    tiny = shifted_clip(frames=2, size=6)
    with pytest.raises(ValueError, match="cannot follow frames of 6x6 px"):
        blend_video(tiny, tiny, 0.5)


def test_stylize_blends_a_video_on_the_command_line_and_refuses_blend_elsewhere(tmp_path, capsys):
    checkpoint = tmp_path / "net.pt"
    save_checkpoint(
        checkpoint,
        tiny_network(),
        {"style": "mosaic", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False, "steps": 0},
    )
    torch.manual_seed(1)
    clip = shifted_clip(frames=6, size=48)
    write_video((clip + 0.08 * torch.randn_like(clip)).clamp(0, 1), tmp_path / "in.mp4", fps=10)
    common = ["stylize", str(tmp_path / "in.mp4"), "--network", str(checkpoint), "-o"]
    assert main([*common, str(tmp_path / "plain.mp4")]) == 0
    assert main([*common, str(tmp_path / "blended.mp4"), "--temporal-blend", "0.6"]) == 0
    assert "blended along the motion, strength 0.6" in capsys.readouterr().out
    inputs, _ = read_video(tmp_path / "in.mp4")
    plain, _ = read_video(tmp_path / "plain.mp4")
    blended, _ = read_video(tmp_path / "blended.mp4")
    assert blended.shape == plain.shape == inputs.shape
    flows = frame_flows(inputs, method="farneback")
    assert warping_error(inputs, blended, flows=flows).mean < 0.7 * warping_error(inputs, plain, flows=flows).mean

    for args, expected in (
        ([*common, str(tmp_path / "x.mp4"), "--temporal-blend", "1.5"], "--temporal-blend must be in [0, 1)"),
        (
            [
                "stylize",
                "astronaut",
                "--network",
                str(checkpoint),
                "-o",
                str(tmp_path / "x.png"),
                "--temporal-blend",
                "0.3",
            ],
            "video only",
        ),
        (["stylize", "astronaut", "mosaic", "-o", str(tmp_path / "x.png"), "--temporal-blend", "0.3"], "--network"),
    ):
        assert main(args) == 2
        assert expected in one_line_error(capsys)
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x.png").exists()
