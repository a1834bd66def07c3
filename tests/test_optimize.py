"""The optimisation (optimize.py): honest step counts, history, batching, interruption, the paper's defaults, coarse
to fine; a non-finite loss, bad parameters and a given network (issues 5, 13 and 21)."""

import inspect
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tutorial_style as ts
import tutorial_style.cost as cost
import tutorial_style.objective as objective
from tutorial_style import (
    LAYERS,
    PAPER_CONTENT_LAYERS,
    PAPER_STYLE_LAYERS,
    VGG19Features,
    content_loss,
    get_vgg,
    gram_matrix,
    load_image,
    optimize,
    reconstruct_content,
    reconstruct_style,
    style_loss,
    stylize,
)
from tutorial_style.cost import SizeWarning
from tutorial_style.images import resize_to
from tutorial_style.optimize import minimize


@pytest.fixture(scope="module")
def images():
    return load_image("chelsea", size=40), load_image("mosaic", size=40)


def run(images, vgg, **kwargs):
    kwargs.setdefault("steps", 5)
    return stylize(*images, weights=vgg, progress=False, **kwargs)


def test_defaults_follow_the_paper():
    params = inspect.signature(stylize).parameters
    assert params["content_layers"].default == PAPER_CONTENT_LAYERS
    assert params["style_layers"].default == PAPER_STYLE_LAYERS
    # alpha: measured for our network and scaled with the pixel count (settings.py says why the paper's 1e-3 is not it)
    assert params["alpha"].default is None and params["beta"].default == 1.0
    assert (params["pooling"].default, params["normalize"].default) == ("avg", "paper")
    assert (params["optimizer"].default, params["init"].default) == ("lbfgs", "noise")


def test_history_starts_at_the_initial_image(images, vgg):
    content, style = images
    style_resized = torch.nn.functional.interpolate(style, size=content.shape[-2:], mode="bilinear", antialias=True)
    start = torch.rand(1, 3, *content.shape[-2:], generator=torch.Generator().manual_seed(7))
    result = run(images, vgg, init=start, alpha=1e-2, beta=2.0)
    with torch.no_grad():
        p = vgg(content, PAPER_CONTENT_LAYERS)["relu4_2"]
        a = {n: gram_matrix(f) for n, f in vgg(style_resized, PAPER_STYLE_LAYERS).items()}
        f = vgg(start, PAPER_STYLE_LAYERS + PAPER_CONTENT_LAYERS)
        lc, ls = content_loss(f["relu4_2"], p).item(), style_loss(f, a).item()
    first = result.history[0]
    assert first["step"] == 0
    assert first["content"] == pytest.approx(lc, rel=1e-4)
    assert first["style"] == pytest.approx(ls, rel=1e-4)
    assert first["total"] == pytest.approx(1e-2 * lc + 2.0 * ls, rel=1e-4)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_the_loss_falls(images, vgg, optimizer):
    result = run(images, vgg, steps=15, optimizer=optimizer)
    totals = [h["total"] for h in result.history]
    assert min(totals[1:]) < 0.8 * totals[0]
    assert result.image.shape == images[0].shape
    assert 0 <= result.image.min() and result.image.max() <= 1


def test_steps_count_evaluations_exactly(images, vgg):
    seen = []
    result = run(images, vgg, steps=7, callback=lambda step, image, losses: seen.append(step))
    assert seen == list(range(7)) and len(result.history) == 7 and not result.interrupted


def test_targets_are_computed_once_without_grad(images, vgg, monkeypatch):
    calls = []
    forward = type(vgg).forward

    def counting(self, image, layers):
        calls.append(torch.is_grad_enabled())
        return forward(self, image, layers)

    monkeypatch.setattr(type(vgg), "forward", counting)
    run(images, vgg, steps=4)
    assert calls[:2] == [False, False] and calls[2:] == [True] * 4


def test_the_result_is_the_best_image_not_the_last(images, vgg):
    images_seen = []
    result = run(
        images, vgg, steps=6, callback=lambda s, image, losses: images_seen.append((losses["total"].item(), image))
    )
    best_loss, best_image = min(images_seen, key=lambda t: t[0])
    torch.testing.assert_close(result.image, best_image)


def test_a_batched_row_equals_separate_runs(images, vgg):
    """Each image of a batch is optimised on its own: over its first steps, the same images as separate runs.

    Only two steps: a convolution's rounding depends on the batch size on some CPUs (oneDNN, and on AVX-512
    machines the native kernels too: about 1e-5 at relu3_1), and from the third step on, L-BFGS's curvature
    estimate y = g_k - g_k-1 can amplify that rounding to 1e-2 in a pixel (measured: 6e-8 after step 2, 1e-2
    after step 3, at alpha/beta = 1e-4). The next test checks that images are independent, exactly.
    """
    alphas = [1e-4, 1e-2, 1.0]
    batched = run(images, vgg, steps=2, alpha=torch.tensor(alphas), seed=3)
    singles = [run(images, vgg, steps=2, alpha=a, seed=3) for a in alphas]
    assert batched.image.shape[0] == 3 and len(batched.history[0]["total"]) == 3
    for i, single in enumerate(singles):
        torch.testing.assert_close(batched.image[i : i + 1], single.image, atol=1e-4, rtol=1e-4)
        assert batched.history[-1]["total"][i] == pytest.approx(single.history[-1]["total"], rel=1e-4)


def test_no_image_of_a_batch_leaks_into_another(images, vgg):
    """Change one image's alpha in a batch of three: the other two come out bit for bit the same (same batch size,
    same kernels), so no image's loss, history or step reaches another; the changed one differs."""
    first = run(images, vgg, steps=8, alpha=torch.tensor([1e-4, 1e-2, 1.0]), seed=3)
    second = run(images, vgg, steps=8, alpha=torch.tensor([1e-4, 1e-3, 1.0]), seed=3)
    torch.testing.assert_close(first.image[[0, 2]], second.image[[0, 2]], rtol=0, atol=0)
    assert [h["total"][0] for h in first.history] == [h["total"][0] for h in second.history]
    assert not torch.equal(first.image[1], second.image[1])


def test_callback_can_stop_the_run_and_keep_the_image(images, vgg):
    result = run(images, vgg, steps=50, callback=lambda step, image, losses: step == 3)
    assert result.interrupted and len(result.history) == 4
    assert torch.isfinite(result.image).all()


def test_ctrl_c_returns_the_best_image_so_far(images, vgg):
    def interrupt(step, image, losses):
        if step == 2:
            raise KeyboardInterrupt

    result = run(images, vgg, steps=50, callback=interrupt)
    assert result.interrupted and len(result.history) == 3
    assert result.image.shape == images[0].shape and torch.isfinite(result.image).all()


def test_the_style_image_is_resized_to_the_content(vgg):
    content, style = load_image("coffee", size=48), load_image("swirls", size=80)
    result = stylize(content, style, steps=2, weights=vgg, progress=False)
    assert result.image.shape == content.shape


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_init_content_starts_with_zero_content_loss_in_either_precision(images, vgg, precision):
    # bf16: the targets go through the same bf16 network, so the content image matches itself exactly
    result = run(images, vgg, steps=2, init="content", precision=precision)
    assert result.history[0]["content"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_every_image_is_a_valid_image_and_the_best_loss_is_the_returned_images(images, vgg, optimizer):
    seen = []
    result = run(
        images, vgg, steps=12, optimizer=optimizer, callback=lambda step, image, losses: seen.append(image.clone())
    )
    assert all(0 <= float(x.min()) and float(x.max()) <= 1 for x in seen)
    assert any(float(x.min()) == 0 or float(x.max()) == 1 for x in seen[1:])  # the projection was needed
    again = run(images, vgg, steps=1, init=result.image).history[0]["total"]
    assert again == pytest.approx(min(h["total"] for h in result.history), rel=1e-4)


def test_same_seed_same_result_other_seed_other_noise(images, vgg):
    a, b, c = (run(images, vgg, steps=3, seed=s) for s in (1, 1, 2))
    assert torch.equal(a.image, b.image) and not torch.equal(a.image, c.image)


def test_reconstructions_from_noise(vgg):
    image = load_image("astronaut", size=32)
    content = reconstruct_content(image, "relu2_2", steps=10, weights=vgg, progress=False)
    assert content.history[-1]["content"] < content.history[0]["content"] and content.history[0]["style"] == 0
    texture = reconstruct_style(image, ["relu1_1", "relu2_1"], steps=10, weights=vgg, progress=False)
    assert texture.image.shape == image.shape
    assert texture.history[-1]["style"] < texture.history[0]["style"] and texture.history[0]["content"] == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps"),
        ({"alpha": -1.0}, "alpha"),
        ({"beta": float("nan")}, "beta"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"init": "zeros"}, "init"),
        ({"content_layers": ["conv42"]}, "conv4_2"),
        ({"device": "cuda:7"}, "device"),
        ({"init": torch.rand(1, 3, 10, 10)}, "init tensor"),
        ({"alpha": torch.ones(2), "beta": torch.ones(3)}, "batch size"),
    ],
)
def test_bad_arguments_are_named(images, vgg, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(images, vgg, **kwargs)


def test_wrong_image_shape_is_named(vgg):
    with pytest.raises(ValueError, match=r"content image must be a tensor of shape \(1, 3, H, W\)"):
        stylize(torch.rand(3, 3, 32, 32), torch.rand(1, 3, 32, 32), steps=1, weights=vgg, progress=False)


def test_bf16_precision_runs_the_same_algorithm(images, vgg):
    fp32 = run(images, vgg, steps=6)
    bf16 = run(images, vgg, steps=6, precision="bf16")
    assert bf16.settings["precision"] == "bf16" and torch.isfinite(bf16.image).all()
    # the same starting image and targets: the first loss agrees to bf16's precision, then it falls
    assert bf16.history[0]["total"] == pytest.approx(fp32.history[0]["total"], rel=2e-2)
    assert min(h["total"] for h in bf16.history[1:]) < bf16.history[0]["total"]
    with pytest.raises(ValueError, match="precision"):
        run(images, vgg, precision="fp16")


def _stylize_noting_warnings(*args, **kwargs):
    """stylize's result and every warning it gave, as "Category: message"."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = stylize(*args, progress=False, **kwargs)
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


NO_STEP_IMPROVED = "RuntimeWarning: precision='bf16': no step improved on the start image"


def test_bf16_says_so_when_no_step_improved_on_the_start(images, vgg):
    content = images[0]
    # style = content and init = content: the start is the optimum, nothing can improve on it
    result, said = _stylize_noting_warnings(content, content, init="content", steps=4, weights=vgg, precision="bf16")
    assert any(m.startswith(NO_STEP_IMPROVED) for m in said) and torch.equal(result.image, content)
    # fp32 returns the start silently: its loss is exactly 0
    _, said = _stylize_noting_warnings(content, content, init="content", steps=4, weights=vgg)
    assert not [m for m in said if "no step improved" in m]


def test_bf16_from_the_content_image_can_return_it_unchanged(vgg):
    # The trap the warning is for, as measured with these (random) weights and a content weight as large as the
    # paper's alpha/beta = 1e-3 (our default is far smaller): from the content image, bf16's rounding of the
    # content features costs more than the style steps gain (docs/performance.md).
    content, style = load_image("astronaut", size=96), load_image("mosaic", size=96)
    result, said = _stylize_noting_warnings(
        content, style, init="content", steps=8, weights=vgg, precision="bf16", alpha=1e-3
    )
    assert any(m.startswith(NO_STEP_IMPROVED) for m in said) and torch.equal(result.image, content)
    _, said = _stylize_noting_warnings(content, style, steps=8, weights=vgg, precision="bf16")  # from noise it improves
    assert not [m for m in said if "no step improved" in m]


# --- the 2017 controls in the loop: the luminance start, coarse to fine -----------------------------------------------


CONTROL_LAYERS = ("relu1_1", "relu2_1")  # two shallow style layers keep every run here fast


@pytest.fixture(scope="module")
def control_images():
    return ts.load_image("chelsea", size=40), ts.load_image("mosaic", size=40), ts.load_image("swirls", size=40)


def run_with_controls(content, style, vgg, **options):
    options = {"steps": 4, "style_layers": CONTROL_LAYERS, **options}
    return ts.stylize(content, style, weights=vgg, progress=False, **options)


def test_a_luminance_run_from_noise_starts_from_grey_noise(control_images):
    """The network sees grey images in luminance mode; the start is grey too (coloured noise would spend steps on
    chrominance that the result throws away)."""
    from tutorial_style.optimize import _initial_image

    content = control_images[0]
    x = _initial_image("noise", ts.Settings(preserve_colors="luminance", init="noise"), content, None, "cpu")
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 1], x[:, 2])  # grey: three equal channels
    assert x.std() > 0.1  # and still noise
    plain = _initial_image("noise", ts.Settings(init="noise"), content, None, "cpu")
    assert not torch.equal(plain[:, 0], plain[:, 1])  # without the mode, white noise in colour as the paper's


def test_coarse_to_fine_runs_each_size_from_the_previous_result(control_images, vgg):
    content, style, _ = control_images
    starts = []
    result = run_with_controls(
        content,
        style,
        vgg,
        sizes=(24, 40),
        steps=(3, 2),
        callback=lambda k, image, losses: starts.append(image.clone()),
    )
    assert result.image.shape[-2:] == content.shape[-2:]
    assert [r["size"] for r in result.history] == [24, 24, 24, 40, 40] and [r["step"] for r in result.history] == list(
        range(5)
    )
    coarse = run_with_controls(content, style, vgg, sizes=(24,), steps=3)
    # the second stage starts from the first stage's best image, upsampled
    first_stage_best = coarse.image
    torch.testing.assert_close(starts[3], resize_to(first_stage_best, content.shape[-2:]), atol=1e-6, rtol=0)


def test_coarse_to_fine_is_batched_and_keeps_ctrl_c(control_images, vgg):
    content, style, _ = control_images
    result = run_with_controls(content, style, vgg, sizes=(24, 40), steps=(3, 2), alpha=[1e-3, 1e-1])
    assert result.image.shape == (2, 3, *content.shape[-2:]) and len(result.history[0]["total"]) == 2

    def ctrl_c(step, image, losses):
        if step == 1:
            raise KeyboardInterrupt

    stopped = run_with_controls(content, style, vgg, sizes=(24, 40), steps=(3, 2), callback=ctrl_c)
    assert stopped.interrupted and len(stopped.history) == 2 and max(stopped.image.shape[-2:]) == 24  # the best so far


# --- a non-finite loss: L-BFGS goes on from the best image (issue 13) -------------------------------------------------


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


def minimize_quietly(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "the loss was NaN at 1 step(s)": not what is tested here
        return optimize.minimize(*args, **kwargs)


def test_lbfgs_after_a_nan_goes_on_from_the_best_image_without_wasting_a_step():
    """The issue's example: 1e3 |x - 0.3|^2, one NaN at evaluation 1 for image 0. The run went 2.24e4 -> NaN ->
    2.24e4 (the same image evaluated again) -> 4.37e4 (an unscaled step) with every pixel clipped to 0 or 1.
    Found in issue 13's review of the optimisation loop."""
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


# --- callbacks (issue 13) ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_callback_may_keep_the_images_it_is_given(optimizer):
    """A live view that keeps frames without .clone() must get each step's image, not the live one.
    Found in issue 13's review of the optimisation loop."""
    content, style = load_image("chelsea", size=32), load_image("swirls", size=32)
    frames = []
    result = ts.stylize(
        content,
        style,
        optimizer=optimizer,
        steps=4,
        init="content",
        weights="random",
        progress=False,
        callback=lambda step, image, losses: frames.append(image),
    )
    assert len(frames) == 4
    torch.testing.assert_close(frames[0], content, rtol=0, atol=0)  # the run starts from the content image
    assert all(not torch.equal(a, b) for a, b in zip(frames, frames[1:])), "two steps gave the same frame"
    best = min(range(4), key=lambda k: result.history[k]["total"])
    torch.testing.assert_close(result.image, frames[best], rtol=0, atol=0)  # each frame is its step's image


# --- the caller's network (issue 13) ----------------------------------------------------------------------------------


def test_stylize_leaves_a_given_network_untouched(monkeypatch):
    """stylize(weights=vgg, device=...) moved the given module in place (vgg.to(device)): the get_vgg cache's
    "cpu" entry could become a CUDA module. No GPU is needed to see it: no conversion may reach the module.
    Found in issue 13's review of the optimisation loop."""
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


# --- Adam's learning rate (issue 13) ----------------------------------------------------------------------------------


def adam_frames(**kwargs):
    content, style = load_image("chelsea", size=32), load_image("swirls", size=32)
    frames = []
    result = ts.stylize(
        content,
        style,
        optimizer="adam",
        steps=3,
        init="content",
        weights="random",
        progress=False,
        callback=lambda step, image, losses: frames.append(image.clone()),
        **kwargs,
    )
    return content, frames, result


def test_adams_learning_rate_is_a_parameter():
    """Adam's first step moves each pixel by lr (times the sign of its gradient) where [0, 1] leaves room.
    Found in issue 13's review of the optimisation loop."""
    content, frames, result = adam_frames(lr=0.05)
    _, default_frames, default = adam_frames()
    room = (content > 0.06) & (content < 0.94)
    first = (frames[1] - frames[0]).abs()[room]
    assert float(first.median()) == pytest.approx(0.05, abs=1e-3)
    assert float((default_frames[1] - default_frames[0]).abs()[room].median()) != pytest.approx(0.05, abs=1e-3)
    assert not torch.equal(result.image, default.image)


@pytest.mark.parametrize("lr", [0.0, -0.01, math.nan, math.inf, "fast"])
def test_a_bad_learning_rate_is_named(lr):
    """Found in issue 13's review of the optimisation loop."""
    with pytest.raises(ValueError, match="lr"):
        ts.stylize(
            torch.rand(1, 3, 32, 32),
            torch.rand(1, 3, 32, 32),
            optimizer="adam",
            lr=lr,
            steps=1,
            weights="random",
            progress=False,
        )


def test_a_learning_rate_for_lbfgs_is_refused_by_name():
    """L-BFGS takes no learning rate (its steps are scaled by its curvature estimate): saying so beats ignoring it.
    Found in issue 13's review of the optimisation loop."""
    with pytest.raises(ValueError, match="lr"):
        ts.stylize(
            torch.rand(1, 3, 32, 32),
            torch.rand(1, 3, 32, 32),
            optimizer="lbfgs",
            lr=0.05,
            steps=1,
            weights="random",
            progress=False,
        )


# --- a non-finite loss never yields NaN pixels, and the best image is kept (issue 5) ----------------------------------


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
    monkeypatch.setattr(
        optimize, "ADAM_LR", 0.3
    )  # overshoots the quartic's minimum again and again (pixels stay in [0, 1])
    losses, seen = quartic()
    best, history, _ = minimize(losses, start(1), steps=15, optimizer="adam")
    values = totals(history)
    assert values[-1] > min(values)  # the last iterate is not the best ...
    expected, _ = best_seen(seen, history)
    torch.testing.assert_close(best[0], expected, rtol=0, atol=0)  # ... and the best is what comes back


# --- the same through stylize, with the real network (issue 5) --------------------------------------------------------


@pytest.fixture(scope="module")
def small_images():
    return load_image("chelsea", size=32), load_image("mosaic", size=32)


def test_stylize_with_a_blow_up_returns_finite_pixels(small_images, vgg, monkeypatch):
    calls = []
    real_style_loss = objective.style_loss

    def exploding_style_loss(*args, **kwargs):
        calls.append(1)
        value = real_style_loss(*args, **kwargs)
        return value * math.inf if len(calls) in (4, 5) else value  # call n is step n - 1: steps 3 and 4 blow up

    monkeypatch.setattr(objective, "style_loss", exploding_style_loss)
    seen = []
    with pytest.warns(RuntimeWarning, match="NaN or infinite") as record:
        result = stylize(
            *small_images,
            weights=vgg,
            steps=8,
            progress=False,
            callback=lambda step, im, losses: seen.append(im.clone()),
        )
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert torch.isfinite(result.image).all() and 0 <= result.image.min() and result.image.max() <= 1
    values = totals(result.history)
    assert sum(not math.isfinite(v) for v in values) == 2
    expected, _ = best_seen(seen, result.history)
    torch.testing.assert_close(result.image[0], expected, rtol=0, atol=0)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_ctrl_c_keeps_the_best_image_so_far(small_images, vgg, optimizer):
    seen = []

    def press_ctrl_c_at_step_4(step, image, losses):
        seen.append(image.clone())
        if step == 4:
            raise KeyboardInterrupt

    result = stylize(
        *small_images, weights=vgg, steps=100, optimizer=optimizer, progress=False, callback=press_ctrl_c_at_step_4
    )
    assert result.interrupted and len(result.history) == 5
    assert torch.isfinite(result.image).all()
    expected, k = best_seen(seen, result.history)
    torch.testing.assert_close(result.image[0], expected, rtol=0, atol=0)


def test_ctrl_c_before_the_first_evaluation_returns_the_start(small_images, vgg, monkeypatch):
    def run_with_ctrl_c_at_once(losses, x, **kwargs):
        def pressed(image):
            raise KeyboardInterrupt

        return minimize(pressed, x, **kwargs)

    monkeypatch.setattr(optimize, "minimize", run_with_ctrl_c_at_once)
    init = torch.rand(1, 3, *small_images[0].shape[-2:])
    result = stylize(*small_images, weights=vgg, steps=10, init=init, progress=False)
    assert result.interrupted and result.history == []
    torch.testing.assert_close(result.image, init)


# --- bad values fail at the call, before any work, naming the parameter (issue 5) -------------------------------------


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
    ("steps", 0, "steps"),
    ("steps", -5, "steps"),
    ("steps", 2.5, "steps"),
    ("steps", "100", "steps"),
    ("steps", True, "steps"),
    ("steps", None, "steps"),
    ("alpha", -1.0, "alpha"),
    ("alpha", math.nan, "alpha"),
    ("alpha", math.inf, "alpha"),
    ("alpha", "big", "alpha"),
    ("alpha", torch.tensor([1e-3, math.nan]), "alpha"),
    ("alpha", torch.ones(2, 2), "alpha"),
    ("beta", -1e-9, "beta"),
    ("beta", math.nan, "beta"),
    ("beta", -math.inf, "beta"),
    ("beta", None, "beta"),
    ("optimizer", "sgd", "optimizer"),
    ("optimizer", "LBFGS", "optimizer"),
    ("optimizer", None, "optimizer"),
    ("init", "zeros", "init"),
    ("init", torch.zeros(1, 3, 8, 8), "init"),
    ("init", torch.full((1, 3, 32, 32), math.nan), "init"),
    ("pooling", "mean", "pooling"),
    ("pooling", "AVG", "pooling"),
    ("pooling", None, "pooling"),
    ("normalize", "yes", "normalize"),
    ("device", "tpu", "device"),
    ("device", "cuda:7", "device"),
    ("device", "mps", "device"),
    ("content_layers", ["conv42"], "content_layers"),
    ("content_layers", 42, "content_layers"),
    ("style_layers", ["relu6_1"], "style_layers"),
    ("style_layers", ["relu1_1", None], "style_layers"),
    ("style_weights", [1.0, 2.0], "style"),
    ("style_weights", {"relu1_1": -1.0}, "style"),
    ("seed", -1, "seed"),
    ("seed", 1.5, "seed"),
    ("seed", "abc", "seed"),
    ("seed", 2**64, "seed"),
    ("callback", "print", "callback"),
]


@pytest.mark.parametrize(
    "name, value, mentioned", BAD_PARAMETERS, ids=[f"{n}={v!r}"[:40] for n, v, _ in BAD_PARAMETERS]
)
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


# --- images too small for the layers (issue 5) ------------------------------------------------------------------------


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


# --- size warnings (issue 5) ------------------------------------------------------------------------------------------


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


# --- property-based: random parameter values (issue 5) ----------------------------------------------------------------

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(
        [
            "lbfgs",
            "adam",
            "noise",
            "content",
            "style",
            "avg",
            "max",
            "paper",
            "cpu",
            "cuda",
            "relu4_2",
            "conv42",
            "auto",
        ]
    ),
    st.lists(st.floats(-1, 1), max_size=6),
    st.lists(st.sampled_from(LAYERS + ("conv42", "")), max_size=4),
    st.builds(torch.tensor, st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=3)),
)


NAMES = [
    "steps",
    "alpha",
    "beta",
    "optimizer",
    "init",
    "pooling",
    "normalize",
    "device",
    "seed",
    "content_layers",
    "style_layers",
    "style_weights",
    "callback",
]


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


# --- stylize: a given network's options, and the callers' modules (issue 21) ------------------------------------------


def test_stylize_refuses_pooling_or_normalize_that_contradict_the_given_network():
    """Bug 7: stylize(weights=vgg, pooling="max") ran with vgg's average pooling without a word.
    Found in issue 21's review (a new user's first hour)."""
    c, s = ts.load_image("chelsea", size=32), ts.load_image("mosaic", size=32)
    vgg = ts.get_vgg("random")
    with pytest.raises(ValueError, match=r"pooling='max'.*the given network.*'avg'"):
        ts.stylize(c, s, weights=vgg, pooling="max", steps=1, progress=False)
    with pytest.raises(ValueError, match=r"normalize=None"):
        ts.stylize(c, s, ts.Settings(normalize=None, steps=1), weights=vgg, progress=False)
    with pytest.raises(ValueError, match=r"pooling='max'"):
        ts.reconstruct_content(c, weights=vgg, pooling="max", steps=1, progress=False)
    result = ts.stylize(
        c, s, weights=ts.get_vgg("random", pooling="max"), steps=1, progress=False
    )  # not asked: the network's
    assert result.settings["pooling"] == "max"
    assert ts.stylize(c, s, weights=vgg, pooling="avg", steps=1, progress=False).settings["pooling"] == "avg"
