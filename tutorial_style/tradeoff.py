"""The alpha/beta trade-off grid (arXiv Fig. 3, CVPR Fig. 4): style-layer sets down, alpha/beta across.

Rows are growing style-layer sets, {relu1_1}, {relu1_1, relu2_1}, ... up to relu1_1 ... relu5_1; columns are
the ratio alpha/beta (beta is ``Settings``' default), a decade apart. The paper's columns are 1e-5 ... 1e-1; with
our network those values leave the photo unchanged (``settings.py`` says why), so our columns are :data:`COLUMNS`
times the measured default ``default_alpha`` of the grid's size: from 1/100 of it (texture-like) to 100 times it
(little style). ``ratios=`` gives other columns as plain alpha/beta values. Each row is **one** batched
:func:`~tutorial_style.stylize` call with ``alpha`` a tensor: the images of a row start from the same noise and are
optimised side by side,
each independently (see ``lbfgs.py``), so a row gives the same images as separate runs.

A full grid takes a long time (the paper's 512 px and 500 steps: hours on a CPU), so every row is cached on
disk in ``cache_dir("tradeoff")``, keyed by the images' pixels, the weights' digest and every setting that
changes the result. Reopening the notebook, or running it after ``python -m tutorial_style precompute``,
recomputes nothing. An unreadable, damaged or stale entry is rebuilt; a cache that cannot be written only
costs a warning.

Cells are stored as 8-bit images (what a PNG holds), and a freshly computed grid is rounded the same way,
so a cache hit returns exactly what a miss returns. With each row the cache keeps the content loss and the
per-layer style losses E_l (paper eq. 4) of every cell, so the notebook's breakdown costs nothing either.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch

from .files import cache_dir, digest, load_cache, save_cache
from .images import load_image
from .layers import LAYER_INFO, PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS, check_layers
from .machine import quick_mode
from .objective import Objective
from .optimize import StyleTransferResult, stylize
from .settings import PRESETS, Settings, default, default_alpha
from .vgg import VGG19Features, get_vgg
from .weights import WeightsInfo

__all__ = [
    "COLUMNS",
    "default_ratios",
    "layer_sets",
    "grid_settings",
    "tradeoff_row",
    "tradeoff_grid",
    "style_breakdown",
    "TradeoffGrid",
    "row_key",
    "default_grid",
    "row_weights",
]

COLUMNS: tuple[float, ...] = (1e-2, 1e-1, 1.0, 1e1, 1e2)
"""The grid's columns as multiples of ``default_alpha`` at its size: from texture-like to little style."""

CONTENT, STYLE = "astronaut", "mosaic"  # the grid's images unless others are given
_VERSION = 4  # bump when what a row entry holds, or how it is computed, changes: old entries are then rebuilt
# (2: pixels projected onto [0, 1] at every step, compact L-BFGS; 3: keyed by every Settings field; 4: alpha=None)


def layer_sets(style_layers: Sequence[str] = PAPER_STYLE_LAYERS) -> list[tuple[str, ...]]:
    """The grid's rows: growing prefixes of ``style_layers``.

    >>> layer_sets(["relu1_1", "relu2_1", "relu3_1"])
    [('relu1_1',), ('relu1_1', 'relu2_1'), ('relu1_1', 'relu2_1', 'relu3_1')]
    """
    layers = check_layers(style_layers, "style_layers")
    return [layers[: i + 1] for i in range(len(layers))]


def default_ratios(height: int, width: int, columns: Sequence[float] = COLUMNS) -> tuple[float, ...]:
    """The grid's alpha/beta values for an image of ``height`` x ``width`` px: ``columns`` x ``default_alpha``.

    >>> from tutorial_style.settings import default_alpha
    >>> default_ratios(512, 512, (1.0, 10.0)) == (default_alpha(512, 512), 10 * default_alpha(512, 512))
    True
    """
    return tuple(float(c) * default_alpha(height, width) for c in columns)


def grid_settings(quick: bool | None = None) -> dict:
    """The grid's size, steps, columns and rows: the paper's (512 px, 500 steps, 5 x 5), or quick mode's.

    ``quick=None`` reads ``$TUTORIAL_STYLE_QUICK``. Notebook 06 and ``python -m tutorial_style precompute``
    both call this, so they ask for the same cache entries.

    >>> s = grid_settings(quick=True)
    >>> s["size"], s["steps"], len(s["layer_sets"]), len(s["columns"])
    (64, 20, 2, 3)
    >>> s = grid_settings(quick=False)
    >>> s["size"], s["steps"], len(s["layer_sets"]), len(s["columns"])
    (512, 500, 5, 5)
    """
    if quick is None:
        quick = quick_mode()
    rows = layer_sets()
    if quick:  # the two most different rows and every other column: a 2 x 3 grid in seconds
        return dict(size=64, steps=20, columns=COLUMNS[::2], layer_sets=[rows[0], rows[-1]])
    return dict(size=512, steps=PRESETS["paper"]["steps"], columns=COLUMNS, layer_sets=rows)


@dataclass
class TradeoffGrid:
    """A computed grid. ``images``: (R, C, 3, H, W) in [0, 1], 8-bit values; ``cell(r, c)``: (1, 3, H, W).

    ``content_loss`` (R, C): L_content of each cell on the content layer(s). ``style_losses`` (R, C, L): E_l
    of each cell on each layer of ``breakdown_layers`` (the paper's five style layers and any other layer a
    row uses), whether or not the row optimised it. ``cached``: for each row, True if it came from the disk cache.
    """

    images: torch.Tensor
    ratios: tuple[float, ...]
    layer_sets: list[tuple[str, ...]]
    content_image: torch.Tensor
    style_image: torch.Tensor
    weights: WeightsInfo
    content_loss: torch.Tensor
    style_losses: torch.Tensor
    breakdown_layers: tuple[str, ...]
    cached: list[bool] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.images.shape[:2])

    @property
    def weights_label(self) -> str:
        return self.weights.label

    def cell(self, row: int, col: int) -> torch.Tensor:
        return self.images[row, col].unsqueeze(0)

    def column_label(self, col: int) -> str:
        """'α/β = 2e-08' for a column, with its multiple of the default when the grid was made from ``columns``."""
        label = f"α/β = {self.ratios[col]:.0e}"
        columns = self.settings.get("columns")
        return f"{label}\n(default × {columns[col]:g})" if columns else label

    def row_label(self, row: int) -> str:
        """'relu1_1' for a one-layer row, 'relu1_1 ... relu3_1' for longer ones."""
        layers = self.layer_sets[row]
        return layers[0] if len(layers) == 1 else f"{layers[0]} ... {layers[-1]}"

    def breakdown(self, row: int, col: int) -> dict[str, float]:
        """E_l of cell (row, col) on every breakdown layer: {layer: E_l}."""
        return {name: float(v) for name, v in zip(self.breakdown_layers, self.style_losses[row, col])}


def tradeoff_row(
    content, style, style_layers: Sequence[str], ratios: Sequence[float], settings: Settings | None = None, **options
) -> StyleTransferResult:
    """One row of the grid: ONE batched ``stylize`` call with ``beta`` = ``Settings``' default and
    ``alpha = ratios * beta``.

    ``options`` are ``stylize``'s other keywords (settings such as ``steps``, and ``weights``, ``callback`` ...).
    Returns ``stylize``'s result, whose ``image`` is (len(ratios), 3, H, W): image i is what
    ``stylize(content, style, alpha=ratios[i] * beta, beta=beta, ...)`` gives on its own, with the same seed.
    ``style_weights`` (given, or in ``settings``) are cut to the row's layers (:func:`row_weights`).
    """
    beta, layers = default("beta"), tuple(style_layers)
    weights = options.pop("style_weights") if "style_weights" in options else getattr(settings, "style_weights", None)
    return stylize(
        content,
        style,
        settings,
        alpha=[float(r) * beta for r in ratios],
        beta=beta,
        style_layers=layers,
        style_weights=row_weights(weights, layers),
        **options,
    )


def row_weights(weights, layers: Sequence[str]) -> dict[str, float] | None:
    """The style weights w_l of a row: those of its ``layers``, scaled so that they keep the sum of all the given
    weights (a row with every layer keeps them as they are). None stays None: the paper's 1 / (number of layers).

    >>> row_weights({"relu1_1": 0.25, "relu2_1": 0.75}, ["relu1_1"])
    {'relu1_1': 1.0}
    """
    if weights is None:
        return None
    if not isinstance(weights, Mapping):
        raise ValueError("style_weights for the grid must be a dict {layer: w_l}: its rows have different layers")
    kept = {name: float(weights.get(name, 0.0)) for name in layers}
    total, row = sum(float(w) for w in weights.values()), sum(kept.values())
    if row <= 0:
        raise ValueError(f"style_weights give the row {list(layers)} no weight (w_l = 0 on each of its layers)")
    return {name: w * total / row for name, w in kept.items()}


@torch.no_grad()
def style_breakdown(
    images: torch.Tensor,
    content: torch.Tensor,
    style: torch.Tensor,
    vgg: VGG19Features,
    content_layers: Sequence[str] = PAPER_CONTENT_LAYERS,
    style_layers: Sequence[str] = PAPER_STYLE_LAYERS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """L_content (B,) and the per-layer style losses E_l (B, L) of a batch of results, one forward pass.

    ``style`` is resized to the images' size first, as ``stylize`` does. The content loss sums over
    ``content_layers`` (eq. 1); column l of the second tensor is E_l (eq. 4) for ``style_layers[l]``.
    """
    device = vgg.device
    objective = Objective.for_images(
        vgg, content.to(device), style.to(device), content_layers=content_layers, style_layers=style_layers
    )
    lc, e = objective.breakdown(images.to(device))
    return lc.cpu(), e.cpu()


def row_key(
    content: torch.Tensor, style: torch.Tensor, weights: WeightsInfo, style_layers, ratios, settings: dict
) -> str:
    """The cache key of one row: a hash of the images' pixels, the weights' digest and every setting.

    The device is left out on purpose: a row computed on a GPU is the same picture on a laptop's CPU.
    """
    description = dict(
        version=_VERSION,
        content=digest(content),
        style=digest(style),
        weights=weights.digest,
        style_layers=list(style_layers),
        ratios=[float(r) for r in ratios],
        **settings,
    )
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:24]


def tradeoff_grid(
    content=CONTENT,
    style=STYLE,
    settings: Settings | None = None,
    *,
    size: int | None = None,
    columns: Sequence[float] = COLUMNS,
    ratios: Sequence[float] | None = None,
    layer_sets: Sequence[Sequence[str]] | None = None,
    weights: str | VGG19Features = "auto",
    device=None,
    cache: bool = True,
    progress: bool | Callable = True,
    **options,
) -> TradeoffGrid:
    """The trade-off grid: one batched ``stylize`` call per row, each row read from the disk cache when it can.

    ``content``/``style``: anything ``load_image`` takes (a bundled name, a path, upload bytes, a tensor),
    resized so the longer side is ``size`` (None keeps the size). ``layer_sets``: the rows (default: growing
    prefixes of the paper's style layers); ``columns``: the columns as multiples of ``default_alpha`` at the
    images' size, or ``ratios``: the columns as alpha/beta values (beta is ``Settings``' default). ``options`` are the
    other settings of every cell (``steps``, ``init``, ``content_layers``, ``seed`` ..., see
    :class:`~tutorial_style.Settings`; default: the paper's). ``progress``: True for a tqdm bar over all the grid's
    steps, False for none, or a tqdm-like object with ``update(n)`` to use. ``cache=False`` neither reads nor
    writes the cache.

    A row interrupted with Ctrl-C is not cached, and the ``KeyboardInterrupt`` goes on to the caller; the rows
    finished before it are cached, so running it again continues where it stopped.
    """
    sets = [check_layers(s, "layer_sets") for s in (layer_sets if layer_sets is not None else _default_sets())]
    if not sets:
        raise ValueError("layer_sets is empty: give at least one set of style layers")
    given = ("ratios", ratios) if ratios is not None else ("columns", columns)
    values = tuple(float(r) for r in given[1])
    if not values or any(not (r >= 0 and r != float("inf")) for r in values):
        raise ValueError(f"{given[0]} must be a non-empty list of finite, non-negative numbers, got {values}")
    every_layer = tuple(
        sorted(set().union(*sets), key=lambda n: LAYER_INFO[n].index)
    )  # style_weights may name any row's
    run = Settings.fixing(settings, options, "tradeoff_grid", beta=default("beta"), style_layers=every_layer)
    if not isinstance(run.init, str):
        raise ValueError(f"init must be 'noise', 'content' or 'style' for the grid, got {type(run.init).__name__}")
    if run.sizes is not None:  # coarse-to-fine cells: the images have the last size
        if size is not None and size != run.sizes[-1]:
            raise ValueError(
                f"size={size} and sizes={list(run.sizes)} disagree: the grid's cells have the last of sizes"
            )
        size = run.sizes[-1]
    content_image = load_image(content, size=size)
    style_image = load_image(style, size=size)
    ratios = values if ratios is not None else default_ratios(*content_image.shape[-2:], values)
    vgg = weights if isinstance(weights, VGG19Features) else get_vgg(weights, run.pooling, run.normalize, device)
    run = Settings.of(run, pooling=vgg.pooling, normalize=vgg.normalize)  # a given network's own options
    # E_l on the paper's five layers (and any other a row uses), whatever the row optimised: this does not
    # depend on which rows are asked for, so adding a row leaves the others' cache entries valid.
    breakdown_layers = tuple(sorted(set(PAPER_STYLE_LAYERS).union(*sets), key=lambda n: LAYER_INFO[n].index))
    varying = (
        "alpha",
        "style_layers",
    )  # set per row and column; the key names rows and ratios itself (beta: one for all)
    settings = {k: v for k, v in run.as_dict().items() if k not in varying}
    settings["breakdown_layers"] = list(breakdown_layers)
    steps = run.total_steps
    folder = _cache_folder() if cache else None
    bar, own_bar = _progress(progress, total=len(sets) * steps)
    rows, cached = [], []
    try:
        for layers in sets:
            key = row_key(content_image, style_image, vgg.weights_info, layers, ratios, settings)
            path = folder / f"{key}.pt" if folder is not None else None
            entry = load_cache(
                path, lambda e: _valid(e, key, len(ratios), content_image.shape[-2:], len(breakdown_layers))
            )
            cached.append(entry is not None)
            if entry is None:
                entry = _compute_row(content_image, style_image, layers, ratios, vgg, run, breakdown_layers, bar)
                entry["key"] = key
                if path is not None:  # a row that cannot be cached is still returned
                    save_cache(path, entry, "a trade-off row")
            else:
                bar.update(steps)
            rows.append(entry)
    finally:
        if own_bar:
            bar.close()
    return TradeoffGrid(
        images=torch.stack([r["images"] for r in rows]).float() / 255.0,
        ratios=ratios,
        layer_sets=[tuple(s) for s in sets],
        content_image=content_image,
        style_image=style_image,
        weights=vgg.weights_info,
        content_loss=torch.stack([r["content_loss"] for r in rows]),
        style_losses=torch.stack([r["style_losses"] for r in rows]),
        breakdown_layers=breakdown_layers,
        cached=cached,
        settings=dict(
            settings,
            size=size,
            ratios=list(ratios),
            columns=None if given[0] == "ratios" else list(values),
            layer_sets=[list(s) for s in sets],
        ),
    )


def default_grid(content=CONTENT, style=STYLE, *, quick: bool | None = None, **kwargs) -> TradeoffGrid:
    """The grid notebook 06 shows and ``python -m tutorial_style precompute`` builds: :func:`grid_settings`
    (quick mode from ``$TUTORIAL_STYLE_QUICK`` unless ``quick`` says), then ``kwargs`` (e.g. ``size``,
    ``weights``, ``progress``) on top. Both go through here, so both read and write the same cache entries.
    """
    return tradeoff_grid(content, style, **{**grid_settings(quick), **kwargs})


def _default_sets() -> list[tuple[str, ...]]:
    return layer_sets()  # tradeoff_grid's argument of the same name hides the function there


def _compute_row(content, style, layers, ratios, vgg, run: Settings, breakdown_layers, bar) -> dict:
    def tick(step, image, losses):
        bar.update(1)

    result = tradeoff_row(content, style, layers, ratios, run, weights=vgg, callback=tick, progress=False)
    if result.interrupted:  # stopped half-way (Ctrl-C): never cache it
        raise KeyboardInterrupt
    images = (result.image.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8)
    lc, e = style_breakdown(images.float() / 255.0, content, style, vgg, run.content_layers, breakdown_layers)
    return {"version": _VERSION, "images": images, "content_loss": lc, "style_losses": e}


def _valid(entry: dict, key: str, columns: int, hw, n_layers: int) -> bool:
    """Is this row entry for this key and these settings, complete and finite?"""
    images, lc, e = entry["images"], entry["content_loss"], entry["style_losses"]
    ok = entry["version"] == _VERSION and entry["key"] == key
    ok = ok and images.dtype == torch.uint8 and tuple(images.shape) == (columns, 3, *hw)
    ok = ok and tuple(lc.shape) == (columns,) and tuple(e.shape) == (columns, n_layers)
    return ok and bool(torch.isfinite(lc).all()) and bool(torch.isfinite(e).all())


def _cache_folder():
    """``cache_dir("tradeoff")``, or None with a warning when it cannot be created (the grid is then not cached)."""
    try:
        return cache_dir("tradeoff")
    except OSError as e:
        warnings.warn(f"the trade-off cache folder cannot be used ({e}); the grid is computed without caching it")
        return None


def _progress(progress, total: int):
    """(bar, owned): a tqdm bar we open and close, the caller's own bar, or a disabled one that shows nothing."""
    from tqdm.auto import tqdm

    if progress is True:
        return tqdm(total=total, desc="trade-off grid", unit="step"), True
    if progress is False or progress is None:
        return tqdm(total=total, disable=True), False
    return progress, False
