"""Notebook 05's studio (notebook/nb05_style_transfer.py), driven the way a learner would: set values, click,
wait, look.

The studio runs in a background thread (so Stop can be clicked); ``panel.wait()`` joins it."""

import datetime
import io
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image

import tutorial_style.optimize
from tutorial_style import load_image
from tutorial_style.notebook import widgets


@pytest.fixture
def studio(net):
    panel = widgets.studio(net, content="chelsea", style="swirls", size=32, steps=4)
    yield panel
    panel.stop.click()
    panel.wait(timeout=60)


def png_size(data: bytes):
    return Image.open(io.BytesIO(data)).size


def upload(data: bytes, name: str = "mine.png"):
    return (
        {
            "name": name,
            "type": "image/png",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(),
        },
    )


def png_of(colour=(200, 30, 30), size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


# --- the studio ---------------------------------------------------------------------------------------


def test_studio_starts_ready_and_names_its_weights(studio):
    assert studio.status_text.startswith("ready · chelsea in the style of swirls")
    assert "RANDOM" in studio.status_text
    assert studio.stop.disabled and not studio.run.disabled
    assert list(studio.style_layer_boxes) == list(tutorial_style.PAPER_STYLE_LAYERS)


def test_studio_runs_with_the_chosen_settings(studio, monkeypatch):
    seen = {}
    real = tutorial_style.optimize.stylize

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tutorial_style.optimize, "stylize", spy)
    studio.ratio.value = 1e-2
    studio.content_layer.value = "relu2_2"
    studio.use_relu5_1.value = False
    studio.weight_relu1_1.value = 0.5
    studio.init.value = "style"
    studio.optimizer.value = "adam"
    studio.steps.value = 3
    before, curves_before = studio.preview.value, studio.live.plot_view.value
    studio.run.click()
    result = studio.wait(timeout=120)
    assert studio.status_text.startswith("done ·"), studio.status_text
    assert "3 of 3 steps" in studio.status_text and "relu2_2" in studio.status_text
    assert result is studio.result and len(result.history) == 3 and not result.interrupted
    assert studio.preview.value != before and png_size(studio.preview.value)[0] > 0
    assert studio.live.plot_view.value != curves_before  # the loss curves were drawn over the placeholder
    # the slider is a multiple of the default alpha/beta for the content image's size
    assert (
        seen["alpha"] == pytest.approx(1e-2 * tutorial_style.default_alpha(*seen["content"].shape[-2:]))
        and seen["beta"] == 1.0
    )
    assert seen["content_layers"] == ("relu2_2",)
    assert seen["style_layers"] == ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    # w_l renormalised over the ticked layers, as stylize's and the grid's sum to 1: 0.5 against 0.2 x 3
    assert seen["style_weights"] == pytest.approx(
        {"relu1_1": 0.5 / 1.1, "relu2_1": 0.2 / 1.1, "relu3_1": 0.2 / 1.1, "relu4_1": 0.2 / 1.1}
    )
    assert (seen["init"], seen["optimizer"], seen["steps"]) == ("style", "adam", 3)
    assert not studio.run.disabled and studio.stop.disabled


@pytest.mark.parametrize("relu1_1", [None, 0.4])  # None: the sliders as they open
def test_studio_style_weights_are_renormalised_over_the_ticked_layers(net, relu1_1):
    """Unticking layers left w_l = 0.2 on each of the others (3 layers: 0.6 in all), while stylize and notebook
    06's grid use 1/3 each: the studio's alpha/beta meant something else. The ticked sliders' values are relative
    weights: the run must be stylize's with w_l = slider_l / (sum of the ticked sliders)."""
    panel = widgets.studio(net, content="chelsea", style="swirls", size=32, steps=2)
    try:
        panel.use_relu4_1.value = panel.use_relu5_1.value = False
        if relu1_1 is not None:
            panel.weight_relu1_1.value = relu1_1
        ticked = [n for n, box in panel.style_layer_boxes.items() if box.value]
        sliders = {n: float(panel.style_weight_sliders[n].value) for n in ticked}
        panel.run.click()
        result = panel.wait(timeout=120)
    finally:
        panel.stop.click()
        panel.wait(timeout=60)
    assert panel.status_text.startswith("done ·"), panel.status_text
    assert ticked == ["relu1_1", "relu2_1", "relu3_1"]
    weights = {n: v / sum(sliders.values()) for n, v in sliders.items()}
    if relu1_1 is None:
        assert weights == pytest.approx({n: 1 / 3 for n in ticked})  # what stylize and the grid use
    expected = tutorial_style.stylize(
        load_image("chelsea", size=32),
        load_image("swirls", size=32),
        beta=1.0,
        alpha=float(panel.ratio.value) * tutorial_style.default_alpha(*load_image("chelsea", size=32).shape[-2:]),
        content_layers=(panel.content_layer.value,),
        style_layers=tuple(ticked),
        style_weights=weights,
        steps=2,
        init=panel.init.value,
        optimizer=panel.optimizer.value,
        weights=net,
        progress=False,
    )
    for got, want in zip(result.history, expected.history, strict=True):
        assert got["style"] == pytest.approx(want["style"], rel=1e-5) and got["total"] == pytest.approx(
            want["total"], rel=1e-5
        )
    torch.testing.assert_close(result.image, expected.image)


def test_studio_opens_on_the_fast_preset_and_the_menu_sets_steps_and_start(studio, net):
    assert studio.preset.value == "fast" and studio.init.value == "content"
    assert studio.steps.value == 4  # steps given to studio() override the preset's
    studio.preset.value = "paper"
    assert (studio.steps.value, studio.init.value) == (500, "noise")
    assert studio.status_text.startswith("ready · preset paper: 500 steps from noise")
    studio.preset.value = "fast"
    assert (studio.steps.value, studio.init.value) == (tutorial_style.PRESETS["fast"]["steps"], "content")
    with pytest.raises(ValueError, match="preset must be one of"):
        widgets.studio(net, preset="turbo")


def test_studio_stop_keeps_the_image(studio):
    studio.steps.value = 1000
    started = threading.Event()
    original = studio.live.preview.__call__

    class Spy:
        def __call__(self, step, image, losses):
            started.set()
            return original(step, image, losses)

    studio.live.preview = Spy()
    studio.run.click()
    assert started.wait(timeout=120), "the run did not start"
    assert studio.status_text.startswith("running") and not studio.stop.disabled and studio.run.disabled
    studio.stop.click()
    result = studio.wait(timeout=120)
    assert studio.status_text.startswith("interrupted ·"), studio.status_text
    assert result.interrupted and 1 <= len(result.history) < 1000
    assert torch.isfinite(result.image).all() and result.image.shape[-1] == 32
    assert studio.preview.value  # the kept image is shown


def test_studio_saves_the_result(studio, tmp_path):
    studio.run.click()
    result = studio.wait(timeout=120)
    target = tmp_path / "out" / "mine.png"
    studio.filename.value = str(target)
    studio.save.click()
    assert studio.status_text.startswith("done · saved") and str(target) in studio.status_text
    saved = load_image(target)
    assert saved.shape == result.image.shape
    torch.testing.assert_close(saved, result.image, atol=1 / 255 + 1e-6, rtol=0)
    assert [p.name for p in target.parent.iterdir()] == ["mine.png"]  # atomic: no temporary file left


def test_studio_saves_a_bare_name_into_outputs_and_never_overwrites(studio, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the notebook's folder
    studio.run.click()
    result = studio.wait(timeout=120)
    assert studio.filename.value == "stylized.png"
    studio.save.click()
    first = Path("outputs", "stylized.png")
    assert studio.status_text.startswith(f"done · saved {first} (32x") and "exists" not in studio.status_text
    before = first.read_bytes()
    studio.save.click()  # again: the first file stays, the new one goes next to it, and the status says so
    second = Path("outputs", "stylized-1.png")
    assert studio.status_text.startswith(f"done · saved {second} ") and f"{first} exists: kept it" in studio.status_text
    assert first.read_bytes() == before and load_image(second).shape == result.image.shape
    assert sorted(p.name for p in Path("outputs").iterdir()) == ["stylized-1.png", "stylized.png"]
    assert not Path("stylized.png").exists()  # nothing next to the notebooks, where it would be committed


def test_outputs_are_git_ignored():
    root = Path(__file__).resolve().parent.parent
    assert "outputs/" in (root / ".gitignore").read_text().splitlines()


def test_studio_save_before_run_and_bad_names_are_clear(studio, tmp_path):
    studio.save.click()
    assert studio.status_text.startswith("error ·") and "press Run" in studio.status_text
    studio.run.click()
    studio.wait(timeout=120)
    studio.filename.value = str(tmp_path / "result.tiffx")
    studio.save.click()
    assert studio.status_text.startswith("error ·") and ".png" in studio.status_text


def test_studio_takes_uploaded_images(studio):
    studio.content_upload.value = upload(png_of(), "my photo.png")
    assert studio.content.value == "⬆ my photo.png"
    assert studio.status_text.startswith("ready · uploaded my photo.png")
    studio.run.click()
    result = studio.wait(timeout=120)
    assert studio.status_text.startswith("done ·"), studio.status_text
    assert tuple(result.image.shape[-2:]) == (24, 32)  # the upload's 40x30 aspect, longer side 32


def test_studio_refuses_an_upload_that_is_not_an_image(studio):
    studio.style_upload.value = upload(b"this is not an image", "notes.png")
    assert studio.status_text.startswith("error ·") and "uploaded file" in studio.status_text
    assert "⬆ notes.png" not in studio.style.options


def test_studio_errors_show_in_the_status_line(studio, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("something is off")

    monkeypatch.setattr(tutorial_style.optimize, "stylize", broken)
    studio.run.click()
    studio.wait(timeout=60)
    assert studio.status_text == "error · ValueError: something is off"
    assert not studio.run.disabled
