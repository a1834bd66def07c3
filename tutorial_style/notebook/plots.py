"""Figures for the notebooks. Every figure names the weights that made it; random weights loudly.

The functions return matplotlib figures and never call ``plt.show()``; notebooks display them.
Figures made outside the main thread (a widget's background run) are bare ``Figure`` objects that pyplot
does not track: pyplot's list of figures is not thread-safe, and the kernel redraws every figure in it
after each widget message, which would draw a half-built figure from two threads at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ..cost import duration
from ..settings import PRESETS, default
from ..weights import WeightsInfo

if TYPE_CHECKING:
    from ..realtime.compare import Comparison, Speed

__all__ = [
    "weights_caption",
    "show_images",
    "to_numpy_image",
    "show_receptive_field",
    "show_feature_maps",
    "show_gram_matrices",
    "plot_layer_statistics",
    "plot_loss_curves",
    "loss_curves_figure",
    "grid_figure",
    "colour_figure",
    "mask_propagation_figure",
    "speed_figure",
    "comparison_figure",
    "flicker_figure",
]


# Readable at a glance in JupyterLab's default width (a 1280 x 800 window: outputs about 860 px wide). An inline
# figure is drawn at 100 dpi, so TEXT_PT-point text shows at about 10 pt as long as the figure is at most
# MAX_WIDTH_IN inches wide (wider ones are shrunk to fit, and their text with them): at most PER_ROW images a row.
TEXT_PT = 10
MAX_WIDTH_IN = 8.6
PER_ROW = 3


def subplots(*args, **kwargs):
    """``plt.subplots`` in the main thread; in any other thread the same, on a figure pyplot does not track."""
    if threading.current_thread() is threading.main_thread():
        return plt.subplots(*args, **kwargs)
    fig = Figure(figsize=kwargs.pop("figsize", None))
    return fig, fig.subplots(*args, **kwargs)


def close(fig) -> None:
    """Close a figure made by :func:`subplots` (only pyplot's own figures need it)."""
    if threading.current_thread() is threading.main_thread():
        plt.close(fig)


def weights_caption(weights: WeightsInfo) -> str:
    """The line every figure carries: which weights made it.

    >>> from tutorial_style.weights import load_weights
    >>> weights_caption(load_weights("random")[1])
    'Weights: RANDOM weights (seed 0), not pretrained - NOT what a trained VGG19 sees'
    """
    if weights.pretrained:
        return f"Weights: {weights.label}"
    return f"Weights: {weights.label} - NOT what a trained VGG19 sees"


def to_numpy_image(image: torch.Tensor):
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] -> (H, W, 3) numpy array for ``imshow``."""
    if image.dim() == 4:
        image = image[0]
    return image.detach().float().cpu().clamp(0, 1).permute(1, 2, 0).numpy()


def show_images(
    images: Sequence[torch.Tensor],
    titles: Sequence[str],
    weights: WeightsInfo | None,
    *,
    size: float = 2.8,
    suptitle: str = "",
):
    """Images with titles, at most :data:`PER_ROW` a row; ``weights`` (or None for plain photos) is named under the
    title."""
    ncols = min(len(images), PER_ROW)
    nrows = -(-len(images) // ncols)
    fig, axes = subplots(nrows, ncols, figsize=(size * ncols, (size * 1.1 + 0.2) * nrows), squeeze=False)
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow(to_numpy_image(image))
        ax.set_title(title, fontsize=TEXT_PT)
    for ax in axes.flat:
        ax.axis("off")
    _suptitle(fig, suptitle, weights)
    return fig


def _suptitle(fig, suptitle: str, weights: WeightsInfo | None) -> None:
    """The figure's title and, under it, the weights caption (red for random weights); then tight layout."""
    import textwrap

    caption = weights_caption(weights) if weights is not None else ""
    width = max(40, int(min(fig.get_figwidth(), MAX_WIDTH_IN) * 12))  # characters of TEXT_PT text the figure holds
    text = "\n".join(textwrap.fill(t, width) for t in (suptitle, caption) if t)
    if text:
        fig.suptitle(text, fontsize=TEXT_PT, color="black" if weights is None or weights.pretrained else "crimson")
    fig.tight_layout()


def show_receptive_field(image: torch.Tensor, layer: str, x: float = 0.5, y: float = 0.5):
    """The image with the square of input pixels that one position of ``layer`` sees.

    ``x``, ``y`` in [0, 1] pick the position (as fractions of the width and height). Geometry only: the
    receptive field depends on the architecture, not on the weights.
    """
    from matplotlib.patches import Rectangle

    from ..layers import LAYER_INFO

    info = LAYER_INFO[layer]
    h, w = image.shape[-2:]
    rows, cols = max(1, h // info.stride), max(1, w // info.stride)
    i, j = min(int(y * rows), rows - 1), min(int(x * cols), cols - 1)
    cy, cx = i * info.stride + (info.stride - 1) / 2, j * info.stride + (info.stride - 1) / 2
    rf = info.receptive_field
    fig, ax = subplots(figsize=(5, 5 * h / w + 0.4))
    ax.imshow(to_numpy_image(image), extent=(-0.5, w - 0.5, h - 0.5, -0.5))
    # The square, clipped to the image (beyond it the network sees zero padding).
    x0, y0 = max(cx - rf / 2, -0.5), max(cy - rf / 2, -0.5)
    x1, y1 = min(cx + rf / 2, w - 0.5), min(cy + rf / 2, h - 0.5)
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="yellow", linewidth=3))
    ax.add_patch(
        Rectangle((j * info.stride - 0.5, i * info.stride - 0.5), info.stride, info.stride, color="red", alpha=0.6)
    )
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.axis("off")
    ax.set_title(
        f"{layer}: position ({i}, {j}) of {rows}x{cols} (red, one position = {info.stride}x{info.stride} px)\n"
        f"sees a {rf}x{rf} px square of the input (yellow)"
        + (f", more than the whole {h}x{w} image" if rf >= max(h, w) else ""),
        fontsize=TEXT_PT,
    )
    _suptitle(fig, "Geometry only (no weights involved)", None)
    return fig


def show_feature_maps(
    features: torch.Tensor,
    channels: Sequence[int],
    layer: str,
    weights: WeightsInfo,
    *,
    image: torch.Tensor | None = None,
    ncols: int = 4,
    size: float = 2.0,
):
    """A grid of feature maps of one image, (1, N, H, W), at ``channels``, on one colour scale.

    One colour scale (0 to the largest value shown) makes strong and weak maps comparable. ``image``,
    if given, comes first.
    """
    F = features[0].detach().float().cpu()
    maps = [F[c] for c in channels]
    panels = len(maps) + (image is not None)
    ncols = min(ncols, panels)
    nrows = -(-panels // ncols)
    h, w = F.shape[-2:]
    fig, axes = subplots(nrows, ncols, figsize=(size * ncols, (size * h / w + 0.35) * nrows + 0.7), squeeze=False)
    vmax = max(float(max(m.max() for m in maps)), 1e-8)
    cells = iter(axes.flat)
    if image is not None:
        ax = next(cells)
        ax.imshow(to_numpy_image(image))
        ax.set_title("input", fontsize=TEXT_PT)
    for c, m in zip(channels, maps):
        ax = next(cells)
        ax.imshow(m.numpy(), cmap="viridis", vmin=0, vmax=vmax)
        ax.set_title(f"ch {c} (mean {float(m.mean()):.2g})", fontsize=TEXT_PT)
    for ax in axes.flat:
        ax.axis("off")
    n, h, w = F.shape
    _suptitle(
        fig, f"{layer}: {len(maps)} of its N = {n} feature maps, each {h}x{w} positions (one colour scale)", weights
    )
    return fig


def show_gram_matrices(
    grams: Sequence[torch.Tensor],
    titles: Sequence[str],
    weights: WeightsInfo,
    *,
    images: Sequence[torch.Tensor] | None = None,
    suptitle: str = "",
    size: float = 3.2,
):
    """Heatmaps of Gram matrices (N x N each) side by side, on one colour scale; ``images`` above them.

    The colour scale is logarithmic, over four decades below the largest value (a Gram matrix's few large
    entries would otherwise hide the rest); the colour bar is labelled with the values themselves.
    """
    from matplotlib.colors import LogNorm

    grams = [g.detach().float().cpu().squeeze(0) for g in grams]
    rows = 2 if images is not None else 1
    fig, axes = subplots(rows, len(grams), figsize=(size * len(grams) + 0.8, size * rows + 0.6), squeeze=False)
    vmax = max(float(max(g.max() for g in grams)), 1e-8)
    norm = LogNorm(vmin=vmax * 1e-4, vmax=vmax)
    for k, (g, title) in enumerate(zip(grams, titles)):
        if images is not None:
            axes[0, k].imshow(to_numpy_image(images[k]))
            axes[0, k].axis("off")
        ax = axes[-1, k]
        shown = ax.imshow(g.clamp_min(vmax * 1e-4).numpy(), cmap="magma", norm=norm)
        ax.set_title(f"{title}\n({g.shape[0]}x{g.shape[1]})", fontsize=TEXT_PT)
        ax.set_xlabel("feature map j", fontsize=TEXT_PT)
        if k == 0:
            ax.set_ylabel("feature map i", fontsize=TEXT_PT)
        ax.tick_params(labelsize=TEXT_PT)
    _suptitle(fig, suptitle, weights)
    fig.colorbar(shown, ax=list(axes[-1]), shrink=0.8, label="G_ij (log colour scale)")  # after the layout
    return fig


def plot_layer_statistics(layers: Sequence[str], statistics: dict, weights: WeightsInfo, *, suptitle: str = ""):
    """One bar chart per statistic over layers: ``statistics`` maps a statistic's name to one number per layer."""
    ncols = min(len(statistics), 2)  # two charts a row: the layer names need the width
    nrows = -(-len(statistics) // ncols)
    fig, axes = subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax, (name, values) in zip(axes.flat, statistics.items()):
        ax.bar(range(len(layers)), values, color="tab:blue")
        ax.set_xticks(range(len(layers)), layers, rotation=90, fontsize=TEXT_PT)
        ax.tick_params(labelsize=TEXT_PT)
        ax.set_title(name, fontsize=TEXT_PT)
    for ax in axes.flat[len(statistics) :]:
        ax.axis("off")
    _suptitle(fig, suptitle, weights)
    return fig


def plot_loss_curves(curves: dict, weights: WeightsInfo, *, ylabel: str = "loss", suptitle: str = "", size=(6, 3.6)):
    """Loss against step on a log scale, one line per run: ``curves`` maps a label to a list of values.
    ``size``: (width, height) in inches."""
    fig, ax = subplots(figsize=size)
    for label, values in curves.items():
        ax.semilogy(range(1, len(values) + 1), values, label=label)
    ax.set_xlabel("step (loss-and-gradient evaluations)", fontsize=TEXT_PT)
    ax.set_ylabel(ylabel, fontsize=TEXT_PT)
    ax.tick_params(labelsize=TEXT_PT)
    ax.legend(fontsize=TEXT_PT)
    _suptitle(fig, suptitle, weights)
    return fig


_TERMS = (("content", "α·L_content"), ("style", "β·L_style"), ("total", "total"))


def _history_value(value, index: int) -> float:
    """A history entry is a float, or a list of floats for a batch: take image ``index``."""
    return float(value[index] if isinstance(value, (list, tuple)) else value)


def loss_curves_figure(
    histories: Mapping[str, Sequence[Mapping]],
    weights: WeightsInfo,
    *,
    alpha: float | Sequence[float] | None = None,
    beta: float = default("beta"),
    index: int = 0,
    title: str = "",
    size=(6, 3.6),
):
    """The loss curves of one or more runs (:func:`plot_loss_curves`): α·L_content, β·L_style and the total.

    ``histories`` maps a label to a ``StyleTransferResult.history``; ``index`` picks the image of a batched
    run. ``alpha`` is the run's content weight (``result.settings["alpha"]``; one per image of a batch); None draws
    L_content unweighted. A term that is off (alpha or beta = 0) is left out. The figure names ``weights``; ``size``
    in inches.
    """
    curves = {}
    for label, history in histories.items():
        prefix = "" if len(histories) == 1 else f"{label}: "
        for key, name in _TERMS:
            if key == "content" and alpha is None:
                name = "L_content (unweighted)"
            a = 1.0 if alpha is None else _history_value(alpha, index)
            factor = a if key == "content" else beta if key == "style" else 1.0
            values = [factor * _history_value(h[key], index) for h in history]
            if key != "total" and not any(v > 0 for v in values):
                continue
            curves[prefix + name] = [v if v > 0 else float("nan") for v in values]  # a log scale has no 0
    return plot_loss_curves(curves, weights, suptitle=title, size=size)


def grid_figure(grid, *, cell: float = 1.3):
    """A trade-off grid (``tradeoff.TradeoffGrid``) as one figure, like the paper's: rows of style-layer sets,
    columns of alpha/beta, the weights named."""
    rows, cols = grid.shape
    fig, axes = subplots(rows, cols, figsize=(cell * cols + 1.2, cell * rows + 0.8), squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r][c]
            ax.imshow(to_numpy_image(grid.cell(r, c)))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(grid.column_label(c), fontsize=TEXT_PT)
            if c == 0:
                ax.set_ylabel(grid.row_label(r).replace(" ... ", "\n... "), fontsize=TEXT_PT)
    size = tuple(grid.images.shape[-2:])
    title = f"Style layers (rows) against α/β (columns), {size[1]}x{size[0]} px, {grid.settings.get('steps')} steps"
    _suptitle(fig, title, grid.weights)
    return fig


def colour_figure(
    content: torch.Tensor, style: torch.Tensor, results: Mapping, weights: WeightsInfo, *, steps: int | None = None
):
    """Notebook 07: the photo, the artwork and the transfers for each ``preserve_colors`` mode (``results`` maps a
    mode, None for the 2016 algorithm, to its image), side by side."""
    names = {None: "2016: the artwork's colours", "luminance": "luminance only", "histogram": "histogram matched"}
    images = [content, style, *results.values()]
    titles = ["photo", "artwork", *(f"{names.get(m, m)}\n(preserve_colors={m!r})" for m in results)]
    run = f", {steps} steps from the photo" if steps is not None else ""
    return show_images(images, titles, weights, suptitle=f"Colour control (Gatys et al. 2017, section 5){run}")


def mask_propagation_figure(mask: torch.Tensor, layer: str):
    """Notebook 07: a mask (H, W) and the same mask at ``layer``'s feature-map size by the three propagation
    methods (``controls.masks.propagate_mask``), with the share of positions each keeps. Geometry only."""
    from ..controls.masks import MASK_METHODS, propagate_mask
    from ..layers import LAYER_INFO

    info = LAYER_INFO[layer]
    fig, axes = subplots(1, 4, figsize=(MAX_WIDTH_IN - 0.2, 2.9), squeeze=False)
    axes[0, 0].imshow(mask.detach().cpu().numpy(), cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title(f"mask, {mask.shape[1]}x{mask.shape[0]} px", fontsize=TEXT_PT)
    for ax, method in zip(axes[0, 1:], MASK_METHODS):
        m = propagate_mask(mask, layer, method)
        ax.imshow(m.cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{method}: {m.shape[1]}x{m.shape[0]}\nmean {float(m.mean()):.2f}", fontsize=TEXT_PT)
    for ax in axes.flat:
        ax.axis("off")
    _suptitle(
        fig,
        f"The mask at {layer} (stride {info.stride}, receptive field {info.receptive_field} px). Geometry only (no "
        "weights involved)",
        None,
    )
    return fig


# --- Notebook 08: the time per image, the network against the optimisation, flicker -----------------------------


def speed_figure(speed: Speed):
    """Seconds per image, log scale: the paper's 500 evaluations, the fast preset's 70, and the network's one pass."""
    paper, fast = PRESETS["paper"]["steps"], PRESETS["fast"]["steps"]
    rows = [
        (f"optimisation, the paper's {paper} evaluations", speed.optimisation(paper)),
        (f"optimisation, fast preset ({fast} evaluations)", speed.optimisation(fast)),
        ("network, one forward pass", speed.network),
    ]
    fig, ax = subplots(figsize=(7, 2.4))
    ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color=["tab:green", "tab:orange", "tab:red"])
    ax.set_xscale("log")
    ax.set_xlabel("seconds per image (log scale)")
    for i, (_, seconds) in enumerate(rows[::-1]):
        ax.text(seconds, i, f" {duration(seconds)}", va="center", fontsize=9)
    ax.set_xlim(right=max(r[1] for r in rows) * 20)
    h, wd = speed.size
    fig.suptitle(
        f"Time per {wd}x{h} px image on this machine ({speed.device}), measured: {speed.evaluations} evaluations "
        "timed\n"
        "Timing only: any weights take the same time",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def comparison_figure(comparison: Comparison, names: Sequence[str], caption: str, weights: WeightsInfo):
    """Per photo, a row: the photo, the network's result, the optimisation's; and on the right the optimisation's
    loss per evaluation with the network's loss as a horizontal line (Johnson et al.'s comparison)."""
    n = comparison.photos.shape[0]
    fig, axes = subplots(n, 4, figsize=(13, 3.1 * n), squeeze=False)
    for i in range(n):
        a, b = comparison.network_loss[i], comparison.optimisation_loss[i]
        images = [
            (comparison.photos[i], f"held-out photo: {names[i]}"),
            (comparison.network_images[i], f"network (one pass), loss {a:.3g}"),
            (comparison.optimisation_images[i], f"optimisation, {comparison.steps} evaluations, loss {b:.3g}"),
        ]
        for ax, (image, title) in zip(axes[i], images):
            ax.imshow(to_numpy_image(image))
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        ax = axes[i, 3]
        curve = comparison.history[i]
        ax.semilogy(range(1, len(curve) + 1), curve, label="optimisation from noise")
        ax.axhline(a, color="crimson", linestyle="--", label="network")
        reached = comparison.reached[i]
        if reached is not None:
            ax.axvline(reached, color="grey", linestyle=":", label=f"reached at {reached}")
        ax.set_xlabel("evaluations", fontsize=8)
        ax.set_ylabel("total loss", fontsize=8)
        ax.legend(fontsize=7)
    _suptitle(fig, f"The network against the optimisation, the same loss\n{caption}", weights)
    return fig


def flicker_figure(
    clip: torch.Tensor, stylings: Mapping[str, torch.Tensor], flows, weights: WeightsInfo, *, frame: int = 1
):
    """Frames ``frame - 1`` and ``frame`` of the input clip and of each styling (``{label: frames}``), side by side,
    and for each its **flicker map**: |O_t - O_t-1 moved along the input's motion|^2 (bright: the frames disagree;
    occluded pixels black), with the video's warping error in the title."""
    import numpy as np

    from ..video.flicker import flicker_map, warping_error

    rows = {"input": clip, **stylings}
    fig, axes = subplots(len(rows), 3, figsize=(9.6, 3.2 * len(rows)), squeeze=False)
    maps = {label: flicker_map(frames[frame - 1], frames[frame], flows[frame - 1]) for label, frames in rows.items()}
    # One colour scale for all the maps, up to the 99th percentile of their pixels: a few bright pixels (at the
    # border, at occlusions) would otherwise leave everything else black.
    top = float(np.percentile(np.concatenate([m.ravel() for m in maps.values()]), 99)) or 1.0
    for ax_row, (label, frames) in zip(axes, rows.items()):
        error = warping_error(clip, frames, flows=flows).mean
        for ax, image, title in (
            (ax_row[0], frames[frame - 1], f"{label}: frame {frame - 1}"),
            (ax_row[1], frames[frame], f"frame {frame}"),
        ):
            ax.imshow(to_numpy_image(image))
            ax.set_title(title, fontsize=TEXT_PT)
        ax_row[2].imshow(maps[label], cmap="magma", vmin=0, vmax=top)  # the same scale in every row
        ax_row[2].set_title(f"flicker map; warping error {error:.2e}", fontsize=TEXT_PT)
        for ax in ax_row:
            ax.axis("off")
    _suptitle(fig, "Flicker: each frame against the previous one moved along the input's optical flow", weights)
    return fig
