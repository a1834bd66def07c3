"""Training photos for a style network: the bundled photos and those installed packages ship, or a folder of yours.

Johnson et al. trained on the 80,000 photos of MS-COCO. COCO cannot be downloaded here, and a learner's laptop
should not need it: a network that only has to learn one style learns it from a handful of photos, seen as many
random crops, flips and scales. The default set is the bundled photos plus the natural photos that installed
packages ship (scikit-image's sample data, scikit-learn's sample images, matplotlib's sample data), found where
they are installed, without importing those packages. :data:`HELD_OUT` photos are kept out of training, to judge
the network on photos it never saw (:func:`held_out_photos`).

``data=DIR`` trains on any folder of photos instead, searched recursively; files that are not readable images
are skipped, with their count on one line. Every photo is loaded at a bounded size (its longer side
``LOAD_FACTOR`` times the training size), so a folder of 24-megapixel photos needs little memory.
"""

from __future__ import annotations

import importlib.util
import math
import os
import warnings
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from ..images import ImageError, bundled_images, load_image, readable_formats

__all__ = [
    "HELD_OUT",
    "LOAD_FACTOR",
    "PhotoDataset",
    "default_photos",
    "folder_photos",
    "held_out_photos",
    "installed_photos",
    "photo_loader",
    "training_photos",
]

HELD_OUT = ("chelsea", "coffee")
"""Bundled photos never trained on: the network is judged on them (a cat, and a cup of coffee)."""
LOAD_FACTOR = 2
"""Photos are loaded with their longer side at ``LOAD_FACTOR * size``: room for random crops and scales."""

# Natural photos that installed packages ship inside their wheels: (package, folder in it, files). Only files that
# are there are used; scikit-image's are skipped when a bundled photo has the same name (the bundled ones are
# copies of them).
_INSTALLED = (
    (
        "skimage",
        "data",
        (
            "astronaut.png",
            "chelsea.png",
            "coffee.png",
            "rocket.jpg",
            "camera.png",
            "coins.png",
            "moon.png",
            "hubble_deep_field.jpg",
            "motorcycle_left.png",
            "motorcycle_right.png",
            "brick.png",
            "grass.png",
            "gravel.png",
            "color.png",
            "ihc.png",
            "retina.jpg",
            "page.png",
        ),
    ),
    ("sklearn", "datasets/images", ("china.jpg", "flower.jpg")),
    ("matplotlib", "mpl-data/sample_data", ("grace_hopper.jpg",)),
)


def installed_photos() -> dict[str, Path]:
    """The natural photos that installed packages ship, by name (file name without suffix), where installed.

    Found with ``importlib.util.find_spec``: nothing is imported (scikit-learn and matplotlib take seconds).
    """
    found = {}
    for package, folder, files in _INSTALLED:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        for root in (spec.submodule_search_locations or []) if spec else []:
            for name in files:
                path = Path(root, folder, name)
                if path.is_file():
                    found.setdefault(path.stem, path)
    return found


def default_photos() -> dict[str, Path]:
    """Every photo of the default set by name: the bundled photos, then the installed packages' (not duplicates)."""
    photos = {name: image.path for name, image in bundled_images("content").items()}
    for name, path in installed_photos().items():
        photos.setdefault(name, path)
    return photos


def training_photos() -> list[Path]:
    """The default training set: :func:`default_photos` without the :data:`HELD_OUT` ones."""
    return [path for name, path in default_photos().items() if name not in HELD_OUT]


def held_out_photos(size: int | None = 256) -> dict[str, torch.Tensor]:
    """The photos kept out of training, by name, as images (1, 3, H, W) with their longer side ``size``.

    >>> sorted(held_out_photos(size=32))
    ['chelsea', 'coffee']
    """
    bundled = bundled_images("content")
    return {name: load_image(bundled[name].path, size=size) for name in HELD_OUT}


def folder_photos(folder: str | os.PathLike) -> list[Path]:
    """Every readable image under ``folder``, recursively, sorted; hidden files and folders are left out.

    Files that are not images this tutorial reads (checked from their header, so a large folder is quick) are
    skipped, and one line says how many, with the first one's reason. A folder without any photo is a
    one-line ValueError.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is a file, not a folder"
        raise ValueError(
            f"data folder {str(folder)!r} {what}; "
            "give a folder of photos (or leave it out to train on the bundled photos)"
        )
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    readable, skipped = [], []
    formats = readable_formats()
    for path in files:
        try:
            with Image.open(path, formats=formats):
                readable.append(path)
        except Exception:  # noqa: BLE001 - any file Pillow cannot open is "not a photo" here
            skipped.append(path)
    if not readable:
        found = f"{len(files)} file(s), none of them an image read here" if files else "no files"
        raise ValueError(f"data folder {str(folder)!r} has {found}; give a folder of photos (PNG, JPEG, WebP ...)")
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} of {len(files)} files in {str(folder)!r} that are not readable images "
            f"(first: {_why(skipped[0])})",
            stacklevel=2,
        )
    return readable


def _why(path: Path) -> str:
    try:
        load_image(path, size=8)
    except (ImageError, ValueError) as e:
        return str(e)
    return repr(str(path))


class PhotoDataset(torch.utils.data.Dataset):
    """Random ``size`` x ``size`` crops of photos, at random scales, randomly flipped: (3, size, size) in [0, 1].

    ``length`` (at least the number of photos) lets a few photos fill a batch: item i is photo i mod n, each with
    its own crop. The crop of item i depends only on ``seed``, the epoch (:meth:`set_epoch`) and i, not on which
    process or worker loads it, so a resumed or distributed run sees exactly the photos a single run would.
    Photos are read when first asked for and kept (at the bounded size) when there are few of them.
    """

    def __init__(self, photos: Sequence[str | os.PathLike], size: int, *, length: int | None = None, seed: int = 0):
        from torchvision.transforms import v2  # here, not at import: torchvision takes a second to import

        if not photos:
            raise ValueError("PhotoDataset needs at least one photo")
        self.photos, self.size, self.seed, self.epoch = [Path(p) for p in photos], int(size), int(seed), 0
        self.length = max(len(self.photos), length or 0)
        # RandomResizedCrop: a crop of 1/4 to all of the photo's area, scaled to size x size (the random scales).
        self.augment = v2.Compose(
            [v2.RandomResizedCrop(self.size, scale=(0.25, 1.0), antialias=True), v2.RandomHorizontalFlip()]
        )
        self._cache: dict[int, torch.Tensor] = {}
        self._keep = len(self.photos) <= 256

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def photo(self, i: int) -> torch.Tensor:
        """Photo ``i`` (3, H, W) at the bounded size; an unreadable one is replaced by the next, with a warning."""
        for k in range(len(self.photos)):
            j = (i + k) % len(self.photos)
            if j in self._cache:
                return self._cache[j]
            try:
                image = load_image(self.photos[j], size=LOAD_FACTOR * self.size)[0]
            except ImageError as e:
                warnings.warn(f"skipped a photo that cannot be decoded: {e}", stacklevel=2)
                continue
            if self._keep:
                self._cache[j] = image
            return image
        raise ValueError("none of the training photos can be decoded")

    def __getitem__(self, i: int) -> torch.Tensor:
        image = self.photo(i % len(self.photos))
        with torch.random.fork_rng(devices=[]):  # the crop of (seed, epoch, i), whoever asks for it
            torch.manual_seed(hash((self.seed, self.epoch, int(i))) & (2**63 - 1))
            return self.augment(image).clamp(0, 1).contiguous()


def photo_loader(
    dataset: torch.utils.data.Dataset,
    batch: int,
    *,
    epoch: int = 0,
    skip: int = 0,
    seed: int = 0,
    rank: int = 0,
    world: int = 1,
    workers: int = 0,
    pin_memory: bool = False,
) -> torch.utils.data.DataLoader:
    """One epoch of full batches of ``dataset`` for process ``rank`` of ``world``, in an order fixed by ``seed``
    and ``epoch``, starting after its first ``skip`` batches (to resume mid-epoch).

    A :class:`~torch.utils.data.distributed.DistributedSampler` (with ``world=1``, the whole shuffled set) gives
    each process its share; the :class:`~torch.utils.data.DataLoader` makes the batches. ``workers`` processes
    decode and crop the photos ahead of the training (0: this process does), as torchvision's reference scripts do
    on a GPU, with ``pin_memory`` for a fast copy to it; each crop depends only on (seed, epoch, index), so the
    batches are the same whatever the number of workers.
    """
    sampler = torch.utils.data.distributed.DistributedSampler(
        dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed
    )
    sampler.set_epoch(epoch)
    if hasattr(dataset, "set_epoch"):
        dataset.set_epoch(epoch)
    order = list(sampler)[skip * batch :]
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch, sampler=order, drop_last=True, num_workers=workers, pin_memory=pin_memory
    )


def batches_per_epoch(dataset: torch.utils.data.Dataset, batch: int, world: int = 1) -> int:
    """How many full batches of ``batch`` each of ``world`` processes gets from one epoch of ``dataset``."""
    return math.ceil(len(dataset) / world) // batch
