"""The Gram matrix (gram.py, the paper's eq. 3) against einsum, written out here."""

import pytest
import torch

from tutorial_style import gram_matrix


def _features(b=2, n=5, h=4, w=3, seed=0):
    return torch.rand(b, n, h, w, generator=torch.Generator().manual_seed(seed))


def test_gram_matches_einsum_and_is_unnormalised():
    F = _features()
    expected = torch.einsum("bihw,bjhw->bij", F, F)
    torch.testing.assert_close(gram_matrix(F), expected)


def test_gram_is_symmetric_positive_semidefinite():
    G = gram_matrix(_features(b=3, n=8, h=5, w=5))
    torch.testing.assert_close(G, G.transpose(1, 2))
    assert torch.linalg.eigvalsh(G.double()).min() > -1e-6


def test_gram_ignores_where_features_are():
    F = _features(b=1)
    shuffled = F.flatten(2)[:, :, torch.randperm(12)].reshape(F.shape)
    torch.testing.assert_close(gram_matrix(shuffled), gram_matrix(F))


def test_gram_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(B, N, H, W\)"):
        gram_matrix(torch.rand(3, 4, 5))
