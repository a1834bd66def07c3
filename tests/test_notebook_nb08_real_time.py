"""Notebook 08's support (notebook/nb08_real_time.py): the table of the network's stages, the caption that says
what trained it, and the instant panel driven as a learner would. (Its training panel, what it measures and its
exercise checks: test_notebook_nb08_training_panel.py, test_realtime_compare.py, test_deploy_compare.py and
test_notebook_checks.py.)"""

from __future__ import annotations

import datetime

import pytest
import torch

import tutorial_style as ts
from tutorial_style.notebook import nb08_real_time


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def vgg():
    return ts.get_vgg("random")


def tiny():
    torch.manual_seed(0)
    return ts.StyleNetwork(width=0.25, blocks=1)


# --- The measurements ---------------------------------------------------------------------------------------------


def test_the_stage_table_follows_the_network_down_by_4_and_back_for_odd_sizes():
    net = tiny()
    rows = {name: shape for name, _, shape, _ in nb08_real_time.stage_shapes(net, rand(1, 3, 37, 50))}
    assert rows["input"] == rows["output"] == (1, 3, 37, 50)
    assert rows["down.2"] == (1, 32, 10, 13)  # padded to 40 x 52, then two stride-2 convolutions
    assert rows["residuals"] == rows["down.2"] and rows["up.1"] == (1, 8, 40, 52)
    assert sum(p for *_, p in nb08_real_time.stage_shapes(net, rand(1, 3, 8, 8))) == sum(
        p.numel() for p in net.parameters()
    )


def test_the_caption_says_random_and_untrained():
    weights = ts.get_vgg("random").weights_info
    net = tiny()
    caption = nb08_real_time.network_caption(net, weights)
    assert caption.startswith("UNTRAINED network") and "RANDOM" in caption
    net.meta = {"steps": 12}
    assert nb08_real_time.network_caption(net, weights).startswith("network trained 12 steps with RANDOM")


# --- The panels -------------------------------------------------------------------------------------------------


def png(width=40, height=30) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_instant_panel_stylises_each_choice_and_uploads(vgg):
    net = tiny()
    photos = {"cat (held out)": "chelsea", "astronaut": "astronaut"}
    panel = nb08_real_time.stylize_panel(net, vgg.weights_info, photos, size=64)
    assert panel.status_text.startswith("done · cat (held out) · 64x43 px in") and "RANDOM" in panel.status_text
    panel.size.value = 96
    assert panel.result.shape == (1, 3, 64, 96) and "96x64 px" in panel.status_text
    panel.photo.value = "astronaut"
    with torch.no_grad():
        torch.testing.assert_close(panel.result, net(ts.load_image("astronaut", size=96)))
    data = png()
    panel.upload.value = (
        {
            "name": "red.png",
            "type": "image/png",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(),
        },
    )
    assert panel.photo.value == "⬆ red.png" and panel.status_text.startswith("done · ⬆ red.png · 96x72 px")


def test_beside_shipped_shows_the_learners_network_and_the_shipped_one_each_captioned(tmp_path, monkeypatch, vgg):
    import matplotlib

    matplotlib.use("Agg")
    from realtime_support import ship_for_test

    from tutorial_style.shipped import LABEL

    ship_for_test(tmp_path, monkeypatch)
    photos = {"chelsea": rand(1, 3, 32, 32), "coffee": rand(1, 3, 32, 40, seed=1)}
    fig = nb08_real_time.beside_shipped(tiny().eval(), photos, "swirls", vgg.weights_info)
    text = " ".join(fig._suptitle.get_text().split())  # wrapped to the figure's width
    assert "RANDOM VGG19 weights" in text and LABEL in text and "'pair'" in text  # what trained each side
    assert [ax.get_title() for ax in fig.axes[:3]] == ["chelsea (held out)", "your network", "shipped: swirls"]
    assert len([ax for ax in fig.axes if ax.images]) == 6


def test_beside_shipped_says_when_no_shipped_network_has_the_style(tmp_path, monkeypatch, vgg, capsys):
    from realtime_support import ship_for_test

    ship_for_test(tmp_path, monkeypatch)
    assert nb08_real_time.beside_shipped(tiny(), {"cat": rand(1, 3, 32, 32)}, "stripes", vgg.weights_info) is None
    assert "no network shipped with the package holds 'stripes'" in capsys.readouterr().out
