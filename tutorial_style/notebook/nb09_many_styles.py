"""Notebook 09: many styles in one network (Dumoulin, Shlens & Kudlur 2017, conditional instance normalisation).
What its cells show beside the package's own functions: how few numbers one style is (:func:`parameter_counts`),
which network the pictures come from and what trained it (:func:`network_caption`), a photo through several mixes
(:func:`mix_figure`) and live, one slider per style (:func:`mix_panel`), a training that measures its first steps and
asks before a long run (:func:`training_panel`), and the proof that a style added later leaves the others as they
were (:func:`unchanged_outputs`, :func:`changed_parameters`). :func:`check_conditional_instance_norm` checks the
exercise.

The network, its mix and its training are the package's (``realtime/network.py``: ``StyleNetwork(styles=...)``,
``mix_for``, ``style_parameters``; ``realtime/train.py``: ``train_network(style, base=...)``); the networks that
ship with the package are ``shipped/``'s.
"""

from __future__ import annotations

import copy
import threading
import time
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

import ipywidgets as w
import torch
import torch.nn.functional as F

from ..cost import duration
from ..images import bundled_images, load_image, save_image
from ..realtime.checkpoint import load_checkpoint
from ..realtime.network import StyleNetwork
from ..realtime.stylize import in_eval
from ..shipped import ShippedNetwork, shipped_networks
from ..vgg import VGG19Features
from ..weights import WeightsInfo
from . import checks, plots
from .nb08_real_time import network_caption as one_style_caption
from .nb08_real_time import shipped_caption
from .panels import Panel, image_view, png_bytes

__all__ = [
    "ParameterCounts",
    "parameter_counts",
    "print_parameter_counts",
    "first_shipped",
    "network_caption",
    "added_caption",
    "new_artwork",
    "mix_figure",
    "mix_panel",
    "MeasuredTrainingPanel",
    "training_panel",
    "unchanged_outputs",
    "ChangedParameters",
    "changed_parameters",
    "check_conditional_instance_norm",
]


# --- How few numbers a style is ---------------------------------------------------------------------------------


class ParameterCounts(NamedTuple):
    """A network of several styles, counted: ``total`` parameters, ``per_style`` of them one style's γ and β (in
    ``layers`` normalisation layers), the rest ``shared`` by every style (the convolutions)."""

    total: int
    per_style: int
    layers: int
    styles: int

    @property
    def shared(self) -> int:
        return self.total - self.styles * self.per_style

    @property
    def one_style_network(self) -> int:
        """A network of this shape for one style alone (notebook 08's): the shared part and one γ and β."""
        return self.shared + self.per_style


def parameter_counts(network: StyleNetwork) -> ParameterCounts:
    """Count ``network``'s parameters, all and one style's.

    >>> counts = parameter_counts(StyleNetwork(width=0.25, blocks=1, styles=["mosaic", "swirls"]))
    >>> counts.per_style, counts.layers, counts.total == counts.shared + 2 * counts.per_style
    (288, 7, True)
    """
    if network.styles is None:
        raise ValueError("network: a one-style network has no per-style parameters; make one with styles=[...]")
    rows = network.style_parameters(network.styles[0])  # γ and β of every normalisation, this style's row
    per_style = sum(r.parameter[r.row].numel() for r in rows)
    total = sum(p.numel() for p in network.parameters())
    return ParameterCounts(total, per_style, len(rows) // 2, len(network.styles))


def print_parameter_counts(network: StyleNetwork) -> ParameterCounts:
    """The table of :func:`parameter_counts`: the shared part, one style, and N networks of one style each."""
    c = parameter_counts(network)
    rows = [
        (f"the whole network ({c.styles} styles)", c.total, ""),
        ("  shared by every style (the convolutions)", c.shared, ""),
        (f"  one style: its γ and β in {c.layers} normalisation layers", c.per_style, f"{c.per_style / c.total:.1%}"),
        (f"{c.styles} networks of one style each (notebook 08's way)", c.styles * c.one_style_network, ""),
        ("one more style in this network costs", c.per_style, ""),
    ]
    for label, count, share in rows:
        print(f"{label:<58}{count:>12,} parameters{'  (' + share + ' of the network)' if share else ''}")
    return c


# --- Which network, and what trained it ---------------------------------------------------------------------------


def first_shipped() -> ShippedNetwork | None:
    """The first network of several styles that ships with the package (``shipped/``), or None if none is installed."""
    return next((n for n in shipped_networks() if len(n.styles) >= 2), None)


def network_caption(network: StyleNetwork, weights: WeightsInfo, shipped: ShippedNetwork | None = None) -> str:
    """What made the network's pictures: a shipped network's name, loss network and training; else the VGG19
    ``weights`` it was trained with here (random ones loudly, as notebook 08 says it).

    >>> from tutorial_style.weights import load_weights
    >>> net = StyleNetwork(width=0.25, blocks=1, styles=["a", "b"]); net.meta = {"steps": 20}
    >>> network_caption(net, load_weights("random")[1])
    'network trained 20 steps with RANDOM VGG19 weights (seed 0) - NOT what ImageNet weights teach'
    """
    return one_style_caption(network, weights) if shipped is None else shipped_caption(shipped)


def added_caption(caption: str, style: str, steps: int, weights: WeightsInfo) -> str:
    """The caption of a network with ``style`` added: the base network's ``caption``, and what trained the new γ, β.

    >>> from tutorial_style.weights import load_weights
    >>> added_caption("shipped network 'four'", "wave", 200, load_weights("random")[1])
    "shipped network 'four'; + wave: its γ and β trained 200 steps with RANDOM VGG19 weights (seed 0) - NOT a style"
    """
    if weights.pretrained:
        return f"{caption}; + {style}: its γ and β trained {steps} steps with VGG19 {weights.label}"
    return f"{caption}; + {style}: its γ and β trained {steps} steps with RANDOM VGG19 weights (seed 0) - NOT a style"


def new_artwork(styles: Sequence[str], folder) -> str:
    """An artwork the network does not hold yet: the first bundled style not in ``styles``; when it holds them all,
    the mosaic with its colours turned (red to green, green to blue, blue to red), written to ``folder``.

    >>> new_artwork(["mosaic", "swirls"], "/tmp")
    'circles'
    """
    for name in bundled_images("style"):
        if name not in styles:
            return name
    path = Path(folder) / "mosaic-turned.png"
    save_image(load_image("mosaic")[:, [2, 0, 1]], path)
    return str(path)


# --- Mixing styles ------------------------------------------------------------------------------------------------


def _styled(network: StyleNetwork, photo: torch.Tensor, spec) -> torch.Tensor:
    device = next(network.parameters()).device
    with torch.no_grad(), in_eval(network):
        return network(photo.to(device), network.mix_for(spec).to(device)).cpu()


def mix_figure(
    network: StyleNetwork,
    photo: torch.Tensor,
    mixes: Mapping[str, object],
    caption: str,
    weights: WeightsInfo | None,
    title: str = "",
):
    """The photo, then the photo through each mix of ``mixes`` (``{title: a style's name or {name: weight}}``).
    ``weights``: the VGG19 weights that trained the network here (named under the title; None for a shipped network,
    whose ``caption`` names its own loss network)."""
    images = [photo] + [_styled(network, photo, spec) for spec in mixes.values()]
    return plots.show_images(images, ["the photo (held out)", *mixes], weights, size=2.6, suptitle=f"{title}{caption}")


def mix_panel(
    network: StyleNetwork,
    photos: Mapping[str, torch.Tensor],
    caption: str,
    weights: WeightsInfo | None,
    start: Mapping[str, float] | None = None,
) -> Panel:
    """One slider per style and a photo: the network styles the photo with the sliders' mix at each change.

    Widgets: ``photo`` (a dropdown of ``photos``, ``{name: (1, 3, H, W)}``) and ``panel.sliders``, ``{style: slider}``
    (0 to 1; the weights are normalised to sum 1, so only their ratios count). ``start``: the first weights (default
    the first style alone). ``panel.mix`` is the last mix (N,), ``panel.result`` the last picture."""
    start = dict(start) if start is not None else {network.styles[0]: 1.0}
    sliders = {
        name: w.FloatSlider(
            value=float(start.get(name, 0.0)),
            min=0.0,
            max=1.0,
            step=0.05,
            description=name,
            continuous_update=False,
            readout_format=".2f",
        )
        for name in network.styles
    }
    photo = w.Dropdown(options=list(photos), value=next(iter(photos)), description="photo")
    widgets_by_name = {"photo": photo, **{f"slider_{i}": s for i, s in enumerate(sliders.values())}}
    photo_view, result_view = image_view("300px"), image_view("300px")
    views = [
        w.HTML(f"<i>{caption}</i>"),
        w.HBox(
            [
                w.VBox([w.HTML("<b>photo (held out of training)</b>"), photo_view]),
                w.VBox([w.HTML("<b>the network, with the sliders' mix</b>"), result_view]),
            ]
        ),
    ]
    rows = [["photo"], [f"slider_{i}" for i in range(len(sliders))]]
    panel = Panel("Mix the styles", widgets_by_name, views, weights, rows=rows)
    panel.sliders, panel.mix, panel.result = sliders, None, None

    def style():
        from torch.utils.benchmark import timer as clock

        image, spec = photos[photo.value], {name: s.value for name, s in sliders.items()}
        mix = network.mix_for(spec)  # normalised to sum 1; all 0 is a one-line error in the status line
        started = clock()
        panel.result, panel.mix = _styled(network, image, spec), mix
        ms = 1000 * (clock() - started)
        photo_view.value, result_view.value = png_bytes(image, min_side=128), png_bytes(panel.result, min_side=128)
        weights_text = " · ".join(f"{n} {v:.2f}" for n, v in zip(network.styles, mix.tolist()) if v > 0)
        panel.set_status(f"mix {weights_text} · {photo.value} in {ms:.0f} ms · {caption}", "done")

    for control in (photo, *sliders.values()):
        control.observe(panel.handler(style), names="value")
    panel.handler(style)()
    return panel


# --- Training, measured before it runs long -----------------------------------------------------------------------

MEASURE_STEPS = 3
"""The steps timed before the rest is estimated; the first one (it sets up the convolutions) is left out of the
time per step."""


class MeasuredTrainingPanel(Panel):
    """``train_network`` in a background thread, that times its first :data:`MEASURE_STEPS` steps and, if all
    ``steps`` would take longer than ``ask_seconds``, stops there and asks: **Train all** (``panel.all``) then trains
    them (from the start again: a style added to a base network cannot be resumed). **Stop** (``panel.stop``) ends a
    run after the current step and keeps the network. A held-out photo through each of the network's styles is
    redrawn as it trains. ``panel.network`` (with ``meta``: what made it), ``panel.history``, ``panel.step_seconds``;
    ``panel.asked`` is True while it waits for the learner. :meth:`wait` waits for the end."""

    def __init__(
        self,
        vgg: VGG19Features,
        style,
        preview: tuple[str, torch.Tensor],
        checkpoint,
        *,
        steps: int,
        ask_seconds: float,
        base=None,
        network: StyleNetwork | None = None,
        train_args: Mapping | None = None,
    ):
        widgets_by_name = {
            "stop": w.Button(description="Stop", button_style="warning", icon="stop", disabled=True),
            "all": w.Button(description=f"Train all {steps} steps", icon="forward", disabled=True),
        }
        name, photo = preview
        self.preview_view = image_view("560px")
        views = [w.HTML(f"<b>held-out photo ({name}) | the network in each of its styles, live</b>"), self.preview_view]
        what = style if isinstance(style, str) else " and ".join(map(str, style))
        title = f"Adding the style {Path(what).stem}" if base is not None else f"Training one network for {what}"
        super().__init__(title, widgets_by_name, views, vgg.weights_info, rows=[["stop", "all"]])
        self.vgg, self.style, self.photo, self.checkpoint, self.steps = vgg, style, photo, checkpoint, steps
        self.ask_seconds, self.base, self.initial, self.train_args = ask_seconds, base, network, dict(train_args or {})
        self.network, self.history, self.step_seconds, self.asked = network, [], None, False
        self.thread, self.stop_event, self._drawn = None, threading.Event(), 0.0
        self.stop.on_click(self.handler(self.stop_event.set))
        self.all.on_click(self.handler(lambda: self.start(ask=False)))
        self.start(ask=True)

    def start(self, ask: bool) -> None:
        """Train ``steps`` steps from the start in a background thread (``ask``: measure first, and ask if long)."""
        if self.thread is not None and self.thread.is_alive():
            return
        self.stop_event.clear()
        self.stop.disabled, self.all.disabled, self.asked, self.history = False, True, False, []
        self.set_status(f"step 0/{self.steps} · measuring the time per step · {self.weights_text()}", "running")
        self.thread = threading.Thread(target=self._work, args=(ask,), name="tutorial_style-training", daemon=True)
        self.thread.start()

    def _work(self, ask: bool) -> None:
        from ..realtime import train  # looked up at each run (tests replace train_network)

        try:
            network, history = train.train_network(
                self.style,
                steps=self.steps,
                weights=self.vgg,
                network=copy.deepcopy(self.initial) if self.initial is not None else None,
                base=self.base,
                checkpoint=self.checkpoint,
                progress=False,
                callback=lambda step, losses, net: self._step(step, losses, net, ask),
                **self.train_args,
            )
            network.meta = dict(load_checkpoint(self.checkpoint)["meta"])
            self.network, self.history = network, list(history)
            self.draw()
            self._say_done(history.interrupted)
        except Exception as e:  # shown in the status line: the thread has no one else to tell
            self.set_status(f"{type(e).__name__}: {e}", "error")
        finally:
            self.stop.disabled, self.all.disabled = True, False

    def _step(self, step: int, losses: Mapping, network: StyleNetwork, ask: bool) -> bool:
        """After each step: time, estimate, ask or redraw. True stops the training (the package's rule)."""
        self.network, done, now = network, step + 1, time.perf_counter()
        if done == 1:
            self._after_first = now
        else:  # the mean of the steps after the first
            self.step_seconds = (now - self._after_first) / (done - 1)
        if ask and done == min(MEASURE_STEPS, self.steps) and self.step_seconds:
            if self.step_seconds * self.steps > self.ask_seconds:
                self.asked = True
                return True
        if now - self._drawn > 1.5 or done == self.steps:
            self._drawn = now
            self.draw()
            per = self.step_seconds or 0.0
            left = f" · {per:.2f} s per step, about {duration((self.steps - done) * per)} left" if per else ""
            self.set_status(
                f"step {done}/{self.steps}{left} · loss {losses['total']:.4g} · {self.weights_text()}", "running"
            )
        return self.stop_event.is_set()

    def draw(self) -> None:
        """The held-out photo, then the network's picture of it in each of its styles."""
        styled = [_styled(self.network, self.photo, name) for name in self.network.styles]
        self.preview_view.value = png_bytes(torch.cat([self.photo.cpu(), *styled]), min_side=128)

    def _say_done(self, interrupted: bool) -> None:
        per, trained = self.step_seconds or 0.0, len(self.history)
        if self.asked:
            self.all.description = f"Train all {self.steps} steps (about {duration(self.steps * per)})"
            self.set_status(
                f"paused after {trained} steps: {per:.2f} s per step here, so all {self.steps} would take about "
                f"{duration(self.steps * per)}, more than {duration(self.ask_seconds)}. Press Train all to train "
                f"them, or go on with the network as it is · {self.weights_text()}",
                "interrupted",
            )
            return
        state = "interrupted" if interrupted else "done"
        self.set_status(f"{trained} steps · {per:.2f} s per step · {self.weights_text()}", state)

    def wait(self) -> StyleNetwork:
        """Wait for the training to end and return the network. The kernel's interrupt (■) stops it here too, and the
        network as trained so far is kept."""
        try:
            while self.thread is not None and self.thread.is_alive():
                self.thread.join(0.2)
        except KeyboardInterrupt:
            self.stop_event.set()
            self.thread.join()
        return self.network


def training_panel(
    vgg: VGG19Features,
    style,
    preview: tuple[str, torch.Tensor],
    checkpoint,
    *,
    steps: int,
    ask_seconds: float,
    base=None,
    network: StyleNetwork | None = None,
    **train_args,
) -> MeasuredTrainingPanel:
    """Start training (see :class:`MeasuredTrainingPanel`): ``style`` a list of styles for one network of them
    (``network``: the network to train), or one style added to ``base`` (a checkpoint), its γ and β alone.
    ``preview``: ``(name, photo)``, a photo kept out of training; ``checkpoint``: the file the training writes;
    ``train_args``: more of ``train_network``'s arguments (size, batch, ...)."""
    return MeasuredTrainingPanel(
        vgg,
        style,
        preview,
        checkpoint,
        steps=steps,
        ask_seconds=ask_seconds,
        base=base,
        network=network,
        train_args=train_args,
    )


# --- What adding a style changed ----------------------------------------------------------------------------------


def unchanged_outputs(before: StyleNetwork, after: StyleNetwork, photo: torch.Tensor) -> dict[str, float]:
    """For each style of ``before``: the largest pixel difference between its picture of ``photo`` and ``after``'s
    (the network with a style added).

    >>> net = StyleNetwork(width=0.25, blocks=1, styles=["a", "b"])
    >>> unchanged_outputs(net, net.with_style("c"), torch.rand(1, 3, 16, 16))
    {'a': 0.0, 'b': 0.0}
    """
    return {
        name: float((_styled(before, photo, name) - _styled(after, photo, name)).abs().max()) for name in before.styles
    }


class ChangedParameters(NamedTuple):
    """What adding a style changed: ``trained``, the new style's γ and β (the only parameters the training could
    change); ``changed``, how many of the base network's own parameters differ now; ``total``, all of the new
    network's."""

    trained: int
    changed: int
    total: int


def changed_parameters(before: StyleNetwork, after: StyleNetwork) -> ChangedParameters:
    """Compare the base network with the network of one more style, parameter by parameter (γ and β: the base's rows).

    >>> net = StyleNetwork(width=0.25, blocks=1, styles=["a", "b"])
    >>> changed_parameters(net, net.with_style("c"))
    ChangedParameters(trained=288, changed=0, total=34707)
    """
    old, new = before.state_dict(), after.state_dict()
    changed = 0
    for key, value in old.items():
        mine = new[key].to(value.device)
        if mine.shape != value.shape:  # a γ or β: the base's rows, and one more
            mine = mine[: value.shape[0]]
        changed += int((mine != value).sum())
    trained = parameter_counts(after).per_style
    return ChangedParameters(trained, changed, sum(p.numel() for p in after.parameters()))


# --- The exercise ---------------------------------------------------------------------------------------------------


def check_conditional_instance_norm(fn) -> checks.CheckResult:
    """Exercise: ``fn(x, gamma, beta, mix)``: features x (B, C, H, W) instance-normalised (each image's each channel
    over its own H x W, the biased variance, eps 1e-5), then scaled by γ = mix @ gamma and shifted by β = mix @ beta
    per channel; gamma and beta (N, C), one row per style; mix (N,), summing to 1."""
    eps = checks.IN_EPS

    def normalised(x):
        return F.instance_norm(x, eps=eps)

    def reference(x, gamma, beta, mix):
        return normalised(x) * (mix @ gamma).view(1, -1, 1, 1) + (mix @ beta).view(1, -1, 1, 1)

    def per_channel(v):
        return v.view(1, -1, 1, 1)

    cases = [
        (
            checks.seeded(40, 2, 3, 4, 5) * 3 + 1,
            checks.seeded(41, 2, 3).abs() + 0.5,
            checks.seeded(42, 2, 3),
            torch.tensor([0.7, 0.3]),
        ),
        (
            checks.seeded(43, 1, 4, 3, 3),
            checks.seeded(44, 3, 4).abs() + 0.5,
            checks.seeded(45, 3, 4),
            torch.tensor([0.2, 0.0, 0.8]),
        ),
    ]
    mistakes = [
        (
            "you used the first style's γ and β alone: mix the rows first, γ = mix @ gamma and β = mix @ beta "
            "(each (C,)).",
            lambda x, g, b, m: normalised(x) * per_channel(g[0]) + per_channel(b[0]),
        ),
        (
            "you took the plain mean of the styles' rows; weigh them by the mix: mix @ gamma, mix @ beta.",
            lambda x, g, b, m: normalised(x) * per_channel(g.mean(0)) + per_channel(b.mean(0)),
        ),
        (
            "γ and β are swapped: γ (gamma) multiplies the normalised features, β (beta) is added.",
            lambda x, g, b, m: normalised(x) * per_channel(m @ b) + per_channel(m @ g),
        ),
        (
            "the features were not normalised first: subtract each channel's mean and divide by sqrt(var + 1e-5) "
            "over H and W, then scale and shift.",
            lambda x, g, b, m: x * per_channel(m @ g) + per_channel(m @ b),
        ),
        (
            "β was added before scaling: it is γ · normalised + β, not γ · (normalised + β).",
            lambda x, g, b, m: (normalised(x) + per_channel(m @ b)) * per_channel(m @ g),
        ),
        (
            "the statistics were taken over the whole batch (batch normalisation); take them per image: dims (2, 3).",
            lambda x, g, b, m: (
                F.batch_norm(x, None, None, training=True, eps=eps) * per_channel(m @ g) + per_channel(m @ b)
            ),
        ),
    ]
    return checks.check_function(
        fn,
        reference=reference,
        reference_name="the network's own ConditionalInstanceNorm",
        cases=cases,
        mistakes=mistakes,
        expected="the same shape as x, (B, C, H, W)",
        rtol=1e-4,
        atol=1e-4,
    )
