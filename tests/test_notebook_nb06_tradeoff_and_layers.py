"""Notebook 06's explorers (notebook/nb06_tradeoff_and_layers.py): the trade-off explorer answers from the
precomputed grid without ever calling ``stylize``; the layer chooser compares with the paper's choice."""

import pytest

import tutorial_style.optimize
import tutorial_style.tradeoff as tradeoff
from tutorial_style.notebook import widgets

GRID = dict(
    size=32, steps=3, ratios=(1e-4, 1e-3, 1e-1), layer_sets=[("relu1_1",), tuple(tutorial_style.PAPER_STYLE_LAYERS)]
)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path_factory.mktemp("cache")))
        return tradeoff.tradeoff_grid("chelsea", "swirls", **GRID, weights="random", progress=False)


def forbid_stylize(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("stylize was called")

    monkeypatch.setattr(tutorial_style.optimize, "stylize", fail)
    monkeypatch.setattr(tradeoff, "stylize", fail)


# --- notebook 06: the explorers -----------------------------------------------------------------------


def test_explorer_answers_from_the_grid_without_stylize(grid, monkeypatch):
    forbid_stylize(monkeypatch)
    panel = widgets.tradeoff_explorer(grid)
    assert set(panel.pngs) == {(r, c) for r in range(2) for c in range(3)}
    first_image, first_status, first_table = panel.cell_view.value, panel.status_text, panel.breakdown.value
    assert first_status.startswith("ready · style layers relu1_1 ... relu5_1 · α/β 1e-03") and "RANDOM" in first_status
    panel.row.value = 0
    assert panel.cell_view.value == panel.pngs[(0, 1)] and panel.status_text != first_status
    assert "style layers relu1_1 ·" in panel.status_text
    panel.col.value = 0
    assert panel.cell_view.value == panel.pngs[(0, 0)] and "α/β 1e-04" in panel.status_text
    assert panel.breakdown.value != first_table
    assert first_image != panel.cell_view.value


def test_explorer_breakdown_shows_every_paper_layer(grid):
    panel = widgets.tradeoff_explorer(grid)
    panel.row.value = 0
    table = panel.breakdown.value
    for name in tutorial_style.PAPER_STYLE_LAYERS:
        assert name in table
    assert table.count("yes, w_l") == 1  # row 0 optimises relu1_1 only
    assert f"{float(grid.style_losses[0, panel.col.value, 0]):.3g}" in table


def test_layer_explorer_compares_with_the_papers_choice(grid, net):
    panel = widgets.layer_explorer(grid, net)
    assert panel.paper_view.value, "the paper's choice comes from the grid at once"
    panel.content_layers.value = ("relu2_2",)
    panel.style_layers.value = ("relu1_1", "relu3_1")
    panel.run.click()
    assert panel.status_text.startswith("done · content relu2_2 · style relu1_1, relu3_1"), panel.status_text
    assert panel.result.settings["content_layers"] == ("relu2_2",)
    assert panel.result.settings["style_layers"] == ("relu1_1", "relu3_1")
    assert panel.preview.value
    # With other steps the grid no longer holds the paper's cell: it is computed and kept.
    panel.steps.value = 2
    panel.run.click()
    paper_ratio = tutorial_style.default_alpha(*grid.images.shape[-2:])  # the paper's layers at the default alpha/beta
    assert ((("relu4_2",), tuple(tutorial_style.PAPER_STYLE_LAYERS), paper_ratio, 2)) in panel.results


def test_layer_explorer_needs_the_grids_weights(grid):
    from tutorial_style import VGG19Features

    other = VGG19Features(weights="random", normalize=None)  # same weights, not the paper's normalisation
    with pytest.raises(ValueError, match="other weights"):
        widgets.layer_explorer(grid, other)


def test_layer_explorer_with_no_layers_says_so(grid, net):
    panel = widgets.layer_explorer(grid, net)
    panel.content_layers.value = ()
    panel.style_layers.value = ()
    panel.run.click()
    assert panel.status_text.startswith("error ·") and "at least one" in panel.status_text
