"""VGG19 features under the paper's names, against torchvision, and the paper's normalisation."""

import pytest
import torch
import torchvision
from torch import nn

from tutorial_style import LAYER_INFO, LAYERS, PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS, VGG19Features, load_image
from tutorial_style import normalization
from tutorial_style.images import bundled_images
from tutorial_style.vgg import CONV_LAYERS, IMAGENET_MEAN, IMAGENET_STD, check_layers


def test_layer_table_matches_torchvision_modules():
    features = torchvision.models.vgg19(weights=None).features
    assert len(LAYERS) == len(features) == 37
    kinds = {nn.Conv2d: "conv", nn.ReLU: "relu", nn.MaxPool2d: "pool"}
    for name, module in zip(LAYERS, features):
        info = LAYER_INFO[name]
        assert info.kind == kinds[type(module)], name
        assert name.startswith(info.kind)
        if info.kind == "conv":
            assert (info.in_channels, info.channels) == (module.in_channels, module.out_channels)
    assert LAYERS[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1") and LAYERS[-1] == "pool5"


def test_paper_layers():
    assert PAPER_CONTENT_LAYERS == ("relu4_2",)
    assert PAPER_STYLE_LAYERS == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def test_receptive_fields_and_strides():
    # Known values for VGG: 3x3 convs with stride 1 grow the view by 2 * stride; conv5_4 sees 252 px.
    assert [LAYER_INFO[n].receptive_field for n in ("conv1_1", "conv1_2", "pool1", "conv2_1")] == [3, 5, 6, 10]
    assert LAYER_INFO["conv5_4"].receptive_field == 252
    assert [LAYER_INFO[f"pool{i}"].stride for i in range(1, 6)] == [2, 4, 8, 16, 32]


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
        torch.testing.assert_close(means[name][normal], torch.ones(int(normal.sum()), dtype=torch.float64), rtol=1e-3, atol=1e-3)
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


def test_check_layers_suggests_the_closest_name():
    with pytest.raises(ValueError, match="did you mean 'relu3_1'"):
        check_layers(["relu31"])
    with pytest.raises(ValueError, match="empty"):
        check_layers([])


def test_too_small_image_is_refused_with_the_minimum(vgg):
    with pytest.raises(ValueError, match="at least 16 px"):
        vgg(torch.rand(1, 3, 8, 8), ["relu5_1"])


@pytest.mark.parametrize("kwargs, message", [({"pooling": "mean"}, "pooling"), ({"normalize": "yes"}, "normalize")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VGG19Features(weights="random", **kwargs)
