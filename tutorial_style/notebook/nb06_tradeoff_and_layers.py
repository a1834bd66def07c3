"""Notebook 06: the trade-off explorer over a computed grid (``tradeoff.py``), and the layer-choice explorer."""

from __future__ import annotations

import html
import math

import ipywidgets as w

from .. import optimize  # optimize.stylize is looked up at each run (tests replace it)
from ..images import resize_to
from ..layers import LAYERS, PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS
from ..settings import Settings, default_alpha
from ..vgg import VGG19Features
from .panels import LivePreview, Panel, image_view, png_bytes, ratio_slider

__all__ = ["tradeoff_explorer", "layer_explorer"]


# --- Notebook 06: the trade-off explorer and the layer-choice explorer ------------------------------


def _ratio_label(ratio: float) -> str:
    """1e-3 -> '1e-03'."""
    return f"{ratio:.0e}"


def _breakdown_html(grid, row: int, col: int) -> str:
    """The per-layer style losses of one cell as a small HTML table with bars (instant, no figure)."""
    values = grid.breakdown(row, col)
    used = set(grid.layer_sets[row])
    weight = 1.0 / len(used)
    logs = {name: math.log10(max(e, 1e-30)) for name, e in values.items()}
    low, high = min(logs.values()), max(logs.values())
    lines = [
        "<table style='font-family:monospace;font-size:12px;white-space:nowrap'>",  # one line a layer, never wrapped
        "<tr><th style='text-align:left'>layer</th><th>in this row's L_style</th><th "
        "style='text-align:right'>E_l</th><th>(log scale)</th></tr>",
    ]
    for name, e in values.items():
        bar = 8 + round(150 * (logs[name] - low) / (high - low)) if high > low else 80  # log scale
        colour = "#1f77b4" if name in used else "#bbbbbb"
        tick = f"yes, w_l = {weight:.2g}" if name in used else "no"
        lines.append(
            f"<tr><td>{name}</td><td>{tick}</td><td style='text-align:right'>{e:.3g}</td>"
            f"<td><div style='width:{bar}px;height:10px;background:{colour}'></div></td></tr>"
        )
    lines.append("</table>")
    return "".join(lines)


def tradeoff_explorer(grid) -> Panel:
    """Browse a computed trade-off grid (``tradeoff.TradeoffGrid``): a row slider and a column slider.

    Every cell's PNG is made once, here; moving a slider only swaps the shown image and the per-layer
    breakdown of the style loss (E_l on each of the paper's layers, paper eq. 4), so it answers at once
    and never recomputes anything. Widgets: ``panel.row`` (the style-layer set) and ``panel.col`` (α/β).
    ``panel.pngs[(row, col)]`` holds the cells' PNG bytes; ``panel.cell_view`` shows the chosen one.
    """
    rows, cols = grid.shape
    widgets_by_name = {
        "row": w.SelectionSlider(
            options=[(grid.row_label(r), r) for r in range(rows)],
            value=rows - 1,
            description="style layers",
            layout=w.Layout(width="420px"),
        ),
        "col": w.SelectionSlider(
            options=[(_ratio_label(x), c) for c, x in enumerate(grid.ratios)],
            value=cols // 2,
            description="α/β",
            layout=w.Layout(width="420px"),
        ),
    }
    panel_views = [image_view("200px"), image_view("200px"), image_view("300px")]
    content_view, style_view, cell_view = panel_views
    hw = grid.images.shape[-2:]
    content_view.value = png_bytes(grid.content_image, min_side=200)
    style_view.value = png_bytes(resize_to(grid.style_image, hw), min_side=200)
    breakdown = w.HTML()
    images = w.HBox(
        [
            w.VBox([w.HTML("<b>content</b>"), content_view]),
            w.VBox([w.HTML("<b>style</b>"), style_view]),
            w.VBox([w.HTML("<b>result</b>"), cell_view]),
        ]
    )
    table = w.VBox(
        [w.HTML("<b>style loss per layer (E_l, eq. 4)</b>"), breakdown]
    )  # below: beside, it would wrap at 1280 px
    panel = Panel(
        "The α/β trade-off, cell by cell", widgets_by_name, [images, table], grid.weights, rows=[["row"], ["col"]]
    )
    panel.cell_view, panel.breakdown = cell_view, breakdown
    panel.pngs = {(r, c): png_bytes(grid.cell(r, c), min_side=300) for r in range(rows) for c in range(cols)}
    panel.grid = grid

    def redraw():
        r, c = panel.row.value, panel.col.value
        cell_view.value = panel.pngs[(r, c)]
        breakdown.value = _breakdown_html(grid, r, c)
        e = grid.breakdown(r, c)
        l_style = sum(e[n] for n in grid.layer_sets[r]) / len(grid.layer_sets[r])  # eq. 5, w_l = 1/|row|
        panel.set_status(
            f"style layers {grid.row_label(r)} · α/β {_ratio_label(grid.ratios[c])} · L_content "
            f"{float(grid.content_loss[r, c]):.3g}"
            f" · L_style {l_style:.3g} · {panel.weights_text()}"
        )

    panel.row.observe(panel.handler(redraw), names="value")
    panel.col.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel


def layer_explorer(grid, vgg: VGG19Features, *, steps: int | None = None) -> Panel:
    """Pick the content and style layers freely and compare the result with the paper's choice, side by side.

    Uses the images and settings of ``grid`` (a ``tradeoff.TradeoffGrid`` made with the same ``vgg``).
    The paper's choice (content relu4_2, style relu1_1 ... relu5_1, the default α/β) is taken from the grid when
    it holds that cell, else computed on the first Run. Widgets: ``panel.content_layers`` and
    ``panel.style_layers`` (multiple choice), ``panel.ratio``, ``panel.steps``, ``panel.run``. Results are
    kept in ``panel.results``; the last is ``panel.result``.
    """
    _check_same_network(grid, vgg)
    steps = int(steps if steps is not None else grid.settings["steps"])
    widgets_by_name = {
        "content_layers": w.SelectMultiple(options=LAYERS, value=("relu2_2",), description="content", rows=8),
        "style_layers": w.SelectMultiple(
            options=LAYERS, value=("relu1_1", "relu2_1", "relu3_1"), description="style", rows=8
        ),
        "ratio": ratio_slider(),
        "steps": w.IntSlider(value=steps, min=1, max=max(1000, steps), description="steps", continuous_update=False),
        "run": w.Button(description="Run", button_style="primary", icon="play"),
    }
    paper_view, mine_view = image_view("280px"), image_view("280px")
    paper_caption = w.HTML()
    views = w.HBox(
        [
            w.VBox([w.HTML("<b>the paper's choice</b>"), paper_view, paper_caption]),
            w.VBox([w.HTML("<b>your choice (live while it runs)</b>"), mine_view]),
        ]
    )
    panel = Panel(
        "Choose the layers",
        widgets_by_name,
        [views],
        vgg.weights_info,
        rows=[["content_layers", "style_layers"], ["ratio", "steps", "run"]],
    )
    panel.paper_view, panel.preview, panel.results, panel.result = paper_view, mine_view, {}, None
    cell_settings = Settings.of(None, **{k: v for k, v in grid.settings.items() if k in Settings.__dataclass_fields__})
    beta = cell_settings.beta  # the grid's: alpha = (alpha/beta) beta, as in its cells
    default_ratio = default_alpha(*grid.images.shape[-2:])  # the slider's 1, and the paper's choice's α/β
    paper = (*_PAPER, default_ratio)

    def show_paper(image, where: str) -> None:
        paper_view.value = png_bytes(image, min_side=280)
        paper_caption.value = (
            f"content {', '.join(paper[0])} · style {paper[1][0]} … {paper[1][-1]} · α/β {_ratio_label(paper[2])}"
            f" · {html.escape(where)}"
        )

    def compute(content_layers, style_layers, ratio, n_steps, label, view):
        """A result from ``panel.results``, or a new run with a live preview in ``view`` (kept unless interrupted)."""
        key = (tuple(content_layers), tuple(style_layers), ratio, n_steps)
        if key not in panel.results:
            result = optimize.stylize(
                grid.content_image,
                grid.style_image,
                cell_settings,
                alpha=ratio * beta,
                beta=beta,
                content_layers=content_layers,
                style_layers=style_layers,
                steps=n_steps,
                weights=vgg,
                callback=LivePreview(view, panel, n_steps, label),
                progress=False,
            )
            if result.interrupted:
                return result
            panel.results[key] = result
        return panel.results[key]

    def run():
        content_layers, style_layers = tuple(panel.content_layers.value), tuple(panel.style_layers.value)
        if not content_layers and not style_layers:
            raise ValueError("choose at least one content or style layer")
        ratio, n_steps = float(panel.ratio.value) * default_ratio, int(panel.steps.value)
        label = (
            f"content {', '.join(content_layers) or 'none'} · style {', '.join(style_layers) or 'none'} "
            f"· α/β {ratio:.0e}"
        )
        with panel.busy():
            cell = _paper_cell(grid, n_steps)
            if cell is not None:
                show_paper(cell, f"{n_steps} steps, from the trade-off grid")
            else:
                reference = compute(*paper, n_steps, "the paper's choice", paper_view)
                show_paper(reference.image, f"{len(reference.history)} steps")
            result = compute(content_layers, style_layers, ratio, n_steps, label, mine_view)
        panel.result = result
        mine_view.value = png_bytes(result.image, min_side=280)
        state = "interrupted" if result.interrupted else "done"
        panel.set_status(f"{label} · {len(result.history)} steps · {panel.weights_text()}", state)

    first = _paper_cell(grid, steps)
    if first is not None:
        show_paper(first, f"{steps} steps, from the trade-off grid")
    panel.run.on_click(panel.handler(run))
    panel.set_status(f"choose layers and press Run · {panel.weights_text()}")
    return panel


_PAPER = (tuple(PAPER_CONTENT_LAYERS), tuple(PAPER_STYLE_LAYERS))  # the paper's content and style layers


def _check_same_network(grid, vgg: VGG19Features) -> None:
    s = grid.settings
    if (vgg.weights_info.digest, vgg.pooling, vgg.normalize) != (grid.weights.digest, s["pooling"], s["normalize"]):
        raise ValueError(
            f"the grid was made with other weights or settings ({grid.weights.label}, pooling {s['pooling']}, "
            f"normalize {s['normalize']}) than vgg ({vgg.weights_info.label}, pooling {vgg.pooling}, normalize "
            f"{vgg.normalize}); pass the network the grid was computed with"
        )


def _paper_cell(grid, steps: int):
    """The grid's cell with the paper's layers, the default α/β for its size and ``steps`` steps, if it has one."""
    if tuple(grid.settings["content_layers"]) != _PAPER[0] or steps != grid.settings["steps"]:
        return None
    rows = [r for r, layers in enumerate(grid.layer_sets) if tuple(layers) == _PAPER[1]]
    default_ratio = default_alpha(*grid.images.shape[-2:])
    cols = [c for c, x in enumerate(grid.ratios) if math.isclose(x, default_ratio, rel_tol=1e-9)]
    return grid.cell(rows[0], cols[0]) if rows and cols else None
