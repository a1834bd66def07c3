"""Notebook 08's training panel (notebook/nb08_training_panel.py), driven as a learner would: training in the
background with Stop, the pause that asks, Train more."""

from __future__ import annotations

import pytest
import torch

import tutorial_style as ts
from tutorial_style.notebook.nb08_training_panel import TrainingPanel, training_panel


@pytest.fixture(scope="module")
def vgg():
    return ts.get_vgg("random")


def tiny():
    torch.manual_seed(0)
    return ts.StyleNetwork(width=0.25, blocks=1)


def train_args():
    return dict(size=32, batch=2, alpha=1.0, beta=1e3, tv_weight=1e-2, data=None)


def test_training_runs_in_the_background_and_keeps_its_checkpoint(vgg, tmp_path):
    held = ts.realtime.held_out_photos(size=32)
    panel = training_panel(
        vgg, tiny(), "mosaic", ("chelsea", held["chelsea"]), tmp_path / "net.pt", steps=4, more_steps=3, **train_args()
    )
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
    panel = training_panel(
        vgg, tiny(), "mosaic", ("chelsea", held["chelsea"]), tmp_path / "net.pt", steps=50, more_steps=3, **train_args()
    )
    network = panel.wait()
    assert (
        panel.status_text.startswith("interrupted · 2 steps")
        and network is panel.network
        and network.meta["steps"] == 2
    )


def test_a_run_longer_than_the_limit_pauses_and_asks(vgg, tmp_path):
    held = ts.realtime.held_out_photos(size=32)
    panel = training_panel(
        vgg,
        tiny(),
        "mosaic",
        ("chelsea", held["chelsea"]),
        tmp_path / "net.pt",
        steps=40,
        more_steps=3,
        ask_seconds=1e-3,
        **train_args(),
    )
    panel.wait()
    done = len(panel.history)
    assert done < 40 and panel.asked == 40 - done
    assert (
        panel.status_text.startswith(f"interrupted · paused at step {done}") and "Press Train more" in panel.status_text
    )
    assert panel.more.description.startswith(f"Train the other {40 - done} steps")
