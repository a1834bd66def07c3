"""A trained style network put to use: images, folders and videos through it, the ONNX export, the command line.

No training here: a StyleNetwork with its random initial weights is saved as a checkpoint, which is all these tools
read. Tiny sizes throughout.
"""

from fractions import Fraction

import numpy as np
import pytest
import torch

from tutorial_style import load_image
from tutorial_style.cli import main
from tutorial_style.deploy import ExportError
from tutorial_style.realtime import StyleNetwork, load_network, save_checkpoint, stylize_folder, stylize_images, stylize_video
from tutorial_style.video import VideoError
from tutorial_style.deploy.export import check_onnx, onnx_session, run_onnx

av = pytest.importorskip("av")  # in the dev extra: CI has it

META = {"style": "mosaic", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False, "steps": 0}


def tiny_network(seed=0) -> StyleNetwork:
    torch.manual_seed(seed)
    net = StyleNetwork(width=0.25, blocks=1)
    with torch.no_grad():  # instance norm starts as the identity; give its scale and shift values too
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    return net.eval()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("net") / "net.pt"
    save_checkpoint(path, tiny_network(), META)
    return path


def write_video(path, frames: int, width: int, height: int, fps=Fraction(30000, 1001), audio=False):
    """A small video of a bright bar moving over a gradient (and, if asked, a second of a 440 Hz tone); the frames."""
    made = []
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264" if path.suffix != ".avi" else "mpeg4", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        stream.options = {"crf": "10"} if path.suffix != ".avi" else {}
        sound = out.add_stream("aac", rate=44100) if audio else None  # every stream before the first packet
        for i in range(frames):
            array = np.tile(np.linspace(30, 200, width, dtype=np.uint8), (height, 1))[..., None].repeat(3, axis=2)
            array[:, (3 * i) % width : (3 * i) % width + 5] = (250, 60, 20)
            made.append(array.copy())
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if audio:
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(44100) / 44100)).astype(np.float32)
            for start in range(0, 44100, 1024):
                frame = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp", layout="mono")
                frame.sample_rate = 44100
                for packet in sound.encode(frame):
                    out.mux(packet)
            for packet in sound.encode():
                out.mux(packet)
    return made


def read_video(path):
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(stream)]
        return frames, stream.average_rate, len(video.streams.audio)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# --- the network's instance norm --------------------------------------------------------------------------------


def test_the_networks_instance_norm_is_torchs_instance_norm():
    from tutorial_style.realtime.network import InstanceNorm

    norm, reference = InstanceNorm(6), torch.nn.InstanceNorm2d(6, affine=True)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2)
        norm.bias.uniform_(-1, 1)
    reference.load_state_dict(norm.state_dict())  # the same weights, under the same names
    x = torch.randn(3, 6, 11, 7) * 4 + 2
    torch.testing.assert_close(norm(x), reference(x), atol=1e-5, rtol=1e-5)
    assert isinstance(norm, torch.nn.InstanceNorm2d)


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
def test_a_video_keeps_its_frames_size_and_frame_rate_and_each_frame_goes_through_the_network(tmp_path, suffix, width, height):
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    fps = Fraction(30000, 1001) if suffix != ".avi" else Fraction(12)
    write_video(source, 6, width, height, fps, audio=suffix == ".mp4")
    net = tiny_network()
    result = stylize_video(net, source, target, batch_size=4, progress=False)
    inputs, _, _ = read_video(source)
    outputs, rate, audio_streams = read_video(target)
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


def test_an_unreadable_video_is_a_one_line_error_and_writes_nothing(tmp_path, checkpoint, capsys):
    write_video(tmp_path / "good.mp4", 4, 32, 24)
    data = (tmp_path / "good.mp4").read_bytes()
    (tmp_path / "half.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.mp4").write_text("not a video at all")
    for name in ("half.mp4", "text.mp4", "missing.mp4"):
        assert main(["stylize", str(tmp_path / name), "--network", str(checkpoint), "-o", str(tmp_path / "out" / "o.mp4")]) == 2
        assert name in one_line_error(capsys)
    assert not list((tmp_path / "out").iterdir())
    with pytest.raises(VideoError, match="unknown video file type"):
        stylize_video(tiny_network(), tmp_path / "good.mp4", tmp_path / "o.gif")


def test_ctrl_c_during_a_video_keeps_nothing_half_written_and_exits_130(tmp_path, checkpoint, monkeypatch, capsys):
    source, target = tmp_path / "in.mp4", tmp_path / "out" / "out.mp4"
    write_video(source, 9, 32, 24)
    target.parent.mkdir()
    forward, calls = StyleNetwork.forward, []

    def interrupted(self, images):
        calls.append(len(images))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return forward(self, images)

    monkeypatch.setattr(StyleNetwork, "forward", interrupted)
    assert main(["stylize", str(source), "--network", str(checkpoint), "-o", str(target)]) == 130
    assert calls == [4, 4]  # it was stopped in the middle of the video
    assert list(target.parent.iterdir()) == []  # neither the video nor its temporary file


# --- ONNX -----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(checkpoint, tmp_path_factory):
    """The checkpoint exported once through the command line (the export itself takes a few seconds)."""
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("onnx") / "net.onnx"
    assert main(["export", str(checkpoint), "--onnx", str(path)]) == 0
    return path


def test_onnx_runtime_gives_pytorchs_output_at_several_sizes_from_one_exported_model(exported, checkpoint):
    import onnx

    model = onnx.load(str(exported))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims[1] == 3 and all(isinstance(d, str) and d for d in (dims[0], dims[2], dims[3]))  # batch, height, width
    session = onnx_session(exported)
    net = load_network(checkpoint)
    for shape in [(1, 3, 33, 47), (3, 3, 16, 24), (1, 3, 6, 2)]:  # odd sizes, a multiple of 4, smaller than the kernel
        images = torch.rand(shape)
        with torch.inference_mode():
            expected = net(images)
        got = run_onnx(session, images)
        assert got.shape == expected.shape
        torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    assert sorted(p.name for p in exported.parent.iterdir()) == ["net.onnx"]  # written atomically: no temporary left


def test_the_export_check_catches_a_model_that_is_not_the_network(exported, checkpoint, tmp_path):
    copy = tmp_path / "other.onnx"
    copy.write_bytes(exported.read_bytes())
    assert check_onnx(copy, load_network(checkpoint)) < 1e-4
    with pytest.raises(ExportError, match="differs from the network"):
        check_onnx(copy, tiny_network(seed=1))


def test_export_wants_an_onnx_file_name(checkpoint, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "x.png")]) == 2
    assert ".onnx" in one_line_error(capsys)


# --- the command line -----------------------------------------------------------------------------------------------


def test_stylize_with_a_network_writes_the_image_at_its_own_size_and_says_which_weights_trained_it(tmp_path, checkpoint, capsys):
    out = tmp_path / "coffee.png"
    assert main(["stylize", "coffee", "--network", str(checkpoint), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "RANDOM" in printed and "mosaic" in printed
    assert load_image(out).shape == load_image("coffee").shape
    assert main(["stylize", "coffee", "--network", str(checkpoint), "-o", str(out), "--size", "40"]) == 0
    assert max(load_image(out).shape[-2:]) == 40


def test_stylize_with_a_network_does_a_folder_and_a_video(tmp_path, checkpoint, capsys):
    from tutorial_style import save_image

    photos = tmp_path / "photos"
    photos.mkdir()
    save_image(torch.rand(1, 3, 16, 20), photos / "one.png")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    assert main(["stylize", str(photos), "--network", str(checkpoint), "-o", str(tmp_path / "styled")]) == 0
    captured = capsys.readouterr()
    assert [p.name for p in (tmp_path / "styled").iterdir()] == ["one.png"]
    assert "broken.jpg" in captured.err and "skipped 1 file" in captured.out
    write_video(tmp_path / "clip.mp4", 5, 32, 24, fps=Fraction(25), audio=True)
    assert main(["stylize", str(tmp_path / "clip.mp4"), "--network", str(checkpoint), "-o", str(tmp_path / "clip-styled.mp4")]) == 0
    assert "5 frames" in capsys.readouterr().out
    frames, rate, _ = read_video(tmp_path / "clip-styled.mp4")
    assert len(frames) == 5 and rate == 25


class _Payload:
    """Unpickling this creates the file ``marker``: a stand-in for code an attacker would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("kind", ["damaged", "foreign", "code-carrying", "empty"])
@pytest.mark.parametrize("command", ["stylize", "export"])
def test_a_bad_checkpoint_is_a_one_line_error(tmp_path, checkpoint, capsys, kind, command):
    bad, marker = tmp_path / "bad.pt", tmp_path / "code-ran"
    if kind == "damaged":
        data = checkpoint.read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif kind == "foreign":
        torch.save({"state_dict": {"w": torch.zeros(2)}}, bad)
    elif kind == "code-carrying":
        torch.save({"format": "tutorial_style.StyleNetwork/1", "payload": _Payload(marker)}, bad)
    else:
        bad.write_bytes(b"")
    args = ["stylize", "coffee", "--network", str(bad), "-o", str(tmp_path / "o.png")]
    args = args if command == "stylize" else ["export", str(bad), "--onnx", str(tmp_path / "o.onnx")]
    assert main(args) == 2
    error = one_line_error(capsys)
    assert "bad.pt" in error and ("could run code" in error) == (kind == "code-carrying")
    assert not marker.exists() and not (tmp_path / "o.png").exists() and not (tmp_path / "o.onnx").exists()


def test_style_images_and_the_network_exclude_each_other(tmp_path, checkpoint, capsys):
    out = str(tmp_path / "o.png")
    assert main(["stylize", "coffee", "mosaic", "--network", str(checkpoint), "-o", out]) == 2
    assert "no STYLE" in one_line_error(capsys)
    assert main(["stylize", "coffee", "-o", out, "--weights", "random"]) == 2
    assert "at least one STYLE" in one_line_error(capsys)
    assert main(["stylize", "coffee", "--network", str(checkpoint), "-o", out, "--steps", "5"]) == 2
    assert "--steps" in one_line_error(capsys)
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("module, command", [("av", "video"), ("onnxscript", "export"), ("onnxruntime", "export")])
def test_a_missing_optional_package_says_what_to_pip_install(tmp_path, checkpoint, capsys, monkeypatch, module, command):
    write_video(tmp_path / "in.mp4", 2, 16, 16)
    monkeypatch.setitem(__import__("sys").modules, module, None)  # `import module` now fails as if not installed
    if command == "video":
        args = ["stylize", str(tmp_path / "in.mp4"), "--network", str(checkpoint), "-o", str(tmp_path / "out.mp4")]
    else:
        args = ["export", str(checkpoint), "--onnx", str(tmp_path / "out.onnx")]
    assert main(args) == 2
    assert f"pip install {module}" in one_line_error(capsys)
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.onnx").exists()
