"""The exercise checkers of every notebook (notebook/checks.py) accept answers written independently of the
package, catch a slightly wrong one, name typical mistakes, and report "not attempted" for None.

Every answer below is written here from the paper's formulas (einsum, explicit loops, the ImageNet numbers
typed in), never with the package's functions: the checkers compare with those, so an answer built from them
would only show that a function equals itself.
"""

import pytest
import torch
import torch.nn.functional as F_

import tutorial_style.tradeoff as tradeoff
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
    (
        checks.check_style_layer_loss,
        lambda F, A: (
            ((gram_by_loops(F) - A) ** 2).sum(dim=(1, 2)) / (4 * F.shape[1] ** 2 * (F.shape[2] * F.shape[3]) ** 2)
        ),
    ),
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


# --- notebook 07's checks ---------------------------------------------------------------------------------------------


def luminance_by_formula(x):
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def guided_gram_by_einsum(F, T):
    return torch.einsum("bihw,bjhw->bij", F * T, F * T)


@pytest.mark.parametrize(
    "checker, right, mistakes",
    [
        (
            checks.check_luminance,
            luminance_by_formula,
            [
                (lambda x: x.mean(1, keepdim=True), "plain mean"),
                (lambda x: luminance_by_formula(x.flip(1)), "wrong order"),
                (lambda x: luminance_by_formula(x)[:, 0], "keep the channel axis"),
            ],
        ),
        (
            checks.check_guided_gram_matrix,
            guided_gram_by_einsum,
            [
                (lambda F, T: torch.einsum("bihw,bjhw->bij", F, F), "the mask is missing"),
                (lambda F, T: torch.einsum("bihw,bjhw->bij", F * T, F), "one side only"),
                (
                    lambda F, T: guided_gram_by_einsum(F, T) / (F.shape[2] * F.shape[3]),
                    "divided by the number of positions",
                ),
            ],
        ),
    ],
)
def test_the_checks_accept_the_formula_and_name_the_mistakes(checker, right, mistakes):
    assert checker(right), checker(right).message
    assert checker(lambda *args: None).status == "not attempted"
    for wrong, words in mistakes:
        answer = checker(wrong)
        assert not answer and words in answer.message, answer.message

    def slightly(*args):
        return right(*args) * 1.01

    assert not checker(slightly)


# --- notebook 08's checks ---------------------------------------------------------------------------------------------


def instance_norm_by_formula(x):
    n = x.shape[2] * x.shape[3]
    mean = x.sum((2, 3), keepdim=True) / n
    var = ((x - mean) ** 2).sum((2, 3), keepdim=True) / n
    return (x - mean) / (var + 1e-5) ** 0.5


def test_the_instance_norm_check_accepts_the_formula_and_names_the_mistakes():
    assert checks.check_instance_norm(instance_norm_by_formula)
    assert checks.check_instance_norm(lambda x: None).status == "not attempted"
    mistakes = [
        (lambda x: torch.nn.functional.batch_norm(x, None, None, training=True, eps=1e-5), "BATCH normalisation"),
        (lambda x: torch.nn.functional.layer_norm(x, x.shape[1:], eps=1e-5), "LAYER normalisation"),
        (
            lambda x: (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), unbiased=False, keepdim=True),
            "epsilon is missing",
        ),
        (
            lambda x: (x - x.mean((2, 3), keepdim=True)) / (x.var((2, 3), keepdim=True) + 1e-5).sqrt(),
            "unbiased variance",
        ),
        (lambda x: x - x.mean((2, 3), keepdim=True), "only subtracted the mean"),
    ]
    for wrong, words in mistakes:
        answer = checks.check_instance_norm(wrong)
        assert not answer and words in answer.message, answer.message
    assert not checks.check_instance_norm(lambda x: instance_norm_by_formula(x) * 1.01)


@pytest.mark.parametrize(
    "prediction, difference, status",
    [
        (True, 1e-4, "correct"),
        (False, 1e-4, "wrong"),
        (False, 0.3, "correct"),
        (True, 0.3, "wrong"),
        (None, 1e-4, "not attempted"),
        ("yes", 1e-4, "wrong"),
    ],
)
def test_the_contrast_prediction_is_judged_on_the_measurement(prediction, difference, status):
    assert checks.check_contrast_prediction(prediction, difference).status == status


# --- notebook 05's checks ---------------------------------------------------------------------------------------------
# The right answers are written here from the paper's formulas, not with the package's losses: the checkers'
# references are those, so an answer built from them would only show that a function equals itself.


def layer_loss(F, A):
    n, m = F.shape[1], F.shape[2] * F.shape[3]
    return ((gram(F) - A) ** 2).sum(dim=(1, 2)) / (4 * n**2 * m**2)  # paper eq. 4


def total_loss(features, targets_p, targets_a, alpha, beta):
    """alpha L_content + beta L_style (paper eqs. 1, 5, 7), with w_l = 1 / (number of style layers)."""
    lc = sum(0.5 * ((features[n] - targets_p[n]) ** 2).flatten(1).sum(1) for n in targets_p)
    ls = sum(layer_loss(features[n], targets_a[n]) for n in targets_a) / len(targets_a)
    return alpha * lc + beta * ls


def breakdown(features, targets_a):
    """E_l of each style layer, one column per layer, by explicit loops over the images."""
    return torch.tensor(
        [
            [float(layer_loss(features[n][b : b + 1], targets_a[n])) for n in targets_a]
            for b in range(next(iter(features.values())).shape[0])
        ]
    )


def test_total_loss_checker():
    def swapped(features, targets_p, targets_a, alpha, beta):
        return total_loss(features, targets_p, targets_a, beta, alpha)

    assert checks.check_total_loss(total_loss)
    assert checks.check_total_loss(lambda *a: None).status == "not attempted"
    verdict = checks.check_total_loss(swapped)
    assert not verdict and "swapped" in verdict.message
    slightly_off = checks.check_total_loss(lambda *a: 1.001 * total_loss(*a))
    assert not slightly_off and "1.001 times" in slightly_off.message, slightly_off.message


def test_style_breakdown_checker(net):
    assert checks.check_style_breakdown(breakdown)
    assert "transposed" in checks.check_style_breakdown(lambda f, a: breakdown(f, a).T).message
    slightly_off = checks.check_style_breakdown(lambda f, a: 1.001 * breakdown(f, a))
    assert not slightly_off and "1.001 times" in slightly_off.message, slightly_off.message
    # and the package's style_breakdown agrees with the formula
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    _, e = tradeoff.style_breakdown(images, content, style, net, style_layers=("relu1_1", "relu2_1"))
    feats = net(images, ["relu1_1", "relu2_1"])
    targets = {n: gram(f) for n, f in net(style, ["relu1_1", "relu2_1"]).items()}
    torch.testing.assert_close(e, breakdown(feats, targets), rtol=1e-4, atol=0)
