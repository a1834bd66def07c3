"""Notebook 08: real time. A network trained once per style (Johnson, Alahi & Fei-Fei 2016) against the paper's
optimisation: timed, trained live, compared on the same photos, and used on any photo instantly.

- :func:`measure_speed`: the time per image of the optimisation (a few evaluations, timed) against one pass of
  a network, on this machine; :func:`speed_figure` draws it.
- :func:`stage_shapes`: the shape after each stage of a :class:`~tutorial_style.realtime.StyleNetwork`.
- :class:`TrainingPanel` (:func:`training_panel`): ``train_network`` in a background thread with a live preview
  on a held-out photo and live loss curves; Stop keeps the network; the time is estimated from the measured
  steps, and a run longer than ``ask_seconds`` stops there and asks (a "Train more" button).
- :func:`compare_with_optimisation`: the network's output and the optimisation's on the same photos, both scored
  with the package's :class:`~tutorial_style.objective.Objective` (Johnson et al.'s comparison).
- :func:`with_batch_norm`: a copy of a network with batch normalisation in place of instance normalisation.
- :func:`stylize_panel`: any bundled or uploaded photo through the network, at once.
- :func:`onnx_comparison`: the network exported to ONNX, run with ONNX Runtime, compared with PyTorch.
- :func:`video_tools_ready`, :func:`flicker_figure`: a clip's flicker, seen (frames side by side and the flicker
  map) and measured (the warping error of ``video/flicker.py``), for a per-frame and a stabilised network.
"""

from __future__ import annotations

import copy
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import ipywidgets as w
import numpy as np
import torch
from torch import nn

from ..images import bundled_images, load_image
from ..layers import PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS
from ..objective import Objective
from ..realtime.checkpoint import load_checkpoint
from ..realtime.network import StyleNetwork
from ..realtime.stylize import in_eval, stylize_images
from ..settings import PRESETS, default, default_alpha
from ..vgg import VGG19Features, on_device
from ..weights import WeightsInfo
from . import plots
from .panels import Panel, figure_png, image_view, png_bytes, take_upload

__all__ = [
    "Speed",
    "measure_speed",
    "speed_figure",
    "stage_shapes",
    "print_stages",
    "TrainingPanel",
    "training_panel",
    "Comparison",
    "compare_with_optimisation",
    "score",
    "comparison_figure",
    "with_batch_norm",
    "stylize_panel",
    "network_caption",
    "OnnxComparison",
    "onnx_comparison",
    "video_tools_ready",
    "flicker_figure",
]


def network_caption(network: StyleNetwork, weights: WeightsInfo) -> str:
    """Which weights made a network's pictures: the VGG19 it was trained with, and how long it trained.

    >>> from tutorial_style.weights import load_weights
    >>> net = StyleNetwork(width=0.25, blocks=1); net.meta = {"steps": 30}
    >>> network_caption(net, load_weights("random")[1])
    'network trained 30 steps with RANDOM VGG19 weights (seed 0) - NOT what ImageNet weights teach'
    """
    meta = getattr(network, "meta", None) or {}
    steps = meta.get("steps")
    trained = f"network trained {steps} steps" if steps else "UNTRAINED network (random weights of its own)"
    if weights.pretrained:
        return f"{trained} with VGG19 {weights.label}"
    return f"{trained} with RANDOM VGG19 weights{_seed(weights)} - NOT what ImageNet weights teach"


def _seed(weights: WeightsInfo) -> str:
    label = weights.label
    return label[label.index(" ("): label.index(")") + 1] if " (seed" in label else ""


# --- 1. Why: the time per image -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Speed:
    """Seconds on this machine, at ``size`` px: one loss-and-gradient evaluation of the optimisation (the mean of
    ``evaluations`` timed ones), and one forward pass of the network (the median of ``repeats``)."""

    size: tuple[int, int]
    evaluation: float
    network: float
    evaluations: int
    device: str

    def optimisation(self, steps: int) -> float:
        """The optimisation's time per image for ``steps`` evaluations (its targets, computed once, not counted)."""
        return self.evaluation * steps

    @property
    def ratio(self) -> float:
        """How many network passes fit in one evaluation of the optimisation."""
        return self.evaluation / self.network


def measure_speed(vgg: VGG19Features, network: StyleNetwork, content: torch.Tensor, style: torch.Tensor, *,
                  evaluations: int = 3, repeats: int = 5) -> Speed:  # fmt: skip
    """Time ``evaluations`` loss-and-gradient evaluations of the paper's objective (eq. 7, its layers) on
    ``content``, and ``network`` on the same image, on ``vgg``'s device. Each is run once first (not timed)."""
    device = vgg.device
    content, style = content.to(device), style.to(device)
    objective = Objective.for_images(vgg, content, style, content_layers=PAPER_CONTENT_LAYERS,
                                     style_layers=PAPER_STYLE_LAYERS, alpha=default_alpha(*content.shape[-2:]),
                                     beta=default("beta"))  # fmt: skip
    x = content.clone().requires_grad_(True)

    def evaluate():
        x.grad = None
        objective(x)["total"].sum().backward()

    evaluate()
    started = _now(device)
    for _ in range(evaluations):
        evaluate()
    evaluation = (_now(device) - started) / evaluations
    times = []
    with torch.no_grad(), in_eval(on_device(network, device)) as net:  # the caller's network is neither moved nor switched
        net(content)
        for _ in range(repeats):
            started = _now(device)
            net(content)
            times.append(_now(device) - started)
    return Speed(tuple(content.shape[-2:]), evaluation, statistics.median(times), evaluations, str(device))


def _now(device) -> float:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def speed_figure(speed: Speed):
    """Seconds per image, log scale: the paper's 500 evaluations, the fast preset's 70, and the network's one pass."""
    paper, fast = PRESETS["paper"]["steps"], PRESETS["fast"]["steps"]
    rows = [
        (f"optimisation, the paper's {paper} evaluations", speed.optimisation(paper)),
        (f"optimisation, fast preset ({fast} evaluations)", speed.optimisation(fast)),
        ("network, one forward pass", speed.network),
    ]
    fig, ax = plots.subplots(figsize=(7, 2.4))
    ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color=["tab:green", "tab:orange", "tab:red"])
    ax.set_xscale("log")
    ax.set_xlabel("seconds per image (log scale)")
    for i, (_, seconds) in enumerate(rows[::-1]):
        ax.text(seconds, i, f" {_duration(seconds)}", va="center", fontsize=9)
    ax.set_xlim(right=max(r[1] for r in rows) * 20)
    h, wd = speed.size
    fig.suptitle(f"Time per {wd}x{h} px image on this machine ({speed.device}), measured: {speed.evaluations} evaluations timed\n"
                 "Timing only: any weights take the same time", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return fig


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.1f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


# --- 2. The architecture ----------------------------------------------------------------------------------------


def stage_shapes(network: StyleNetwork, image: torch.Tensor) -> list[tuple[str, str, tuple[int, ...], int]]:
    """``(stage, what it is, shape after it, parameters)`` for each layer of the network's stages, on ``image``.

    >>> rows = stage_shapes(StyleNetwork(width=0.25, blocks=1), torch.rand(1, 3, 32, 48))
    >>> [(name, shape) for name, _, shape, _ in rows][:2], rows[-1][2]
    ([('input', (1, 3, 32, 48)), ('down.0', (1, 8, 32, 48))], (1, 3, 32, 48))
    """
    rows = [("input", "the photo, RGB in [0, 1]", tuple(image.shape), 0)]
    h, wd = image.shape[-2:]
    ph, pw = max(-h % 4, 8 - h), max(-wd % 4, 8 - wd)  # as StyleNetwork.forward pads
    x = torch.nn.functional.pad(image, (0, pw, 0, ph), mode="replicate") if ph or pw else image
    if ph or pw:
        rows.append(("pad", "replicate the edge to a multiple of 4", tuple(x.shape), 0))
    with torch.no_grad():
        for name, stage in network.stages():
            parts = list(stage.named_children()) if name in ("down", "up") else [("", stage)]
            for part, module in parts:
                x = module(x)
                label = f"{name}.{part}" if part else name
                rows.append((label, _describe(name, module), tuple(x.shape), sum(p.numel() for p in module.parameters())))
    rows.append(("output", "crop back, sigmoid: an image in [0, 1]", tuple(torch.sigmoid(x[..., :h, :wd]).shape), 0))
    return rows


def _describe(stage: str, module: nn.Module) -> str:
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if stage == "residuals":
        return f"{len(module)} residual blocks, two 3x3 convs each"
    conv = convs[-1]
    k, s = conv.kernel_size[0], conv.stride[0]
    up = "upsample x2 (nearest), " if any(isinstance(m, nn.Upsample) for m in module.modules()) else ""
    norm = ", instance norm, ReLU" if any(isinstance(m, nn.InstanceNorm2d) for m in module.modules()) else ""
    return f"{up}{k}x{k} conv{f' stride {s}' if s > 1 else ''}, {conv.in_channels}→{conv.out_channels} channels{norm}"


def print_stages(network: StyleNetwork, image: torch.Tensor) -> None:
    """The table of :func:`stage_shapes`, and the total of parameters."""
    rows = stage_shapes(network, image)
    print(f"{'stage':<10} {'what it does':<68} {'shape after it':<20} parameters")
    for name, what, shape, params in rows:
        print(f"{name:<10} {what:<68} {str(shape):<20} {params:>9,}")
    print(f"{'total':<10} {'':<68} {'':<20} {sum(p.numel() for p in network.parameters()):>9,}")


# --- 3. Training, live ---------------------------------------------------------------------------------------------


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

    def __init__(self, vgg: VGG19Features, network: StyleNetwork, style, preview: torch.Tensor, preview_name: str, checkpoint, *,
                 steps: int, more_steps: int, ask_seconds: float, train_args: Mapping):  # fmt: skip
        controls = {
            "stop": w.Button(description="Stop", button_style="warning", icon="stop", disabled=True),
            "more": w.Button(description=f"Train {more_steps} more steps", icon="forward", disabled=True,
                             layout=w.Layout(width="auto")),
        }  # fmt: skip
        self.preview_view, self.plot_view = image_view("360px"), image_view("420px")
        views = [w.HBox([w.VBox([w.HTML(f"<b>held-out photo ({preview_name}) | the network's result, live</b>"), self.preview_view]),
                         w.VBox([w.HTML("<b>training losses, live</b>"), self.plot_view])])]  # fmt: skip
        name = style if isinstance(style, str) else "the style"
        super().__init__(f"Training a network for {name}", controls, views, vgg.weights_info, rows=[["stop", "more"]])
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
        self.set_status(f"step {self.first}/{self.target} · measuring the time per step · {self.weights_text()}", "running")
        self.thread = threading.Thread(target=self._work, args=(ask,), name="tutorial_style-training", daemon=True)
        self.thread.start()

    def _work(self, ask: bool) -> None:
        from ..realtime import train  # looked up at each run (tests replace train_network)

        try:
            network, history = train.train_network(
                self.style, steps=self.target, weights=self.vgg, network=self.network, checkpoint=self.checkpoint,
                resume=bool(self.history), progress=False, callback=lambda step, losses, net: self._step(step, losses, net, ask),
                **self.train_args,
            )  # fmt: skip
            self._finish(network, history)
        except Exception as e:  # shown in the status line: the thread has no one else to tell
            self.set_status(f"{type(e).__name__}: {e}", "error")
        finally:
            self.stop.disabled, self.more.disabled = True, False

    def _step(self, step: int, losses: Mapping, network: StyleNetwork, ask: bool) -> bool:
        """After each step: record, estimate, redraw now and then. True stops the training (the package's convention)."""
        self.network = network
        self.history.append({"step": step, **losses})
        done, elapsed = step + 1 - self.first, time.perf_counter() - self.started
        if done >= min(3, self.target - self.first):  # the first steps warm up; then the mean per step
            self.step_seconds = elapsed / done
        left = (self.target - step - 1) * (self.step_seconds or 0)
        if ask and self.step_seconds and elapsed + left > self.ask_seconds and elapsed + self.step_seconds > self.ask_seconds:
            self.asked = self.target - step - 1
            return True
        now = time.perf_counter()
        if now - self._drawn > 1.5 or step + 1 == self.target:
            self._drawn = now
            self.draw()
            per = f" · {self.step_seconds:.2f} s per step, about {_duration(left)} left" if self.step_seconds else ""
            self.set_status(f"step {step + 1}/{self.target}{per} · loss {losses['total']:.4g} · {self.weights_text()}", "running")
        return self.stop_event.is_set()

    def draw(self) -> None:
        """The held-out photo and the network's result now; the loss curves so far."""
        with torch.no_grad():
            made = self.network(self.preview_photo.to(next(self.network.parameters()).device)).cpu()
        self.preview_view.value = png_bytes(torch.cat([self.preview_photo.cpu(), made]), min_side=160)
        from ..realtime import train

        size = self.train_args.get("size", train.PRESETS["cpu"]["size"])
        a, b = self.train_args.get("alpha", train.default_alpha(size)), self.train_args.get("beta", train.BETA)
        fig = plots.loss_curves_figure({"training": self.history}, self.vgg.weights_info, alpha=a, beta=b,
                                       title=f"Training: batch means per step ({self.style if isinstance(self.style, str) else 'style'})")
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
            self.more.description = f"Train the other {self.asked} steps (about {_duration(self.asked * per)})"
            self.set_status(f"paused at step {total} after {_duration(self.ask_seconds)}: the other {self.asked} steps would take "
                            f"about {_duration(self.asked * per)} more. Press Train more to go on · {self.weights_text()}", "interrupted")  # fmt: skip
            return
        self.more.description = f"Train {self.more_steps} more steps (about {_duration(self.more_steps * per)})"
        state = "interrupted" if history.interrupted else "done"
        self.set_status(f"{total} steps · mean loss of {k} steps {first:.4g} → {last:.4g} · {per:.2f} s per step · {self.weights_text()}", state)

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


def training_panel(vgg: VGG19Features, network: StyleNetwork, style, preview: tuple[str, torch.Tensor], checkpoint, *, steps: int,
                   more_steps: int, ask_seconds: float = 120, **train_args) -> TrainingPanel:  # fmt: skip
    """Start training ``network`` for ``style`` (see :class:`TrainingPanel`); ``preview``: ``(name, photo)``, a photo
    kept out of training; ``checkpoint``: the file the training writes (and continues from); ``train_args``: more of
    ``train_network``'s arguments (size, batch, alpha, beta, tv_weight, ...)."""
    name, photo = preview
    return TrainingPanel(vgg, network, style, photo, name, checkpoint, steps=steps, more_steps=more_steps,
                         ask_seconds=ask_seconds, train_args=train_args)  # fmt: skip


# --- 4. The network against the optimisation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The same photos stylised by the network and by the optimisation (from white noise), scored alike.

    ``network_loss`` and ``optimisation_loss``: the total loss (eq. 7, the same α, β and layers) of each photo's
    result, per photo; ``history``: the optimisation's loss per evaluation (per photo); ``reached``: per photo, the
    first evaluation at which the optimisation's loss is at most the network's (None: not within its steps).
    """

    photos: torch.Tensor
    network_images: torch.Tensor
    optimisation_images: torch.Tensor
    network_loss: list[float]
    optimisation_loss: list[float]
    history: list[list[float]]
    reached: list[int | None]
    seconds: tuple[float, float]  # network, optimisation (all photos)
    steps: int


def compare_with_optimisation(vgg: VGG19Features, network: StyleNetwork, photos: torch.Tensor, style: torch.Tensor, *,
                              steps: int, **settings) -> Comparison:  # fmt: skip
    """Stylise ``photos`` (B, 3, H, W) with ``network`` and with ``stylize`` from white noise (``steps`` L-BFGS
    evaluations, one run per photo), and score both with the same :class:`Objective` (:func:`score`). ``settings``:
    alpha, beta, content_layers, style_layers, tv_weight, as the network was trained."""
    from .. import optimize  # looked up at each call (tests replace it)

    device = vgg.device
    photos = photos.to(device)
    started = _now(device)
    made = stylize_images(network, photos, device=device)  # a copy goes to the device: the caller's network stays as it is
    network_seconds = _now(device) - started
    started = _now(device)
    results = [optimize.stylize(photo, style, init="noise", steps=steps, weights=vgg, progress=False, **settings)
               for photo in photos.split(1)]  # fmt: skip
    optimisation_seconds = _now(device) - started
    optimised = torch.cat([r.image.to(device) for r in results])
    history = [[float(h["total"]) for h in r.history] for r in results]
    mine = score(vgg, made, photos, style, **settings)
    reached = [next((k + 1 for k, v in enumerate(curve) if v <= target), None) for curve, target in zip(history, mine)]
    return Comparison(photos.cpu(), made.cpu(), optimised.cpu(), mine, score(vgg, optimised, photos, style, **settings),
                      history, reached, (network_seconds, optimisation_seconds), steps)  # fmt: skip


def score(vgg: VGG19Features, images: torch.Tensor, photos: torch.Tensor, style: torch.Tensor, *, alpha: float = 1.0,
          beta: float = 1.0, content_layers: Sequence[str] = PAPER_CONTENT_LAYERS, style_layers: Sequence[str] = PAPER_STYLE_LAYERS,
          tv_weight: float = 0.0) -> list[float]:  # fmt: skip
    """The total loss (eq. 7, plus ``tv_weight`` L_tv) of each of ``images`` against its own photo of ``photos``
    and the artwork ``style``: the package's :class:`Objective`, the one ``stylize`` minimises."""
    device = vgg.device
    losses = []
    for image, photo in zip(images.split(1), photos.split(1)):
        objective = Objective.for_images(vgg, photo.to(device), style.to(device), alpha=alpha, beta=beta, tv_weight=tv_weight,
                                         content_layers=tuple(content_layers), style_layers=tuple(style_layers))  # fmt: skip
        with torch.no_grad():
            losses.append(float(objective(image.to(device))["total"]))
    return losses


def comparison_figure(comparison: Comparison, names: Sequence[str], caption: str, weights: WeightsInfo):
    """Per photo, a row: the photo, the network's result, the optimisation's; and on the right the optimisation's
    loss per evaluation with the network's loss as a horizontal line (Johnson et al.'s comparison)."""
    n = comparison.photos.shape[0]
    fig, axes = plots.subplots(n, 4, figsize=(13, 3.1 * n), squeeze=False)
    for i in range(n):
        a, b = comparison.network_loss[i], comparison.optimisation_loss[i]
        images = [(comparison.photos[i], f"held-out photo: {names[i]}"), (comparison.network_images[i], f"network (one pass), loss {a:.3g}"),
                  (comparison.optimisation_images[i], f"optimisation, {comparison.steps} evaluations, loss {b:.3g}")]  # fmt: skip
        for ax, (image, title) in zip(axes[i], images):
            ax.imshow(plots.to_numpy_image(image))
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        ax = axes[i, 3]
        curve = comparison.history[i]
        ax.semilogy(range(1, len(curve) + 1), curve, label="optimisation from noise")
        ax.axhline(a, color="crimson", linestyle="--", label="network")
        reached = comparison.reached[i]
        if reached is not None:
            ax.axvline(reached, color="grey", linestyle=":", label=f"reached at {reached}")
        ax.set_xlabel("evaluations", fontsize=8)
        ax.set_ylabel("total loss", fontsize=8)
        ax.legend(fontsize=7)
    plots._suptitle(fig, f"The network against the optimisation, the same loss\n{caption}", weights)
    return fig


# --- 5. Instance or batch normalisation ------------------------------------------------------------------------


def with_batch_norm(network: StyleNetwork) -> StyleNetwork:
    """A copy of ``network`` in which every instance normalisation is a batch normalisation with the same affine
    weights, in eval mode: it normalises with fixed statistics (here mean 0, variance 1, as after no training)
    instead of each image's own."""
    copied = copy.deepcopy(network)
    for module in copied.modules():
        for name, child in module.named_children():
            if isinstance(child, nn.InstanceNorm2d):
                bn = nn.BatchNorm2d(child.num_features, eps=child.eps, affine=child.affine)
                if child.affine:
                    bn.weight.data.copy_(child.weight.data)
                    bn.bias.data.copy_(child.bias.data)
                setattr(module, name, bn)
    return copied.eval()


# --- 6. Instant stylisation of any photo ---------------------------------------------------------------------------


def stylize_panel(network: StyleNetwork, weights: WeightsInfo, photos: Mapping[str, object] | None = None, *,
                  size: int = 256, max_size: int = 1024) -> Panel:  # fmt: skip
    """Choose a photo (bundled, held out of training, or uploaded) and a size: the network stylises it at once.

    Controls: ``photo`` (a dropdown; ``photos`` maps names to anything ``load_image`` reads, default the bundled
    photos), ``upload``, ``size``. ``panel.result`` is the last stylised image, ``panel.milliseconds`` its time.
    """
    photos = dict(photos) if photos is not None else {n: n for n in bundled_images("content")}
    controls = {
        "photo": w.Dropdown(options=list(photos), value=next(iter(photos)), description="photo", layout=w.Layout(width="260px")),
        "upload": w.FileUpload(accept="image/*", multiple=False, description="upload a photo"),
        "size": w.IntSlider(value=size, min=32, max=max(max_size, size), step=32, description="size (px)", continuous_update=False),
    }
    photo_view, result_view = image_view("300px"), image_view("300px")
    views = [w.HBox([w.VBox([w.HTML("<b>photo</b>"), photo_view]), w.VBox([w.HTML("<b>stylised (one pass)</b>"), result_view])])]
    panel = Panel("Stylise any photo, instantly", controls, views, weights, rows=[["photo", "upload", "size"]])
    panel.uploads, panel.result, panel.milliseconds = {}, None, None
    caption = network_caption(network, weights)
    device = next(network.parameters()).device

    def stylize():
        name = panel.photo.value
        image = load_image(panel.uploads.get(name, photos.get(name, name)), size=int(panel.size.value)).to(device)
        with torch.no_grad(), in_eval(network):
            network(image)  # a first pass at a new size sets up the convolutions; the second one is timed
            started = _now(device)
            panel.result = network(image).cpu()
            panel.milliseconds = 1000 * (_now(device) - started)
        photo_view.value, result_view.value = png_bytes(image.cpu(), min_side=128), png_bytes(panel.result, min_side=128)
        h, wd = image.shape[-2:]
        panel.set_status(f"{name} · {wd}x{h} px in {panel.milliseconds:.0f} ms · {caption}", "done")

    def upload():
        before = panel.photo.value
        if take_upload(panel.upload, panel.photo, panel.uploads) is not None and panel.photo.value == before:
            stylize()  # the same file again: the dropdown did not change, so it did not stylise

    panel.photo.observe(panel.handler(stylize), names="value")
    panel.size.observe(panel.handler(stylize), names="value")
    panel.upload.observe(panel.handler(upload), names="value")
    panel.handler(stylize)()
    return panel


# --- 7. Export to ONNX ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnnxComparison:
    """The network exported to ``path`` and run by ONNX Runtime on the CPU, against PyTorch on the same images:
    the largest pixel difference and the milliseconds per image of each (medians), per image size."""

    path: str
    megabytes: float
    rows: list[tuple[tuple[int, int], float, float, float]]  # (H, W), largest difference, PyTorch ms, ONNX Runtime ms


def onnx_comparison(network: StyleNetwork, path, images: Sequence[torch.Tensor], repeats: int = 5) -> OnnxComparison:
    """Export ``network`` (``realtime.export.export_onnx``, which checks the file) and run it with ONNX Runtime on
    ``images`` (of different sizes: the model takes any), timing both runtimes on the CPU."""
    import os

    from ..deploy.export import export_onnx, onnx_session, run_onnx

    network = copy.deepcopy(network).cpu().eval()
    export_onnx(network, path)
    session = onnx_session(path)
    rows = []
    for image in images:
        x = image.cpu()
        with torch.no_grad():
            difference = float((network(x) - run_onnx(session, x)).abs().max())
        rows.append((tuple(x.shape[-2:]), difference, _median_ms(lambda: network(x), repeats), _median_ms(lambda: run_onnx(session, x), repeats)))
    return OnnxComparison(str(path), os.path.getsize(path) / 1e6, rows)


def _median_ms(run, repeats: int) -> float:
    times = []
    with torch.no_grad():
        run()
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


# --- 8. Video: flicker, and a network that does not ------------------------------------------------------------


def video_tools_ready() -> bool:
    """Whether the flicker measure can run here (it needs OpenCV's optical flow); if not, one line says what to
    install."""
    from ..optional import MissingPackageError

    try:
        from ..video.flicker import _cv2

        _cv2()
    except MissingPackageError as e:
        print(f"{e}. The cells below skip the measurement until then.")
        return False
    return True


def flicker_figure(clip: torch.Tensor, stylings: Mapping[str, torch.Tensor], flows, weights: WeightsInfo, *, frame: int = 1):
    """Frames ``frame - 1`` and ``frame`` of the input clip and of each styling (``{label: frames}``), side by side,
    and for each its **flicker map**: |O_t - O_t-1 moved along the input's motion|^2 (bright: the frames disagree;
    occluded pixels black), with the video's warping error in the title."""
    from ..video.flicker import flicker_map, warping_error

    rows = {"input": clip, **stylings}
    fig, axes = plots.subplots(len(rows), 3, figsize=(9.6, 3.2 * len(rows)), squeeze=False)
    maps = {label: flicker_map(frames[frame - 1], frames[frame], flows[frame - 1]) for label, frames in rows.items()}
    # One colour scale for all the maps, up to the 99th percentile of their pixels: a few bright pixels (at the
    # border, at occlusions) would otherwise leave everything else black.
    top = float(np.percentile(np.concatenate([m.ravel() for m in maps.values()]), 99)) or 1.0
    for ax_row, (label, frames) in zip(axes, rows.items()):
        error = warping_error(clip, frames, flows=flows).mean
        for ax, image, title in ((ax_row[0], frames[frame - 1], f"{label}: frame {frame - 1}"), (ax_row[1], frames[frame], f"frame {frame}")):
            ax.imshow(plots.to_numpy_image(image))
            ax.set_title(title, fontsize=plots.TEXT_PT)
        ax_row[2].imshow(maps[label], cmap="magma", vmin=0, vmax=top)  # the same scale in every row
        ax_row[2].set_title(f"flicker map; warping error {error:.2e}", fontsize=plots.TEXT_PT)
        for ax in ax_row:
            ax.axis("off")
    plots._suptitle(fig, "Flicker: each frame against the previous one moved along the input's optical flow", weights)
    return fig
