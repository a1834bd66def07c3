"""Many styles in one network (issue 27, Dumoulin, Shlens & Kudlur 2017): conditional instance normalisation.

Each style is one γ and one β row per normalisation; a mix of styles normalises with the mix of their rows. The
references here are one-style networks built by hand from the same convolutions and one row (or the mean of rows).
"""

from __future__ import annotations

import pytest
import torch
from realtime_support import STYLES, conditional, conv_norm_pairs, random_norms

from tutorial_style.realtime.checkpoint import load_network, save_checkpoint
from tutorial_style.realtime.network import DEFAULT, SLIM, ConditionalInstanceNorm, InstanceNorm, StyleNetwork


def one_style_from(net: StyleNetwork, rows) -> StyleNetwork:
    """A one-style network with ``net``'s convolutions and, in each normalisation, γ and β = ``rows(γs)``."""
    config = {k: v for k, v in net.config.items() if k != "styles"}
    norms = [name for name, m in net.named_modules() if isinstance(m, ConditionalInstanceNorm)]
    norms = {f"{name}.{kind}" for name in norms for kind in ("weight", "bias")}
    one = StyleNetwork(**config)
    one.load_state_dict({k: rows(v) if k in norms else v for k, v in net.state_dict().items()})
    return one.eval()


IMAGES = torch.rand(2, 3, 29, 35, generator=torch.Generator().manual_seed(5))


# --- mixing -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", [{}, {"separable": True}], ids=["plain", "separable"])
def test_a_one_hot_mix_is_that_styles_own_network(config):
    net = conditional(**config)
    with torch.no_grad():
        first = net(IMAGES, torch.tensor([1.0, 0.0]))
        second = net(IMAGES, torch.tensor([0.0, 1.0]))
        torch.testing.assert_close(first, one_style_from(net, lambda p: p[0])(IMAGES), atol=1e-6, rtol=0)
        torch.testing.assert_close(second, one_style_from(net, lambda p: p[1])(IMAGES), atol=1e-6, rtol=0)
        assert torch.equal(net(IMAGES, net.mix_for("mosaic")), first)
    assert (first - second).abs().max() > 0.01  # the two styles differ


def test_each_image_of_a_batch_takes_its_own_mix():
    net = conditional()
    with torch.no_grad():
        per_image = net(IMAGES, torch.tensor([[1.0, 0.0], [0.2, 0.8]]))
        torch.testing.assert_close(per_image[:1], net(IMAGES[:1], torch.tensor([1.0, 0.0])), atol=1e-6, rtol=0)
        torch.testing.assert_close(per_image[1:], net(IMAGES[1:], torch.tensor([0.2, 0.8])), atol=1e-6, rtol=0)
        # one row for the whole batch: the fused path and the per-image path agree
        row, vector = net(IMAGES, torch.tensor([[0.3, 0.7]])), net(IMAGES, torch.tensor([0.3, 0.7]))
        torch.testing.assert_close(row, vector, atol=1e-6, rtol=0)


def test_an_even_mix_is_the_network_of_the_mean_gamma_and_beta():
    net = conditional(styles=["a", "b", "c"])
    mean = one_style_from(net, lambda p: p.mean(0))
    with torch.no_grad():
        expected = mean(IMAGES)
        torch.testing.assert_close(net(IMAGES, torch.tensor([1.0, 1.0, 1.0]) / 3), expected, atol=1e-6, rtol=0)
        unnormalised = net(IMAGES, torch.tensor([5.0, 5.0, 5.0]))  # each row is normalised inside
        torch.testing.assert_close(unnormalised, expected, atol=1e-6, rtol=0)
        torch.testing.assert_close(net(IMAGES, net.mix_for({"a": 1, "b": 1, "c": 1})), expected, atol=1e-6, rtol=0)
        assert not torch.allclose(net(IMAGES, torch.tensor([1.0, 0.0, 0.0])), expected, atol=1e-3)


def test_mix_for_weights_are_normalised_and_unnamed_styles_get_zero():
    net = conditional(styles=["mosaic", "swirls", "wave"])
    torch.testing.assert_close(net.mix_for({"mosaic": 0.7, "wave": 0.3}), torch.tensor([0.7, 0.0, 0.3]))
    torch.testing.assert_close(net.mix_for({"swirls": 2, "wave": 6}), torch.tensor([0.0, 0.25, 0.75]))
    assert net.mix_for("wave").tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("cubism", "no style 'cubism' in this network (its styles: mosaic, swirls)"),
        ({"mosaic": 1, "kandinsky": 1}, "no style 'kandinsky' in this network (its styles: mosaic, swirls)"),
        ({"mosaic": -0.5, "swirls": 1}, "the weight of 'mosaic' must be at least 0, got -0.5"),
        ({"mosaic": 0, "swirls": 0.0}, "the weights are all 0"),
        ({}, "the weights are all 0"),
        ({"swirls": float("nan")}, "the weight of 'swirls' must be finite, got nan"),
        ({"swirls": float("inf")}, "the weight of 'swirls' must be finite, got inf"),
        ({"swirls": "0.3"}, "the weight of 'swirls' must be a number"),
        (["mosaic"], "mix must be a style's name or a mapping"),
    ],
)
def test_bad_mixes_are_one_line_errors_naming_the_problem(spec, message):
    with pytest.raises(ValueError) as error:
        conditional().mix_for(spec)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "mix, message",
    [
        (None, "this network holds 2 styles (mosaic, swirls); pass mix=network.mix_for(NAME)"),
        (torch.tensor([1.0, -1.0]), "weights must be at least 0, got -1"),
        (torch.tensor([0.0, 0.0]), "the weights are all 0"),
        (torch.tensor([[1.0, 0.0], [0.0, 0.0]]), "the weights are all 0"),
        (torch.tensor([float("nan"), 1.0]), "finite"),
        (torch.tensor([1.0, 0.0, 0.0]), "mix must have shape (2,) or (B, 2) for 2 styles and 2 images, got (3,)"),
        (torch.ones(3, 2), "got (3, 2)"),
    ],
)
def test_forward_refuses_bad_mixes(mix, message):
    with pytest.raises(ValueError) as error:
        conditional()(IMAGES, mix)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_one_style_network_takes_no_mix_and_a_one_style_conditional_needs_none():
    with pytest.raises(ValueError, match="one style and takes no mix"):
        StyleNetwork(width=0.25, blocks=1)(IMAGES, torch.tensor([1.0]))
    with pytest.raises(ValueError, match="one style and takes no mix"):
        StyleNetwork(width=0.25, blocks=1).mix_for("mosaic")
    single = conditional(styles=["mosaic"])
    with torch.no_grad():
        assert torch.equal(single(IMAGES), single(IMAGES, torch.tensor([1.0])))


@pytest.mark.parametrize(
    "styles, message",
    [
        ([], "non-empty list"),
        ("mosaic", "non-empty list"),
        (["a", "a"], "each style once"),
        (["mosaic=1"], "is not a style name"),
        (["two words"], "is not a style name"),
        ([""], "is not a style name"),
        ([3], "is not a style name"),
    ],
)
def test_style_names_are_checked(styles, message):
    with pytest.raises(ValueError, match=message):
        StyleNetwork(width=0.25, blocks=1, styles=styles)


# --- checkpoints: the one-style network as it was ---------------------------------------------------------------

# The state dict of StyleNetwork(width=0.25, blocks=1) as the one-style network has always written it.
ONE_STYLE_KEYS = {
    "down.0.0.weight": (8, 3, 9, 9),
    "down.0.1.weight": (8,),
    "down.0.1.bias": (8,),
    "down.1.0.weight": (16, 8, 3, 3),
    "down.1.1.weight": (16,),
    "down.1.1.bias": (16,),
    "down.2.0.weight": (32, 16, 3, 3),
    "down.2.1.weight": (32,),
    "down.2.1.bias": (32,),
    "residuals.0.body.0.0.weight": (32, 32, 3, 3),
    "residuals.0.body.0.1.weight": (32,),
    "residuals.0.body.0.1.bias": (32,),
    "residuals.0.body.1.weight": (32, 32, 3, 3),
    "residuals.0.body.2.weight": (32,),
    "residuals.0.body.2.bias": (32,),
    "up.0.1.0.weight": (16, 32, 3, 3),
    "up.0.1.1.weight": (16,),
    "up.0.1.1.bias": (16,),
    "up.1.1.0.weight": (8, 16, 3, 3),
    "up.1.1.1.weight": (8,),
    "up.1.1.1.bias": (8,),
    "out.weight": (3, 8, 9, 9),
    "out.bias": (3,),
}
NORM_KEYS = {k for k, shape in ONE_STYLE_KEYS.items() if len(shape) == 1 and k != "out.bias"}  # γ and β


def test_the_one_style_network_keeps_its_modules_names_and_shapes():
    net = StyleNetwork(width=0.25, blocks=1)
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == ONE_STYLE_KEYS
    assert net.config == {"width": 0.25, "blocks": 1} and net.styles is None
    assert all(type(m) is InstanceNorm for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d))
    # a conditional network has the same keys: γ and β gain a leading style axis, the convolutions are the same
    many = StyleNetwork(width=0.25, blocks=1, styles=STYLES)
    shapes = {k: tuple(v.shape) for k, v in many.state_dict().items()}
    assert list(shapes) == list(ONE_STYLE_KEYS)
    convolutions = {k: v for k, v in ONE_STYLE_KEYS.items() if k not in NORM_KEYS}
    assert {k: v for k, v in shapes.items() if k not in NORM_KEYS} == convolutions
    assert all(shapes[k] == (2, *ONE_STYLE_KEYS[k]) for k in NORM_KEYS) and len(NORM_KEYS) == 14


def test_a_one_style_checkpoint_loads_unchanged(tmp_path):
    torch.manual_seed(3)
    net = random_norms(StyleNetwork(width=0.25, blocks=1))
    save_checkpoint(tmp_path / "one.pt", net, {"style": "mosaic"})
    entry = torch.load(tmp_path / "one.pt", weights_only=True)
    assert entry["network"]["config"] == {"width": 0.25, "blocks": 1}  # no "styles" key is written
    loaded = load_network(tmp_path / "one.pt")
    assert loaded.styles is None and loaded.config == net.config
    with torch.no_grad():
        assert torch.equal(loaded(IMAGES), net(IMAGES))


def test_a_conditional_checkpoint_round_trips(tmp_path):
    net = conditional(separable=True)
    save_checkpoint(tmp_path / "many.pt", net, {"style": "mosaic, swirls"})
    entry = torch.load(tmp_path / "many.pt", weights_only=True)
    assert entry["network"]["config"] == {"width": 0.25, "blocks": 1, "separable": True, "styles": STYLES}
    loaded = load_network(tmp_path / "many.pt")
    assert loaded.styles == tuple(STYLES)
    mix = torch.tensor([[0.3, 0.7], [1.0, 0.0]])
    with torch.no_grad():
        assert torch.equal(loaded(IMAGES, mix), net(IMAGES, mix))


# --- adding a style ---------------------------------------------------------------------------------------------


def test_as_conditional_computes_what_the_one_style_network_does():
    torch.manual_seed(4)
    one = random_norms(StyleNetwork(width=0.25, blocks=1))
    many = one.as_conditional("mosaic", "swirls")
    assert many.styles == ("mosaic", "swirls")
    with torch.no_grad():
        torch.testing.assert_close(many(IMAGES, torch.tensor([0.4, 0.6])), one(IMAGES), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="already has styles"):
        many.as_conditional("wave")


def test_with_style_adds_the_mean_style_and_keeps_the_others():
    net = conditional()
    more = net.with_style("wave")
    assert more.styles == ("mosaic", "swirls", "wave") and net.styles == ("mosaic", "swirls")
    with torch.no_grad():
        for style in net.styles:  # the old styles compute as before
            assert torch.equal(more(IMAGES, more.mix_for(style)), net(IMAGES, net.mix_for(style)))
        new, even = more(IMAGES, more.mix_for("wave")), net(IMAGES, torch.tensor([0.5, 0.5]))
        torch.testing.assert_close(new, even, atol=1e-6, rtol=0)
    assert more.down[0][0].weight is not net.down[0][0].weight  # copied, not shared
    with pytest.raises(ValueError, match="each style once"):
        net.with_style("mosaic")
    with pytest.raises(ValueError, match="as_conditional"):
        StyleNetwork(width=0.25, blocks=1).with_style("wave")


def test_one_hot_gradients_reach_only_that_styles_rows():
    net = conditional(styles=["a", "b", "c"]).train()
    net(IMAGES, net.mix_for("b")).square().mean().backward()
    rows = net.style_parameters("b")
    assert len(rows) == 2 * sum(isinstance(m, ConditionalInstanceNorm) for m in net.modules())
    for key, parameter, row in rows:
        assert row == 1 and parameter is net.get_parameter(key)
        others = [r for r in range(3) if r != row]
        assert parameter.grad[others].abs().max() == 0, key
        assert parameter.grad[row].abs().max() > 0, key
    with pytest.raises(ValueError, match="no style 'd' in this network"):
        net.style_parameters("d")


def test_training_a_new_style_changes_only_its_gamma_and_beta():
    """The recipe ``train NEW --base net.pt`` will use: freeze everything, train the new style's rows alone."""
    net = conditional()
    more = net.with_style("wave").train()
    before = {k: v.clone() for k, v in more.state_dict().items()}
    rows = more.style_parameters("wave")
    trained = {key for key, _, _ in rows}
    for parameter in more.parameters():
        parameter.requires_grad_(False)
    for _, parameter, _ in rows:
        parameter.requires_grad_(True)
    optimiser = torch.optim.Adam([p for _, p, _ in rows], lr=0.05)
    target = torch.rand_like(IMAGES)
    losses = []
    for _ in range(5):
        optimiser.zero_grad()
        loss = (more(IMAGES, more.mix_for("wave")) - target).square().mean()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    after = more.state_dict()
    for key, value in after.items():
        if key in trained:
            assert torch.equal(value[:2], before[key][:2]), key  # the other styles' rows
            assert not torch.equal(value[2], before[key][2]), key
        else:
            assert torch.equal(value, before[key]), key


# --- the network's instance norm --------------------------------------------------------------------------------


def test_the_networks_instance_norm_is_torchs_instance_norm():
    from tutorial_style.realtime.network import InstanceNorm

    norm, reference = InstanceNorm(6), torch.nn.InstanceNorm2d(6, affine=True)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2)
        norm.bias.uniform_(-1, 1)
    reference.load_state_dict(norm.state_dict())  # the same weights, under the same names
    x = torch.randn(3, 6, 11, 7) * 4 + 2
    torch.testing.assert_close(norm(x), reference(x), atol=1e-5, rtol=1e-5)
    assert isinstance(norm, torch.nn.InstanceNorm2d)


# --- the slim network ------------------------------------------------------------------------------------------------


def test_the_slim_network_is_depthwise_separable_smaller_and_keeps_the_image_size():
    slim, default = StyleNetwork(**SLIM), StyleNetwork(**DEFAULT)
    convs = [m for m in slim.modules() if isinstance(m, torch.nn.Conv2d)]
    spatial = [m for m in convs if m.kernel_size != (1, 1)]
    assert spatial and all(
        m.groups == m.in_channels == m.out_channels for m in spatial
    )  # every k x k conv is depthwise
    assert all(m.kernel_size == (1, 1) for m in convs if m.groups == 1)  # the channels are mixed by 1 x 1 convs only
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(slim) * 8 < count(default)
    assert slim(torch.rand(2, 3, 37, 50)).shape == (2, 3, 37, 50)
    assert isinstance(slim.up[0][0], torch.nn.Upsample)  # upsampling, then a convolution: no transposed convolution
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in slim.modules())


# --- The style network's convolutions before instance normalisation have no bias (issue 21) ---------------------------


def test_the_convolutions_before_instance_norm_have_no_bias():
    """Found in issue 21's review (a new user's first hour)."""
    net = StyleNetwork(width=0.25, blocks=2)
    pairs = list(conv_norm_pairs(net))
    assert len(pairs) == 3 + 2 * 2 + 2  # down, two per residual block, up
    assert all(conv.bias is None for conv, _ in pairs)
    assert net.out.bias is not None  # the last convolution has no normalisation after it: it keeps its bias
