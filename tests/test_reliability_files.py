"""Reliability of files and caches (issue 5): atomic outputs, clear errors for bad output paths, damaged or hostile
weights files, hash-checked downloads, and caches that rebuild themselves when damaged or stale."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import pickle
import shutil
import socket
import threading
import time
import warnings
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import odd_files  # noqa: F401  (registers the hypothesis profiles)

import tutorial_style.files
import tutorial_style.images
import tutorial_style.normalization as normalization
import tutorial_style.optimize as optimize
import tutorial_style.weights as weights_module
from tutorial_style import VGG19Features, WeightsError, WeightsUnavailableError, load_image, load_weights, save_image
from tutorial_style.cli import main
from tutorial_style.files import OutputPathError, atomic_write
from tutorial_style.images import check_image_path
from tutorial_style.layers import LAYER_INFO, make_layers
from tutorial_style.weights import fetch_imagenet_weights, imagenet_weights_path, save_slim_weights


def leftovers(folder: Path) -> list[Path]:
    """Temporary files that a write left behind."""
    return sorted(p for p in folder.iterdir() if p.name.endswith((".tmp", ".partial")))


# --- atomic outputs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()])
def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, failure):
    path = tmp_path / "result.png"
    save_image(torch.zeros(1, 3, 8, 8), path)
    before = path.read_bytes()

    def save_half_then_fail(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG\r\n\x1a\n half an image")
        raise failure

    monkeypatch.setattr(Image.Image, "save", save_half_then_fail)
    with pytest.raises(type(failure)):
        save_image(torch.ones(1, 3, 8, 8), path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert load_image(path).max() == 0  # still the old, black image


def test_outputs_get_ordinary_permissions(tmp_path):
    path = save_image(torch.rand(1, 3, 8, 8), tmp_path / "out.png")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_missing_parent_folders_are_created(tmp_path):
    path = save_image(torch.rand(1, 3, 8, 8), tmp_path / "a" / "b" / "c" / "out.jpg")
    assert load_image(path).shape == (1, 3, 8, 8)


def test_a_parent_that_cannot_be_created_is_named(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    for target in (blocker / "out.png", blocker / "deeper" / "out.png"):
        with pytest.raises(OutputPathError) as error:
            save_image(torch.rand(1, 3, 8, 8), target)
        assert f"{str(blocker)!r} is a file, not a folder" in str(error.value)
        assert str(target.parent) in str(error.value)
    with pytest.raises(OutputPathError, match="is a folder"):
        save_image(torch.rand(1, 3, 8, 8), tmp_path)
    with pytest.raises(ValueError, match="unknown image file type '.svg'"):
        check_image_path(tmp_path / "out.svg")
    assert leftovers(tmp_path) == []


def test_a_read_only_folder_is_named(tmp_path, monkeypatch):
    """The folder exists but the system refuses to create a file in it. Root may write anywhere (and CI runs as
    root), so the refusal comes from the system call itself, as the kernel gives it to other users: EACCES."""
    import errno

    folder = tmp_path / "read-only"
    folder.mkdir()
    real_open = os.open

    def refuse_in_folder(path, *args, **kwargs):
        if Path(path).parent == folder:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_in_folder)
    with pytest.raises(OutputPathError, match=f"cannot write to the folder {str(folder)!r}: {os.strerror(errno.EACCES)}"):
        check_image_path(folder / "out.png")
    with pytest.raises(OutputPathError, match="cannot write to the folder"):
        save_image(torch.rand(1, 3, 8, 8), folder / "out.png")
    monkeypatch.undo()
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's /sys, where no one may create a file")
def test_a_folder_no_one_may_write_to_is_named():
    """The same without a stand-in: sysfs refuses to create files, even for root."""
    with pytest.raises(OutputPathError, match="cannot write to the folder '/sys'"):
        check_image_path("/sys/out.png")


def test_the_command_line_checks_the_output_path_before_any_work(tmp_path, monkeypatch, capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("the run started although the output path is unusable")

    monkeypatch.setattr(optimize, "get_vgg", no_work)
    blocker = tmp_path / "file"
    blocker.write_text("")
    for output, reason in ((blocker / "out.png", "is a file, not a folder"), (tmp_path / "out.svg", "unknown image file type")):
        code = main(["stylize", "chelsea", "mosaic", "-o", str(output), "--weights", "random", "--steps", "1"])
        err = capsys.readouterr().err
        assert code == 2 and reason in err and err.count("\n") == 1, err


def test_atomic_write_of_text_cleans_up_after_an_exception(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("new but unfinished")
            raise RuntimeError("boom")
    assert path.read_text() == "old" and leftovers(tmp_path) == []


# --- weights files ------------------------------------------------------------------------------------------------

REFETCH = "python -m tutorial_style fetch-weights"


@pytest.fixture(scope="module")
def slim_bytes(tmp_path_factory):
    """A genuine features-only file (random weights, 80 MB), as `fetch-weights --slim` writes it."""
    path = save_slim_weights("random", tmp_path_factory.mktemp("slim") / "vgg19-features.pth")
    return path.read_bytes()


def features_state(**changes) -> dict[str, torch.Tensor]:
    """A features-only state dict in torchvision's keys, stored tiny (every tensor a view of one number)."""
    state = {
        f"features.{LAYER_INFO[k.split('.')[0]].index}.{k.split('.')[1]}": torch.full((), 0.01).expand(v.shape)
        for k, v in make_layers("max").state_dict().items()
    }
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            del state[key]
        else:
            state[key] = value
    return state


def expect_weights_error(path, *fragments):
    with pytest.raises(WeightsError) as error:
        load_weights(path)
    message = str(error.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize("cut", [0.5, 0.99, 100, 4])
def test_a_truncated_weights_file_names_the_file_and_the_fix(tmp_path, slim_bytes, cut):
    path = tmp_path / "vgg19-features.pth"
    path.write_bytes(slim_bytes[: int(cut * len(slim_bytes)) if cut < 1 else cut])
    expect_weights_error(path, REFETCH)


def test_flipped_bytes_inside_a_tensor_are_caught(tmp_path, slim_bytes):
    damaged = bytearray(slim_bytes)
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = bytes(b ^ 0xFF for b in damaged[middle : middle + 64])
    path = tmp_path / "vgg19-features.pth"
    path.write_bytes(bytes(damaged))
    expect_weights_error(path, "corrupted", "checksum", REFETCH)


@pytest.mark.parametrize("content, reason", [(b"", "empty"), (b"weights: yes please\n", "not a PyTorch weights file")],
                         ids=["empty", "text"])  # fmt: skip
def test_files_that_are_not_weights(tmp_path, content, reason):
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    expect_weights_error(path, reason, "fetch-weights")


@settings(max_examples=50)  # each example is a file on disk and a torch.load
@given(st.binary(max_size=3000) | st.builds(lambda b: b"PK\x03\x04" + b, st.binary(max_size=3000)))
def test_random_bytes_are_always_a_weights_error_naming_the_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("random") / "weights.pth"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own notes on odd pickle protocols
        expect_weights_error(path, "fetch-weights")


def test_a_folder_is_not_a_weights_file(tmp_path):
    expect_weights_error(tmp_path, "is a folder")


def test_a_damaged_imagenet_file_says_to_delete_and_fetch_again(tmp_path, monkeypatch, slim_bytes):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = imagenet_weights_path()
    path.parent.mkdir(parents=True)
    for content in (slim_bytes[:1000], slim_bytes):  # truncated; complete but not torchvision's file
        path.write_bytes(content)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + len(content)))  # a new version for the loader's cache
        with pytest.raises(WeightsError) as error:
            load_weights("imagenet")
        message = str(error.value)
        assert str(path) in message and "Delete it and run `python -m tutorial_style fetch-weights`" in message


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"features__0__weight": torch.zeros(()).expand(64, 3, 5, 5)}, "conv1_1.weight has shape (64, 3, 5, 5), VGG19 needs (64, 3, 3, 3)"),
        ({"features__28__bias": None}, "lacks 1 of the feature tensors (first: 'conv5_1.bias', torchvision's 'features.28.bias')"),
        ({"features__2__bias": torch.full((64,), float("nan"))}, "conv1_2.bias holds NaN or infinite values"),
        ({"features__34__weight": torch.full((512, 512, 3, 3), float("inf"))}, "conv5_4.weight holds NaN or infinite"),
    ],
    ids=["wrong shape", "missing key", "NaN", "inf"],
)  # fmt: skip
def test_a_features_only_file_is_validated(tmp_path, changes, reason):
    path = tmp_path / "slim.pth"
    torch.save(features_state(**changes), path)
    expect_weights_error(path, reason, "fetch-weights --slim")


def test_the_tiny_valid_file_used_above_does_load(tmp_path):
    path = tmp_path / "slim.pth"
    torch.save(features_state(), path)
    state, info = load_weights(path)
    assert info.source == "file" and state["conv5_4.weight"].shape == (512, 512, 3, 3)


@pytest.mark.parametrize("content", [[1, 2, 3], {"a": 1}, {"resnet.fc.weight": torch.zeros(2)}, torch.zeros(3)],
                         ids=["list", "dict of ints", "another network", "a bare tensor"])  # fmt: skip
def test_files_that_hold_something_else(tmp_path, content):
    path = tmp_path / "other.pth"
    torch.save(content, path)
    expect_weights_error(path, "fetch-weights")


class _Payload:
    """Unpickling this creates the file ``marker``: a stand-in for code an attacker would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("how", ["torch.save", "legacy torch.save", "pickle protocol 2", "pickle protocol 5"])
def test_a_pickle_that_would_run_code_is_refused_and_the_code_never_runs(tmp_path, how):
    marker = tmp_path / "code-ran"
    payload = {"features.0.weight": torch.zeros(1), "x": _Payload(marker)}
    path = tmp_path / "evil.pth"
    if how == "torch.save":
        torch.save(payload, path)
    elif how == "legacy torch.save":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(_Payload(marker), protocol=int(how[-1])))
    expect_weights_error(path, "fetch-weights")
    assert not marker.exists()
    # control: the payload is live, plain unpickling would have run it
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


def test_the_refusal_says_why(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"x": _Payload(tmp_path / "code-ran")}, path)
    expect_weights_error(path, "could run code", "GLOBAL io.open", "source you trust")


# --- downloads -----------------------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path):
    """A local web server for tmp_path/www, on 127.0.0.1 (no internet)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_a_download_with_the_right_hash_ends_in_the_hub_cache(server, torch_home, monkeypatch):
    www, base = server
    data = os.urandom(300_000)
    name = f"vgg19-{hashlib.sha256(data).hexdigest()[:8]}.pth"  # torchvision's naming: the sha256 prefix
    (www / name).write_bytes(data)
    monkeypatch.setattr(weights_module, "IMAGENET_URL", f"{base}/{name}")
    path = fetch_imagenet_weights()
    assert path == imagenet_weights_path() and path.parent == torch_home
    assert path.read_bytes() == data
    assert leftovers(torch_home) == []
    assert fetch_imagenet_weights() == path  # a second call finds it and downloads nothing


def test_a_download_with_a_wrong_hash_leaves_no_file(server, torch_home, monkeypatch):
    www, base = server
    data = os.urandom(300_000)
    (www / "vgg19-00000000.pth").write_bytes(data)
    monkeypatch.setattr(weights_module, "IMAGENET_URL", f"{base}/vgg19-00000000.pth")
    with pytest.raises(WeightsUnavailableError, match="hash"):
        fetch_imagenet_weights()
    assert not imagenet_weights_path().exists()
    assert not torch_home.exists() or list(torch_home.iterdir()) == []


def test_a_missing_file_on_the_server_leaves_no_file(server, torch_home, monkeypatch):
    _, base = server
    monkeypatch.setattr(weights_module, "IMAGENET_URL", f"{base}/vgg19-dcbb9e9d.pth")
    with pytest.raises(WeightsUnavailableError, match="404"):
        fetch_imagenet_weights()
    assert not torch_home.exists() or list(torch_home.iterdir()) == []


def test_an_unreachable_server_fails_at_once_with_the_fix(torch_home, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(weights_module, "IMAGENET_URL", f"http://127.0.0.1:{port}/vgg19-dcbb9e9d.pth")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as error:
        load_weights("imagenet")
    print(f"\nunreachable server: WeightsUnavailableError after {time.monotonic() - start:.3f} s")
    assert "fetch-weights" in str(error.value) and str(imagenet_weights_path()) in str(error.value)
    assert not imagenet_weights_path().exists()


# --- the normalisation cache --------------------------------------------------------------------------------------------


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
        torch.save({**entry, "x": _Payload(path.parent / "code-ran")}, path)


DAMAGE = ["garbage", "empty", "truncated", "another key", "wrong shapes", "NaN", "zero", "missing layer", "floored not booleans", "a list", "code"]


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
    assert tutorial_style.files.load_cache(path, lambda e: normalization._valid(e, key)) is not None  # rewritten, valid again
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
