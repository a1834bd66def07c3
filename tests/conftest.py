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
