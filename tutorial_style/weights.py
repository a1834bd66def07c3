"""Where VGG19's weights come from: torchvision's ImageNet file, a local file, or seeded random weights.

Sources, chosen with the ``weights`` argument (default ``"auto"``, or ``$TUTORIAL_STYLE_WEIGHTS``):

``"imagenet"``
    torchvision's ``VGG19_Weights.IMAGENET1K_V1``, read from the torch hub cache
    (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``) without any network access when it is there,
    downloaded (hash-checked, into a temporary file, then moved into place) otherwise. When neither works,
    :class:`WeightsUnavailableError` says how to fix it.
a path
    a state-dict file: a whole torchvision ``vgg19`` or only its ``features`` (e.g. written by
    ``python -m tutorial_style fetch-weights --slim FILE``). Keys and shapes are checked before use. A string
    under the key ``"label"`` in the file names it on figures (else the file's name does).
``"random"``
    He-initialised random weights from a fixed seed: the same on every machine run, and labelled
    "RANDOM" wherever they are shown. Good for testing code, not for looking at results.
``"auto"``
    ``$TUTORIAL_STYLE_WEIGHTS`` if set, else ImageNet if it can be had, else random weights with a
    :class:`RandomWeightsWarning`.

Every file is read with ``torch.load(..., weights_only=True)``: a file whose pickle would run code is refused.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import sys
import urllib.parse
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .files import atomic_write, check_input_file, digest, load_tensors
from .layers import LAYER_INFO, make_layers

__all__ = [
    "WeightsInfo",
    "WeightsError",
    "WeightsUnavailableError",
    "RandomWeightsWarning",
    "load_weights",
    "imagenet_weights_path",
    "fetch_imagenet_weights",
    "save_slim_weights",
    "RANDOM_SEED",
]

RANDOM_SEED = 0
ENV_VAR = "TUTORIAL_STYLE_WEIGHTS"
# A weights file may say what it is: a string under this key becomes its label on every figure (the
# development stand-in of benchmarks/standin.py says it is one); other files are labelled by their name.
LABEL_KEY = "label"


# torchvision's VGG19_Weights.IMAGENET1K_V1.url, written out so that importing the package does not import
# torchvision (a second or more); tests/test_weights.py checks that the two agree.
IMAGENET_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
IMAGENET_FILE = IMAGENET_URL.rsplit("/", 1)[-1]  # "vgg19-dcbb9e9d.pth"; the part after "-" starts its sha256
IMAGENET_SHA256_PREFIX = IMAGENET_FILE.rsplit(".", 1)[0].split("-")[-1]  # checked after download and at every load


class WeightsError(ValueError):
    """A weights file or source is unusable. The message names it and says how to fix it."""


class WeightsUnavailableError(WeightsError):
    """ImageNet weights are not in the cache and cannot be downloaded (e.g. offline).

    ``fix`` holds the how-to-fix part of the message on its own, so ``"auto"`` can repeat it in its warning.
    """

    def __init__(self, message: str, fix: str = ""):
        super().__init__(f"{message} {fix}".strip())
        self.fix = fix


class RandomWeightsWarning(UserWarning):
    """Random weights are in use: features and results show what an *untrained* network does."""


@dataclass(frozen=True)
class WeightsInfo:
    """Which weights a network carries. ``label`` is written on every figure."""

    source: str  # "imagenet", "random" or "file"
    label: str
    pretrained: bool
    digest: str  # sha256 of the feature weights, keys every cache that depends on them
    path: str | None = None


def imagenet_weights_path() -> Path:
    """Where torchvision keeps the ImageNet VGG19 file: ``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_FILE


def load_weights(weights: str | os.PathLike = "auto") -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    """Resolve a weights source to a state dict for the 37 named feature layers, and what it is.

    >>> state, info = load_weights("random")
    >>> info.pretrained, info.label
    (False, 'RANDOM weights (seed 0), not pretrained')
    >>> tuple(state["conv1_1.weight"].shape)
    (64, 3, 3, 3)
    """
    if isinstance(weights, str) and weights == "auto":
        chosen = os.environ.get(ENV_VAR, "").strip()
        if chosen and chosen != "auto":
            return load_weights(chosen)
        try:
            return load_weights("imagenet")
        except WeightsUnavailableError as e:
            message = (
                "ImageNet VGG19 weights are not available, so RANDOM weights are used: features, "
                "reconstructions and style transfers will NOT look like the paper's. "
                f"{e.fix}"
            )
            warnings.warn(RandomWeightsWarning(message), stacklevel=3)
            print(f"WARNING: {message}", file=sys.stderr)
            return load_weights("random")
    if isinstance(weights, str) and weights == "random":
        return _random_weights()
    if isinstance(weights, str) and weights == "imagenet":
        path = imagenet_weights_path()
        if not path.is_file():
            fetch_imagenet_weights()
        return _load_file(path, source="imagenet")
    if isinstance(weights, (str, os.PathLike)):
        path = check_input_file(weights, "weights file", WeightsError, _SOURCES)
        return _load_file(path, source="file")
    raise TypeError(f"weights must be 'auto', 'imagenet', 'random' or a file path, not {type(weights).__name__}")


def fetch_imagenet_weights(timeout: float = 5.0) -> Path:
    """Download torchvision's ImageNet VGG19 weights into the torch hub cache (once), hash-checked.

    Raises :class:`WeightsUnavailableError` within about ``timeout`` seconds when the server cannot be reached.
    """
    path = imagenet_weights_path()
    if path.is_file():
        return path
    url = IMAGENET_URL
    try:
        # Fail fast when offline: urllib itself would wait for the system's (long) connect timeout.
        _connect(url, timeout)
        path.parent.mkdir(parents=True, exist_ok=True)
        # torch.hub downloads into a temporary file, checks the sha256 prefix in the name, then moves it.
        torch.hub.download_url_to_file(url, str(path), hash_prefix=_hash_prefix(url), progress=True)
    except (OSError, RuntimeError) as e:
        raise WeightsUnavailableError(
            f"cannot download the ImageNet VGG19 weights from {url} ({e}).", fix=_fix_message()
        ) from None
    return path


def server_reachable(url: str = "", timeout: float = 3.0) -> bool:
    """Whether the server of ``url`` (default: the ImageNet weights' address) accepts a connection now."""
    try:
        _connect(url or IMAGENET_URL, timeout)
        return True
    except OSError:
        return False


def _connect(url: str, timeout: float) -> None:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    socket.create_connection((parts.hostname, port), timeout=timeout).close()


def save_slim_weights(weights: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write only VGG19's feature weights (about 80 MB instead of 548 MB), in torchvision's key format."""
    state, _ = load_weights(weights)
    slim = {f"features.{LAYER_INFO[k.split('.')[0]].index}.{k.split('.')[1]}": v.contiguous() for k, v in state.items()}
    with atomic_write(out) as f:
        torch.save(slim, f)
    return Path(out)


def _hash_prefix(url: str) -> str:
    return Path(urllib.parse.urlsplit(url).path).stem.split("-")[-1]


def _fix_message() -> str:
    return (
        "To fix it: on a machine with internet run `python -m tutorial_style fetch-weights`, or copy the file "
        f"{IMAGENET_FILE} to {imagenet_weights_path()} (TORCH_HOME moves that folder), or point "
        f"{ENV_VAR} (or weights=...) at a VGG19 state-dict file, e.g. one made by "
        "`python -m tutorial_style fetch-weights --slim vgg19-features.pth`."
    )


@functools.lru_cache(maxsize=2)
def _random_weights() -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    generator = torch.Generator().manual_seed(RANDOM_SEED)
    layers = make_layers("max")
    state = {}
    for name, module in layers.named_children():
        if isinstance(module, nn.Conv2d):  # torchvision's VGG initialisation, from our own generator
            fan_out = module.out_channels * 9
            state[f"{name}.weight"] = torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_out) ** 0.5
            state[f"{name}.bias"] = torch.zeros(module.out_channels)
    info = WeightsInfo("random", f"RANDOM weights (seed {RANDOM_SEED}), not pretrained", False, digest(state))
    return state, info


def _load_file(path: Path, source: str) -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    check_input_file(path, "weights file", WeightsError, _refetch(source))
    stat = path.stat()
    return _load_file_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns, source)


def _refetch(source: str) -> str:
    """What to do about a bad weights file: download torchvision's again, or make the slim file again."""
    if source == "imagenet":
        return "Delete it and run `python -m tutorial_style fetch-weights` to download it again."
    return "Make it again, e.g. with `python -m tutorial_style fetch-weights --slim FILE`."


_SOURCES = (
    "Use 'imagenet', 'random', 'auto' or the path of a VGG19 state-dict file (python -m tutorial_style fetch-weights "
    "--slim FILE writes one)."
)


@functools.lru_cache(maxsize=2)
def _load_file_cached(path: str, size: int, mtime: int, source: str) -> tuple[dict[str, torch.Tensor], WeightsInfo]:
    refetch = _refetch(source)
    _check_checksum(Path(path), source, refetch)
    raw = load_tensors(path, WeightsError, "weights file", refetch)
    said = raw.pop(LABEL_KEY, None) if isinstance(raw, dict) else None
    state = _features_state(raw, path, refetch)
    if source == "imagenet":
        label = "ImageNet (torchvision VGG19_Weights.IMAGENET1K_V1)"
    elif isinstance(said, str) and said.strip():
        label = f"{said.strip()[:120]}, file {Path(path).name}"
    else:
        label = f"file {Path(path).name}"
    return state, WeightsInfo(source, label, True, digest(state), path)


def _check_checksum(path: Path, source: str, refetch: str) -> None:
    """Catch damage that ``torch.load`` would not notice (flipped bytes inside a tensor).

    torchvision's file name starts with its sha256 (checked as torch.hub does after a download); files in
    PyTorch's zip format carry a CRC-32 per tensor.
    """
    if source == "imagenet":
        sha = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
        if not sha.hexdigest().startswith(IMAGENET_SHA256_PREFIX):
            raise WeightsError(
                f"weights file {str(path)!r} is damaged or not the original: its sha256 starts with "
                f"{sha.hexdigest()[:8]}, not {IMAGENET_SHA256_PREFIX} as torchvision's file does. {refetch}"
            )
    elif zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except Exception:  # a damaged directory of the archive
            raise WeightsError(
                f"weights file {str(path)!r} is truncated or damaged: its archive cannot be read. {refetch}"
            ) from None
        if bad is not None:
            raise WeightsError(f"weights file {str(path)!r} is corrupted: {bad} fails its checksum. {refetch}")


def _features_state(raw, path: str, refetch: str) -> dict[str, torch.Tensor]:
    """Map a torchvision vgg19 or features-only state dict to our named layers, checking keys and shapes."""
    if not isinstance(raw, dict) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise WeightsError(f"weights file {path!r} does not hold a state dict of tensors. {refetch}")
    expected = make_layers("max").state_dict()
    by_index = {info.index: name for name, info in LAYER_INFO.items()}
    state = {}
    for key, value in raw.items():
        parts = key.split(".")
        if parts[0] == "features":
            parts = parts[1:]
        if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) in by_index:
            state[f"{by_index[int(parts[0])]}.{parts[1]}"] = value
    missing = sorted(set(expected) - set(state), key=lambda k: LAYER_INFO[k.split(".")[0]].index)
    if missing:
        raise WeightsError(
            f"weights file {path!r} is not a VGG19: it lacks {len(missing)} of the feature tensors "
            f"(first: {missing[0]!r}, torchvision's 'features.{LAYER_INFO[missing[0].split('.')[0]].index}."
            f"{missing[0].split('.')[1]}'). {refetch}"
        )
    for key, value in expected.items():
        if state[key].shape != value.shape:
            raise WeightsError(
                f"weights file {path!r}: {key} has shape {tuple(state[key].shape)}, "
                f"VGG19 needs {tuple(value.shape)}. {refetch}"
            )
        if not torch.isfinite(state[key]).all():
            raise WeightsError(f"weights file {path!r}: {key} holds NaN or infinite values. {refetch}")
    return {k: state[k].float() for k in expected}
