"""A trained network measured against the paper's optimisation (realtime/compare.py, notebook 08): the time of
each on the paper's objective, the same loss for both, instance against batch normalisation; the caller's network
is left as it was."""

from __future__ import annotations

import pytest
import torch
from realtime_support import spy_network

import tutorial_style as ts
from tutorial_style.notebook import plots
from tutorial_style.realtime import compare


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def vgg():
    return ts.get_vgg("random")


def tiny():
    torch.manual_seed(0)
    return ts.StyleNetwork(width=0.25, blocks=1)


def test_instance_norm_ignores_the_photos_contrast_and_batch_norm_does_not():
    net = tiny()
    photo = rand(1, 3, 32, 32)
    flat = 0.5 * photo + 0.25
    bn = compare.with_batch_norm(net)
    with torch.no_grad():
        torch.testing.assert_close(net.down[0](flat), net.down[0](photo), atol=2e-3, rtol=0)
        change = (bn.down[0](flat) - bn.down[0](photo)).norm() / bn.down[0](photo).norm()
    assert change > 0.05
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in net.modules())  # the original is untouched
    assert not any(isinstance(m, torch.nn.InstanceNorm2d) for m in bn.modules())


def test_speed_is_measured_on_the_papers_objective(vgg):
    speed = compare.measure_speed(
        vgg, tiny(), rand(1, 3, 32, 32), rand(1, 3, 32, 32, seed=1), evaluations=1, min_run_time=0.01
    )
    assert speed.size == (32, 32) and speed.evaluation > 0 and speed.network > 0
    assert speed.optimisation(500) == pytest.approx(500 * speed.evaluation)
    fig = plots.speed_figure(speed)
    assert "Timing only" in fig._suptitle.get_text()


def test_the_comparison_scores_both_with_the_objective_and_finds_where_the_optimisation_catches_up(vgg):
    photos, style = rand(2, 3, 32, 32), rand(1, 3, 32, 32, seed=3)
    settings = dict(
        alpha=1.0, beta=1e3, content_layers=("relu2_2",), style_layers=("relu1_1", "relu2_1"), tv_weight=1e-2
    )
    comparison = compare.compare_with_optimisation(vgg, tiny(), photos, style, steps=4, **settings)
    objective = ts.Objective.for_images(vgg, photos[1:], style, **settings)
    with torch.no_grad():
        assert comparison.network_loss[1] == pytest.approx(
            float(objective(comparison.network_images[1:])["total"]), rel=1e-5
        )
        assert comparison.optimisation_loss[1] == pytest.approx(
            float(objective(comparison.optimisation_images[1:])["total"]), rel=1e-5
        )
    for curve, target, reached in zip(comparison.history, comparison.network_loss, comparison.reached):
        assert len(curve) == 4
        if reached is None:
            assert min(curve) > target
        else:
            assert curve[reached - 1] <= target and all(v > target for v in curve[: reached - 1])


# --- the caller's network (issue 21) ----------------------------------------------------------------------------------


def test_notebook_08s_timing_and_comparison_leave_the_callers_network_as_it_was():
    """Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.realtime import compare

    vgg = ts.get_vgg("random")
    photo, style = ts.load_image("chelsea", size=32), ts.load_image("mosaic", size=32)
    spy = spy_network()
    compare.measure_speed(vgg, spy, photo, style, evaluations=1, min_run_time=0.01)
    assert not spy.moved and spy.training  # neither moved nor left in another mode
    compare.compare_with_optimisation(vgg, spy, photo, style, steps=1)
    assert not spy.moved and spy.training
