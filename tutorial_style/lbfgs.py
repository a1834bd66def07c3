"""L-BFGS for a batch of independent images, one loss-and-gradient evaluation per step.

The paper optimises with L-BFGS. ``torch.optim.LBFGS`` treats all parameters as one vector, so a batch of
images (one row of the alpha/beta trade-off, say) would share one curvature history and one step size. Here
every image keeps its own history, its own curvature scale and its own first step, so a batched run gives
the same images as running each one alone (up to float rounding).

Like ``torch.optim.LBFGS`` without a line search (and like neural-style's ``optim.lbfgs``), every step
takes exactly one evaluation: x_{k+1} = x_k - t H_k g_k, with t = min(1, 1 / |g_0|_1) on the first step
and t = 1 afterwards. So ``steps`` counts evaluations honestly. Everything stays on the device: there is
no ``.item()`` in a step.
"""

from __future__ import annotations

import torch

__all__ = ["BatchedLBFGS"]


class BatchedLBFGS:
    """Per-image L-BFGS state for a batch ``x`` of shape (B, ...).

    ``step(x, grad, restart)`` returns the next iterate; ``restart`` (B,) bool forgets an image's history
    (used after a non-finite loss, when the caller puts the best image back).

    >>> opt = BatchedLBFGS(history_size=5)
    >>> x = torch.tensor([[3.0, -2.0], [1.0, 1.0]])  # two images, each minimising |x|^2 / 2
    >>> for _ in range(4):
    ...     x = opt.step(x, grad=x.clone())
    >>> x.abs().max() < 1e-6
    tensor(True)
    """

    def __init__(self, history_size: int = 100, curvature_eps: float = 1e-10):
        self.m = history_size
        self.eps = curvature_eps
        self.s = self.y = self.rho = self.valid = None  # (B, m, D), (B, m, D), (B, m), (B, m)
        self.filled = 0  # slots written so far (the same for every image)
        self.head = 0  # next slot to write
        self.fresh = None  # (B,) True where the next step is a first step
        self.gamma = None  # (B,) initial inverse-Hessian scale s.y / y.y
        self.prev_x = self.prev_g = None

    def step(self, x: torch.Tensor, grad: torch.Tensor, restart: torch.Tensor | None = None) -> torch.Tensor:
        b = x.shape[0]
        xf, g = x.detach().reshape(b, -1), grad.detach().reshape(b, -1).to(x.dtype)
        if self.s is None:
            d = xf.shape[1]
            self.s = xf.new_zeros(b, self.m, d)
            self.y = xf.new_zeros(b, self.m, d)
            self.rho = xf.new_zeros(b, self.m)
            self.valid = torch.zeros(b, self.m, dtype=torch.bool, device=x.device)
            self.fresh = torch.ones(b, dtype=torch.bool, device=x.device)
            self.gamma = xf.new_ones(b)
        else:
            self._remember(xf - self.prev_x, g - self.prev_g)
        if restart is not None:
            self.valid &= ~restart[:, None]
            self.fresh |= restart
            self.gamma = torch.where(restart, torch.ones_like(self.gamma), self.gamma)
        direction = -self._inverse_hessian_times(g)
        first = torch.clamp(1.0 / g.abs().sum(dim=1).clamp_min(1e-30), max=1.0)
        t = torch.where(self.fresh, first, torch.ones_like(first))
        new = xf + t[:, None] * direction
        self.prev_x, self.prev_g = xf, g
        self.fresh = torch.zeros_like(self.fresh)
        return new.reshape(x.shape)

    def _remember(self, s: torch.Tensor, y: torch.Tensor) -> None:
        """Store the pair (s, y) for each image whose curvature y.s is positive; others keep their history."""
        ys = (y * s).sum(dim=1)
        ok = ys > self.eps  # False for NaN too
        slot = self.head
        # A refused pair is stored as zeros, so even a NaN in it cannot reach the two-loop recursion.
        self.s[:, slot] = torch.where(ok[:, None], s, torch.zeros_like(s))
        self.y[:, slot] = torch.where(ok[:, None], y, torch.zeros_like(y))
        self.rho[:, slot] = torch.where(ok, 1.0 / torch.where(ok, ys, torch.ones_like(ys)), torch.zeros_like(ys))
        self.valid[:, slot] = ok
        self.gamma = torch.where(ok, ys / (y * y).sum(dim=1).clamp_min(1e-30), self.gamma)
        self.head = (self.head + 1) % self.m
        self.filled = min(self.filled + 1, self.m)

    def _inverse_hessian_times(self, g: torch.Tensor) -> torch.Tensor:
        """The two-loop recursion, newest pair first; pairs an image did not accept count as zero."""
        q = g.clone()
        order = [(self.head - 1 - j) % self.m for j in range(self.filled)]
        alphas = []
        for slot in order:
            a = self.rho[:, slot] * (self.s[:, slot] * q).sum(dim=1) * self.valid[:, slot]
            q -= a[:, None] * self.y[:, slot]
            alphas.append(a)
        r = self.gamma[:, None] * q
        for slot, a in zip(reversed(order), reversed(alphas)):
            beta = self.rho[:, slot] * (self.y[:, slot] * r).sum(dim=1) * self.valid[:, slot]
            r += (a - beta)[:, None] * self.s[:, slot]
        return r
