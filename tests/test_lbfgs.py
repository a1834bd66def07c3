"""The batched L-BFGS, run for run against a two-loop L-BFGS written out here, and the first steps against
torch.optim.LBFGS; its use in place, its memory, restarts after a blow-up, and the independence of the images."""

import math

import pytest
import torch

from tutorial_style.lbfgs import RESTART_SHRINK, BatchedLBFGS

_basis = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
Q = _basis @ torch.diag(torch.logspace(-1, 1, 6, dtype=torch.float64)) @ _basis.T
C = torch.arange(1.0, 7.0, dtype=torch.float64)
STARTS = torch.tensor([[-1.2, 1.0, -0.5, 0.8, 2.0, 0.0], [0.3, -0.7, 1.1, 0.2, -2.0, 1.5]], dtype=torch.float64)
NEAR_ZERO = torch.tensor([[0.1, -0.2, 0.05, 0.3, -0.1, 0.0], [0.3, -0.7, 1.1, 0.2, -2.0, 1.5]], dtype=torch.float64)


def convex(x: torch.Tensor) -> torch.Tensor:
    """A strictly convex test function, one value per row of x (B, 6): 1/2 x'Qx + 1/4 sum x^4 - c'x with Q
    ill-conditioned (eigenvalues 0.1 ... 10). Pairs are refused only near the optimum, where y.s underflows 1e-10."""
    return 0.5 * ((x @ Q) * x).sum(dim=1) + 0.25 * (x**4).sum(dim=1) - x @ C


def wells(x: torch.Tensor) -> torch.Tensor:
    """Not convex: a double well along each axis (-2 x^2 + x^4 / 4). From NEAR_ZERO's first row the curvature y.s
    of the first and the fourth pair is negative (about -0.2 and -0.3): pairs refused in the middle of the run."""
    return 0.5 * ((x @ Q) * x).sum(dim=1) + 0.25 * (x**4).sum(dim=1) - 2.0 * (x**2).sum(dim=1) - 0.3 * x @ C


def gradient(f, x: torch.Tensor) -> torch.Tensor:
    xg = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(xg).sum(), xg)
    return g


class TwoLoop:
    """The reference: textbook L-BFGS (Nocedal & Wright, algorithm 7.4), one image at a time, in Python loops.

    The rules of lbfgs.py's docstring, written out: one evaluation per step; the first step (of the run, or after
    a restart) is t = min(1, 1 / |g|_1) along -g, 10 times shorter for each first step in a row that failed;
    t = 1 afterwards. A pair with y.s <= 1e-10 is refused but still takes its place in the ring of the last
    ``m`` pairs; H0 = gamma I with gamma = s.y / y.y of the newest accepted pair (1 before any). A restart forms
    no pair, forgets the ring and makes the next step a first step.
    """

    def __init__(self, m: int, eps: float = 1e-10):
        self.m, self.eps = m, eps
        self.images, self.calls = None, 0
        self.refused = []  # (call, image, y.s) of each refused pair

    def step(self, x, grad, restart=None):
        if self.images is None:
            self.images = [dict(ring=[], gamma=1.0, first=True, was_first=False, shrink=1.0, prev=None) for _ in x]
        out = torch.empty_like(x)
        for i, state in enumerate(self.images):
            again = restart is not None and bool(restart[i])
            out[i] = self._one(state, x[i].clone(), grad[i].clone(), again, i)
        self.calls += 1
        return out

    def _one(self, st, x, g, restart, i):
        if restart and st["prev"] is not None:
            st["ring"], st["gamma"], st["first"] = [], 1.0, True
            st["shrink"] = st["shrink"] * RESTART_SHRINK if st["was_first"] else 1.0
        elif st["prev"] is not None:
            s, y = x - st["prev"][0], g - st["prev"][1]
            ys = float(y @ s)
            st["ring"].append((s, y) if ys > self.eps else None)
            st["ring"] = st["ring"][-self.m :]
            if ys > self.eps:
                st["gamma"] = ys / float(y @ y)
            else:
                self.refused.append((self.calls, i, ys))
        pairs = [p for p in st["ring"] if p is not None]
        q, alphas = g.clone(), []
        for s, y in reversed(pairs):  # newest first
            a = float(s @ q) / float(y @ s)
            q = q - a * y
            alphas.append(a)
        r = st["gamma"] * q
        for (s, y), a in zip(pairs, reversed(alphas)):  # oldest first
            b = float(y @ r) / float(y @ s)
            r = r + (a - b) * s
        t = min(1.0, 1.0 / float(g.abs().sum())) * st["shrink"] if st["first"] else 1.0
        st["was_first"], st["first"] = st["first"], False
        st["prev"] = (x, g)
        return x - t * r


def drive(opt, f, x0, steps, poisoned=(), restart_every_step=False):
    """Run ``opt`` as the optimisation loop does: evaluate, keep each image's best point and its true gradient,
    step. ``poisoned``: (evaluation, image) pairs whose loss is NaN; that image then goes back to its best point
    with ``restart``. Returns the points evaluated, (steps, B, D), and their losses, (steps, B)."""
    x, points, values = x0.clone(), [], []
    best_x, best_g = x0.clone(), torch.zeros_like(x0)
    best_f = torch.full((len(x0),), math.inf, dtype=x0.dtype)
    for k in range(steps):
        g, fx = gradient(f, x), f(x).detach()
        for e, i in poisoned:
            if e == k:
                fx[i], g[i] = math.nan, math.nan
        points.append(x.clone())
        values.append(fx.clone())
        finite = torch.isfinite(fx) & torch.isfinite(g).all(dim=1)
        better = finite & (fx < best_f)
        best_x[better], best_g[better], best_f[better] = x[better], g[better], fx[better]
        restart = ~finite
        if not restart.any() and not restart_every_step:
            restart = None
        x = opt.step(torch.where(finite[:, None], x, best_x), torch.where(finite[:, None], g, best_g), restart=restart)
    return torch.stack(points), torch.stack(values)


# --- whole runs against the reference --------------------------------------------------------------------------


@pytest.mark.parametrize("history_size", [100, 3])  # 3: the ring wraps around many times, refused pairs with it
@pytest.mark.parametrize("f, starts", [(convex, STARTS), (wells, NEAR_ZERO)], ids=["convex", "wells"])
def test_every_step_of_the_run_follows_the_two_loop_reference(f, starts, history_size):
    steps = 60
    ours, _ = drive(BatchedLBFGS(history_size=history_size), f, starts, steps)
    reference = TwoLoop(history_size)
    theirs, _ = drive(reference, f, starts, steps)
    for k in range(steps):
        torch.testing.assert_close(ours[k], theirs[k], rtol=1e-10, atol=1e-10, msg=f"evaluation {k}")
    # the runs went through refused pairs: near the optimum (y.s under 1e-10), and with `wells` also in the middle
    assert len(reference.refused) >= 5
    if f is wells:
        assert any(ys < -0.1 for _, _, ys in reference.refused)
    assert float(gradient(f, ours[-1]).abs().max()) < 1e-6  # and both converged


@pytest.mark.parametrize("history_size", [100, 3])
def test_torch_lbfgs_agrees_until_the_rules_differ(history_size):
    """An outside reference: torch.optim.LBFGS without line search. With 100 pairs nothing leaves the ring in 40
    steps and it agrees on the whole run, refused pairs included. With 3 it agrees until the first refused pair:
    torch then keeps its older pairs where we (and the reference) give the slot up."""
    reference = TwoLoop(history_size)
    ours, _ = drive(BatchedLBFGS(history_size=history_size), convex, STARTS, 40)
    drive(reference, convex, STARTS, 40)
    for i in range(len(STARTS)):
        agree = 40
        if history_size < 40:
            agree = min(call for call, image, _ in reference.refused if image == i) + 1
            assert agree > history_size + 2  # the ring wrapped around before that
        x = STARTS[i].clone().requires_grad_(True)
        opt = torch.optim.LBFGS(
            [x],
            lr=1,
            max_iter=1,
            history_size=history_size,
            tolerance_grad=-1,
            tolerance_change=-math.inf,
            line_search_fn=None,
        )

        def closure():
            opt.zero_grad()
            loss = convex(x[None]).sum()
            loss.backward()
            return loss

        for k in range(1, agree):
            opt.step(closure)
            torch.testing.assert_close(ours[k][i], x.detach(), rtol=1e-12, atol=1e-12, msg=f"image {i}, evaluation {k}")


# --- used the way a loop uses it --------------------------------------------------------------------------------


def test_in_place_use_gives_the_same_run():
    """x.copy_(opt.step(x, g)) with a reused gradient buffer: the optimiser must keep its own copies."""
    opt, x, g = BatchedLBFGS(history_size=5), STARTS.clone(), torch.empty_like(STARTS)
    path = []
    for _ in range(20):
        g.copy_(gradient(convex, x))
        x.copy_(opt.step(x, g))
        path.append(x.clone())
    expected, _ = drive(BatchedLBFGS(history_size=5), convex, STARTS, 21)
    torch.testing.assert_close(torch.stack(path), expected[1:], rtol=1e-12, atol=1e-12)


def test_a_run_allocates_only_the_history_it_can_fill():
    """A run of `steps` evaluations makes at most steps - 1 pairs; 100 slots for a 5-step run is 25x the memory."""
    x = torch.rand(2, 3, 64, 64)

    def state_bytes(opt):
        return sum(t.numel() * t.element_size() for t in vars(opt).values() if isinstance(t, torch.Tensor))

    short, default = BatchedLBFGS(steps=5), BatchedLBFGS()
    for opt in (short, default):
        for _ in range(4):  # the calls a 5-step run makes
            x_next = opt.step(x, x - 0.3)
        assert torch.isfinite(x_next).all()
    image_bytes = x.numel() * x.element_size()
    assert state_bytes(short) <= (2 * 4 + 4) * image_bytes  # 4 pairs (s, y), the last point and gradient, a margin
    assert state_bytes(default) >= 2 * 100 * image_bytes  # without `steps`: the full history, as before
    assert BatchedLBFGS(history_size=10, steps=500).m == 10 and BatchedLBFGS(steps=1).m == 1


def test_a_short_history_gives_the_same_run_and_more_calls_wrap_around():
    full, _ = drive(BatchedLBFGS(), wells, NEAR_ZERO, 12)
    short, _ = drive(BatchedLBFGS(steps=12), wells, NEAR_ZERO, 12)
    torch.testing.assert_close(short, full, rtol=0, atol=0)
    # called beyond `steps`, it is an L-BFGS with steps - 1 pairs
    longer, _ = drive(BatchedLBFGS(steps=4), wells, NEAR_ZERO, 30)
    theirs, _ = drive(TwoLoop(3), wells, NEAR_ZERO, 30)
    torch.testing.assert_close(longer, theirs, rtol=1e-10, atol=1e-10)


# --- restarts after a non-finite loss ---------------------------------------------------------------------------


def test_after_a_blow_up_the_image_restarts_from_its_best_point_with_a_scaled_step():
    """The production pattern: image 0's loss is NaN at evaluation 6; it goes back to its best point with that
    point's true gradient. No evaluation is spent at the same point again, and the step is a first step."""
    poisoned = [(6, 0)]
    points, values = drive(BatchedLBFGS(), wells, NEAR_ZERO, 40, poisoned)
    theirs, _ = drive(TwoLoop(100), wells, NEAR_ZERO, 40, poisoned)
    torch.testing.assert_close(points, theirs, rtol=1e-10, atol=1e-10)
    best = int(torch.argmin(values[:6, 0]))
    g = gradient(wells, points[best, :1])[0]
    torch.testing.assert_close(points[7, 0], points[best, 0] - min(1.0, 1 / float(g.abs().sum())) * g)
    assert values[7, 0] < values[best, 0] and float(gradient(wells, points[-1, :1]).abs().max()) < 1e-6
    alone, _ = drive(BatchedLBFGS(), wells, NEAR_ZERO[1:], 40)
    torch.testing.assert_close(points[:, 1:], alone, rtol=1e-12, atol=1e-12)  # image 1 never noticed


def test_a_restart_flag_that_is_false_changes_nothing():
    plain, _ = drive(BatchedLBFGS(history_size=4), wells, NEAR_ZERO, 30)
    flagged, _ = drive(BatchedLBFGS(history_size=4), wells, NEAR_ZERO, 30, restart_every_step=True)
    torch.testing.assert_close(flagged, plain, rtol=0, atol=0)


def test_a_first_step_that_fails_again_is_shortened():
    """The loss is NaN around the point where the first step from the start lands: repeating that step after
    the restart would fail for ever."""
    x0 = NEAR_ZERO[:1]
    g0 = gradient(convex, x0)
    first = min(1.0, 1 / float(g0.abs().sum())) * g0
    landing, radius = x0 - first, 0.5 * float(first.abs().max())

    def cliff(x):
        return torch.where((x - landing).abs().amax(dim=1) < radius, math.nan, convex(x))

    opt, points = BatchedLBFGS(), []
    x, best = x0.clone(), (x0.clone(), g0)
    for k in range(12):
        points.append(x.clone())
        value = cliff(x)
        if torch.isfinite(value).all():
            if k == 0 or value < convex(best[0]):
                best = (x.clone(), gradient(convex, x))
            x = opt.step(x, gradient(convex, x))
        else:
            x = opt.step(*best, restart=torch.tensor([True]))
    values = torch.cat([cliff(p) for p in points])
    assert math.isnan(values[1]) and torch.isfinite(values[2:]).all(), values
    torch.testing.assert_close(points[2], x0 + RESTART_SHRINK * (points[1] - x0))
    assert values[-1] < values[0] - 1


def test_a_forgotten_pair_whose_products_overflowed_cannot_poison_the_restart():
    """s0 . y1 overflows float32 (1e21 x 1e18): the image's history is broken. After its restart the forgotten
    slots must drop out of the solves (inf x 0 would be NaN); image 1 is not affected at all."""
    opt = BatchedLBFGS()
    inputs = [  # (x, g) of image 0; image 1 gets an ordinary quadratic, g = x - 0.3
        ([0.0, 0.0], [0.0, 0.0]),
        ([1e21, 0.0], [1e-21, 0.0]),  # s0 = (1e21, 0), y0 = (1e-21, 0): y.s = 1
        ([1e21, 1e-17], [1e18, 1e18]),  # s1 = (0, 1e-17), y1 = (1e18, 1e18): y.s = 10, but s0 . y1 = inf
    ]
    x1 = torch.tensor([[0.9, -0.4]])
    for x, g in inputs:
        x1 = opt.step(torch.cat([torch.tensor([x]), x1]), torch.cat([torch.tensor([g]), x1 - 0.3]))[1:]
    assert torch.isinf(opt.sy).any()  # the overflow the test is about happened
    x = torch.cat([torch.tensor([[0.5, 0.5]]), x1])
    out = opt.step(x, torch.cat([torch.tensor([[1.0, 1.0]]), x1 - 0.3]), restart=torch.tensor([True, False]))
    torch.testing.assert_close(out[0], torch.tensor([0.0, 0.0]))  # a first step: t = min(1, 1 / |g|_1) = 1/2
    alone, x = BatchedLBFGS(), torch.tensor([[0.9, -0.4]])
    for _ in range(4):
        x = alone.step(x, x - 0.3)
    torch.testing.assert_close(out[1:], x, rtol=0, atol=0)


def test_bad_arguments_are_named():
    for kwargs, word in [({"history_size": 0}, "history_size"), ({"steps": 0}, "steps"), ({"steps": 2.5}, "steps")]:
        with pytest.raises(ValueError, match=word):
            BatchedLBFGS(**kwargs)
    opt = BatchedLBFGS()
    opt.step(STARTS, STARTS)
    with pytest.raises(ValueError, match="restart"):
        opt.step(STARTS, STARTS, restart=torch.tensor([True]))
