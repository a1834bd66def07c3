"""Stylising with a trained network: one forward pass per image, no optimisation.

The paper's method runs hundreds of loss-and-gradient evaluations through VGG19 for each new image; a trained
:class:`~tutorial_style.realtime.network.StyleNetwork` needs one pass through itself. Here it is applied to image
tensors (:func:`stylize_images`, batched, on any device, images of any size) and to a folder of photos
(:func:`stylize_folder`) and to the frames of a video (:func:`stylize_video`; ``video/frames.py`` reads and writes
them). No gradients are kept (``torch.inference_mode``) and every file is written atomically
(``images.save_image``).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import torch
from PIL import Image

from ..files import OutputPathError, prepare_folder
from ..images import ImageError, load_image, save_image
from ..vgg import on_device
from ..video.frames import VideoResult, transform_video
from .network import StyleNetwork

__all__ = ["stylize_images", "stylize_folder", "stylize_video", "FolderResult", "trained_with", "in_eval"]


def trained_with(meta: Mapping | None) -> str:
    """What a network's checkpoint says trained it (``load_network(path).meta``), as one line; loud when the VGG19
    that computed its training loss had random weights, for then the network learnt no painting's style.

    >>> trained_with({"style": "mosaic", "weights": "ImageNet (torchvision VGG19_Weights.IMAGENET1K_V1)", "pretrained": True, "steps": 2000})
    "style 'mosaic', 2000 steps, VGG19 weights: ImageNet (torchvision VGG19_Weights.IMAGENET1K_V1)"
    >>> trained_with({"style": "mosaic", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False})
    "style 'mosaic', VGG19 weights: RANDOM weights (seed 0), not pretrained (so it learnt NO painting's style)"
    >>> trained_with({})
    'UNKNOWN style and VGG19 weights (the checkpoint does not say)'
    >>> trained_with({"style": "mosaic, swirls", "steps": 8000, "loss network": "trained with ImageNet VGG16 features"})
    "style 'mosaic, swirls', 8000 steps (trained with ImageNet VGG16 features)"
    """  # noqa: E501
    meta = dict(meta or {})
    if "weights" not in meta and not meta.get("loss network"):
        return "UNKNOWN style and VGG19 weights (the checkpoint does not say)"
    parts = [f"style {meta['style']!r}"] if meta.get("style") else []
    parts += [f"{meta['steps']} steps"] if meta.get("steps") is not None else []
    if meta.get("loss network"):  # a shipped network (shipped/): its loss network, as every place shows it
        return f"{', '.join(parts)} ({meta['loss network']})"
    line = ", ".join(parts + [f"VGG19 weights: {meta['weights']}"])
    return line if meta.get("pretrained", False) else line + " (so it learnt NO painting's style)"


def stylize_images(
    network: StyleNetwork,
    images: torch.Tensor | Sequence[torch.Tensor],
    *,
    batch_size: int = 4,
    device=None,
    mix=None,
) -> torch.Tensor | list[torch.Tensor]:
    """``images`` through ``network``, ``batch_size`` at a time, without gradients; the results on the CPU.

    ``images`` is a tensor (B, 3, H, W) or (3, H, W) in [0, 1], and the result has its shape; or a list of image
    tensors of any sizes, and the result is a list of (1, 3, H, W) tensors in the same order (images of one size
    are batched together). ``device``: where to run (a copy of the network goes there; the caller's stays where it
    is, in the mode it is in); default the network's own. ``mix``: for a network of several styles, the styles'
    weights (``network.mix_for(NAME or {name: weight})``; see ``StyleNetwork.forward``).

    >>> net = StyleNetwork(width=0.25, blocks=1)
    >>> stylize_images(net, torch.rand(3, 3, 20, 30)).shape
    torch.Size([3, 3, 20, 30])
    >>> [tuple(x.shape) for x in stylize_images(net, [torch.rand(3, 9, 7), torch.rand(1, 3, 16, 16)])]
    [(1, 3, 9, 7), (1, 3, 16, 16)]
    """
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be a whole number of at least 1, got {batch_size!r}")
    network = network if device is None else on_device(network, device)  # once, not per batch
    if isinstance(images, torch.Tensor):
        batch = load_image(images)  # checks the shape and the [0, 1] range
        out = torch.cat([_forward(network, part, mix) for part in batch.split(batch_size)])
        return out[0] if images.dim() == 3 else out
    images = [load_image(image) for image in images]
    results: list[torch.Tensor | None] = [None] * len(images)
    by_shape: dict[tuple, list[int]] = {}
    for i, image in enumerate(images):
        if image.shape[0] != 1:
            raise ValueError(
                f"image {i} of the list is a batch of {image.shape[0]}; give one image per entry, or one tensor"
            )
        by_shape.setdefault(tuple(image.shape), []).append(i)
    for indices in by_shape.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            out = _forward(network, torch.cat([images[i] for i in chunk]), mix)
            for i, image in zip(chunk, out):
                results[i] = image[None]
    return results


def stylize_video(
    network: StyleNetwork,
    source: str | os.PathLike,
    target: str | os.PathLike,
    *,
    batch_size: int = 4,
    device=None,
    progress: bool = True,
    temporal_blend: float = 0.0,
    mix=None,
) -> VideoResult:
    """The video ``source`` with every frame through ``network``, written to ``target`` at the same frame rate and
    size (without its sound): :func:`~tutorial_style.video.frames.transform_video` with the network's pass.
    ``batch_size`` frames go through the network at a time, on ``device`` (default the network's).
    ``temporal_blend`` > 0 blends each styled frame with the previous one along the input's motion
    (:class:`~tutorial_style.video.smoothing.TemporalBlend`; off by default). A file that is not a readable video
    raises a one-line :class:`~tutorial_style.video.frames.VideoError`. ``mix``: as for :func:`stylize_images`."""
    network = network if device is None else on_device(network, device)  # once: the caller's network stays where it is
    return transform_video(
        source,
        target,
        lambda frames: stylize_images(network, frames, batch_size=batch_size, mix=mix),
        batch_size=batch_size,
        progress=progress,
        temporal_blend=temporal_blend,
    )


@dataclass
class FolderResult:
    """What :func:`stylize_folder` did: the files written, and the files skipped with the reason."""

    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def stylize_folder(
    network: StyleNetwork,
    source: str | os.PathLike,
    target: str | os.PathLike,
    *,
    size: int | None = None,
    batch_size: int = 4,
    device=None,
    progress: bool = True,
    mix=None,
) -> FolderResult:
    """Every image file in the folder ``source`` (not its subfolders) through ``network``, written to the folder
    ``target`` under the same name (as PNG, name.png, where that format cannot be written). Files that are not
    readable images are skipped and listed in the result. ``size``: the longer side first (default: as they are).
    ``mix``: as for :func:`stylize_images`.

    Each image is written atomically as soon as its batch is done, so an interrupted run leaves whole files only.
    """
    source, target = Path(source), Path(target)
    if not source.is_dir():
        raise ImageError(f"{str(source)!r}: not a folder of images")
    if target.exists() and target.resolve() == source.resolve():
        raise OutputPathError(
            f"the output folder {str(target)!r} is the input folder; give another, so that the photos are kept"
        )
    prepare_folder(target)  # creates the folder and checks that it can be written, before any work
    network = network if device is None else on_device(network, device)
    files = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    result, pending = FolderResult(), []
    for path in _progress(files, progress):
        try:
            image = load_image(path, size=size)
        except ImageError as e:
            result.skipped.append((path, str(e).removeprefix(f"{str(path)!r}: ")))
            continue
        if pending and (pending[0][1].shape != image.shape or len(pending) == batch_size):
            result.written += _write(network, pending, target, mix)
        pending.append((path, image))
    if pending:
        result.written += _write(network, pending, target, mix)
    return result


def _write(network, pending: list[tuple[Path, torch.Tensor]], target: Path, mix=None) -> list[Path]:
    """The pending images (all of one size) through the network as one batch, each saved; the list emptied."""
    out = _forward(network, torch.cat([image for _, image in pending]), mix)
    written = [save_image(image[None], target / _output_name(path)) for (path, _), image in zip(pending, out)]
    pending.clear()
    return written


def _output_name(path: Path) -> str:
    """The same name where Pillow can write that format, else the same name with .png."""
    fmt = Image.registered_extensions().get(path.suffix.lower())
    return path.name if fmt in Image.SAVE else path.name + ".png"


def _forward(network: StyleNetwork, batch: torch.Tensor, mix=None) -> torch.Tensor:
    """One batch through the network where it is, in eval mode, without gradients; the result on the CPU."""
    with torch.inference_mode(), in_eval(network):
        batch = batch.to(next(network.parameters()).device, torch.float32)
        return (network(batch) if mix is None else network(batch, mix)).float().cpu()  # any module of one input too


@contextlib.contextmanager
def in_eval(network: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """The network in eval mode for the block, then back in the mode it was in (a caller's network is left as it was).

    >>> net = StyleNetwork(width=0.25, blocks=1).train()
    >>> with in_eval(net):
    ...     net.training
    False
    >>> net.training
    True
    """
    was_training = network.training
    network.eval()
    try:
        yield network
    finally:
        network.train(was_training)


def _progress(items: list, show: bool):
    if not show or len(items) < 2:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc="stylising", unit="image")
