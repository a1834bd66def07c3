"""VGG19's layers under the paper's names (layers.py): the table against torchvision's modules, receptive fields
and strides, and the names a learner types, refused with a hint (check_layers)."""

from __future__ import annotations

import pytest
import torchvision
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from tutorial_style import LAYER_INFO, LAYERS, PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS
from tutorial_style.vgg import check_layers


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


def test_check_layers_suggests_the_closest_name():
    with pytest.raises(ValueError, match="did you mean 'relu3_1'"):
        check_layers(["relu31"])
    with pytest.raises(ValueError, match="empty"):
        check_layers([])


# --- the names a learner types (issue 5) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, suggested",
    [
        ("conv42", "relu4_2"),
        ("Conv4-2", "relu4_2"),
        ("relu31", "relu3_1"),
        ("conv 5 1", "relu5_1"),
        ("pool 3", "pool3"),
        ("rleu2_1", "relu2_1"),
    ],
)
def test_unknown_layer_suggests_the_layer_meant(typed, suggested):
    with pytest.raises(ValueError) as error:
        check_layers([typed], "content_layers")
    message = str(error.value)
    assert f"did you mean {suggested!r}" in message and "content_layers" in message
    if typed == "conv42":  # the paper's name: both readings are offered
        assert "'conv4_2'" in message and "paper" in message


@given(st.text(max_size=12))
def test_any_layer_name_is_either_valid_or_refused_with_a_hint(name):
    try:
        assert check_layers([name]) == (name,)
    except ValueError as e:
        assert name not in LAYER_INFO and repr(name) in str(e)
