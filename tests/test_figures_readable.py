"""Figures read at a glance in JupyterLab's default width (issue 16, section 3): every title, label and tick is at
least 10 pt as displayed in a 1280 x 800 window, whose outputs are about 860 px wide (measured in the browser
test's screenshots).

An inline figure is drawn at 100 dpi (``figure.dpi``) and cropped to its contents (``bbox_inches="tight"``); a figure
wider than the output is shrunk to fit, its text with it. Text of S points at D dpi is S·D/72 image pixels tall,
shown at scale k (at most 1) as S·D·k/96 points of the screen (96 CSS pixels per inch). The figures are built
here as the notebooks build them, with the most panels a notebook asks for.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.text import Text
from PIL import Image

from tutorial_style import layers, tradeoff
from tutorial_style.notebook import panels, plots
from tutorial_style.weights import load_weights

OUTPUT_PX = 860  # JupyterLab's output width in a 1280 x 800 window, file browser open
INLINE_DPI = 100  # matplotlib's figure.dpi, which the inline backend uses
MIN_PT = 10


@pytest.fixture(scope="module")
def weights():
    return load_weights("random")[1]


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def displayed(fig, dpi: float = INLINE_DPI, shown_px: float | None = None) -> tuple[float, list[tuple[float, str]]]:
    """(width in px of the PNG, [(points as displayed, text)] of every visible text). ``shown_px``: the width the
    image is shown at (default: its own, shrunk to the output width if wider)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    width = Image.open(buffer).size[0]
    scale = (shown_px if shown_px is not None else min(width, OUTPUT_PX)) / width
    texts = [
        (t.get_fontsize() * dpi * scale / 96, t.get_text())
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.axison)
    ]
    plt.close(fig)
    return width, texts


def assert_readable(fig, **kwargs):
    width, texts = displayed(fig, **kwargs)
    assert texts, "the figure has no text at all"
    small = [(round(pt, 1), text[:40]) for pt, text in texts if pt < MIN_PT]
    assert not small, f"text under {MIN_PT} pt as displayed (image {width} px wide): {small}"


def test_the_measure_can_fail():
    """A 16-inch figure is shrunk to 860 px: its 10-point text shows at about 5 pt."""
    fig, ax = plt.subplots(figsize=(16, 3))
    ax.set_title("wide", fontsize=10)
    with pytest.raises(AssertionError, match="under 10 pt"):
        assert_readable(fig)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])  # 6: notebooks 02, 03 and 04 (an input and five layers)
def test_show_images(n, weights):
    images = [rand(1, 3, 64, 64, seed=k) for k in range(n)]
    titles = [f"relu1_1 … relu{k + 1}_1" for k in range(n)]
    suptitle = "Style reconstructions from white noise, 150 L-BFGS steps (paper Fig. 1, top row)"
    assert_readable(plots.show_images(images, titles, weights, suptitle=suptitle))


def test_colour_figure(weights):
    results = {m: rand(1, 3, 64, 64, seed=k) for k, m in enumerate((None, "luminance", "histogram"))}
    assert_readable(plots.colour_figure(rand(1, 3, 64, 64), rand(1, 3, 64, 64, seed=9), results, weights, steps=70))


def test_feature_maps_and_receptive_field(weights):
    features = rand(1, 64, 32, 32)
    assert_readable(plots.show_feature_maps(features, list(range(11)), "relu1_1", weights, image=rand(1, 3, 64, 64)))
    assert_readable(plots.show_receptive_field(rand(1, 3, 64, 64), "relu4_1"))


def test_gram_matrices(weights):
    grams = [rand(32, 32, seed=1), rand(32, 32, seed=2)]
    assert_readable(
        plots.show_gram_matrices(
            grams,
            ["astronaut: G at relu1_1", "mosaic: G at relu1_1"],
            weights,
            images=[rand(1, 3, 64, 64)] * 2,
            suptitle="Gram matrices at relu1_1",
        )
    )


def test_layer_statistics(weights):
    relus = [name for name in layers.LAYER_INFO if name.startswith("relu")]
    stats = {
        "mean response": [1.0] * len(relus),
        "fraction of entries > 0": [0.5] * len(relus),
        "positions M_l (log10)": [3.0] * len(relus),
    }
    assert_readable(
        plots.plot_layer_statistics(
            relus, stats, weights, suptitle="Activation statistics of the astronaut image, per layer"
        )
    )


def test_loss_curves(weights):
    history = [{"content": 10.0 / (k + 1), "style": 5.0 / (k + 1), "total": 15.0 / (k + 1)} for k in range(20)]
    assert_readable(
        plots.loss_curves_figure(
            {"L-BFGS": history, "Adam": history}, weights, title="L-BFGS vs Adam, 150 evaluations each"
        )
    )


def test_the_live_loss_plot_is_drawn_at_the_width_it_is_shown(weights):
    """Notebook 05's live loss plot is an image widget of a fixed width: drawn at that width, its text is not shrunk."""
    view = panels.image_view("420px")
    live = panels.LiveLossPlot(view, weights, steps=5, title="astronaut in the style of mosaic")
    live.draw([{"step": k, "content": 1.0 / (k + 1), "style": 2.0 / (k + 1), "total": 3.0 / (k + 1)} for k in range(5)])
    shown = int(panels.LiveView(weights, 5).plot_view.layout.width.removesuffix("px"))
    width = Image.open(io.BytesIO(view.value)).size[0]
    assert abs(width - shown) <= 0.1 * shown, (width, shown)
    fig = plots.loss_curves_figure(
        {"run": live.losses or [{"content": 1.0, "style": 1.0, "total": 2.0}]},
        weights,
        title="astronaut in the style of mosaic",
        size=panels.LOSS_PLOT_IN,
    )
    assert_readable(fig, shown_px=shown)


def test_grid_figure(weights):
    sets = tradeoff.layer_sets()
    grid = tradeoff.TradeoffGrid(
        images=rand(len(sets), 5, 3, 64, 64),
        ratios=tradeoff.default_ratios(64, 64),
        layer_sets=sets,
        content_image=rand(1, 3, 64, 64),
        style_image=rand(1, 3, 64, 64),
        weights=weights,
        content_loss=torch.ones(len(sets), 5),
        style_losses=torch.ones(len(sets), 5, 5),
        breakdown_layers=tuple(layers.PAPER_STYLE_LAYERS),
        settings={"steps": 70},
    )
    assert_readable(plots.grid_figure(grid))


def test_mask_propagation_figure():
    mask = torch.zeros(64, 64)
    mask[:, :32] = 1
    assert_readable(plots.mask_propagation_figure(mask, "relu3_1"))
