"""A training continued from its checkpoint (realtime/resume.py): the step count and the optimiser's state go on;
a finished run, another style or another kept setting is refused by name; the size and the steps may change; a
run of two styles resumes as if it had not stopped."""

from __future__ import annotations

import pytest
import torch
from realtime_support import TINY

import tutorial_style as ts
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.checkpoint import load_checkpoint


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


def test_resume_names_the_kept_setting_that_differs_and_the_other_weights(photos, tmp_path):
    path = tmp_path / "net.pt"
    ts.train_network("mosaic", data=photos, steps=2, checkpoint=path, **TINY)
    for change, message in (
        (dict(batch=4), "batch=2, not batch=4"),
        (dict(temporal_form="difference"), "temporal_form='warp'"),
        (dict(content_layers=("relu3_1",)), r"content_layers=\['relu2_2'\]"),
        (dict(width=0.5), "leave width/blocks out"),
    ):
        with pytest.raises(ValueError, match=message) as caught:
            ts.train_network(
                "mosaic",
                data=photos,
                steps=4,
                checkpoint=path,
                resume=True,
                **{**TINY, "width": None, "blocks": None, **change},
            )
        assert "\n" not in str(caught.value)
    from tutorial_style.realtime.resume import check_weights

    check_weights(load_checkpoint(path)["meta"], path, ts.get_vgg("random").weights_info.label)  # the same: no error
    with pytest.raises(
        ValueError, match="trained with VGG19 weights 'RANDOM.*, not 'ImageNet'; resume it with the same weights"
    ):
        check_weights(load_checkpoint(path)["meta"], path, "ImageNet")
    assert rt_train.recorded_options(path)["content_layers"] == ("relu2_2",)  # as the fields hold it: a tuple


# --- several styles in one network (issue 27, Dumoulin, Shlens & Kudlur 2017) ------------------------------------

MANY = ["mosaic", "swirls"]


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


# --- another size on resume (issue 21) --------------------------------------------------------------------------------


def test_resume_may_change_the_size_and_steps_and_names_any_other_difference(photo_folder, tmp_path, capsys):
    """Bug 2: the style was fingerprinted after resizing, so another --size was blamed on the style.
    Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.cli import main

    path = tmp_path / "net.pt"
    ts.train_network("mosaic", data=photo_folder, steps=2, checkpoint=path, **TINY)
    net, history = ts.train_network(
        "mosaic", data=photo_folder, steps=3, checkpoint=path, resume=True, **{**TINY, "size": 48}
    )
    assert len(history) == 3 and ts.load_network(path).meta["size"] == 48
    with pytest.raises(ValueError, match="another style"):
        ts.train_network("swirls", data=photo_folder, steps=4, checkpoint=path, resume=True, **TINY)
    with pytest.raises(ValueError, match=r"alpha=0\.5.*size and steps may change") as raised:
        ts.train_network("mosaic", data=photo_folder, steps=4, checkpoint=path, resume=True, **{**TINY, "alpha": 0.5})
    assert "style" not in str(raised.value).split(";")[0]
    # the command line resumes with the checkpoint's own settings, not the preset's, and may change the size
    code = main(
        [
            "train",
            "mosaic",
            "-o",
            str(path),
            "--data",
            str(photo_folder),
            "--steps",
            "4",
            "--resume",
            "--size",
            "40",
            "--weights",
            "random",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert ts.load_network(path).meta["size"] == 40 and ts.load_network(path).meta["batch"] == 2
    from tutorial_style.cli import build_parser

    assert "size and steps may change" in " ".join(
        build_parser()._subparsers._group_actions[0].choices["train"].format_help().split()
    )
