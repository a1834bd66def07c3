"""The objective: the paper's eq. 7 written out independently here, and what every caller asks of it."""

from __future__ import annotations

import pytest
import torch

import tutorial_style as ts
from tutorial_style.objective import ContentTerm, Objective, StyleTerm


def paper_total(features, p, a, alpha, beta):
    """eq. 1, 3, 4, 5, 7 from the paper with loops and einsum (no package loss function)."""
    (c_layer,) = p
    lc = 0.5 * ((features[c_layer] - p[c_layer]) ** 2).sum(dim=(1, 2, 3))
    ls = 0
    for name, target in a.items():
        f = features[name]
        n, m = f.shape[1], f.shape[2] * f.shape[3]
        g = torch.einsum("bik,bjk->bij", f.flatten(2), f.flatten(2))
        ls = ls + ((g - target) ** 2).sum(dim=(1, 2)) / (4 * n**2 * m**2) / len(a)
    return alpha * lc + beta * ls


@pytest.fixture(scope="module")
def images():
    return ts.load_image("chelsea", size=32), ts.load_image("mosaic", size=32)


def test_the_total_is_the_papers_equation_7(vgg, images):
    content, style = images
    layers = ("relu1_1", "relu2_1", "relu3_1")
    alpha = torch.tensor([1e-3, 1e-1])
    objective = Objective.for_images(
        vgg, content, style, content_layers=["relu4_2"], style_layers=layers, alpha=alpha, beta=2.0
    )
    x = torch.rand(2, 3, *content.shape[-2:], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        p = vgg(content, ["relu4_2"])
        resized = torch.nn.functional.interpolate(style, size=content.shape[-2:], mode="bilinear", antialias=True)
        a = {n: torch.einsum("bik,bjk->bij", f.flatten(2), f.flatten(2)) for n, f in vgg(resized, layers).items()}
        want = paper_total(vgg(x, ("relu4_2",) + layers), p, a, alpha, 2.0)
        got = objective(x)
    torch.testing.assert_close(got["total"], want, rtol=1e-4, atol=0)
    torch.testing.assert_close(got["total"], alpha * got["content"] + 2.0 * got["style"])
    assert objective.layers == ("relu4_2",) + layers


def test_the_photo_has_no_content_loss_and_the_artwork_no_style_loss(vgg, images):
    content, style = images
    objective = Objective.for_images(
        vgg, content, style, content_layers=["relu4_2"], style_layers=["relu1_1", "relu2_1"]
    )
    with torch.no_grad():
        assert float(objective(content)["content"]) == 0.0
        assert float(objective(ts.images.resize_to(style, content.shape[-2:]))["style"]) == pytest.approx(
            0.0, abs=1e-12
        )


def test_bf16_targets_go_through_the_same_arithmetic(vgg, images):
    content, style = images
    objective = Objective.for_images(
        vgg, content, style, content_layers=["relu4_2"], style_layers=["relu1_1"], precision="bf16"
    )
    with torch.no_grad():
        assert float(objective(content)["content"]) == 0.0


def test_the_breakdown_is_the_style_loss_layer_by_layer(vgg, images):
    content, style = images
    layers = ("relu1_1", "relu3_1")
    objective = Objective.for_images(vgg, content, style, content_layers=["relu4_2"], style_layers=layers)
    x = torch.rand(3, 3, *content.shape[-2:])
    with torch.no_grad():
        lc, e = objective.breakdown(x)
        losses = objective(x)
    assert e.shape == (3, 2)
    torch.testing.assert_close(e.mean(dim=1), losses["style"])  # w_l = 1/2
    torch.testing.assert_close(lc, losses["content"])


def test_with_content_changes_the_content_targets_and_shares_the_style(vgg, images):
    content, style = images
    objective = Objective.for_images(vgg, content, style, content_layers=["relu4_2"], style_layers=["relu1_1"])
    other = ts.load_image("coffee", size=32)
    other = ts.images.resize_to(other, content.shape[-2:])
    moved = objective.with_content(other)
    assert moved.terms["style"] is objective.terms["style"]
    with torch.no_grad():
        assert float(moved(other)["content"]) == 0.0
        assert float(moved(content)["content"]) > 0.0
        assert float(moved(content)["style"]) == float(objective(content)["style"])


def test_a_term_is_anything_with_layers_and_a_value(vgg, images):
    content, style = images

    class Brightness:  # a made-up prior on the pixels, to show how terms plug in
        layers = ()

        def __call__(self, features, image):
            return image.mean(dim=(1, 2, 3))

    objective = Objective.for_images(vgg, content, style, content_layers=["relu4_2"], style_layers=["relu1_1"])
    objective.terms["brightness"] = (10.0, Brightness())
    with torch.no_grad():
        losses = objective(content)
    assert float(losses["brightness"]) == pytest.approx(float(content.mean()))
    assert float(losses["total"]) == pytest.approx(
        float(losses["content"] + losses["style"] + 10 * losses["brightness"])
    )


def test_whoever_needs_a_term_adds_it_with_its_weight_and_the_paper_knows_no_video(vgg, images):
    """Issue 28: the temporal term had a slot reserved in for_images because with_term refused new names."""
    import ast
    from pathlib import Path

    content, style = images

    class Brightness:
        layers = ()

        def __call__(self, features, image):
            return image.mean(dim=(1, 2, 3))

    paper = Objective.for_images(vgg, content, style, content_layers=["relu4_2"], style_layers=["relu1_1"])
    added = paper.with_term("brightness", Brightness(), weight=10.0)
    assert list(paper.terms) == ["content", "style"] and list(added.terms) == ["content", "style", "brightness"]
    with torch.no_grad():
        losses = added(content)
    assert float(losses["total"]) == pytest.approx(
        float(losses["content"] + losses["style"] + 10 * losses["brightness"])
    )
    assert added.with_term("brightness", Brightness()).terms["brightness"][0] == 10.0  # replaced: the same weight
    assert added.with_term("brightness", Brightness(), weight=2.0).terms["brightness"][0] == 2.0
    with pytest.raises(ValueError, match="no term 'brightness' .*give a weight to add it"):
        paper.with_term("brightness", Brightness())
    with pytest.raises(ValueError, match="'total' names the weighted sum"):
        paper.with_term("total", Brightness(), weight=1.0)
    source = Path(ts.objective.__file__).read_text()
    imported = [n.module or "" for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)]
    assert not any("video" in m for m in imported) and "temporal" not in str(
        ts.Objective.for_images.__code__.co_varnames
    )


def test_empty_terms_are_zero(images):
    content, _ = images
    zero = ContentTerm({})({}, content), StyleTerm({})({}, content)
    assert all(float(z) == 0.0 for z in zero)


def test_tv_weight_adds_the_term_to_the_total_and_zero_leaves_the_paper(vgg, images):
    content, style = images
    plain = ts.stylize(content, style, steps=2, weights=vgg, progress=False)
    smooth = ts.stylize(content, style, steps=2, tv_weight=0.5, weights=vgg, progress=False)
    assert "tv" not in plain.history[0]
    first = smooth.history[0]
    alpha = smooth.settings["alpha"]  # the default of the image's size
    assert first["total"] == pytest.approx(alpha * first["content"] + first["style"] + 0.5 * first["tv"], rel=1e-5)
    assert smooth.settings["tv_weight"] == 0.5
