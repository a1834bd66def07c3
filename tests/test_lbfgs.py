"""The batched L-BFGS against torch.optim.LBFGS, and the independence of the images of a batch."""

import math

import pytest
import torch

from tutorial_style.lbfgs import BatchedLBFGS


def convex(x: torch.Tensor) -> torch.Tensor:
    """A strictly convex test function, one value per row of x (B, 6): 1/2 x'Qx + 1/4 sum x^4 - c'x with Q
    ill-conditioned (eigenvalues 0.1 ... 10). Every pair (s, y) has positive curvature, so L-BFGS keeps them all."""
    return 0.5 * ((x @ Q) * x).sum(dim=1) + 0.25 * (x**4).sum(dim=1) - x @ C


_basis = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
Q = _basis @ torch.diag(torch.logspace(-1, 1, 6, dtype=torch.float64)) @ _basis.T
C = torch.arange(1.0, 7.0, dtype=torch.float64)
STARTS = torch.tensor([[-1.2, 1.0, -0.5, 0.8, 2.0, 0.0], [0.3, -0.7, 1.1, 0.2, -2.0, 1.5]], dtype=torch.float64)


def torch_lbfgs_path(x0: torch.Tensor, steps: int, history_size: int) -> list[torch.Tensor]:
    """Iterates of torch.optim.LBFGS without line search, one evaluation per step (max_iter=1)."""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=history_size,
                            tolerance_grad=-1, tolerance_change=-math.inf, line_search_fn=None)  # fmt: skip

    def closure():
        opt.zero_grad()
        loss = convex(x[None]).sum()
        loss.backward()
        return loss

    path = []
    for _ in range(steps):
        opt.step(closure)
        path.append(x.detach().clone())
    return path


def ours_path(x0: torch.Tensor, steps: int, history_size: int) -> list[torch.Tensor]:
    """Iterates of BatchedLBFGS for a batch of starting points x0 (B, n)."""
    opt, x, path = BatchedLBFGS(history_size=history_size), x0.clone(), []
    for _ in range(steps):
        xg = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(convex(xg).sum(), xg)
        x = opt.step(x, grad)
        path.append(x)
    return path


@pytest.mark.parametrize("history_size", [100, 3])  # 3: the ring buffer wraps around many times
def test_each_image_follows_torch_lbfgs_step_for_step(history_size):
    starts, steps = STARTS, 40
    ours = ours_path(starts, steps, history_size)
    for i in range(len(starts)):
        reference = torch_lbfgs_path(starts[i], steps, history_size)
        # Step for step until, near the optimum, a pair's curvature y.s falls under 1e-10 and is refused: torch
        # then keeps its older pairs, ours gives the slot up (see lbfgs.py). Both still reach the same optimum.
        for k in range(12):
            torch.testing.assert_close(ours[k][i], reference[k], rtol=1e-12, atol=1e-12, msg=f"image {i}, step {k}")
        torch.testing.assert_close(ours[-1][i], reference[-1], rtol=1e-8, atol=1e-8)
    gradient = Q @ ours[-1].T + ours[-1].T ** 3 - C[:, None]
    assert float(gradient.abs().max()) < 1e-6  # and both converged


def test_restart_forgets_only_that_images_history():
    starts = STARTS
    opt, x = BatchedLBFGS(), starts.clone()
    for k in range(12):
        xg = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(convex(xg).sum(), xg)
        restart = torch.tensor([k == 8, False])
        x = opt.step(x, grad, restart=restart)
        if k == 8:
            # image 0 restarts: a first step again, -t g with t = min(1, 1 / |g|_1); image 1 goes on unaffected
            g = grad[0]
            torch.testing.assert_close(x[0], xg[0].detach() - min(1.0, 1 / float(g.abs().sum())) * g)
    alone = ours_path(starts[1:], 12, 100)[-1]
    torch.testing.assert_close(x[1:], alone, rtol=1e-12, atol=1e-12)
