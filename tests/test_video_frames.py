"""Video files read and written (video/frames.py), and ``video-stats``: the warping error of a styled video against
its input, through the command line. Tiny sizes."""

import pytest
import torch
from cli_support import one_line_error
from video_support import shifted_clip

from tutorial_style.cli import main
from tutorial_style.video.frames import read_video, write_video

cv2 = pytest.importorskip("cv2")  # the video extra, in the dev extra: CI has it


pytest.importorskip("av")


def test_video_stats_prints_the_warping_error_of_a_styled_video(tmp_path, capsys):
    clip = shifted_clip(frames=5, size=32)
    write_video(clip, tmp_path / "in.mp4", fps=10)
    write_video(1 - clip, tmp_path / "out.mp4", fps=10)
    assert main(["video-stats", str(tmp_path / "in.mp4"), str(tmp_path / "out.mp4")]) == 0
    out = capsys.readouterr().out
    assert "5 frames of 32x32 px" in out and "output" in out and "input" in out
    frames, fps = read_video(tmp_path / "in.mp4")
    assert frames.shape == (5, 3, 32, 32) and fps == 10


def test_bad_videos_are_one_line_errors(tmp_path, capsys):
    clip = shifted_clip(frames=4, size=32)
    write_video(clip, tmp_path / "four.mp4", fps=10)
    write_video(clip[:3], tmp_path / "three.mp4", fps=10)
    write_video(clip[:1], tmp_path / "one.mp4", fps=10)
    write_video(torch.nn.functional.interpolate(clip, size=(24, 32)), tmp_path / "small.mp4", fps=10)
    (tmp_path / "text.mp4").write_text("not a video")
    cases = {
        ("four.mp4", "three.mp4"): "3 frames",
        ("four.mp4", "small.mp4"): "32x24",
        ("one.mp4", "one.mp4"): "1 frame",
        ("four.mp4", "text.mp4"): "text.mp4",
        ("missing.mp4", "four.mp4"): "missing.mp4",
    }
    for (a, b), expected in cases.items():
        assert main(["video-stats", str(tmp_path / a), str(tmp_path / b)]) == 2
        assert expected in one_line_error(capsys)
    assert main(["video-stats", str(tmp_path / "four.mp4"), str(tmp_path / "four.mp4"), "--max-frames", "1"]) == 2
    assert "--max-frames" in one_line_error(capsys)
