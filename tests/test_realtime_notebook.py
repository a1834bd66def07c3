"""Notebook 08's support (tutorial_style/notebook/nb08_real_time.py, nb08_training_panel.py, its checks and
figures) and what it measures (tutorial_style/realtime/compare.py, deploy/compare.py): the exercise checks against
answers written here from the formula, the panels driven as a learner would (training with Stop, the pause that
asks, Train more; the instant panel), and the measurements the notebook's sentences rest on."""

from __future__ import annotations

import datetime

import pytest
import torch

import tutorial_style as ts
from tutorial_style.deploy.compare import onnx_comparison
from tutorial_style.notebook import checks, nb08_real_time, plots
from tutorial_style.notebook.nb08_training_panel import TrainingPanel, training_panel
from tutorial_style.realtime import compare


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def vgg():
    return ts.get_vgg("random")


def tiny():
    torch.manual_seed(0)
    return ts.StyleNetwork(width=0.25, blocks=1)


# --- Exercise checks ------------------------------------------------------------------------------------------


def instance_norm_by_formula(x):
    n = x.shape[2] * x.shape[3]
    mean = x.sum((2, 3), keepdim=True) / n
    var = ((x - mean) ** 2).sum((2, 3), keepdim=True) / n
    return (x - mean) / (var + 1e-5) ** 0.5


def test_the_instance_norm_check_accepts_the_formula_and_names_the_mistakes():
    assert checks.check_instance_norm(instance_norm_by_formula)
    assert checks.check_instance_norm(lambda x: None).status == "not attempted"
    mistakes = [
        (lambda x: torch.nn.functional.batch_norm(x, None, None, training=True, eps=1e-5), "BATCH normalisation"),
        (lambda x: torch.nn.functional.layer_norm(x, x.shape[1:], eps=1e-5), "LAYER normalisation"),
        (lambda x: (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), unbiased=False, keepdim=True), "epsilon is missing"),
        (lambda x: (x - x.mean((2, 3), keepdim=True)) / (x.var((2, 3), keepdim=True) + 1e-5).sqrt(), "unbiased variance"),
        (lambda x: x - x.mean((2, 3), keepdim=True), "only subtracted the mean"),
    ]
    for wrong, words in mistakes:
        answer = checks.check_instance_norm(wrong)
        assert not answer and words in answer.message, answer.message
    assert not checks.check_instance_norm(lambda x: instance_norm_by_formula(x) * 1.01)


@pytest.mark.parametrize(
    "prediction, difference, status",
    [(True, 1e-4, "correct"), (False, 1e-4, "wrong"), (False, 0.3, "correct"), (True, 0.3, "wrong"), (None, 1e-4, "not attempted"),
     ("yes", 1e-4, "wrong")],
)  # fmt: skip
def test_the_contrast_prediction_is_judged_on_the_measurement(prediction, difference, status):
    assert checks.check_contrast_prediction(prediction, difference).status == status


# --- The measurements ---------------------------------------------------------------------------------------------


def test_the_stage_table_follows_the_network_down_by_4_and_back_for_odd_sizes():
    net = tiny()
    rows = {name: shape for name, _, shape, _ in nb08_real_time.stage_shapes(net, rand(1, 3, 37, 50))}
    assert rows["input"] == rows["output"] == (1, 3, 37, 50)
    assert rows["down.2"] == (1, 32, 10, 13)  # padded to 40 x 52, then two stride-2 convolutions
    assert rows["residuals"] == rows["down.2"] and rows["up.1"] == (1, 8, 40, 52)
    assert sum(p for *_, p in nb08_real_time.stage_shapes(net, rand(1, 3, 8, 8))) == sum(p.numel() for p in net.parameters())


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
    speed = compare.measure_speed(vgg, tiny(), rand(1, 3, 32, 32), rand(1, 3, 32, 32, seed=1), evaluations=1, min_run_time=0.01)
    assert speed.size == (32, 32) and speed.evaluation > 0 and speed.network > 0
    assert speed.optimisation(500) == pytest.approx(500 * speed.evaluation)
    fig = plots.speed_figure(speed)
    assert "Timing only" in fig._suptitle.get_text()


def test_the_comparison_scores_both_with_the_objective_and_finds_where_the_optimisation_catches_up(vgg):
    photos, style = rand(2, 3, 32, 32), rand(1, 3, 32, 32, seed=3)
    settings = dict(alpha=1.0, beta=1e3, content_layers=("relu2_2",), style_layers=("relu1_1", "relu2_1"), tv_weight=1e-2)
    comparison = compare.compare_with_optimisation(vgg, tiny(), photos, style, steps=4, **settings)
    objective = ts.Objective.for_images(vgg, photos[1:], style, **settings)
    with torch.no_grad():
        assert comparison.network_loss[1] == pytest.approx(float(objective(comparison.network_images[1:])["total"]), rel=1e-5)
        assert comparison.optimisation_loss[1] == pytest.approx(float(objective(comparison.optimisation_images[1:])["total"]), rel=1e-5)
    for curve, target, reached in zip(comparison.history, comparison.network_loss, comparison.reached):
        assert len(curve) == 4
        if reached is None:
            assert min(curve) > target
        else:
            assert curve[reached - 1] <= target and all(v > target for v in curve[: reached - 1])


def test_the_caption_says_random_and_untrained():
    weights = ts.get_vgg("random").weights_info
    net = tiny()
    caption = nb08_real_time.network_caption(net, weights)
    assert caption.startswith("UNTRAINED network") and "RANDOM" in caption
    net.meta = {"steps": 12}
    assert nb08_real_time.network_caption(net, weights).startswith("network trained 12 steps with RANDOM")


# --- The panels -------------------------------------------------------------------------------------------------


def png(width=40, height=30) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_instant_panel_stylises_each_choice_and_uploads(vgg):
    net = tiny()
    photos = {"cat (held out)": "chelsea", "astronaut": "astronaut"}
    panel = nb08_real_time.stylize_panel(net, vgg.weights_info, photos, size=64)
    assert panel.status_text.startswith("done · cat (held out) · 64x43 px in") and "RANDOM" in panel.status_text
    panel.size.value = 96
    assert panel.result.shape == (1, 3, 64, 96) and "96x64 px" in panel.status_text
    panel.photo.value = "astronaut"
    with torch.no_grad():
        torch.testing.assert_close(panel.result, net(ts.load_image("astronaut", size=96)))
    data = png()
    panel.upload.value = ({"name": "red.png", "type": "image/png", "size": len(data), "content": memoryview(data),
                           "last_modified": datetime.datetime.now()},)  # fmt: skip
    assert panel.photo.value == "⬆ red.png" and panel.status_text.startswith("done · ⬆ red.png · 96x72 px")


def train_args():
    return dict(size=32, batch=2, alpha=1.0, beta=1e3, tv_weight=1e-2, data=None)


def test_training_runs_in_the_background_and_keeps_its_checkpoint(vgg, tmp_path):
    held = ts.realtime.held_out_photos(size=32)
    panel = training_panel(vgg, tiny(), "mosaic", ("chelsea", held["chelsea"]), tmp_path / "net.pt", steps=4, more_steps=3,
                           **train_args())  # fmt: skip
    network = panel.wait()
    assert panel.status_text.startswith("done · 4 steps") and "RANDOM" in panel.status_text
    assert len(panel.history) == 4 and network.meta["steps"] == 4 and panel.preview_view.value[:4] == b"\x89PNG"
    assert panel.more.description.startswith("Train 3 more steps (about ")
    panel.more.click()  # continues the checkpoint: the step count goes on
    panel.wait()
    assert len(panel.history) == 7 and panel.network.meta["steps"] == 7
    assert ts.load_network(tmp_path / "net.pt").meta["steps"] == 7


def test_stop_keeps_the_network_as_trained_so_far(vgg, tmp_path, monkeypatch):
    held = ts.realtime.held_out_photos(size=32)
    original = TrainingPanel._step

    def press_stop_at_step_2(self, step, losses, network, ask):
        if step == 1:
            self.stop.click()
        return original(self, step, losses, network, ask)

    monkeypatch.setattr(TrainingPanel, "_step", press_stop_at_step_2)
    panel = training_panel(vgg, tiny(), "mosaic", ("chelsea", held["chelsea"]), tmp_path / "net.pt", steps=50, more_steps=3,
                           **train_args())  # fmt: skip
    network = panel.wait()
    assert panel.status_text.startswith("interrupted · 2 steps") and network is panel.network and network.meta["steps"] == 2


def test_a_run_longer_than_the_limit_pauses_and_asks(vgg, tmp_path):
    held = ts.realtime.held_out_photos(size=32)
    panel = training_panel(vgg, tiny(), "mosaic", ("chelsea", held["chelsea"]), tmp_path / "net.pt", steps=40, more_steps=3,
                           ask_seconds=1e-3, **train_args())  # fmt: skip
    panel.wait()
    done = len(panel.history)
    assert done < 40 and panel.asked == 40 - done
    assert panel.status_text.startswith(f"interrupted · paused at step {done}") and "Press Train more" in panel.status_text
    assert panel.more.description.startswith(f"Train the other {40 - done} steps")


def test_onnx_runtime_gives_the_networks_picture(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    result = onnx_comparison(tiny(), tmp_path / "net.onnx", [rand(1, 3, 24, 40), rand(1, 3, 33, 17)], min_run_time=0.01)
    assert [shape for shape, *_ in result.rows] == [(24, 40), (33, 17)]
    assert all(difference < 1e-4 for _, difference, _, _ in result.rows) and result.megabytes > 0
