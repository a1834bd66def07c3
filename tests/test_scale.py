"""Mixing scales (scale.py, Gatys et al. 2017, section 6): the mix starts from the coarse style and matches the fine
one. (Coarse-to-fine, ``stylize(sizes=...)``, is in optimize.py: test_optimize.py.)"""

from __future__ import annotations

import pytest

import tutorial_style as ts
from tutorial_style.objective import Objective


@pytest.fixture(scope="module")
def images():
    return ts.load_image("chelsea", size=40), ts.load_image("mosaic", size=40), ts.load_image("swirls", size=40)


def test_mix_scales_starts_from_the_coarse_style_and_matches_the_fine_one(images, vgg):
    _, coarse, fine = images
    mixed = ts.mix_scales(coarse, fine, steps=5, weights=vgg, progress=False)
    assert mixed.image.shape == coarse.shape
    assert mixed.history[-1]["style"] < mixed.history[0]["style"]
    start = Objective.for_images(vgg, None, fine, style_layers=("relu1_1", "relu2_1"))
    assert float(start(coarse)["style"]) == pytest.approx(
        mixed.history[0]["style"], rel=1e-4
    )  # it started at the coarse image
