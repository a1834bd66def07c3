"""Notebooks 03 and 04: reconstructions from white noise (the paper's Fig. 1), and Gram matrices side by side."""

from __future__ import annotations

import html
from typing import Callable, Sequence

import ipywidgets as w
import torch

from ..gram import gram_matrix
from ..images import load_image, resize_to
from ..layers import PAPER_STYLE_LAYERS
from ..objective import StyleTerm
from ..optimize import reconstruct_content, reconstruct_style
from ..tradeoff import layer_sets
from ..vgg import VGG19Features
from . import plots
from .features import RELU_LAYERS
from .panels import LivePreview, Panel, as_images, figure_png, image_dropdown, image_view, layer_dropdown, png_bytes

__all__ = ["content_reconstruction_panel", "style_reconstruction_panel", "growing_style_sets", "gram_viewer"]


# --- Optimisation panels (notebooks 03, 04) -----------------------------------------------------------


def _run_panel(
    title: str,
    target: torch.Tensor,
    target_label: str,
    choice: w.Widget,
    steps: int,
    max_steps: int,
    vgg,
    run_label: str,
    reconstruct: Callable[[object, int, Callable], "object"],
    describe: Callable[[object], str],
) -> Panel:
    """A reconstruction panel: a choice, steps, a Run button, target and result side by side.

    The button runs ``reconstruct(choice, steps, preview)`` for the chosen value, labelled ``describe(choice)``
    (see :func:`_run_reconstruction`).
    """
    widgets_by_name = {
        "choice": choice,
        "steps": w.IntSlider(
            value=steps, min=1, max=max(max_steps, steps), description="steps", continuous_update=False
        ),
        "run": w.Button(description=run_label, button_style="primary", icon="play"),
    }
    target_view, result_view = (
        image_view("280px"),
        image_view("280px", f"the result appears here when you press {run_label}"),
    )
    target_view.value = png_bytes(target)
    views = w.HBox(
        [
            w.VBox([w.HTML(f"<b>{html.escape(target_label)}</b>"), target_view]),
            w.VBox([w.HTML("<b>reconstruction (live while it runs)</b>"), result_view]),
        ]
    )
    panel = Panel(title, widgets_by_name, [views], vgg.weights_info)
    panel.preview = result_view
    panel.results = {}

    def run():
        chosen = panel.choice.value
        _run_reconstruction(
            panel, chosen, describe(chosen), lambda preview: reconstruct(chosen, panel.steps.value, preview)
        )

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
    panel.set_status(
        f"{label} · {len(result.history)} steps · loss {first:.3g} → {last:.3g} · {panel.weights_text()}", state
    )
    panel.result = result


def content_reconstruction_panel(
    image, vgg: VGG19Features, steps: int = 50, max_steps: int = 500, layer: str = "relu4_2", size: int | None = None
) -> Panel:
    """Reconstruct ``image`` from white noise through one layer's features, with a live preview (paper Fig. 1, bottom).

    ``panel.layer`` (``panel.choice``) picks the layer, ``panel.steps`` the L-BFGS evaluations, and
    ``panel.run.click()`` runs it. Results are kept per (layer, steps) in ``panel.results``; the last is
    ``panel.result``. Interrupt the kernel to stop early: the best image so far stays.
    """
    image = load_image(image, size=size)
    layer_choice = layer_dropdown(RELU_LAYERS, layer)
    panel = _run_panel(
        "Content reconstruction from white noise",
        image,
        "content image",
        layer_choice,
        steps,
        max_steps,
        vgg,
        "Reconstruct",
        lambda layer, n, preview: reconstruct_content(
            image, layer, steps=n, weights=vgg, callback=preview, progress=False
        ),
        lambda layer: f"content from {layer}",
    )
    panel.layer = panel.choice
    panel.set_status(f"layer {layer} · press Reconstruct · {panel.weights_text()}")
    return panel


def growing_style_sets(layers: Sequence[str] = PAPER_STYLE_LAYERS) -> dict[str, tuple[str, ...]]:
    """The layer sets of the paper's Fig. 1 (top): {relu1_1}, {relu1_1, relu2_1}, ... by label.

    >>> list(growing_style_sets())[:2]
    ['relu1_1', 'relu1_1 + relu2_1']
    """
    return {(" + ".join(s) if len(s) <= 2 else f"{s[0]} … {s[-1]}"): s for s in layer_sets(layers)}


def style_reconstruction_panel(
    image, vgg: VGG19Features, steps: int = 50, max_steps: int = 500, size: int | None = None
) -> Panel:
    """Synthesise a texture from white noise matching ``image``'s Gram matrices on a chosen layer set (Fig. 1, top).

    ``panel.layers`` (``panel.choice``) picks a growing set (or one layer alone), ``panel.steps`` the
    evaluations, ``panel.run.click()`` runs it, with a live preview; results are kept in ``panel.results``.
    """
    image = load_image(image, size=size)
    sets = growing_style_sets()
    sets.update({f"{n} only": (n,) for n in PAPER_STYLE_LAYERS[1:]})
    # Starts on all five layers: the paper's style representation.
    choice = w.Dropdown(
        options=list(sets.items()),
        value=tuple(PAPER_STYLE_LAYERS),
        description="layers",
        layout=w.Layout(width="320px"),
    )
    panel = _run_panel(
        "Style reconstruction (texture synthesis) from white noise",
        image,
        "style image",
        choice,
        steps,
        max_steps,
        vgg,
        "Synthesise",
        lambda layers, n, preview: reconstruct_style(
            image, layers, steps=n, weights=vgg, callback=preview, progress=False
        ),
        lambda layers: f"style from {', '.join(layers)}",
    )
    panel.layers = panel.choice
    panel.set_status(f"layers {', '.join(choice.value)} · press Synthesise · {panel.weights_text()}")
    return panel


# --- Notebook 04: Gram matrices -----------------------------------------------------------------------


def gram_viewer(images, vgg: VGG19Features, size: int | None = None, layer: str = "relu1_1", show: int = 32) -> Panel:
    """Compare the Gram matrices of two images at a layer, as heatmaps, with E_l between them (eq. 4).

    Features are cached per image, so every change answers at once. Widgets: ``panel.image_a``,
    ``panel.image_b``, ``panel.layer``, ``panel.show`` (how many feature maps, the top-left block of G).
    """
    images = as_images(images, size)
    # As in the paper (the style image is resized to the content's size), all images get the first one's
    # size, so their Gram matrices sum over the same number of positions M_l and E_l compares like with like.
    first = next(iter(images.values()))
    images = {k: resize_to(v, first.shape[-2:]) for k, v in images.items()}
    names = list(images)
    widgets_by_name = {
        "image_a": image_dropdown(images, "image a"),
        "image_b": image_dropdown(images, "image b"),
        "layer": layer_dropdown(RELU_LAYERS, layer),
        "show": w.IntSlider(value=show, min=4, max=64, step=4, description="maps shown", continuous_update=False),
    }
    widgets_by_name["image_b"].value = names[1] if len(names) > 1 else names[0]
    view = image_view("100%")
    panel = Panel(
        "Gram matrices", widgets_by_name, [view], vgg.weights_info, rows=[["image_a", "image_b"], ["layer", "show"]]
    )
    panel.view = view
    panel.cache = {}

    def features(name):
        if name not in panel.cache:
            device = vgg.device
            with torch.no_grad():
                panel.cache[name] = {k: v.cpu() for k, v in vgg(images[name].to(device), RELU_LAYERS).items()}
        return panel.cache[name]

    def redraw():
        layer = panel.layer.value
        a, b = panel.image_a.value, panel.image_b.value
        Fa, Fb = features(a)[layer], features(b)[layer]
        Ga, Gb = gram_matrix(Fa), gram_matrix(Fb)
        e = float(StyleTerm({layer: Ga}).per_layer({layer: Fb})[0, 0])  # E_l of b against a's Gram matrix (eq. 4)
        k = min(panel.show.value, Ga.shape[-1])
        fig = plots.show_gram_matrices(
            [Ga[0, :k, :k], Gb[0, :k, :k]],
            [f"{a}: G at {layer}", f"{b}: G at {layer}"],
            vgg.weights_info,
            images=[images[a], images[b]],
        )
        view.value = figure_png(fig)
        panel.set_status(
            f"layer {layer} · Gram {Ga.shape[-1]}x{Ga.shape[-1]} (showing {k}) · E_l(a, b) = {e:.3g} · "
            f"{panel.weights_text()}"
        )

    for c in widgets_by_name.values():
        c.observe(panel.handler(redraw), names="value")
    panel.handler(redraw)()
    return panel
