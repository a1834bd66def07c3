"""Training a style network (Johnson, Alahi & Fei-Fei 2016) with the paper's own loss, once per style.

For each batch of photos x, the network f makes f(x), and the loss is the paper's eq. 7 plus a smoothness prior:

    L(x) = alpha L_content(x, f(x)) + beta L_style(a, f(x)) + tv_weight L_tv(f(x))

with the photos' own features as the content target (computed per batch) and the artwork a's Gram matrices as
the style target (computed once). The loss is the package's :class:`~tutorial_style.objective.Objective`, the
one the optimisation of ``optimize.py`` minimises; only what is optimised changes: the network's weights, with
Adam, instead of one image's pixels. After training, stylising a photo is one forward pass.

Johnson et al.'s choices, kept here: the content layer relu2_2 (the paper uses relu4_2, "conv4_2"): a shallower
layer keeps more of the photo's detail, which a network that never sees the optimisation's start needs; a
total-variation prior (Johnson et al. pick its weight per style between 1e-6 and 1e-4 in their normalisation);
Adam at learning rate 1e-3; random crops of photos. The style layers are the paper's, relu1_1 ... relu5_1.

The settings are one :class:`~tutorial_style.realtime.config.TrainingSettings` (``config.py``); resuming from a
checkpoint, and its checks, are ``resume.py``'s. With a temporal weight, the training adds the temporal term of
``video/temporal.py`` to the objective itself, batch by batch (:func:`_step`).

Several styles in one network (Dumoulin, Shlens & Kudlur 2017): ``style`` a list of N >= 2 artworks trains a
``StyleNetwork(styles=names)``, one objective per style (its Gram targets computed once), step ``k`` training style
``k % N`` with that style's one-hot mix (:func:`_schedule`: a resumed run trains the same sequence). ``base=`` adds
one style to a trained network by training its γ and β rows alone (:func:`_only_rows`).

Runs unchanged under ``torchrun --nproc_per_node=K -m tutorial_style train ...``: see :func:`_process_group`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import torch

from ..cost import duration
from ..files import digest
from ..images import load_image, resize_to
from ..objective import Objective, StyleTerm
from ..settings import with_settings
from ..vgg import VGG19Features, check_device, get_vgg, on_device
from ..video.temporal import Motion, TemporalTerm
from ..weights import RandomWeightsWarning
from .checkpoint import save_checkpoint
from .config import CONTENT_WEIGHT_AT_512_RELU2_2, FIXED_ON_RESUME, PRESETS, TEMPORAL_WEIGHT_FOR_VIDEO, TrainingSettings
from .data import PhotoDataset, batches_per_epoch, folder_photos, photo_loader, training_photos
from .network import DEFAULT, StyleNetwork
from .resume import Start, check_resume, check_weights, recorded_options, resume_from

__all__ = [
    "train_network",
    "History",
    "TrainingSettings",
    "PRESETS",
    "CONTENT_WEIGHT_AT_512_RELU2_2",
    "JOHNSON_CONTENT_LAYERS",
    "BETA",
    "TV_WEIGHT",
    "LR",
    "CHECKPOINT_EVERY",
    "SEED",
    "TEMPORAL_WEIGHT",
    "TEMPORAL_WEIGHT_FOR_VIDEO",
    "TEMPORAL_FORM",
    "TEMPORAL_MOTION",
    "TEMPORAL_NOISE",
    "FIXED_ON_RESUME",
    "recorded_options",
]

# The defaults by the names the notebooks and the benchmarks read; each is declared once, a field of TrainingSettings.
_DEFAULTS = TrainingSettings()
JOHNSON_CONTENT_LAYERS, BETA, TV_WEIGHT = _DEFAULTS.content_layers, _DEFAULTS.beta, _DEFAULTS.tv_weight
LR, SEED, CHECKPOINT_EVERY = _DEFAULTS.lr, _DEFAULTS.seed, _DEFAULTS.checkpoint_every
TEMPORAL_WEIGHT, TEMPORAL_FORM = _DEFAULTS.temporal_weight, _DEFAULTS.temporal_form

TEMPORAL_MOTION = {"shift": 3.0, "turn": 1.0, "zoom": 0.02}
"""The second view's random motion (``Motion.random``): up to 3 px, 1 degree, 2 % between two frames."""
TEMPORAL_NOISE = 0.02
"""The second view's fresh Gaussian noise (standard deviation, [0, 1] pixels): a camera's, a codec's."""

Callback = Callable[[int, dict, StyleNetwork], "bool | None"]


class History(list):
    """The loss history: one dict per step, ``{"step", "content", "style", "tv", "total"}`` and ``"temporal"`` when
    trained with the temporal term (batch means, over every process when distributed), ``content`` and ``style``
    unweighted as in ``stylize``'s history.

    ``interrupted`` is True when Ctrl-C or the callback stopped the run; ``weights_label`` says which VGG19
    weights the losses were measured with.
    """

    interrupted: bool = False
    weights_label: str = ""


@with_settings(TrainingSettings)
def train_network(
    style,
    settings: TrainingSettings | None = None,
    *,
    data=None,
    network: StyleNetwork | None = None,
    weights="auto",
    device=None,
    callback: Callback | None = None,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    base: str | os.PathLike | StyleNetwork | None = None,
    **options,
) -> tuple[StyleNetwork, History]:
    """Train a :class:`StyleNetwork` to render photos in the style of ``style``; returns ``(network, history)``.

    ``settings``: a :class:`~tutorial_style.realtime.config.TrainingSettings` (default: its defaults, the CPU
    preset, minutes on a laptop), with ``options`` (its fields as keywords: ``steps=3, size=64``) replaced. Each
    step takes ``batch`` random crops of ``size`` px (per process, when distributed) and one Adam step. The loss:
    ``alpha`` L_content on ``content_layers`` (Johnson's relu2_2), ``beta`` L_style on ``style_layers`` (the
    paper's), ``tv_weight`` L_tv, and ``temporal_weight`` L_temporal (a second view of each photo, a small known
    motion and fresh noise away, of form ``temporal_form``: ``video/temporal.py``; against flicker in video).
    ``alpha`` left out is ``settings.alpha_for(size)``. ``TrainingSettings`` gives each field's reason.

    ``style``: an artwork (a file, a bundled name or an image tensor). ``data``: None (the bundled photos and
    those installed packages ship, :mod:`~tutorial_style.realtime.data`), a folder of photos (recursive), a list
    of photo files, or a torch ``Dataset`` of (3, size, size) images. ``network`` trains a given network instead of
    a new one of the settings' ``width``/``blocks``/``separable``. ``weights``: VGG19's, as everywhere (random
    weights are warned about loudly: the network then learns an untrained network's idea of style, not a real one).

    ``callback(step, losses, network)`` is called after every step (for live previews); returning True stops the
    run, as for ``stylize``'s callback (None or False goes on), and so does Ctrl-C (KeyboardInterrupt): the network
    is kept and returned, ``history.interrupted`` set. Under ``torchrun`` a stop asked by any process stops them all
    after the same step. ``checkpoint``: a file written every ``checkpoint_every`` steps and at the end (also when
    stopped), with what made the network and the training state; ``resume=True`` continues from it (step count,
    optimiser state, history; ``steps`` is the total to reach). On resume ``size`` and ``steps`` may change; the
    settings of :data:`FIXED_ON_RESUME`, the style and VGG19's weights must be the checkpoint's (an error names
    the one that differs; ``alpha`` left out is the checkpoint's, whatever the size): ``resume.py``.

    ``style`` a list or tuple of N >= 2 artworks (files or bundled names, named by the bundled name or the file's
    stem) trains one network of N styles, one style per step in turn (``step % N``), with its one-hot mix; a list of
    one is one style, as today. ``base``: a trained network (a checkpoint or a ``StyleNetwork``) to which the one
    ``style`` is added: only the new style's γ and β rows train (Adam, no weight decay; every other parameter and
    row stays bit-identical), and the result has N+1 styles (a one-style base is named by its recorded style).
    """
    settings = TrainingSettings.of(settings, **options)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError("style: give at least one style (a file, a bundled name or an image tensor)")
    names = [_style_label(s) for s in styles]
    if len(styles) > 1 and len(set(names)) != len(names):
        raise ValueError(f"style: two styles have the same name ({', '.join(names)}); rename one of the files")
    if base is not None:
        if len(styles) != 1:
            raise ValueError(f"base: add one style at a time to a trained network, got {len(styles)} styles")
        if network is not None or settings.shape:
            raise ValueError("base: the base network is the network; give no network or width/blocks/separable")
        if resume:
            raise ValueError("base: resuming the training of an added style is not supported; train it again")
        network, base_prints = _added(base, names[0])
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be a function callback(step, losses, network), got {callback!r}")
    if network is not None and settings.shape:
        raise ValueError("give either network or width/blocks/separable, not both")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH, the checkpoint to continue")
    with _process_group(check_device(device)) as (rank, world, device):
        dataset = _dataset(data, settings.size, settings.batch * world, settings.seed)
        if batches_per_epoch(dataset, settings.batch, world) == 0:
            processes = f" x {world} processes" if world > 1 else ""
            raise ValueError(
                f"data has {len(dataset)} item(s), fewer than a batch of {settings.batch}{processes}; "
                f"give at least {settings.batch * world} photos, or a smaller batch"
            )
        if resume:
            start, settings = resume_from(checkpoint, settings, network)  # alpha left out: the checkpoint's
        else:
            start = _fresh(settings, network, names if len(styles) > 1 and base is None else None)
        settings = dataclasses.replace(
            settings, alpha=settings.alpha_for(settings.size), style_size=settings.style_size or settings.size
        )
        prepared_styles = [_style(s, settings.style_size, device) for s in styles]
        prints = [_fingerprint(s) for s in styles]
        if len(styles) == 1 and base is None:
            style_name, fingerprint = prepared_styles[0][1], prints[0]

            def prepared(size: int) -> str:  # the artwork's digest as older checkpoints recorded it, at their size
                return digest(_style(style, size, torch.device("cpu"))[0])

            if "style_fingerprints" in start.meta:
                _check_styles_resumed(start.meta, checkpoint, {names[0]: fingerprint})
            check_resume(start.meta, checkpoint, settings, fingerprint, prepared)
        else:
            style_name, fingerprint = ", ".join(names), dict(zip(names, prints))
            if base is not None:
                fingerprint = {**base_prints, **fingerprint}
            _check_styles_resumed(start.meta, checkpoint, fingerprint)
            check_resume(
                {k: v for k, v in start.meta.items() if k != "style_fingerprint"},
                checkpoint,
                settings,
                "",
                lambda size: "",
            )
        net = start.network.to(device).train()
        if len(styles) > 1 and net.styles != tuple(names):
            raise ValueError(f"network: its styles {net.styles} are not the styles given ({', '.join(names)})")
        vgg = _vgg(weights, device, quiet=rank != 0)
        check_weights(start.meta, checkpoint, vgg.weights_info.label)
        objectives = [_objective(vgg, image, settings) for image, _ in prepared_styles]
        meta = _meta(settings, fingerprint, style_name, vgg, net, dataset, data)
        ddp = torch.nn.parallel.DistributedDataParallel
        model = ddp(net, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else net
        frozen = []
        if base is not None:
            trained, frozen = _only_rows(net, names[0])
            optimizer = torch.optim.Adam(trained, lr=settings.lr, weight_decay=0)
        else:
            optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
        if start.optimizer is not None:
            optimizer.load_state_dict(start.optimizer)
        history = History(start.history)
        history.weights_label = vgg.weights_info.label
        save = _saver(checkpoint if rank == 0 else None, net, meta, optimizer, history)
        schedule = _schedule(net, names, objectives, added=base is not None)
        run = _Run(
            model, net, schedule, optimizer, dataset, history, save, start.step, rank, world, device, callback, progress
        )
        try:
            _loop(settings, run)
        finally:
            for handle in frozen:  # the network returned trains as any other
                handle.remove()
            net.requires_grad_(True)
    return net.eval(), history


@dataclasses.dataclass
class _Run:
    """What one training run steps with, besides its settings (``_loop``'s state, as torchvision's ``train_one_epoch``
    takes its model, criterion, optimizer, data loader and device)."""

    model: torch.nn.Module  # the network, or its DistributedDataParallel wrapper
    net: StyleNetwork  # the network itself (what the callback sees and the checkpoint saves)
    schedule: Callable[[int], tuple[Objective, torch.Tensor | None]]  # step -> (the loss of its style, its mix)
    optimizer: torch.optim.Optimizer
    dataset: torch.utils.data.Dataset
    history: History  # appended to, step by step
    save: Callable[[int], None]  # the checkpoint after a step (nothing on ranks other than 0)
    start: int  # the first step (0, or the checkpoint's when resuming)
    rank: int
    world: int
    device: torch.device
    callback: Callback | None
    progress: bool


def _loop(settings: TrainingSettings, run: _Run) -> None:
    """Step from ``run.start`` to ``settings.steps``, checkpointing every ``checkpoint_every`` steps and at the end."""
    from tqdm.auto import tqdm

    steps, batch, seed, start, history = settings.steps, settings.batch, settings.seed, run.start, run.history
    per_epoch = batches_per_epoch(run.dataset, batch, run.world)
    shown = run.progress and run.rank == 0
    bar = tqdm(total=steps, initial=start, desc="train", disable=not shown, leave=False)
    step, started = start, time.perf_counter()
    pinned = run.device.type == "cuda"  # page-locked batches copy to the GPU while it computes
    try:
        while step < steps:
            epoch, skip = divmod(step, per_epoch)
            loader = photo_loader(
                run.dataset,
                batch,
                epoch=epoch,
                skip=skip,
                seed=seed,
                rank=run.rank,
                world=run.world,
                workers=settings.workers,
                pin_memory=pinned,
            )
            for photos in loader:
                losses = _step(
                    run, settings, photos.to(run.device, non_blocking=pinned), seed=(seed, run.rank, step), step=step
                )
                history.append({"step": step, **losses})
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{losses['total']:.4g}")
                if shown and step - start == ESTIMATE_AFTER and step < steps:
                    left = _estimate(time.perf_counter() - started, ESTIMATE_AFTER, steps - step, run.device)
                    bar.write(left, file=sys.stderr)
                if step % settings.checkpoint_every == 0 and step < steps:
                    run.save(step)
                asked = run.callback is not None and bool(run.callback(step - 1, losses, run.net))
                if _any_process(asked, run.world, run.device):
                    history.interrupted = True
                if history.interrupted or step >= steps:
                    break
            if history.interrupted:
                break
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        bar.close()
    run.save(len(history) and history[-1]["step"] + 1)


ESTIMATE_AFTER = 3
"""The time left is estimated from the first steps (the very first is slower: it sets up the convolutions)."""


def _estimate(seconds: float, done: int, left: int, device: torch.device) -> str:
    """The line ``train`` prints after its first steps: the time per step here, and how long the rest takes.

    >>> _estimate(6.0, 3, 247, torch.device("cpu"))
    'train: 2.00 s per step on cpu; the other 247 steps take about 8 minutes'
    """
    per = seconds / done
    return f"train: {per:.2f} s per step on {device}; the other {left} steps take about {duration(per * left)}"


def _any_process(asked: bool, world: int, device: torch.device) -> bool:
    """Whether this process or any other asked to stop. Distributed, every process must stop after the same step (the
    next one waits for all of them), so the flag is shared with an all-reduce (its maximum) after every step."""
    if world <= 1:
        return asked
    flag = torch.tensor([1.0 if asked else 0.0], device=device)
    torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
    return bool(flag.item())


def _step(
    run: _Run, settings: TrainingSettings, photos: torch.Tensor, seed=(0, 0, 0), step: int = 0
) -> dict[str, float]:
    """One Adam step on a batch: the photos are their own content targets. Returns the batch-mean losses.

    With a temporal weight, each photo also goes through the network as a second view, a random known motion and
    fresh noise away (``TEMPORAL_MOTION``, ``TEMPORAL_NOISE``; drawn from ``seed``, so a resumed run draws the same),
    in the same batch; the temporal term, added to the objective here, compares the two outputs
    (``video/temporal.py``)."""
    objective, mix = run.schedule(step)
    if settings.temporal_weight:
        generator = torch.Generator().manual_seed(hash(seed) & (2**63 - 1))
        motion = Motion.random(len(photos), generator=generator, **TEMPORAL_MOTION)
        noise = TEMPORAL_NOISE * torch.randn(photos.shape, generator=generator).to(photos.device)
        moved_photos = (motion(photos)[0] + noise).clamp(0, 1)
        output, moved_output = run.model(torch.cat([photos, moved_photos]), mix).split(len(photos))
        term = TemporalTerm(moved_output, motion, form=settings.temporal_form, photos=photos, moved_photos=moved_photos)
        objective = objective.with_term("temporal", term, weight=settings.temporal_weight)
    else:
        output = run.model(photos, mix)
    losses = objective.with_content(photos)(output)
    run.optimizer.zero_grad(set_to_none=True)
    losses["total"].mean().backward()  # DistributedDataParallel averages the gradients over the processes here
    run.optimizer.step()
    means = torch.stack([v.detach().float().mean() for v in losses.values()])
    if run.world > 1:  # the history holds the losses of the whole batch, over every process
        torch.distributed.all_reduce(means)
        means /= run.world
    return dict(zip(losses, means.tolist()))


@contextlib.contextmanager
def _process_group(device: torch.device):
    """``(rank, world size, device)`` of this process. Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment)
    it joins the process group (NCCL on GPUs, gloo on CPUs), one GPU per process (``LOCAL_RANK``), and leaves it
    at the end. Everything distributed is here and in three lines of the training: the model wrapped in
    DistributedDataParallel, each process's share of the photos (``photo_loader``), rank 0 alone saving and
    showing progress."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 and not dist.is_initialized():
        yield 0, 1, device
        return
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    owner = not dist.is_initialized()  # a caller's own process group is left to the caller
    if owner:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield dist.get_rank(), dist.get_world_size(), device
    finally:
        if owner:
            dist.destroy_process_group()


def _saver(path, net, meta: dict, optimizer, history: History) -> Callable[[int], None]:
    """``save(step)``: the checkpoint at ``path`` (nothing when None: no file asked, or not rank 0)."""

    def save(step: int) -> None:
        if path is not None and step > 0:
            training = {"step": step, "optimizer": optimizer.state_dict(), "history": list(history)}
            save_checkpoint(path, net, {**meta, "steps": step}, training)

    return save


def _fresh(settings: TrainingSettings, network: StyleNetwork | None, styles: list[str] | None = None) -> Start:
    """A fresh start: ``network``, or a new one of the settings' shape (of ``styles``) whose weights ``seed`` draws."""
    if network is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed)
            network = StyleNetwork(**{**DEFAULT, **settings.shape}, **({"styles": styles} if styles else {}))
    return Start(0, network)


def _schedule(net: StyleNetwork, names: list[str], objectives: list[Objective], added: bool):
    """``schedule(step)``: the objective and one-hot mix the step trains. N styles take turns, ``step % N`` (a
    function of the step alone: a resumed run trains the same sequence); an added style (``base``) trains alone.

    >>> net = StyleNetwork(width=0.25, blocks=1, styles=["a", "b"])
    >>> schedule = _schedule(net, ["a", "b"], ["loss a", "loss b"], added=False)
    >>> [(o, m.tolist()) for o, m in map(schedule, range(3))]
    [('loss a', [1.0, 0.0]), ('loss b', [0.0, 1.0]), ('loss a', [1.0, 0.0])]
    """
    if net.styles is None:
        return lambda step: (objectives[0], None)
    mixes = [net.mix_for(name) for name in names]
    if added:
        return lambda step: (objectives[0], mixes[0])
    return lambda step: (objectives[step % len(objectives)], mixes[step % len(objectives)])


def _added(base, name: str) -> tuple[StyleNetwork, dict]:
    """The base network (a checkpoint or a StyleNetwork) with style ``name`` added, and its styles' fingerprints."""
    from .checkpoint import load_network

    net = load_network(base) if isinstance(base, (str, os.PathLike)) else base
    if not isinstance(net, StyleNetwork):
        raise ValueError(f"base must be a checkpoint file or a StyleNetwork, got {type(base).__name__}")
    meta = dict(getattr(net, "meta", None) or {})
    if net.styles is None:
        recorded = meta.get("style")
        if not recorded:
            raise ValueError(
                "base: this one-style network records no style name; make it a network of styles first "
                "(network.as_conditional(NAME))"
            )
        old = Path(str(recorded)).stem
        net = net.as_conditional(old)
        prints = {old: meta["style_fingerprint"]} if "style_fingerprint" in meta else {}
    else:
        prints = dict(meta.get("style_fingerprints") or {})
    if name in net.styles:
        raise ValueError(f"base: the network already has a style {name!r} (its styles: {', '.join(net.styles)})")
    return net.with_style(name), prints


def _only_rows(net: StyleNetwork, name: str) -> tuple[list[torch.nn.Parameter], list]:
    """Freeze every parameter of ``net`` but style ``name``'s rows of γ and β: the other parameters stop needing
    gradients, and a hook zeroes the other rows' gradients. Returns the (N, C) parameters that hold the rows (Adam
    without weight decay leaves a row whose gradient is always 0 exactly as it was) and the hooks' handles."""
    rows = net.style_parameters(name)
    shared = {id(r.parameter): r for r in rows}
    for parameter in net.parameters():
        parameter.requires_grad_(id(parameter) in shared)
    handles = []
    for row in rows:
        mask = torch.zeros_like(row.parameter)
        mask[row.row] = 1
        handles.append(row.parameter.register_hook(lambda grad, mask=mask: grad * mask))
    return [r.parameter for r in rows], handles


def _style_label(style) -> str:
    """A style's name in a network of several: the bundled name or the file's stem ("tensor" for an image tensor)."""
    return "tensor" if isinstance(style, torch.Tensor) else Path(str(style)).stem


def _check_styles_resumed(meta: dict, path, fingerprints: dict) -> None:
    """When resuming a network of several styles: the same styles, by name and fingerprint (one-line error)."""
    if not meta:
        return
    recorded = meta.get("style_fingerprints")
    if recorded != fingerprints:
        was = ", ".join(recorded) if isinstance(recorded, dict) else repr(meta.get("style"))
        raise ValueError(
            f"checkpoint {str(path)!r} was trained on the styles {was}, not {', '.join(fingerprints)} "
            "(or their images changed); resume it with those styles, or train a new network"
        )


def _dataset(data, size: int, length: int, seed: int) -> torch.utils.data.Dataset:
    """The training photos as a :class:`PhotoDataset` (or the caller's own Dataset, as it is)."""
    if isinstance(data, torch.utils.data.Dataset):
        return data
    if data is None:
        photos = training_photos()
    elif isinstance(data, (str, os.PathLike)):
        photos = folder_photos(data)
    elif isinstance(data, (list, tuple)):
        photos = [Path(p) for p in data]
        missing = [str(p) for p in photos if not p.is_file()]
        if not photos or missing:
            what = "no photos given" if not photos else f"no such file {missing[0]!r}"
            raise ValueError(f"data: {what}; give photo files, a folder, or None")
    else:
        raise ValueError(
            f"data must be None, a folder, a list of photo files or a torch Dataset, not {type(data).__name__}"
        )
    return PhotoDataset(photos, size, length=length, seed=seed)


def _vgg(weights, device: torch.device, quiet: bool) -> VGG19Features:
    """VGG19 on ``device``, with a loud warning when its weights are random."""
    vgg = on_device(weights, device) if isinstance(weights, VGG19Features) else get_vgg(weights, device=device)
    if not vgg.weights_info.pretrained and not quiet:
        message = (
            f"training a style network with {vgg.weights_info.label}: the network learns to match an UNTRAINED "
            "network's features and will NOT learn a real style. Use ImageNet weights (python -m tutorial_style "
            "fetch-weights) for a network worth using."
        )
        warnings.warn(RandomWeightsWarning(message), stacklevel=3)
        print(f"WARNING: {message}", file=sys.stderr)
    return vgg


def _style(style, size: int, device: torch.device) -> tuple[torch.Tensor, str]:
    """The artwork as a size x size image (its central square, resized: no distortion), and its name.

    ``size`` is ``style_size``: the scale of the texture the network learns (``_objective`` evens out the number of
    positions the Gram matrices of eq. 3 sum over, when it is not the crops' size)."""
    name = "tensor" if isinstance(style, torch.Tensor) else Path(str(style)).name
    image = load_image(style, size=2 * size)
    h, w = image.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize_to(image[..., top : top + side, left : left + side], (size, size)).to(device), name


def _objective(vgg: VGG19Features, artwork: torch.Tensor, settings: TrainingSettings) -> Objective:
    """The loss of one style (eqs. 1-7) for crops of ``size`` px, with the artwork's Gram matrices taken at its own
    size (``style_size``; the content targets are each batch's photos, ``Objective.with_content``).

    G and A of eq. 4 are sums over positions, so an artwork of another size than the crops has its A scaled by the
    crops' positions over its own: both then sum as many (Johnson et al. divide every Gram matrix by C H W)."""
    objective = Objective.for_images(
        vgg,
        torch.zeros_like(artwork),  # at the artwork's size: for_images would resize the artwork to the content's
        artwork,
        content_layers=settings.content_layers,
        style_layers=settings.style_layers,
        alpha=settings.alpha,
        beta=settings.beta,
        tv_weight=settings.tv_weight,
    )
    if artwork.shape[-1] != settings.size:
        beta, term = objective.terms["style"]
        crops = objective.features(artwork.new_zeros(1, 3, settings.size, settings.size), term.layers)
        own = objective.features(artwork, term.layers)
        scaled = {n: a * (crops[n][0, 0].numel() / own[n][0, 0].numel()) for n, a in term.targets.items()}
        objective.terms["style"] = (beta, StyleTerm(scaled, term.weights))
    return objective


def _fingerprint(style) -> str:
    """The artwork's fingerprint, taken from the image as loaded, at its own size: the same style at another training
    size has the same fingerprint."""
    return digest(load_image(style))


def _meta(settings: TrainingSettings, fingerprint, style_name: str, vgg, net, dataset, data) -> dict:
    """What made the network, for its checkpoint (``load_network(path).meta``; the keys of older checkpoints). Of
    several styles: ``style`` their names joined, ``style_fingerprints`` {name: fingerprint} (``styles``, in the
    mix's order, comes with the network's config)."""
    if data is None:
        described = "default photos"
    elif isinstance(data, (str, os.PathLike)):
        described = str(data)
    else:
        described = type(data).__name__
    s = settings
    prints = (
        {"style_fingerprints": fingerprint} if isinstance(fingerprint, dict) else {"style_fingerprint": fingerprint}
    )
    return {
        "style": style_name,
        **prints,
        "alpha": s.alpha,
        "beta": s.beta,
        "tv_weight": s.tv_weight,
        "temporal_weight": s.temporal_weight,
        "temporal_form": s.temporal_form,
        "content_layers": list(s.content_layers),
        "style_layers": list(s.style_layers),
        "weights": vgg.weights_info.label,
        "pretrained": bool(vgg.weights_info.pretrained),
        "size": s.size,
        "style_size": s.style_size,
        "batch": s.batch,
        "lr": float(s.lr),
        "seed": s.seed,
        "data": described,
        "photos": len(getattr(dataset, "photos", dataset)),
        **net.config,
    }
