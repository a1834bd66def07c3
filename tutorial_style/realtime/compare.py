"""A trained network measured against the paper's optimisation (Johnson et al. 2016, section 4): the time per image
of each (:func:`measure_speed`), the same loss for both on the same photos (:func:`compare_with_optimisation`,
:func:`score`), and the network with batch instead of instance normalisation (:func:`with_batch_norm`, Ulyanov et
al. 2016). Notebook 08 shows these; ``benchmarks/realtime.py`` tabulates them.

Times come from ``torch.utils.benchmark``: it warms up, synchronises the accelerator and keeps the threads as set.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from .. import optimize  # optimize.stylize is looked up at each call (tests replace it)
from ..layers import PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS
from ..objective import Objective
from ..settings import default, default_alpha
from ..vgg import VGG19Features, on_device
from .network import StyleNetwork
from .stylize import in_eval, stylize_images

__all__ = [
    "Speed",
    "measure_speed",
    "median_seconds",
    "Comparison",
    "compare_with_optimisation",
    "score",
    "with_batch_norm",
]


def median_seconds(run: Callable[[], object], min_run_time: float = 0.2) -> float:
    """The median seconds of one ``run()``, timed by ``torch.utils.benchmark.Timer`` for at least ``min_run_time``
    seconds after a warm-up, with the threads torch uses now (the Timer's default is one).

    >>> median_seconds(lambda: sum(range(100)), min_run_time=0.01) < 0.01
    True
    """
    from torch.utils.benchmark import Timer

    timer = Timer("run()", globals={"run": run}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def _clock() -> float:
    from torch.utils.benchmark import timer  # perf_counter after the accelerator has finished its work

    return timer()


@dataclass(frozen=True)
class Speed:
    """Seconds on this machine, at ``size`` px: one loss-and-gradient evaluation of the optimisation (the mean of
    ``evaluations`` timed ones), and one forward pass of the network (the median of those timed)."""

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


def measure_speed(
    vgg: VGG19Features,
    network: StyleNetwork,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    evaluations: int = 3,
    min_run_time: float = 0.2,
) -> Speed:
    """Time ``evaluations`` loss-and-gradient evaluations of the paper's objective (eq. 7, its layers) on
    ``content``, and ``network`` on the same image for ``min_run_time`` seconds, on ``vgg``'s device (the caller's
    network is neither moved nor switched to eval mode)."""
    from torch.utils.benchmark import Timer

    if evaluations < 1:
        raise ValueError(f"evaluations must be at least 1, got {evaluations}")
    device = vgg.device
    content, style = content.to(device), style.to(device)
    objective = Objective.for_images(
        vgg,
        content,
        style,
        content_layers=PAPER_CONTENT_LAYERS,
        style_layers=PAPER_STYLE_LAYERS,
        alpha=default_alpha(*content.shape[-2:]),
        beta=default("beta"),
    )
    x = content.clone().requires_grad_(True)

    def evaluate():
        x.grad = None
        objective(x)["total"].sum().backward()

    timer = Timer("evaluate()", globals={"evaluate": evaluate}, num_threads=torch.get_num_threads())
    evaluation = timer.timeit(evaluations).mean  # after two evaluations as a warm-up
    with torch.no_grad(), in_eval(on_device(network, device)) as net:
        passes = median_seconds(lambda: net(content), min_run_time)
    return Speed(tuple(content.shape[-2:]), evaluation, passes, evaluations, str(device))


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


def compare_with_optimisation(
    vgg: VGG19Features, network: StyleNetwork, photos: torch.Tensor, style: torch.Tensor, *, steps: int, **settings
) -> Comparison:
    """Stylise ``photos`` (B, 3, H, W) with ``network`` and with ``stylize`` from white noise (``steps`` L-BFGS
    evaluations, one run per photo), and score both with the same :class:`Objective` (:func:`score`). ``settings``:
    alpha, beta, content_layers, style_layers, tv_weight, as the network was trained. Each is timed once."""
    device = vgg.device
    photos = photos.to(device)
    started = _clock()
    made = stylize_images(
        network, photos, device=device
    )  # a copy goes to the device: the caller's network stays as it is
    network_seconds = _clock() - started
    started = _clock()
    results = [
        optimize.stylize(photo, style, init="noise", steps=steps, weights=vgg, progress=False, **settings)
        for photo in photos.split(1)
    ]
    optimisation_seconds = _clock() - started
    optimised = torch.cat([r.image.to(device) for r in results])
    history = [[float(h["total"]) for h in r.history] for r in results]
    mine = score(vgg, made, photos, style, **settings)
    reached = [next((k + 1 for k, v in enumerate(curve) if v <= target), None) for curve, target in zip(history, mine)]
    return Comparison(
        photos.cpu(),
        made.cpu(),
        optimised.cpu(),
        mine,
        score(vgg, optimised, photos, style, **settings),
        history,
        reached,
        (network_seconds, optimisation_seconds),
        steps,
    )


def score(
    vgg: VGG19Features,
    images: torch.Tensor,
    photos: torch.Tensor,
    style: torch.Tensor,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    content_layers: Sequence[str] = PAPER_CONTENT_LAYERS,
    style_layers: Sequence[str] = PAPER_STYLE_LAYERS,
    tv_weight: float = 0.0,
) -> list[float]:
    """The total loss (eq. 7, plus ``tv_weight`` L_tv) of each of ``images`` against its own photo of ``photos``
    and the artwork ``style``: the package's :class:`Objective`, the one ``stylize`` minimises."""
    device = vgg.device
    losses = []
    for image, photo in zip(images.split(1), photos.split(1)):
        objective = Objective.for_images(
            vgg,
            photo.to(device),
            style.to(device),
            alpha=alpha,
            beta=beta,
            tv_weight=tv_weight,
            content_layers=tuple(content_layers),
            style_layers=tuple(style_layers),
        )
        with torch.no_grad():
            losses.append(float(objective(image.to(device))["total"]))
    return losses


def with_batch_norm(network: StyleNetwork) -> StyleNetwork:
    """A copy of ``network`` in which every instance normalisation is a batch normalisation with the same affine
    weights, in eval mode: it normalises with fixed statistics (here mean 0, variance 1, as after no training)
    instead of each image's own.

    >>> net = with_batch_norm(StyleNetwork(width=0.25, blocks=1))
    >>> any(isinstance(m, nn.InstanceNorm2d) for m in net.modules()), net.training
    (False, False)
    """
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
