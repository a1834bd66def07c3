"""Reliability of the optimisation (issue 5): a non-finite loss never yields NaN pixels, the best image is kept
by total loss, Ctrl-C keeps it, and the command line saves it and exits with 130."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
import warnings

import pytest
import torch

import tutorial_style.objective as objective
import tutorial_style.optimize as optimize
from tutorial_style import load_image, stylize
from tutorial_style.optimize import minimize

TARGET = torch.full((2, 3, 4, 4), 0.3)


def quartic(nan_at=(), nan_rows=(0,)):
    """A synthetic loss for ``minimize``: sum (x - 0.3)^2 + (x - 0.3)^4 per image, NaN for ``nan_rows`` at the calls in
    ``nan_at``. It records every image it is given, so tests know the best one."""
    seen = []

    def losses(image):
        call = len(seen)
        seen.append(image.detach().clone())
        d = image - TARGET[: image.shape[0]]
        total = (d**2 + d**4).flatten(1).sum(1)
        if call in nan_at:
            poison = torch.ones(image.shape[0])
            poison[list(nan_rows)] = math.nan
            total = total * poison
        return {"content": total, "style": torch.zeros_like(total), "total": total}

    return losses, seen


def start(batch=2):
    return torch.rand(batch, 3, 4, 4, generator=torch.Generator().manual_seed(0))


def totals(history, row=0):
    return [h["total"][row] if isinstance(h["total"], list) else h["total"] for h in history]


def best_seen(seen, history, row=0):
    values = totals(history, row)
    k = min((v, i) for i, v in enumerate(values) if math.isfinite(v))[1]
    return seen[k][row], k


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_nan_loss_is_caught_and_the_best_finite_image_returned(optimizer):
    losses, seen = quartic(nan_at={3, 4})
    with pytest.warns(RuntimeWarning, match=r"NaN or infinite at 2 step\(s\), first at step 3"):
        best, history, interrupted = minimize(losses, start(), steps=25, optimizer=optimizer)
    assert not interrupted and len(history) == 25
    assert torch.isfinite(best).all()
    assert math.isnan(totals(history)[3]) and math.isnan(totals(history)[4])
    for row in (0, 1):  # row 0 blew up, row 1 never did; each is its own best
        expected, _ = best_seen(seen, history, row)
        torch.testing.assert_close(best[row], expected, rtol=0, atol=0)
    # after the blow-up the image went back to its best and the run went on improving
    assert min(totals(history)[5:]) < min(totals(history)[:3])


def test_lbfgs_recovers_after_a_blow_up():
    """One NaN must not poison the L-BFGS history (it would make every later step NaN)."""
    losses, _ = quartic(nan_at={3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, history, _ = minimize(losses, start(), steps=30, optimizer="lbfgs")
    after = totals(history)[4:]
    assert all(math.isfinite(v) for v in after), after
    assert after[-1] < 1e-6


def test_a_loss_that_is_never_finite_returns_the_start_not_nan():
    losses, _ = quartic(nan_at=set(range(10)), nan_rows=(0, 1))
    x0 = start()
    with pytest.warns(RuntimeWarning, match="NaN or infinite at 10 step"):
        best, _, _ = minimize(losses, x0, steps=10, optimizer="lbfgs")
    torch.testing.assert_close(best, x0)


def test_best_image_is_tracked_by_total_loss_not_the_last_iterate():
    scripted = iter([5.0, 1.0, 3.0, 4.0, 2.0, 6.0])
    seen = []

    def losses(image):
        seen.append(image.detach().clone())
        value = next(scripted) + 0 * image.sum()  # the loss does not depend on the pixels' values...
        total = value.expand(1) + 1e-3 * image.flatten(1).sum(1)  # ...except for a gradient to step along
        return {"content": total, "style": total * 0, "total": total}

    best, history, _ = minimize(losses, torch.rand(1, 3, 4, 4), steps=6, optimizer="adam")
    torch.testing.assert_close(best, seen[1], rtol=0, atol=0)
    assert not torch.equal(best, seen[-1])


def test_adam_with_a_too_large_step_keeps_its_best(monkeypatch):
    monkeypatch.setattr(optimize, "ADAM_LR", 0.3)  # overshoots the quartic's minimum again and again (pixels stay in [0, 1])
    losses, seen = quartic()
    best, history, _ = minimize(losses, start(1), steps=15, optimizer="adam")
    values = totals(history)
    assert values[-1] > min(values)  # the last iterate is not the best ...
    expected, _ = best_seen(seen, history)
    torch.testing.assert_close(best[0], expected, rtol=0, atol=0)  # ... and the best is what comes back


# --- the same through stylize, with the real network -------------------------------------------------------------


@pytest.fixture(scope="module")
def images():
    return load_image("chelsea", size=32), load_image("mosaic", size=32)


def test_stylize_with_a_blow_up_returns_finite_pixels(images, vgg, monkeypatch):
    calls = []
    real_style_loss = objective.style_loss

    def exploding_style_loss(*args, **kwargs):
        calls.append(1)
        value = real_style_loss(*args, **kwargs)
        return value * math.inf if len(calls) in (4, 5) else value  # call n is step n - 1: steps 3 and 4 blow up

    monkeypatch.setattr(objective, "style_loss", exploding_style_loss)
    seen = []
    with pytest.warns(RuntimeWarning, match="NaN or infinite") as record:
        result = stylize(*images, weights=vgg, steps=8, progress=False, callback=lambda s, im, l: seen.append(im.clone()))
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert torch.isfinite(result.image).all() and 0 <= result.image.min() and result.image.max() <= 1
    values = totals(result.history)
    assert sum(not math.isfinite(v) for v in values) == 2
    expected, _ = best_seen(seen, result.history)
    torch.testing.assert_close(result.image[0], expected, rtol=0, atol=0)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_ctrl_c_keeps_the_best_image_so_far(images, vgg, optimizer):
    seen = []

    def press_ctrl_c_at_step_4(step, image, losses):
        seen.append(image.clone())
        if step == 4:
            raise KeyboardInterrupt

    result = stylize(*images, weights=vgg, steps=100, optimizer=optimizer, progress=False, callback=press_ctrl_c_at_step_4)
    assert result.interrupted and len(result.history) == 5
    assert torch.isfinite(result.image).all()
    expected, k = best_seen(seen, result.history)
    torch.testing.assert_close(result.image[0], expected, rtol=0, atol=0)


def test_ctrl_c_before_the_first_evaluation_returns_the_start(images, vgg, monkeypatch):
    def run_with_ctrl_c_at_once(losses, x, **kwargs):
        def pressed(image):
            raise KeyboardInterrupt

        return minimize(pressed, x, **kwargs)

    monkeypatch.setattr(optimize, "minimize", run_with_ctrl_c_at_once)
    init = torch.rand(1, 3, *images[0].shape[-2:])
    result = stylize(*images, weights=vgg, steps=10, init=init, progress=False)
    assert result.interrupted and result.history == []
    torch.testing.assert_close(result.image, init)


# --- the command line ------------------------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
def test_ctrl_c_on_the_command_line_saves_the_best_image_and_exits_130(tmp_path, vgg):
    """As a user would: start a long run, wait until it iterates, press Ctrl-C (SIGINT)."""
    out = tmp_path / "result.png"
    command = [sys.executable, "-m", "tutorial_style", "stylize", "chelsea", "mosaic", "-o", str(out),
               "--size", "48", "--steps", "100000", "--weights", "random"]  # fmt: skip
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
