"""Ready-made control panels for the notebooks: one function per panel, so a notebook cell is one line.

The design, shared by every panel (notebooks 01-06):

- A panel is a :class:`Panel`, an ``ipywidgets.VBox``. Its controls are attributes, so tests and scripts
  drive it like a learner would: ``panel.layer.value = "relu3_1"; panel.run.click()``.
- ``panel.status`` is one line saying what the panel shows or does, starting with its state:
  ``"ready · layer relu3_1 · 256 channels · weights: RANDOM"``, ``"running · step 3/20 ..."``, ``"done · ..."``,
  ``"interrupted · ..."`` or ``"error · ..."``; ``panel.status_text`` gives it as plain text (tests and browser
  tests wait for it).
- Cheap views (from cached features) answer at once on every change. Expensive work (an optimisation)
  runs on a button; sliders that feed it use ``continuous_update=False``. Controls are disabled while it runs.
- Figures are rendered to PNG into an ``ipywidgets.Image`` (:func:`figure_png`) and closed: nothing piles up,
  and a stored notebook holds no image.
- Live previews are a ``stylize`` callback (:class:`LivePreview`) that writes the current image into an
  ``ipywidgets.Image``. The kernel's interrupt (the ■ button, or I, I) stops a run; ``stylize`` then returns
  the best image so far, which the panel keeps and shows.
- Errors in a button's work are shown in the status line (``error · ...``), never lost in a log.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import platform
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import ipywidgets as w
import torch
from PIL import Image as PILImage

from . import plots
from .gram import gram_matrix
from .images import load_image, resize_to
from .losses import style_layer_loss
from .optimize import reconstruct_content, reconstruct_style
from .tradeoff import layer_sets
from .vgg import LAYER_INFO, LAYERS, PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS, VGG19Features
from .weights import WeightsInfo, imagenet_weights_path

__all__ = [
    "Banner",
    "setup_banner",
    "weights_tag",
    "png_bytes",
    "figure_png",
    "Panel",
    "LivePreview",
    "receptive_field_viewer",
    "feature_map_browser",
    "content_reconstruction_panel",
    "gram_viewer",
    "style_reconstruction_panel",
    "growing_style_sets",
]

# Layers whose features the paper uses: rectified (relu) outputs, and the pools between blocks.
FEATURE_LAYERS = tuple(n for n in LAYERS if LAYER_INFO[n].kind in ("relu", "pool"))
RELU_LAYERS = tuple(n for n in LAYERS if LAYER_INFO[n].kind == "relu")


# --- The set-up banner ---------------------------------------------------------------------------


def weights_tag(weights: WeightsInfo) -> str:
    """A short name for status lines: "ImageNet", "RANDOM" or the file's label."""
    if weights.source == "imagenet":
        return "ImageNet"
    return weights.label if weights.pretrained else "RANDOM"


@dataclass(frozen=True)
class Banner:
    """What the set-up cell shows: versions, device, weights. Green for ImageNet weights, red for random ones."""

    lines: tuple[str, ...]
    pretrained: bool

    def __repr__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:
        colour, background = ("#1b5e20", "#e8f5e9") if self.pretrained else ("#b71c1c", "#ffebee")
        body = "<br>".join(html.escape(line) for line in self.lines)
        return (
            f'<div style="border:2px solid {colour};background:{background};color:{colour};'
            f'padding:8px 12px;border-radius:6px;font-family:monospace">{body}</div>'
        )


def _versions() -> str:
    import torchvision

    return (
        f"Python {platform.python_version()} · torch {torch.__version__} · torchvision {torchvision.__version__} · "
        f"ipywidgets {w.__version__}"
    )


def setup_banner(vgg: VGG19Features, device: torch.device | str | None = None) -> Banner:
    """The banner of every notebook's set-up cell: versions, device, and which weights ``vgg`` carries.

    With random weights it says so loudly and how to get the ImageNet ones.

    >>> from tutorial_style import get_vgg
    >>> print(setup_banner(get_vgg("random"), "cpu"))  # doctest: +ELLIPSIS
    Python ... · torch ... · torchvision ... · ipywidgets ...
    Device: cpu ...
    RANDOM weights ... NOT what a trained VGG19 sees...
    """
    device = torch.device(device) if device is not None else next(vgg.parameters()).device
    threads = f" ({torch.get_num_threads()} CPU threads)" if device.type == "cpu" else ""
    info = vgg.weights_info
    lines = [_versions(), f"Device: {device}{threads} · pooling: {vgg.pooling} · normalised: {vgg.normalize}"]
    if info.pretrained:
        lines.append(f"✔ {plots.weights_caption(info)}")
    else:
        chosen = os.environ.get("TUTORIAL_STYLE_WEIGHTS", "")
        why = f" (chosen by TUTORIAL_STYLE_WEIGHTS={chosen})" if chosen else ""
        lines += [
            f"⚠ {info.label}{why}: NOT what a trained VGG19 sees. Features, reconstructions and style",
            "  transfers will not look like the paper's figures. To get the ImageNet weights:",
            "  run `python -m tutorial_style fetch-weights` once on a machine with internet; it stores",
            f"  {imagenet_weights_path()} (the folder moves with TORCH_HOME),",
            "  or set TUTORIAL_STYLE_WEIGHTS to a VGG19 weights file; then restart the kernel.",
        ]
    return Banner(tuple(lines), info.pretrained)


# --- Building blocks ---------------------------------------------------------------------------------


def png_bytes(image: torch.Tensor, min_side: int = 256, gap: int = 4) -> bytes:
    """PNG bytes of an image (1, 3, H, W) in [0, 1], for an ``ipywidgets.Image``.

    A batch (B, 3, H, W) is shown side by side. Small images are enlarged (nearest neighbour, so pixels
    stay visible) until the shorter side is at least ``min_side``.

    >>> png_bytes(torch.rand(2, 3, 8, 8))[:4]
    b'\\x89PNG'
    """
    if image.dim() == 3:
        image = image.unsqueeze(0)
    b, _, h, width = image.shape
    canvas = torch.ones(3, h, b * width + (b - 1) * gap)
    for i in range(b):
        canvas[:, :, i * (width + gap) : i * (width + gap) + width] = image[i].detach().float().cpu().clamp(0, 1)
    array = (canvas.nan_to_num(0.5) * 255).round().byte().permute(1, 2, 0).numpy()
    pil = PILImage.fromarray(array)
    factor = max(1, -(-min_side // max(1, min(h, width))))
    if factor > 1:
        pil = pil.resize((pil.width * factor, pil.height * factor), PILImage.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def figure_png(fig, dpi: int = 90) -> bytes:
    """PNG bytes of a matplotlib figure, which is then closed."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plots.close(fig)
    return buffer.getvalue()


def _image_view(width: str = "auto") -> w.Image:
    return w.Image(format="png", layout=w.Layout(width=width, max_width="100%", object_fit="contain"))


def _as_images(images, size: int | None) -> dict[str, torch.Tensor]:
    """``{name: tensor}``, a list of bundled names/paths, or one tensor -> ``{name: (1, 3, H, W)}``."""
    if isinstance(images, torch.Tensor):
        images = {"image": images}
    elif isinstance(images, str):
        images = [images]
    if not isinstance(images, Mapping):
        images = {str(name): name for name in images}
    out = {str(name): load_image(img, size=size) for name, img in images.items()}
    if not out:
        raise ValueError("no images given: pass a dict {name: image tensor} or a list of bundled names")
    return out


class Panel(w.VBox):
    """A control panel: a title, rows of controls (also attributes of the panel), views, and a status line.

    ``controls`` maps attribute names to widgets; ``rows`` lists the rows of attribute names to lay out
    (default: all controls in one row). ``views`` are the widgets below the controls (images, text).
    """

    def __init__(
        self,
        title: str,
        controls: Mapping[str, w.Widget],
        views: Sequence[w.Widget],
        weights: WeightsInfo | None = None,
        rows: Sequence[Sequence[str]] | None = None,
    ):
        super().__init__()
        self.weights = weights
        self.controls = dict(controls)
        for name, control in self.controls.items():
            if hasattr(w.VBox, name):
                raise ValueError(f"control name {name!r} clashes with an attribute of ipywidgets.VBox")
            setattr(self, name, control)
        rows = rows if rows is not None else [list(self.controls)]
        heading = f"<b>{html.escape(title)}</b>"
        if weights is not None:
            colour = "inherit" if weights.pretrained else "crimson"
            heading += f' <span style="color:{colour}">({html.escape(plots.weights_caption(weights))})</span>'
        self.status = w.HTML()
        self._status_text = ""
        boxes = [w.HBox([self.controls[name] for name in row]) for row in rows]
        self.children = [w.HTML(heading), *boxes, *views, self.status]

    @property
    def status_text(self) -> str:
        """The status line as plain text, e.g. ``"done · relu3_2 · 20 steps · weights: RANDOM"``."""
        return self._status_text

    def set_status(self, text: str, state: str = "ready") -> None:
        """Show ``"<state> · <text>"``; state is ready, running, done, interrupted or error."""
        self._status_text = f"{state} · {text}"
        colour = {"error": "crimson", "interrupted": "darkorange", "running": "steelblue"}.get(state, "inherit")
        self.status.value = f'<span class="ts-status" data-state="{state}" style="color:{colour}">{html.escape(self._status_text)}</span>'

    def weights_text(self) -> str:
        return f"weights: {weights_tag(self.weights)}" if self.weights is not None else ""

    def handler(self, fn: Callable[[], None]) -> Callable:
        """Wrap ``fn`` for ``observe``/``on_click``: errors go to the status line instead of a hidden log."""

        def wrapped(*_):
            try:
                fn()
            except Exception as e:  # shown to the learner, who can fix the input and try again
                self.set_status(f"{type(e).__name__}: {e}", "error")

        return wrapped

    @contextlib.contextmanager
    def busy(self):
        """Disable the controls while expensive work runs (a second click would only queue up)."""
        before = {name: getattr(c, "disabled", None) for name, c in self.controls.items()}
        for c in self.controls.values():
            if hasattr(c, "disabled"):
                c.disabled = True
        try:
            yield
        finally:
            for name, c in self.controls.items():
                if before[name] is not None:
                    c.disabled = before[name]


class LivePreview:
    """A ``stylize`` callback that shows the current image in an ``ipywidgets.Image`` while it optimises.

    The image is redrawn at most every ``min_interval`` seconds (and at the first and last step), and the
    panel's status says ``running · <label> · step k/n · loss ...``. It never stops the run itself.
    """

    def __init__(self, view: w.Image, panel: Panel | None, steps: int, label: str = "", min_interval: float = 0.3):
        self.view, self.panel, self.steps, self.label = view, panel, steps, label
        self.min_interval = min_interval
        self._last = -float("inf")
        self.updates = 0

    def __call__(self, step: int, image: torch.Tensor, losses) -> None:
        now = time.monotonic()
        if step == 0 or step == self.steps - 1 or now - self._last >= self.min_interval:
            self._last = now
            self.updates += 1
            self.view.value = png_bytes(image)
            if self.panel is not None:
                loss = float(losses["total"].float().mean())
                self.panel.set_status(f"{self.label} · step {step + 1}/{self.steps} · loss {loss:.3g}", "running")
        return None


def _image_dropdown(images: Mapping[str, torch.Tensor], description: str = "image") -> w.Dropdown:
    return w.Dropdown(options=list(images), value=next(iter(images)), description=description, layout=w.Layout(width="220px"))


def _layer_dropdown(options: Sequence[str], value: str, description: str = "layer") -> w.Dropdown:
    return w.Dropdown(options=list(options), value=value, description=description, layout=w.Layout(width="200px"))


# --- Notebook 01: what one position of a layer sees ---------------------------------------------------


def receptive_field_viewer(images, size: int | None = None, layer: str = "relu3_1") -> Panel:
    """Pick an image, a layer and a position: the image with the square that one feature position sees.

    No network is involved (geometry only), so every change redraws at once. ``panel.layer``,
    ``panel.image``, ``panel.x``, ``panel.y`` (fractions of the width and height) are the controls.
    """
    images = _as_images(images, size)
    controls = {
        "image": _image_dropdown(images),
        "layer": _layer_dropdown(LAYERS, layer),
        "x": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="x", readout_format=".2f"),
        "y": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="y", readout_format=".2f"),
    }
    view = _image_view("520px")
    panel = Panel("Receptive field: what one position of a layer sees", controls, [view], None, rows=[["image", "layer"], ["x", "y"]])
    panel.view = view

    def redraw():
        image = images[panel.image.value]
        info = LAYER_INFO[panel.layer.value]
        fig = plots.show_receptive_field(image, panel.layer.value, panel.x.value, panel.y.value)
        view.value = figure_png(fig)
        h, wd = image.shape[-2] // info.stride, image.shape[-1] // info.stride
        panel.set_status(
            f"layer {info.name} · {info.channels} channels · {h}x{wd} positions · receptive field {info.receptive_field} px"
        )

    for c in controls.values():
        c.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel


# --- Notebook 02: feature maps ------------------------------------------------------------------------


def feature_map_browser(images, vgg: VGG19Features, size: int | None = None, layer: str = "relu2_1", count: int = 8) -> Panel:
    """Browse the feature maps of ``images`` through ``vgg``: image, layer, the strongest maps or chosen ones.

    Each image's features at every relu and pool layer are computed once, on first view, and cached
    (``panel.cache``), so changing the layer or the channels answers at once. Controls: ``panel.image``,
    ``panel.layer``, ``panel.mode`` ("strongest"/"chosen"), ``panel.count`` (how many maps),
    ``panel.channels`` (text such as "0, 5, 17", used in "chosen" mode).
    """
    images = _as_images(images, size)
    controls = {
        "image": _image_dropdown(images),
        "layer": _layer_dropdown(FEATURE_LAYERS, layer),
        "mode": w.ToggleButtons(options=["strongest", "chosen"], value="strongest", description="maps"),
        "count": w.IntSlider(value=count, min=1, max=16, description="how many", continuous_update=False),
        "channels": w.Text(value="0, 1, 2, 3", description="channels", continuous_update=False, placeholder="e.g. 0, 5, 17"),
    }
    view = _image_view("100%")
    panel = Panel("Feature maps", controls, [view], vgg.weights_info, rows=[["image", "layer"], ["mode", "count", "channels"]])
    panel.view = view
    panel.cache = {}

    def features(name: str) -> dict[str, torch.Tensor]:
        if name not in panel.cache:
            device = next(vgg.parameters()).device
            with torch.no_grad():
                panel.cache[name] = {k: v.cpu() for k, v in vgg(images[name].to(device), FEATURE_LAYERS).items()}
        return panel.cache[name]

    def redraw():
        F = features(panel.image.value)[panel.layer.value]
        n = F.shape[1]
        if panel.mode.value == "strongest":
            chosen = F[0].mean(dim=(1, 2)).argsort(descending=True)[: panel.count.value].tolist()
            what = f"strongest {len(chosen)}"
        else:
            chosen = _parse_channels(panel.channels.value, n)
            what = f"channels {', '.join(map(str, chosen))}"
        fig = plots.show_feature_maps(F, chosen, panel.layer.value, vgg.weights_info, image=images[panel.image.value])
        view.value = figure_png(fig)
        panel.set_status(
            f"image {panel.image.value} · layer {panel.layer.value} · {n} channels · {F.shape[2]}x{F.shape[3]} positions"
            f" · showing {what} · {panel.weights_text()}"
        )

    for c in controls.values():
        c.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel


def _parse_channels(text: str, n: int) -> list[int]:
    """ "0, 5, 17" -> [0, 5, 17]; a clear error for anything else.

    >>> _parse_channels("3, 1,2", 64)
    [3, 1, 2]
    """
    try:
        chosen = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"channels must be whole numbers separated by commas, e.g. '0, 5, 17'; got {text!r}") from None
    if not chosen:
        raise ValueError("name at least one channel, e.g. '0, 5, 17'")
    bad = [c for c in chosen if not 0 <= c < n]
    if bad:
        raise ValueError(f"channel(s) {bad} do not exist: this layer has channels 0 to {n - 1}")
    return chosen[:16]


# --- Optimisation panels (notebooks 03, 04) -----------------------------------------------------------


def _run_panel(
    title: str, target: torch.Tensor, target_label: str, choice: w.Widget, steps: int, max_steps: int, vgg, run_label: str,
    reconstruct: Callable[[object, int, Callable], "object"], describe: Callable[[object], str],
) -> Panel:  # fmt: skip
    """A reconstruction panel: a choice, steps, a Run button, target and result side by side.

    The button runs ``reconstruct(choice, steps, preview)`` for the chosen value, labelled ``describe(choice)``
    (see :func:`_run_reconstruction`).
    """
    controls = {
        "choice": choice,
        "steps": w.IntSlider(value=steps, min=1, max=max(max_steps, steps), description="steps", continuous_update=False),
        "run": w.Button(description=run_label, button_style="primary", icon="play"),
    }
    target_view, result_view = _image_view("280px"), _image_view("280px")
    target_view.value = png_bytes(target)
    views = w.HBox([
        w.VBox([w.HTML(f"<b>{html.escape(target_label)}</b>"), target_view]),
        w.VBox([w.HTML("<b>reconstruction (live while it runs)</b>"), result_view]),
    ])  # fmt: skip
    panel = Panel(title, controls, [views], vgg.weights_info)
    panel.preview = result_view
    panel.results = {}

    def run():
        chosen = panel.choice.value
        _run_reconstruction(panel, chosen, describe(chosen), lambda preview: reconstruct(chosen, panel.steps.value, preview))

    panel.run.on_click(panel.handler(run))
    return panel


def _run_reconstruction(panel: Panel, key, label: str, run: Callable[[Callable], "object"]) -> None:
    """Run (or show from ``panel.results``) one reconstruction with a live preview; keep it if interrupted."""
    steps = panel.steps.value
    if (key, steps) in panel.results:
        result = panel.results[(key, steps)]
    else:
        preview = LivePreview(panel.preview, panel, steps, label)
        panel.set_status(f"{label} · step 0/{steps}", "running")
        with panel.busy():
            result = run(preview)
        if not result.interrupted:
            panel.results[(key, steps)] = result
    panel.preview.value = png_bytes(result.image)
    first, last = result.history[0]["total"], min(h["total"] for h in result.history)
    state = "interrupted" if result.interrupted else "done"
    panel.set_status(f"{label} · {len(result.history)} steps · loss {first:.3g} → {last:.3g} · {panel.weights_text()}", state)
    panel.result = result


def content_reconstruction_panel(image, vgg: VGG19Features, steps: int = 50, max_steps: int = 500, layer: str = "relu4_2", size: int | None = None) -> Panel:
    """Reconstruct ``image`` from white noise through one layer's features, with a live preview (paper Fig. 1, bottom).

    ``panel.layer`` (``panel.choice``) picks the layer, ``panel.steps`` the L-BFGS evaluations, and
    ``panel.run.click()`` runs it. Results are kept per (layer, steps) in ``panel.results``; the last is
    ``panel.result``. Interrupt the kernel to stop early: the best image so far stays.
    """
    image = load_image(image, size=size)
    layer_choice = _layer_dropdown(RELU_LAYERS, layer)
    panel = _run_panel(
        "Content reconstruction from white noise", image, "content image", layer_choice, steps, max_steps, vgg, "Reconstruct",
        lambda layer, n, preview: reconstruct_content(image, layer, steps=n, weights=vgg, callback=preview, progress=False),
        lambda layer: f"content from {layer}",
    )  # fmt: skip
    panel.layer = panel.choice
    panel.set_status(f"layer {layer} · press Reconstruct · {panel.weights_text()}")
    return panel


def growing_style_sets(layers: Sequence[str] = PAPER_STYLE_LAYERS) -> dict[str, tuple[str, ...]]:
    """The layer sets of the paper's Fig. 1 (top): {relu1_1}, {relu1_1, relu2_1}, ... by label.

    >>> list(growing_style_sets())[:2]
    ['relu1_1', 'relu1_1 + relu2_1']
    """
    return {(" + ".join(s) if len(s) <= 2 else f"{s[0]} … {s[-1]}"): s for s in layer_sets(layers)}


def style_reconstruction_panel(image, vgg: VGG19Features, steps: int = 50, max_steps: int = 500, size: int | None = None) -> Panel:
    """Synthesise a texture from white noise matching ``image``'s Gram matrices on a chosen layer set (Fig. 1, top).

    ``panel.layers`` (``panel.choice``) picks a growing set (or one layer alone), ``panel.steps`` the
    evaluations, ``panel.run.click()`` runs it, with a live preview; results are kept in ``panel.results``.
    """
    image = load_image(image, size=size)
    sets = growing_style_sets()
    sets.update({f"{n} only": (n,) for n in PAPER_STYLE_LAYERS[1:]})
    # Starts on all five layers: the paper's style representation.
    choice = w.Dropdown(options=list(sets.items()), value=tuple(PAPER_STYLE_LAYERS), description="layers", layout=w.Layout(width="320px"))
    panel = _run_panel(
        "Style reconstruction (texture synthesis) from white noise", image, "style image", choice, steps, max_steps, vgg, "Synthesise",
        lambda layers, n, preview: reconstruct_style(image, layers, steps=n, weights=vgg, callback=preview, progress=False),
        lambda layers: f"style from {', '.join(layers)}",
    )  # fmt: skip
    panel.layers = panel.choice
    panel.set_status(f"layers {', '.join(choice.value)} · press Synthesise · {panel.weights_text()}")
    return panel


# --- Notebook 04: Gram matrices -----------------------------------------------------------------------


def gram_viewer(images, vgg: VGG19Features, size: int | None = None, layer: str = "relu1_1", show: int = 32) -> Panel:
    """Compare the Gram matrices of two images at a layer, as heatmaps, with E_l between them (eq. 4).

    Features are cached per image, so every change answers at once. Controls: ``panel.image_a``,
    ``panel.image_b``, ``panel.layer``, ``panel.show`` (how many feature maps, the top-left block of G).
    """
    images = _as_images(images, size)
    # As in the paper (the style image is resized to the content's size), all images get the first one's
    # size, so their Gram matrices sum over the same number of positions M_l and E_l compares like with like.
    first = next(iter(images.values()))
    images = {k: resize_to(v, first.shape[-2:]) for k, v in images.items()}
    names = list(images)
    controls = {
        "image_a": _image_dropdown(images, "image a"),
        "image_b": _image_dropdown(images, "image b"),
        "layer": _layer_dropdown(RELU_LAYERS, layer),
        "show": w.IntSlider(value=show, min=4, max=64, step=4, description="maps shown", continuous_update=False),
    }
    controls["image_b"].value = names[1] if len(names) > 1 else names[0]
    view = _image_view("100%")
    panel = Panel("Gram matrices", controls, [view], vgg.weights_info, rows=[["image_a", "image_b"], ["layer", "show"]])
    panel.view = view
    panel.cache = {}

    def features(name):
        if name not in panel.cache:
            device = next(vgg.parameters()).device
            with torch.no_grad():
                panel.cache[name] = {k: v.cpu() for k, v in vgg(images[name].to(device), RELU_LAYERS).items()}
        return panel.cache[name]

    def redraw():
        layer = panel.layer.value
        a, b = panel.image_a.value, panel.image_b.value
        Fa, Fb = features(a)[layer], features(b)[layer]
        Ga, Gb = gram_matrix(Fa), gram_matrix(Fb)
        e = float(style_layer_loss(Fb, Ga)[0])
        k = min(panel.show.value, Ga.shape[-1])
        fig = plots.show_gram_matrices([Ga[0, :k, :k], Gb[0, :k, :k]], [f"{a}: G at {layer}", f"{b}: G at {layer}"], vgg.weights_info, images=[images[a], images[b]])
        view.value = figure_png(fig)
        panel.set_status(f"layer {layer} · Gram {Ga.shape[-1]}x{Ga.shape[-1]} (showing {k}) · E_l(a, b) = {e:.3g} · {panel.weights_text()}")

    for c in controls.values():
        c.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel


# --- Notebooks 05-06 ---
# Notebook 05: live loss curves, the style-transfer studio. Notebook 06: the trade-off explorer over a
# precomputed grid (tradeoff.py), and the layer-choice explorer.

__all__ += [
    "LiveLossPlot",
    "LiveView",
    "studio",
    "tradeoff_explorer",
    "layer_explorer",
]

STUDIO_STYLE_LAYERS = PAPER_STYLE_LAYERS  # the studio's style-layer checkboxes
class LiveLossPlot:
    """A ``stylize`` callback that redraws the loss curves into an ``ipywidgets.Image`` as the run goes.

    Drawing a figure takes tens of milliseconds, so it redraws at most every ``min_interval`` seconds
    (and at the last step); between redraws it only records the losses. ``losses`` holds what it recorded.
    """

    def __init__(self, view: w.Image, weights: WeightsInfo, steps: int, alpha: float = 1e-3, beta: float = 1.0, min_interval: float = 1.0, title: str = ""):
        self.view, self.weights, self.steps = view, weights, steps
        self.alpha, self.beta, self.min_interval, self.title = alpha, beta, min_interval, title
        self.losses: list[dict] = []
        self._last = -float("inf")
        self.redraws = 0

    def __call__(self, step: int, image: torch.Tensor, losses) -> None:
        self.losses.append({"step": step, **{k: v.detach().float().cpu().tolist() for k, v in losses.items()}})
        now = time.monotonic()
        if step == self.steps - 1 or (step > 0 and now - self._last >= self.min_interval):
            self.draw(self.losses)
            self._last = time.monotonic()
        return None

    def draw(self, history: Sequence[Mapping]) -> None:
        """Draw ``history`` (e.g. the finished run's) now."""
        if not history:
            return
        fig = plots.loss_curves_figure({"run": history}, self.weights, alpha=self.alpha, beta=self.beta, title=self.title)
        self.view.value = figure_png(fig, dpi=80)
        self.redraws += 1


class LiveView:
    """A live preview and live loss curves, side by side: a ``stylize`` callback plus its ``widget``.

    ``live = LiveView(vgg.weights_info, steps, alpha, beta); display(live.widget)``, then
    ``stylize(..., callback=live)``. ``stop`` (a ``threading.Event`` or None): when it is set, the callback
    returns True and ``stylize`` stops, keeping the best image so far.
    """

    def __init__(self, weights: WeightsInfo, steps: int, alpha: float = 1e-3, beta: float = 1.0, *, panel: Panel | None = None, label: str = "", stop=None, min_interval: float = 0.3):
        self.preview_view, self.plot_view = _image_view("300px"), _image_view("400px")
        self.preview = LivePreview(self.preview_view, panel, steps, label, min_interval=min_interval)
        self.plot = LiveLossPlot(self.plot_view, weights, steps, alpha, beta, min_interval=max(1.0, 3 * min_interval))
        self.stop = stop
        caption = html.escape(plots.weights_caption(weights))
        colour = "inherit" if weights.pretrained else "crimson"
        self.widget = w.VBox([
            w.HBox([
                w.VBox([w.HTML("<b>current image (live)</b>"), self.preview_view]),
                w.VBox([w.HTML("<b>losses (live)</b>"), self.plot_view]),
            ]),
            w.HTML(f'<span style="color:{colour}">{caption}</span>'),
        ])  # fmt: skip

    def __call__(self, step: int, image: torch.Tensor, losses) -> bool:
        self.preview(step, image, losses)
        self.plot(step, image, losses)
        return bool(self.stop is not None and self.stop.is_set())

    def finish(self, result) -> None:
        """Show the result's best image and its whole loss history."""
        self.preview_view.value = png_bytes(result.image)
        self.plot.draw(result.history)


# --- Notebook 05: the studio ------------------------------------------------------------------------


def _image_choices() -> list[str]:
    from .images import bundled_images

    return list(bundled_images("content")) + list(bundled_images("style"))


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
) -> Panel:
    """The style-transfer studio: pick images and settings, Run with a live view, Stop, Save.

    Controls (attributes of the panel): ``content``/``style`` (bundled images, and uploads added by
    ``content_upload``/``style_upload``), ``ratio`` (α/β on a log slider, β = 1), ``content_layer``,
    ``use_relu1_1`` ... (style-layer checkboxes) with ``weight_relu1_1`` ... (their w_l), ``size``,
    ``preset`` (``optimize.PRESETS``: choosing one sets ``steps`` and ``init``), ``steps``, ``init``,
    ``optimizer``; buttons ``run``, ``stop``, ``save`` and the file name ``filename``. It opens on the
    ``fast`` preset (start from the content image); ``steps`` given here overrides the preset's.

    The optimisation runs in a background thread, so the notebook stays responsive and Stop can be
    clicked: it ends the run and keeps the best image so far. ``panel.wait()`` waits for the run and
    returns ``panel.result`` (a ``StyleTransferResult``). The defaults are small and fast; the paper
    used about 512 px and several hundred steps.
    """
    import threading

    from . import optimize  # optimize.stylize is looked up at each run (tests replace it)
    from .images import save_image

    vgg = vgg if vgg is not None else optimize.get_vgg()
    if preset not in optimize.PRESETS:
        raise ValueError(f"preset must be one of {list(optimize.PRESETS)}, got {preset!r}")
    opening = {**optimize.PRESETS[preset], **({} if steps is None else {"steps": steps})}
    choices = _image_choices()
    per_layer = {}
    for name in STUDIO_STYLE_LAYERS:
        per_layer[f"use_{name}"] = w.Checkbox(value=True, description=name, indent=False, layout=w.Layout(width="90px"))
        per_layer[f"weight_{name}"] = w.FloatSlider(
            value=round(1 / len(STUDIO_STYLE_LAYERS), 3), min=0.0, max=1.0, step=0.05, description="w_l",
            readout_format=".2f", continuous_update=False, layout=w.Layout(width="250px"),
        )  # fmt: skip
    controls = {
        "content": w.Dropdown(options=choices, value=content, description="content", layout=w.Layout(width="220px")),
        "content_upload": w.FileUpload(accept="image/*", multiple=False, description="upload content"),
        "style": w.Dropdown(options=choices, value=style, description="style", layout=w.Layout(width="220px")),
        "style_upload": w.FileUpload(accept="image/*", multiple=False, description="upload style"),
        "ratio": w.FloatLogSlider(value=1e-3, base=10, min=-6, max=0, step=0.25, description="α/β", readout_format=".0e", continuous_update=False),
        "content_layer": _layer_dropdown(RELU_LAYERS, PAPER_CONTENT_LAYERS[0], "content at"),
        **per_layer,
        "size": w.IntSlider(value=size, min=32, max=max(max_size, size), step=16, description="size (px)", continuous_update=False),
        "preset": w.ToggleButtons(options=list(optimize.PRESETS), value=preset, description="preset",
                                  tooltips=[f"{p['steps']} steps from {p['init']}" for p in optimize.PRESETS.values()]),
        "steps": w.IntSlider(value=opening["steps"], min=1, max=max(max_steps, opening["steps"]), description="steps", continuous_update=False),
        "init": w.Dropdown(options=list(optimize.INITS), value=opening["init"], description="start from", layout=w.Layout(width="200px")),
        "optimizer": w.ToggleButtons(options=list(optimize.OPTIMIZERS), value="lbfgs", description="optimizer"),
        "run": w.Button(description="Run", button_style="primary", icon="play"),
        "stop": w.Button(description="Stop", button_style="warning", icon="stop", disabled=True),
        "filename": w.Text(value="stylized.png", description="file", layout=w.Layout(width="260px")),
        "save": w.Button(description="Save", icon="save"),
    }
    layer_rows = [[f"use_{n}", f"weight_{n}"] for n in STUDIO_STYLE_LAYERS]
    rows = [
        ["content", "content_upload", "style", "style_upload"],
        ["ratio", "content_layer"],
        *layer_rows,
        ["preset"],
        ["size", "steps", "init"],
        ["optimizer"],
        ["run", "stop", "filename", "save"],
    ]
    content_view, style_view = _image_view("160px"), _image_view("160px")
    stop_event = threading.Event()
    live = LiveView(vgg.weights_info, opening["steps"], panel=None, stop=stop_event)
    inputs = w.HBox([
        w.VBox([w.HTML("<b>content</b>"), content_view]),
        w.VBox([w.HTML("<b>style</b>"), style_view]),
    ])  # fmt: skip
    panel = Panel("Style-transfer studio", controls, [inputs, live.widget], vgg.weights_info, rows=rows)
    panel.live, panel.preview, panel.result, panel.uploads, panel.thread = live, live.preview_view, None, {}, None
    panel.style_layer_boxes = {n: controls[f"use_{n}"] for n in STUDIO_STYLE_LAYERS}
    panel.style_weight_sliders = {n: controls[f"weight_{n}"] for n in STUDIO_STYLE_LAYERS}
    panel.live.preview.panel = panel

    def source(name: str):
        return panel.uploads.get(name, name)

    def show_inputs():
        content_view.value = png_bytes(load_image(source(panel.content.value), size=128), min_side=128)
        style_view.value = png_bytes(load_image(source(panel.style.value), size=128), min_side=128)

    def add_upload(which: str, upload: w.FileUpload):
        if not upload.value:
            return
        item = upload.value[-1]
        data = bytes(item["content"])
        load_image(data, size=32)  # refuse a file that is not an image now, with a clear message
        label = f"⬆ {item['name']}"
        panel.uploads[label] = data
        dropdown = getattr(panel, which)
        if label not in dropdown.options:
            dropdown.options = [*dropdown.options, label]
        dropdown.value = label
        panel.set_status(f"uploaded {item['name']} as the {which} image · press Run · {panel.weights_text()}")

    def settings() -> dict:
        layers = tuple(n for n in STUDIO_STYLE_LAYERS if panel.style_layer_boxes[n].value)
        return dict(
            content=load_image(source(panel.content.value), size=panel.size.value),
            style=load_image(source(panel.style.value), size=panel.size.value),
            alpha=float(panel.ratio.value), beta=1.0, content_layers=(panel.content_layer.value,),
            style_layers=layers, style_weights={n: float(panel.style_weight_sliders[n].value) for n in layers} if layers else None,
            steps=int(panel.steps.value), init=panel.init.value, optimizer=panel.optimizer.value,
        )  # fmt: skip

    def describe(s: dict) -> str:
        layers = ", ".join(s["style_layers"]) or "none"
        return (
            f"{panel.content.value} in the style of {panel.style.value} · α/β {s['alpha']:.0e} · content {s['content_layers'][0]}"
            f" · style {layers} · {s['optimizer']} from {s['init']}"
        )

    def set_running(running: bool) -> None:
        for name, c in panel.controls.items():
            if hasattr(c, "disabled"):
                c.disabled = running if name != "stop" else not running

    def work(s: dict, label: str) -> None:
        try:
            result = optimize.stylize(**s, weights=vgg, callback=live, progress=False)
            panel.result = result
            live.finish(result)
            state = "interrupted" if result.interrupted else "done"
            first, best = result.history[0]["total"], min(h["total"] for h in result.history)
            panel.set_status(f"{label} · {len(result.history)} of {s['steps']} steps · loss {first:.3g} → {best:.3g} · {panel.weights_text()}", state)
        except Exception as e:  # shown in the status line: the thread has no one else to tell
            panel.set_status(f"{type(e).__name__}: {e}", "error")
        finally:
            set_running(False)

    def run():
        if panel.thread is not None and panel.thread.is_alive():
            return
        s = settings()
        label = describe(s)
        stop_event.clear()
        live.preview.steps = live.plot.steps = s["steps"]
        live.preview.label = label
        live.plot.alpha, live.plot.beta, live.plot.losses = s["alpha"], s["beta"], []
        panel.set_status(f"{label} · step 0/{s['steps']}", "running")
        set_running(True)
        panel.thread = threading.Thread(target=work, args=(s, label), name="tutorial_style-studio", daemon=True)
        panel.thread.start()

    def stop():
        stop_event.set()

    def save():
        if panel.result is None:
            raise ValueError("nothing to save yet: press Run first")
        name = panel.filename.value.strip()
        if not name:
            raise ValueError("give a file name ending in .png or .jpg")
        path = save_image(panel.result.image, name)
        h, wd = panel.result.image.shape[-2:]
        panel.set_status(f"saved {path} ({wd}x{h} px) · {panel.weights_text()}", "done")

    def wait(timeout: float | None = None):
        """Wait for the current run (if any) to finish; returns ``panel.result``."""
        if panel.thread is not None:
            panel.thread.join(timeout)
        return panel.result

    def use_preset():
        chosen = optimize.PRESETS[panel.preset.value]
        panel.steps.value, panel.init.value = chosen["steps"], chosen["init"]
        panel.set_status(f"preset {panel.preset.value}: {panel.steps.value} steps from {panel.init.value} · press Run · {panel.weights_text()}")

    panel.wait = wait
    panel.preset.observe(panel.handler(use_preset), names="value")
    panel.content.observe(panel.handler(show_inputs), names="value")
    panel.style.observe(panel.handler(show_inputs), names="value")
    panel.content_upload.observe(panel.handler(lambda: add_upload("content", panel.content_upload)), names="value")
    panel.style_upload.observe(panel.handler(lambda: add_upload("style", panel.style_upload)), names="value")
    panel.run.on_click(panel.handler(run))
    panel.stop.on_click(panel.handler(stop))
    panel.save.on_click(panel.handler(save))
    panel.handler(show_inputs)()
    panel.set_status(f"{panel.content.value} in the style of {panel.style.value} · press Run · {panel.weights_text()}")
    return panel


# --- Notebook 06: the trade-off explorer and the layer-choice explorer ------------------------------


def _ratio_label(ratio: float) -> str:
    """1e-3 -> '1e-03'."""
    return f"{ratio:.0e}"


def _breakdown_html(grid, row: int, col: int) -> str:
    """The per-layer style losses of one cell as a small HTML table with bars (instant, no figure)."""
    import math

    values = grid.breakdown(row, col)
    used = set(grid.layer_sets[row])
    weight = 1.0 / len(used)
    logs = {name: math.log10(max(e, 1e-30)) for name, e in values.items()}
    low, high = min(logs.values()), max(logs.values())
    lines = [
        "<table style='font-family:monospace;font-size:12px'>",
        "<tr><th style='text-align:left'>layer</th><th>in this row's L_style</th><th style='text-align:right'>E_l</th><th>(log scale)</th></tr>",
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
    and never recomputes anything. Controls: ``panel.row`` (the style-layer set) and ``panel.col`` (α/β).
    ``panel.pngs[(row, col)]`` holds the cells' PNG bytes; ``panel.cell_view`` shows the chosen one.
    """
    rows, cols = grid.shape
    controls = {
        "row": w.SelectionSlider(options=[(grid.row_label(r), r) for r in range(rows)], value=rows - 1, description="style layers", layout=w.Layout(width="420px")),
        "col": w.SelectionSlider(options=[(_ratio_label(x), c) for c, x in enumerate(grid.ratios)], value=cols // 2, description="α/β", layout=w.Layout(width="420px")),
    }
    panel_views = [_image_view("200px"), _image_view("200px"), _image_view("300px")]
    content_view, style_view, cell_view = panel_views
    hw = grid.images.shape[-2:]
    content_view.value = png_bytes(grid.content_image, min_side=200)
    style_view.value = png_bytes(resize_to(grid.style_image, hw), min_side=200)
    breakdown = w.HTML()
    views = w.HBox([
        w.VBox([w.HTML("<b>content</b>"), content_view]),
        w.VBox([w.HTML("<b>style</b>"), style_view]),
        w.VBox([w.HTML("<b>result</b>"), cell_view]),
        w.VBox([w.HTML("<b>style loss per layer (E_l, eq. 4)</b>"), breakdown]),
    ])  # fmt: skip
    panel = Panel("The α/β trade-off, cell by cell", controls, [views], grid.weights, rows=[["row"], ["col"]])
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
            f"style layers {grid.row_label(r)} · α/β {_ratio_label(grid.ratios[c])} · L_content {float(grid.content_loss[r, c]):.3g}"
            f" · L_style {l_style:.3g} · {panel.weights_text()}"
        )

    panel.row.observe(panel.handler(redraw), names="value")
    panel.col.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel


def layer_explorer(grid, vgg: VGG19Features, *, steps: int | None = None) -> Panel:
    """Pick the content and style layers freely and compare the result with the paper's choice, side by side.

    Uses the images and settings of ``grid`` (a ``tradeoff.TradeoffGrid`` made with the same ``vgg``).
    The paper's choice (content relu4_2, style relu1_1 ... relu5_1, α/β = 1e-3) is taken from the grid when
    it holds that cell, else computed on the first Run. Controls: ``panel.content_layers`` and
    ``panel.style_layers`` (multiple choice), ``panel.ratio``, ``panel.steps``, ``panel.run``. Results are
    kept in ``panel.results``; the last is ``panel.result``.
    """
    from . import optimize

    s = grid.settings
    if (vgg.weights_info.digest, vgg.pooling, vgg.normalize) != (grid.weights.digest, s["pooling"], s["normalize"]):
        raise ValueError(
            f"the grid was made with other weights or settings ({grid.weights.label}, pooling {s['pooling']}, normalize "
            f"{s['normalize']}) than vgg ({vgg.weights_info.label}, pooling {vgg.pooling}, normalize {vgg.normalize}); "
            "pass the network the grid was computed with"
        )
    steps = int(steps if steps is not None else s["steps"])
    controls = {
        "content_layers": w.SelectMultiple(options=LAYERS, value=("relu2_2",), description="content", rows=8),
        "style_layers": w.SelectMultiple(options=LAYERS, value=("relu1_1", "relu2_1", "relu3_1"), description="style", rows=8),
        "ratio": w.FloatLogSlider(value=1e-3, base=10, min=-6, max=0, step=0.25, description="α/β", readout_format=".0e", continuous_update=False),
        "steps": w.IntSlider(value=steps, min=1, max=max(1000, steps), description="steps", continuous_update=False),
        "run": w.Button(description="Run", button_style="primary", icon="play"),
    }
    paper_view, mine_view = _image_view("280px"), _image_view("280px")
    paper_caption = w.HTML()
    views = w.HBox([
        w.VBox([w.HTML("<b>the paper's choice</b>"), paper_view, paper_caption]),
        w.VBox([w.HTML("<b>your choice (live while it runs)</b>"), mine_view]),
    ])  # fmt: skip
    panel = Panel("Choose the layers", controls, [views], vgg.weights_info, rows=[["content_layers", "style_layers"], ["ratio", "steps", "run"]])
    panel.paper_view, panel.preview, panel.results, panel.result = paper_view, mine_view, {}, None
    paper = (tuple(PAPER_CONTENT_LAYERS), tuple(PAPER_STYLE_LAYERS), 1e-3)

    def grid_cell(n_steps: int):
        """The grid's cell with the paper's settings and ``n_steps`` steps, if it has one."""
        if tuple(s["content_layers"]) != paper[0] or n_steps != s["steps"]:
            return None
        rows = [r for r, layers in enumerate(grid.layer_sets) if tuple(layers) == paper[1]]
        cols = [c for c, x in enumerate(grid.ratios) if abs(x - paper[2]) < 1e-12]
        return grid.cell(rows[0], cols[0]) if rows and cols else None

    def show_paper(image, where: str) -> None:
        paper_view.value = png_bytes(image, min_side=280)
        paper_caption.value = f"content relu4_2 · style relu1_1 … relu5_1 · α/β 1e-03 · {html.escape(where)}"

    def compute(content_layers, style_layers, ratio, n_steps, label, view):
        """A result from ``panel.results``, or a new run with a live preview in ``view`` (kept unless interrupted)."""
        key = (tuple(content_layers), tuple(style_layers), ratio, n_steps)
        if key in panel.results:
            return panel.results[key]
        preview = LivePreview(view, panel, n_steps, label)
        result = optimize.stylize(
            grid.content_image, grid.style_image, alpha=ratio, beta=1.0, content_layers=content_layers,
            style_layers=style_layers, steps=n_steps, init=s["init"], optimizer=s["optimizer"], seed=s["seed"],
            weights=vgg, callback=preview, progress=False,
        )  # fmt: skip
        if not result.interrupted:
            panel.results[key] = result
        return result

    def run():
        content_layers, style_layers = tuple(panel.content_layers.value), tuple(panel.style_layers.value)
        if not content_layers and not style_layers:
            raise ValueError("choose at least one content or style layer")
        ratio, n_steps = float(panel.ratio.value), int(panel.steps.value)
        label = f"content {', '.join(content_layers) or 'none'} · style {', '.join(style_layers) or 'none'} · α/β {ratio:.0e}"
        with panel.busy():
            cell = grid_cell(n_steps)
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

    first = grid_cell(steps)
    if first is not None:
        show_paper(first, f"{steps} steps, from the trade-off grid")
    panel.run.on_click(panel.handler(run))
    panel.set_status(f"choose layers and press Run · {panel.weights_text()}")
    return panel
