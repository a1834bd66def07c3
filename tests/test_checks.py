"""The exercise checkers accept answers written independently of the package, catch a slightly wrong one, name
typical mistakes, and report "not attempted" for None.

Every answer below is written here from the paper's formulas (einsum, explicit loops, the ImageNet numbers
typed in), never with the package's functions: the checkers compare with those, so an answer built from them
would only show that a function equals itself.
"""

import pytest
import torch
import torch.nn.functional as F_

from tutorial_style.notebook import checks

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)  # torchvision's ImageNet statistics, typed in
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def flat(F):
    return F.reshape(F.shape[0], F.shape[1], -1)


def gram(F):
    """G_ij = sum_k F_ik F_jk (paper eq. 3), per image, with einsum."""
    return torch.einsum("bihw,bjhw->bij", F, F)


def gram_by_loops(F):
    b, n, _, _ = F.shape
    G = torch.zeros(b, n, n)
    for image in range(b):
        for i in range(n):
            for j in range(n):
                G[image, i, j] = (F[image, i] * F[image, j]).sum()
    return G


def content_loss_by_loops(F, P):
    """1/2 sum (F - P)^2 (paper eq. 1), one image at a time; P of batch 1 serves every image."""
    return torch.stack([0.5 * ((F[b] - P[b % P.shape[0]]) ** 2).sum() for b in range(F.shape[0])])


def style_layer_loss_by_formula(F, A):
    """E_l = sum (G - A)^2 / (4 N^2 M^2) (paper eq. 4)."""
    n, m = F.shape[1], F.shape[2] * F.shape[3]
    return ((gram(F) - A) ** 2).sum(dim=(1, 2)) / (4 * n**2 * m**2)


def feature_matrix_by_loops(f):
    """F^l of one image: row i is feature map i read row by row, (N, H W)."""
    _, n, h, w = f.shape
    out = torch.zeros(n, h * w)
    for i in range(n):
        for y in range(h):
            for x in range(w):
                out[i, y * w + x] = f[0, i, y, x]
    return out


def not_written(*args):
    return None


# (checker, a right answer written here, independently of the package)
CORRECT = [
    (checks.check_imagenet_normalize, lambda x: (x - MEAN) / STD),
    (checks.check_feature_matrix, lambda f: f[0].flatten(1)),
    (checks.check_feature_matrix, feature_matrix_by_loops),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum(dim=(1, 2, 3))),
    (checks.check_content_loss, content_loss_by_loops),
    (checks.check_gram_matrix, lambda F: flat(F) @ flat(F).transpose(1, 2)),
    (checks.check_gram_matrix, gram),
    (checks.check_gram_matrix, gram_by_loops),
    (checks.check_style_layer_loss, style_layer_loss_by_formula),
    (checks.check_style_layer_loss, lambda F, A: ((gram_by_loops(F) - A) ** 2).sum(dim=(1, 2)) / (4 * F.shape[1] ** 2 * (F.shape[2] * F.shape[3]) ** 2)),
]


@pytest.mark.parametrize("checker, fn", CORRECT)
def test_the_reference_is_correct(checker, fn):
    result = checker(fn)
    assert result.status == "correct" and bool(result), result.message
    assert result.message.startswith("✅ correct")


@pytest.mark.parametrize("checker, fn", CORRECT)
def test_a_slightly_wrong_answer_is_caught(checker, fn):
    """A right answer scaled by 1.001 (or with one entry moved) is not "correct": the checkers compare numbers."""
    scaled = checker(lambda *args: 1.001 * fn(*args))
    assert scaled.status == "wrong" and "1.001 times" in scaled.message, scaled.message

    def one_entry_off(*args):
        out = fn(*args).clone()
        out.view(-1)[0] += 1e-2 * (1 + out.abs().max())
        return out

    assert checker(one_entry_off).status == "wrong"


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
    (checks.check_gram_matrix, lambda F: gram(F) / (F.shape[2] * F.shape[3]), "divided by M"),
    (checks.check_gram_matrix, lambda F: gram(F) / (F.shape[1] * F.shape[2] * F.shape[3]), "divided by N x M"),
    (checks.check_gram_matrix, lambda F: gram(F)[0], "batch"),
    (checks.check_gram_matrix, lambda F: (flat(F) * flat(F)).sum(-1), "elementwise"),
    (checks.check_gram_matrix, lambda F: 3 * gram(F), "3 times"),
    # content loss (eq. 1)
    (checks.check_content_loss, lambda F, P: ((F - P) ** 2).sum(dim=(1, 2, 3)), "1/2"),
    (checks.check_content_loss, lambda F, P: F_.mse_loss(F, P.expand_as(F)), "mean-squared error"),
    (checks.check_content_loss, lambda F, P: ((F - P) ** 2).flatten(1).mean(1), "mean-squared error"),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum(), "summed over the batch"),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum(dim=(1, 2, 3)).detach(), "no gradient"),
    (checks.check_content_loss, lambda F, P: 0.5 * ((F - P) ** 2).sum().item(), ".item()"),
    (checks.check_content_loss, lambda F, P: 0.5 * (F - P).abs().sum(dim=(1, 2, 3)), "absolute"),
    # style loss of one layer (eq. 4)
    (checks.check_style_layer_loss, lambda F, A: ((gram(F) - A) ** 2).sum(dim=(1, 2)), "normalisation"),
    (
        checks.check_style_layer_loss,
        lambda F, A: ((gram(F) - A) ** 2).sum(dim=(1, 2)) / (F.shape[1] ** 2 * (F.shape[2] * F.shape[3]) ** 2),
        "factor 4",
    ),
    (
        checks.check_style_layer_loss,
        lambda F, A: ((gram(F) - A) ** 2).sum(dim=(1, 2)) / (4 * F.shape[1] ** 2 * F.shape[2] * F.shape[3]),
        "M not squared",
    ),
    # ImageNet normalisation
    (checks.check_imagenet_normalize, lambda x: x - MEAN, "only subtracted"),
    (checks.check_imagenet_normalize, lambda x: (x * 255 - MEAN) / STD, "255"),
    (checks.check_imagenet_normalize, lambda x: (x - STD) / MEAN, "swapped"),
    (checks.check_imagenet_normalize, lambda x: (x - MEAN.flatten()) / STD.flatten(), "(1, 3, 1, 1)"),
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
    assert result.message.startswith("❌ not quite: ")  # the mark with a word: fonts without emoji show a box
    assert words in result.message, result.message
    shown = repr(result).splitlines()  # what the notebook shows: wrapped between words, never inside one
    assert all(len(line) <= checks.WRAP for line in shown) and " ".join(shown) == " ".join(result.message.split())


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
        return 2 * gram(F)

    assert checks.check_gram_matrix(my_gram_matrix).message == checks.check_gram_matrix(my_gram_matrix).message


def test_check_function_is_a_building_block_for_new_checkers():
    double = lambda x: 2 * x  # noqa: E731
    cases = [(checks.seeded(0, 3, 4),)]
    mistakes = [("you forgot to double.", lambda x: x)]
    ok = checks.check_function(double, reference=double, reference_name="double", cases=cases, mistakes=mistakes)
    bad = checks.check_function(lambda x: x, reference=double, reference_name="double", cases=cases, mistakes=mistakes)
    assert ok and not bad and "forgot to double" in bad.message
    assert repr(bad) == bad.message  # a notebook shows the message
