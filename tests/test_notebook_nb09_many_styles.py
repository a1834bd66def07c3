"""Notebook 09's support (notebook/nb09_many_styles.py): the counts of one style's γ and β, the captions that say
what trained a network (a shipped one by its loss network), the mixer driven as a learner would, the training that
measures and asks, adding a style without changing the others, and the exercise's checker."""

from __future__ import annotations

import json

import pytest
import torch

import tutorial_style as ts
from tutorial_style import shipped
from tutorial_style.notebook import nb09_many_styles as nb09
from tutorial_style.realtime.network import ConditionalInstanceNorm


@pytest.fixture(scope="module")
def vgg():
    return ts.get_vgg("random")


def tiny(styles=("mosaic", "swirls")):
    torch.manual_seed(0)
    return ts.StyleNetwork(width=0.25, blocks=1, styles=list(styles))


def photo(size=32):
    return ts.realtime.held_out_photos(size=size)["chelsea"]


def train_args():
    return dict(size=32, batch=2)


# --- Counts and captions ------------------------------------------------------------------------------------------


def test_one_style_is_its_gamma_and_beta_in_every_normalisation_and_the_rest_is_shared(capsys):
    net = tiny(("a", "b", "c"))
    counts = nb09.parameter_counts(net)
    norms = [m for m in net.modules() if isinstance(m, ConditionalInstanceNorm)]
    assert counts.layers == len(norms) and counts.per_style == sum(2 * m.num_features for m in norms)
    assert counts.total == sum(p.numel() for p in net.parameters()) == counts.shared + 3 * counts.per_style
    one = ts.StyleNetwork(width=0.25, blocks=1)  # notebook 08's network of the same shape
    assert counts.one_style_network == sum(p.numel() for p in one.parameters())
    assert nb09.print_parameter_counts(net) == counts
    shown = capsys.readouterr().out
    assert f"{counts.shared:,} parameters" in shown and f"{3 * counts.one_style_network:,} parameters" in shown
    with pytest.raises(ValueError, match="^network: a one-style network"):
        nb09.parameter_counts(one)


def fake_shipped(tmp_path, monkeypatch, styles=("mosaic", "swirls")):
    net = tiny(styles)
    ts.realtime.save_checkpoint(tmp_path / "two.pt", net, {"steps": 8000})
    info = {"styles": list(styles), "steps": 8000, "cpu minutes": 120.5}
    (tmp_path / "two.json").write_text(json.dumps(info))
    monkeypatch.setattr(shipped, "FOLDER", tmp_path)
    return shipped.shipped_networks()[0]


def test_a_shipped_network_is_captioned_by_its_loss_network_and_one_trained_here_by_its_weights(
    vgg, tmp_path, monkeypatch
):
    assert nb09.first_shipped() is None or len(nb09.first_shipped().styles) >= 2
    found = fake_shipped(tmp_path, monkeypatch)
    assert nb09.first_shipped() == found
    caption = nb09.network_caption(tiny(), vgg.weights_info, found)
    assert caption == f"shipped network 'two', {shipped.LABEL} (8000 steps, 120.5 CPU min)"
    assert "trained with ImageNet VGG16 features" in caption and "RANDOM" not in caption
    here = tiny()
    here.meta = {"steps": 20}
    assert "RANDOM VGG19 weights" in nb09.network_caption(here, vgg.weights_info)
    added = nb09.added_caption(caption, "circles", 200, vgg.weights_info)
    assert added.startswith(caption + "; + circles: its γ and β trained 200 steps with RANDOM")


def test_a_one_style_shipped_network_is_not_taken(tmp_path, monkeypatch):
    fake_shipped(tmp_path, monkeypatch, styles=("mosaic",))
    assert nb09.first_shipped() is None


def test_the_new_artwork_is_one_the_network_lacks_or_a_recoloured_mosaic(tmp_path):
    assert nb09.new_artwork(["mosaic"], tmp_path) == "swirls"
    made = nb09.new_artwork(list(ts.bundled_images("style")), tmp_path)
    assert made == str(tmp_path / "mosaic-turned.png")
    mosaic = ts.load_image("mosaic")
    torch.testing.assert_close(ts.load_image(made), mosaic[:, [2, 0, 1]], atol=1 / 255, rtol=0)


# --- Mixing -------------------------------------------------------------------------------------------------------


def test_the_mixer_styles_the_photo_with_the_sliders_mix(vgg):
    net = tiny()
    photos = ts.realtime.held_out_photos(size=32)
    panel = nb09.mix_panel(net, photos, "a caption", vgg.weights_info, start={"mosaic": 0.6, "swirls": 0.2})
    torch.testing.assert_close(panel.mix, torch.tensor([0.75, 0.25]))
    assert panel.status_text.startswith("done · mix mosaic 0.75 · swirls 0.25 · chelsea in")
    assert panel.status_text.endswith("a caption")
    panel.sliders["mosaic"].value = 0.0
    torch.testing.assert_close(panel.mix, torch.tensor([0.0, 1.0]))
    with torch.no_grad():
        torch.testing.assert_close(panel.result, net(photos["chelsea"], net.mix_for("swirls")))
    panel.photo.value = "coffee"
    assert panel.result.shape == photos["coffee"].shape
    panel.sliders["swirls"].value = 0.0
    assert panel.status_text.startswith("error · ValueError: mix: the weights are all 0")


def test_the_mix_figure_shows_the_photo_then_each_mix_and_names_the_weights(vgg):
    net = tiny()
    mixes = {"mosaic": "mosaic", "half": {"mosaic": 0.5, "swirls": 0.5}}
    fig = nb09.mix_figure(net, photo(), mixes, "CAPTION", vgg.weights_info, title="T · ")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["the photo (held out)", "mosaic", "half"]
    assert "T · CAPTION" in fig._suptitle.get_text() and "RANDOM" in fig._suptitle.get_text()
    shipped_fig = nb09.mix_figure(net, photo(), mixes, shipped.LABEL, None)
    assert shipped.LABEL in shipped_fig._suptitle.get_text() and "RANDOM" not in shipped_fig._suptitle.get_text()


# --- Training, and adding a style ---------------------------------------------------------------------------------


def test_two_styles_train_in_the_background_with_their_checkpoint(vgg, tmp_path):
    panel = nb09.training_panel(
        vgg,
        ["mosaic", "swirls"],
        ("chelsea", photo()),
        tmp_path / "two.pt",
        steps=4,
        ask_seconds=600,
        network=tiny(),
        **train_args(),
    )
    net = panel.wait()
    assert panel.status_text.startswith("done · 4 steps") and "RANDOM" in panel.status_text
    assert net.styles == ("mosaic", "swirls") and net.meta["steps"] == 4 and len(panel.history) == 4
    assert panel.step_seconds > 0 and panel.preview_view.value[:4] == b"\x89PNG"


def test_a_long_run_stops_after_the_measured_steps_and_asks_then_trains_all(vgg, tmp_path):
    panel = nb09.training_panel(
        vgg,
        ["mosaic", "swirls"],
        ("chelsea", photo()),
        tmp_path / "two.pt",
        steps=6,
        ask_seconds=1e-4,
        network=tiny(),
        **train_args(),
    )
    panel.wait()
    assert panel.asked and len(panel.history) == nb09.MEASURE_STEPS
    assert panel.status_text.startswith(f"interrupted · paused after {nb09.MEASURE_STEPS} steps")
    assert "Press Train all" in panel.status_text and panel.all.description.startswith("Train all 6 steps (about ")
    panel.all.click()  # the learner asks for the whole run: no more questions
    net = panel.wait()
    assert not panel.asked and len(panel.history) == 6 and net.meta["steps"] == 6


def test_stop_keeps_the_network_as_trained_so_far(vgg, tmp_path, monkeypatch):
    original = nb09.MeasuredTrainingPanel._step

    def press_stop_at_step_2(self, step, losses, network, ask):
        if step == 1:
            self.stop.click()
        return original(self, step, losses, network, ask)

    monkeypatch.setattr(nb09.MeasuredTrainingPanel, "_step", press_stop_at_step_2)
    panel = nb09.training_panel(
        vgg,
        ["mosaic", "swirls"],
        ("chelsea", photo()),
        tmp_path / "two.pt",
        steps=50,
        ask_seconds=600,
        network=tiny(),
        **train_args(),
    )
    net = panel.wait()
    assert panel.status_text.startswith("interrupted · 2 steps") and net.meta["steps"] == 2


def test_an_added_style_trains_its_own_gamma_and_beta_and_leaves_the_others_bit_identical(vgg, tmp_path):
    base = tiny()
    ts.realtime.save_checkpoint(tmp_path / "two.pt", base, {"style": "mosaic, swirls"})
    panel = nb09.training_panel(
        vgg,
        "circles",
        ("chelsea", photo()),
        tmp_path / "three.pt",
        steps=3,
        ask_seconds=600,
        base=tmp_path / "two.pt",
        **train_args(),
    )
    grown = panel.wait()
    assert panel.status_text.startswith("done · 3 steps"), panel.status_text
    assert grown.styles == ("mosaic", "swirls", "circles") and grown.meta["steps"] == 3
    assert nb09.unchanged_outputs(base, grown, photo()) == {"mosaic": 0.0, "swirls": 0.0}
    changed = nb09.changed_parameters(base, grown)
    assert changed.changed == 0 and changed.trained == nb09.parameter_counts(grown).per_style
    assert changed.total == sum(p.numel() for p in grown.parameters())
    new_rows = [r.parameter[r.row] for r in grown.style_parameters("circles")]
    start = [r.parameter[r.row] for r in base.with_style("circles").style_parameters("circles")]
    assert any(not torch.equal(a, b) for a, b in zip(new_rows, start))  # the new style did train


def test_a_changed_shared_weight_is_counted():
    base = tiny()
    other = base.with_style("c")
    with torch.no_grad():
        other.out.weight[0, 0, 0, :2] += 1.0
        other.down[0][1].weight[0, :3] += 1.0  # mosaic's γ: a base row
    assert nb09.changed_parameters(base, other).changed == 5


# --- The exercise -------------------------------------------------------------------------------------------------


def test_the_checker_accepts_the_network_s_own_layer_and_names_each_mistake():
    def right(x, gamma, beta, mix):
        norm = ConditionalInstanceNorm(x.shape[1], styles=gamma.shape[0])
        with torch.no_grad():
            norm.weight.copy_(gamma)
            norm.bias.copy_(beta)
            return norm(x, mix)

    assert nb09.check_conditional_instance_norm(right)
    assert nb09.check_conditional_instance_norm(lambda x, g, b, m: None).status == "not attempted"

    def first_style_only(x, g, b, m):
        return torch.nn.functional.instance_norm(x, eps=1e-5) * g[0].view(1, -1, 1, 1) + b[0].view(1, -1, 1, 1)

    def swapped(x, g, b, m):
        return right(x, b, g, m)

    def not_normalised(x, g, b, m):
        return x * (m @ g).view(1, -1, 1, 1) + (m @ b).view(1, -1, 1, 1)

    for fn, words in ((first_style_only, "first style"), (swapped, "swapped"), (not_normalised, "not normalised")):
        result = nb09.check_conditional_instance_norm(fn)
        assert result.status == "wrong" and words in result.message, result.message
