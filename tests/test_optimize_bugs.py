"""Bugs of the optimisation loop found in review (issue 13), each driven the way the package drives it: the
restart after a non-finite loss through ``optimize.minimize``; callbacks that keep Adam's frames; a network
given to ``stylize`` that must come back untouched; Adam's learning rate."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import tutorial_style as ts
from tutorial_style import get_vgg, load_image, optimize


def quadratic(nan_at: int | None = None, nan_image: int = 0):
    """1e3 |x - 0.3|^2 per image, the example of the issue; NaN (loss and gradient) for ``nan_image`` at the
    evaluation ``nan_at``. Records every image it is given."""
    seen = []

    def losses(image):
        call = len(seen)
        seen.append(image.detach().clone())
        total = 1e3 * ((image - 0.3) ** 2).flatten(1).sum(1)
        if call == nan_at:
            poison = torch.ones(image.shape[0])
            poison[nan_image] = math.nan
            total = total * poison
        return {"total": total}

    return losses, seen


def totals(history, image):
    return [h["total"][image] if isinstance(h["total"], list) else h["total"] for h in history]


def minimize_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "the loss was NaN at 1 step(s)": not what is tested here
        return optimize.minimize(*args, **kwargs)


def test_lbfgs_after_a_nan_goes_on_from_the_best_image_without_wasting_a_step():
    """The issue's example: 1e3 |x - 0.3|^2, one NaN at evaluation 1 for image 0. The run went 2.24e4 -> NaN ->
    2.24e4 (the same image evaluated again) -> 4.37e4 (an unscaled step) with every pixel clipped to 0 or 1."""
    x0 = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    steps = 8
    losses, seen = quadratic(nan_at=1, nan_image=0)
    best, history, interrupted = minimize_quietly(losses, x0.clone(), steps=steps, optimizer="lbfgs")
    assert not interrupted and len(history) == len(seen) == steps
    values = totals(history, 0)
    assert math.isnan(values[1]) and all(math.isfinite(v) for v in values[2:]), values
    # no evaluation is spent again on an image already evaluated (the best one, evaluation 0)
    assert not torch.equal(seen[2][0], seen[0][0]) and not torch.equal(seen[2][0], seen[1][0])
    assert values[2] < values[0], values  # the step after the NaN already improves on the best before it
    assert all(b <= a for a, b in zip(values[2:], values[3:])), values  # and the loss keeps falling
    assert values[-1] < 1e-3 * values[0], values
    clipped = [float(((s[0] == 0) | (s[0] == 1)).float().mean()) for s in seen]
    assert max(clipped) < 0.5, clipped  # pixels are not thrown to 0 or 1
    torch.testing.assert_close(best[0], torch.full_like(best[0], 0.3), rtol=0, atol=1e-3)
    # image 1 never saw a NaN: it runs as if alone
    alone, _ = quadratic()
    best_alone, history_alone, _ = minimize_quietly(alone, x0[1:].clone(), steps=steps, optimizer="lbfgs")
    torch.testing.assert_close(torch.tensor(totals(history, 1)), torch.tensor(totals(history_alone, 0)))
    torch.testing.assert_close(best[1:], best_alone)


# --- callbacks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_callback_may_keep_the_images_it_is_given(optimizer):
    """A live view that keeps frames without .clone() must get each step's image, not the live one."""
    content, style = load_image("chelsea", size=32), load_image("swirls", size=32)
    frames = []
    result = ts.stylize(content, style, optimizer=optimizer, steps=4, init="content", weights="random",
                        progress=False, callback=lambda step, image, losses: frames.append(image))  # fmt: skip
    assert len(frames) == 4
    torch.testing.assert_close(frames[0], content, rtol=0, atol=0)  # the run starts from the content image
    assert all(not torch.equal(a, b) for a, b in zip(frames, frames[1:])), "two steps gave the same frame"
    best = min(range(4), key=lambda k: result.history[k]["total"])
    torch.testing.assert_close(result.image, frames[best], rtol=0, atol=0)  # each frame is its step's image


# --- the caller's network ---------------------------------------------------------------------------------------


def test_stylize_leaves_a_given_network_untouched(monkeypatch):
    """stylize(weights=vgg, device=...) moved the given module in place (vgg.to(device)): the get_vgg cache's
    "cpu" entry could become a CUDA module. No GPU is needed to see it: no conversion may reach the module."""
    vgg = get_vgg("random", device="cpu")  # the cache's own entry
    before = [(name, p, p.data_ptr(), p.device, p.dtype) for name, p in vgg.named_parameters()]
    touched = []
    real_apply = torch.nn.Module._apply

    def spy(self, *args, **kwargs):  # what .to(), .cuda(), .float(), .half() ... go through
        touched.append(self)
        return real_apply(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "_apply", spy)
    content, style = load_image("chelsea", size=32), load_image("swirls", size=32)
    result = ts.stylize(content, style, steps=2, weights=vgg, device="cpu", progress=False)
    monkeypatch.undo()
    assert torch.isfinite(result.image).all()
    ours = {id(m) for m in vgg.modules()}
    assert not [type(m).__name__ for m in touched if id(m) in ours], "stylize converted the network it was given"
    after = [(name, p, p.data_ptr(), p.device, p.dtype) for name, p in vgg.named_parameters()]
    assert [a[:1] + a[2:] for a in after] == [b[:1] + b[2:] for b in before]
    assert all(a[1] is b[1] for a, b in zip(after, before))
    assert get_vgg("random", device="cpu") is vgg


# --- Adam's learning rate -----------------------------------------------------------------------------------------


def adam_frames(**kwargs):
    content, style = load_image("chelsea", size=32), load_image("swirls", size=32)
    frames = []
    result = ts.stylize(content, style, optimizer="adam", steps=3, init="content", weights="random", progress=False,
                        callback=lambda step, image, losses: frames.append(image.clone()), **kwargs)  # fmt: skip
    return content, frames, result


def test_adams_learning_rate_is_a_parameter():
    """Adam's first step moves each pixel by lr (times the sign of its gradient) where [0, 1] leaves room."""
    content, frames, result = adam_frames(lr=0.05)
    _, default_frames, default = adam_frames()
    room = (content > 0.06) & (content < 0.94)
    first = (frames[1] - frames[0]).abs()[room]
    assert float(first.median()) == pytest.approx(0.05, abs=1e-3)
    assert float((default_frames[1] - default_frames[0]).abs()[room].median()) != pytest.approx(0.05, abs=1e-3)
    assert not torch.equal(result.image, default.image)


@pytest.mark.parametrize("lr", [0.0, -0.01, math.nan, math.inf, "fast"])
def test_a_bad_learning_rate_is_named(lr):
    with pytest.raises(ValueError, match="lr"):
        ts.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), optimizer="adam", lr=lr, steps=1,
                   weights="random", progress=False)  # fmt: skip


def test_a_learning_rate_for_lbfgs_is_refused_by_name():
    """L-BFGS takes no learning rate (its steps are scaled by its curvature estimate): saying so beats ignoring it."""
    with pytest.raises(ValueError, match="lr"):
        ts.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), optimizer="lbfgs", lr=0.05, steps=1,
                   weights="random", progress=False)  # fmt: skip
