"""VGG19's features (vgg.py) against torchvision: the pooling, only the layers asked, frozen, gradients to the input,
too-small images refused. (The layer table: test_layers.py; the paper's normalisation: test_normalization.py.)"""

import pytest
import torch
import torchvision
from torch import nn

from tutorial_style import LAYER_INFO, LAYERS, VGG19Features
from tutorial_style.vgg import IMAGENET_MEAN, IMAGENET_STD


def test_features_equal_torchvision_with_the_same_weights(torchvision_state_file):
    model = torchvision.models.vgg19(weights=None)
    model.load_state_dict(torch.load(torchvision_state_file, weights_only=True))
    ours = VGG19Features(weights=str(torchvision_state_file), pooling="max", normalize=None)
    image = torch.rand(2, 3, 64, 48, generator=torch.Generator().manual_seed(0))
    x = (image - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    names = ["conv1_1", "relu2_1", "pool3", "relu4_2", "relu5_1", "pool5"]
    feats = ours(image, names)
    with torch.no_grad():
        for name in names:
            expected = model.features[: LAYER_INFO[name].index + 1](x.clone())
            torch.testing.assert_close(feats[name], expected, rtol=1e-4, atol=1e-5)


def test_avg_pooling_is_the_default(vgg):
    assert isinstance(vgg.layers.pool1, nn.AvgPool2d)
    image = torch.rand(1, 3, 32, 32)
    f = vgg(image, ["relu1_2", "pool1"])
    torch.testing.assert_close(f["pool1"], nn.functional.avg_pool2d(f["relu1_2"], 2))


def test_runs_only_up_to_the_deepest_layer_asked(vgg):
    called = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: called.append(n)) for n, m in vgg.layers.named_children()]
    try:
        vgg(torch.rand(1, 3, 32, 32), ["relu2_1", "relu1_1"])
    finally:
        for h in hooks:
            h.remove()
    assert called == list(LAYERS[: LAYER_INFO["relu2_1"].index + 1])


def test_returns_layers_in_requested_order_with_shapes(vgg):
    feats = vgg(torch.rand(2, 3, 64, 32), ["relu4_2", "relu1_1"])
    assert list(feats) == ["relu4_2", "relu1_1"]
    assert feats["relu4_2"].shape == (2, 512, 8, 4) and feats["relu1_1"].shape == (2, 64, 64, 32)


def test_frozen(vgg):
    assert not vgg.training
    assert not any(p.requires_grad for p in vgg.parameters())


def test_gradient_flows_to_the_input(vgg):
    image = torch.rand(1, 3, 32, 32, requires_grad=True)
    vgg(image, ["relu3_1"])["relu3_1"].sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_too_small_image_is_refused_with_the_minimum(vgg):
    with pytest.raises(ValueError, match="at least 16 px"):
        vgg(torch.rand(1, 3, 8, 8), ["relu5_1"])


@pytest.mark.parametrize("kwargs, message", [({"pooling": "mean"}, "pooling"), ({"normalize": "yes"}, "normalize")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VGG19Features(weights="random", **kwargs)


def test_too_small_image_for_the_network_itself(vgg):
    with pytest.raises(ValueError, match="too small for layer relu5_1: its sides must be at least 16 px"):
        vgg(torch.rand(1, 3, 15, 40), layers=["relu1_1", "relu5_1"])
    assert vgg(torch.rand(1, 3, 16, 16), layers=["relu5_1"])["relu5_1"].shape == (1, 512, 1, 1)
