"""The trade-off grid: a batched row equals separate runs; the disk cache hits, misses and heals itself."""

import pytest
import torch

import tutorial_style as ts
import tutorial_style.files
import tutorial_style.tradeoff as tradeoff
from tutorial_style import PAPER_STYLE_LAYERS, load_image, stylize
from tutorial_style.cli import main
from tutorial_style.tradeoff import default_grid, grid_settings, layer_sets, tradeoff_grid, tradeoff_row

# Tiny settings: the grid's logic does not depend on the size.
SMALL = dict(size=32, steps=2, ratios=(1e-3, 1e-1), layer_sets=[("relu1_1",), ("relu1_1", "relu2_1")], weights="random")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test gets its own empty cache folder."""
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "tradeoff"


def no_stylize(monkeypatch):
    """Make any optimisation fail: what follows must come from the cache."""

    def fail(*args, **kwargs):
        raise AssertionError("stylize was called although the cache should have answered")

    monkeypatch.setattr(tradeoff, "stylize", fail)


def count_stylize(monkeypatch) -> list:
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return stylize(*args, **kwargs)

    monkeypatch.setattr(tradeoff, "stylize", counting)
    return calls


def test_a_batched_row_gives_the_images_of_separate_runs():
    content, style = load_image("chelsea", size=32), load_image("swirls", size=32)
    ratios = (1e-4, 1e-2, 1.0)
    layers = ("relu1_1", "relu2_1", "relu3_1")
    # Two steps only: convolutions round differently for different batch sizes on some CPUs, and from the third
    # step L-BFGS can amplify that rounding to 1e-2 in a pixel (see tests/test_optimize.py, which also checks
    # that the images of a batch are independent exactly).
    kwargs = dict(steps=2, weights="random", seed=3, progress=False)
    row = tradeoff_row(content, style, layers, ratios, **kwargs)
    assert row.image.shape[0] == len(ratios)
    for i, r in enumerate(ratios):
        alone = stylize(content, style, alpha=r, beta=1.0, style_layers=layers, **kwargs)
        torch.testing.assert_close(row.image[i : i + 1], alone.image, atol=1e-5, rtol=0)
    assert row.settings["alpha"] == pytest.approx(ratios)
    assert row.settings["beta"] == 1.0


def test_each_row_is_one_batched_stylize_call(monkeypatch):
    calls = count_stylize(monkeypatch)
    grid = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    assert len(calls) == len(SMALL["layer_sets"])
    for call, layers in zip(calls, SMALL["layer_sets"]):
        assert call["style_layers"] == layers
        assert call["alpha"] == pytest.approx(SMALL["ratios"])
        assert call["beta"] == 1.0
    assert grid.shape == (2, 2)
    assert grid.images.shape == (2, 2, 3, 21, 32)
    assert grid.cached == [False, False]
    assert grid.row_label(0) == "relu1_1" and grid.row_label(1) == "relu1_1 ... relu2_1"


def test_the_grid_holds_8_bit_images_and_the_breakdown():
    grid = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    assert torch.equal(grid.images, (grid.images * 255).round() / 255)
    # E_l on all the paper's layers, also those a row did not optimise
    assert grid.breakdown_layers == PAPER_STYLE_LAYERS
    assert grid.style_losses.shape == (2, 2, 5) and grid.content_loss.shape == (2, 2)
    assert (grid.style_losses >= 0).all() and (grid.content_loss >= 0).all()
    assert list(grid.breakdown(1, 0)) == list(PAPER_STYLE_LAYERS)
    # The breakdown is E_l of the cell's image, as the package computes it.
    from tutorial_style import get_vgg, gram_matrix, style_layer_loss

    vgg = get_vgg("random", device="cpu")
    style = torch.nn.functional.interpolate(
        grid.style_image, size=grid.images.shape[-2:], mode="bilinear", antialias=True, align_corners=False
    )
    feats = vgg(grid.cell(1, 0), ["relu2_1"])["relu2_1"]
    target = gram_matrix(vgg(style, ["relu2_1"])["relu2_1"])
    assert grid.breakdown(1, 0)["relu2_1"] == pytest.approx(float(style_layer_loss(feats, target)), rel=1e-4)


def test_a_second_call_is_a_cache_hit_without_stylize(monkeypatch):
    first = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    no_stylize(monkeypatch)
    second = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    assert second.cached == [True, True]
    assert torch.equal(first.images, second.images)
    assert torch.equal(first.style_losses, second.style_losses)
    assert torch.equal(first.content_loss, second.content_loss)


@pytest.mark.parametrize(
    "change",
    [
        dict(steps=5),
        dict(ratios=(1e-3, 1e-2)),
        dict(seed=1),
        dict(init="content"),
        dict(size=48),
        dict(pooling="max"),
        dict(style="mosaic"),
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_changed_setting_is_a_miss(monkeypatch, change):
    tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    calls = count_stylize(monkeypatch)
    args = {"content": "chelsea", "style": "swirls", **SMALL, "progress": False, **change}
    grid = tradeoff_grid(**args)
    assert grid.cached == [False, False] and len(calls) == 2


def test_a_changed_content_image_is_a_miss(monkeypatch):
    content = load_image("chelsea", size=32)
    tradeoff_grid(content, "swirls", **SMALL, progress=False)
    calls = count_stylize(monkeypatch)
    changed = content.clone()
    changed[..., 0, 0] = 1 - changed[..., 0, 0]  # one pixel
    assert tradeoff_grid(changed, "swirls", **SMALL, progress=False).cached == [False, False]
    assert len(calls) == 2


def test_rows_already_cached_stay_cached_when_rows_are_added(monkeypatch):
    tradeoff_grid("chelsea", "swirls", **{**SMALL, "layer_sets": [("relu1_1",)]}, progress=False)
    calls = count_stylize(monkeypatch)
    grid = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    assert grid.cached == [True, False] and len(calls) == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "stale"])
def test_a_damaged_entry_is_rebuilt(private_cache, monkeypatch, damage):
    first = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    entries = sorted(private_cache.glob("*.pt"))
    assert len(entries) == 2
    target = entries[0]
    data = target.read_bytes()
    if damage == "garbage":
        target.write_bytes(b"not a torch file at all")
    elif damage == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        target.write_bytes(b"")
    else:  # another row's entry under this name: a stale key
        target.write_bytes(entries[1].read_bytes())
    calls = count_stylize(monkeypatch)
    again = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    assert len(calls) == 1 and sum(again.cached) == 1
    torch.testing.assert_close(again.images, first.images, atol=1 / 255, rtol=0)
    no_stylize(monkeypatch)  # and it was written back
    assert tradeoff_grid("chelsea", "swirls", **SMALL, progress=False).cached == [True, True]


def test_an_entry_with_wrong_contents_is_rebuilt(private_cache, monkeypatch):
    tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    target = sorted(private_cache.glob("*.pt"))[0]
    entry = torch.load(target, weights_only=True)
    entry["content_loss"] = torch.full_like(entry["content_loss"], float("nan"))
    torch.save(entry, target)
    calls = count_stylize(monkeypatch)
    assert sum(tradeoff_grid("chelsea", "swirls", **SMALL, progress=False).cached) == 1 and len(calls) == 1


def test_an_unwritable_cache_warns_and_still_answers(monkeypatch, private_cache):
    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tutorial_style.files, "atomic_write", refuse)  # what files.save_cache writes with
    with pytest.warns(UserWarning, match="could not cache"):
        grid = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    assert grid.images.shape[:2] == (2, 2)
    assert not list(private_cache.glob("*.pt"))


def test_an_unusable_cache_folder_warns_and_still_answers(monkeypatch, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(blocker / "cache"))
    with pytest.warns(UserWarning, match="cache folder cannot be used"):
        grid = tradeoff_grid("chelsea", "swirls", **SMALL, progress=False)
    assert grid.cached == [False, False] and grid.images.shape[:2] == (2, 2)


def test_cache_false_neither_reads_nor_writes(monkeypatch, private_cache):
    tradeoff_grid("chelsea", "swirls", **SMALL, progress=False, cache=False)
    assert not list(private_cache.glob("*.pt"))


def test_an_interrupted_row_is_not_cached(private_cache):
    class CtrlC:
        def update(self, n=1):
            raise KeyboardInterrupt  # as if Ctrl-C arrived during the first step

    with pytest.raises(KeyboardInterrupt):
        tradeoff_grid("chelsea", "swirls", **SMALL, progress=CtrlC())
    assert not list(private_cache.glob("*.pt"))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="layer_sets"):
        tradeoff_grid("chelsea", "swirls", **{**SMALL, "layer_sets": [("relu9_9",)]}, progress=False)
    with pytest.raises(ValueError, match="ratios"):
        tradeoff_grid("chelsea", "swirls", **{**SMALL, "ratios": (1e-3, -1.0)}, progress=False)
    with pytest.raises(ValueError, match="layer_sets is empty"):
        tradeoff_grid("chelsea", "swirls", **{**SMALL, "layer_sets": []}, progress=False)


def test_settings_and_rows():
    assert layer_sets()[0] == ("relu1_1",) and len(layer_sets()[-1]) == 5
    full, quick = grid_settings(quick=False), grid_settings(quick=True)
    assert (full["size"], full["steps"], len(full["columns"]), len(full["layer_sets"])) == (512, 500, 5, 5)
    assert quick["size"] < full["size"] and quick["steps"] < full["steps"]


def test_precompute_fills_the_cache_the_notebook_reads(monkeypatch, capsys):
    """`python -m tutorial_style precompute --quick`, then the notebook's call recomputes nothing."""
    monkeypatch.setenv("TUTORIAL_STYLE_QUICK", "1")
    monkeypatch.setattr(tradeoff, "grid_settings", lambda quick=None: {**grid_settings(quick), "size": 32, "steps": 3})
    assert main(["precompute", "--quick"]) == 0  # weights "auto": random here (conftest), as in the notebook
    out = capsys.readouterr().out
    assert "0 row(s) were already cached, 2 computed" in out and "RANDOM" in out
    no_stylize(monkeypatch)
    grid = default_grid(progress=False)  # what notebook 06 runs, in a fresh kernel
    assert all(grid.cached) and grid.shape == (2, 3)
    assert main(["precompute", "--quick"]) == 0
    assert "2 row(s) were already cached, 0 computed" in capsys.readouterr().out


# --- The trade-off grid with style weights (issue 21) -----------------------------------------------------------------


def test_the_grid_cuts_style_weights_to_each_rows_layers(tmp_path, monkeypatch):
    """Bug 4: rows replace the style layers, and Settings rejected the weights of the layers a row leaves out.
    Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.tradeoff import tradeoff_grid

    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path / "cache"))
    content, style = ts.load_image("chelsea", size=32), ts.load_image("swirls", size=32)
    grid = tradeoff_grid(
        content,
        style,
        steps=2,
        ratios=(1e-3,),
        layer_sets=[("relu1_1",), ("relu1_1", "relu2_1")],
        style_weights={"relu1_1": 0.25, "relu2_1": 0.75},
        weights="random",
        progress=False,
    )
    assert grid.shape == (2, 1)
    # row 1 is the run with the weights as given; row 0 keeps relu1_1 only, its weight renormalised to the same sum
    for row, weights in ((0, {"relu1_1": 1.0}), (1, {"relu1_1": 0.25, "relu2_1": 0.75})):
        alone = ts.stylize(
            content,
            style,
            steps=2,
            alpha=1e-3 * ts.Settings().beta,
            beta=ts.Settings().beta,
            weights="random",
            style_layers=tuple(weights),
            style_weights=weights,
            progress=False,
        )
        expected = (alone.image.clamp(0, 1) * 255).round() / 255
        torch.testing.assert_close(grid.cell(row, 0), expected, atol=1 / 255 + 1e-6, rtol=0)
