"""What every notebook panel is made of: the set-up banner, images as PNG, :class:`Panel`, live previews.

The panels themselves live in the notebooks' modules (the package's docstring says which); ``widgets.py`` gathers
them all. The design, shared by every panel:

- A panel is a :class:`Panel`, an ``ipywidgets.VBox``. Its widgets are attributes, so tests and scripts
  drive it like a learner would: ``panel.layer.value = "relu3_1"; panel.run.click()``.
- ``panel.status`` is one line saying what the panel shows or does, starting with its state:
  ``"ready · layer relu3_1 · 256 channels · weights: RANDOM"``, ``"running · step 3/20 ..."``, ``"done · ..."``,
  ``"interrupted · ..."`` or ``"error · ..."``; ``panel.status_text`` gives it as plain text (tests and browser
  tests wait for it).
- Cheap views (from cached features) answer at once on every change. Expensive work (an optimisation)
  runs on a button; sliders that feed it use ``continuous_update=False``. Its widgets are disabled while it runs.
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

from ..images import load_image
from ..settings import default
from ..vgg import VGG19Features
from ..weights import WeightsInfo, imagenet_weights_path
from . import plots

__all__ = [
    "Banner",
    "setup_banner",
    "weights_tag",
    "png_bytes",
    "figure_png",
    "Panel",
    "LivePreview",
    "LiveLossPlot",
    "LiveView",
    "image_view",
    "image_dropdown",
    "layer_dropdown",
    "take_upload",
    "as_images",
]

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


def figure_png(fig, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib figure, which is then closed."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plots.close(fig)
    return buffer.getvalue()


def room_for_label(control: w.Widget) -> w.Widget:
    """Give ``control``'s label its whole text: ipywidgets cuts descriptions longer than a fixed width ("maps sho…"),
    and a button's text at its fixed width ("upload conten…"). Returns ``control``."""
    if isinstance(control, (w.Button, w.FileUpload)):
        if not control.layout.width:
            control.layout.width = "auto"
        control.layout.min_width = "fit-content"  # a full row squeezes its widgets: never below the text
    elif getattr(control, "description", "") and hasattr(getattr(control, "style", None), "description_width"):
        control.style.description_width = "initial"
    return control


PLACEHOLDER = "the picture appears here when it is ready"
LOSS_PLOT_IN = (4.2, 3.6)  # the live loss plot's size in inches: shown at 100 dpi, 420 px wide, beside a 300 px preview


def image_view(width: str = "auto", placeholder: str = PLACEHOLDER) -> w.Image:
    """An image widget ``width`` wide that shows ``placeholder`` (what will appear) until its first picture: an
    empty image widget would show the browser's broken-image icon."""
    return w.Image(
        value=placeholder_png(placeholder),
        format="png",
        layout=w.Layout(width=width, max_width="100%", object_fit="contain"),
    )


def placeholder_png(text: str, width: int = 360, height: int = 90) -> bytes:
    """A light grey PNG with ``text`` in it, wrapped to fit: what an image widget shows before its first picture.

    >>> PILImage.open(io.BytesIO(placeholder_png("the result appears here"))).size
    (360, 90)
    """
    from PIL import ImageDraw, ImageFont

    pil = PILImage.new("RGB", (width, height), (236, 236, 236))
    draw = ImageDraw.Draw(pil)
    font = ImageFont.load_default(size=15)
    lines, line = [], ""
    for word in text.split():  # wrap between words, never inside one
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width - 24:
            lines.append(line)
            trial = word
        line = trial
    lines.append(line)
    draw.multiline_text(
        (width / 2, height / 2), "\n".join(lines), fill=(90, 90, 90), font=font, anchor="mm", align="center", spacing=5
    )
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def as_images(images, size: int | None) -> dict[str, torch.Tensor]:
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
    """A control panel: a title, rows of widgets (also attributes of the panel), views, and a status line.

    ``widgets_by_name`` maps attribute names to the widgets a learner sets (sliders, dropdowns, buttons); ``rows``
    lists the rows of attribute names to lay out (default: all in one row). ``views`` are the widgets below them
    (images, text).
    """

    def __init__(
        self,
        title: str,
        widgets_by_name: Mapping[str, w.Widget],
        views: Sequence[w.Widget],
        weights: WeightsInfo | None = None,
        rows: Sequence[Sequence[str]] | None = None,
    ):
        super().__init__()
        self.weights = weights
        self.widgets_by_name = dict(widgets_by_name)
        for name, widget in self.widgets_by_name.items():
            if hasattr(w.VBox, name):
                raise ValueError(f"widget name {name!r} clashes with an attribute of ipywidgets.VBox")
            setattr(self, name, widget)
            room_for_label(widget)
        rows = rows if rows is not None else [list(self.widgets_by_name)]
        heading = f"<b>{html.escape(title)}</b>"
        if weights is not None:
            colour = "inherit" if weights.pretrained else "crimson"
            heading += f' <span style="color:{colour}">({html.escape(plots.weights_caption(weights))})</span>'
        self.status = w.HTML()
        self._status_text = ""
        boxes = [w.HBox([self.widgets_by_name[name] for name in row]) for row in rows]
        self.children = [w.HTML(heading), *boxes, *views, self.status]

    @property
    def status_text(self) -> str:
        """The status line as plain text, e.g. ``"done · relu3_2 · 20 steps · weights: RANDOM"``."""
        return self._status_text

    def set_status(self, text: str, state: str = "ready") -> None:
        """Show ``"<state> · <text>"``; state is ready, running, done, interrupted or error."""
        self._status_text = f"{state} · {text}"
        colour = {"error": "crimson", "interrupted": "darkorange", "running": "steelblue"}.get(state, "inherit")
        self.status.value = (
            f'<span class="ts-status" data-state="{state}" style="color:{colour}">'
            f"{html.escape(self._status_text)}</span>"
        )

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
        """Disable the widgets while expensive work runs (a second click would only queue up)."""
        before = {name: getattr(c, "disabled", None) for name, c in self.widgets_by_name.items()}
        for c in self.widgets_by_name.values():
            if hasattr(c, "disabled"):
                c.disabled = True
        try:
            yield
        finally:
            for name, c in self.widgets_by_name.items():
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


def image_dropdown(images: Mapping[str, torch.Tensor], description: str = "image") -> w.Dropdown:
    return w.Dropdown(
        options=list(images), value=next(iter(images)), description=description, layout=w.Layout(width="220px")
    )


def take_upload(upload: w.FileUpload, dropdown: w.Dropdown, uploads: dict[str, bytes]) -> str | None:
    """An image uploaded in ``upload``: checked (a file that is not an image is refused now, with a clear message),
    kept in ``uploads`` under ``"⬆ <file name>"``, added to ``dropdown`` and chosen there. Returns the file name,
    or None when nothing was uploaded."""
    if not upload.value:
        return None
    item = upload.value[-1]
    data = bytes(item["content"])
    load_image(data, size=32)
    label = f"⬆ {item['name']}"
    uploads[label] = data
    if label not in dropdown.options:
        dropdown.options = [*dropdown.options, label]
    dropdown.value = label
    return item["name"]


def ratio_slider() -> w.FloatLogSlider:
    """α/β as a multiple of ``default_alpha`` for the image's size (1: the default; ``settings.py`` says why the default
    depends on the size), from 1/100 (texture-like) to 100 (little style): the studio's and the layer chooser's."""
    return w.FloatLogSlider(
        value=1.0, base=10, min=-2, max=2, step=0.25, description="α/β ×", readout_format=".2g", continuous_update=False
    )


def layer_dropdown(options: Sequence[str], value: str, description: str = "layer") -> w.Dropdown:
    return w.Dropdown(options=list(options), value=value, description=description, layout=w.Layout(width="200px"))


class LiveLossPlot:
    """A ``stylize`` callback that redraws the loss curves into an ``ipywidgets.Image`` as the run goes.

    Drawing a figure takes tens of milliseconds, so it redraws at most every ``min_interval`` seconds
    (and at the last step); between redraws it only records the losses. ``losses`` holds what it recorded.
    ``alpha``: the run's content weight (``default_alpha`` when the run was given none, which depends on the image's
    size); None draws L_content unweighted until :meth:`LiveView.finish` reads it from the result.
    """

    def __init__(
        self,
        view: w.Image,
        weights: WeightsInfo,
        steps: int,
        alpha: float | None = None,
        beta: float = default("beta"),
        min_interval: float = 1.0,
        title: str = "",
    ):
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
        fig = plots.loss_curves_figure(
            {"run": history}, self.weights, alpha=self.alpha, beta=self.beta, title=self.title, size=LOSS_PLOT_IN
        )
        self.view.value = figure_png(fig)  # LOSS_PLOT_IN at 100 dpi: the view's width, so the text is not shrunk
        self.redraws += 1


class LiveView:
    """A live preview and live loss curves, side by side: a ``stylize`` callback plus its ``widget``.

    ``live = LiveView(vgg.weights_info, steps, alpha, beta); display(live.widget)``, then
    ``stylize(..., callback=live)``. ``stop`` (a ``threading.Event`` or None): when it is set, the callback
    returns True and ``stylize`` stops, keeping the best image so far.
    """

    def __init__(
        self,
        weights: WeightsInfo,
        steps: int,
        alpha: float | None = None,
        beta: float = default("beta"),
        *,
        panel: Panel | None = None,
        label: str = "",
        stop=None,
        min_interval: float = 0.3,
    ):
        self.preview_view = image_view("300px", "the current image appears here while the run goes")
        self.plot_view = image_view(
            f"{round(100 * LOSS_PLOT_IN[0])}px", "the loss curves appear here while the run goes"
        )
        self.preview = LivePreview(self.preview_view, panel, steps, label, min_interval=min_interval)
        self.plot = LiveLossPlot(self.plot_view, weights, steps, alpha, beta, min_interval=max(1.0, 3 * min_interval))
        self.stop = stop
        caption = html.escape(plots.weights_caption(weights))
        colour = "inherit" if weights.pretrained else "crimson"
        self.widget = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox([w.HTML("<b>current image (live)</b>"), self.preview_view]),
                        w.VBox([w.HTML("<b>losses (live)</b>"), self.plot_view]),
                    ]
                ),
                w.HTML(f'<span style="color:{colour}">{caption}</span>'),
            ]
        )

    def __call__(self, step: int, image: torch.Tensor, losses) -> bool:
        self.preview(step, image, losses)
        self.plot(step, image, losses)
        return bool(self.stop is not None and self.stop.is_set())

    def finish(self, result) -> None:
        """Show the result's best image and its whole loss history."""
        self.preview_view.value = png_bytes(result.image)
        self.plot.alpha = result.settings.get("alpha", self.plot.alpha)  # the alpha the run used
        self.plot.draw(result.history)
