"""Notebook 07: the controls of Gatys et al. (CVPR 2017), one panel each: colour, regions painted on the photo,
two styles blended, coarse-to-fine.

Every panel runs its transfer on a button (``panel.run.click()`` in scripts and tests) with the package's
``stylize``; its status line says what it did and with which weights, and every figure names them.
"""

from __future__ import annotations

import time

import ipywidgets as w
import numpy as np
import torch

from .. import optimize  # optimize.stylize is looked up at each run (tests replace it)
from ..controls.masks import MASK_METHODS
from ..images import bundled_images, load_image, resize_to
from ..layers import PAPER_STYLE_LAYERS
from ..settings import default
from ..vgg import VGG19Features
from . import plots
from .panels import LivePreview, Panel, figure_png, image_view, png_bytes

__all__ = ["colour_panel", "region_panel", "blend_panel", "coarse_to_fine_panel", "ready_mask", "READY_MASKS"]

READY_MASKS = ("left half", "top half", "centre disc")


def ready_mask(name: str, height: int, width: int) -> torch.Tensor:
    """A ready-made mask (H, W): 1 in the region, 0 elsewhere (for learners without a mouse, and quick mode).

    >>> ready_mask("left half", 2, 4).tolist()
    [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    """
    if name not in READY_MASKS:
        raise ValueError(f"ready mask must be one of {', '.join(map(repr, READY_MASKS))}, got {name!r}")
    mask = torch.zeros(height, width)
    if name == "left half":
        mask[:, : width // 2] = 1
    elif name == "top half":
        mask[: height // 2] = 1
    else:
        y, x = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing="ij")
        mask[((y - height / 2) ** 2 + (x - width / 2) ** 2) <= (0.3 * min(height, width)) ** 2] = 1
    return mask


def _style_choices() -> list[str]:
    return list(bundled_images("style"))


def _steps_slider(steps: int, max_steps: int) -> w.IntSlider:
    return w.IntSlider(value=steps, min=1, max=max(max_steps, steps), description="steps", continuous_update=False)


def _finish(panel: Panel, result, label: str, started: float) -> None:
    first, best = result.history[0]["total"], min(h["total"] for h in result.history)
    state = "interrupted" if result.interrupted else "done"
    seconds = time.perf_counter() - started
    panel.set_status(
        f"{label} · {len(result.history)} steps in {seconds:.1f} s · loss {first:.3g} → {best:.3g} · "
        f"{panel.weights_text()}",
        state,
    )


# --- Colour -------------------------------------------------------------------------------------------------


def colour_panel(
    vgg: VGG19Features,
    content: str = "astronaut",
    style: str = "mosaic",
    size: int = 128,
    steps: int = 50,
    max_steps: int = 500,
) -> Panel:
    """Original, luminance-only and histogram-matched transfers side by side (paper section 5, Fig. 2-3).

    Widgets: ``content``, ``style`` (bundled images), ``steps``, ``run``. The three runs start from the photo
    (the fast preset) with the default α/β; ``panel.results`` holds them by mode.
    """
    photos = list(bundled_images("content"))
    widgets_by_name = {
        "content": w.Dropdown(options=photos, value=content, description="content", layout=w.Layout(width="220px")),
        "style": w.Dropdown(options=_style_choices(), value=style, description="style", layout=w.Layout(width="220px")),
        "steps": _steps_slider(steps, max_steps),
        "run": w.Button(description="Run the three", button_style="primary", icon="play"),
    }
    view = image_view("100%", "the three results appear here when you press Run the three")
    panel = Panel(
        "Colour: keep the photo's colours",
        widgets_by_name,
        [view],
        vgg.weights_info,
        rows=[["content", "style"], ["steps", "run"]],
    )
    panel.view, panel.results = view, {}

    def run():
        started = time.perf_counter()
        c, s = load_image(panel.content.value, size=size), load_image(panel.style.value, size=size)
        n = int(panel.steps.value)
        with panel.busy():
            for mode in (None, "luminance", "histogram"):
                label = f"preserve_colors={mode}"
                preview = LivePreview(w.Image(), panel, n, label)
                panel.results[mode] = result = optimize.stylize(
                    c, s, weights=vgg, init="content", steps=n, preserve_colors=mode, callback=preview, progress=False
                )
                if result.interrupted:
                    break
        fig = plots.colour_figure(c, s, {m: r.image for m, r in panel.results.items()}, vgg.weights_info, steps=n)
        view.value = figure_png(fig)
        _finish(panel, result, f"{panel.content.value} in the style of {panel.style.value} · 3 colour modes", started)

    panel.run.on_click(panel.handler(run))
    panel.set_status(f"press Run to compare the three colour modes · {panel.weights_text()}")
    return panel


# --- Regions: paint a mask, see it at each layer, two styles in two regions -----------------------------------


def region_panel(
    vgg: VGG19Features,
    content: str = "astronaut",
    styles: tuple[str, str] = ("mosaic", "swirls"),
    size: int = 128,
    steps: int = 50,
    max_steps: int = 500,
    canvas_size: int = 320,
) -> Panel:
    """Paint region 1 on the photo (region 2 is the rest), see the mask at each layer for the three propagation
    methods, and run the transfer with one style per region (paper section 4, guided Gram matrices).

    Widgets: ``ready`` (a ready-made mask, or "paint" to start from an empty one), ``brush`` (radius in pixels
    of the photo), ``layer`` (whose feature-map size the masks are shown at), ``propagation``, ``style_1``,
    ``style_2``, ``steps``, ``run``. ``panel.canvas`` is the ipycanvas drawing surface (mouse: paint);
    ``panel.paint(x, y)`` paints at canvas coordinates as a mouse does; ``panel.mask`` is the mask (H, W).
    """
    from ipycanvas import Canvas  # imported here: only this panel draws on a canvas

    photo = load_image(content, size=size)
    h, wd = photo.shape[-2:]
    scale = canvas_size / max(h, wd)
    width, height = round(wd * scale), round(h * scale)
    canvas = Canvas(width=width, height=height, layout=w.Layout(width=f"{width}px", height=f"{height}px"))
    layers_view, result_view = (
        image_view("100%"),
        image_view("320px", "the result appears here when you press Run two regions"),
    )
    views = [
        w.HBox(
            [
                w.VBox([w.HTML("<b>paint region 1 (red) with the mouse</b>"), canvas]),
                w.VBox([w.HTML("<b>result (live while it runs)</b>"), result_view]),
            ]
        ),
        layers_view,
    ]
    rows = [["ready", "brush"], ["layer", "propagation"], ["style_1", "style_2"], ["steps", "run"]]
    panel = Panel(
        "Two styles, two regions", _region_widgets(h, wd, styles, steps, max_steps), views, vgg.weights_info, rows=rows
    )
    panel.canvas, panel.photo, panel.result = canvas, photo, None
    regions = _Regions(panel, vgg, size, scale, layers_view, result_view)
    panel.paint = regions.paint
    canvas.on_mouse_down(_xy(panel, regions.on_down))
    canvas.on_mouse_move(_xy(panel, regions.on_move))
    canvas.on_mouse_up(_xy(panel, regions.on_up))
    panel.ready.observe(panel.handler(regions.use_ready), names="value")
    panel.layer.observe(panel.handler(regions.show_layer), names="value")
    panel.run.on_click(panel.handler(regions.run))
    regions.use_ready()
    return panel


def _region_widgets(h: int, wd: int, styles: tuple[str, str], steps: int, max_steps: int) -> dict[str, w.Widget]:
    """The region panel's widgets, by name (see :func:`region_panel`); the brush is sized to the photo."""
    choices = _style_choices()
    return {
        "ready": w.Dropdown(
            options=[*READY_MASKS, "paint"], value=READY_MASKS[0], description="mask", layout=w.Layout(width="220px")
        ),
        "brush": w.IntSlider(
            value=max(2, round(min(h, wd) / 10)), min=1, max=max(4, min(h, wd) // 3), description="brush (px)"
        ),
        "layer": w.Dropdown(
            options=list(PAPER_STYLE_LAYERS), value="relu3_1", description="layer", layout=w.Layout(width="200px")
        ),
        "propagation": w.Dropdown(
            options=list(MASK_METHODS),
            value=default("mask_propagation"),
            description="propagation",
            layout=w.Layout(width="220px"),
        ),
        "style_1": w.Dropdown(options=choices, value=styles[0], description="style 1", layout=w.Layout(width="220px")),
        "style_2": w.Dropdown(options=choices, value=styles[1], description="style 2", layout=w.Layout(width="220px")),
        "steps": _steps_slider(steps, max_steps),
        "run": w.Button(description="Run two regions", button_style="primary", icon="play"),
    }


class _Regions:
    """What the region panel does: keep ``panel.mask`` (region 1, (H, W) on the photo's pixels), draw it over the
    photo on the canvas, show it at a layer, paint with the mouse, and run two styles in the two regions."""

    OVERLAY = np.array([230, 30, 30])  # region 1 is shown in red, at 45 % over the photo

    def __init__(
        self, panel: Panel, vgg: VGG19Features, size: int, scale: float, layers_view: w.Image, result_view: w.Image
    ):
        self.panel, self.vgg, self.size, self.scale = panel, vgg, size, scale
        self.layers_view, self.result_view = layers_view, result_view
        self.h, self.wd = panel.photo.shape[-2:]
        canvas = panel.canvas
        self.pixels = (
            (resize_to(panel.photo, (canvas.height, canvas.width))[0].permute(1, 2, 0).numpy() * 255)
            .round()
            .astype(np.uint8)
        )
        self.down = False  # the mouse button, while painting
        panel.mask = ready_mask(READY_MASKS[0], self.h, self.wd)

    # --- the mask: drawn on the canvas, shown at a layer, described ---

    def draw_canvas(self) -> None:
        from ipycanvas import hold_canvas

        canvas, mask = self.panel.canvas, self.panel.mask
        big = resize_to(mask[None, None].expand(1, 3, -1, -1), (canvas.height, canvas.width))[0, 0].numpy()[..., None]
        overlay = (self.pixels * (1 - 0.45 * big) + self.OVERLAY * 0.45 * big).astype(np.uint8)
        with hold_canvas():
            canvas.put_image_data(overlay, 0, 0)

    def show_layers(self) -> None:
        self.layers_view.value = figure_png(plots.mask_propagation_figure(self.panel.mask, self.panel.layer.value))

    def describe(self) -> str:
        return f"region 1 covers {float(self.panel.mask.mean()):.0%} of the photo · masks at {self.panel.layer.value}"

    def show_layer(self) -> None:
        """The layer changed: show the masks there."""
        self.show_layers()
        self.panel.set_status(f"{self.describe()} · {self.panel.weights_text()}")

    def use_ready(self) -> None:
        """The mask menu changed: a ready mask, or an empty one to paint."""
        ready = self.panel.ready.value
        self.panel.mask = torch.zeros(self.h, self.wd) if ready == "paint" else ready_mask(ready, self.h, self.wd)
        self.draw_canvas()
        self.show_layers()
        self.panel.set_status(f"{self.describe()} · paint, then press Run · {self.panel.weights_text()}")

    # --- painting with the mouse ---

    def paint(self, x: float, y: float) -> None:
        """Paint region 1 at canvas coordinates (x, y) with the brush."""
        cy, cx, r = y / self.scale, x / self.scale, self.panel.brush.value
        yy, xx = torch.meshgrid(torch.arange(self.h) + 0.5, torch.arange(self.wd) + 0.5, indexing="ij")
        self.panel.mask = torch.where((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r, torch.ones(()), self.panel.mask)
        self.panel.canvas.fill_style = "rgba(230, 30, 30, 0.45)"
        self.panel.canvas.fill_circle(x, y, r * self.scale)

    def on_down(self, x: float, y: float) -> None:
        self.down = True
        self.paint(x, y)

    def on_move(self, x: float, y: float) -> None:
        if self.down:
            self.paint(x, y)

    def on_up(self, x: float, y: float) -> None:
        if self.down:
            self.down = False
            self.show_layers()
            self.panel.set_status(f"painted · {self.describe()} · press Run · {self.panel.weights_text()}")

    # --- the transfer ---

    def run(self) -> None:
        panel, mask = self.panel, self.panel.mask
        if not float(mask.max()) > 0:
            raise ValueError("region 1 is empty: paint it on the photo, or choose a ready mask")
        if float(mask.min()) >= 1:
            raise ValueError("region 1 covers the whole photo, so region 2 is empty: leave some of the photo unpainted")
        started = time.perf_counter()
        s1, s2 = (load_image(panel.style_1.value, size=self.size), load_image(panel.style_2.value, size=self.size))
        n = int(panel.steps.value)
        label = f"{panel.style_1.value} in region 1, {panel.style_2.value} in region 2 · {panel.propagation.value}"
        preview = LivePreview(self.result_view, panel, n, label)
        with panel.busy():
            panel.result = optimize.stylize(
                panel.photo,
                [s1, s2],
                content_masks=[mask, 1 - mask],
                weights=self.vgg,
                init="content",
                steps=n,
                mask_propagation=panel.propagation.value,
                callback=preview,
                progress=False,
            )
        self.result_view.value = png_bytes(panel.result.image)
        _finish(panel, panel.result, label, started)


def _xy(panel: Panel, fn):
    """A mouse handler ``fn(x, y)`` whose errors go to the status line, like :meth:`Panel.handler`."""

    def wrapped(x, y):
        try:
            fn(x, y)
        except Exception as e:  # shown to the learner
            panel.set_status(f"{type(e).__name__}: {e}", "error")

    return wrapped


# --- Two styles blended ---------------------------------------------------------------------------------------


def blend_panel(
    vgg: VGG19Features,
    content: str = "astronaut",
    styles: tuple[str, str] = ("mosaic", "swirls"),
    size: int = 128,
    steps: int = 50,
    max_steps: int = 500,
) -> Panel:
    """Two artworks mixed by their Gram matrices: the target is w A_1 + (1 - w) A_2 (``style_blend=[w, 1 - w]``).

    Widgets: ``style_1``, ``style_2``, ``blend`` (w, the weight of style 1), ``steps``, ``run``.
    """
    choices = _style_choices()
    widgets_by_name = {
        "style_1": w.Dropdown(options=choices, value=styles[0], description="style 1", layout=w.Layout(width="220px")),
        "style_2": w.Dropdown(options=choices, value=styles[1], description="style 2", layout=w.Layout(width="220px")),
        "blend": w.FloatSlider(
            value=0.5,
            min=0.0,
            max=1.0,
            step=0.1,
            description="w (style 1)",
            readout_format=".1f",
            continuous_update=False,
        ),
        "steps": _steps_slider(steps, max_steps),
        "run": w.Button(description="Run the blend", button_style="primary", icon="play"),
    }
    result_view = image_view("100%", "the blend appears here when you press Run the blend")
    panel = Panel(
        "Two styles, one blend",
        widgets_by_name,
        [result_view],
        vgg.weights_info,
        rows=[["style_1", "style_2"], ["blend", "steps", "run"]],
    )
    photo = load_image(content, size=size)
    panel.result = None

    def run():
        started = time.perf_counter()
        s1, s2 = load_image(panel.style_1.value, size=size), load_image(panel.style_2.value, size=size)
        wt, n = float(panel.blend.value), int(panel.steps.value)
        label = f"w = {wt:.1f} {panel.style_1.value} + {1 - wt:.1f} {panel.style_2.value}"
        live = w.Image()
        with panel.busy():
            panel.result = optimize.stylize(
                photo,
                [s1, s2],
                style_blend=[wt, 1 - wt],
                weights=vgg,
                init="content",
                steps=n,
                callback=LivePreview(live, panel, n, label),
                progress=False,
            )
        fig = plots.show_images(
            [s1, panel.result.image, s2],
            [f"style 1: {panel.style_1.value}", f"blend, {label}", f"style 2: {panel.style_2.value}"],
            vgg.weights_info,
            suptitle=f"style_blend = [{wt:.1f}, {1 - wt:.1f}], {n} steps from the photo",
        )
        result_view.value = figure_png(fig)
        _finish(panel, panel.result, label, started)

    panel.run.on_click(panel.handler(run))
    panel.set_status(f"choose w, press Run · {panel.weights_text()}")
    return panel


# --- Coarse-to-fine --------------------------------------------------------------------------------------------


def coarse_to_fine_panel(
    vgg: VGG19Features,
    content: str = "astronaut",
    style: str = "mosaic",
    sizes: tuple[int, int] = (64, 128),
    steps: tuple[int, int] = (40, 10),
) -> Panel:
    """The pyramid (``sizes``, ``steps`` per size) against one run at the last size with the same number of steps,
    both from white noise: their times and their losses at the last size (paper section 6). Widgets: ``run``.
    ``panel.table`` holds ``{"pyramid": (seconds, loss), "single": (seconds, loss)}``.
    """
    widgets_by_name = {"run": w.Button(description="Run both", button_style="primary", icon="play")}
    view, numbers = image_view("100%", "both results appear here when you press Run both"), w.HTML()
    panel = Panel("Coarse-to-fine against one run at full size", widgets_by_name, [numbers, view], vgg.weights_info)
    panel.table = {}

    def run():
        photo, art = load_image(content, size=sizes[-1]), load_image(style, size=sizes[-1])
        total = sum(steps)
        with panel.busy():
            t0 = time.perf_counter()
            pyramid = optimize.stylize(photo, art, sizes=sizes, steps=steps, weights=vgg, progress=False)
            t1 = time.perf_counter()
            single = optimize.stylize(photo, art, steps=total, weights=vgg, progress=False)
            t2 = time.perf_counter()
        last = [r["total"] for r in pyramid.history if r.get("size") == sizes[-1]]
        panel.table = {"pyramid": (t1 - t0, min(last)), "single": (t2 - t1, min(r["total"] for r in single.history))}
        numbers.value = (
            f"<pre>coarse-to-fine {' → '.join(map(str, sizes))} px, {' + '.join(map(str, steps))} steps: "
            f"{t1 - t0:5.1f} s, loss at {sizes[-1]} px {panel.table['pyramid'][1]:.4g}\n"
            f"one run at {sizes[-1]} px, {total} steps from noise:      {t2 - t1:5.1f} s, loss "
            f"{panel.table['single'][1]:.4g}</pre>"
        )
        fig = plots.show_images(
            [pyramid.image, single.image],
            [f"coarse-to-fine {sizes}", f"one run at {sizes[-1]} px"],
            vgg.weights_info,
            suptitle=f"Same number of steps ({total}); each from white noise",
        )
        view.value = figure_png(fig)
        _finish(panel, pyramid, f"pyramid {t1 - t0:.1f} s, single {t2 - t1:.1f} s", t0)

    panel.run.on_click(panel.handler(run))
    panel.set_status(
        f"press Run: {sizes} px with {steps} steps, then one run at {sizes[-1]} px · {panel.weights_text()}"
    )
    return panel
