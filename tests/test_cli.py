"""The command line: results, one-line errors, exit codes."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from fractions import Fraction

import pytest
import torch
from cli_support import one_line_error
from odd_files import Payload
from realtime_support import TRAIN_FLAGS, tiny_network
from video_support import needs_video_tools, read_frames, shifted_clip, write_moving_bar

import tutorial_style as ts
import tutorial_style.optimize as optimize
from tutorial_style import load_image
from tutorial_style.cli import main
from tutorial_style.realtime import StyleNetwork, stylize_video
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.checkpoint import load_checkpoint
from tutorial_style.video import VideoError
from tutorial_style.video.frames import write_video


def cli(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "tutorial_style", *args], capture_output=True, text=True, timeout=300, **kwargs
    )


def test_stylize_writes_an_image_with_the_aspect_kept(tmp_path):
    out = tmp_path / "out.png"
    done = cli("stylize", "coffee", "mosaic", "-o", str(out), "--size", "64", "--steps", "5", "--weights", "random")
    assert done.returncode == 0, done.stderr
    image = load_image(out)
    original = load_image("coffee")
    assert max(image.shape[-2:]) == 64
    assert abs(image.shape[-1] / image.shape[-2] - original.shape[-1] / original.shape[-2]) < 0.05
    assert "RANDOM" in done.stdout


def test_a_missing_input_is_one_line_and_non_zero(tmp_path):
    done = cli("stylize", str(tmp_path / "missing.png"), "mosaic", "-o", str(tmp_path / "o.png"), "--weights", "random")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing.png" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "o.png").exists()


def test_bad_values_are_one_line_errors(tmp_path, capsys):
    assert (
        main(["stylize", "coffee", "mosaic", "-o", str(tmp_path / "o.png"), "--steps", "0", "--weights", "random"]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: steps") and len(err.strip().splitlines()) == 1


def test_fetch_weights_offline_says_how_to_fix(tmp_path):
    env = {**__import__("os").environ, "TORCH_HOME": str(tmp_path)}
    # An address that refuses connections at once stands in for "offline".
    code = (
        "import tutorial_style.weights as w; w.IMAGENET_URL = 'http://127.0.0.1:9/vgg19-dcbb9e9d.pth';"
        "from tutorial_style.cli import main; raise SystemExit(main(['fetch-weights']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "fetch-weights" in done.stderr and "Traceback" not in done.stderr


def test_images_lists_credits(capsys):
    assert main(["images"]) == 0
    out = capsys.readouterr().out
    assert "astronaut" in out and "Public domain" in out and "CC0" in out


def _settings_used(monkeypatch, tmp_path, *flags):
    """The settings the CLI passes to stylize for ``flags`` (stylize itself replaced by a recorder)."""
    import tutorial_style.optimize as optimize

    seen = {}

    def record(content, style, settings, **kwargs):
        seen.update(settings.as_dict())
        return optimize.StyleTransferResult(content, [], False, optimize.get_vgg("random").weights_info)

    monkeypatch.setattr(optimize, "stylize", record)
    assert (
        main(
            [
                "stylize",
                "coffee",
                "mosaic",
                "-o",
                str(tmp_path / "o.png"),
                "--size",
                "32",
                "--weights",
                "random",
                *flags,
            ]
        )
        == 0
    )
    return seen


def test_the_default_is_the_fast_preset_and_flags_override_it(monkeypatch, tmp_path):
    from tutorial_style import PRESETS

    fast = _settings_used(monkeypatch, tmp_path)
    assert (fast["init"], fast["steps"]) == ("content", PRESETS["fast"]["steps"])
    paper = _settings_used(monkeypatch, tmp_path, "--preset", "paper")
    assert (paper["init"], paper["steps"]) == ("noise", 500)
    mixed = _settings_used(monkeypatch, tmp_path, "--preset", "paper", "--steps", "7", "--init", "style")
    assert (mixed["init"], mixed["steps"]) == ("style", 7)


def test_an_unknown_preset_is_refused_with_the_choices(tmp_path):
    done = cli("stylize", "coffee", "mosaic", "-o", str(tmp_path / "o.png"), "--preset", "turbo")
    assert done.returncode == 2 and "fast" in done.stderr and "paper" in done.stderr and "Traceback" not in done.stderr


def test_lr_sets_adams_learning_rate(tmp_path, monkeypatch):
    """--lr reaches Adam: its first step moves each pixel by lr (times the sign of its gradient)."""
    import tutorial_style.optimize as optimize

    real, frames = optimize.stylize, []

    def watch(content, style, *args, **kwargs):
        given = kwargs.get("callback")

        def keep(step, image, losses):
            frames.append(image.clone())
            return given(step, image, losses) if given is not None else None

        return real(content, style, *args, **{**kwargs, "callback": keep})

    monkeypatch.setattr(optimize, "stylize", watch)
    argv = [
        "stylize",
        "coffee",
        "mosaic",
        "-o",
        str(tmp_path / "o.png"),
        "--size",
        "32",
        "--steps",
        "2",
        "--weights",
        "random",
    ]
    assert main([*argv, "--optimizer", "adam", "--lr", "0.3"]) == 0
    assert load_image(tmp_path / "o.png").shape[-1] == 32
    start = frames[0]  # the fast preset starts from the content image
    room = (start > 0.31) & (start < 0.69)
    assert float((frames[1] - start).abs()[room].median()) == pytest.approx(0.3, abs=1e-3)


def test_lr_with_lbfgs_is_a_one_line_error(tmp_path, capsys):
    argv = [
        "stylize",
        "coffee",
        "mosaic",
        "-o",
        str(tmp_path / "o.png"),
        "--size",
        "32",
        "--steps",
        "2",
        "--weights",
        "random",
    ]
    assert main([*argv, "--lr", "0.3"]) == 2
    err = capsys.readouterr().err
    assert "lr" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o.png").exists()


# --- apply: one pass through a trained network (its old spelling: stylize CONTENT --network NET.pt) ----------------


@pytest.fixture()
def network_file(tmp_path):
    from tutorial_style.realtime import StyleNetwork, save_checkpoint

    torch.manual_seed(0)
    meta = {"style": "mosaic", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False, "steps": 0}
    return save_checkpoint(tmp_path / "net.pt", StyleNetwork(width=0.25, blocks=1), meta)


def test_apply_gives_what_the_old_spelling_gives(tmp_path, network_file, capsys):
    new, old = tmp_path / "new.png", tmp_path / "old.png"
    assert main(["apply", str(network_file), "coffee", "-o", str(new), "--size", "48"]) == 0
    assert "RANDOM" in capsys.readouterr().out
    assert main(["stylize", "coffee", "--network", str(network_file), "-o", str(old), "--size", "48"]) == 0
    assert max(load_image(new).shape[-2:]) == 48
    torch.testing.assert_close(load_image(new), load_image(old), atol=0, rtol=0)


def test_apply_has_none_of_the_optimisations_flags(tmp_path, network_file, capsys):
    with pytest.raises(SystemExit):
        main(["apply", str(network_file), "coffee", "-o", str(tmp_path / "o.png"), "--steps", "5"])
    assert "unrecognized arguments: --steps" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_the_old_spelling_still_refuses_the_optimisations_flags_in_one_line(tmp_path, network_file, capsys):
    assert (
        main(["stylize", "coffee", "--network", str(network_file), "-o", str(tmp_path / "o.png"), "--alpha", "1"]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--alpha" in err[0] and "--network does not run" in err[0]


def test_apply_names_a_missing_network_in_one_line(tmp_path, capsys):
    assert main(["apply", str(tmp_path / "none.pt"), "coffee", "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none.pt" in err[0]


# --- several styles in one network (issue 27): train STYLE1 STYLE2 ..., --base, apply --style / --mix ------------

TINY_TRAIN = ["--size", "32", "--batch", "2", "--width", "0.25", "--blocks", "1", "--weights", "random"]


@pytest.fixture()
def styles_file(tmp_path):
    """A checkpoint of a network of two styles whose γ and β differ per style (untrained: what apply reads)."""
    from tutorial_style.realtime import StyleNetwork, save_checkpoint

    torch.manual_seed(0)
    net = StyleNetwork(width=0.25, blocks=1, styles=["mosaic", "swirls"])
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    meta = {"style": "mosaic, swirls", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False}
    return save_checkpoint(tmp_path / "two.pt", net, meta)


def test_apply_mix_of_one_style_alone_is_that_styles_output(tmp_path, styles_file, capsys):
    outs = {}
    for name, flags in {
        "style": ["--style", "mosaic"],
        "mix": ["--mix", "mosaic=1", "swirls=0"],
        "other": ["--style", "swirls"],
        "half": ["--mix", "mosaic=0.5", "swirls=0.5"],
    }.items():
        outs[name] = tmp_path / f"{name}.png"
        assert main(["apply", str(styles_file), "coffee", "-o", str(outs[name]), "--size", "48", *flags]) == 0
    image = {name: load_image(path) for name, path in outs.items()}
    assert torch.equal(image["mix"], image["style"])
    assert not torch.equal(image["other"], image["style"]) and not torch.equal(image["half"], image["style"])
    old = tmp_path / "old.png"  # the old spelling takes them too
    assert (
        main(["stylize", "coffee", "--network", str(styles_file), "-o", str(old), "--size", "48", "--style", "mosaic"])
        == 0
    )
    assert torch.equal(load_image(old), image["style"])


@pytest.mark.parametrize(
    "flags, message",
    [
        ([], "holds 2 styles (mosaic, swirls); pick one with --style"),
        (["--mix", "mosaic"], "--mix: 'mosaic' is not NAME=WEIGHT"),
        (["--mix", "mosaic=lots"], "--mix: 'mosaic=lots' is not NAME=WEIGHT"),
        (["--mix", "cubism=1"], "--mix: no style 'cubism' in this network (its styles: mosaic, swirls)"),
        (["--style", "cubism"], "--style: no style 'cubism' in this network (its styles: mosaic, swirls)"),
        (["--mix", "mosaic=-1", "swirls=1"], "--mix: the weight of 'mosaic' must be at least 0"),
        (["--mix", "mosaic=0", "swirls=0"], "--mix: the weights are all 0"),
        (["--mix", "mosaic=nan"], "--mix: the weight of 'mosaic' must be finite"),
        (["--mix", "mosaic=inf"], "--mix: the weight of 'mosaic' must be finite"),
        (["--style", "mosaic", "--mix", "mosaic=1"], "not both"),
    ],
)
def test_bad_style_choices_are_one_line_errors(tmp_path, styles_file, capsys, flags, message):
    out = tmp_path / "o.png"
    assert main(["apply", str(styles_file), "coffee", "-o", str(out), "--size", "32", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err, err
    assert not out.exists()


def test_a_one_style_checkpoint_applies_as_today_and_takes_its_own_name(tmp_path, network_file, capsys):
    plain, named = tmp_path / "plain.png", tmp_path / "named.png"
    assert main(["apply", str(network_file), "coffee", "-o", str(plain), "--size", "40"]) == 0
    assert main(["apply", str(network_file), "coffee", "-o", str(named), "--size", "40", "--style", "mosaic"]) == 0
    assert torch.equal(load_image(plain), load_image(named))
    capsys.readouterr()
    assert main(["apply", str(network_file), "coffee", "-o", str(named), "--style", "swirls"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --style: this network has one style (mosaic); leave --style out", err


def test_train_two_styles_then_add_a_third_with_base(tmp_path, capsys):
    from tutorial_style.realtime import load_network

    data = tmp_path / "photos"
    data.mkdir()
    for name in ["astronaut", "rocket"]:
        (data / f"{name}.png").write_bytes(__import__("tutorial_style").bundled_images()[name].path.read_bytes())
    two, three = tmp_path / "two.pt", tmp_path / "three.pt"
    common = ["--data", str(data), "--steps", "2"]
    assert main(["train", "mosaic", "swirls", "-o", str(two), *common, *TINY_TRAIN]) == 0
    assert load_network(two).styles == ("mosaic", "swirls")
    capsys.readouterr()
    assert (
        main(
            [
                "train",
                "stripes",
                "--base",
                str(two),
                "-o",
                str(three),
                *common,
                "--width",
                "0.25",
                "--weights",
                "random",
            ]
        )
        == 2
    )
    assert "--base: --width cannot change the base network's shape" in capsys.readouterr().err
    assert main(["train", "stripes", "--base", str(two), "-o", str(two), *common, "--weights", "random"]) == 2
    assert "is the base network" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "stripes",
                "--base",
                str(two),
                "-o",
                str(three),
                *common,
                "--size",
                "32",
                "--batch",
                "2",
                "--weights",
                "random",
            ]
        )
        == 0
    )
    assert load_network(three).styles == ("mosaic", "swirls", "stripes")


# --- stylize with the 2017 controls: masks, several styles, colour, coarse to fine ------------------------------------


def _masks(folder, width=48, height=48):
    from PIL import Image

    left = Image.new("L", (width, height), 0)
    left.paste(255, (0, 0, width // 2, height))
    left.save(folder / "left.png")
    Image.eval(left, lambda v: 255 - v).save(folder / "right.png")
    Image.new("L", (width, height), 0).save(folder / "black.png")
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    return folder / "left.png", folder / "right.png"


def test_cli_control_flags_reach_stylize(monkeypatch, tmp_path):
    import tutorial_style.optimize as optimize
    from tutorial_style.cli import main

    seen = {}

    def record(content, style, settings, **kwargs):
        seen.update(
            settings=settings.as_dict(),
            styles=len(style) if isinstance(style, list) else 1,
            size=content.shape[-2:],
            **kwargs,
        )
        return optimize.StyleTransferResult(content, [], False, optimize.get_vgg("random").weights_info)

    monkeypatch.setattr(optimize, "stylize", record)
    left, right = _masks(tmp_path)
    argv = [
        "stylize",
        "chelsea",
        "mosaic",
        "swirls",
        "-o",
        str(tmp_path / "o.png"),
        "--weights",
        "random",
        "--mask",
        str(left),
        "--mask",
        str(right),
        "--preserve-colors",
        "histogram",
        "--tv-weight",
        "0.01",
        "--sizes",
        "32",
        "48",
        "--steps",
        "5",
        "3",
        "--mask-propagation",
        "all",
    ]
    assert main(argv) == 0
    s = seen["settings"]
    assert (s["preserve_colors"], s["tv_weight"], s["sizes"], s["steps"], s["mask_propagation"]) == (
        "histogram",
        0.01,
        (32, 48),
        (5, 3),
        "all",
    )
    assert (
        seen["styles"] == 2
        and [str(m) for m in seen["content_masks"]] == [str(left), str(right)]
        and max(seen["size"]) == 48
    )
    assert (
        main(["stylize", "chelsea", "mosaic", "swirls", "-o", str(tmp_path / "o.png"), "--style-blend", "1", "3"]) == 0
    )
    assert seen["settings"]["style_blend"] == (0.25, 0.75)


def test_cli_two_regions_coarse_to_fine_with_the_photos_colours(tmp_path):
    from tutorial_style.cli import main

    left, right = _masks(tmp_path)
    out = tmp_path / "regions.png"
    argv = [
        "stylize",
        "chelsea",
        "mosaic",
        "swirls",
        "-o",
        str(out),
        "--weights",
        "random",
        "--mask",
        str(left),
        str(right),
        "--sizes",
        "32",
        "48",
        "--steps",
        "2",
        "1",
        "--preserve-colors",
        "luminance",
    ]
    assert main(argv) == 0
    assert max(ts.load_image(out).shape[-2:]) == 48


@pytest.mark.parametrize(
    "masks, styles, message",
    [
        (["left.png"], ["mosaic", "swirls"], "1 content mask(s) for 2 style image(s)"),
        (["left.png", "right.png"], ["mosaic"], "region 2 has no style"),
        (["left.png", "black.png"], ["mosaic", "swirls"], "content mask 2 '{tmp}/black.png' is all zero"),
        (["left.png", "broken.png"], ["mosaic", "swirls"], "content mask 2: '{tmp}/broken.png'"),
        (["left.png", "gone.png"], ["mosaic", "swirls"], "gone.png"),
    ],
)
def test_cli_bad_masks_are_one_line_errors_before_any_work(masks, styles, message, tmp_path, monkeypatch, capsys):
    import tutorial_style.optimize as optimize
    from tutorial_style.cli import main

    def no_network(*args, **kwargs):
        raise AssertionError("the network was loaded before the masks were checked")

    monkeypatch.setattr(optimize, "get_vgg", no_network)
    _masks(tmp_path)
    out = tmp_path / "o.png"
    argv = [
        "stylize",
        "chelsea",
        *styles,
        "-o",
        str(out),
        "--size",
        "32",
        "--weights",
        "random",
        "--mask",
        *[str(tmp_path / m) for m in masks],
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and message.format(tmp=tmp_path) in err, err
    assert not out.exists()


def test_cli_ctrl_c_in_the_second_size_saves_the_best_image_and_exits_130(tmp_path, monkeypatch, capsys):
    import tutorial_style.optimize as optimize
    from tutorial_style.cli import main

    real, stages = optimize.minimize, []

    def minimize_with_ctrl_c(losses, x, **kwargs):
        stages.append(x.shape[-1])

        def pressed_in_stage_2(image):
            if len(stages) == 2:
                raise KeyboardInterrupt
            return losses(image)

        return real(pressed_in_stage_2, x, **kwargs)

    monkeypatch.setattr(optimize, "minimize", minimize_with_ctrl_c)
    out = tmp_path / "o.png"
    argv = [
        "stylize",
        "chelsea",
        "mosaic",
        "-o",
        str(out),
        "--weights",
        "random",
        "--sizes",
        "32",
        "48",
        "--steps",
        "2",
        "2",
    ]
    assert main(argv) == 130
    assert "interrupted after 2 of 4 steps" in capsys.readouterr().err
    assert max(ts.load_image(out).shape[-2:]) == 48  # the second stage's start: the best image there


# --- a trained network: stylize --network, export ---------------------------------------------------------------------


def test_an_unreadable_video_is_a_one_line_error_and_writes_nothing(tmp_path, checkpoint, capsys):
    write_moving_bar(tmp_path / "good.mp4", 4, 32, 24)
    data = (tmp_path / "good.mp4").read_bytes()
    (tmp_path / "half.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.mp4").write_text("not a video at all")
    for name in ("half.mp4", "text.mp4", "missing.mp4"):
        assert (
            main(["stylize", str(tmp_path / name), "--network", str(checkpoint), "-o", str(tmp_path / "out" / "o.mp4")])
            == 2
        )
        assert name in one_line_error(capsys)
    assert not list((tmp_path / "out").iterdir())
    with pytest.raises(VideoError, match="unknown video file type"):
        stylize_video(tiny_network(), tmp_path / "good.mp4", tmp_path / "o.gif")


def test_ctrl_c_during_a_video_keeps_nothing_half_written_and_exits_130(tmp_path, checkpoint, monkeypatch, capsys):
    source, target = tmp_path / "in.mp4", tmp_path / "out" / "out.mp4"
    write_moving_bar(source, 9, 32, 24)
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


def test_export_wants_an_onnx_file_name(checkpoint, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "x.png")]) == 2
    assert ".onnx" in one_line_error(capsys)


def test_stylize_with_a_network_writes_the_image_at_its_own_size_and_says_which_weights_trained_it(
    tmp_path, checkpoint, capsys
):
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
    write_moving_bar(tmp_path / "clip.mp4", 5, 32, 24, fps=Fraction(25), audio=True)
    assert (
        main(
            [
                "stylize",
                str(tmp_path / "clip.mp4"),
                "--network",
                str(checkpoint),
                "-o",
                str(tmp_path / "clip-styled.mp4"),
            ]
        )
        == 0
    )
    assert "5 frames" in capsys.readouterr().out
    frames, rate, _ = read_frames(tmp_path / "clip-styled.mp4")
    assert len(frames) == 5 and rate == 25


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
        torch.save({"format": "tutorial_style.StyleNetwork/1", "payload": Payload(marker)}, bad)
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
def test_a_missing_optional_package_says_what_to_pip_install(
    tmp_path, checkpoint, capsys, monkeypatch, module, command
):
    write_moving_bar(tmp_path / "in.mp4", 2, 16, 16)
    monkeypatch.setitem(__import__("sys").modules, module, None)  # `import module` now fails as if not installed
    if command == "video":
        args = ["stylize", str(tmp_path / "in.mp4"), "--network", str(checkpoint), "-o", str(tmp_path / "out.mp4")]
    else:
        args = ["export", str(checkpoint), "--onnx", str(tmp_path / "out.onnx")]
    assert main(args) == 2
    assert f"pip install {module}" in one_line_error(capsys)
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.onnx").exists()


# --- train ------------------------------------------------------------------------------------------------------------


def run_train(capsys, *args):
    code = main(["train", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_train_command_writes_a_network_and_resumes_it(photos, tmp_path, capsys):
    path = tmp_path / "net.pt"
    flags = [
        "--data",
        str(photos),
        "--size",
        "32",
        "--batch",
        "2",
        "--width",
        "0.25",
        "--blocks",
        "1",
        "--weights",
        "random",
    ]
    code, out, err = run_train(capsys, "mosaic", "-o", str(path), "--steps", "3", "--checkpoint-every", "2", *flags)
    assert code == 0, err
    assert "saved" in out and "3 steps" in out and "RANDOM" in out and "WARNING" in err
    code, out, err = run_train(capsys, "mosaic", "-o", str(path), "--steps", "3", *flags)
    assert code == 2 and "already exists; pass --resume" in err
    code, out, err = run_train(capsys, "mosaic", "-o", str(path), "--steps", "5", "--resume", *flags[:-4])
    assert code == 0, err
    assert "5 steps" in out and ts.load_network(path).config == {"width": 0.25, "blocks": 1}


def test_ctrl_c_in_the_train_command_saves_the_network_and_exits_130(photos, tmp_path, capsys, monkeypatch):
    step, calls = rt_train._step, []

    def interrupted_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return step(*args, **kwargs)

    monkeypatch.setattr(rt_train, "_step", interrupted_step)
    path = tmp_path / "net.pt"
    code, out, err = run_train(
        capsys,
        "mosaic",
        "-o",
        str(path),
        "--data",
        str(photos),
        "--size",
        "32",
        "--batch",
        "2",
        "--width",
        "0.25",
        "--blocks",
        "1",
        "--steps",
        "50",
        "--weights",
        "random",
    )
    assert code == 130 and "interrupted after 2 of 50 steps" in err and "--resume" in err
    assert load_checkpoint(path)["training"]["step"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["nosuchstyle"], "'nosuchstyle': no such file or bundled image"),
        (["mosaic", "--data", "EMPTY"], "has no files"),
        (["mosaic", "--steps", "0"], "steps must be a positive"),
        (["mosaic", "--steps", "-3"], "steps must be a positive"),
        (["mosaic", "--resume"], "does not exist; train it first"),
    ],
)
def test_bad_train_input_is_a_one_line_error_before_any_work(tmp_path, capsys, args, message):
    (tmp_path / "empty").mkdir()
    args = [str(tmp_path / "empty") if a == "EMPTY" else a for a in args]
    code, out, err = run_train(capsys, *args, "-o", str(tmp_path / "net.pt"), "--weights", "random")
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err  # not even the random-weights warning
    assert not (tmp_path / "net.pt").exists()


def test_a_non_number_for_steps_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "mosaic", "-o", str(tmp_path / "net.pt"), "--steps", "many"])
    assert exit_.value.code == 2 and "invalid int value: 'many'" in capsys.readouterr().err


# --- precompute -------------------------------------------------------------------------------------------------------


def test_precompute_reports_bad_input_in_one_line(capsys):
    assert main(["precompute", "--quick", "--content", "no_such_image", "--weights", "random"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "no_such_image" in err and len(err.strip().splitlines()) == 1


# --- a trained network: --temporal-blend, web, export's choices -------------------------------------------------------


@needs_video_tools
def test_without_opencv_the_blend_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import sys

    clip = shifted_clip(frames=3, size=32)
    write_video(clip, tmp_path / "in.mp4", fps=10)
    monkeypatch.setitem(sys.modules, "cv2", None)  # as if OpenCV were not installed
    args = [
        "stylize",
        str(tmp_path / "in.mp4"),
        "--network",
        str(tmp_path / "no-such-net.pt"),
        "-o",
        str(tmp_path / "out.mp4"),
    ]
    assert main([*args, "--temporal-blend", "0.3"]) == 2
    assert "opencv-python-headless" in one_line_error(capsys)  # said before the network is even looked for
    assert not (tmp_path / "out.mp4").exists()


def test_a_port_in_use_is_a_one_line_error_before_any_work(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["web", str(tmp_path / "never-read.pt"), "--port", str(port)]) == 2
    error = one_line_error(capsys)
    assert f"port {port}" in error and "in use" in error and "--port" in error


@pytest.mark.parametrize("kind", ["not a checkpoint", "foreign", "bad onnx", "missing"])
def test_a_file_that_is_not_a_network_is_a_one_line_error(tmp_path, capsys, kind):
    bad = tmp_path / ("bad.onnx" if "onnx" in kind else "bad.pt")
    if kind == "not a checkpoint":
        bad.write_text("hello")
    elif kind == "foreign":
        torch.save({"state_dict": {"w": torch.zeros(2)}}, bad)
    elif kind == "bad onnx":
        bad.write_bytes(b"\x08\x07garbage")
    assert main(["web", str(bad), "--port", "0"]) == 2
    assert "bad." in one_line_error(capsys)


def test_export_needs_onnx_or_web_and_keeps_a_folder_of_other_files(tmp_path, slim_checkpoint, capsys):
    assert main(["export", str(slim_checkpoint)]) == 2
    assert "--onnx" in one_line_error(capsys)
    assert main(["export", str(slim_checkpoint), "--onnx", str(tmp_path / "n.onnx"), "--int8"]) == 2
    assert "--web" in one_line_error(capsys) and not (tmp_path / "n.onnx").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["export", str(slim_checkpoint), "--web", str(tmp_path / "mine")]) == 2
    assert "other files" in one_line_error(capsys)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


# --- stylize: Ctrl-C keeps the best image, the output path is checked first (issue 5) ---------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
def test_ctrl_c_on_the_command_line_saves_the_best_image_and_exits_130(tmp_path, vgg):
    """As a user would: start a long run, wait until it iterates, press Ctrl-C (SIGINT)."""
    out = tmp_path / "result.png"
    command = [
        sys.executable,
        "-m",
        "tutorial_style",
        "stylize",
        "chelsea",
        "mosaic",
        "-o",
        str(out),
        "--size",
        "48",
        "--steps",
        "100000",
        "--weights",
        "random",
    ]
    # The test's environment (conftest.py) holds the caches; `vgg` has filled the normalisation cache.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    stderr = b""
    deadline = time.monotonic() + 180
    try:
        os.set_blocking(process.stderr.fileno(), False)
        while not re.search(rb"\| *[1-9][0-9]*/100000", stderr):  # the progress bar shows finished steps
            assert process.poll() is None, stderr.decode(errors="replace")
            assert time.monotonic() < deadline, "no progress within 180 s: " + stderr.decode(errors="replace")
            stderr += process.stderr.read() or b""
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        os.set_blocking(process.stderr.fileno(), True)
        stdout, rest = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = (stderr + rest).decode(errors="replace")
    assert process.returncode == 130, stderr
    assert "interrupted after" in stderr and "saved the best image so far" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    saved = load_image(out)
    assert saved.shape == load_image("chelsea", size=48).shape
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written temporary file


def test_the_command_line_checks_the_output_path_before_any_work(tmp_path, monkeypatch, capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("the run started although the output path is unusable")

    monkeypatch.setattr(optimize, "get_vgg", no_work)
    blocker = tmp_path / "file"
    blocker.write_text("")
    for output, reason in (
        (blocker / "out.png", "is a file, not a folder"),
        (tmp_path / "out.svg", "unknown image file type"),
    ):
        code = main(["stylize", "chelsea", "mosaic", "-o", str(output), "--weights", "random", "--steps", "1"])
        err = capsys.readouterr().err
        assert code == 2 and reason in err and err.count("\n") == 1, err


# --- what a new user met: train's Ctrl-C and workers, export's advice, a random-weights run (issue 21) ----------------


def test_ctrl_c_before_the_first_training_step_claims_no_save(photo_folder, tmp_path, capsys, monkeypatch):
    """Bug 1: no file was written, so nothing may say it was, nor suggest --resume.
    Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.cli import main
    from tutorial_style.realtime import train as rt_train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rt_train, "_step", interrupted)
    path = tmp_path / "net.pt"
    code = main(["train", "mosaic", "-o", str(path), "--data", str(photo_folder), "--steps", "5", *TRAIN_FLAGS])
    err = capsys.readouterr().err
    assert code == 130 and not path.exists()
    last = err.strip().splitlines()[-1]
    assert "interrupted before the first training step" in last and "nothing was saved" in last, err
    assert "saved the network" not in err and "--resume" not in err


def test_train_takes_workers_on_the_command_line(photo_folder, tmp_path, capsys, monkeypatch):
    """Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.cli import main
    from tutorial_style.realtime import train as rt_train

    seen = {}
    real = rt_train.train_network

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(rt_train, "train_network", spy)
    code = main(
        [
            "train",
            "mosaic",
            "-o",
            str(tmp_path / "n.pt"),
            "--data",
            str(photo_folder),
            "--steps",
            "1",
            "--workers",
            "2",
            *TRAIN_FLAGS,
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert seen["settings"].workers == 2  # the command line builds one TrainingSettings


def test_export_says_what_it_does_and_its_missing_package_advice_works_on_the_command_line(
    tmp_path, capsys, monkeypatch
):
    """Found in issue 21's review (a new user's first hour)."""
    pytest.importorskip("onnxscript")
    from tutorial_style.cli import build_parser, main
    from tutorial_style.realtime import save_checkpoint

    checkpoint = tmp_path / "net.pt"
    save_checkpoint(
        checkpoint, StyleNetwork(width=0.25, blocks=1), {"style": "mosaic", "weights": "RANDOM", "pretrained": False}
    )
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)  # not installed
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "a.onnx")]) == 2
    error = capsys.readouterr().err
    assert "--no-check" in error and 'pip install -e ".[realtime]"' in error
    assert "--no-check" in build_parser()._subparsers._group_actions[0].choices["export"].format_help()
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "b.onnx"), "--no-check"]) == 0
    out, err = capsys.readouterr()
    assert "exporting" in err and "not checked" in out and (tmp_path / "b.onnx").is_file()


def test_a_random_weights_stylize_says_at_the_end_that_the_photo_is_almost_unchanged(tmp_path, capsys):
    """Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.cli import main

    out = tmp_path / "o.png"
    assert (
        main(["stylize", "astronaut", "mosaic", "-o", str(out), "--size", "48", "--steps", "3", "--weights", "random"])
        == 0
    )
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "RANDOM" in last and "almost unchanged" in last and "/255" in last and "fetch-weights" in last, last
