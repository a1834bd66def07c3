"""Notebook 07's panels (notebook/nb07_controls.py), driven as a learner would (ready masks, painting, Run), and
the notebook with every run interrupted. (Its exercise checks are in test_notebook_checks.py, its figures in
test_notebook_plots.py.)"""

from __future__ import annotations

import pytest
import torch

import tutorial_style as ts
from tutorial_style.notebook import widgets

# --- Panels ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vgg():
    return ts.get_vgg("random")


def test_ready_masks_and_painting_make_the_regions(vgg):
    panel = widgets.region_panel(vgg, size=40, steps=2)
    h, w = panel.photo.shape[-2:]
    assert panel.status_text.startswith("ready · region 1 covers 50%")
    torch.testing.assert_close(panel.mask, widgets.ready_mask("left half", h, w))
    panel.ready.value = "paint"
    assert float(panel.mask.sum()) == 0 and "covers 0%" in panel.status_text
    scale = panel.canvas.width / w
    panel.paint(10.5 * scale, 20.5 * scale)  # canvas coordinates: photo pixel (x=10, y=20)
    assert panel.mask[20, 10] == 1 and panel.mask[20, 10 + panel.brush.value + 1] == 0 and panel.mask[0, 0] == 0
    panel.run.click()
    assert (
        panel.status_text.startswith("done · mosaic in region 1, swirls in region 2") and "RANDOM" in panel.status_text
    )
    assert panel.result.image.shape == panel.photo.shape


def test_a_region_panel_with_an_empty_region_says_so(vgg):
    panel = widgets.region_panel(vgg, size=40, steps=2)
    panel.ready.value = "paint"
    panel.run.click()
    assert panel.status_text.startswith("error · ValueError: region 1 is empty")


def test_the_blend_panel_at_w_1_is_the_first_style_alone(vgg):
    panel = widgets.blend_panel(vgg, content="chelsea", styles=("mosaic", "swirls"), size=40, steps=3)
    panel.blend.value = 1.0
    panel.run.click()
    assert panel.status_text.startswith("done · w = 1.0 mosaic + 0.0 swirls")
    alone = ts.stylize(
        ts.load_image("chelsea", size=40),
        ts.load_image("mosaic", size=40),
        init="content",
        steps=3,
        weights=vgg,
        progress=False,
    )
    torch.testing.assert_close(panel.result.image, alone.image, atol=1e-6, rtol=0)


def test_the_colour_and_coarse_to_fine_panels_run(vgg):
    colour = widgets.colour_panel(vgg, size=40, steps=2)
    colour.run.click()
    assert colour.status_text.startswith("done") and sorted(colour.results, key=str) == sorted(
        [None, "luminance", "histogram"], key=str
    )
    pyramid = widgets.coarse_to_fine_panel(vgg, sizes=(24, 40), steps=(2, 1))
    pyramid.run.click()
    assert pyramid.status_text.startswith("done") and set(pyramid.table) == {"pyramid", "single"}


# --- The notebook, interrupted -------------------------------------------------------------------------------


def test_notebook_07_interrupted_everywhere_says_so_and_never_prints_false(monkeypatch, capsys):
    """Run notebook 07's cells (quick mode) as if the learner pressed ■ during every run: each run keeps its best
    image, each cell that ran one says so in one line, no cell raises, and no check prints False."""
    from pathlib import Path

    import matplotlib
    import nbformat

    matplotlib.use("Agg")
    stylize = ts.stylize

    def interrupted_at_step_2(*args, callback=None, **kwargs):
        def stop(step, image, losses):
            if step == 1:
                raise KeyboardInterrupt  # what the kernel's interrupt does during the loop
            return callback(step, image, losses) if callback else None

        return stylize(*args, callback=stop, **kwargs)

    monkeypatch.setattr(ts, "stylize", interrupted_at_step_2)
    path = next((Path(__file__).resolve().parent.parent / "notebooks").glob("07_*.ipynb"))
    namespace: dict = {}
    said = []
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, f"{path.name}, cell {i}", "exec"), namespace)
        out = capsys.readouterr().out
        if "ts.stylize(" in cell.source:
            said.append(i)
            assert "evaluations: kept the best image so far; run the cell again" in out, (i, out)
        if "nbval-check-output" in cell.metadata.get("tags", []):
            assert "False" not in out, (i, out)
    assert len(said) >= 6  # the runs of sections 1 to 5
