"""A training's settings (realtime/config.py, TrainingSettings): the keywords and the object give the same
training, checked once, what a resume keeps marked on the fields, the presets, one default alpha."""

from __future__ import annotations

import dataclasses

import pytest

import tutorial_style as ts
from tutorial_style.cli import main
from tutorial_style.realtime import load_network
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.network import SLIM


def test_the_keywords_and_a_training_settings_object_give_the_same_training(photos):
    from tutorial_style.realtime.config import TrainingSettings

    settings = TrainingSettings(steps=2, size=32, batch=2, width=0.25, blocks=1, seed=3)
    common = dict(data=photos, weights="random", device="cpu", progress=False)
    _, by_object = ts.train_network("mosaic", settings, **common)
    _, by_keywords = ts.train_network("mosaic", steps=2, size=32, batch=2, width=0.25, blocks=1, seed=3, **common)
    _, replaced = ts.train_network(
        "mosaic", TrainingSettings(steps=9, size=32, width=0.25, blocks=1, seed=3), steps=2, **common
    )
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
    with pytest.raises(ValueError, match=r"style_size must be a whole number of pixels, at least 16 .*None: the crops"):
        TrainingSettings(style_size=8)
    with pytest.raises(ValueError, match="settings must be a TrainingSettings"):
        ts.train_network("mosaic", {"steps": 3})
    s = TrainingSettings(alpha=1, lr=1, content_layers="relu3_1")  # normalised once: floats, a tuple of layers
    assert (s.alpha, s.lr, s.content_layers) == (1.0, 1.0, ("relu3_1",)) and isinstance(s.alpha, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.steps = 5


def test_what_a_resume_keeps_is_marked_on_the_fields_and_the_presets_are_settings():
    from tutorial_style.realtime.config import PRESETS, TrainingSettings

    kept = {f.name for f in dataclasses.fields(TrainingSettings) if f.metadata.get("resume") == "keep"}
    assert (
        set(rt_train.FIXED_ON_RESUME)
        == kept
        == {
            "alpha",
            "beta",
            "tv_weight",
            "temporal_weight",
            "temporal_form",
            "content_layers",
            "style_size",
            "style_layers",
            "lr",
            "batch",
            "seed",
        }
    )
    assert "size" not in kept and "steps" not in kept  # both may change on resume
    assert rt_train.PRESETS is PRESETS and TrainingSettings.preset("cpu") == TrainingSettings(width=0.5, blocks=5)
    assert TrainingSettings.preset("web").shape == {"width": 0.5, "blocks": 3, "separable": True}
    assert (TrainingSettings.preset("johnson").steps, TrainingSettings.preset("johnson", steps=7).steps) == (40_000, 7)
    with pytest.raises(ValueError, match="unknown training preset 'gpu'"):
        TrainingSettings.preset("gpu")


def test_one_default_alpha_for_the_optimisation_and_the_training():
    from tutorial_style.realtime.config import CONTENT_WEIGHT_AT_512_RELU2_2, TrainingSettings

    assert not hasattr(rt_train, "default_alpha") and not hasattr(
        rt_train, "ALPHA_AT_512"
    )  # one function, two constants
    settings = TrainingSettings()
    assert settings.alpha_for(128) == ts.settings.default_alpha(128, 128, at_512=CONTENT_WEIGHT_AT_512_RELU2_2)
    assert settings.alpha_for(128) == pytest.approx(16 * CONTENT_WEIGHT_AT_512_RELU2_2)  # 1 / pixels
    assert TrainingSettings(alpha=1e-5).alpha_for(128) == 1e-5


# --- the web preset, through the command line -------------------------------------------------------------------------


def test_the_web_training_preset_trains_the_slim_network(tmp_path, capsys):
    from tutorial_style.realtime.train import PRESETS

    assert {k: PRESETS["web"][k] for k in SLIM} == SLIM
    out = tmp_path / "slim.pt"
    assert (
        main(
            [
                "train",
                "mosaic",
                "-o",
                str(out),
                "--preset",
                "web",
                "--steps",
                "1",
                "--size",
                "32",
                "--batch",
                "1",
                "--weights",
                "random",
            ]
        )
        == 0
    )
    assert load_network(out).config == SLIM
