"""A trained network applied (realtime/stylize.py): images of several sizes, a batch, a folder and a video through
it; the caller's network stays where it is. No training: a StyleNetwork with its random initial weights. Tiny
sizes throughout."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from realtime_support import spy_network, tiny_network
from video_support import read_frames, write_moving_bar

from tutorial_style import load_image
from tutorial_style.realtime import stylize_folder, stylize_images, stylize_video

# --- images and folders -------------------------------------------------------------------------------------------


def test_a_list_of_images_of_several_sizes_gives_what_each_image_alone_gives():
    net = tiny_network()
    images = [torch.rand(1, 3, 20, 28), torch.rand(3, 13, 9), torch.rand(1, 3, 20, 28), torch.rand(1, 3, 20, 28)]
    out = stylize_images(net, images, batch_size=2)
    with torch.no_grad():
        alone = [net(image if image.dim() == 4 else image[None]) for image in images]
    assert [tuple(o.shape) for o in out] == [(1, 3, 20, 28), (1, 3, 13, 9), (1, 3, 20, 28), (1, 3, 20, 28)]
    for got, expected in zip(out, alone):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert not any(o.requires_grad for o in out)


def test_a_batch_tensor_keeps_its_shape_and_the_network_its_mode():
    net = tiny_network().train()
    batch = torch.rand(5, 3, 17, 22)
    out = stylize_images(net, batch, batch_size=2)
    assert out.shape == batch.shape and out.min() >= 0 and out.max() <= 1
    assert stylize_images(net, batch[0]).shape == (3, 17, 22)
    assert net.training
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stylize_images(net, batch * 255)


def test_a_folder_is_stylised_under_the_same_names_and_unreadable_files_are_skipped(tmp_path):
    from tutorial_style import save_image

    source, target = tmp_path / "photos", tmp_path / "styled"
    source.mkdir()
    pictures = {"a.png": torch.rand(1, 3, 24, 32), "b.png": torch.rand(1, 3, 24, 32), "c.jpg": torch.rand(1, 3, 19, 11)}
    for name, image in pictures.items():
        save_image(image, source / name)
    (source / "notes.txt").write_text("not a picture")
    (source / "empty.png").write_bytes(b"")
    net = tiny_network()
    done = stylize_folder(net, source, target, batch_size=4, progress=False)
    assert sorted(p.name for p in done.written) == ["a.png", "b.png", "c.jpg"]
    assert sorted(p.name for p, _ in done.skipped) == ["empty.png", "notes.txt"]
    assert sorted(p.name for p in target.iterdir()) == ["a.png", "b.png", "c.jpg"]  # no temporary files left
    for name in ("a.png", "b.png"):  # PNG is lossless: each result is the network's output, to 8 bits
        expected = stylize_images(net, load_image(source / name))
        assert (load_image(target / name) - expected).abs().max() <= 0.5 / 255 + 1e-6
    assert load_image(target / "c.jpg").shape == (1, 3, 19, 11)
    with pytest.raises(ValueError, match="is the input folder"):
        stylize_folder(net, source, source, progress=False)


# --- video --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix, width, height", [(".mp4", 40, 24), (".mkv", 33, 25), (".avi", 32, 24)])
def test_a_video_keeps_its_frames_size_and_frame_rate_and_each_frame_goes_through_the_network(
    tmp_path, suffix, width, height
):
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    fps = Fraction(30000, 1001) if suffix != ".avi" else Fraction(12)
    write_moving_bar(source, 6, width, height, fps, audio=suffix == ".mp4")
    net = tiny_network()
    result = stylize_video(net, source, target, batch_size=4, progress=False)
    inputs, _, _ = read_frames(source)
    outputs, rate, audio_streams = read_frames(target)
    assert (result.frames, result.width, result.height) == (6, width, height)
    assert len(outputs) == 6 and outputs[0].shape == (height, width, 3)
    assert rate == fps and result.fps == fps
    assert audio_streams == 0 and result.audio_dropped == (suffix == ".mp4")
    frames = torch.from_numpy(np.stack(inputs)).permute(0, 3, 1, 2).float() / 255
    expected = stylize_images(net, frames)
    got = torch.from_numpy(np.stack(outputs)).permute(0, 3, 1, 2).float() / 255
    error = (got - expected).abs().mean(dim=(1, 2, 3))  # each frame against the network's output for it
    assert ((got - frames).abs().mean(dim=(1, 2, 3)) > 3 * error).all()  # the network changed the pictures ...
    assert ((got - expected.roll(1, 0)).abs().mean(dim=(1, 2, 3)) > 1.5 * error).all()  # ... each into its own output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, target.name])


# --- the caller's network (issue 21) ----------------------------------------------------------------------------------


def test_the_stylising_functions_leave_the_callers_network_where_it_is():
    """Bug 6: the forward pass called network.to(device) on the caller's network.
    Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.realtime import stylize_images

    spy = spy_network()
    out = stylize_images(spy, torch.rand(2, 3, 20, 24), device="cpu")
    assert out.shape == (2, 3, 20, 24) and not spy.moved and spy.training
    from tutorial_style.vgg import on_device

    copy = on_device(spy, torch.device("meta"))  # another device: a copy goes there, the network stays
    assert (
        copy is not spy
        and next(copy.parameters()).device.type == "meta"
        and next(spy.parameters()).device.type == "cpu"
    )
