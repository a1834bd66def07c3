"""The command line: results, one-line errors, exit codes."""

import subprocess
import sys

import pytest
import torch

from tutorial_style import load_image
from tutorial_style.cli import main


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "tutorial_style", *args], capture_output=True, text=True, timeout=300, **kwargs)


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
    assert main(["stylize", "coffee", "mosaic", "-o", str(tmp_path / "o.png"), "--steps", "0", "--weights", "random"]) == 2
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
    assert main(["stylize", "coffee", "mosaic", "-o", str(tmp_path / "o.png"), "--size", "32", "--weights", "random", *flags]) == 0
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
    argv = ["stylize", "coffee", "mosaic", "-o", str(tmp_path / "o.png"), "--size", "32", "--steps", "2", "--weights", "random"]
    assert main([*argv, "--optimizer", "adam", "--lr", "0.3"]) == 0
    assert load_image(tmp_path / "o.png").shape[-1] == 32
    start = frames[0]  # the fast preset starts from the content image
    room = (start > 0.31) & (start < 0.69)
    assert float((frames[1] - start).abs()[room].median()) == pytest.approx(0.3, abs=1e-3)


def test_lr_with_lbfgs_is_a_one_line_error(tmp_path, capsys):
    argv = ["stylize", "coffee", "mosaic", "-o", str(tmp_path / "o.png"), "--size", "32", "--steps", "2", "--weights", "random"]
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
    assert main(["stylize", "coffee", "--network", str(network_file), "-o", str(tmp_path / "o.png"), "--alpha", "1"]) == 2
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
    for name, flags in {"style": ["--style", "mosaic"], "mix": ["--mix", "mosaic=1", "swirls=0"],
                        "other": ["--style", "swirls"], "half": ["--mix", "mosaic=0.5", "swirls=0.5"]}.items():
        outs[name] = tmp_path / f"{name}.png"
        assert main(["apply", str(styles_file), "coffee", "-o", str(outs[name]), "--size", "48", *flags]) == 0
    image = {name: load_image(path) for name, path in outs.items()}
    assert torch.equal(image["mix"], image["style"])
    assert not torch.equal(image["other"], image["style"]) and not torch.equal(image["half"], image["style"])
    old = tmp_path / "old.png"  # the old spelling takes them too
    assert main(["stylize", "coffee", "--network", str(styles_file), "-o", str(old), "--size", "48", "--style", "mosaic"]) == 0
    assert torch.equal(load_image(old), image["style"])


@pytest.mark.parametrize("flags, message", [
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
])  # fmt: skip
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
    assert main(["train", "stripes", "--base", str(two), "-o", str(three), *common, "--width", "0.25",
                 "--weights", "random"]) == 2
    assert "--base: --width cannot change the base network's shape" in capsys.readouterr().err
    assert main(["train", "stripes", "--base", str(two), "-o", str(two), *common, "--weights", "random"]) == 2
    assert "is the base network" in capsys.readouterr().err
    assert main(["train", "stripes", "--base", str(two), "-o", str(three), *common, "--size", "32", "--batch", "2",
                 "--weights", "random"]) == 0
    assert load_network(three).styles == ("mosaic", "swirls", "stripes")
