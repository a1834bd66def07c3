"""Style transfer as the paper does it: optimise the pixels of an image to match content and style targets.

    L_total = alpha * L_content(p, x) + beta * L_style(a, x)        (paper eq. 7)

``stylize`` computes the targets once (without gradients), starts from white noise (or the content or style
image), and takes ``steps`` loss-and-gradient evaluations with L-BFGS or Adam. It is batched: ``alpha`` and
``beta`` may be tensors of length B, and one call then optimises B images side by side, each independently.

The loop knows nothing about display: live views are a ``callback(step, image, losses)``.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from .gram import gram_matrix
from .images import load_image, resize_to
from .lbfgs import BatchedLBFGS
from .losses import content_loss, style_loss
from .vgg import (
    PAPER_CONTENT_LAYERS,
    PAPER_STYLE_LAYERS,
    VGG19Features,
    check_layers,
    check_network_options,
    min_input_size,
)
from .weights import WeightsInfo

__all__ = [
    "stylize", "reconstruct_content", "reconstruct_style", "StyleTransferResult", "default_device", "get_vgg",
    "estimate_cost", "SizeWarning", "PRESETS",
]  # fmt: skip

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("noise", "content", "style")
PRECISIONS = ("fp32", "bf16")  # bf16: the network's convolutions in bfloat16; Gram matrices and losses stay float32
# Named settings for ``stylize(content, style, **PRESETS[name])``, the command line's ``--preset`` and the
# studio's preset menu. "paper": the paper's run, 500 L-BFGS evaluations from white noise. "fast": a result to
# show in a workshop within a minute at 256 px on a 2-core laptop. Starting from the content image is what buys
# the speed: the content term starts at zero and the optimiser only has to add the style, where from noise it
# must first build the picture. Measured in docs/performance.md (benchmarks/fast_preset.py).
PRESETS = {
    "paper": {"init": "noise", "steps": 500},
    "fast": {"init": "content", "steps": 70},
}
ADAM_LR = 0.02  # in pixel units ([0, 1] images): about 5 grey levels per step at first

# Rough cost of one loss-and-gradient evaluation per pixel of each image, with the paper's layers (VGG19 up to
# relu5_1: about 1.5 MFLOP per pixel forward and backward, weights frozen). CPU: measured on a 2-core x86
# machine at 64, 128 and 256 px (10-13 us per pixel with 2 threads: 0.05, 0.16 and 0.67 s), scaled by the threads
# torch uses. GPUs: not measured here; a guess for a recent card. The warning is an order of magnitude, no more.
CORE_SECONDS_PER_PIXEL = {"cpu": 20e-6, "cuda": 0.15e-6, "mps": 1.5e-6}
ACTIVATION_BYTES_PER_PIXEL = 4000  # feature maps kept for the backward pass (measured: 3.7-4.3 kB)
LBFGS_BYTES_PER_PIXEL = 2400  # 100 pairs (s, y) of 3 float32 per pixel
WARN_SECONDS = 30 * 60
WARN_MEMORY_FRACTION = 0.5

Callback = Callable[[int, torch.Tensor, Mapping[str, torch.Tensor]], "bool | None"]


class SizeWarning(UserWarning):
    """A run that will take very long or may not fit in memory; the message gives the estimates."""


@dataclass
class StyleTransferResult:
    """What ``stylize`` returns.

    ``image``: the best image found (lowest total loss), (B, 3, H, W) in [0, 1]; B = 1 unless alpha/beta
    were batched. ``history``: one dict per evaluation, ``{"step", "content", "style", "total"}``, where
    content and style are the *unweighted* L_content and L_style and total = alpha L_content + beta L_style;
    ``history[0]`` is the initial image. Values are floats, or lists of B floats for a batch.
    ``interrupted``: True if Ctrl-C or the callback stopped the run early (the image is still the best so far).
    """

    image: torch.Tensor
    history: list[dict]
    interrupted: bool
    weights: WeightsInfo
    settings: dict = field(default_factory=dict)

    @property
    def weights_label(self) -> str:
        return self.weights.label


def default_device() -> torch.device:
    """CUDA if available, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def stylize(
    content,
    style,
    *,
    alpha: float | torch.Tensor = 1e-3,
    beta: float | torch.Tensor = 1.0,
    content_layers: Sequence[str] = PAPER_CONTENT_LAYERS,
    style_layers: Sequence[str] = PAPER_STYLE_LAYERS,
    style_weights: Mapping[str, float] | Sequence[float] | None = None,
    steps: int = 500,
    init: str | torch.Tensor = "noise",
    optimizer: str = "lbfgs",
    weights: str | VGG19Features = "auto",
    pooling: str = "avg",
    normalize: str | None = "paper",
    seed: int = 0,
    device: str | torch.device | None = None,
    callback: Callback | None = None,
    progress: bool = True,
    precision: str = "fp32",
) -> StyleTransferResult:
    """Render ``content`` in the style of ``style`` (Gatys et al. 2016).

    ``content`` and ``style`` are image tensors (1, 3, H, W) in [0, 1], or anything ``load_image`` takes.
    The style image is resized to the content's size, as in the paper. The defaults are the paper's:
    content on relu4_2, style on relu1_1 ... relu5_1 with w_l = 1/5, average pooling, the normalised
    network, alpha/beta = 1e-3, L-BFGS from white noise.

    ``alpha``/``beta`` may be 1-D tensors of length B (a row of the trade-off): one call then returns B
    images. ``steps`` is the exact number of loss-and-gradient evaluations. ``seed`` fixes the noise
    (the same noise for every image of a batch). ``weights`` is a source name or path (see ``weights.py``)
    or a ready :class:`VGG19Features`. ``callback(step, image, losses)`` is called after each evaluation
    with the current image; returning True stops the run. Ctrl-C also stops it; either way the best
    image so far is returned with ``interrupted=True``. ``precision="bf16"`` runs the network's
    convolutions in bfloat16 (Gram matrices and losses stay float32): faster per evaluation where the
    hardware has bf16 units, but it ends at a higher loss, and from the content image it may not improve
    at all (a warning says so); see ``docs/performance.md``.

    >>> c, s = load_image("chelsea", size=32), load_image("mosaic", size=32)
    >>> result = stylize(c, s, steps=3, weights="random", progress=False)
    >>> result.image.shape, len(result.history), result.interrupted
    (torch.Size([1, 3, 21, 32]), 3, False)
    """
    return _optimize(
        content, style, alpha=alpha, beta=beta, content_layers=content_layers, style_layers=style_layers,
        style_weights=style_weights, steps=steps, init=init, optimizer=optimizer, weights=weights,
        pooling=pooling, normalize=normalize, seed=seed, device=device, callback=callback, progress=progress,
        precision=precision, desc="stylize",
    )  # fmt: skip


def reconstruct_content(image, layer: str = "relu4_2", **kwargs) -> StyleTransferResult:
    """Find an image, starting from white noise, whose features at ``layer`` match ``image``'s (paper Fig. 1, bottom).

    Takes the keywords of :func:`stylize` except the style ones.
    """
    check_layers([layer], "layer")
    return _optimize(image, None, alpha=1.0, beta=0.0, content_layers=(layer,), style_layers=(), desc=f"content {layer}", **kwargs)


def reconstruct_style(image, layers: Sequence[str] = PAPER_STYLE_LAYERS, **kwargs) -> StyleTransferResult:
    """Synthesise a texture from white noise matching ``image``'s Gram matrices on ``layers`` (paper Fig. 1, top).

    The result has ``image``'s size. Takes the keywords of :func:`stylize` except the content ones
    (``style_weights`` included).
    """
    layers = check_layers(_check_layer_list(layers, "layers"), "layers")
    return _optimize(image, image, alpha=0.0, beta=1.0, content_layers=(), style_layers=layers, desc="style", **kwargs)


@functools.lru_cache(maxsize=4)
def _cached_vgg(weights: str, pooling: str, normalize: str | None, device: str, _env: str, _stamp) -> VGG19Features:
    return VGG19Features(weights=weights, pooling=pooling, normalize=normalize).to(device)


def get_vgg(weights="auto", pooling="avg", normalize="paper", device=None) -> VGG19Features:
    """A :class:`VGG19Features` on ``device``, reused across calls with the same settings (loading takes seconds)."""
    device = _check_device(device)
    stamp = None
    if isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights):
        st = os.stat(weights)
        stamp = (st.st_size, st.st_mtime_ns)
    return _cached_vgg(str(weights), pooling, normalize, str(device), os.environ.get("TUTORIAL_STYLE_WEIGHTS", ""), stamp)


def _optimize(
    content, style, *, alpha, beta, content_layers, style_layers, style_weights=None, steps=500, init="noise",
    optimizer="lbfgs", weights="auto", pooling="avg", normalize="paper", seed=0, device=None, callback=None,
    progress=True, precision="fp32", desc="",
) -> StyleTransferResult:  # fmt: skip
    # Check everything before any work.
    steps = _check_steps(steps)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    alpha, beta = _check_factor(alpha, "alpha"), _check_factor(beta, "beta")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not isinstance(init, torch.Tensor) and init not in INITS:
        raise ValueError(f"init must be one of {INITS} or an image tensor, got {init!r}")
    content_layers = _check_layer_list(content_layers, "content_layers")
    style_layers = _check_layer_list(style_layers, "style_layers")
    if not content_layers and not style_layers:
        raise ValueError("content_layers and style_layers are both empty: there is nothing to match")
    check_network_options(pooling, normalize)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be a function callback(step, image, losses), got {callback!r}")
    if isinstance(weights, VGG19Features):
        device = _check_device(device if device is not None else next(weights.parameters()).device)
        vgg = weights.to(device)
    else:
        device = _check_device(device)
        vgg = None
    content = _as_image(content, "content", device)
    h, w = content.shape[-2:]
    smallest = min_input_size(content_layers + style_layers)
    if min(h, w) < smallest:
        raise ValueError(f"content image is {h}x{w} px; the layers used need at least {smallest} px on each side")
    if style is not None:
        style = _as_image(style, "style", device)
        style = resize_to(style, (h, w))
    batch = _batch_size(alpha, beta, init)
    alpha = torch.as_tensor(alpha, dtype=torch.float32, device=device).expand(batch)
    beta = torch.as_tensor(beta, dtype=torch.float32, device=device).expand(batch)
    if style_layers and style_weights is not None:
        from .losses import _layer_weights

        try:
            _layer_weights(list(style_layers), style_weights)  # validate now, not at the first step
        except TypeError:
            raise ValueError(
                f"style_weights must be a dict {{layer: weight}} or one number per style layer, got {style_weights!r}"
            ) from None
    x = _initial_image(init, content, style, batch, seed, device)
    _warn_if_costly(h, w, batch, steps, optimizer, device)
    if vgg is None:
        vgg = get_vgg(weights, pooling, normalize, device)

    def features(image: torch.Tensor, names: Sequence[str]) -> dict[str, torch.Tensor]:
        # Targets and the image go through the same arithmetic: with bf16, the content image itself then has
        # L_content = 0 exactly, not the rounding difference between its bf16 and float32 features.
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            return vgg(image, names)

    # Targets, computed once.
    with torch.no_grad():
        targets_p = features(content, content_layers) if content_layers else {}
        targets_a = {n: gram_matrix(f) for n, f in features(style, style_layers).items()} if style_layers else {}
    layers = tuple(dict.fromkeys(content_layers + style_layers))

    def losses(image: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = features(image, layers)
        zero = image.new_zeros(image.shape[0])
        lc = sum((content_loss(feats[n], targets_p[n]) for n in content_layers), zero)
        ls = style_loss(feats, targets_a, style_weights) if style_layers else zero
        return {"content": lc, "style": ls, "total": alpha * lc + beta * ls}

    image, history, interrupted = _run(losses, x, steps, optimizer, callback, progress, desc)
    if precision == "bf16":
        _warn_if_no_step_improved(history)
    settings = dict(
        alpha=alpha.tolist(), beta=beta.tolist(), content_layers=content_layers, style_layers=style_layers,
        style_weights=style_weights, steps=steps, init=init if isinstance(init, str) else "tensor",
        optimizer=optimizer, pooling=vgg.pooling, normalize=vgg.normalize, seed=seed, device=str(device),
        precision=precision,
    )  # fmt: skip
    return StyleTransferResult(image, history, interrupted, vgg.weights_info, settings)


def _run(losses, x, steps, optimizer, callback, progress, desc):
    """The optimisation loop: evaluate, remember the best image, step. Returns (best, history, interrupted).

    After every step the pixels are clipped to [0, 1] (a projection onto the images that exist), so every
    evaluated image, the best one included, is an image you can save, and the loss curve is that image's
    loss. Unclipped, the optimiser wanders outside [0, 1]: with random weights at 128 px, 100 steps from
    noise reached a loss of 5.6 that became 31.9 once the returned image was clipped; projected, 9.2.
    """
    from tqdm.auto import tqdm

    lbfgs = BatchedLBFGS() if optimizer == "lbfgs" else None
    if optimizer == "adam":
        x = x.clone().requires_grad_(True)
        adam = torch.optim.Adam([x], lr=ADAM_LR)
    best, best_total = x.detach().clone(), torch.full((x.shape[0],), math.inf, device=x.device)
    history, interrupted = [], False
    bar = tqdm(total=steps, desc=desc or "optimise", disable=not progress, leave=False)
    try:
        for step in range(steps):
            image = x.detach().requires_grad_(True)
            with torch.enable_grad():
                current = losses(image)
                (grad,) = torch.autograd.grad(current["total"].sum(), image)
            current = {k: v.detach() for k, v in current.items()}
            total = current["total"]
            finite = torch.isfinite(total) & torch.isfinite(grad).flatten(1).all(dim=1)
            better = finite & (total < best_total)
            best = torch.where(better[:, None, None, None], image.detach(), best)
            best_total = torch.where(better, total, best_total)
            history.append(current)
            bar.update(1)
            if progress and (step % 10 == 0 or step == steps - 1):
                bar.set_postfix(loss=f"{float(total.mean()):.4g}")
            if callback is not None and callback(step, image.detach(), current):
                interrupted = True
                break
            if step == steps - 1:
                break
            # A non-finite loss (an L-BFGS blow-up) sends that image back to its best so far, history forgotten.
            if lbfgs is not None:
                ok = finite[:, None, None, None]
                # Only finite numbers may enter the L-BFGS history: one NaN pair would poison every later step.
                nxt = lbfgs.step(torch.where(ok, image.detach(), best), torch.where(ok, grad, 0.0), restart=~finite)
                x = torch.where(ok, nxt, best).clamp_(0, 1)
            else:
                adam.zero_grad(set_to_none=True)
                x.grad = torch.where(finite[:, None, None, None], grad, torch.zeros_like(grad))
                adam.step()
                with torch.no_grad():
                    x.copy_(torch.where(finite[:, None, None, None], x, best).clamp_(0, 1))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    if not torch.isfinite(best_total).all():  # never evaluated finitely (e.g. interrupted at once): keep the start
        best = torch.where(torch.isfinite(best_total)[:, None, None, None], best, x.detach())
    best = best.nan_to_num(0.5)
    rows = _history_as_numbers(history)
    blown_up = [r["step"] for r in rows if not all(math.isfinite(v) for v in _as_list(r["total"]))]
    if blown_up:
        warnings.warn(
            f"the loss was NaN or infinite at {len(blown_up)} step(s), first at step {blown_up[0]}; each time the "
            "image went back to its best so far, and the best finite image is returned", RuntimeWarning, stacklevel=4,
        )  # fmt: skip  (stacklevel: _run < _optimize < stylize/reconstruct_* < the caller's line)
    return best, rows, interrupted


def _warn_if_no_step_improved(history: list[dict]) -> None:
    """Warn when a bf16 run returns its start. bf16 rounds each feature by up to 0.4 %, so every image but the
    content image (whose features are rounded exactly as its targets were) carries a content loss from
    rounding alone; from the content image that costs more than the style steps gain, and no later image
    looks better than the start."""
    totals = [_as_list(row["total"]) for row in history]
    if len(totals) < 2:
        return
    stuck = sum(min(later[i] for later in totals[1:]) >= totals[0][i] for i in range(len(totals[0])))
    if stuck:
        which = "the start image, which comes" if len(totals[0]) == 1 else f"{stuck} of the {len(totals[0])} start images, which come"
        warnings.warn(
            f"precision='bf16': no step improved on {which} back unchanged. bf16's rounding of the "
            "features costs more loss than the steps gain, most of all from the content image; use "
            "precision='fp32' (the default)", RuntimeWarning, stacklevel=4,
        )  # fmt: skip  (stacklevel: here < _optimize < stylize < the caller's line)


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _history_as_numbers(history: list[dict[str, torch.Tensor]]) -> list[dict]:
    if not history:
        return []
    stacked = {k: torch.stack([h[k] for h in history]).cpu() for k in history[0]}  # one copy to the host
    rows = []
    for step in range(len(history)):
        row = {"step": step}
        for k, v in stacked.items():
            values = v[step].tolist()
            row[k] = values[0] if len(values) == 1 else values
        rows.append(row)
    return rows


def _initial_image(init, content, style, batch, seed, device) -> torch.Tensor:
    _, _, h, w = content.shape
    if isinstance(init, torch.Tensor):
        if init.dim() != 4 or init.shape[1:] != (3, h, w) or init.shape[0] not in (1, batch):
            n = 1 if batch == 1 else f"1 or {batch}"
            raise ValueError(f"init tensor must be ({n}, 3, {h}, {w}) like the content, got {tuple(init.shape)}")
        if not init.is_floating_point() or not torch.isfinite(init).all():
            raise ValueError("init tensor must hold finite floats (an image in [0, 1])")
        return init.to(device=device, dtype=torch.float32).expand(batch, -1, -1, -1).clamp(0, 1)
    if init == "noise":
        generator = torch.Generator().manual_seed(int(seed))
        noise = torch.rand(1, 3, h, w, generator=generator)  # white noise, the same for each image of a batch
        return noise.to(device).expand(batch, -1, -1, -1).clone()
    if init == "style" and style is None:
        raise ValueError("init='style' needs a style image")
    start = content if init == "content" else style
    return start.expand(batch, -1, -1, -1).clone()


def _batch_size(alpha: torch.Tensor, beta: torch.Tensor, init) -> int:
    sizes = {t.numel() for t in (alpha, beta) if t.dim() == 1}
    if isinstance(init, torch.Tensor) and init.dim() == 4 and init.shape[0] > 1:
        sizes.add(init.shape[0])
    if len(sizes - {1}) > 1:
        raise ValueError(f"alpha, beta and init disagree on the batch size: {sorted(sizes)}")
    return max(sizes, default=1)


def _check_factor(value, name: str) -> torch.Tensor:
    try:
        t = torch.as_tensor(value, dtype=torch.float32).detach().cpu()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or a 1-D tensor of numbers, got {value!r}") from None
    if t.dim() > 1 or t.numel() == 0:
        raise ValueError(f"{name} must be a number or a 1-D tensor, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all() or (t < 0).any():
        raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
    return t


def _check_layer_list(layers, what: str) -> tuple[str, ...]:
    """Layer names (one name or a list, possibly empty) checked against the table."""
    if isinstance(layers, str):
        layers = (layers,)
    try:
        layers = tuple(layers)
    except TypeError:
        raise ValueError(f"{what} must be a list of layer names such as {list(PAPER_STYLE_LAYERS)}, got {layers!r}") from None
    return check_layers(layers, what) if layers else ()


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"steps must be a positive whole number of evaluations, got {steps!r}")
    return int(steps)


def _check_device(device) -> torch.device:
    if device is None:
        return default_device()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device {device!r} is not a device name; use 'cpu', 'cuda' or 'mps'") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} is not available here (no CUDA GPU); use device='cpu'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {str(device)!r} does not exist; this machine has {torch.cuda.device_count()} GPU(s)")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {str(device)!r} is not available here (no Apple GPU); use device='cpu'")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {str(device)!r} is not supported; use 'cpu', 'cuda' or 'mps'")
    return device


def estimate_cost(height: int, width: int, batch: int = 1, steps: int = 500, optimizer: str = "lbfgs", device="cpu"):
    """Rough ``(seconds, bytes)`` that a run needs. Both grow linearly with the pixels (as the paper notes) and the
    batch; the time also with ``steps``. Constants (per pixel of each image) are the ``*_PER_PIXEL`` above.

    >>> seconds, memory = estimate_cost(256, 256, steps=300)
    >>> 1 < seconds / 60 < 30, 0.1 < memory / 1e9 < 1   # minutes, GB
    (True, True)
    """
    device = torch.device(device)
    pixels = height * width * batch
    threads = torch.get_num_threads() if device.type == "cpu" else 1
    seconds = CORE_SECONDS_PER_PIXEL.get(device.type, CORE_SECONDS_PER_PIXEL["cpu"]) * pixels * steps / threads
    memory = pixels * (ACTIVATION_BYTES_PER_PIXEL + (LBFGS_BYTES_PER_PIXEL if optimizer == "lbfgs" else 0))
    return seconds, memory


def _warn_if_costly(height, width, batch, steps, optimizer, device) -> None:
    """Warn (:class:`SizeWarning`) when a run will take over 30 minutes or may need over half the free memory."""
    seconds, memory = estimate_cost(height, width, batch, steps, optimizer, device)
    free = _available_memory(device)
    if seconds <= WARN_SECONDS and (free is None or memory <= WARN_MEMORY_FRACTION * free):
        return
    where = f"{_bytes(free)} available on {device}" if free is not None else f"on {device}"
    warnings.warn(SizeWarning(
        f"{'' if batch == 1 else f'{batch} images of '}{width}x{height} px for {steps} steps with {optimizer} "
        f"will take about {_duration(seconds)} "
        f"and need about {_bytes(memory)} ({where}). Use a smaller size or fewer steps "
        "(TUTORIAL_STYLE_QUICK=1 picks small ones in the notebooks)."
    ), stacklevel=4)  # fmt: skip


def _available_memory(device: torch.device) -> int | None:
    """Free bytes on ``device`` (GPU memory for CUDA, else the machine's available RAM), or None if unknown."""
    try:
        if device.type == "cuda":
            return torch.cuda.mem_get_info(device)[0]
        import psutil  # optional

        return psutil.virtual_memory().available
    except ImportError:
        pass
    except Exception:  # a driver that cannot answer: no memory estimate, no warning
        return None
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return None


def _bytes(n: float) -> str:
    return f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.1f} GB"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.0f} days"


def _as_image(image, what: str, device: torch.device) -> torch.Tensor:
    if not isinstance(image, torch.Tensor):
        image = load_image(image)
    if image.dim() != 4 or image.shape[0] != 1 or image.shape[1] != 3:
        raise ValueError(f"{what} image must be a tensor of shape (1, 3, H, W), got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise ValueError(f"{what} image must hold floats in [0, 1], got {image.dtype}; divide uint8 images by 255")
    if image.device.type != "cpu" and image.device != device:
        raise ValueError(f"{what} image is on {image.device} but the run is on {device}; move it with .to({str(device)!r})")
    if not torch.isfinite(image).all():
        raise ValueError(f"{what} image contains NaN or infinite values")
    return image.to(device=device, dtype=torch.float32)
