"""The Gram matrix: which feature maps fire *together*, wherever in the image that happens.

Paper eq. 3: G^l_ij = sum_k F^l_ik F^l_jk, with F^l the (N_l x M_l) matrix of layer l's N_l feature maps
flattened over their M_l = H_l * W_l positions. Summing over positions throws away *where* things are
and keeps *which features co-occur*: that is the paper's style representation.
"""

from __future__ import annotations

import torch

__all__ = ["gram_matrix", "at_least_float32"]


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in the precision the losses are summed in: float64 stays float64, anything lower (bfloat16, float16,
    integers) becomes float32, so that sums over many positions do not lose their small terms.

    >>> at_least_float32(torch.ones(1, dtype=torch.bfloat16)).dtype, at_least_float32(torch.ones(1, dtype=torch.float64)).dtype
    (torch.float32, torch.float64)
    """  # noqa: E501
    return x.to(torch.promote_types(x.dtype, torch.float32))


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Unnormalised Gram matrices F F^T (paper eq. 3), batched: (B, N, H, W) -> (B, N, N).

    The sum over positions is accumulated in float32 even for lower-precision features (float64 stays float64).

    >>> F = torch.tensor([[[[1.0, 2.0]], [[0.0, 3.0]]]])  # B=1, N=2 maps, H=1, W=2
    >>> gram_matrix(F)
    tensor([[[5., 6.],
             [6., 9.]]])
    """
    if features.dim() != 4:
        raise ValueError(f"gram_matrix takes features of shape (B, N, H, W), got {tuple(features.shape)}")
    b, n = features.shape[:2]
    flat = at_least_float32(features.reshape(b, n, -1))  # F^l: (B, N_l, M_l)
    return torch.bmm(flat, flat.transpose(1, 2))
