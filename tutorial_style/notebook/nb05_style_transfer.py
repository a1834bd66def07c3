"""Notebook 05: the style-transfer studio, every knob of ``stylize`` on one panel, with a live view, Stop and Save."""

from __future__ import annotations

import threading
from pathlib import Path

import ipywidgets as w

from .. import optimize  # optimize.stylize is looked up at each run (tests replace it)
from ..images import bundled_images, load_image, save_image
from ..layers import PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS
from ..settings import INITS, OPTIMIZERS, PRESETS, default, default_alpha
from ..vgg import VGG19Features, get_vgg
from .features import RELU_LAYERS
from .panels import LiveView, Panel, image_view, layer_dropdown, png_bytes, ratio_slider, take_upload

__all__ = ["studio", "Studio", "STUDIO_STYLE_LAYERS"]

STUDIO_STYLE_LAYERS = PAPER_STYLE_LAYERS  # the studio's style-layer checkboxes


def studio(
    vgg: VGG19Features | None = None,
    *,
    content: str = "astronaut",
    style: str = "mosaic",
    size: int = 64,
    preset: str = "fast",
    steps: int | None = None,
    max_size: int = 512,
    max_steps: int = 1000,
) -> Studio:
    """The style-transfer studio: pick images and settings, Run with a live view, Stop, Save.

    Widgets (attributes of the panel): ``content``/``style`` (bundled images, and uploads added by
    ``content_upload``/``style_upload``), ``ratio`` (α/β as a multiple of ``default_alpha`` for the image's size,
    on a log slider; 1 is the default), ``content_layer``,
    ``use_relu1_1`` ... (style-layer checkboxes) with ``weight_relu1_1`` ... (their w_l, renormalised over the
    ticked layers so that they sum to 1, as the paper's w_l do), ``size``, ``preset`` (``PRESETS``: choosing one
    sets ``steps`` and ``init``), ``steps``, ``init``, ``optimizer``; buttons ``run``, ``stop``, ``save`` and the
    file name ``filename`` (a bare name is saved in ``outputs/``, never over an existing file). It opens on the
    ``fast`` preset (start from the content image); ``steps`` given here overrides the preset's.

    The optimisation runs in a background thread, so the notebook stays responsive and Stop can be
    clicked: it ends the run and keeps the best image so far. ``panel.wait()`` waits for the run and
    returns ``panel.result`` (a ``StyleTransferResult``). The defaults are small and fast; the paper
    used about 512 px and several hundred steps.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {list(PRESETS)}, got {preset!r}")
    opening = {**PRESETS[preset], **({} if steps is None else {"steps": steps})}
    return Studio(vgg if vgg is not None else get_vgg(), content, style, size, preset, opening, max_size, max_steps)


def _widgets(content, style, size, preset, opening, max_size, max_steps) -> dict[str, w.Widget]:
    choices = list(bundled_images("content")) + list(bundled_images("style"))
    per_layer = {}
    for name in STUDIO_STYLE_LAYERS:
        per_layer[f"use_{name}"] = w.Checkbox(value=True, description=name, indent=False, layout=w.Layout(width="90px"))
        per_layer[f"weight_{name}"] = w.FloatSlider(
            value=round(1 / len(STUDIO_STYLE_LAYERS), 3),
            min=0.0,
            max=1.0,
            step=0.05,
            description="w_l",
            readout_format=".2f",
            continuous_update=False,
            layout=w.Layout(width="250px"),
        )
    return {
        "content": w.Dropdown(options=choices, value=content, description="content", layout=w.Layout(width="220px")),
        "content_upload": w.FileUpload(accept="image/*", multiple=False, description="upload content"),
        "style": w.Dropdown(options=choices, value=style, description="style", layout=w.Layout(width="220px")),
        "style_upload": w.FileUpload(accept="image/*", multiple=False, description="upload style"),
        "ratio": ratio_slider(),
        "content_layer": layer_dropdown(RELU_LAYERS, PAPER_CONTENT_LAYERS[0], "content at"),
        **per_layer,
        "size": w.IntSlider(
            value=size, min=32, max=max(max_size, size), step=16, description="size (px)", continuous_update=False
        ),
        "preset": w.ToggleButtons(
            options=list(PRESETS),
            value=preset,
            description="preset",
            tooltips=[f"{p['steps']} steps from {p['init']}" for p in PRESETS.values()],
        ),
        "steps": w.IntSlider(
            value=opening["steps"],
            min=1,
            max=max(max_steps, opening["steps"]),
            description="steps",
            continuous_update=False,
        ),
        "init": w.Dropdown(
            options=list(INITS), value=opening["init"], description="start from", layout=w.Layout(width="200px")
        ),
        "optimizer": w.ToggleButtons(options=list(OPTIMIZERS), value=default("optimizer"), description="optimizer"),
        "run": w.Button(description="Run", button_style="primary", icon="play"),
        "stop": w.Button(description="Stop", button_style="warning", icon="stop", disabled=True),
        "filename": w.Text(value="stylized.png", description="file", layout=w.Layout(width="260px")),
        "save": w.Button(description="Save", icon="save"),
    }


_ROWS = [
    ["content", "content_upload", "style", "style_upload"],
    ["ratio", "content_layer"],
    *[[f"use_{n}", f"weight_{n}"] for n in STUDIO_STYLE_LAYERS],
    ["preset"],
    ["size", "steps", "init"],
    ["optimizer"],
    ["run", "stop", "filename", "save"],
]


OUTPUTS = "outputs"  # where a bare file name is saved, next to the notebook; git-ignored (.gitignore)


def output_path(name: str) -> Path:
    """Where the studio saves ``name``: a bare file name goes into ``outputs/`` (next to the notebook, git-ignored, so a
    result is never committed by mistake); a name with a folder is used as it is.

    >>> str(output_path("stylized.png")), str(output_path("/tmp/a.png"))
    ('outputs/stylized.png', '/tmp/a.png')
    """
    path = Path(name).expanduser()
    return Path(OUTPUTS, path) if path.parent == Path(".") else path


def free_path(path: Path) -> Path:
    """``path`` if no file is there, else the first free ``stem-1``, ``stem-2``, ... next to it: never overwrite."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


class Studio(Panel):
    """The studio's panel (see :func:`studio`): its widgets, its run in a background thread, Stop and Save."""

    def __init__(self, vgg, content, style, size, preset, opening, max_size, max_steps):
        widgets_by_name = _widgets(content, style, size, preset, opening, max_size, max_steps)
        self.content_view, self.style_view = image_view("160px"), image_view("160px")
        self.stop_event = threading.Event()
        self.live = LiveView(vgg.weights_info, opening["steps"], panel=None, stop=self.stop_event)
        inputs = w.HBox(
            [
                w.VBox([w.HTML("<b>content</b>"), self.content_view]),
                w.VBox([w.HTML("<b>style</b>"), self.style_view]),
            ]
        )
        super().__init__(
            "Style-transfer studio", widgets_by_name, [inputs, self.live.widget], vgg.weights_info, rows=_ROWS
        )
        self.vgg, self.result, self.uploads, self.thread = vgg, None, {}, None
        self.preview = self.live.preview_view
        self.style_layer_boxes = {n: widgets_by_name[f"use_{n}"] for n in STUDIO_STYLE_LAYERS}
        self.style_weight_sliders = {n: widgets_by_name[f"weight_{n}"] for n in STUDIO_STYLE_LAYERS}
        self.live.preview.panel = self
        self.preset.observe(self.handler(self.use_preset), names="value")
        self.content.observe(self.handler(self.show_inputs), names="value")
        self.style.observe(self.handler(self.show_inputs), names="value")
        self.content_upload.observe(
            self.handler(lambda: self.add_upload("content", self.content_upload)), names="value"
        )
        self.style_upload.observe(self.handler(lambda: self.add_upload("style", self.style_upload)), names="value")
        self.run.on_click(self.handler(self.start))
        self.stop.on_click(self.handler(self.stop_event.set))
        self.save.on_click(self.handler(self.save_result))
        self.handler(self.show_inputs)()
        self.set_status(f"{self.content.value} in the style of {self.style.value} · press Run · {self.weights_text()}")

    def source(self, name: str):
        """A dropdown's choice as something ``load_image`` reads: a bundled name, or an upload's bytes."""
        return self.uploads.get(name, name)

    def show_inputs(self) -> None:
        self.content_view.value = png_bytes(load_image(self.source(self.content.value), size=128), min_side=128)
        self.style_view.value = png_bytes(load_image(self.source(self.style.value), size=128), min_side=128)

    def add_upload(self, which: str, upload: w.FileUpload) -> None:
        name = take_upload(upload, getattr(self, which), self.uploads)
        if name is not None:
            self.set_status(f"uploaded {name} as the {which} image · press Run · {self.weights_text()}")

    def settings(self) -> dict:
        """``stylize``'s arguments from the widgets: β is ``Settings``' default and α = (α/β) β, with α/β the slider's
        multiple of ``default_alpha`` for the content image's size. The ticked layers' w_l are divided by their sum, so
        that α/β means here what it means in ``stylize`` and in notebook 06's grid (whose w_l sum to 1)."""
        layers = tuple(n for n in STUDIO_STYLE_LAYERS if self.style_layer_boxes[n].value)
        weights = {n: float(self.style_weight_sliders[n].value) for n in layers}
        total = sum(weights.values())
        if layers and total <= 0:
            raise ValueError("every ticked style layer has w_l = 0: give at least one a weight, or untick them all")
        content = load_image(self.source(self.content.value), size=self.size.value)
        ratio = float(self.ratio.value) * default_alpha(*content.shape[-2:])
        return dict(
            content=content,
            style=load_image(self.source(self.style.value), size=self.size.value),
            alpha=ratio * default("beta"),
            beta=default("beta"),
            content_layers=(self.content_layer.value,),
            style_layers=layers,
            style_weights={n: v / total for n, v in weights.items()} if layers else None,
            steps=int(self.steps.value),
            init=self.init.value,
            optimizer=self.optimizer.value,
        )

    def describe(self, s: dict) -> str:
        layers = ", ".join(s["style_layers"]) or "none"
        return (
            f"{self.content.value} in the style of {self.style.value} · α/β {s['alpha'] / s['beta']:.0e} · content "
            f"{s['content_layers'][0]} · style {layers} · {s['optimizer']} from {s['init']}"
        )

    def set_running(self, running: bool) -> None:
        for name, c in self.widgets_by_name.items():
            if hasattr(c, "disabled"):
                c.disabled = running if name != "stop" else not running

    def start(self) -> None:
        """The Run button: start a run in a background thread (a second click while one runs does nothing)."""
        if self.thread is not None and self.thread.is_alive():
            return
        s = self.settings()
        label = self.describe(s)
        self.stop_event.clear()
        self.live.preview.steps = self.live.plot.steps = s["steps"]
        self.live.preview.label = label
        self.live.plot.alpha, self.live.plot.beta, self.live.plot.losses = s["alpha"], s["beta"], []
        self.set_status(f"{label} · step 0/{s['steps']}", "running")
        self.set_running(True)
        self.thread = threading.Thread(target=self.work, args=(s, label), name="tutorial_style-studio", daemon=True)
        self.thread.start()

    def work(self, s: dict, label: str) -> None:
        try:
            result = optimize.stylize(**s, weights=self.vgg, callback=self.live, progress=False)
            self.result = result
            self.live.finish(result)
            state = "interrupted" if result.interrupted else "done"
            first, best = result.history[0]["total"], min(h["total"] for h in result.history)
            self.set_status(
                f"{label} · {len(result.history)} of {s['steps']} steps · loss {first:.3g} → {best:.3g} · "
                f"{self.weights_text()}",
                state,
            )
        except Exception as e:  # shown in the status line: the thread has no one else to tell
            self.set_status(f"{type(e).__name__}: {e}", "error")
        finally:
            self.set_running(False)

    def save_result(self) -> None:
        if self.result is None:
            raise ValueError("nothing to save yet: press Run first")
        name = self.filename.value.strip()
        if not name:
            raise ValueError("give a file name ending in .png or .jpg")
        wanted = output_path(name)
        path = save_image(self.result.image, free_path(wanted))
        h, wd = self.result.image.shape[-2:]
        kept = f" ({wanted} exists: kept it, saved next to it)" if path != wanted else ""
        self.set_status(f"saved {path} ({wd}x{h} px){kept} · {self.weights_text()}", "done")

    def wait(self, timeout: float | None = None):
        """Wait for the current run (if any) to finish; returns ``panel.result``."""
        if self.thread is not None:
            self.thread.join(timeout)
        return self.result

    def use_preset(self) -> None:
        chosen = PRESETS[self.preset.value]
        self.steps.value, self.init.value = chosen["steps"], chosen["init"]
        self.set_status(
            f"preset {self.preset.value}: {self.steps.value} steps from {self.init.value} · press Run · "
            f"{self.weights_text()}"
        )
