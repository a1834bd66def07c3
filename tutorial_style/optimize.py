"""Style transfer as the paper does it: optimise the pixels of an image to match content and style targets.

    L_total = alpha * L_content(p, x) + beta * L_style(a, x)        (paper eq. 7)

``stylize`` builds the objective once (``objective.py``: the photo's features and the artwork's Gram matrices),
starts from white noise (or the content or style image), and lets :func:`minimize` take ``steps``
loss-and-gradient evaluations with L-BFGS (``lbfgs.py``) or Adam. It is batched: ``alpha`` and ``beta`` may hold
B numbers, and one call then optimises B images side by side, each independently.

The loop knows nothing about display: live views are a ``callback(step, image, losses)``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch

from .controls.colour import luminance, prepare_colours
from .controls.masks import check_masks
from .cost import warn_if_costly
from .files import caller_stacklevel
from .images import load_image, resize_to
from .layers import PAPER_STYLE_LAYERS, check_layers, min_input_size
from .lbfgs import BatchedLBFGS
from .objective import Objective
from .settings import ADAM_LR, PRESETS, Settings, default, with_settings
from .vgg import VGG19Features, check_device, get_vgg, on_device
from .weights import WeightsInfo

__all__ = ["stylize", "reconstruct_content", "reconstruct_style", "minimize", "StyleTransferResult", "PRESETS"]

Callback = Callable[[int, torch.Tensor, Mapping[str, torch.Tensor]], "bool | None"]


@dataclass
class StyleTransferResult:
    """What ``stylize`` returns.

    ``image``: the best image found (lowest total loss), (B, 3, H, W) in [0, 1]; B = 1 unless alpha/beta
    were batched. ``history``: one dict per evaluation, ``{"step", "content", "style", "total"}``, where
    content and style are the *unweighted* L_content and L_style and total = alpha L_content + beta L_style
    (plus ``tv_weight`` times ``"tv"``, the total variation, when it is on);
    ``history[0]`` is the initial image. Values are floats, or lists of B floats for a batch.
    ``interrupted``: True if Ctrl-C or the callback stopped the run early (the image is still the best so far).
    ``settings``: the run's :class:`~tutorial_style.Settings` as plain values, with the network's and the device.
    """

    image: torch.Tensor
    history: list[dict]
    interrupted: bool
    weights: WeightsInfo
    settings: dict = field(default_factory=dict)

    @property
    def weights_label(self) -> str:
        return self.weights.label


@with_settings
def stylize(
    content,
    style,
    settings: Settings | None = None,
    *,
    content_masks=None,
    style_masks=None,
    weights="auto",
    device=None,
    callback: Callback | None = None,
    progress: bool = True,
    **options,
) -> StyleTransferResult:
    """Render ``content`` in the style of ``style`` (Gatys et al. 2016), with the controls of Gatys et al. 2017.

    ``content`` and ``style`` are image tensors (1, 3, H, W) in [0, 1], or anything ``load_image`` takes.
    The style image is resized to the content's size, as in the paper. The settings (``alpha``, ``beta``,
    ``content_layers``, ``style_layers``, ``style_weights``, ``steps``, ``init``, ``optimizer``, ``lr``,
    ``seed``, ``pooling``, ``normalize``, ``precision``, ``tv_weight``) are keywords, or a
    :class:`~tutorial_style.Settings`;
    their defaults are the paper's: content on relu4_2, style on relu1_1 ... relu5_1 with w_l = 1/5, average
    pooling, the normalised network, 500 L-BFGS evaluations from white noise; but alpha (beta = 1) is measured
    for our network and scaled with the image's pixel count, ``default_alpha(H, W)`` (``settings.py`` says why
    the paper's alpha/beta = 1e-3 does not carry over). ``result.settings["alpha"]`` is the alpha used.

    ``alpha``/``beta`` may hold B numbers (a row of the trade-off): one call then returns B images. ``weights``
    is a source name or path (see ``weights.py``) or a ready :class:`VGG19Features` (never modified: it is
    copied if it is on another device). ``callback(step, image, losses)`` is called after each evaluation with
    a copy of the current image; returning True stops the run. Ctrl-C also stops it; either way the best image
    so far is returned with ``interrupted=True``. ``precision="bf16"`` runs the network's convolutions in
    bfloat16: faster per evaluation where the hardware has bf16 units, but it ends at a higher loss, and from
    the content image it may not improve at all (a warning says so); see ``docs/performance.md``.

    The controls of *Controlling Perceptual Factors in Neural Style Transfer* (Gatys et al., CVPR 2017),
    ``controls/``: ``preserve_colors="luminance"`` or ``"histogram"`` keeps the photo's colours; ``style`` may be
    a list of artworks, blended with ``style_blend=[w1, w2, ...]`` (equal by default); ``content_masks=[T_1,
    ..., T_R]`` (tensors (H, W) in [0, 1] or image files) gives region r the style ``style[r]``, or the part
    ``style_masks[r]`` of one artwork (guided Gram matrices; ``mask_propagation`` says how masks reach the
    layers); ``sizes=(256, 512)`` with ``steps=(300, 100)`` runs coarse-to-fine, each size started from the
    previous result upsampled (the result has the last size; ``history`` rows then carry their ``"size"``);
    ``tv_weight`` adds a total-variation prior. Masks are checked before any work.

    >>> c, s = load_image("chelsea", size=32), load_image("mosaic", size=32)
    >>> result = stylize(c, s, steps=3, weights="random", progress=False)
    >>> result.image.shape, len(result.history), result.interrupted
    (torch.Size([1, 3, 21, 32]), 3, False)
    """
    _check_network_options(weights, settings, options)
    settings = Settings.of(settings, **options)
    return _transfer(
        content, style, settings, weights, device, callback, progress, "stylize", content_masks, style_masks
    )


@with_settings
def reconstruct_content(
    image,
    layer: str = "relu4_2",
    settings: Settings | None = None,
    *,
    weights="auto",
    device=None,
    callback: Callback | None = None,
    progress: bool = True,
    **options,
) -> StyleTransferResult:
    """Find an image, starting from white noise, whose features at ``layer`` match ``image``'s (paper Fig. 1, bottom).

    Takes the settings of :func:`stylize`, except the content and style ones, which this sets.
    """
    (layer,) = check_layers([layer], "layer")
    _check_network_options(weights, settings, options)
    settings = Settings.fixing(
        settings, options, "reconstruct_content", alpha=1.0, beta=0.0, content_layers=(layer,), style_layers=()
    )
    return _transfer(image, None, settings, weights, device, callback, progress, f"content {layer}")


@with_settings
def reconstruct_style(
    image,
    layers: Sequence[str] = PAPER_STYLE_LAYERS,
    settings: Settings | None = None,
    *,
    weights="auto",
    device=None,
    callback: Callback | None = None,
    progress: bool = True,
    **options,
) -> StyleTransferResult:
    """Synthesise a texture from white noise matching ``image``'s Gram matrices on ``layers`` (paper Fig. 1, top).

    The result has ``image``'s size. Takes the settings of :func:`stylize` except the content ones and
    ``style_layers`` (``style_weights`` included).
    """
    layers = check_layers(layers, "layers")
    _check_network_options(weights, settings, options)
    settings = Settings.fixing(
        settings, options, "reconstruct_style", alpha=0.0, beta=1.0, content_layers=(), style_layers=layers
    )
    return _transfer(image, image, settings, weights, device, callback, progress, "style")


def _check_network_options(weights, settings: Settings | None, options: dict) -> None:
    """A ready network (``weights=vgg``) has its own pooling and normalisation: asking for others, as a keyword or
    in a ``Settings`` that changes them from the defaults, is a one-line error naming the option. Left alone, the
    run takes the network's (and its record says which)."""
    if not isinstance(weights, VGG19Features):
        return
    for name in ("pooling", "normalize"):
        if name in options:
            asked = options[name]
        elif settings is not None and getattr(settings, name) != default(name):
            asked = getattr(settings, name)
        else:
            continue
        if asked != getattr(weights, name):
            raise ValueError(
                f"{name}={asked!r} contradicts the given network, built with {name}={getattr(weights, name)!r}; "
                f"leave {name} out to use the network's, "
                f"or pass a network built with it (get_vgg(..., {name}={asked!r}))"
            )


def _transfer(
    content, style, settings: Settings, weights, device, callback, progress, desc, content_masks=None, style_masks=None
) -> StyleTransferResult:
    """Check the inputs, then run each stage (one, or one per size of ``settings.sizes``): prepare the images
    (colours, ``controls/colour.py``), build the objective, :func:`minimize` from the start image (the previous
    stage's result, upsampled), and finish the result (the photo's colours put back)."""
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be a function callback(step, image, losses), got {callback!r}")
    given = weights if isinstance(weights, VGG19Features) else None
    device = check_device(device if device is not None or given is None else given.device)
    content = _as_image(content, "content", device)
    styles = _as_styles(style, device)
    if settings.style_blend is not None and len(settings.style_blend) != len(styles):
        raise ValueError(
            f"style_blend has {len(settings.style_blend)} weight(s) for {len(styles)} style image(s); "
            "give one per style"
        )
    masks = check_masks(content_masks, style_masks, len(styles), settings.style_blend is not None)
    if len(styles) > 1 and masks[0] is None and settings.init == "style":
        raise ValueError("init='style' with several style images: start from 'noise' or 'content'")
    stages = [(content if size is None else load_image(content, size=size), steps) for size, steps in settings.stages]
    smallest = min_input_size(settings.content_layers + settings.style_layers)
    for c, _ in stages:
        if min(c.shape[-2:]) < smallest:
            h, w = c.shape[-2:]
            raise ValueError(f"content image is {h}x{w} px; the layers used need at least {smallest} px on each side")
    if isinstance(settings.init, torch.Tensor):  # a bad start image fails now, before the network is loaded
        _initial_image(settings.init, settings, stages[0][0], None, device)
    h, w = stages[-1][0].shape[-2:]
    warn_if_costly(h, w, settings.batch, settings.total_steps, settings.optimizer, device)
    vgg = (
        on_device(given, device)
        if given is not None
        else get_vgg(weights, settings.pooling, settings.normalize, device)
    )
    history, interrupted, offset = [], False, 0
    image = None  # the previous stage's result, which each stage after the first starts from
    for k, (photo, steps) in enumerate(stages):
        sized = [resize_to(s, photo.shape[-2:]) for s in styles]  # the paper's: the artwork at the photo's size
        net_content, net_styles, finish = prepare_colours(photo, sized, settings.preserve_colors)
        # coarse-to-fine: each stage after the first starts from the previous stage's result, upsampled
        init = settings.init if k == 0 else resize_to(image, photo.shape[-2:])
        x = _initial_image(init, settings, net_content, net_styles[0] if net_styles else None, device)
        alpha, beta = settings.factors(*photo.shape[-2:], device=device)  # the default alpha depends on the size
        objective = Objective.for_images(
            vgg,
            net_content,
            net_styles or None,
            content_layers=settings.content_layers,
            style_layers=settings.style_layers,
            style_weights=settings.style_weights,
            alpha=alpha,
            beta=beta,
            tv_weight=settings.tv_weight,
            precision=settings.precision,
            style_blend=settings.style_blend,
            content_masks=masks[0],
            style_masks=masks[1],
            mask_propagation=settings.mask_propagation,
        )
        image, rows, interrupted = minimize(
            objective,
            x,
            steps=steps,
            optimizer=settings.optimizer,
            lr=settings.lr,
            callback=_shifted(callback, offset, finish),
            progress=progress,
            desc=desc if settings.sizes is None else f"{desc} {photo.shape[-1]}x{photo.shape[-2]}",
        )
        for row in rows:
            row["step"] += offset
            if settings.sizes is not None:
                row["size"] = settings.sizes[k]
        history += rows
        offset += len(rows)
        if interrupted:
            break
    if settings.precision == "bf16":
        _warn_if_no_step_improved(history)
    record = {
        **settings.as_dict(),
        "alpha": settings.alpha_for(*photo.shape[-2:]),
        "pooling": vgg.pooling,
        "normalize": vgg.normalize,
        "device": str(device),
    }  # alpha: the last stage's, as used
    return StyleTransferResult(finish(image), history, interrupted, vgg.weights_info, record)


def _shifted(callback: Callback | None, offset: int, finish: Callable) -> Callback | None:
    """The user's callback as one stage's: steps counted over the whole run, images as the result will be."""
    if callback is None:
        return None
    return lambda step, image, losses: callback(offset + step, finish(image), losses)


def minimize(
    losses: Callable[[torch.Tensor], Mapping[str, torch.Tensor]],
    x: torch.Tensor,
    *,
    steps: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    callback: Callback | None = None,
    progress: bool = False,
    desc: str = "optimise",
) -> tuple[torch.Tensor, list[dict], bool]:
    """The optimisation loop: evaluate, remember the best image, step. Returns ``(best, history, interrupted)``.

    ``losses(images)`` returns a dict of (B,) tensors with at least ``"total"``, whose sum is differentiated;
    ``x`` (B, 3, H, W) is the start. Each image of the batch keeps its own best and its own optimiser state.

    After every step the pixels are clipped to [0, 1] (a projection onto the images that exist), so every
    evaluated image, the best one included, is an image you can save, and the loss curve is that image's
    loss. Unclipped, the optimiser wanders outside [0, 1]: with random weights at 128 px, 100 steps from
    noise reached a loss of 5.6 that became 31.9 once the returned image was clipped; projected, 9.2.

    A non-finite loss or gradient (an L-BFGS blow-up) sends that image back to its best image so far, with the
    gradient it had there: its L-BFGS history is forgotten and the next step starts afresh from there, so no
    evaluation is spent on the same image twice.

    >>> target = torch.full((2, 3, 4, 4), 0.3)
    >>> best, history, _ = minimize(lambda x: {"total": ((x - target) ** 2).flatten(1).sum(1)}, torch.zeros(2, 3, 4, 4), steps=5)
    >>> round(float((best - target).abs().max()), 6), len(history)
    (0.0, 5)
    """  # noqa: E501
    from tqdm.auto import tqdm

    step_from = _stepper(optimizer, steps, lr)
    b = x.shape[0]
    best, best_grad = x.detach().clone(), torch.zeros_like(x.detach())
    best_total = torch.full((b,), math.inf, device=x.device)
    history, interrupted = [], False
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=False)
    try:
        for step in range(steps):
            image = x.detach().clone().requires_grad_(True)  # its own copy: the callback may keep it
            with torch.enable_grad():
                current = losses(image)
                (grad,) = torch.autograd.grad(current["total"].sum(), image)
            current = {k: v.detach() for k, v in current.items()}
            total = current["total"]
            finite = torch.isfinite(total) & torch.isfinite(grad).flatten(1).all(dim=1)
            better = (finite & (total < best_total))[:, None, None, None]
            best, best_grad = torch.where(better, image.detach(), best), torch.where(better, grad, best_grad)
            best_total = torch.where(better[:, 0, 0, 0], total, best_total)
            history.append(current)
            bar.update(1)
            if progress and (step % 10 == 0 or step == steps - 1):
                bar.set_postfix(loss=f"{float(total.mean()):.4g}")
            if callback is not None and callback(step, image.detach(), current):
                interrupted = True
                break
            if step == steps - 1:
                break
            # An image whose loss blew up goes back to its best so far, with that image's own gradient.
            ok = finite[:, None, None, None]
            x = step_from(torch.where(ok, image.detach(), best), torch.where(ok, grad, best_grad), ~finite).clamp_(0, 1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
    never = ~torch.isfinite(best_total)  # never evaluated finitely (e.g. interrupted at once): keep the start
    best = torch.where(never[:, None, None, None], x.detach(), best).nan_to_num(0.5)
    rows = _history_as_numbers(history)
    blown_up = [r["step"] for r in rows if not all(math.isfinite(v) for v in _as_list(r["total"]))]
    if blown_up:
        warnings.warn(
            f"the loss was NaN or infinite at {len(blown_up)} step(s), first at step {blown_up[0]}; each time the "
            "image went back to its best so far, and the best finite image is returned",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),
        )
    return best, rows, interrupted


def _stepper(optimizer: str, steps: int, lr: float | None) -> Callable:
    """``step(x, grad, restart) -> next x`` for the optimiser; ``restart`` (B,) marks images sent back to their best.

    L-BFGS keeps a history per image (``lbfgs.py``) and forgets it on a restart. Adam's state is per pixel, so a
    restart only means starting again from the best image with its gradient; its moments are kept.
    """
    if optimizer == "lbfgs":
        lbfgs = BatchedLBFGS(steps=steps)
        return lambda x, grad, restart: lbfgs.step(x, grad, restart=restart)
    state = {}

    def adam_step(x, grad, restart):
        if not state:
            state["x"] = x.clone().requires_grad_(True)
            state["adam"] = torch.optim.Adam([state["x"]], lr=lr if lr is not None else ADAM_LR)
        param = state["x"]
        with torch.no_grad():
            param.copy_(x)
        param.grad = grad.clone()
        state["adam"].step()
        return param.detach().clone()

    return adam_step


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
        which = (
            "the start image, which comes"
            if len(totals[0]) == 1
            else f"{stuck} of the {len(totals[0])} start images, which come"
        )
        warnings.warn(
            f"precision='bf16': no step improved on {which} back unchanged. bf16's rounding of the "
            "features costs more loss than the steps gain, most of all from the content image; use "
            "precision='fp32' (the default)",
            RuntimeWarning,
            stacklevel=caller_stacklevel(),
        )


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


def _initial_image(init, settings: Settings, content: torch.Tensor, style: torch.Tensor | None, device) -> torch.Tensor:
    batch = settings.batch
    _, _, h, w = content.shape
    if isinstance(init, torch.Tensor):
        if init.dim() != 4 or init.shape[1:] != (3, h, w) or init.shape[0] not in (1, batch):
            n = 1 if batch == 1 else f"1 or {batch}"
            raise ValueError(f"init tensor must be ({n}, 3, {h}, {w}) like the content, got {tuple(init.shape)}")
        if not init.is_floating_point() or not torch.isfinite(init).all():
            raise ValueError("init tensor must hold finite floats (an image in [0, 1])")
        return init.to(device=device, dtype=torch.float32).expand(batch, -1, -1, -1).clamp(0, 1)
    if init == "noise":
        generator = torch.Generator().manual_seed(settings.seed)
        noise = torch.rand(1, 3, h, w, generator=generator)  # white noise, the same for each image of a batch
        if settings.preserve_colors == "luminance":  # the network sees grey images: start from grey noise too
            noise = luminance(noise).expand(-1, 3, -1, -1)
        return noise.to(device).expand(batch, -1, -1, -1).clone()
    if init == "style" and style is None:
        raise ValueError("init='style' needs a style image")
    start = content if init == "content" else style
    return start.expand(batch, -1, -1, -1).clone()


def _as_styles(style, device: torch.device) -> list[torch.Tensor]:
    """The style image(s) as a list of (1, 3, H, W) tensors on ``device`` (empty for none)."""
    if style is None:
        return []
    if isinstance(style, (list, tuple)):
        if not style:
            raise ValueError("style is an empty list: give one style image or several")
        return [_as_image(s, f"style image {i + 1}", device) for i, s in enumerate(style)]
    return [_as_image(style, "style", device)]


def _as_image(image, what: str, device: torch.device) -> torch.Tensor:
    if not isinstance(image, torch.Tensor):
        image = load_image(image)
    if image.dim() != 4 or image.shape[0] != 1 or image.shape[1] != 3:
        raise ValueError(f"{what} image must be a tensor of shape (1, 3, H, W), got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise ValueError(f"{what} image must hold floats in [0, 1], got {image.dtype}; divide uint8 images by 255")
    if image.device.type != "cpu" and image.device != device:
        raise ValueError(
            f"{what} image is on {image.device} but the run is on {device}; move it with .to({str(device)!r})"
        )
    if not torch.isfinite(image).all():
        raise ValueError(f"{what} image contains NaN or infinite values")
    return image.to(device=device, dtype=torch.float32)
