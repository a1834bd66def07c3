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

Runs unchanged under ``torchrun --nproc_per_node=K -m tutorial_style train ...``: see :func:`_process_group`.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Mapping, Sequence

import torch

from ..video.temporal import TEMPORAL_FORMS, Motion, TemporalTerm
from ..cost import duration
from ..images import load_image, resize_to
from ..layers import PAPER_STYLE_LAYERS, check_layer_list, min_input_size
from ..objective import Objective
from ..files import digest
from .. import settings
from ..settings import check_factor, check_whole
from ..vgg import check_device, get_vgg, on_device, VGG19Features
from ..weights import RandomWeightsWarning
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .data import PhotoDataset, batches_per_epoch, folder_photos, photo_loader, training_photos
from .network import DEFAULT, SLIM, StyleNetwork

__all__ = [
    "train_network", "History", "PRESETS", "JOHNSON_CONTENT_LAYERS", "ALPHA_AT_512", "default_alpha", "BETA", "TV_WEIGHT", "LR",
    "CHECKPOINT_EVERY", "SEED", "TEMPORAL_WEIGHT", "TEMPORAL_WEIGHT_FOR_VIDEO", "TEMPORAL_FORM", "TEMPORAL_MOTION", "TEMPORAL_NOISE",
    "FIXED_ON_RESUME", "recorded_options",
]  # fmt: skip

JOHNSON_CONTENT_LAYERS = ("relu2_2",)
ALPHA_AT_512 = 6e-8
"""Content weight alpha on relu2_2 for 512 x 512 px crops (with :data:`BETA` = 1); :func:`default_alpha` scales it to
the crop's size: 9.6e-7 at the CPU preset's 128 px. Chosen by measurement with real ImageNet features (the
development stand-in, judged on the held-out photos at 256 px after 100 steps of the CPU preset; docs/performance.md):
alpha = 1e-7 at 128 px lost the cat in mosaic tiles (content distance 2.3), 3e-6 mostly recoloured the photos (style
distance 0.84 -> 0.71), 1e-6 stylised them and kept them recognisable (0.84 -> 0.55, content distance 1.1). The
earlier 1e-4, the paper's alpha/beta carried over from random weights, returned the photos nearly unchanged."""


def default_alpha(size: int) -> float:
    """The content weight alpha for square crops of ``size`` px: :data:`ALPHA_AT_512` scaled with 1 / (pixels).

    L_content (eq. 1) is a sum over the positions of relu2_2, so it grows with the pixel count, while the style
    loss E_l (eq. 4) is normalised by M_l^2 and does not: the same balance of content and style needs alpha in
    proportion to 1 / (pixels), the rule of the optimisation's default (``settings.default_alpha``, on relu4_2).

    >>> default_alpha(512) == ALPHA_AT_512, round(default_alpha(128) / default_alpha(256), 6)
    (True, 4.0)
    """
    return settings.default_alpha(size, size, at_512=ALPHA_AT_512)


BETA = 1.0
"""Style weight beta, as in ``Settings``."""
TV_WEIGHT = 1e-3
"""Total-variation weight, on squared differences of [0, 1] pixels: a 128 px photo's L_tv is about 100, so the
prior weighs about 0.1, a few per cent of the total; it removes the speckle a young network makes."""
LR = 1e-3
"""Adam's learning rate, Johnson et al.'s."""
TEMPORAL_WEIGHT = 0.0
"""The temporal term's weight by default (``train --temporal-weight W``; ``video/temporal.py``): 0, none, as
Johnson et al.: each frame styled on its own."""
TEMPORAL_WEIGHT_FOR_VIDEO = 30.0
"""The temporal weight for a network meant for video (``train --temporal-weight 30``), chosen on the test clips that
are not held out (``video/clips.py``), real features, the CPU preset: the largest of 30, 50 and 100 whose style
loss L_style rose by at most 10 % on average over those clips (+8.5 %; 50: +12.2 %, 100: +20.8 %); it cut their
warping error to 0.38-0.50 x the per-frame network's (docs/performance.md; ``benchmarks/video.py``)."""
TEMPORAL_FORM = "warp"
"""The temporal term's form: the output of the moved view must be the moved output. Chosen by measurement over
the frame-difference form (the outputs must differ as the inputs do): at the same weight (100) and steps, on the
clips for choosing, the warp form cut the warping error further (to 0.13-0.35 x, against 0.09-0.57 x) and cost half
the style (judged style distance +7-12 %, against +18-28 %): under a motion the stylised picture moves, it does not
change as the photo's pixels do, so the frame difference asks for the wrong thing at every moving edge."""
TEMPORAL_MOTION = {"shift": 3.0, "turn": 1.0, "zoom": 0.02}
"""The second view's random motion (``Motion.random``): up to 3 px, 1 degree, 2 % between two frames."""
TEMPORAL_NOISE = 0.02
"""The second view's fresh Gaussian noise (standard deviation, [0, 1] pixels): a camera's, a codec's."""
CHECKPOINT_EVERY = 100
"""Training steps between two checkpoints."""
SEED = 0
"""The seed of the network's start, the photos' order and their crops."""

# Named training settings. "cpu": a network that visibly stylises photos it never saw, within 10 minutes on a 2-core
# laptop: 300 steps of 2 crops of 128 px, about 0.8 s of CPU time a step (one thread; benchmarks/realtime.py --sections
# judged; docs/performance.md has what it reaches, measured with real features). "johnson": Johnson et al.'s run
# (256 px crops, batch 4, 40,000 steps, two epochs of COCO), for a GPU and a large folder of photos.
PRESETS = {
    "cpu": {"size": 128, "batch": 2, "steps": 300, **DEFAULT},
    "johnson": {"size": 256, "batch": 4, "steps": 40_000, "width": 1.0, "blocks": 5},
}
# "web": the web page's slim network (network.SLIM, depthwise separable), trained as "cpu" is; each step is a little
# faster than "cpu"'s (the loss, VGG19's passes, costs most of a step).
PRESETS["web"] = {**{k: v for k, v in PRESETS["cpu"].items() if k not in DEFAULT}, **SLIM}

FIXED_ON_RESUME = ("alpha", "beta", "tv_weight", "temporal_weight", "temporal_form", "content_layers", "style_layers", "lr", "batch", "seed")
"""What a resumed training must keep: the loss, the optimiser and the photos' order. The size of the crops and the
number of steps may change on resume (so may the photos, the device and the checkpoints' spacing)."""

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


def train_network(
    style, *, data=None, steps: int = PRESETS["cpu"]["steps"], size: int = PRESETS["cpu"]["size"],
    batch: int = PRESETS["cpu"]["batch"], lr: float = LR, alpha: float | None = None, beta: float = BETA,
    tv_weight: float = TV_WEIGHT, temporal_weight: float = TEMPORAL_WEIGHT, temporal_form: str = TEMPORAL_FORM, content_layers: Sequence[str] = JOHNSON_CONTENT_LAYERS,
    style_layers: Sequence[str] = PAPER_STYLE_LAYERS, width: float | None = None, blocks: int | None = None,
    separable: bool | None = None, network: StyleNetwork | None = None, weights="auto", device=None, callback: Callback | None = None,
    checkpoint: str | os.PathLike | None = None, checkpoint_every: int = CHECKPOINT_EVERY, resume: bool = False, seed: int = SEED,
    workers: int = 0, progress: bool = True,
) -> tuple[StyleNetwork, History]:  # fmt: skip
    """Train a :class:`StyleNetwork` to render photos in the style of ``style``; returns ``(network, history)``.

    ``style``: an artwork (a file, a bundled name or an image tensor). ``data``: None (the bundled photos and
    those installed packages ship, :mod:`~tutorial_style.realtime.data`), a folder of photos (recursive), a list
    of photo files, or a torch ``Dataset`` of (3, size, size) images. Each step takes ``batch`` random crops of
    ``size`` px (per process, when distributed) and takes one Adam step at learning rate ``lr``. ``workers``: processes
    that decode and crop the photos while the network trains (a DataLoader's ``num_workers``; 0 decodes them in this
    process, enough on a CPU; on a GPU, as torchvision's reference scripts do, several); the crops stay those of
    (seed, epoch, photo), whatever the number.

    The loss: ``alpha`` L_content on ``content_layers`` (default Johnson's relu2_2), ``beta`` L_style on
    ``style_layers`` (the paper's), ``tv_weight`` L_tv, and ``temporal_weight`` L_temporal (a second view of each
    photo, a small known motion and fresh noise away, of form ``temporal_form``: ``video/temporal.py``; against
    flicker in video). Defaults: ``alpha`` = :func:`default_alpha` of ``size`` (9.6e-7 at 128 px: L_content is a
    sum over positions, so alpha scales with 1 / pixels), ``beta=1``, ``tv_weight=1e-3`` (:data:`TV_WEIGHT`),
    ``temporal_weight=0`` (:data:`TEMPORAL_WEIGHT`; :data:`TEMPORAL_WEIGHT_FOR_VIDEO` for a network meant for video),
    and :data:`LR`.
    The defaults of ``steps``, ``size`` and ``batch`` are ``PRESETS["cpu"]``: minutes on a laptop.

    ``width``/``blocks``/``separable`` size a new network (default :data:`~tutorial_style.realtime.network.DEFAULT`;
    Johnson's is width 1.0; the web page's slim one, ``PRESETS["web"]``, is separable); ``network`` trains a given one instead. ``weights``: VGG19's, as everywhere (random weights
    are warned about loudly: the network then learns an untrained network's idea of style, not a real one).

    ``callback(step, losses, network)`` is called after every step (for live previews); returning True stops the
    run, as for ``stylize``'s callback (None or False goes on), and so does Ctrl-C (KeyboardInterrupt): the network
    is kept and returned, ``history.interrupted`` set. Under ``torchrun`` a stop asked by any process stops them all
    after the same step. ``checkpoint``: a file written every ``checkpoint_every`` steps and at the end (also when
    stopped), with what made the network and the training state; ``resume=True`` continues from it (step count,
    optimiser state, history; ``steps`` is the total to reach). On resume ``size`` and ``steps`` may change; the
    settings of :data:`FIXED_ON_RESUME`, the style and VGG19's weights must be the checkpoint's (an error names
    the one that differs; ``alpha`` left out is the checkpoint's, whatever the size). ``seed`` fixes the network's start, the photos' order and crops.
    """
    args = _checked(locals())
    with _process_group(args["device"]) as (rank, world, device):
        dataset = _dataset(data, args["size"], args["batch"] * world, seed)
        if batches_per_epoch(dataset, args["batch"], world) == 0:
            processes = f" x {world} processes" if world > 1 else ""
            raise ValueError(f"data has {len(dataset)} item(s), fewer than a batch of {args['batch']}{processes}; give at least "
                             f"{args['batch'] * world} photos, or a smaller batch")  # fmt: skip
        start, net, opt_state, history = _start(args, network)
        style_image, style_name = _style(style, args["size"], device)
        fingerprint = _fingerprint(style)
        _check_resume(args, style, fingerprint)
        net = net.to(device).train()
        vgg = _vgg(weights, device, quiet=rank != 0)
        recorded = args["resume_meta"].get("weights")
        if recorded is not None and recorded != vgg.weights_info.label:
            raise ValueError(f"checkpoint {str(checkpoint)!r} was trained with VGG19 weights {recorded!r}, not {vgg.weights_info.label!r}; "
                             "resume it with the same weights (--weights), or train a new network")  # fmt: skip
        objective = Objective.for_images(
            vgg, torch.zeros(1, 3, args["size"], args["size"], device=device), style_image,
            content_layers=args["content_layers"], style_layers=args["style_layers"], alpha=args["alpha"],
            beta=args["beta"], tv_weight=args["tv_weight"], temporal_weight=args["temporal_weight"],
            temporal_form=args["temporal_form"],
        )  # fmt: skip
        meta = _meta(args, fingerprint, style_name, vgg, net, dataset, data)
        model = torch.nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else net
        optimizer = torch.optim.Adam(net.parameters(), lr=args["lr"])
        if opt_state is not None:
            optimizer.load_state_dict(opt_state)
        history = History(history)
        history.weights_label = vgg.weights_info.label
        save = _saver(checkpoint if rank == 0 else None, net, meta, optimizer, history)
        _loop(model, net, objective, optimizer, dataset, history, save, start, args, rank, world, device, callback)
    return net.eval(), history


def _loop(model, net, objective, optimizer, dataset, history, save, start, args, rank, world, device, callback) -> None:
    """Step from ``start`` to ``args["steps"]``, checkpointing every ``checkpoint_every`` steps and at the end."""
    from tqdm.auto import tqdm

    steps, batch, seed = args["steps"], args["batch"], args["seed"]
    per_epoch = batches_per_epoch(dataset, batch, world)
    shown = args["progress"] and rank == 0
    bar = tqdm(total=steps, initial=start, desc="train", disable=not shown, leave=False)
    step, started = start, time.perf_counter()
    pinned = device.type == "cuda"  # page-locked batches copy to the GPU while it computes
    try:
        while step < steps:
            epoch, skip = divmod(step, per_epoch)
            for photos in photo_loader(dataset, batch, epoch=epoch, skip=skip, seed=seed, rank=rank, world=world,
                                       workers=args["workers"], pin_memory=pinned):  # fmt: skip
                losses = _step(model, objective, optimizer, photos.to(device, non_blocking=pinned), world, seed=(seed, rank, step))
                history.append({"step": step, **losses})
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{losses['total']:.4g}")
                if shown and step - start == ESTIMATE_AFTER and step < steps:
                    bar.write(_estimate(time.perf_counter() - started, ESTIMATE_AFTER, steps - step, device), file=sys.stderr)
                if step % args["checkpoint_every"] == 0 and step < steps:
                    save(step)
                asked = callback is not None and bool(callback(step - 1, losses, net))
                if _any_process(asked, world, device):
                    history.interrupted = True
                if history.interrupted or step >= steps:
                    break
            if history.interrupted:
                break
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        bar.close()
    save(len(history) and history[-1]["step"] + 1)


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


def _step(model, objective: Objective, optimizer, photos: torch.Tensor, world: int, seed=(0, 0, 0)) -> dict[str, float]:
    """One Adam step on a batch: the photos are their own content targets. Returns the batch-mean losses.

    With a temporal term, each photo also goes through the network as a second view, a random known motion and
    fresh noise away (``TEMPORAL_MOTION``, ``TEMPORAL_NOISE``; drawn from ``seed``, so a resumed run draws the same),
    in the same batch; the term compares the two outputs (``video/temporal.py``)."""
    if "temporal" in objective.terms:
        generator = torch.Generator().manual_seed(hash(seed) & (2**63 - 1))
        motion = Motion.random(len(photos), generator=generator, **TEMPORAL_MOTION)
        noise = TEMPORAL_NOISE * torch.randn(photos.shape, generator=generator).to(photos.device)
        moved_photos = (motion(photos)[0] + noise).clamp(0, 1)
        output, moved_output = model(torch.cat([photos, moved_photos])).split(len(photos))
        form = objective.terms["temporal"][1].form
        objective = objective.with_term("temporal", TemporalTerm(moved_output, motion, form=form, photos=photos, moved_photos=moved_photos))
    else:
        output = model(photos)
    losses = objective.with_content(photos)(output)
    optimizer.zero_grad(set_to_none=True)
    losses["total"].mean().backward()  # DistributedDataParallel averages the gradients over the processes here
    optimizer.step()
    means = torch.stack([v.detach().float().mean() for v in losses.values()])
    if world > 1:  # the history holds the losses of the whole batch, over every process
        torch.distributed.all_reduce(means)
        means /= world
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


def _checked(given: dict) -> dict:
    """The arguments, checked before any work: a bad one is a one-line ValueError naming it."""
    args = dict(given)
    args["steps"] = check_whole(given["steps"], "steps", "a positive whole number of training steps", low=1)
    args["batch"] = check_whole(given["batch"], "batch", "a positive whole number of photos per step", low=1)
    args["checkpoint_every"] = check_whole(given["checkpoint_every"], "checkpoint_every", "a positive whole number of steps", low=1)
    args["workers"] = check_whole(given["workers"], "workers", "a whole number of processes (0: decode in this one)", low=0)
    args["seed"] = check_whole(given["seed"], "seed", "a whole number from 0 to 2**63 - 1", low=0, high=2**63 - 1)
    args["content_layers"] = check_layer_list(given["content_layers"], "content_layers")
    args["style_layers"] = check_layer_list(given["style_layers"], "style_layers")
    if not args["style_layers"]:
        raise ValueError("style_layers is empty: a style network needs at least one style layer")
    smallest = max(min_input_size(args["content_layers"] + args["style_layers"]), 16)
    args["size"] = check_whole(given["size"], "size", f"a whole number of pixels, at least {smallest} for these layers", low=smallest)
    args["alpha_from_size"] = given["alpha"] is None  # a resumed run keeps its checkpoint's alpha instead (_start)
    if given["alpha"] is None:
        args["alpha"] = default_alpha(args["size"])
    if given["temporal_form"] not in TEMPORAL_FORMS:
        raise ValueError(f"temporal_form must be one of {', '.join(TEMPORAL_FORMS)}, got {given['temporal_form']!r}")
    for name in ("alpha", "beta", "tv_weight", "temporal_weight"):
        args[name] = check_factor(args[name], name)
        if isinstance(args[name], tuple):
            raise ValueError(f"{name} must be one number, got {given[name]!r}")
    if not (isinstance(given["lr"], (int, float)) and not isinstance(given["lr"], bool) and 0 < given["lr"] < math.inf):
        raise ValueError(f"lr must be a positive number (Adam's learning rate; Johnson et al. use {LR:g}), got {given['lr']!r}")
    if given["callback"] is not None and not callable(given["callback"]):
        raise ValueError(f"callback must be a function callback(step, losses, network), got {given['callback']!r}")
    if given["network"] is not None and any(given[k] is not None for k in ("width", "blocks", "separable")):
        raise ValueError("give either network or width/blocks/separable, not both")
    if given["resume"] and given["checkpoint"] is None:
        raise ValueError("resume=True needs checkpoint=PATH, the checkpoint to continue")
    args["device"] = check_device(given["device"])
    args["resume_meta"] = {}
    return args


def _start(args: dict, network: StyleNetwork | None):
    """``(first step, network, optimiser state or None, history)``: a fresh start, or the checkpoint's when resuming."""
    if not args["resume"]:
        if network is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(args["seed"])
                config = {k: args[k] for k in ("width", "blocks", "separable") if args[k] is not None}
                network = StyleNetwork(**{**DEFAULT, **config})
        return 0, network, None, []
    path = args["checkpoint"]
    entry = load_checkpoint(path)
    training = entry.get("training")
    if not isinstance(training, dict) or "optimizer" not in training:
        raise CheckpointError(f"checkpoint {str(path)!r} has no training state to resume (it holds only a network); train a new one")
    config = entry["network"]["config"]
    wanted = {"width": args["width"], "blocks": args["blocks"], "separable": args["separable"]}
    clash = {k: v for k, v in wanted.items() if v is not None and float(v) != float(config.get(k, False))}
    if clash:
        raise ValueError(f"checkpoint {str(path)!r} holds a network with {config}, not {clash}; leave width/blocks out to resume it")
    step = int(training["step"])
    if step >= args["steps"]:
        raise ValueError(f"checkpoint {str(path)!r} has already trained {step} steps; ask for more steps (steps > {step}) to resume")
    net = network if network is not None else StyleNetwork(**config)
    net.load_state_dict(entry["network"]["state_dict"])
    args["resume_meta"] = dict(entry.get("meta") or {})
    if args["alpha_from_size"] and "alpha" in args["resume_meta"]:  # the loss goes on as it was, at any size
        args["alpha"] = float(args["resume_meta"]["alpha"])
    return step, net, training["optimizer"], list(training.get("history") or [])


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
            raise ValueError(f"data: {'no photos given' if not photos else f'no such file {missing[0]!r}'}; give photo files, a folder, or None")
    else:
        raise ValueError(f"data must be None, a folder, a list of photo files or a torch Dataset, not {type(data).__name__}")
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

    The Gram matrices of eq. 3 are sums over positions, so the artwork must have the crops' number of positions,
    as the paper resizes it to the photo's size."""
    name = "tensor" if isinstance(style, torch.Tensor) else Path(str(style)).name
    image = load_image(style, size=2 * size)
    h, w = image.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize_to(image[..., top : top + side, left : left + side], (size, size)).to(device), name


def _fingerprint(style) -> str:
    """The artwork's fingerprint, taken from the image as loaded, at its own size: the same style at another training
    size has the same fingerprint."""
    return digest(load_image(style))


def _check_resume(args: dict, style, fingerprint: str) -> None:
    """When resuming: the same style, and the settings of :data:`FIXED_ON_RESUME`; a one-line error names what differs."""
    old, path = args["resume_meta"], str(args["checkpoint"])
    if not old:
        return
    if "style_fingerprint" in old:
        same = old["style_fingerprint"] == fingerprint
    elif "style_digest" in old and "size" in old:  # older checkpoints fingerprinted the artwork prepared at their size
        same = old["style_digest"] == digest(_style(style, int(old["size"]), torch.device("cpu"))[0])
    else:
        same = True
    if not same:
        raise ValueError(f"checkpoint {path!r} was trained on another style ({old.get('style')!r}); resume it with that style, "
                         "or train a new network")  # fmt: skip
    for name in FIXED_ON_RESUME:
        if name in old and not _same(old[name], args[name]):
            raise ValueError(f"checkpoint {path!r} was trained with {name}={_plain(old[name])!r}, not {name}={_plain(args[name])!r}; "
                             f"resume with the same {name}, or train a new network (size and steps may change on resume)")  # fmt: skip


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return list(a) == list(b)
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def recorded_options(path: str | os.PathLike) -> dict:
    """The training settings a checkpoint records (:data:`FIXED_ON_RESUME` and ``size``), as ``train_network``'s
    keywords: what ``train --resume`` continues with unless told otherwise."""
    meta = load_checkpoint(path).get("meta") or {}
    options = {name: meta[name] for name in (*FIXED_ON_RESUME, "size") if name in meta}
    return {name: tuple(v) if isinstance(v, list) else v for name, v in options.items()}


def _meta(args: dict, fingerprint: str, style_name: str, vgg, net, dataset, data) -> dict:
    """What made the network, for its checkpoint (``load_network(path).meta``)."""
    if data is None:
        described = "default photos"
    elif isinstance(data, (str, os.PathLike)):
        described = str(data)
    else:
        described = type(data).__name__
    return {
        "style": style_name, "style_fingerprint": fingerprint,
        "alpha": args["alpha"], "beta": args["beta"], "tv_weight": args["tv_weight"],
        "temporal_weight": args["temporal_weight"], "temporal_form": args["temporal_form"],
        "content_layers": list(args["content_layers"]), "style_layers": list(args["style_layers"]),
        "weights": vgg.weights_info.label, "pretrained": bool(vgg.weights_info.pretrained),
        "size": args["size"], "batch": args["batch"], "lr": float(args["lr"]), "seed": args["seed"],
        "data": described, "photos": len(getattr(dataset, "photos", dataset)), **net.config,
    }  # fmt: skip
