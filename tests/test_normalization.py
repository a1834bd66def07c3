"""The paper's normalised network (normalization.py): each filter's mean activation is one on the bundled images,
by a rescaling only; the disk cache of the statistics rebuilds itself when damaged or stale (issue 5)."""

from __future__ import annotations

import io
import os
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from odd_files import Payload, features_state
from PIL import Image

import tutorial_style.files
import tutorial_style.images
from tutorial_style import VGG19Features, load_image, load_weights, normalization
from tutorial_style.images import bundled_images
from tutorial_style.layers import make_layers
from tutorial_style.vgg import CONV_LAYERS

RELUS = tuple("relu" + name[4:] for name in CONV_LAYERS)  # each convolution's rectified output


def mean_per_filter(net: VGG19Features, images) -> dict[str, torch.Tensor]:
    """Each filter's mean over the positions of each image, averaged over the images, through the forward pass."""
    sums = {}
    with torch.no_grad():
        for image in images:
            for name, f in net(image, RELUS).items():
                sums[name] = sums.get(name, 0) + f.double().mean(dim=(0, 2, 3))
    return {name: s / len(images) for name, s in sums.items()}


@pytest.fixture(scope="module")
def stats_images():
    return [load_image(n, size=normalization.STATS_SIZE) for n in sorted(bundled_images())]


@pytest.fixture(scope="module")
def raw_means(stats_images):
    """The un-normalised network's per-filter means on the images the normalisation is computed on."""
    return mean_per_filter(VGG19Features(weights="random", normalize=None), stats_images)


def floors(raw: torch.Tensor) -> torch.Tensor:
    """The paper's normalisation divides each filter by its mean; near-silent filters by no less than FLOOR x the
    layer's median of the positive means (normalization.py). Recomputed here from its definition."""
    return normalization.FLOOR * raw[raw > 0].median()


def test_paper_normalisation_gives_mean_activation_one(stats_images, raw_means):
    """Measured through the forward pass: each filter that is not floored averages 1 on the images, as in the paper;
    the floored ones (near-silent) stay below 1 instead of being blown up."""
    means = mean_per_filter(VGG19Features(weights="random"), stats_images)
    floored_in_all = 0
    for name in RELUS:
        raw, floor = raw_means[name], floors(raw_means[name])
        normal, floored = raw > 1.001 * floor, raw < 0.999 * floor  # a filter within 0.1 % of the floor: either
        assert normal.float().mean() > 0.5, name  # the floor is for the exceptions only
        torch.testing.assert_close(
            means[name][normal], torch.ones(int(normal.sum()), dtype=torch.float64), rtol=1e-3, atol=1e-3
        )
        assert (means[name][floored] < 1).all(), name
        floored_in_all += int(floored.sum())
    assert floored_in_all > 0  # random weights have near-silent filters: the floor was exercised


def test_paper_normalisation_only_rescales_each_layer(raw_means):
    """Normalised features are the raw ones divided by each filter's (floored) mean: the same function, rescaled."""
    raw = VGG19Features(weights="random", normalize=None)
    norm = VGG19Features(weights="random", normalize="paper")
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    fr, fn = raw(image, RELUS), norm(image, RELUS)
    for name in RELUS:
        scale = raw_means[name].clamp_min(floors(raw_means[name])).float().view(1, -1, 1, 1)
        torch.testing.assert_close(fn[name] * scale, fr[name], rtol=1e-3, atol=1e-5)


def test_paper_normalisation_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path))
    VGG19Features(weights="random", pooling="max")
    files = list((tmp_path / "normalization").glob("*.pt"))
    assert len(files) == 1
    import tutorial_style.normalization as normalization

    monkeypatch.setattr(normalization, "mean_activations", lambda *a: pytest.fail("recomputed despite the cache"))
    VGG19Features(weights="random", pooling="max")


# --- the normalisation cache (issue 5) --------------------------------------------------------------------------------


def quick_statistics(monkeypatch):
    """Normalisation statistics from one bundled image at 32 px, so that rebuilding takes a moment."""
    every = normalization.bundled_images
    monkeypatch.setattr(normalization, "bundled_images", lambda kind=None: {"coffee": every()["coffee"]})
    monkeypatch.setattr(normalization, "STATS_SIZE", 32)


@pytest.fixture
def small_cache(tmp_path, monkeypatch):
    """A private cache, and quick statistics."""
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path / "cache"))
    quick_statistics(monkeypatch)
    return tmp_path / "cache" / "normalization"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pt"))


def features(vgg: VGG19Features) -> torch.Tensor:
    return vgg(torch.linspace(0, 1, 3 * 32 * 32).view(1, 3, 32, 32), ["relu5_1"])["relu5_1"]


def _damage(path: Path, how: str) -> None:
    entry = torch.load(path, weights_only=True)
    scales = entry["scales"]
    if how == "garbage":
        path.write_bytes(os.urandom(500))
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif how == "another key":
        torch.save({**entry, "key": "0" * 20}, path)
    elif how == "wrong shapes":
        torch.save({**entry, "scales": {k: v[:3] for k, v in scales.items()}}, path)
    elif how == "NaN":
        torch.save({**entry, "scales": {k: v * float("nan") for k, v in scales.items()}}, path)
    elif how == "zero":
        torch.save({**entry, "scales": {k: v * 0 for k, v in scales.items()}}, path)
    elif how == "missing layer":
        torch.save({**entry, "scales": {k: v for k, v in scales.items() if k != "conv5_4"}}, path)
    elif how == "floored not booleans":
        torch.save({**entry, "floored": {k: v.float() for k, v in entry["floored"].items()}}, path)
    elif how == "a list":
        torch.save([1, 2, 3], path)
    elif how == "code":
        torch.save({**entry, "x": Payload(path.parent / "code-ran")}, path)


DAMAGE = [
    "garbage",
    "empty",
    "truncated",
    "another key",
    "wrong shapes",
    "NaN",
    "zero",
    "missing layer",
    "floored not booleans",
    "a list",
    "code",
]


@pytest.fixture(scope="module")
def random_layers():
    """VGG19's layers with the random weights, built once: the cache functions take them as they are."""
    state, info = load_weights("random")
    layers = make_layers("avg")
    layers.load_state_dict(state)
    return layers, info


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_or_stale_cache_entry_is_rebuilt(small_cache, random_layers, how):
    scales, floored = normalization.paper_normalization(*random_layers, "avg")
    (path,) = entries(small_cache)
    good = path.read_bytes()
    _damage(path, how)
    again, floored_again = normalization.paper_normalization(*random_layers, "avg")  # never crashes
    assert again.keys() == scales.keys() and all(torch.equal(again[k], scales[k]) for k in scales)
    assert all(torch.equal(floored_again[k], floored[k]) for k in floored)
    assert entries(small_cache) == [path] and path.read_bytes() != b""
    key = torch.load(io.BytesIO(good), weights_only=True)["key"]
    assert (
        tutorial_style.files.load_cache(path, lambda e: normalization._valid(e, key)) is not None
    )  # rewritten, valid again
    assert not (small_cache / "code-ran").exists()


def test_the_network_builds_over_a_damaged_cache(small_cache):
    reference = features(VGG19Features(weights="random"))
    (path,) = entries(small_cache)
    path.write_bytes(path.read_bytes()[:100])
    torch.testing.assert_close(features(VGG19Features(weights="random")), reference)
    key = torch.load(path, weights_only=True)["key"]
    assert tutorial_style.files.load_cache(path, lambda e: normalization._valid(e, key)) is not None


def test_cache_entries_are_keyed_by_weights_pooling_and_pictures(small_cache, random_layers, tmp_path, monkeypatch):
    normalization.paper_normalization(*random_layers, "avg")
    normalization.paper_normalization(*random_layers, "max")
    other = tmp_path / "other.pth"
    torch.save(features_state(), other)
    state, info = load_weights(other)
    layers = make_layers("avg")
    layers.load_state_dict(state)
    normalization.paper_normalization(layers, info, "avg")
    assert len(entries(small_cache)) == 3
    normalization.paper_normalization(*random_layers, "avg")  # the same again: reused, no new entry
    assert len(entries(small_cache)) == 3
    # the same image names with other pictures (one picture updated) make a new entry
    pictures = tmp_path / "images"
    shutil.copytree(normalization.bundled_images()["coffee"].path.parent, pictures)
    Image.open(pictures / "coffee.jpg").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(pictures / "coffee.jpg")
    monkeypatch.setattr(tutorial_style.images, "images_dir", lambda: pictures)
    normalization.paper_normalization(*random_layers, "avg")
    assert len(entries(small_cache)) == 4


def test_an_unwritable_cache_costs_time_not_the_result(tmp_path, monkeypatch):
    quick_statistics(monkeypatch)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(blocker / "cache"))  # cannot be created
    a = VGG19Features(weights="random")
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path / "cache"))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tutorial_style.files, "atomic_write", disk_full)  # what files.save_cache writes with
    with pytest.warns(UserWarning, match="could not cache the paper normalisation"):
        b = VGG19Features(weights="random")
    torch.testing.assert_close(features(a), features(b))


def test_damaged_cache_does_not_warn_or_print(small_cache, random_layers, capsys):
    normalization.paper_normalization(*random_layers, "avg")
    (path,) = entries(small_cache)
    path.write_bytes(b"rubbish")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normalization.paper_normalization(*random_layers, "avg")
    assert capsys.readouterr().err == ""
