"""Every weights source: hub cache, local files, random, auto fallback, offline errors, unsafe pickles."""

import hashlib
import socket
import time
import warnings

import pytest
import torch

import tutorial_style.weights as weights_module
from tutorial_style import RandomWeightsWarning, VGG19Features, WeightsError, WeightsUnavailableError, load_weights
from tutorial_style.weights import imagenet_weights_path, save_slim_weights


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
    assert set(torch.load(slim, weights_only=True)) == {k for k in torch.load(torchvision_state_file, weights_only=True) if k.startswith("features.")}
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
