"""Notebook 07's support: the exercise checks (against answers written here from the formulas), the panels
driven as a learner would (ready masks, painting, Run), and the figures naming their weights."""

from __future__ import annotations

import pytest
import torch

import tutorial_style as ts
from tutorial_style.notebook import checks, plots, widgets


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


# --- Exercise checks -------------------------------------------------------------------------------------------


def luminance_by_formula(x):
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def guided_gram_by_einsum(F, T):
    return torch.einsum("bihw,bjhw->bij", F * T, F * T)


@pytest.mark.parametrize(
    "checker, right, mistakes",
    [
        (checks.check_luminance, luminance_by_formula, [
            (lambda x: x.mean(1, keepdim=True), "plain mean"),
            (lambda x: luminance_by_formula(x.flip(1)), "wrong order"),
            (lambda x: luminance_by_formula(x)[:, 0], "keep the channel axis"),
        ]),
        (checks.check_guided_gram_matrix, guided_gram_by_einsum, [
            (lambda F, T: torch.einsum("bihw,bjhw->bij", F, F), "the mask is missing"),
            (lambda F, T: torch.einsum("bihw,bjhw->bij", F * T, F), "one side only"),
            (lambda F, T: guided_gram_by_einsum(F, T) / (F.shape[2] * F.shape[3]), "divided by the number of positions"),
        ]),
    ],
)  # fmt: skip
def test_the_checks_accept_the_formula_and_name_the_mistakes(checker, right, mistakes):
    assert checker(right), checker(right).message
    assert checker(lambda *args: None).status == "not attempted"
    for wrong, words in mistakes:
        answer = checker(wrong)
        assert not answer and words in answer.message, answer.message
    slightly = (lambda *args: right(*args) * 1.01)
    assert not checker(slightly)


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
    assert panel.status_text.startswith("done · mosaic in region 1, swirls in region 2") and "RANDOM" in panel.status_text
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
    alone = ts.stylize(ts.load_image("chelsea", size=40), ts.load_image("mosaic", size=40), init="content", steps=3, weights=vgg, progress=False)
    torch.testing.assert_close(panel.result.image, alone.image, atol=1e-6, rtol=0)


def test_the_colour_and_coarse_to_fine_panels_run(vgg):
    colour = widgets.colour_panel(vgg, size=40, steps=2)
    colour.run.click()
    assert colour.status_text.startswith("done") and sorted(colour.results, key=str) == sorted([None, "luminance", "histogram"], key=str)
    pyramid = widgets.coarse_to_fine_panel(vgg, sizes=(24, 40), steps=(2, 1))
    pyramid.run.click()
    assert pyramid.status_text.startswith("done") and set(pyramid.table) == {"pyramid", "single"}


def test_the_figures_name_their_weights(vgg):
    image = rand(1, 3, 24, 24)
    fig = plots.colour_figure(image, image, {None: image, "luminance": image}, vgg.weights_info, steps=3)
    assert "RANDOM" in fig._suptitle.get_text()
    plots.close(fig)
    fig = plots.mask_propagation_figure(widgets.ready_mask("centre disc", 32, 32), "relu2_1")
    assert "Geometry only" in fig._suptitle.get_text()
    plots.close(fig)


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
