import pytest
import torch

from tutorial_style import VGG19Features


@pytest.fixture(scope="session")
def vgg():
    """Random-weights VGG19, paper settings (avg pooling, normalised)."""
    return VGG19Features(weights="random")


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
    import os

    from benchmarks.standin import StandinError, standin_path

    try:
        return str(standin_path())
    except (StandinError, OSError) as e:
        message = f"the real-features stand-in cannot be built: {e}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
