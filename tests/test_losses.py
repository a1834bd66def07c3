"""The losses (losses.py: the paper's eqs. 1, 4 and 5) against the equations written out independently."""

import numpy as np
import pytest
import torch

import tutorial_style as ts
from tutorial_style import content_loss, gram_matrix, style_layer_loss, style_loss


def _features(b=2, n=5, h=4, w=3, seed=0):
    return torch.rand(b, n, h, w, generator=torch.Generator().manual_seed(seed))


def test_content_loss_is_half_sum_of_squares_per_image():
    F, P = _features(seed=1), _features(seed=2)
    f, p = F.numpy().astype(np.float64), P.numpy().astype(np.float64)
    expected = [0.5 * sum((f[b].ravel()[k] - p[b].ravel()[k]) ** 2 for k in range(f[b].size)) for b in range(2)]
    np.testing.assert_allclose(content_loss(F, P).numpy(), expected, rtol=1e-5)


def test_content_loss_gradient_is_the_difference():
    F, P = _features(seed=1).requires_grad_(True), _features(seed=2)
    content_loss(F, P).sum().backward()
    torch.testing.assert_close(F.grad, (F - P).detach())


def test_content_loss_zero_for_identical_and_broadcasts_target():
    F = _features(b=3)
    assert content_loss(F, F).abs().max() == 0
    P = _features(b=1, seed=5)
    torch.testing.assert_close(content_loss(F, P), torch.cat([content_loss(F[i : i + 1], P) for i in range(3)]))


def test_style_layer_loss_matches_eq4_written_out():
    F, S = _features(b=2, n=4, h=3, w=2, seed=3), _features(b=1, n=4, h=3, w=2, seed=4)
    A = gram_matrix(S)
    f, a = F.numpy().astype(np.float64), A.numpy().astype(np.float64)[0]
    n, m = 4, 6
    for b in range(2):
        fl = f[b].reshape(n, m)
        g = np.array([[sum(fl[i, k] * fl[j, k] for k in range(m)) for j in range(n)] for i in range(n)])
        e = ((g - a) ** 2).sum() / (4 * n**2 * m**2)
        np.testing.assert_allclose(style_layer_loss(F, A)[b].item(), e, rtol=1e-5)


def test_style_layer_loss_zero_for_own_gram():
    F = _features()
    assert style_layer_loss(F, gram_matrix(F)).abs().max() < 1e-6


def test_style_loss_default_weights_are_one_over_L():
    feats = {"relu1_1": _features(seed=1), "relu2_1": _features(seed=2, n=3)}
    targets = {"relu1_1": gram_matrix(_features(b=1, seed=3)), "relu2_1": gram_matrix(_features(b=1, n=3, seed=4))}
    per_layer = [style_layer_loss(feats[k], targets[k]) for k in targets]
    torch.testing.assert_close(style_loss(feats, targets), (per_layer[0] + per_layer[1]) / 2)
    torch.testing.assert_close(style_loss(feats, targets, {"relu2_1": 1.0}), per_layer[1])
    torch.testing.assert_close(style_loss(feats, targets, [0.25, 0.75]), 0.25 * per_layer[0] + 0.75 * per_layer[1])


@pytest.mark.parametrize(
    "weights, message",
    [([1.0], "1 style weights for 2"), ({"relu9_9": 1.0}, "not style layers"), ([1.0, -1.0], "non-negative")],
)
def test_style_loss_rejects_bad_weights(weights, message):
    feats = {"relu1_1": _features(), "relu2_1": _features()}
    targets = {k: gram_matrix(v[:1]) for k, v in feats.items()}
    with pytest.raises(ValueError, match=message):
        style_loss(feats, targets, weights)


def test_content_loss_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="same N, H, W"):
        content_loss(_features(h=4), _features(h=5))


# --- precision (issue 21) ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, expected",
    [
        (torch.float64, torch.float64),
        (torch.float32, torch.float32),
        (torch.bfloat16, torch.float32),
        (torch.float16, torch.float32),
    ],
)
def test_the_losses_keep_float64_and_promote_lower_precisions_to_float32(dtype, expected):
    """Bug 9: float64 input came back as float32 from gram_matrix, content_loss and tv_loss.
    Found in issue 21's review (a new user's first hour)."""
    x = torch.rand(2, 3, 4, 5).to(dtype)
    assert ts.gram_matrix(x).dtype == expected
    assert ts.content_loss(x, x.flip(0)).dtype == expected
    assert ts.tv_loss(x).dtype == expected
    assert ts.style_layer_loss(x, ts.gram_matrix(x.flip(0))).dtype == expected
    if dtype == torch.float64:  # and float64 is computed in float64, not rounded through float32
        y = torch.full((1, 1, 1, 2), 1 + 2**-40, dtype=torch.float64)
        assert ts.gram_matrix(y).item() == 2 * (1 + 2**-40) ** 2
