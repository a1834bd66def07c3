"""Training a style network: the loss falls, checkpoints round-trip, resume and Ctrl-C keep the work, the command
line's errors, the training photos, and one distributed step equal to the single-process step (random weights,
tiny sizes: each test takes seconds)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tutorial_style as ts
from tutorial_style.cli import main
from tutorial_style.realtime import data as rt_data
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(size=32, batch=2, width=0.25, blocks=1, weights="random", device="cpu", progress=False)


@pytest.fixture()
def photos(tmp_path):
    """A folder of four photos, two of them in a sub-folder."""
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for i, name in enumerate(["astronaut", "rocket", "camera", "coffee"]):
        target = folder / ("more" if i % 2 else "") / f"{name}.jpg"
        shutil.copy(ts.bundled_images()[name].path, target)
    return folder


def test_train_network_is_exported():
    assert ts.train_network is rt_train.train_network


class FixedPhotos(torch.utils.data.Dataset):
    """Two 32 px photos, the same every step (a caller's own Dataset is used as it is): the loss's trend is not
    hidden by the variation from one random batch to the next."""

    def __init__(self):
        self.images = [ts.load_image(name, size=48)[0, :, :32, :32] for name in ("astronaut", "rocket")]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def test_the_loss_falls_over_a_few_steps():
    # alpha 1e-4: the content term leads (random weights), so the total falls steadily from the untrained start
    net, history = ts.train_network("mosaic", data=FixedPhotos(), steps=12, lr=1e-2, alpha=1e-4, **TINY)
    totals = [row["total"] for row in history]
    assert len(totals) == 12 and not history.interrupted
    assert sum(totals[-3:]) / 3 < 0.5 * sum(totals[:3]) / 3, totals
    assert isinstance(net, ts.StyleNetwork) and not net.training
    assert "RANDOM" in history.weights_label


def test_a_trained_network_round_trips_through_its_checkpoint(photos, tmp_path):
    path = tmp_path / "net.pt"
    net, history = ts.train_network("mosaic", data=photos, steps=4, checkpoint=path, **TINY)
    loaded = ts.load_network(path)
    image = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        assert torch.equal(loaded(image), net(image))
    meta = loaded.meta
    assert meta["steps"] == 4 and meta["style"] == "mosaic" and meta["size"] == 32
    assert meta["pretrained"] is False and "RANDOM" in meta["weights"]  # never suggests pretrained weights
    assert meta["content_layers"] == ["relu2_2"] and meta["alpha"] == rt_train.TrainingSettings().alpha_for(meta["size"]) and meta["photos"] == 4
    assert (meta["width"], meta["blocks"]) == (0.25, 1)
    assert len(load_checkpoint(path)["training"]["history"]) == 4


def test_resume_continues_the_step_count_and_the_optimiser_state(photos, tmp_path):
    whole, split = tmp_path / "whole.pt", tmp_path / "split.pt"
    net_a, history_a = ts.train_network("mosaic", data=photos, steps=6, checkpoint=whole, **TINY)
    ts.train_network("mosaic", data=photos, steps=3, checkpoint=split, **TINY)
    net_b, history_b = ts.train_network("mosaic", data=photos, steps=6, checkpoint=split, resume=True, **TINY)
    assert [row["step"] for row in history_b] == list(range(6))
    assert [row["total"] for row in history_b] == pytest.approx([row["total"] for row in history_a], rel=1e-4)
    for (name, a), b in zip(net_a.state_dict().items(), net_b.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    state_a, state_b = (load_checkpoint(p)["training"] for p in (whole, split))
    assert state_a["step"] == state_b["step"] == 6
    for key, s in state_a["optimizer"]["state"].items():
        assert float(s["step"]) == float(state_b["optimizer"]["state"][key]["step"]) == 6
        assert torch.allclose(s["exp_avg_sq"], state_b["optimizer"]["state"][key]["exp_avg_sq"], rtol=1e-4, atol=1e-12)


def test_resume_refuses_a_finished_run_and_another_style(photos, tmp_path):
    path = tmp_path / "net.pt"
    ts.train_network("mosaic", data=photos, steps=2, checkpoint=path, **TINY)
    with pytest.raises(ValueError, match="already trained 2 steps"):
        ts.train_network("mosaic", data=photos, steps=2, checkpoint=path, resume=True, **TINY)
    with pytest.raises(ValueError, match="another style"):
        ts.train_network("swirls", data=photos, steps=4, checkpoint=path, resume=True, **TINY)


def test_ctrl_c_and_a_callback_stop_the_run_and_save_a_checkpoint(photos, tmp_path):
    path = tmp_path / "net.pt"
    seen = []

    def interrupt(step, losses, network):
        seen.append((step, sorted(losses), type(network).__name__))
        if step == 2:
            raise KeyboardInterrupt

    net, history = ts.train_network("mosaic", data=photos, steps=50, checkpoint=path, callback=interrupt, **TINY)
    assert history.interrupted and len(history) == 3
    assert seen[0] == (0, ["content", "style", "total", "tv"], "StyleNetwork")
    entry = load_checkpoint(path)
    assert entry["training"]["step"] == 3 and entry["meta"]["steps"] == 3
    for a, b in zip(ts.load_network(path).state_dict().values(), net.state_dict().values()):
        assert torch.equal(a, b)
    _, history = ts.train_network("mosaic", data=photos, steps=50, callback=lambda step, losses, net: step >= 1, **TINY)
    assert history.interrupted and len(history) == 2  # returning True stops, as for stylize; False or None goes on


def test_random_weights_are_announced_loudly(photos):
    with pytest.warns(ts.RandomWeightsWarning, match="will NOT learn a real style"):
        ts.train_network("mosaic", data=photos, steps=1, **TINY)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(steps=0), "steps must be a positive"),
        (dict(batch=1.5), "batch must be"),
        (dict(size=8), "size must be a whole number of pixels, at least 16"),
        (dict(lr=-1.0), "lr must be a positive number"),
        (dict(alpha=float("nan")), "alpha must be finite"),
        (dict(style_layers=[]), "style_layers is empty"),
        (dict(content_layers=["conv9_9"]), "content_layers"),
        (dict(resume=True), "needs checkpoint"),
        (dict(data=42), "data must be None, a folder"),
        (dict(data=["no/such.jpg"]), "no such file"),
    ],
)
def test_bad_arguments_are_one_line_errors(photos, change, message):
    with pytest.raises(ValueError, match=message) as caught:
        ts.train_network("mosaic", **{**dict(data=photos, steps=1), **TINY, **change})
    assert "\n" not in str(caught.value)


# --- the settings (config.py) and resume's checks (resume.py) -------------------------------------------------------


def test_the_keywords_and_a_training_settings_object_give_the_same_training(photos):
    from tutorial_style.realtime.config import TrainingSettings

    settings = TrainingSettings(steps=2, size=32, batch=2, width=0.25, blocks=1, seed=3)
    common = dict(data=photos, weights="random", device="cpu", progress=False)
    _, by_object = ts.train_network("mosaic", settings, **common)
    _, by_keywords = ts.train_network("mosaic", steps=2, size=32, batch=2, width=0.25, blocks=1, seed=3, **common)
    _, replaced = ts.train_network("mosaic", TrainingSettings(steps=9, size=32, width=0.25, blocks=1, seed=3), steps=2, **common)
    assert list(by_object) == list(by_keywords) == list(replaced) and len(by_object) == 2


def test_the_settings_are_checked_once_and_name_a_misspelt_one():
    from tutorial_style.realtime.config import TrainingSettings

    with pytest.raises(ValueError, match="unknown training setting 'stpes'; did you mean 'steps'"):
        ts.train_network("mosaic", stpes=3)
    with pytest.raises(ValueError, match="temporal_form must be one of warp, difference"):
        TrainingSettings(temporal_form="optical")
    with pytest.raises(ValueError, match="alpha must be one number"):
        TrainingSettings(alpha=[1e-6, 1e-5])
    with pytest.raises(ValueError, match="workers must be a whole number"):
        TrainingSettings(workers=-1)
    with pytest.raises(ValueError, match="settings must be a TrainingSettings"):
        ts.train_network("mosaic", {"steps": 3})
    s = TrainingSettings(alpha=1, lr=1, content_layers="relu3_1")  # normalised once: floats, a tuple of layers
    assert (s.alpha, s.lr, s.content_layers) == (1.0, 1.0, ("relu3_1",)) and isinstance(s.alpha, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.steps = 5


def test_what_a_resume_keeps_is_marked_on_the_fields_and_the_presets_are_settings():
    from tutorial_style.realtime.config import PRESETS, TrainingSettings

    kept = {f.name for f in dataclasses.fields(TrainingSettings) if f.metadata.get("resume") == "keep"}
    assert set(rt_train.FIXED_ON_RESUME) == kept == {
        "alpha", "beta", "tv_weight", "temporal_weight", "temporal_form", "content_layers", "style_layers", "lr", "batch", "seed"}
    assert "size" not in kept and "steps" not in kept  # both may change on resume
    assert rt_train.PRESETS is PRESETS and TrainingSettings.preset("cpu") == TrainingSettings(width=0.5, blocks=5)
    assert TrainingSettings.preset("web").shape == {"width": 0.5, "blocks": 3, "separable": True}
    assert (TrainingSettings.preset("johnson").steps, TrainingSettings.preset("johnson", steps=7).steps) == (40_000, 7)
    with pytest.raises(ValueError, match="unknown training preset 'gpu'"):
        TrainingSettings.preset("gpu")


def test_one_default_alpha_for_the_optimisation_and_the_training():
    from tutorial_style.realtime.config import CONTENT_WEIGHT_AT_512_RELU2_2, TrainingSettings

    assert not hasattr(rt_train, "default_alpha") and not hasattr(rt_train, "ALPHA_AT_512")  # one function, two constants
    settings = TrainingSettings()
    assert settings.alpha_for(128) == ts.settings.default_alpha(128, 128, at_512=CONTENT_WEIGHT_AT_512_RELU2_2)
    assert settings.alpha_for(128) == pytest.approx(16 * CONTENT_WEIGHT_AT_512_RELU2_2)  # 1 / pixels
    assert TrainingSettings(alpha=1e-5).alpha_for(128) == 1e-5


def test_resume_names_the_kept_setting_that_differs_and_the_other_weights(photos, tmp_path):
    path = tmp_path / "net.pt"
    ts.train_network("mosaic", data=photos, steps=2, checkpoint=path, **TINY)
    for change, message in ((dict(batch=4), "batch=2, not batch=4"), (dict(temporal_form="difference"), "temporal_form='warp'"),
                            (dict(content_layers=("relu3_1",)), r"content_layers=\['relu2_2'\]"), (dict(width=0.5), "leave width/blocks out")):
        with pytest.raises(ValueError, match=message) as caught:
            ts.train_network("mosaic", data=photos, steps=4, checkpoint=path, resume=True, **{**TINY, "width": None, "blocks": None, **change})
        assert "\n" not in str(caught.value)
    from tutorial_style.realtime.resume import check_weights

    check_weights(load_checkpoint(path)["meta"], path, ts.get_vgg("random").weights_info.label)  # the same: no error
    with pytest.raises(ValueError, match="trained with VGG19 weights 'RANDOM.*, not 'ImageNet'; resume it with the same weights"):
        check_weights(load_checkpoint(path)["meta"], path, "ImageNet")
    assert rt_train.recorded_options(path)["content_layers"] == ("relu2_2",)  # as the fields hold it: a tuple


# --- the command line ---------------------------------------------------------------------------------------------


def cli(capsys, *args):
    code = main(["train", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_train_command_writes_a_network_and_resumes_it(photos, tmp_path, capsys):
    path = tmp_path / "net.pt"
    flags = ["--data", str(photos), "--size", "32", "--batch", "2", "--width", "0.25", "--blocks", "1", "--weights", "random"]
    code, out, err = cli(capsys, "mosaic", "-o", str(path), "--steps", "3", "--checkpoint-every", "2", *flags)
    assert code == 0, err
    assert "saved" in out and "3 steps" in out and "RANDOM" in out and "WARNING" in err
    code, out, err = cli(capsys, "mosaic", "-o", str(path), "--steps", "3", *flags)
    assert code == 2 and "already exists; pass --resume" in err
    code, out, err = cli(capsys, "mosaic", "-o", str(path), "--steps", "5", "--resume", *flags[:-4])
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
    code, out, err = cli(capsys, "mosaic", "-o", str(path), "--data", str(photos), "--size", "32", "--batch", "2",
                         "--width", "0.25", "--blocks", "1", "--steps", "50", "--weights", "random")  # fmt: skip
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
    code, out, err = cli(capsys, *args, "-o", str(tmp_path / "net.pt"), "--weights", "random")
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err  # not even the random-weights warning
    assert not (tmp_path / "net.pt").exists()


def test_a_non_number_for_steps_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "mosaic", "-o", str(tmp_path / "net.pt"), "--steps", "many"])
    assert exit_.value.code == 2 and "invalid int value: 'many'" in capsys.readouterr().err


# --- training photos ----------------------------------------------------------------------------------------------


def test_a_folder_is_searched_recursively_and_unreadable_files_are_counted(photos):
    (photos / "more" / "notes.txt").write_text("not a photo")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (photos / ".hidden").mkdir()
    (photos / ".hidden" / "thumb.jpg").write_bytes(b"junk")  # hidden: neither used nor counted
    with pytest.warns(UserWarning, match=r"skipped 2 of 6 files .* \(first: '.*broken.jpg'") as caught:
        found = rt_data.folder_photos(photos)
    assert len(caught) == 1
    assert sorted(p.name for p in found) == ["astronaut.jpg", "camera.jpg", "coffee.jpg", "rocket.jpg"]
    assert {p.parent.name for p in found} == {"photos", "more"}


def test_a_folder_without_photos_is_a_one_line_error(tmp_path):
    (tmp_path / "a.txt").write_text("text")
    with pytest.raises(ValueError, match=r"has 1 file\(s\), none of them an image"):
        rt_data.folder_photos(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        rt_data.folder_photos(tmp_path / "nope")


def test_the_default_photos_keep_the_held_out_ones_out_of_training():
    training = rt_data.training_photos()
    names = {p.stem for p in training}
    assert {"astronaut", "rocket", "camera"} <= names and not names & set(rt_data.HELD_OUT)
    held = rt_data.held_out_photos(size=48)
    assert sorted(held) == sorted(rt_data.HELD_OUT) and all(max(im.shape[-2:]) == 48 for im in held.values())
    for path in rt_data.installed_photos().values():  # where matplotlib etc. are installed: real image files
        assert path.is_file()


def test_crops_are_random_but_fixed_by_seed_epoch_and_index(photos):
    dataset = rt_data.PhotoDataset(sorted(photos.rglob("*.jpg")), 32, length=6, seed=1)
    assert len(dataset) == 6
    a = dataset[0]
    assert a.shape == (3, 32, 32) and 0 <= float(a.min()) and float(a.max()) <= 1
    assert torch.equal(dataset[0], a) and not torch.equal(dataset[4], a)  # item 4 is photo 0 again, another crop
    dataset.set_epoch(1)
    assert not torch.equal(dataset[0], a)
    loader = rt_data.photo_loader(dataset, 2, seed=1)
    assert isinstance(loader, torch.utils.data.DataLoader) and [tuple(b.shape) for b in loader] == [(2, 3, 32, 32)] * 3


# --- more than one process ----------------------------------------------------------------------------------------


def test_one_distributed_step_equals_the_single_process_step_on_the_combined_batch(photos, tmp_path):
    """torchrun, two CPU processes with gloo, batch 2 each, against one process with batch 4: the same photos and
    crops, so after one Adam step the weights and Adam's moments (which hold the gradient) must agree."""
    single, distributed = tmp_path / "single.pt", tmp_path / "ddp.pt"
    settings = dict(TINY, batch=4)
    ts.train_network("mosaic", data=photos, steps=1, checkpoint=single, **settings)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "tutorial_style", "train",
         "mosaic", "-o", str(distributed), "--data", str(photos), "--steps", "1", "--size", "32", "--batch", "2",
         "--width", "0.25", "--blocks", "1", "--weights", "random", "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("saved") == 1  # rank 0 alone reports (and writes)
    a, b = load_checkpoint(single), load_checkpoint(distributed)
    assert a["training"]["history"][0]["total"] == pytest.approx(b["training"]["history"][0]["total"], rel=1e-5)
    # The networks compute the same function. (The convolutions before instance normalisation have no bias: the
    # normalisation would cancel it, its gradient would be rounding noise, and Adam's first step would turn that into
    # +-lr either way, so raw weights could not be compared.)
    image = torch.rand(2, 3, 40, 36, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(ts.load_network(single)(image), ts.load_network(distributed)(image), atol=1e-5)
    moments_a = {k: s["exp_avg"] for k, s in a["training"]["optimizer"]["state"].items()}
    moments_b = {k: s["exp_avg"] for k, s in b["training"]["optimizer"]["state"].items()}
    scale = max(float(m.abs().max()) for m in moments_a.values())
    for key, m in moments_a.items():  # Adam's first moment is 0.1 x the (averaged) gradient
        assert torch.allclose(m, moments_b[key], rtol=1e-3, atol=1e-5 * scale), key


# --- several styles in one network (issue 27, Dumoulin, Shlens & Kudlur 2017) ------------------------------------

MANY = ["mosaic", "swirls"]


def test_two_styles_train_in_one_network_whose_checkpoint_loads_with_both_names(photos, tmp_path):
    from tutorial_style.realtime import load_network

    path = tmp_path / "two.pt"
    net, history = ts.train_network(MANY, data=photos, steps=2, checkpoint=path, **TINY)
    assert net.styles == ("mosaic", "swirls") and len(history) == 2
    loaded = load_network(path)
    assert loaded.styles == ("mosaic", "swirls") and loaded.meta["style"] == "mosaic, swirls"
    assert set(loaded.meta["style_fingerprints"]) == set(MANY) and "style_fingerprint" not in loaded.meta
    x = torch.rand(1, 3, 32, 32)
    for name in MANY:  # the network it returns is the one saved
        assert torch.equal(loaded(x, loaded.mix_for(name)), net(x, net.mix_for(name)))
    # step k trains style k % 2 alone: after the first step only mosaic's rows have moved from their start
    first, _ = ts.train_network(MANY, data=photos, steps=1, **TINY)
    moved = [bool((row.parameter[row.row] != (1.0 if row.key.endswith("weight") else 0.0)).any())
             for name in MANY for row in first.style_parameters(name)]
    half = len(moved) // 2
    assert all(moved[:half]) and not any(moved[half:])
    # one style as a list of one is today's network of one style
    one, _ = ts.train_network(["mosaic"], data=photos, steps=1, **TINY)
    assert one.styles is None


def test_a_resumed_run_of_two_styles_equals_an_uninterrupted_one(photos, tmp_path):
    _, whole = ts.train_network(MANY, data=photos, steps=4, **TINY)
    path = tmp_path / "r.pt"
    ts.train_network(MANY, data=photos, steps=2, checkpoint=path, **TINY)
    _, resumed = ts.train_network(MANY, data=photos, steps=4, checkpoint=path, resume=True, **TINY)
    assert [h["step"] for h in resumed] == [0, 1, 2, 3]
    for a, b in zip(whole, resumed):
        assert a["total"] == pytest.approx(b["total"], rel=1e-5), (a, b)
    with pytest.raises(ValueError, match=r"styles mosaic, swirls, not mosaic, stripes") as e:
        ts.train_network(["mosaic", "stripes"], data=photos, steps=6, checkpoint=path, resume=True, **TINY)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"styles mosaic, swirls, not mosaic"):
        ts.train_network("mosaic", data=photos, steps=6, checkpoint=path, resume=True, **TINY)


def test_two_styles_of_one_name_are_a_one_line_error(photos, tmp_path):
    import shutil

    copy = tmp_path / "mosaic.jpg"
    shutil.copy(ts.bundled_images()["mosaic"].path, copy)
    with pytest.raises(ValueError, match=r"^style: two styles have the same name \(mosaic, mosaic\)"):
        ts.train_network(["mosaic", str(copy)], data=photos, steps=1, **TINY)


def test_adding_a_style_trains_its_own_gamma_and_beta_alone(photos, tmp_path):
    from tutorial_style.realtime import load_network

    base = tmp_path / "base.pt"
    ts.train_network(MANY, data=photos, steps=2, checkpoint=base, **TINY)
    before = load_network(base)
    small = {k: v for k, v in TINY.items() if k not in ("width", "blocks")}
    more = tmp_path / "more.pt"
    net, history = ts.train_network("stripes", base=base, data=photos, steps=3, checkpoint=more, lr=0.05, **small)
    assert net.styles == ("mosaic", "swirls", "stripes") and len(history) == 3
    after = load_network(more)
    assert after.styles == net.styles and set(after.meta["style_fingerprints"]) == {"mosaic", "swirls", "stripes"}
    old, new = before.state_dict(), after.state_dict()
    rows = {row.key for row in after.style_parameters("stripes")}
    changed = 0
    for key, value in new.items():
        if key in rows:
            assert torch.equal(value[:2], old[key]), key  # the other styles' rows: bit-identical
            changed += not torch.equal(value[2], old[key].mean(0))  # the new row starts as their mean
        else:
            assert torch.equal(value, old[key]), key  # every convolution: bit-identical
    assert changed == len(rows)
    assert all(p.requires_grad for p in net.parameters())  # the network returned trains as any other
    # a one-style base is first made a network of its recorded style
    one = tmp_path / "one.pt"
    ts.train_network("mosaic", data=photos, steps=1, checkpoint=one, **TINY)
    grown, _ = ts.train_network("swirls", base=one, data=photos, steps=1, **small)
    assert grown.styles == ("mosaic", "swirls")
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(grown(x, grown.mix_for("mosaic")), load_network(one)(x), atol=1e-6)
    with pytest.raises(ValueError, match=r"^base: the base network is the network"):
        ts.train_network("swirls", base=one, data=photos, steps=1, **TINY)
    with pytest.raises(ValueError, match=r"^base: the network already has a style 'mosaic'"):
        ts.train_network("mosaic", base=one, data=photos, steps=1, **small)
