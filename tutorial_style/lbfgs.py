"""L-BFGS for a batch of independent images, one loss-and-gradient evaluation per step.

The paper optimises with L-BFGS. ``torch.optim.LBFGS`` treats all parameters as one vector, so a batch of
images (one row of the alpha/beta trade-off, say) would share one curvature history and one step size. Here
every image keeps its own history, its own curvature scale and its own first step, so a batched run gives
the same images as running each one alone (up to float rounding).

Like ``torch.optim.LBFGS`` without a line search (and like neural-style's ``optim.lbfgs``), every step
takes exactly one evaluation: x_{k+1} = x_k - t H_k g_k, with t = min(1, 1 / |g_0|_1) on the first step
and t = 1 afterwards. So ``steps`` counts evaluations honestly.

H_k g_k is computed in the *compact form* of Byrd, Nocedal and Schnabel (1994; Nocedal & Wright eq. 7.24)
instead of the textbook two-loop recursion. Both give the same direction in exact arithmetic, but the
two-loop walks the m = 100 stored pairs one by one (about 1,300 tiny operations per step), while the
compact form reads the whole history in two matrix products and solves two small m x m triangular systems:
a dozen operations whatever m is. On a GPU, where each operation costs a few microseconds to launch, that is
the difference between milliseconds and microseconds per step. Everything stays on the device: there is no
``.item()``, and once the history is full (after m steps) no shape changes from step to step.

The history holds (s, y) pairs of the whole image, 2 numbers per pixel and colour, so m = 100 pairs of a
512 px image take about 600 MB. A run of ``steps`` evaluations makes at most ``steps - 1`` pairs: given
``steps``, only that many slots are allocated (a 70-step run keeps 69, not 100).

One difference from ``torch.optim.LBFGS``: a pair (s, y) with curvature y.s <= 1e-10 is refused by both (here
also one whose y.s or y.y is not a finite number), but torch keeps its older pairs while here the refused pair
still takes its slot in the ring (as zeros; shared slot positions keep the batch in step), so an image may hold
fewer than ``history_size`` pairs for a while. A slot an image does not use is left out of the solves by
selection (``torch.where``), never by multiplying with 0, which would turn an overflowed product into NaN.
``tests/test_lbfgs.py`` checks whole runs against a two-loop L-BFGS written out in the test, and against
``torch.optim.LBFGS`` as far as the rules agree.

Restarts. When an evaluation is not finite (a blow-up), the loop sends that image back to its best image so
far, with the *true* gradient it had there, and passes ``restart=True`` for it. The optimiser then forms no
pair from the failed iterate to that point, forgets the image's history, and takes a first step again,
t = min(1, 1 / |g|_1) along -g. We do not reuse the last curvature scale s.y / y.y: it was measured along
the path that just ended in a non-finite loss, while the first step is the most cautious one the method has,
and one step later the new pair gives a fresh scale. If the failed step was itself a first step (the run's
first step, or the one after a restart), it started from this very point: repeating it would fail again, so
the step is made 10 times shorter, again each time. The other images of the batch are not affected.
"""

from __future__ import annotations

import torch

__all__ = ["BatchedLBFGS"]

RESTART_SHRINK = 0.1  # a first step that failed is retried this much shorter


class BatchedLBFGS:
    """Per-image L-BFGS state for a batch ``x`` of shape (B, ...).

    ``step(x, grad, restart=None)`` returns the next iterate, a new tensor: the caller may overwrite ``x`` and
    ``grad`` afterwards (``x.copy_(opt.step(x, g))``), the optimiser keeps its own copies. ``restart`` is a (B,)
    bool tensor marking the images whose ``x`` is a point they jumped back to (their best image so far, after a
    non-finite loss) with its true gradient: see "Restarts" in the module's docstring.

    ``history_size`` is the number m of pairs (s, y) kept (100, as ``torch.optim.LBFGS``). ``steps``, the number
    of evaluations the run will take, if known: the history then gets min(m, steps - 1) slots, all a run that
    long can fill (more calls than that are fine: the ring just wraps around sooner).

    >>> opt = BatchedLBFGS(history_size=5)
    >>> x = torch.tensor([[3.0, -2.0], [1.0, 1.0]])  # two images, each minimising |x|^2 / 2
    >>> for _ in range(4):
    ...     x = opt.step(x, grad=x.clone())
    >>> x.abs().max() < 1e-6
    tensor(True)
    """

    def __init__(self, history_size: int = 100, curvature_eps: float = 1e-10, steps: int | None = None):
        if isinstance(history_size, bool) or not isinstance(history_size, int) or history_size < 1:
            raise ValueError(f"history_size must be a whole number of pairs, at least 1, got {history_size!r}")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"steps must be None or a positive whole number of evaluations, got {steps!r}")
        self.m = history_size if steps is None else max(1, min(history_size, steps - 1))
        self.eps = curvature_eps
        # The history, one ring of m slots per image: pairs[:, i] = (s_i, y_i), so the slots written so far are
        # one contiguous block that a single matrix product reads. sy[:, i, j] = s_i.y_j and yy[:, i, j] = y_i.y_j
        # are kept up to date pair by pair (float64: the small solves below are where rounding would hurt).
        self.pairs = self.sy = self.yy = self.valid = None  # (B, m, 2, D), (B, m, m), (B, m, m), (B, m) bool
        self.filled = 0  # slots written so far (the same for every image)
        self.head = 0  # next slot to write; once all are written, slots head, head+1, ... run oldest to newest
        self.fresh = None  # (B,) True where the next step is a first step
        self.gamma = None  # (B,) initial inverse-Hessian scale s.y / y.y of the newest accepted pair
        self.shrink = None  # (B,) factor on the first step: RESTART_SHRINK ** (first steps failed in a row)
        self.was_first = None  # (B,) True where the last step was a first step
        self.prev_x = self.prev_g = None  # (B, D) copies of the last point and its gradient

    def step(self, x: torch.Tensor, grad: torch.Tensor, restart: torch.Tensor | None = None) -> torch.Tensor:
        b = x.shape[0]
        xf, g = x.detach().reshape(b, -1), grad.detach().reshape(b, -1).to(x.dtype)
        if restart is not None:
            restart = torch.as_tensor(restart, dtype=torch.bool, device=x.device)
            if restart.shape != (b,):
                raise ValueError(
                    f"restart must be a (B,) bool tensor, one per image (B = {b}), got shape {tuple(restart.shape)}"
                )
        if self.pairs is None:
            self.pairs = xf.new_empty(b, self.m, 2, xf.shape[1])  # written slot by slot, never read before
            self.sy = xf.new_zeros(b, self.m, self.m, dtype=torch.float64)
            self.yy = torch.zeros_like(self.sy)
            self.valid = torch.zeros(b, self.m, dtype=torch.bool, device=x.device)
            self.fresh = torch.ones(b, dtype=torch.bool, device=x.device)
            self.gamma = xf.new_ones(b)
            self.shrink = xf.new_ones(b)
            self.prev_x, self.prev_g = xf.clone(), g.clone()  # copies: the caller may overwrite x and grad in place
            direction = -g
        else:
            if xf.shape != self.prev_x.shape:
                before, now = tuple(self.prev_x.shape), tuple(xf.shape)
                raise ValueError(f"x changed shape from {before} to {now} (flattened); use a new BatchedLBFGS")
            keep = None if restart is None else ~restart  # no pair from the failed iterate to the point jumped back to
            products = self._remember(xf - self.prev_x, g - self.prev_g, g, keep)
            if restart is not None:
                self.valid &= keep[:, None]
                self.fresh |= restart
                self.gamma = torch.where(restart, torch.ones_like(self.gamma), self.gamma)
                again = torch.where(self.was_first, self.shrink * RESTART_SHRINK, torch.ones_like(self.shrink))
                self.shrink = torch.where(restart, again, self.shrink)
            direction = -self._inverse_hessian_times(g, products)
            self.prev_x.copy_(xf)
            self.prev_g.copy_(g)
        first = torch.clamp(1.0 / g.abs().sum(dim=1).clamp_min(1e-30), max=1.0) * self.shrink
        t = torch.where(self.fresh, first, torch.ones_like(first))
        new = xf + t[:, None] * direction
        self.was_first, self.fresh = self.fresh, torch.zeros_like(self.fresh)
        return new.reshape(x.shape)

    def _written(self) -> torch.Tensor:
        """The slots written so far as one (B, 2n, D) block: rows s_0, y_0, s_1, y_1, ..."""
        b, _, _, d = self.pairs.shape
        return self.pairs[:, : self.filled].reshape(b, 2 * self.filled, d)

    def _remember(self, s: torch.Tensor, y: torch.Tensor, g: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """Store the pair (s, y) for each image whose curvature y.s is positive (and ``keep``); others get zeros.

        Returns the products of the written slots with g, (B, n, 2) with [:, i] = (s_i.g, y_i.g), which the
        direction needs: computed in the same pass over the history as the new pair's products.
        """
        k = self.head
        ys = (y * s).sum(dim=1)
        yy = (y * y).sum(dim=1)
        # False for NaN; an infinite s or y makes y.s infinite or NaN: stored pairs are always finite numbers.
        ok = torch.isfinite(ys) & (ys > self.eps) & torch.isfinite(yy)
        if keep is not None:
            ok &= keep
        # A refused pair is stored as zeros, so even a NaN in it cannot reach the solves.
        s = torch.where(ok[:, None], s, torch.zeros_like(s))
        y = torch.where(ok[:, None], y, torch.zeros_like(y))
        self.pairs[:, k, 0], self.pairs[:, k, 1] = s, y
        self.head, self.filled = (k + 1) % self.m, min(self.filled + 1, self.m)
        n = self.filled
        # One pass over the history: (s_i, y_i) . (g, s, y) gives S'g, Y'g and the new row and column of sy and yy.
        # (g, s, y) stacked as rows and transposed: a (D, 3) operand laid out row by row is 2-3x slower on CPUs.
        products = torch.bmm(self._written(), torch.stack([g, s, y], dim=1).transpose(1, 2)).reshape(-1, n, 2, 3)
        wide = products.double()
        self.sy[:, :n, k] = wide[:, :, 0, 2]  # s_i . y_new
        self.sy[:, k, :n] = wide[:, :, 1, 1]  # s_new . y_j
        self.yy[:, :n, k] = self.yy[:, k, :n] = wide[:, :, 1, 2]  # y_i . y_new
        self.valid[:, k] = ok
        self.gamma = torch.where(ok, ys / yy.clamp_min(1e-30), self.gamma)
        return products[..., 0]

    def _inverse_hessian_times(self, g: torch.Tensor, products: torch.Tensor) -> torch.Tensor:
        """H g in compact form: gamma g + S p - gamma Y z, with z = R^-1 S'g and
        p = R^-T((D + gamma Y'Y) z - gamma Y'g).

        R is the upper triangle of S'Y with the pairs in time order, D its diagonal. A slot an image has not
        accepted (refused or forgotten) gets a row and column of zeros, 1 on R's diagonal and 0 in S'g and
        Y'g: its z and p are then 0, so it contributes nothing. The zeros are selected, not multiplied in: a
        forgotten slot may hold a product that overflowed, and inf x 0 is NaN.
        """
        n, m = self.filled, self.m
        order = (torch.arange(n, device=g.device) + self.head - n) % m  # written slots, oldest to newest
        valid = self.valid[:, order]
        both = valid[:, :, None] & valid[:, None, :]
        zero = g.new_zeros((), dtype=torch.float64)
        sy = torch.where(both, self.sy[:, order][:, :, order], zero)
        yy = torch.where(both, self.yy[:, order][:, :, order], zero)
        r = torch.triu(sy) + torch.diag_embed((~valid).double())
        d = torch.diagonal(sy, dim1=1, dim2=2)[..., None]
        gamma = self.gamma.double()[:, None, None]
        sg, yg = torch.where(valid[..., None], products[:, order].double(), zero).unbind(
            dim=2
        )  # (B, n) each, time order
        z = torch.linalg.solve_triangular(r, sg[..., None], upper=True)
        p = torch.linalg.solve_triangular(
            r.transpose(1, 2), d * z + gamma * (yy @ z) - gamma * yg[..., None], upper=False
        )
        coefficients = torch.zeros(g.shape[0], n, 2, dtype=torch.float64, device=g.device)
        coefficients[:, order, 0] = p[..., 0]
        coefficients[:, order, 1] = -(gamma * z)[..., 0]
        combination = torch.bmm(coefficients.to(g.dtype).reshape(g.shape[0], 1, 2 * n), self._written())[:, 0]
        return self.gamma[:, None] * g + combination
