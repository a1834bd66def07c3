"""The controls of Gatys et al. (CVPR 2017) in controls/: colour, masks, several styles, and total variation.
Formulas against references written out here; identities (each control switched to its neutral value gives the
2016 run); batches, presets and cache keys. (Scale: test_scale.py and test_optimize.py; the flags: test_cli.py.)"""

from __future__ import annotations

import itertools
import json

import pytest
import torch

import tutorial_style as ts
from tutorial_style import Settings
from tutorial_style.controls.masks import GuidedStyleTerm, load_mask, normalise_mask
from tutorial_style.images import resize_to
from tutorial_style.layers import LAYER_INFO
from tutorial_style.objective import Objective, StyleTerm
from tutorial_style.tradeoff import row_key

LAYERS = ("relu1_1", "relu2_1")  # two shallow style layers keep every run here fast


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def images():
    return ts.load_image("chelsea", size=40), ts.load_image("mosaic", size=40), ts.load_image("swirls", size=40)


def run(content, style, vgg, **options):
    options = {"steps": 4, "style_layers": LAYERS, **options}
    return ts.stylize(content, style, weights=vgg, progress=False, **options)


# --- Colour -------------------------------------------------------------------------------------------------


def test_yiq_is_the_ntsc_matrix_and_round_trips():
    ntsc = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])  # textbook values
    x = rand(2, 3, 5, 4)
    want = torch.einsum("ij,bjhw->bihw", ntsc, x)
    torch.testing.assert_close(ts.rgb_to_yiq(x), want, atol=2e-3, rtol=0)
    torch.testing.assert_close(ts.yiq_to_rgb(ts.rgb_to_yiq(x)), x, atol=1e-5, rtol=0)
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    torch.testing.assert_close(ts.luminance(x), 0.299 * r + 0.587 * g + 0.114 * b, atol=1e-6, rtol=0)
    assert ts.luminance(x).shape == (2, 1, 5, 4)


def test_match_luminance_gives_the_contents_mean_and_spread():
    style_y, content_y = rand(2, 1, 6, 7, seed=1) * 0.3, 0.2 + 0.5 * rand(2, 1, 6, 7, seed=2)
    out = ts.match_luminance(style_y, content_y)
    for i in range(2):
        assert float(out[i].mean()) == pytest.approx(float(content_y[i].mean()), abs=1e-5)
        assert float(out[i].std(unbiased=False)) == pytest.approx(float(content_y[i].std(unbiased=False)), abs=1e-5)
        # an affine map of the style's own values: L' = a L + b, with a = sigma_c / sigma_s
        a = content_y[i].std(unbiased=False) / style_y[i].std(unbiased=False)
        torch.testing.assert_close(
            out[i] - a * style_y[i], (out[i] - a * style_y[i]).mean().expand_as(out[i]), atol=1e-5, rtol=0
        )


def _mean_cov(x):
    flat = x[0].double().flatten(1)
    mu = flat.mean(1, keepdim=True)
    return mu[:, 0], (flat - mu) @ (flat - mu).T / flat.shape[1]


@pytest.mark.parametrize("mode", ["pca", "chol", "sym"])
def test_match_color_gives_the_targets_mean_and_covariance(mode):
    # A muted source and a target whose colours are mixed; both well inside [0, 1], so nothing is clipped.
    source = 0.4 + 0.2 * rand(1, 3, 20, 20, seed=3)
    mix = torch.tensor([[0.5, 0.2, 0.0], [0.1, 0.3, 0.1], [0.0, 0.2, 0.25]])
    target = 0.3 + torch.einsum("ij,bjhw->bihw", mix, rand(1, 3, 16, 24, seed=4))
    out = ts.match_color(source, target, mode=mode)
    assert out.shape == source.shape and 0 < float(out.min()) and float(out.max()) < 1
    mu_o, cov_o = _mean_cov(out)
    mu_t, cov_t = _mean_cov(target)
    torch.testing.assert_close(mu_o, mu_t, atol=1e-5, rtol=0)
    torch.testing.assert_close(cov_o, cov_t, atol=1e-6, rtol=5e-3)  # the ridge (1e-5 on the diagonals) shows a little


def test_the_three_colour_matches_are_different_linear_maps():
    source, target = rand(1, 3, 12, 12, seed=5) * 0.5 + 0.25, rand(1, 3, 12, 12, seed=6) * 0.4 + 0.3
    outs = {m: ts.match_color(source, target, mode=m) for m in ("pca", "chol", "sym")}
    assert not torch.allclose(outs["pca"], outs["chol"], atol=1e-4)
    # "sym" moves the pixels least (optimal transport): the smallest mean squared change of the three
    moved = {m: float(((o - source - (o - source).mean((2, 3), keepdim=True)) ** 2).mean()) for m, o in outs.items()}
    assert moved["sym"] <= min(moved["pca"], moved["chol"]) + 1e-7
    with pytest.raises(ValueError, match="mode must be one of"):
        ts.match_color(source, target, mode="lab")


def test_a_luminance_run_keeps_the_photos_i_and_q(images, vgg):
    content, style, _ = images
    result = run(content, style, vgg, preserve_colors="luminance", alpha=[1e-3, 1e-1])
    assert result.image.shape == (2, 3, *content.shape[-2:])
    yiq, photo = ts.rgb_to_yiq(result.image), ts.rgb_to_yiq(content)
    inside = ((result.image > 1e-4) & (result.image < 1 - 1e-4)).all(1, keepdim=True).expand(-1, 2, -1, -1)
    assert inside.float().mean() > 0.8  # most pixels were not clipped; on those the chrominance is the photo's
    torch.testing.assert_close(yiq[:, 1:][inside], photo[:, 1:].expand(2, -1, -1, -1)[inside], atol=1e-5, rtol=0)
    assert not torch.allclose(yiq[:, :1], photo[:, :1], atol=1e-3)  # while the luminance was stylised


def test_histogram_matching_changes_only_the_style_image(images, vgg):
    content, style, _ = images
    result = run(content, style, vgg, preserve_colors="histogram", steps=2)
    sized = resize_to(style, content.shape[-2:])  # stylize brings the artwork to the photo's size first
    direct = run(content, ts.match_color(sized, content), vgg, steps=2)  # the recoloured artwork, by hand
    torch.testing.assert_close(result.image, direct.image, atol=0, rtol=0)
    assert result.history == direct.history
    assert result.history != run(content, style, vgg, steps=2).history


# --- Total variation ------------------------------------------------------------------------------------------


def test_tv_loss_is_the_sum_of_squared_neighbour_differences():
    x = rand(2, 3, 4, 5, seed=7)
    want = torch.zeros(2)
    for b, c, i, j in itertools.product(range(2), range(3), range(4), range(5)):
        if j + 1 < 5:
            want[b] += (x[b, c, i, j + 1] - x[b, c, i, j]) ** 2
        if i + 1 < 4:
            want[b] += (x[b, c, i + 1, j] - x[b, c, i, j]) ** 2
    torch.testing.assert_close(ts.tv_loss(x), want)


# --- Several styles -------------------------------------------------------------------------------------------


def test_one_style_with_blend_one_is_the_plain_run_exactly(images, vgg):
    content, style, _ = images
    plain = run(content, style, vgg)
    blended = run(content, [style], vgg, style_blend=[1])
    torch.testing.assert_close(blended.image, plain.image, atol=0, rtol=0)
    assert blended.history == plain.history


def test_the_blended_target_is_the_weighted_sum_of_the_gram_matrices(images, vgg):
    content, s1, s2 = images
    s1, s2 = resize_to(s1, content.shape[-2:]), resize_to(s2, content.shape[-2:])
    objective = Objective.for_images(
        vgg, content, [s1, s2], style_layers=LAYERS, style_blend=Settings(style_blend=[1, 3]).style_blend
    )
    equal = Objective.for_images(vgg, content, [s1, s2], style_layers=LAYERS)  # no blend: equal weights
    for name in LAYERS:
        with torch.no_grad():
            a1 = ts.gram_matrix(vgg(s1, [name])[name])
            a2 = ts.gram_matrix(vgg(s2, [name])[name])
        torch.testing.assert_close(
            objective.terms["style"][1].targets[name], 0.25 * a1 + 0.75 * a2, rtol=1e-5, atol=1e-3
        )
        torch.testing.assert_close(equal.terms["style"][1].targets[name], 0.5 * a1 + 0.5 * a2, rtol=1e-5, atol=1e-3)
    assert Settings(style_blend=[2, 2]).style_blend == (0.5, 0.5)


# --- Masks ----------------------------------------------------------------------------------------------------


def test_guided_gram_matrix_against_loops():
    F = rand(2, 3, 4, 5, seed=8)
    T = rand(4, 5, seed=9)
    want = torch.zeros(2, 3, 3)
    for b, i, j in itertools.product(range(2), range(3), range(3)):
        want[b, i, j] = sum(T[y, x] ** 2 * F[b, i, y, x] * F[b, j, y, x] for y in range(4) for x in range(5))
    torch.testing.assert_close(ts.guided_gram_matrix(F, T), want)
    torch.testing.assert_close(ts.guided_gram_matrix(F, torch.ones(4, 5)), ts.gram_matrix(F))


def test_normalised_masks_have_unit_mean_square():
    t = normalise_mask(rand(3, 6, 6, seed=10))
    torch.testing.assert_close(t.pow(2).mean((1, 2)), torch.ones(3))
    assert normalise_mask(torch.zeros(4, 4)).abs().sum() == 0  # an empty mask stays empty


@pytest.mark.parametrize("layer", ["relu1_1", "relu2_1", "relu3_1", "pool3", "relu4_1"])
def test_propagated_masks_follow_the_receptive_fields_and_nest(layer):
    mask = (rand(64, 48, seed=11) > 0.3).float()
    mask[:, :20] = 1
    info = LAYER_INFO[layer]
    s, rf = info.stride, info.receptive_field
    simple, inside, every = (ts.propagate_mask(mask, layer, m) for m in ("simple", "inside", "all"))
    assert simple.shape == inside.shape == every.shape == (64 // s, 48 // s)
    assert bool((inside <= simple).all()) and bool((simple <= every).all())  # inside ⊆ simple ⊆ all
    pad = (rf - s) // 2
    for i, j in [(0, 0), (1, 2), (64 // s - 1, 48 // s - 1), (64 // s // 2, 1)]:
        cell = mask[i * s : i * s + s, j * s : j * s + s]
        field = mask[
            max(0, i * s - pad) : i * s + s + pad, max(0, j * s - pad) : j * s + s + pad
        ]  # clipped to the image
        assert float(simple[i, j]) == pytest.approx(float(cell.mean()), abs=1e-6)
        assert float(inside[i, j]) == float(field.min()) and float(every[i, j]) == float(field.max())


def test_the_guided_style_loss_averages_the_regions():
    F = {"relu1_1": rand(2, 3, 4, 4, seed=12)}
    T = torch.stack([normalise_mask(rand(4, 4, seed=13)), normalise_mask(rand(4, 4, seed=14))])
    A = torch.stack([ts.gram_matrix(rand(1, 3, 4, 4, seed=15))[0], ts.gram_matrix(rand(1, 3, 4, 4, seed=16))[0]])
    term = GuidedStyleTerm({"relu1_1": A}, {"relu1_1": T})
    n, m = 3, 16
    want = (
        sum(
            ((ts.guided_gram_matrix(F["relu1_1"], T[r]) - A[r]) ** 2).flatten(1).sum(1) / (4 * n**2 * m**2)
            for r in range(2)
        )
        / 2
    )
    torch.testing.assert_close(term(F, torch.zeros(2, 3, 4, 4)), want)
    plain = StyleTerm({"relu1_1": A[:1]})
    ones = GuidedStyleTerm({"relu1_1": A[:1]}, {"relu1_1": torch.ones(1, 4, 4)})
    torch.testing.assert_close(ones(F, torch.zeros(2, 3, 4, 4)), plain(F, torch.zeros(2, 3, 4, 4)))


def test_an_all_ones_mask_gives_the_plain_run(images, vgg):
    content, style, _ = images
    plain = run(content, style, vgg)
    masked = run(content, [style], vgg, content_masks=[torch.ones(content.shape[-2:])])
    torch.testing.assert_close(masked.image, plain.image, atol=1e-4, rtol=0)


def test_two_regions_take_their_own_styles(images, vgg):
    """Each half of the result is closer, in its guided Gram matrices, to its own artwork than to the other."""
    content, s1, s2 = images
    h, w = content.shape[-2:]
    left = torch.zeros(h, w)
    left[:, : w // 2] = 1
    result = run(content, [s1, s2], vgg, content_masks=[left, 1 - left], alpha=0.0, init="noise", steps=30)
    objective = Objective.for_images(vgg, content, [s1, s2], style_layers=LAYERS, content_masks=[left, 1 - left])
    swapped = Objective.for_images(vgg, content, [s2, s1], style_layers=LAYERS, content_masks=[left, 1 - left])
    assert float(objective(result.image)["style"]) < float(swapped(result.image)["style"])


def test_one_style_image_split_by_style_masks(images, vgg):
    content, s1, _ = images
    h, w = content.shape[-2:]
    top = torch.zeros(h, w)
    top[: h // 2] = 1
    result = run(content, s1, vgg, content_masks=[top, 1 - top], style_masks=[1 - top, top], steps=2)
    assert result.image.shape == content.shape and len(result.history) == 2


def test_masks_from_files_and_their_errors(tmp_path, images, vgg):
    from PIL import Image

    content, s1, s2 = images
    Image.new("L", (20, 20), 255).save(tmp_path / "white.png")
    Image.new("L", (20, 20), 0).save(tmp_path / "black.png")
    torch.testing.assert_close(load_mask(tmp_path / "white.png"), torch.ones(20, 20))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    cases = [
        (dict(style=[s1, s2], content_masks=[tmp_path / "white.png"]), r"1 content mask\(s\) for 2 style image\(s\)"),
        (dict(style=[s1], content_masks=[tmp_path / "white.png"] * 2), "region 2 has no style"),
        (
            dict(style=[s1, s2], content_masks=[tmp_path / "white.png", tmp_path / "black.png"]),
            "content mask 2 .*black.png.* is all zero",
        ),
        (
            dict(style=[s1, s2], content_masks=[tmp_path / "white.png", tmp_path / "broken.png"]),
            "content mask 2: .*broken.png",
        ),
        (dict(style=[s1, s2], content_masks=[tmp_path / "white.png", tmp_path / "missing.png"]), "missing.png"),
        (
            dict(
                style=s1,
                content_masks=[tmp_path / "white.png"] * 2,
                style_masks=[tmp_path / "white.png", tmp_path / "black.png"],
            ),
            "style mask 2 .* all zero: region 2 has no style",
        ),
        (dict(style=[s1, s2], content_masks=[torch.ones(4, 4)] * 2, style_blend=[1, 1]), "use one or the other"),
        (dict(style=[s1, s2], style_blend=[1, 1, 1]), "style_blend has 3 weight"),
        (dict(style=s1, style_masks=[torch.ones(4, 4)]), "without content_masks"),
        (dict(style=[s1, s2], content_masks=[torch.full((4, 4), 2.0)] * 2), r"in \[0, 1\]"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=message) as error:
            ts.stylize(content, weights="random", steps=1, progress=False, **options)
        assert "\n" not in str(error.value)


# --- Every option: settings, presets, batches, cache keys -------------------------------------------------------

OPTIONS = [
    dict(preserve_colors="luminance"),
    dict(preserve_colors="histogram"),
    dict(tv_weight=0.1),
    dict(sizes=(24, 40)),
    dict(mask_propagation="inside"),
    dict(style_blend=[0.25, 0.75]),
]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: next(iter(o)))
def test_every_option_changes_the_cache_key(option, images):
    content, style, _ = images
    weights = ts.get_vgg("random").weights_info

    def key(settings):  # as tradeoff_grid makes it: the row's layers and ratios are named apart
        return row_key(
            content,
            style,
            weights,
            LAYERS,
            (1e-3,),
            {k: v for k, v in settings.as_dict().items() if k != "style_layers"},
        )

    plain, changed = key(Settings()), key(Settings(**option))
    assert changed != plain
    json.dumps(Settings(**option).as_dict())  # plain values


@pytest.mark.parametrize("preset", sorted(ts.PRESETS))
@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: next(iter(o)))
def test_every_option_works_batched_with_each_preset(option, preset, images, vgg):
    content, s1, s2 = images
    style = [s1, s2] if "style_blend" in option else s1
    masks = {}
    if "mask_propagation" in option:
        half = torch.zeros(content.shape[-2:])
        half[:, :20] = 1
        style, masks = [s1, s2], {"content_masks": [half, 1 - half]}
    steps = 2 if "sizes" not in option else (2, 1)
    result = ts.stylize(
        content,
        style,
        weights=vgg,
        progress=False,
        **{**ts.PRESETS[preset], "steps": steps},
        alpha=[1e-3, 1e-1],
        style_layers=LAYERS,
        **option,
        **masks,
    )
    assert result.image.shape == (2, 3, *content.shape[-2:]) and not result.interrupted
    assert torch.isfinite(result.image).all() and len(result.history[-1]["total"]) == 2
    # image 1 of the batch is what a run with its alpha alone gives (each image is optimised on its own)
    alone = ts.stylize(
        content,
        style,
        weights=vgg,
        progress=False,
        **{**ts.PRESETS[preset], "steps": steps},
        alpha=1e-1,
        style_layers=LAYERS,
        **option,
        **masks,
    )
    torch.testing.assert_close(result.image[1:], alone.image, atol=2e-4, rtol=0)


# --- Total variation, against loops -----------------------------------------------------------------------------------


def test_tv_loss_against_loops():
    x = torch.rand(2, 3, 5, 4, generator=torch.Generator().manual_seed(1))
    want = torch.zeros(2)
    for b in range(2):
        for c in range(3):
            for i in range(5):
                for j in range(4):
                    if j + 1 < 4:
                        want[b] += (x[b, c, i, j + 1] - x[b, c, i, j]) ** 2
                    if i + 1 < 5:
                        want[b] += (x[b, c, i + 1, j] - x[b, c, i, j]) ** 2
    torch.testing.assert_close(ts.tv_loss(x), want)
    assert float(ts.tv_loss(torch.full((1, 3, 4, 4), 0.7))[0]) == 0.0


# --- Masks: the guided style term's weights (issue 21) ----------------------------------------------------------------


def test_guided_style_term_checks_its_layer_weights_as_the_style_term_does():
    """Bug 8: a negative w_l gave a negative loss in GuidedStyleTerm where StyleTerm refuses it.
    Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.controls.masks import GuidedStyleTerm
    from tutorial_style.objective import StyleTerm

    targets, masks = {"relu1_1": torch.rand(1, 2, 2)}, {"relu1_1": torch.ones(1, 3, 3)}
    with pytest.raises(ValueError, match="non-negative"):
        StyleTerm({"relu1_1": torch.rand(1, 2, 2)}, weights={"relu1_1": -1.0})(
            {"relu1_1": torch.rand(1, 2, 3, 3)}, torch.zeros(1, 3, 3, 3)
        )
    with pytest.raises(ValueError, match="non-negative"):
        GuidedStyleTerm(targets, masks, weights={"relu1_1": -1.0})
    features = {"relu1_1": torch.rand(2, 2, 3, 3)}
    plain = StyleTerm(targets)(features, torch.zeros(2, 3, 3, 3))
    torch.testing.assert_close(
        GuidedStyleTerm(targets, masks)(features, torch.zeros(2, 3, 3, 3)), plain
    )  # a mask of ones
