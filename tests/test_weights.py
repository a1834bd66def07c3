"""Every weights source (weights.py): hub cache, local files, random, auto fallback, offline errors, unsafe pickles;
damaged and hostile files, hash-checked downloads (issue 5)."""

import hashlib
import http.server
import os
import pickle
import socket
import threading
import time
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from odd_files import Payload, features_state, leftovers

import tutorial_style.weights as weights_module
from tutorial_style import RandomWeightsWarning, VGG19Features, WeightsError, WeightsUnavailableError, load_weights
from tutorial_style.weights import fetch_imagenet_weights, imagenet_weights_path, save_slim_weights


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch hub cache, and a download address that refuses connections at once (offline)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(weights_module, "IMAGENET_URL", "http://127.0.0.1:9/models/vgg19-dcbb9e9d.pth")
    return tmp_path / "torch"


def _no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)


def test_random_weights_are_deterministic_and_labelled():
    (s1, i1), (s2, i2) = load_weights("random"), load_weights("random")
    assert i1.digest == i2.digest and all(torch.equal(s1[k], s2[k]) for k in s1)
    assert not i1.pretrained and "RANDOM" in i1.label


def test_imagenet_loads_from_the_hub_cache_without_network(torch_home, torchvision_state_file, monkeypatch):
    path = imagenet_weights_path()
    assert path == torch_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    path.parent.mkdir(parents=True)
    path.write_bytes(torchvision_state_file.read_bytes())
    # Our stand-in is not torchvision's file, so it has another sha256 than the name promises.
    monkeypatch.setattr(weights_module, "IMAGENET_SHA256_PREFIX", hashlib.sha256(path.read_bytes()).hexdigest()[:8])
    _no_network(monkeypatch)
    state, info = load_weights("imagenet")
    assert info.source == "imagenet" and info.pretrained and "ImageNet" in info.label
    reference = torch.load(torchvision_state_file, weights_only=True)
    assert torch.equal(state["conv4_2.weight"], reference["features.21.weight"])


def test_imagenet_offline_fails_fast_with_a_fix(torch_home):
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as error:
        load_weights("imagenet")
    assert time.monotonic() - start < 30  # "within seconds": generous for a loaded CI machine
    message = str(error.value)
    assert "python -m tutorial_style fetch-weights" in message
    assert str(imagenet_weights_path()) in message
    assert "TUTORIAL_STYLE_WEIGHTS" in message


def test_auto_falls_back_to_random_with_a_loud_warning(torch_home, monkeypatch, capsys):
    monkeypatch.delenv("TUTORIAL_STYLE_WEIGHTS", raising=False)
    with pytest.warns(RandomWeightsWarning, match="RANDOM weights"):
        _, info = load_weights("auto")
    assert info.source == "random" and not info.pretrained
    assert "RANDOM" in capsys.readouterr().err


def test_auto_follows_the_environment_variable(monkeypatch, torchvision_state_file):
    monkeypatch.setenv("TUTORIAL_STYLE_WEIGHTS", str(torchvision_state_file))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, info = load_weights("auto")
    assert info.source == "file" and info.path.endswith("vgg19-random.pth")


def test_full_and_features_only_files_give_the_same_network(torchvision_state_file, tmp_path):
    slim = save_slim_weights(str(torchvision_state_file), tmp_path / "slim.pth")
    assert slim.stat().st_size < torchvision_state_file.stat().st_size / 5
    assert set(torch.load(slim, weights_only=True)) == {
        k for k in torch.load(torchvision_state_file, weights_only=True) if k.startswith("features.")
    }
    image = torch.rand(1, 3, 32, 32)
    a = VGG19Features(weights=str(torchvision_state_file), normalize=None)(image, ["relu3_1"])["relu3_1"]
    b = VGG19Features(weights=str(slim), normalize=None)(image, ["relu3_1"])["relu3_1"]
    torch.testing.assert_close(a, b)


def test_a_file_whose_pickle_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": Evil()}, path)
    with pytest.raises(WeightsError, match="refused") as error:
        load_weights(str(path))
    assert str(path) in str(error.value)
    assert not marker.exists()


def test_a_state_dict_of_another_network_is_rejected(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, path)
    with pytest.raises(WeightsError, match="not a VGG19"):
        load_weights(str(path))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        load_weights(str(tmp_path / "nope.pth"))


def test_the_imagenet_address_is_torchvisions():
    """weights.py writes torchvision's address out (so the package imports without torchvision); they must agree."""
    from torchvision.models import VGG19_Weights

    from tutorial_style import weights

    assert weights.IMAGENET_URL == VGG19_Weights.IMAGENET1K_V1.url
    assert weights.IMAGENET_FILE == "vgg19-dcbb9e9d.pth" and weights.IMAGENET_SHA256_PREFIX == "dcbb9e9d"


# --- weights files (issue 5) ------------------------------------------------------------------------------------------

REFETCH = "python -m tutorial_style fetch-weights"


@pytest.fixture(scope="module")
def slim_bytes(tmp_path_factory):
    """A genuine features-only file (random weights, 80 MB), as `fetch-weights --slim` writes it."""
    path = save_slim_weights("random", tmp_path_factory.mktemp("slim") / "vgg19-features.pth")
    return path.read_bytes()


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


@pytest.mark.parametrize(
    "content, reason", [(b"", "empty"), (b"weights: yes please\n", "not a PyTorch weights file")], ids=["empty", "text"]
)
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
        (
            {"features__0__weight": torch.zeros(()).expand(64, 3, 5, 5)},
            "conv1_1.weight has shape (64, 3, 5, 5), VGG19 needs (64, 3, 3, 3)",
        ),
        (
            {"features__28__bias": None},
            "lacks 1 of the feature tensors (first: 'conv5_1.bias', torchvision's 'features.28.bias')",
        ),
        ({"features__2__bias": torch.full((64,), float("nan"))}, "conv1_2.bias holds NaN or infinite values"),
        ({"features__34__weight": torch.full((512, 512, 3, 3), float("inf"))}, "conv5_4.weight holds NaN or infinite"),
    ],
    ids=["wrong shape", "missing key", "NaN", "inf"],
)
def test_a_features_only_file_is_validated(tmp_path, changes, reason):
    path = tmp_path / "slim.pth"
    torch.save(features_state(**changes), path)
    expect_weights_error(path, reason, "fetch-weights --slim")


def test_the_tiny_valid_file_used_above_does_load(tmp_path):
    path = tmp_path / "slim.pth"
    torch.save(features_state(), path)
    state, info = load_weights(path)
    assert info.source == "file" and state["conv5_4.weight"].shape == (512, 512, 3, 3)


@pytest.mark.parametrize(
    "content",
    [[1, 2, 3], {"a": 1}, {"resnet.fc.weight": torch.zeros(2)}, torch.zeros(3)],
    ids=["list", "dict of ints", "another network", "a bare tensor"],
)
def test_files_that_hold_something_else(tmp_path, content):
    path = tmp_path / "other.pth"
    torch.save(content, path)
    expect_weights_error(path, "fetch-weights")


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("how", ["torch.save", "legacy torch.save", "pickle protocol 2", "pickle protocol 5"])
def test_a_pickle_that_would_run_code_is_refused_and_the_code_never_runs(tmp_path, how):
    marker = tmp_path / "code-ran"
    payload = {"features.0.weight": torch.zeros(1), "x": Payload(marker)}
    path = tmp_path / "evil.pth"
    if how == "torch.save":
        torch.save(payload, path)
    elif how == "legacy torch.save":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(Payload(marker), protocol=int(how[-1])))
    expect_weights_error(path, "fetch-weights")
    assert not marker.exists()
    # control: the payload is live, plain unpickling would have run it
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


def test_the_refusal_says_why(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"x": Payload(tmp_path / "code-ran")}, path)
    expect_weights_error(path, "could run code", "GLOBAL io.open", "source you trust")


# --- downloads (issue 5) ----------------------------------------------------------------------------------------------


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
def hub_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_a_download_with_the_right_hash_ends_in_the_hub_cache(server, hub_checkpoints, monkeypatch):
    www, base = server
    data = os.urandom(300_000)
    name = f"vgg19-{hashlib.sha256(data).hexdigest()[:8]}.pth"  # torchvision's naming: the sha256 prefix
    (www / name).write_bytes(data)
    monkeypatch.setattr(weights_module, "IMAGENET_URL", f"{base}/{name}")
    path = fetch_imagenet_weights()
    assert path == imagenet_weights_path() and path.parent == hub_checkpoints
    assert path.read_bytes() == data
    assert leftovers(hub_checkpoints) == []
    assert fetch_imagenet_weights() == path  # a second call finds it and downloads nothing


def test_a_download_with_a_wrong_hash_leaves_no_file(server, hub_checkpoints, monkeypatch):
    www, base = server
    data = os.urandom(300_000)
    (www / "vgg19-00000000.pth").write_bytes(data)
    monkeypatch.setattr(weights_module, "IMAGENET_URL", f"{base}/vgg19-00000000.pth")
    with pytest.raises(WeightsUnavailableError, match="hash"):
        fetch_imagenet_weights()
    assert not imagenet_weights_path().exists()
    assert not hub_checkpoints.exists() or list(hub_checkpoints.iterdir()) == []


def test_a_missing_file_on_the_server_leaves_no_file(server, hub_checkpoints, monkeypatch):
    _, base = server
    monkeypatch.setattr(weights_module, "IMAGENET_URL", f"{base}/vgg19-dcbb9e9d.pth")
    with pytest.raises(WeightsUnavailableError, match="404"):
        fetch_imagenet_weights()
    assert not hub_checkpoints.exists() or list(hub_checkpoints.iterdir()) == []


def test_an_unreachable_server_fails_at_once_with_the_fix(hub_checkpoints, monkeypatch):
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
