"""The figures (notebook/plots.py) name the weights that made them. (That each reads at a glance in JupyterLab:
test_figures_readable.py.)"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

import tutorial_style as ts
from tutorial_style.notebook import plots, widgets


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def vgg():
    return ts.get_vgg("random")


def test_the_figures_name_their_weights(vgg):
    image = rand(1, 3, 24, 24)
    fig = plots.colour_figure(image, image, {None: image, "luminance": image}, vgg.weights_info, steps=3)
    assert "RANDOM" in fig._suptitle.get_text()
    plots.close(fig)
    fig = plots.mask_propagation_figure(widgets.ready_mask("centre disc", 32, 32), "relu2_1")
    assert "Geometry only" in fig._suptitle.get_text()
    plots.close(fig)


def test_loss_curves_figure_names_the_weights(net):
    history = [{"step": i, "content": 10.0 / (i + 1), "style": 5.0, "total": 1e-3 * 10 / (i + 1) + 5} for i in range(4)]
    fig = plots.loss_curves_figure({"L-BFGS": history, "Adam": history}, net.weights_info, title="compare")
    try:
        assert "RANDOM" in fig._suptitle.get_text() and "compare" in fig._suptitle.get_text()
        assert len(fig.axes[0].get_lines()) == 6
    finally:
        plt.close(fig)
