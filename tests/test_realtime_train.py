"""Training a style network (realtime/train.py): the loss falls, Ctrl-C and a callback stop it and keep the work,
bad arguments are one-line errors, one distributed step equals the single-process step, and several styles train
in one network (random weights, tiny sizes: each test takes seconds)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from realtime_support import TINY, TRAIN_FLAGS, Photos

import tutorial_style as ts
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parent.parent


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


# --- more than one process ----------------------------------------------------------------------------------------


def test_one_distributed_step_equals_the_single_process_step_on_the_combined_batch(photos, tmp_path):
    """torchrun, two CPU processes with gloo, batch 2 each, against one process with batch 4: the same photos and
    crops, so after one Adam step the weights and Adam's moments (which hold the gradient) must agree."""
    single, distributed = tmp_path / "single.pt", tmp_path / "ddp.pt"
    settings = dict(TINY, batch=4)
    ts.train_network("mosaic", data=photos, steps=1, checkpoint=single, **settings)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            "-m",
            "tutorial_style",
            "train",
            "mosaic",
            "-o",
            str(distributed),
            "--data",
            str(photos),
            "--steps",
            "1",
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
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
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
    moved = [
        bool((row.parameter[row.row] != (1.0 if row.key.endswith("weight") else 0.0)).any())
        for name in MANY
        for row in first.style_parameters(name)
    ]
    half = len(moved) // 2
    assert all(moved[:half]) and not any(moved[half:])
    # one style as a list of one is today's network of one style
    one, _ = ts.train_network(["mosaic"], data=photos, steps=1, **TINY)
    assert one.styles is None


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


# --- a small Dataset, the callback, a stop under torchrun, the time left (issue 21) -----------------------------------


def test_a_dataset_smaller_than_a_batch_is_refused_before_any_work(monkeypatch):
    """Bug 3: with fewer items than batch x processes an epoch had no batch: divmod(step, 0) after VGG19 had loaded.
    Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.realtime import train as rt_train

    def no_vgg(*args, **kwargs):
        raise AssertionError("VGG19 was loaded before the data was checked")

    monkeypatch.setattr(rt_train, "_vgg", no_vgg)
    with pytest.raises(ValueError, match=r"1 item.*batch of 2") as raised:
        ts.train_network("mosaic", data=Photos(1), steps=2, **TINY)
    assert "\n" not in str(raised.value)


def test_the_training_callback_stops_on_true_as_stylizes_does():
    """Bug 5: stylize's callback stops the run by returning True; train_network's stopped on False.
    Found in issue 21's review (a new user's first hour)."""
    _, history = ts.train_network(
        "mosaic", data=Photos(), steps=5, callback=lambda step, losses, net: step == 1, **TINY
    )
    assert history.interrupted and len(history) == 2
    _, history = ts.train_network("mosaic", data=Photos(), steps=3, callback=lambda step, losses, net: False, **TINY)
    assert not history.interrupted and len(history) == 3


DISTRIBUTED_STOP = """
import sys, torch, tutorial_style as ts
from tutorial_style.realtime.train import train_network
rank = int(__import__("os").environ["RANK"])
net, history = train_network("mosaic", data=sys.argv[1], steps=20, size=32, batch=2, width=0.25, blocks=1,
weights="random",
                             device="cpu", progress=False, callback=lambda step, losses, net: rank == 0 and step == 1)
print(f"rank {rank}: {len(history)} steps, interrupted {history.interrupted}")
"""


def test_a_stop_on_one_process_stops_every_process(photo_folder, tmp_path):
    """Bug 5 under torchrun: only rank 0's callback asks to stop; the flag is shared, so no process waits forever.
    Found in issue 21's review (a new user's first hour)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "stop.py"
    script.write_text(DISTRIBUTED_STOP)
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(script),
            str(photo_folder),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # (the two processes share one stdout, so their lines may run together: find them, not split them)
    assert sorted(re.findall(r"rank \d: \d+ steps, interrupted (?:True|False)", done.stdout)) == [
        "rank 0: 2 steps, interrupted True",
        "rank 1: 2 steps, interrupted True",
    ]


def test_train_says_how_long_the_rest_will_take_after_its_first_steps(photo_folder, tmp_path, capsys):
    """Found in issue 21's review (a new user's first hour)."""
    import re

    from tutorial_style.cli import main

    code = main(
        ["train", "mosaic", "-o", str(tmp_path / "n.pt"), "--data", str(photo_folder), "--steps", "5", *TRAIN_FLAGS]
    )
    err = capsys.readouterr().err
    assert code == 0 and re.search(r"train: [\d.e-]+ s per step on cpu; the other 2 steps take about \d+ m?s", err), err


def test_an_artwork_of_another_size_than_the_crops_has_its_gram_matrices_scaled_to_the_crops_positions():
    """G and A of eq. 4 are sums over positions: the artwork at 64 px for 32 px crops has 4 times the positions, so
    its A is scaled by the crops' count over its own. A texture that repeats every 8 px then gives its own 32 px
    crop the same Gram matrices per position, so the crop is near its style; unscaled, it would be far."""
    vgg = ts.get_vgg("random")
    y, x = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    texture = torch.stack([(x % 8 < 4).float(), (y % 8 < 4).float(), ((x + y) % 8 < 4).float()])[None]
    settings = rt_train.TrainingSettings(
        size=32, style_size=64, style_layers=("relu1_1", "relu2_1"), alpha=1e-6, tv_weight=0
    )
    scaled = rt_train._objective(vgg, texture, settings)
    crop = texture[..., 8:40, 8:40]
    near = float(scaled.with_content(crop)(crop)["style"])
    unscaled = ts.Objective.for_images(
        vgg, torch.zeros_like(texture), texture, content_layers=("relu2_2",), style_layers=settings.style_layers
    )
    far = float(unscaled.with_content(crop)(crop)["style"])
    assert near < 0.05 * far, (near, far)
    same_size = rt_train._objective(
        vgg, crop, rt_train.TrainingSettings(size=32, style_layers=settings.style_layers, alpha=1e-6)
    )
    assert float(same_size.with_content(crop)(crop)["style"]) < 1e-6  # at the crops' size: the paper's, unscaled


def test_style_size_is_recorded_and_a_resume_keeps_it(photos, tmp_path):
    path = tmp_path / "net.pt"
    ts.train_network("mosaic", data=photos, steps=2, checkpoint=path, style_size=48, **TINY)
    assert load_checkpoint(path)["meta"]["style_size"] == 48
    with pytest.raises(ValueError, match="style_size=48, not style_size=64"):
        ts.train_network("mosaic", data=photos, steps=3, checkpoint=path, resume=True, style_size=64, **TINY)
    ts.train_network("mosaic", data=photos, steps=3, checkpoint=path, resume=True, **TINY)  # left out: the checkpoint's
    assert load_checkpoint(path)["meta"]["style_size"] == 48
