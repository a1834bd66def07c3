"""Checks for the notebooks' exercises: "✅ correct", or precisely what is wrong.

Every exercise works the same way (the design is shared by all notebooks):

1. a cell marked ``# ✏️ EXERCISE`` defines the learner's function, e.g. ``def my_gram_matrix(F): return None``;
2. the next cell calls a checker from here, e.g. ``checks.check_gram_matrix(my_gram_matrix)``;
3. a collapsed "Solution" cell follows; later cells use the package's function, so the notebook runs
   top to bottom whether or not the exercise was done.

A checker runs the learner's function on a few fixed (seeded) inputs, compares it with the package's
reference and, when it differs, with the typical mistakes (a missing 1/2, a mean instead of a sum,
transposed, normalised by M, ...), and answers with a :class:`CheckResult` whose text names the mistake.
A function that still returns ``None`` is "not attempted": the checker says the notebook continues with
the package's reference. The answers are deterministic, so nbval compares them (the cell carries the tag
``nbval-check-output``).

To add a checker: build the inputs with :func:`seeded`, then call :func:`check_function` with the
reference and a list of ``(message, wrong_function)`` mistakes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from ..gram import gram_matrix
from ..layers import IMAGENET_MEAN, IMAGENET_STD
from ..losses import content_loss, style_layer_loss
from ..objective import ContentTerm, Objective, StyleTerm

__all__ = [
    "CheckResult",
    "check_function",
    "seeded",
    "check_imagenet_normalize",
    "check_feature_matrix",
    "check_content_loss",
    "check_gram_matrix",
    "check_style_layer_loss",
]

CORRECT, WRONG, NOT_ATTEMPTED = "correct", "wrong", "not attempted"
WRAP = 100  # characters of a check's message a line: JupyterLab's output holds about 110 in a 1280 px window
Mistake = tuple[str, Callable[..., torch.Tensor]]


@dataclass(frozen=True)
class CheckResult:
    """The answer of a checker. Shown in a notebook as its message; ``bool(result)`` is True when correct."""

    name: str  # the learner's function, e.g. "my_gram_matrix"
    status: str  # "correct", "wrong" or "not attempted"
    message: str

    def __bool__(self) -> bool:
        return self.status == CORRECT

    def __repr__(self) -> str:
        """The message, wrapped between words at :data:`WRAP` characters: Jupyter shows text outputs in a ``<pre>``
        that breaks long lines anywhere, even inside a word."""
        return textwrap.fill(self.message, WRAP, break_long_words=False, break_on_hyphens=False)


def seeded(seed: int, *shape: int, positive: bool = False) -> torch.Tensor:
    """A fixed random tensor (the same on every machine); ``positive`` rectifies it like ReLU features.

    >>> seeded(0, 2, 3).shape, bool((seeded(0, 4, positive=True) >= 0).all())
    (torch.Size([2, 3]), True)
    """
    t = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    return t.clamp_min(0) if positive else t


def check_function(
    fn,
    *,
    reference: Callable[..., torch.Tensor],
    reference_name: str,
    cases: Sequence[tuple],
    mistakes: Sequence[Mistake] = (),
    expected: str = "",
    needs_grad: bool = False,
    rtol: float = 1e-4,
    atol: float = 1e-6,
) -> CheckResult:
    """Compare the learner's ``fn`` with ``reference`` on each tuple of arguments in ``cases``.

    ``reference_name`` is how the notebook refers to the reference (``"ts.gram_matrix"``); ``expected``
    describes the right output in words (``"shape (B, N, N)"``). ``mistakes`` are ``(message, function)``
    pairs: when ``fn`` gives what a mistaken function gives, the message says what went wrong.
    ``needs_grad``: the result must carry gradients to the inputs (an optimiser will differentiate it).
    """
    name = getattr(fn, "__name__", type(fn).__name__)
    if not callable(fn):
        return CheckResult(
            name,
            WRONG,
            f"❌ not quite: pass the function itself, e.g. check(my_function), not its result ({type(fn).__name__}).",
        )
    for number, args in enumerate(cases):
        shapes = ", ".join(str(tuple(a.shape)) if isinstance(a, torch.Tensor) else repr(a) for a in args)
        where = f"(input shapes {shapes})"
        mine = tuple(
            a.detach().clone().requires_grad_(needs_grad and a.is_floating_point())
            if isinstance(a, torch.Tensor)
            else a
            for a in args
        )
        try:
            got = fn(*mine)
        except NotImplementedError:
            got = None
        except Exception as e:  # the learner's code: any error is an answer to explain
            hint = _exception_hint(e)
            return CheckResult(
                name,
                WRONG,
                f"❌ not quite: {name} raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
                f"{where}.{hint}",
            )
        if got is None:
            if number == 0:
                return CheckResult(
                    name,
                    NOT_ATTEMPTED,
                    f"⏳ {name} is not written yet (it returns None). No problem: the notebook goes on with "
                    f"{reference_name}. Fill in the ✏️ EXERCISE cell above and run this check again.",
                )
            return CheckResult(
                name, WRONG, f"❌ not quite: {name} returned None {where}; it should return a tensor ({expected})."
            )
        changed = [
            i
            for i, (a, m) in enumerate(zip(args, mine))
            if isinstance(a, torch.Tensor) and not torch.equal(a, m.detach())
        ]
        if changed:
            return CheckResult(
                name,
                WRONG,
                f"❌ not quite: {name} changed its input (argument {changed[0] + 1}) in place; compute a new tensor "
                "instead (no x.sub_(), x -= ...).",
            )
        if isinstance(got, (int, float)):
            return CheckResult(
                name,
                WRONG,
                f"❌ not quite: {name} returned a Python number ({type(got).__name__}); return a torch.Tensor "
                f"({expected}). Did you call .item()?",
            )
        if not isinstance(got, torch.Tensor):
            return CheckResult(
                name,
                WRONG,
                f"❌ not quite: {name} returned a {type(got).__name__}; return a torch.Tensor ({expected}).",
            )
        with torch.no_grad():
            want = reference(*args)
        verdict = _compare(got.detach().float(), want.float(), args, mistakes, expected, rtol, atol)
        if verdict:
            return CheckResult(name, WRONG, f"❌ not quite: {name}: {verdict} {where}")
        if needs_grad and not got.requires_grad:
            return CheckResult(
                name,
                WRONG,
                f"❌ not quite: {name} gives the right numbers, but they carry no gradient: avoid .detach(), .item(), "
                "numpy and torch.no_grad() inside, so the optimiser can differentiate it.",
            )
    return CheckResult(name, CORRECT, f"✅ correct: {name} matches {reference_name} on {len(cases)} test inputs.")


def _compare(got, want, args, mistakes, expected, rtol, atol) -> str:
    """'' if ``got`` is right, else what is wrong with it."""
    if got.shape == want.shape and torch.allclose(got, want, rtol=rtol, atol=atol):
        return ""
    for message, wrong in mistakes:
        try:
            with torch.no_grad():
                w = wrong(*args).float()
        except Exception:  # a mistake that does not apply to these inputs
            continue
        if w.shape == got.shape and torch.allclose(got, w, rtol=rtol, atol=atol):
            return message
    if got.shape != want.shape:
        return f"the result has shape {tuple(got.shape)}, but it should be {tuple(want.shape)} ({expected})."
    if not torch.isfinite(got).all():
        return "the result contains NaN or infinite values."
    ratio = got / want
    mask = want.abs() > 1e-6
    if mask.any() and torch.allclose(ratio[mask], ratio[mask].flatten()[0].expand_as(ratio[mask]), rtol=1e-3):
        r = float(ratio[mask].flatten()[0])
        return f"right shape, but every value is {r:.4g} times the right one: a scale factor is off."
    diff = (got - want).abs().max()
    return (
        f"right shape, but the values differ (largest difference {float(diff):.3g}, "
        f"largest right value {float(want.abs().max()):.3g})."
    )


def _exception_hint(e: Exception) -> str:
    text = str(e)
    if "must match the size of tensor" in text or "size mismatch" in text:
        return " Hint: line the shapes up for broadcasting (e.g. view a per-channel vector as (1, 3, 1, 1))."
    if "in-place operation" in text:
        return " Hint: compute a new tensor instead of changing the input in place (no x.sub_(), x -= ...)."
    if "mat1 and mat2" in text or "batch1" in text or "Expected size for first two dimensions" in text:
        return " Hint: print the shapes of what you multiply; the inner sizes must agree."
    return ""


# --- Notebook 01: ImageNet normalisation ----------------------------------------------------------


def check_imagenet_normalize(fn) -> CheckResult:
    """Exercise: ``fn(image)`` turns (B, 3, H, W) RGB in [0, 1] into what the ImageNet VGG19 expects."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    mean_t, std_t = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    cases = [
        (torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(1)),),
        (torch.rand(1, 3, 7, 6, generator=torch.Generator().manual_seed(2)),),
    ]
    mistakes = [
        ("you only subtracted the mean; also divide by the standard deviation.", lambda x: x - mean),
        ("you only divided by the standard deviation; subtract the mean first.", lambda x: x / std),
        ("you divided first and subtracted after; it is (image - mean) / std.", lambda x: x / std - mean),
        ("mean and std are swapped: it is (image - mean) / std.", lambda x: (x - std) / mean),
        (
            "the image is already in [0, 1]: do not multiply by 255 (the mean and std are for [0, 1] values).",
            lambda x: (x * 255 - mean) / std,
        ),
        ("the image is already in [0, 1]: do not divide by 255 again.", lambda x: (x / 255 - mean) / std),
        (
            "the mean and std are per colour channel, not one number for all channels.",
            lambda x: (x - mean_t.mean()) / std_t.mean(),
        ),
        (
            "the channels are mixed up: mean[0] and std[0] belong to red, channel 0.",
            lambda x: (x - mean.flip(1)) / std.flip(1),
        ),
    ]
    return check_function(
        fn,
        reference=lambda x: (x - mean) / std,
        reference_name="the normalisation inside ts.VGG19Features",
        cases=cases,
        mistakes=mistakes,
        expected="the same shape as the image, (B, 3, H, W)",
    )


# --- Notebook 02: the feature matrix F^l ---------------------------------------------------------


def check_feature_matrix(fn) -> CheckResult:
    """Exercise: ``fn(features)`` turns one image's features (1, N, H, W) into the paper's F^l, (N, M) with M = H W."""
    cases = [(seeded(3, 1, 3, 4, 5, positive=True),), (seeded(4, 1, 6, 2, 3, positive=True),)]
    mistakes = [
        (
            "the result is transposed: the paper's F^l has one ROW per feature map, (N, M), not (M, N).",
            lambda f: f[0].reshape(f.shape[1], -1).T,
        ),
        (
            "right shape, but the values are scrambled: reshape(-1, N) (or view) followed by .T reads the memory in "
            "the wrong order and mixes feature maps. Keep the channel axis first: reshape(N, -1).",
            lambda f: f[0].reshape(-1, f.shape[1]).T,
        ),
        (
            "that is (M, N) with the values scrambled: reshape(-1, N) mixes feature maps. Use reshape(N, -1), one row "
            "per map.",
            lambda f: f[0].reshape(-1, f.shape[1]),
        ),
        (
            "you kept the batch axis: F^l of one image is (N, M); take features[0] first.",
            lambda f: f.reshape(f.shape[0], f.shape[1], -1),
        ),
        ("everything was flattened into one vector; keep one row per feature map: (N, M).", lambda f: f.flatten()),
        (
            "moving the channels last (permute) before flattening scrambles the rows; reshape the (N, H, W) block "
            "directly.",
            lambda f: f[0].permute(1, 2, 0).reshape(f.shape[1], -1),
        ),
    ]
    return check_function(
        fn,
        reference=lambda f: f[0].reshape(f.shape[1], -1),
        reference_name="features[0].flatten(1)",
        cases=cases,
        mistakes=mistakes,
        expected="shape (N, M) with M = H * W",
    )


# --- Notebook 03: the content loss (paper eq. 1) -------------------------------------------------


def check_content_loss(fn) -> CheckResult:
    """Exercise: ``fn(F, P)``: L_content = 1/2 sum (F - P)^2 per image, (B, N, H, W) twice -> (B,)."""
    F1, P1 = seeded(5, 2, 3, 4, 5, positive=True), seeded(6, 2, 3, 4, 5, positive=True)
    F2, P2 = seeded(7, 3, 2, 3, 3, positive=True), seeded(8, 1, 2, 3, 3, positive=True)  # P with batch 1 broadcasts
    cases = [(F1, P1), (F2, P2)]

    def sq(F, P):
        return ((F - P) ** 2).flatten(1)

    def n_entries(F):
        return F[0].numel()

    mistakes = [
        (
            "every value is twice the right one: the paper's eq. 1 has a factor 1/2 in front of the sum.",
            lambda F, P: sq(F, P).sum(1),
        ),
        (
            "you took a mean (mean-squared error) with the 1/2, like many re-implementations; the paper SUMS over all "
            "N x M entries, and its alpha/beta ratios assume the sum.",
            lambda F, P: 0.5 * sq(F, P).mean(1),
        ),
        (
            "you took the mean-squared error (like F.mse_loss); the paper's eq. 1 is 1/2 times the SUM over all "
            "N x M entries, and its alpha/beta ratios assume the sum.",
            lambda F, P: sq(F, P).mean(1),
        ),
        ("you returned the distance |F - P|, not 1/2 times its square.", lambda F, P: sq(F, P).sum(1).sqrt()),
        (
            "you used absolute differences |F - P|; the paper squares them.",
            lambda F, P: 0.5 * (F - P).abs().flatten(1).sum(1),
        ),
        (
            "you divided by the number of entries N x M; the paper does not normalise the content loss.",
            lambda F, P: 0.5 * sq(F, P).sum(1) / n_entries(F),
        ),
        (
            "you summed over the batch too: return one loss per image, shape (B,), e.g. with .flatten(1).sum(dim=1).",
            lambda F, P: 0.5 * sq(F, P).sum(),
        ),
        (
            "you averaged over the batch: return one loss per image, shape (B,).",
            lambda F, P: 0.5 * sq(F, P).sum(1).mean(),
        ),
        (
            "you took one mean-squared error over everything (like F.mse_loss): the paper's eq. 1 is 1/2 times the "
            "SUM of squares, one value per image, shape (B,).",
            lambda F, P: sq(F, P).mean(),
        ),
        (
            "you took one mean over everything: the paper's eq. 1 is a SUM, one value per image, shape (B,).",
            lambda F, P: 0.5 * sq(F, P).mean(),
        ),
        (
            "you summed over one axis only; sum over all of N, H and W for each image, giving shape (B,).",
            lambda F, P: 0.5 * ((F - P) ** 2).sum(dim=1),
        ),
    ]
    return check_function(
        fn,
        reference=content_loss,
        reference_name="ts.content_loss",
        cases=cases,
        mistakes=mistakes,
        expected="one value per image, shape (B,)",
        needs_grad=True,
    )


# --- Notebook 04: the Gram matrix (eq. 3) and the style loss of one layer (eq. 4) ----------------


def _flat(F):
    return F.reshape(F.shape[0], F.shape[1], -1)


def check_gram_matrix(fn) -> CheckResult:
    """Exercise: ``fn(F)``: G = F F^T per image, (B, N, H, W) -> (B, N, N), unnormalised (paper eq. 3)."""
    cases = [(seeded(9, 2, 3, 4, 5, positive=True),), (seeded(10, 1, 5, 2, 2, positive=True),)]

    def n_m(F):
        return F.shape[1], F.shape[2] * F.shape[3]

    mistakes = [
        (
            "you computed F^T F, which compares POSITIONS (M x M); the Gram matrix compares feature maps: "
            "F F^T, shape (B, N, N).",
            lambda F: _flat(F).transpose(1, 2) @ _flat(F),
        ),
        (
            "you divided by M (the number of positions); the paper's G is an unnormalised sum (eq. 3). The 1/M^2 comes "
            "in E_l (eq. 4).",
            lambda F: gram_matrix(F) / n_m(F)[1],
        ),
        (
            "you divided by N x M (as the PyTorch tutorial does); the paper's G is an unnormalised sum (eq. 3). "
            "The normalisation 1/(4 N^2 M^2) belongs to E_l (eq. 4).",
            lambda F: gram_matrix(F) / (n_m(F)[0] * n_m(F)[1]),
        ),
        (
            "you divided by B x N x M (as the PyTorch tutorial does); the paper's G is unnormalised.",
            lambda F: gram_matrix(F) / (F.shape[0] * n_m(F)[0] * n_m(F)[1]),
        ),
        ("you dropped the batch axis: return one Gram matrix per image, shape (B, N, N).", lambda F: gram_matrix(F)[0]),
        (
            "the batch images were mixed into one matrix: flatten each image separately, (B, N, M), and use "
            "torch.bmm or @ on that.",
            lambda F: (lambda X: X @ X.T)(F.transpose(0, 1).reshape(F.shape[1], -1)),
        ),
        (
            "you multiplied elementwise (F * F); the Gram matrix needs a matrix product, F @ F^T.",
            lambda F: (_flat(F) * _flat(F)).sum(-1),
        ),
        (
            "you subtracted the mean of each map first (a covariance); the paper's G uses the raw features.",
            lambda F: gram_matrix(F - F.mean(dim=(2, 3), keepdim=True)),
        ),
    ]
    return check_function(
        fn,
        reference=gram_matrix,
        reference_name="ts.gram_matrix",
        cases=cases,
        mistakes=mistakes,
        expected="shape (B, N, N): one N x N matrix per image",
    )


def check_style_layer_loss(fn) -> CheckResult:
    """Exercise: ``fn(F, A)``: E_l = sum (G - A)^2 / (4 N^2 M^2) per image (paper eq. 4) -> (B,)."""
    F1 = seeded(11, 2, 3, 4, 5, positive=True)
    A1 = gram_matrix(seeded(12, 1, 3, 4, 5, positive=True))
    F2 = seeded(13, 1, 4, 3, 2, positive=True)
    A2 = gram_matrix(seeded(14, 1, 4, 3, 2, positive=True))
    cases = [(F1, A1), (F2, A2)]

    def sq(F, A):
        return ((gram_matrix(F) - A) ** 2).flatten(1).sum(1)

    def n_m(F):
        return F.shape[1], F.shape[2] * F.shape[3]

    mistakes = [
        ("you left out the normalisation: E_l divides the sum by 4 N^2 M^2.", lambda F, A: sq(F, A)),
        (
            "the factor 4 is missing: E_l = sum / (4 N^2 M^2).",
            lambda F, A: sq(F, A) / (n_m(F)[0] ** 2 * n_m(F)[1] ** 2),
        ),
        (
            "you divided by 4 N M; both N and M are squared: 4 N^2 M^2.",
            lambda F, A: sq(F, A) / (4 * n_m(F)[0] * n_m(F)[1]),
        ),
        (
            "you divided by 4 N^2 M (M not squared): G is a sum over M positions, so (G - A)^2 grows like M^2.",
            lambda F, A: sq(F, A) / (4 * n_m(F)[0] ** 2 * n_m(F)[1]),
        ),
        (
            "you divided by 4 N M^2 (N not squared): there are N^2 entries in G, so divide by N^2.",
            lambda F, A: sq(F, A) / (4 * n_m(F)[0] * n_m(F)[1] ** 2),
        ),
        (
            "you used M = H + W or the wrong M: M is the number of positions, H x W.",
            lambda F, A: sq(F, A) / (4 * n_m(F)[0] ** 2 * (F.shape[2] + F.shape[3]) ** 2),
        ),
        (
            "you took the mean over the N^2 entries and also divided by 4 N^2 M^2: divide once.",
            lambda F, A: sq(F, A) / n_m(F)[0] ** 2 / (4 * n_m(F)[0] ** 2 * n_m(F)[1] ** 2),
        ),
        (
            "you summed over the batch: return one value per image, shape (B,).",
            lambda F, A: (sq(F, A) / (4 * n_m(F)[0] ** 2 * n_m(F)[1] ** 2)).sum(),
        ),
    ]
    return check_function(
        fn,
        reference=style_layer_loss,
        reference_name="ts.style_layer_loss",
        cases=cases,
        mistakes=mistakes,
        expected="one value per image, shape (B,)",
        needs_grad=True,
    )


# --- Notebooks 05-06 ---
# Notebook 05: the total loss (eq. 7). Notebook 06: the per-layer breakdown of the style loss (eqs. 4, 5).

__all__ += ["check_total_loss", "check_style_breakdown"]

_CONTENT_LAYER, _STYLE_LAYERS = "relu4_2", ("relu1_1", "relu2_1")


def _adapt(fn, to_call: Callable) -> Callable:
    """Wrap ``fn`` (which takes dicts of features) so that ``check_function`` can feed it flat tensors."""

    def adapted(*args):
        return to_call(fn, *args)

    adapted.__name__ = getattr(fn, "__name__", type(fn).__name__)
    return adapted


def _style_case(seed: int, b: int):
    """Features of a batch (B images) on two style layers and target Grams of one style image."""
    F1, F2 = seeded(seed, b, 3, 4, 4, positive=True), seeded(seed + 1, b, 5, 2, 2, positive=True)
    A1 = gram_matrix(seeded(seed + 2, 1, 3, 4, 4, positive=True))
    A2 = gram_matrix(seeded(seed + 3, 1, 5, 2, 2, positive=True))
    return F1, A1, F2, A2


def check_total_loss(fn) -> CheckResult:
    """Exercise: ``fn(features, targets_p, targets_a, alpha, beta)`` -> alpha L_content + beta L_style, (B,) (eq. 7).

    ``features``: {layer: (B, N, H, W)} of the image being optimised, on the content layer relu4_2 and the
    style layers; ``targets_p``: {"relu4_2": P}; ``targets_a``: {style layer: A (1, N, N)}; w_l = 1 / (number of
    style layers), as in the paper.
    """
    if not callable(fn):
        return check_function(fn, reference=lambda: None, reference_name="", cases=[])

    def call(f, Fc, P, F1, A1, F2, A2, alpha, beta):
        features = {_CONTENT_LAYER: Fc, _STYLE_LAYERS[0]: F1, _STYLE_LAYERS[1]: F2}
        return f(features, {_CONTENT_LAYER: P}, {_STYLE_LAYERS[0]: A1, _STYLE_LAYERS[1]: A2}, alpha, beta)

    def parts(Fc, P, F1, A1, F2, A2):
        lc = content_loss(Fc, P)
        e1, e2 = style_layer_loss(F1, A1), style_layer_loss(F2, A2)
        return lc, e1, e2

    def reference(Fc, P, F1, A1, F2, A2, alpha, beta):  # what stylize minimises: the package's Objective
        targets = {_STYLE_LAYERS[0]: A1, _STYLE_LAYERS[1]: A2}
        objective = Objective(
            None, {"content": (alpha, ContentTerm({_CONTENT_LAYER: P})), "style": (beta, StyleTerm(targets))}
        )
        features = {_CONTENT_LAYER: Fc, _STYLE_LAYERS[0]: F1, _STYLE_LAYERS[1]: F2}
        return objective.from_features(features, image=Fc)["total"]  # (of the image, only its batch size is read)

    def mistake(formula):
        return lambda Fc, P, F1, A1, F2, A2, alpha, beta: formula(alpha, beta, *parts(Fc, P, F1, A1, F2, A2))

    cases = []
    for seed, (b, alpha, beta) in enumerate([(2, 1e-3, 1.0), (3, 0.5, 2.0)]):
        Fc, P = seeded(40 + seed, b, 4, 3, 3, positive=True), seeded(50 + seed, 1, 4, 3, 3, positive=True)
        cases.append((Fc, P, *_style_case(60 + 10 * seed, b), alpha, beta))
    mistakes = [
        (
            "alpha and beta are swapped: alpha weighs the CONTENT loss, beta the STYLE loss.",
            mistake(lambda a, b, lc, e1, e2: b * lc + a * (e1 + e2) / 2),
        ),
        (
            "the style layers are summed without their weights: L_style = sum_l w_l E_l with w_l = 1 / (number of "
            "style layers), here 1/2 (paper eq. 5).",
            mistake(lambda a, b, lc, e1, e2: a * lc + b * (e1 + e2)),
        ),
        (
            "beta is missing: the style loss must be multiplied by beta.",
            mistake(lambda a, b, lc, e1, e2: a * lc + (e1 + e2) / 2),
        ),
        (
            "alpha is missing: the content loss must be multiplied by alpha.",
            mistake(lambda a, b, lc, e1, e2: lc + b * (e1 + e2) / 2),
        ),
        (
            "you used the ratio alpha/beta on the content loss only; the paper's eq. 7 is alpha L_content + beta "
            "L_style.",
            mistake(lambda a, b, lc, e1, e2: a / b * lc + (e1 + e2) / 2),
        ),
        (
            "only the first style layer counts: L_style sums over ALL the layers in targets_a.",
            mistake(lambda a, b, lc, e1, e2: a * lc + b * e1 / 2),
        ),
        ("only the content loss is there: add beta times the style loss.", mistake(lambda a, b, lc, e1, e2: a * lc)),
        (
            "only the style loss is there: add alpha times the content loss.",
            mistake(lambda a, b, lc, e1, e2: b * (e1 + e2) / 2),
        ),
        (
            "you summed over the batch: return one total per image, shape (B,).",
            mistake(lambda a, b, lc, e1, e2: (a * lc + b * (e1 + e2) / 2).sum()),
        ),
        (
            "you averaged over the batch: return one total per image, shape (B,).",
            mistake(lambda a, b, lc, e1, e2: (a * lc + b * (e1 + e2) / 2).mean()),
        ),
    ]
    return check_function(
        _adapt(fn, call),
        reference=reference,
        reference_name="the total loss inside ts.stylize",
        cases=cases,
        mistakes=mistakes,
        expected="one value per image, shape (B,)",
        needs_grad=True,
    )


def check_style_breakdown(fn) -> CheckResult:
    """Exercise: ``fn(features, targets_a)`` -> E_l of every style layer, (B, L), columns in ``targets_a``'s order.

    ``features``: {layer: (B, N, H, W)}; ``targets_a``: {layer: A (1, N, N)}.
    """
    if not callable(fn):
        return check_function(fn, reference=lambda: None, reference_name="", cases=[])

    def call(f, F1, A1, F2, A2):
        return f({_STYLE_LAYERS[0]: F1, _STYLE_LAYERS[1]: F2}, {_STYLE_LAYERS[0]: A1, _STYLE_LAYERS[1]: A2})

    def columns(F1, A1, F2, A2):
        return style_layer_loss(F1, A1), style_layer_loss(F2, A2)

    def reference(F1, A1, F2, A2):  # the package's breakdown (tradeoff.style_breakdown asks the same StyleTerm)
        return StyleTerm({_STYLE_LAYERS[0]: A1, _STYLE_LAYERS[1]: A2}).per_layer(
            {_STYLE_LAYERS[0]: F1, _STYLE_LAYERS[1]: F2}
        )

    def mistake(formula):
        return lambda F1, A1, F2, A2: formula(*columns(F1, A1, F2, A2))

    cases = [_style_case(70, 2), _style_case(80, 3)]
    mistakes = [
        (
            "the result is transposed: one ROW per image and one column per layer, (B, L). Stack with dim=1.",
            mistake(lambda e1, e2: torch.stack([e1, e2])),
        ),
        (
            "the columns are in the wrong order: keep the order of targets_a (relu1_1 first).",
            mistake(lambda e1, e2: torch.stack([e2, e1], dim=1)),
        ),
        (
            "you multiplied by w_l: the breakdown shows E_l itself; L_style = sum_l w_l E_l comes after.",
            mistake(lambda e1, e2: torch.stack([e1, e2], dim=1) / 2),
        ),
        (
            "you added the layers up (that is L_style without weights); keep one column per layer, (B, L).",
            mistake(lambda e1, e2: e1 + e2),
        ),
        (
            "that is L_style (eq. 5); the breakdown keeps one column per layer, (B, L).",
            mistake(lambda e1, e2: (e1 + e2) / 2),
        ),
        (
            "you concatenated the layers into one long vector; stack them as columns: torch.stack([...], dim=1).",
            mistake(lambda e1, e2: torch.cat([e1, e2])),
        ),
    ]
    return check_function(
        _adapt(fn, call),
        reference=reference,
        reference_name="tradeoff.style_breakdown",
        cases=cases,
        mistakes=mistakes,
        expected="shape (B, L): one row per image, one column per style layer",
    )


# --- Notebook 07: the luminance (colour control) and the guided Gram matrix (spatial control) -----------------

__all__ += ["check_luminance", "check_guided_gram_matrix"]


def check_luminance(fn) -> CheckResult:
    """Exercise: ``fn(x)``: the luminance Y = 0.299 R + 0.587 G + 0.114 B of RGB images,
    (B, 3, H, W) -> (B, 1, H, W)."""
    from ..controls.colour import luminance

    cases = [
        (torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(20)),),
        (torch.rand(1, 3, 3, 3, generator=torch.Generator().manual_seed(21)),),
    ]
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    mistakes = [
        (
            "you took the plain mean of R, G and B; the eye is most sensitive to green: Y = 0.299 R + 0.587 G + 0.114 "
            "B.",
            lambda x: x.mean(1, keepdim=True),
        ),
        (
            "the weights are in the wrong order (B, G, R?): channel 0 is red and gets 0.299.",
            lambda x: (x * weights.flip(1)).sum(1, keepdim=True),
        ),
        (
            "keep the channel axis: the result is (B, 1, H, W), e.g. with .sum(dim=1, keepdim=True).",
            lambda x: (x * weights).sum(1),
        ),
        ("you kept three channels: sum the weighted channels into one, (B, 1, H, W).", lambda x: x * weights),
        (
            "you summed over the wrong axis: the colour channels are axis 1.",
            lambda x: (x * weights).sum(0, keepdim=True),
        ),
    ]
    return check_function(
        fn,
        reference=luminance,
        reference_name="ts.luminance",
        cases=cases,
        mistakes=mistakes,
        expected="shape (B, 1, H, W)",
        atol=1e-5,
    )


def check_guided_gram_matrix(fn) -> CheckResult:
    """Exercise: ``fn(F, T)``: G = (F o T)(F o T)^T, features (B, N, H, W) times a mask (H, W) -> (B, N, N)."""
    from ..controls.masks import guided_gram_matrix

    cases = [
        (seeded(22, 2, 3, 4, 5, positive=True), seeded(23, 4, 5).abs()),
        (seeded(24, 1, 4, 3, 3, positive=True), (seeded(25, 3, 3) > 0).float()),
    ]
    mistakes = [
        ("the mask is missing: multiply every feature map by T before the Gram matrix.", lambda F, T: gram_matrix(F)),
        (
            "you applied the mask to one side only, (F o T) F^T: it multiplies both factors, so T enters squared.",
            lambda F, T: _flat(F * T) @ _flat(F).transpose(1, 2),
        ),
        (
            "you multiplied the Gram matrix by the mask's mean; the mask weights each POSITION: (F o T)(F o T)^T.",
            lambda F, T: gram_matrix(F) * T.mean(),
        ),
        (
            "you divided by the number of positions M; the guided Gram matrix is an unnormalised sum, like eq. 3.",
            lambda F, T: gram_matrix(F * T) / (F.shape[2] * F.shape[3]),
        ),
        (
            "you used T^2 inside: (F o T^2)(F o T^2)^T; the mask multiplies the features once, on each side.",
            lambda F, T: gram_matrix(F * T * T),
        ),
        (
            "that is F^T F between positions (M x M); compare feature maps: (F o T)(F o T)^T, (B, N, N).",
            lambda F, T: _flat(F * T).transpose(1, 2) @ _flat(F * T),
        ),
    ]
    return check_function(
        fn,
        reference=guided_gram_matrix,
        reference_name="ts.guided_gram_matrix",
        cases=cases,
        mistakes=mistakes,
        expected="shape (B, N, N)",
        needs_grad=True,
    )


# --- Notebook 08: instance normalisation (Ulyanov et al. 2016), the layer of the real-time network -------------

__all__ += ["check_instance_norm", "check_contrast_prediction"]

IN_EPS = 1e-5  # torch.nn.InstanceNorm2d's epsilon, used by the StyleNetwork


def check_instance_norm(fn) -> CheckResult:
    """Exercise: ``fn(x)``: each image's each channel shifted to mean 0 and scaled to variance 1 over its own
    H x W positions, (x - mean) / sqrt(var + 1e-5) with the biased variance, (B, C, H, W) -> (B, C, H, W)."""
    import torch.nn.functional as F

    def over(x, dims):  # normalised over ``dims``, the biased variance, as the norm layers do
        mean, var = x.mean(dims, keepdim=True), x.var(dims, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + IN_EPS)

    # Channels of very different scales and offsets, and images of different contrast: each mistake shows.
    scale = torch.tensor([0.05, 1.0, 7.0]).view(1, 3, 1, 1)
    cases = [
        (seeded(30, 2, 3, 4, 5) * scale + torch.tensor([2.0, -1.0, 0.5]).view(1, 3, 1, 1),),
        (seeded(31, 3, 3, 3, 4) * scale * torch.tensor([1.0, 0.2, 4.0]).view(3, 1, 1, 1),),
    ]
    mistakes = [
        (
            "that is BATCH normalisation: the statistics were taken over the whole batch (dims 0, 2, 3). Instance "
            "normalisation takes them for each image on its own: dims (2, 3) only.",
            lambda x: over(x, (0, 2, 3)),
        ),
        (
            "that is LAYER normalisation: the statistics mix all channels of an image (dims 1, 2, 3). Take them for "
            "each channel on its own: dims (2, 3).",
            lambda x: over(x, (1, 2, 3)),
        ),
        (
            "the statistics were taken over one image axis only; take the mean and variance over H and W together, "
            "dims (2, 3).",
            lambda x: over(x, (3,)),
        ),
        ("you only subtracted the mean: also divide by sqrt(var + eps).", lambda x: x - x.mean((2, 3), keepdim=True)),
        (
            "you only divided by the standard deviation: subtract each channel's mean first.",
            lambda x: x / torch.sqrt(x.var((2, 3), unbiased=False, keepdim=True) + IN_EPS),
        ),
        (
            "you divided by the variance; divide by its square root, sqrt(var + eps).",
            lambda x: (x - x.mean((2, 3), keepdim=True)) / (x.var((2, 3), unbiased=False, keepdim=True) + IN_EPS),
        ),
        (
            "the epsilon is missing: divide by sqrt(var + 1e-5), not by the standard deviation alone. It keeps a flat "
            "channel (variance 0) from dividing by zero, and changes the result of low-variance channels.",
            lambda x: (x - x.mean((2, 3), keepdim=True)) / x.var((2, 3), unbiased=False, keepdim=True).sqrt(),
        ),
        (
            "you used the unbiased variance (dividing by H W - 1, torch.var's default); the norm layers divide by H W: "
            "x.var(dim=(2, 3), unbiased=False, keepdim=True).",
            lambda x: (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), keepdim=True) + IN_EPS),
        ),
    ]
    return check_function(
        fn,
        reference=lambda x: F.instance_norm(x, eps=IN_EPS),
        reference_name="torch.nn.InstanceNorm2d",
        cases=cases,
        mistakes=mistakes,
        expected="the same shape as the input, (B, C, H, W)",
        rtol=1e-4,
        atol=1e-4,
    )


def check_contrast_prediction(prediction, measured_difference: float, tolerance: float = 1e-2) -> CheckResult:
    """Exercise (predict, then test): ``prediction`` is the learner's True/False answer to "does the network's
    output stay the same when the photo's contrast is lowered?"; ``measured_difference`` is what the notebook
    measured (the largest pixel difference between the two outputs). Same means a difference below ``tolerance``."""
    same = measured_difference < tolerance
    if prediction is None:
        return CheckResult(
            "PREDICTION",
            NOT_ATTEMPTED,
            "⏳ PREDICTION is still None: write True or False in the cell above "
            "and run it again; the measurement below tells you either way.",
        )
    if not isinstance(prediction, bool):
        return CheckResult("PREDICTION", WRONG, f"❌ write True or False, not {prediction!r}.")
    if prediction == same:
        why = (
            "Instance normalisation removes each channel's mean and scale, and a contrast change only shifts and "
            "scales what the first convolution computes."
            if same
            else ""
        )
        return CheckResult(
            "PREDICTION", CORRECT, f"✅ right: the outputs {'are the same' if same else 'differ'}. {why}".strip()
        )
    return CheckResult(
        "PREDICTION",
        WRONG,
        f"❌ not quite: measured, the outputs {'are the same' if same else 'differ'} "
        f"(largest difference {measured_difference:.2g}). Read the explanation below.",
    )
