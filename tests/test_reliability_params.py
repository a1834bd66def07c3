"""Reliability of parameters (issue 5): bad values fail at the call, before any work, with a message naming the
parameter; images too small for the layers fail with the minimum size; big runs warn with an estimate."""

from __future__ import annotations

import io
import math
import os
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import odd_files  # noqa: F401  (registers the hypothesis profiles)
import tutorial_style.cost as cost
import tutorial_style.optimize as optimize
from tutorial_style import LAYER_INFO, LAYERS, VGG19Features, load_image, reconstruct_content, reconstruct_style, stylize
from tutorial_style.cost import SizeWarning, estimate_cost
from tutorial_style.vgg import check_layers


class WorkStarted(Exception):
    """Raised where the real work (building or running the network) would begin."""


@pytest.fixture
def no_work(monkeypatch):
    """Make any work fail loudly: building the network, running it, or the optimisation loop."""

    def refuse(*args, **kwargs):
        raise WorkStarted

    monkeypatch.setattr(optimize, "get_vgg", refuse)
    monkeypatch.setattr(optimize, "minimize", refuse)
    monkeypatch.setattr(VGG19Features, "__init__", refuse)
    monkeypatch.setattr(VGG19Features, "forward", refuse)


IMAGE = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))

BAD_PARAMETERS = [
    ("steps", 0, "steps"), ("steps", -5, "steps"), ("steps", 2.5, "steps"), ("steps", "100", "steps"),
    ("steps", True, "steps"), ("steps", None, "steps"),
    ("alpha", -1.0, "alpha"), ("alpha", math.nan, "alpha"), ("alpha", math.inf, "alpha"), ("alpha", "big", "alpha"),
    ("alpha", torch.tensor([1e-3, math.nan]), "alpha"), ("alpha", torch.ones(2, 2), "alpha"),
    ("beta", -1e-9, "beta"), ("beta", math.nan, "beta"), ("beta", -math.inf, "beta"), ("beta", None, "beta"),
    ("optimizer", "sgd", "optimizer"), ("optimizer", "LBFGS", "optimizer"), ("optimizer", None, "optimizer"),
    ("init", "zeros", "init"), ("init", torch.zeros(1, 3, 8, 8), "init"), ("init", torch.full((1, 3, 32, 32), math.nan), "init"),
    ("pooling", "mean", "pooling"), ("pooling", "AVG", "pooling"), ("pooling", None, "pooling"),
    ("normalize", "yes", "normalize"),
    ("device", "tpu", "device"), ("device", "cuda:7", "device"), ("device", "mps", "device"),
    ("content_layers", ["conv42"], "content_layers"), ("content_layers", 42, "content_layers"),
    ("style_layers", ["relu6_1"], "style_layers"), ("style_layers", ["relu1_1", None], "style_layers"),
    ("style_weights", [1.0, 2.0], "style"), ("style_weights", {"relu1_1": -1.0}, "style"),
    ("seed", -1, "seed"), ("seed", 1.5, "seed"), ("seed", "abc", "seed"), ("seed", 2**64, "seed"),
    ("callback", "print", "callback"),
]  # fmt: skip


@pytest.mark.parametrize("name, value, mentioned", BAD_PARAMETERS, ids=[f"{n}={v!r}"[:40] for n, v, _ in BAD_PARAMETERS])
def test_bad_parameter_fails_at_the_call_before_any_work(no_work, name, value, mentioned):
    with pytest.raises(ValueError) as error:
        stylize(IMAGE, IMAGE, progress=False, **{name: value})
    assert mentioned in str(error.value), str(error.value)


def test_bad_images_fail_at_the_call(no_work, tmp_path):
    nan = IMAGE.clone()
    nan[0, 0, 0, 0] = math.nan
    for content, style, message in (
        (nan, IMAGE, "content image contains NaN"),
        (IMAGE, nan, "style image contains NaN"),
        (IMAGE[0, 0], IMAGE, r"content image must be a tensor of shape \(1, 3, H, W\)"),
        ((IMAGE * 255).byte(), IMAGE, "divide uint8 images by 255"),
        (tmp_path / "missing.png", IMAGE, "missing.png"),
        (IMAGE, b"not an image", "uploaded file"),
    ):
        with pytest.raises(ValueError, match=message):
            stylize(content, style)


def test_the_checks_above_really_stop_before_the_work(vgg, no_work):
    """Good parameters get as far as the work, so the no_work fixture does prove the order."""
    with pytest.raises(WorkStarted):
        stylize(IMAGE, IMAGE, progress=False)
    with pytest.raises(WorkStarted):  # a ready network: its forward pass is the work
        stylize(IMAGE, IMAGE, weights=vgg, progress=False)
    with pytest.raises(ValueError, match="steps"):
        stylize(IMAGE, IMAGE, weights=vgg, steps=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_unavailable_cuda_is_refused_with_a_fix(no_work):
    with pytest.raises(ValueError, match=r"'cuda' is not available here .*device='cpu'"):
        stylize(IMAGE, IMAGE, device="cuda")


def test_both_layer_lists_empty_is_refused(no_work):
    with pytest.raises(ValueError, match="nothing to match"):
        stylize(IMAGE, IMAGE, content_layers=[], style_layers=[])


@pytest.mark.parametrize("typed, suggested", [("conv42", "relu4_2"), ("Conv4-2", "relu4_2"), ("relu31", "relu3_1"),
                                              ("conv 5 1", "relu5_1"), ("pool 3", "pool3"), ("rleu2_1", "relu2_1")])  # fmt: skip
def test_unknown_layer_suggests_the_layer_meant(typed, suggested):
    with pytest.raises(ValueError) as error:
        check_layers([typed], "content_layers")
    message = str(error.value)
    assert f"did you mean {suggested!r}" in message and "content_layers" in message
    if typed == "conv42":  # the paper's name: both readings are offered
        assert "'conv4_2'" in message and "paper" in message


@given(st.text(max_size=12))
def test_any_layer_name_is_either_valid_or_refused_with_a_hint(name):
    try:
        assert check_layers([name]) == (name,)
    except ValueError as e:
        assert name not in LAYER_INFO and repr(name) in str(e)


# --- images too small for the layers -----------------------------------------------------------------------------


def test_too_small_content_fails_with_the_minimum(no_work):
    with pytest.raises(ValueError, match="15x64 px; the layers used need at least 16 px"):
        stylize(torch.rand(1, 3, 15, 64), IMAGE)
    with pytest.raises(ValueError, match="at least 32 px"):
        reconstruct_content(torch.rand(1, 3, 31, 31), layer="pool5")
    with pytest.raises(ValueError, match="at least 16 px"):
        reconstruct_style(torch.rand(1, 3, 12, 12))
    with pytest.raises(ValueError, match="at least 2 px"):
        reconstruct_style(torch.rand(1, 3, 1, 40), layers=["pool1"])


def test_small_is_fine_for_shallow_layers(no_work):
    with pytest.raises(WorkStarted):  # 8 px is enough for relu1_1: the checks pass, the work starts
        reconstruct_content(torch.rand(1, 3, 8, 8), layer="relu1_1")


def test_too_small_image_for_the_network_itself(vgg):
    with pytest.raises(ValueError, match="too small for layer relu5_1: its sides must be at least 16 px"):
        vgg(torch.rand(1, 3, 15, 40), layers=["relu1_1", "relu5_1"])
    assert vgg(torch.rand(1, 3, 16, 16), layers=["relu5_1"])["relu5_1"].shape == (1, 512, 1, 1)


# --- size warnings -----------------------------------------------------------------------------------------------


def test_a_run_of_days_warns_with_time_and_memory_at_the_call(no_work):
    with pytest.warns(SizeWarning, match=r"will take about \d+ days and need about \d+ MB") as record:
        with pytest.raises(WorkStarted):
            stylize(IMAGE, IMAGE, steps=10**9)
    assert record[0].filename == __file__  # points at the caller's line, not into the package


def test_a_run_that_may_not_fit_in_memory_warns(no_work, monkeypatch):
    monkeypatch.setattr(cost, "available_memory", lambda device: 10_000_000)  # 10 MB free
    with pytest.warns(SizeWarning, match=r"need about \d+ MB \(10 MB available on cpu\)"):
        with pytest.raises(WorkStarted):
            stylize(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), steps=10)


def test_ordinary_runs_do_not_warn(no_work):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SizeWarning)
        for size, steps in ((32, 10), (128, 100), (256, 300)):  # quick mode, the notebooks, the CLI's default
            image = torch.rand(1, 3, size, size)
            with pytest.raises(WorkStarted):
                stylize(image, image, steps=steps)


def test_the_estimate_grows_linearly_and_lbfgs_needs_more_memory():
    t1, m1 = estimate_cost(128, 128, steps=100)
    t2, m2 = estimate_cost(256, 256, steps=100)
    t3, m3 = estimate_cost(128, 128, batch=3, steps=200)
    assert t2 == pytest.approx(4 * t1) and m2 == pytest.approx(4 * m1)
    assert t3 == pytest.approx(6 * t1) and m3 == pytest.approx(3 * estimate_cost(128, 128, steps=200)[1])
    # L-BFGS keeps at most one pair per step (up to 100): a 70-step run needs less than a 500-step one
    assert estimate_cost(128, 128, steps=70)[1] < estimate_cost(128, 128, steps=500)[1] == estimate_cost(128, 128, steps=101)[1]
    assert estimate_cost(128, 128, optimizer="adam")[1] < estimate_cost(128, 128, optimizer="lbfgs")[1]
    assert estimate_cost(512, 512, device="cuda")[0] < estimate_cost(512, 512, device="cpu")[0]


def test_free_memory_is_known_without_psutil(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_psutil(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psutil)
    if os.path.isfile("/proc/meminfo"):  # Linux, CI: the real file
        with open("/proc/meminfo") as f:
            listed = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
        free = cost.available_memory(torch.device("cpu"))
        assert isinstance(free, int) and abs(free - listed) < 0.5 * listed, (free, listed)
    # and a stand-in file, the same on every system
    real_open = builtins.open
    meminfo = "MemTotal:       16318412 kB\nMemFree:         1038824 kB\nMemAvailable:    9876543 kB\n"

    def fake_open(path, *args, **kwargs):
        return io.StringIO(meminfo) if str(path) == "/proc/meminfo" else real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    assert cost.available_memory(torch.device("cpu")) == 9876543 * 1024


# --- property-based: random parameter values ------------------------------------------------------------------------

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from(["lbfgs", "adam", "noise", "content", "style", "avg", "max", "paper", "cpu",
                                          "cuda", "relu4_2", "conv42", "auto"]),
    st.lists(st.floats(-1, 1), max_size=6), st.lists(st.sampled_from(LAYERS + ("conv42", "")), max_size=4),
    st.builds(torch.tensor, st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=3)),
)  # fmt: skip
NAMES = ["steps", "alpha", "beta", "optimizer", "init", "pooling", "normalize", "device", "seed", "content_layers",
         "style_layers", "style_weights", "callback"]  # fmt: skip


def _valid(name, value) -> bool | None:
    """Our own statement of what is valid, for the simple parameters (None: not judged here)."""
    number = isinstance(value, (int, float, np.integer)) and not isinstance(value, bool)
    if name == "steps":
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if name in ("alpha", "beta") and number:
        return math.isfinite(value) and value >= 0
    if name == "optimizer":
        return value in ("lbfgs", "adam")
    if name == "pooling":
        return value in ("avg", "max")
    if name == "normalize":
        return value in ("paper", None)
    if name == "seed":
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
    return None


@given(st.dictionaries(st.sampled_from(NAMES), ANYTHING, min_size=1, max_size=3))
def test_random_parameters_are_accepted_or_refused_with_a_message_naming_one(kwargs):
    calls = []

    def work(*args, **kw):
        calls.append(1)
        raise WorkStarted

    with pytest.MonkeyPatch.context() as m:
        m.setattr(optimize, "get_vgg", work)
        m.setattr(optimize, "minimize", work)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SizeWarning)
            try:
                stylize(IMAGE, IMAGE, progress=False, **kwargs)
            except WorkStarted:
                for name, value in kwargs.items():
                    assert _valid(name, value) in (True, None), f"{name}={value!r} was accepted"
            except ValueError as e:
                message = str(e)
                assert not calls, "work started before the error"
                assert any(name.split("_")[0] in message for name in kwargs) or "content image" in message, message
            # Any other exception type is a failure: hypothesis reports it.


@given(st.one_of(st.none(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=3), st.booleans()))
def test_random_sizes_for_load_image(size):
    try:
        image = load_image(torch.rand(1, 3, 10, 20), size=size)
    except ValueError as e:
        assert "size" in str(e)
        assert not (isinstance(size, int) and not isinstance(size, bool) and size >= 1)
    else:
        assert size is None or max(image.shape[-2:]) == size
