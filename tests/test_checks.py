"""The exercise checkers accept the reference, name typical mistakes, and report "not attempted" for None."""

import pytest
import torch
import torch.nn.functional as F_

import tutorial_style as ts
from tutorial_style import checks
from tutorial_style.vgg import IMAGENET_MEAN, IMAGENET_STD

MEAN = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def flat(F):
    return F.reshape(F.shape[0], F.shape[1], -1)


def not_written(*args):
    return None


# (checker, the reference answer written as a learner would)
CORRECT = [
    (checks.check_imagenet_normalize, lambda x: (x - MEAN) / STD),
    (checks.check_feature_matrix, lambda f: f[0].flatten(1)),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum(dim=(1, 2, 3))),
    (checks.check_gram_matrix, lambda F: flat(F) @ flat(F).transpose(1, 2)),
    (checks.check_gram_matrix, ts.gram_matrix),
    (checks.check_content_loss, ts.content_loss),
    (checks.check_style_layer_loss, ts.style_layer_loss),
    (
        checks.check_style_layer_loss,
        lambda F, A: ((ts.gram_matrix(F) - A) ** 2).sum(dim=(1, 2)) / (4 * F.shape[1] ** 2 * (F.shape[2] * F.shape[3]) ** 2),
    ),
]


@pytest.mark.parametrize("checker, fn", CORRECT)
def test_the_reference_is_correct(checker, fn):
    result = checker(fn)
    assert result.status == "correct" and bool(result), result.message
    assert result.message.startswith("✅ correct")


@pytest.mark.parametrize(
    "checker, reference",
    [
        (checks.check_imagenet_normalize, "VGG19Features"),
        (checks.check_feature_matrix, "flatten(1)"),
        (checks.check_content_loss, "ts.content_loss"),
        (checks.check_gram_matrix, "ts.gram_matrix"),
        (checks.check_style_layer_loss, "ts.style_layer_loss"),
    ],
)
def test_none_means_not_attempted_and_the_notebook_goes_on(checker, reference):
    def my_function(*args):
        return None  # your code here

    result = checker(my_function)
    assert result.status == "not attempted" and not result
    assert "my_function" in result.message and "not written yet" in result.message
    assert reference in result.message  # says what the notebook continues with


def test_not_implemented_error_also_means_not_attempted():
    def my_gram_matrix(F):
        raise NotImplementedError

    assert checks.check_gram_matrix(my_gram_matrix).status == "not attempted"


MISTAKES = [
    # Gram matrix (eq. 3)
    (checks.check_gram_matrix, lambda F: flat(F).transpose(1, 2) @ flat(F), "F^T F"),
    (checks.check_gram_matrix, lambda F: ts.gram_matrix(F) / (F.shape[2] * F.shape[3]), "divided by M"),
    (checks.check_gram_matrix, lambda F: ts.gram_matrix(F) / (F.shape[1] * F.shape[2] * F.shape[3]), "divided by N x M"),
    (checks.check_gram_matrix, lambda F: ts.gram_matrix(F)[0], "batch"),
    (checks.check_gram_matrix, lambda F: (flat(F) * flat(F)).sum(-1), "elementwise"),
    (checks.check_gram_matrix, lambda F: 3 * ts.gram_matrix(F), "3 times"),
    # content loss (eq. 1)
    (checks.check_content_loss, lambda F, P: ((F - P) ** 2).sum(dim=(1, 2, 3)), "1/2"),
    (checks.check_content_loss, lambda F, P: F_.mse_loss(F, P.expand_as(F)), "mean-squared error"),
    (checks.check_content_loss, lambda F, P: ((F - P) ** 2).flatten(1).mean(1), "mean-squared error"),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum(), "summed over the batch"),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum(dim=(1, 2, 3)).detach(), "no gradient"),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum().item(), ".item()"),
    (checks.check_content_loss, lambda F, P: 0.5 * (F - P).abs().sum(dim=(1, 2, 3)), "absolute"),
    # style loss of one layer (eq. 4)
    (checks.check_style_layer_loss, lambda F, A: ((ts.gram_matrix(F) - A) ** 2).sum(dim=(1, 2)), "normalisation"),
    (
        checks.check_style_layer_loss,
        lambda F, A: ((ts.gram_matrix(F) - A) ** 2).sum(dim=(1, 2)) / (F.shape[1] ** 2 * (F.shape[2] * F.shape[3]) ** 2),
        "factor 4",
    ),
    (
        checks.check_style_layer_loss,
        lambda F, A: ((ts.gram_matrix(F) - A) ** 2).sum(dim=(1, 2)) / (4 * F.shape[1] ** 2 * F.shape[2] * F.shape[3]),
        "M not squared",
    ),
    # ImageNet normalisation
    (checks.check_imagenet_normalize, lambda x: x - MEAN, "only subtracted"),
    (checks.check_imagenet_normalize, lambda x: (x * 255 - MEAN) / STD, "255"),
    (checks.check_imagenet_normalize, lambda x: (x - STD) / MEAN, "swapped"),
    (checks.check_imagenet_normalize, lambda x: (x - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD), "(1, 3, 1, 1)"),
    (checks.check_imagenet_normalize, lambda x: x.sub_(MEAN).div_(STD), "in place"),
    # feature matrix
    (checks.check_feature_matrix, lambda f: f[0].flatten(1).T, "transposed"),
    (checks.check_feature_matrix, lambda f: f.view(-1, f.shape[1]), "scrambled"),
    (checks.check_feature_matrix, lambda f: f[0].reshape(-1, f.shape[1]).T, "scrambled"),
    (checks.check_feature_matrix, lambda f: f.flatten(2), "batch axis"),
    (checks.check_feature_matrix, lambda f: f[0].permute(1, 2, 0).reshape(f.shape[1], -1), "permute"),
]


@pytest.mark.parametrize("checker, fn, words", MISTAKES)
def test_typical_mistakes_are_named(checker, fn, words):
    result = checker(fn)
    assert result.status == "wrong" and not result
    assert result.message.startswith("❌")
    assert words in result.message, result.message


def test_an_error_in_the_learners_code_is_reported_not_raised():
    def my_gram_matrix(F):
        return F @ F  # (B, N, H, W) @ (B, N, H, W): shapes do not fit

    result = checks.check_gram_matrix(my_gram_matrix)
    assert result.status == "wrong"
    assert "my_gram_matrix raised RuntimeError" in result.message


def test_a_non_tensor_and_a_non_function_are_explained():
    assert "torch.Tensor" in checks.check_gram_matrix(lambda F: F.tolist()).message
    assert "function itself" in checks.check_gram_matrix(torch.zeros(2)).message


def test_wrong_shapes_are_reported_with_both_shapes():
    result = checks.check_gram_matrix(lambda F: torch.zeros(7, 7))
    assert "(7, 7)" in result.message and "(2, 3, 3)" in result.message


def test_checks_are_deterministic():
    def my_gram_matrix(F):
        return 2 * ts.gram_matrix(F)

    assert checks.check_gram_matrix(my_gram_matrix).message == checks.check_gram_matrix(my_gram_matrix).message


def test_check_function_is_a_building_block_for_new_checkers():
    double = lambda x: 2 * x  # noqa: E731
    cases = [(checks.seeded(0, 3, 4),)]
    mistakes = [("you forgot to double.", lambda x: x)]
    ok = checks.check_function(double, reference=double, reference_name="double", cases=cases, mistakes=mistakes)
    bad = checks.check_function(lambda x: x, reference=double, reference_name="double", cases=cases, mistakes=mistakes)
    assert ok and not bad and "forgot to double" in bad.message
    assert repr(bad) == bad.message  # a notebook shows the message
