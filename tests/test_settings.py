"""Settings: validated once, one-line errors naming the setting, and the same object behind the API and the CLI."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch

import tutorial_style as ts
from tutorial_style.settings import ADAM_LR, Settings


def test_the_defaults_are_the_papers_but_alpha():
    s = Settings()
    assert (s.beta, s.steps, s.init, s.optimizer) == (1.0, 500, "noise", "lbfgs")
    assert s.alpha is None  # the measured default_alpha of the image's size (settings.py says why not 1e-3)
    assert s.content_layers == ("relu4_2",) and s.style_layers == ts.PAPER_STYLE_LAYERS
    assert (s.pooling, s.normalize, s.style_weights, s.lr) == ("avg", "paper", None, None)


@pytest.mark.parametrize(
    "options, named",
    [
        (dict(alpha=-1), "alpha"),
        (dict(beta=float("nan")), "beta"),
        (dict(alpha=[[1.0]]), "alpha"),
        (dict(steps=2.5), "steps"),
        (dict(steps=True), "steps"),
        (dict(init="photo"), "init"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(lr=0.1), "lr"),  # lr with L-BFGS
        (dict(optimizer="adam", lr=-1.0), "lr"),
        (dict(seed=-3), "seed"),
        (dict(pooling="min"), "pooling"),
        (dict(normalize="batch"), "normalize"),
        (dict(precision="fp16"), "precision"),
        (dict(content_layers=["conv42"]), "content_layers"),
        (dict(style_layers=["relu1_1"], style_weights={"relu9_9": 1.0}), "style_weights"),
        (dict(style_weights=[1.0, 2.0]), "style_weights"),
        (dict(style_weights=3.0), "style_weights must be a dict"),
        (dict(style_weights=["a"] * 5), "style_weights must be numbers"),
        (dict(style_weights=[1.0, -1.0, 1.0, 1.0, 1.0]), "style_weights must be finite and non-negative"),
        (dict(content_layers=(), style_layers=()), "content_layers"),
        (dict(alpha=[1.0, 2.0], beta=[1.0, 2.0, 3.0]), "batch size"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(options, named):
    with pytest.raises(ValueError) as e:
        Settings(**options)
    message = str(e.value)
    assert named in message and "\n" not in message


def test_values_are_normalised_once():
    s = Settings(alpha=torch.tensor([1e-4, 1e-3]), style_layers="relu1_1", style_weights=[2], optimizer="adam", lr=1)
    assert s.alpha == pytest.approx((1e-4, 1e-3)) and isinstance(s.alpha, tuple) and s.batch == 2
    assert s.style_layers == ("relu1_1",) and s.style_weights == {"relu1_1": 2.0}
    assert s.lr == 1.0 and isinstance(s.lr, float)
    alpha, beta = s.factors(64, 64)
    assert alpha.shape == beta.shape == (2,) and torch.equal(beta, torch.ones(2))


def test_style_weights_are_checked_as_every_style_terms_are():
    """Issue 28: Settings re-implemented losses.layer_weights; both give the same w_l."""
    from tutorial_style.losses import layer_weights

    layers = ("relu1_1", "relu2_1", "relu3_1")
    for weights in ({"relu2_1": 2}, [1, 2, 3], torch.tensor([0.5, 0.25, 0.25])):
        assert Settings(style_layers=layers, style_weights=weights).style_weights == layer_weights(layers, weights)
    assert Settings(style_layers=layers, style_weights={"relu2_1": 2}).style_weights == {
        "relu1_1": 0.0,
        "relu2_1": 2.0,
        "relu3_1": 0.0,
    }


def test_the_default_alpha_scales_with_the_pixel_count():
    """L_content is a sum over positions (eq. 1), E_l is not (eq. 4): the default alpha keeps their balance."""
    s = Settings()
    assert s.alpha is None
    (a512,), (a256,) = s.factors(512, 512)[0].tolist(), s.factors(256, 256)[0].tolist()
    assert a512 == pytest.approx(ts.settings.ALPHA_AT_512) and a256 == pytest.approx(4 * a512)
    assert s.alpha_for(100, 300) == pytest.approx(ts.default_alpha(300, 100))
    assert Settings(alpha=1e-3).alpha_for(512, 512) == 1e-3  # a given alpha is used as it is


def test_unknown_names_suggest_the_closest():
    with pytest.raises(ValueError, match="unknown setting 'stpes'; did you mean 'steps'"):
        Settings.of(None, stpes=3)
    with pytest.raises(ValueError, match="unknown setting 'stpes'"):
        ts.stylize("chelsea", "mosaic", stpes=3, weights="random")


def test_of_replaces_only_what_is_given():
    base = Settings(steps=70, init="content")
    changed = Settings.of(base, alpha=1e-2)
    assert (changed.steps, changed.init, changed.alpha) == (70, "content", 1e-2)
    assert Settings.of(base) is base


def test_a_function_that_sets_a_setting_refuses_it():
    with pytest.raises(ValueError, match="reconstruct_content sets alpha itself"):
        ts.reconstruct_content("chelsea", "relu4_2", alpha=1.0, weights="random")


def test_stylize_shows_every_setting_with_its_default():
    params = inspect.signature(ts.stylize).parameters
    for field in dataclasses.fields(Settings):
        assert params[field.name].default == field.default
        assert params[field.name].kind == inspect.Parameter.KEYWORD_ONLY


def test_as_dict_is_plain_and_keys_a_tensor_start_by_its_pixels():
    a = Settings(init=torch.zeros(1, 3, 4, 4)).as_dict()
    b = Settings(init=torch.ones(1, 3, 4, 4)).as_dict()
    assert a["init"] != b["init"] and a["init"].startswith("tensor ")
    assert a["content_layers"] == ("relu4_2",)
    assert "lr=0.5" in repr(Settings(optimizer="adam", lr=0.5)) and "steps" not in repr(Settings())


def test_adam_has_its_default_learning_rate():
    assert ADAM_LR == pytest.approx(0.02)


# --- the 2017 controls' settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(preserve_colors="colour"), "preserve_colors must be one of 'luminance', 'histogram' or None"),
        (dict(style_blend=[1, -1]), "style_blend must be finite and non-negative"),
        (dict(style_blend=[0, 0]), "style_blend must have a positive sum"),
        (dict(mask_propagation="touching"), "mask_propagation must be one of 'simple', 'inside', 'all'"),
        (dict(sizes=(512, 256)), "sizes must grow from coarse to fine"),
        (dict(sizes=(8, 256)), "8 px is too small"),
        (dict(steps=(10, 20)), "steps is a list .* which needs sizes"),
        (dict(sizes=(64, 128), steps=(10, 20, 30)), "3 numbers for 2 sizes"),
        (dict(sizes=(64, 128), init=torch.zeros(1, 3, 64, 64)), "an init tensor has one size"),
    ],
)
def test_bad_control_settings_are_one_line_errors(options, message):
    with pytest.raises(ValueError, match=message) as error:
        Settings(**options)
    assert "\n" not in str(error.value)
