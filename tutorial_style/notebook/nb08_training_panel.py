"""Notebook 08's training panel: ``train_network`` in a background thread, watched live and stopped at will.

The notebook stays usable while the network trains; a held-out photo and the loss curves are redrawn as it goes,
the time per step is measured and the rest estimated, and a run longer than ``ask_seconds`` stops there and asks.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Mapping

import ipywidgets as w
import torch

from ..cost import duration
from ..realtime.checkpoint import load_checkpoint
from ..realtime.network import StyleNetwork
from ..vgg import VGG19Features
from . import plots
from .panels import Panel, figure_png, image_view, png_bytes

__all__ = ["TrainingPanel", "training_panel"]


class TrainingPanel(Panel):
    """``train_network`` in a background thread, with a live preview on a held-out photo and live loss curves.

    The training starts at once; the notebook stays usable, and :meth:`wait` waits for the end. After the first
    steps the time per step is measured and the run estimated (the status line says both). With ``ask``, a run
    that would take longer than ``ask_seconds`` stops when that time is up and asks: the **Train more** button
    (``panel.more``) then trains the rest; after a finished run it trains ``more_steps`` more. **Stop**
    (``panel.stop``) ends the run after the current step and keeps the network as trained so far. Every run
    continues the last one (its checkpoint: the step count, the optimiser's state and the history).

    ``panel.network`` is the network (with ``meta``: what made it), ``panel.history`` the loss per step.
    """

    def __init__(
        self,
        vgg: VGG19Features,
        network: StyleNetwork,
        style,
        preview: torch.Tensor,
        preview_name: str,
        checkpoint,
        *,
        steps: int,
        more_steps: int,
        ask_seconds: float,
        train_args: Mapping,
    ):
        widgets_by_name = {
            "stop": w.Button(description="Stop", button_style="warning", icon="stop", disabled=True),
            "more": w.Button(
                description=f"Train {more_steps} more steps",
                icon="forward",
                disabled=True,
                layout=w.Layout(width="auto"),
            ),
        }
        self.preview_view, self.plot_view = image_view("360px"), image_view("420px")
        views = [
            w.HBox(
                [
                    w.VBox(
                        [
                            w.HTML(f"<b>held-out photo ({preview_name}) | the network's result, live</b>"),
                            self.preview_view,
                        ]
                    ),
                    w.VBox([w.HTML("<b>training losses, live</b>"), self.plot_view]),
                ]
            )
        ]
        name = style if isinstance(style, str) else "the style"
        super().__init__(
            f"Training a network for {name}", widgets_by_name, views, vgg.weights_info, rows=[["stop", "more"]]
        )
        self.vgg, self.style, self.preview_photo, self.checkpoint = vgg, style, preview, checkpoint
        self.train_args, self.more_steps, self.ask_seconds = dict(train_args), more_steps, ask_seconds
        self.network, self.history, self.thread, self.stop_event = network, [], None, threading.Event()
        self.step_seconds, self.asked, self._drawn = None, None, 0.0
        self.stop.on_click(self.handler(self.stop_event.set))
        self.more.on_click(self.handler(lambda: self.start(self.asked or self.more_steps, ask=False)))
        self.start(steps, ask=True)

    def start(self, steps: int, ask: bool) -> None:
        """Train ``steps`` more steps in a background thread (``ask``: stop at ``ask_seconds`` and ask)."""
        if self.thread is not None and self.thread.is_alive():
            return
        self.stop_event.clear()
        self.stop.disabled, self.more.disabled, self.asked = False, True, None
        self.first, self.target = len(self.history), len(self.history) + steps
        self.started = time.perf_counter()
        self.set_status(
            f"step {self.first}/{self.target} · measuring the time per step · {self.weights_text()}", "running"
        )
        self.thread = threading.Thread(target=self._work, args=(ask,), name="tutorial_style-training", daemon=True)
        self.thread.start()

    def _work(self, ask: bool) -> None:
        from ..realtime import train  # looked up at each run (tests replace train_network)

        try:
            network, history = train.train_network(
                self.style,
                steps=self.target,
                weights=self.vgg,
                network=self.network,
                checkpoint=self.checkpoint,
                resume=bool(self.history),
                progress=False,
                callback=lambda step, losses, net: self._step(step, losses, net, ask),
                **self.train_args,
            )
            self._finish(network, history)
        except Exception as e:  # shown in the status line: the thread has no one else to tell
            self.set_status(f"{type(e).__name__}: {e}", "error")
        finally:
            self.stop.disabled, self.more.disabled = True, False

    def _step(self, step: int, losses: Mapping, network: StyleNetwork, ask: bool) -> bool:
        """After each step: record, estimate, redraw now and then. True stops the training (the package's rule)."""
        self.network = network
        self.history.append({"step": step, **losses})
        done, elapsed = step + 1 - self.first, time.perf_counter() - self.started
        if done >= min(3, self.target - self.first):  # the first steps warm up; then the mean per step
            self.step_seconds = elapsed / done
        left = (self.target - step - 1) * (self.step_seconds or 0)
        if (
            ask
            and self.step_seconds
            and elapsed + left > self.ask_seconds
            and elapsed + self.step_seconds > self.ask_seconds
        ):
            self.asked = self.target - step - 1
            return True
        now = time.perf_counter()
        if now - self._drawn > 1.5 or step + 1 == self.target:
            self._drawn = now
            self.draw()
            per = f" · {self.step_seconds:.2f} s per step, about {duration(left)} left" if self.step_seconds else ""
            self.set_status(
                f"step {step + 1}/{self.target}{per} · loss {losses['total']:.4g} · {self.weights_text()}", "running"
            )
        return self.stop_event.is_set()

    def draw(self) -> None:
        """The held-out photo and the network's result now; the loss curves so far."""
        with torch.no_grad():
            made = self.network(self.preview_photo.to(next(self.network.parameters()).device)).cpu()
        self.preview_view.value = png_bytes(torch.cat([self.preview_photo.cpu(), made]), min_side=160)
        from ..realtime import train

        size = self.train_args.get("size", train.PRESETS["cpu"]["size"])
        a, b = (
            self.train_args.get("alpha", train.TrainingSettings().alpha_for(size)),
            self.train_args.get("beta", train.BETA),
        )
        fig = plots.loss_curves_figure(
            {"training": self.history},
            self.vgg.weights_info,
            alpha=a,
            beta=b,
            title=f"Training: batch means per step ({self.style if isinstance(self.style, str) else 'style'})",
        )
        self.plot_view.value = figure_png(fig, dpi=80)

    def _finish(self, network: StyleNetwork, history) -> None:
        network.meta = dict(load_checkpoint(self.checkpoint)["meta"])
        self.network, self.history = network, list(history)
        self.draw()
        total = len(self.history)
        k = max(1, min(10, total // 4))  # batch losses are noisy: the mean of the first and of the last k steps
        first = statistics.mean(h["total"] for h in self.history[:k])
        last = statistics.mean(h["total"] for h in self.history[-k:])
        per = self.step_seconds or 0.0
        if self.asked:
            self.more.description = f"Train the other {self.asked} steps (about {duration(self.asked * per)})"
            self.set_status(
                f"paused at step {total} after {duration(self.ask_seconds)}: the other {self.asked} steps would take "
                f"about {duration(self.asked * per)} more. Press Train more to go on · {self.weights_text()}",
                "interrupted",
            )
            return
        self.more.description = f"Train {self.more_steps} more steps (about {duration(self.more_steps * per)})"
        state = "interrupted" if history.interrupted else "done"
        self.set_status(
            f"{total} steps · mean loss of {k} steps {first:.4g} → {last:.4g} · {per:.2f} s per step · "
            f"{self.weights_text()}",
            state,
        )

    def wait(self, timeout: float | None = None) -> StyleNetwork:
        """Wait for the training to end and return the network. The kernel's interrupt (■) stops it here too,
        and the network as trained so far is kept."""
        try:
            while self.thread is not None and self.thread.is_alive():
                self.thread.join(0.2 if timeout is None else timeout)
                if timeout is not None:
                    break
        except KeyboardInterrupt:
            self.stop_event.set()
            self.thread.join()
        return self.network


def training_panel(
    vgg: VGG19Features,
    network: StyleNetwork,
    style,
    preview: tuple[str, torch.Tensor],
    checkpoint,
    *,
    steps: int,
    more_steps: int,
    ask_seconds: float = 120,
    **train_args,
) -> TrainingPanel:
    """Start training ``network`` for ``style`` (see :class:`TrainingPanel`); ``preview``: ``(name, photo)``, a photo
    kept out of training; ``checkpoint``: the file the training writes (and continues from); ``train_args``: more of
    ``train_network``'s arguments (size, batch, alpha, beta, tv_weight, ...)."""
    name, photo = preview
    return TrainingPanel(
        vgg,
        network,
        style,
        photo,
        name,
        checkpoint,
        steps=steps,
        more_steps=more_steps,
        ask_seconds=ask_seconds,
        train_args=train_args,
    )
