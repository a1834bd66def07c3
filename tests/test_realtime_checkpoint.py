"""A trained network on disk (realtime/checkpoint.py): it round-trips with what made it; networks saved before
(with no-op biases, separable or not) still load; a damaged file says so without the reader's internals."""

from __future__ import annotations

import pytest
import torch
from realtime_support import META, TINY, Photos, conv_norm_pairs

import tutorial_style as ts
from tutorial_style.realtime import CheckpointError, StyleNetwork, load_network, save_checkpoint
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.checkpoint import load_checkpoint
from tutorial_style.realtime.network import DEFAULT, SLIM


def test_a_trained_network_round_trips_through_its_checkpoint(photos, tmp_path):
    path = tmp_path / "net.pt"
    net, history = ts.train_network("mosaic", data=photos, steps=4, checkpoint=path, **TINY)
    loaded = ts.load_network(path)
    image = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        assert torch.equal(loaded(image), net(image))
    meta = loaded.meta
    assert meta["steps"] == 4 and meta["style"] == "mosaic" and meta["size"] == 32
    assert meta["pretrained"] is False and "RANDOM" in meta["weights"]  # never suggests pretrained weights
    assert (
        meta["content_layers"] == ["relu2_2"]
        and meta["alpha"] == rt_train.TrainingSettings().alpha_for(meta["size"])
        and meta["photos"] == 4
    )
    assert (meta["width"], meta["blocks"]) == (0.25, 1)
    assert len(load_checkpoint(path)["training"]["history"]) == 4


def test_a_separable_network_is_saved_and_loaded_and_plain_configs_stay_as_they_were(tmp_path):
    torch.manual_seed(0)
    net = StyleNetwork(**SLIM).eval()
    save_checkpoint(tmp_path / "slim.pt", net, META)
    loaded = load_network(tmp_path / "slim.pt")
    assert loaded.config == SLIM and "separable" in loaded.extra_repr()
    images = torch.rand(1, 3, 24, 20)
    torch.testing.assert_close(loaded(images), net(images))
    assert StyleNetwork().config == DEFAULT  # no "separable" key: earlier checkpoints load as before
    with pytest.raises(ValueError, match="separable"):
        StyleNetwork(separable="yes")


# --- networks saved with no-op biases still load (issue 21) -----------------------------------------------------------


def _with_old_biases(net: StyleNetwork) -> StyleNetwork:
    """``net`` as networks were before: a (no-op) bias on each convolution before an instance normalisation."""
    generator = torch.Generator().manual_seed(3)
    for conv, _ in conv_norm_pairs(net):
        conv.bias = torch.nn.Parameter(
            torch.randn(conv.out_channels, generator=generator)
        )  # in the old slot, after weight
    return net


def test_an_old_checkpoint_with_those_biases_still_loads_and_resumes(tmp_path):
    """Found in issue 21's review (a new user's first hour)."""
    torch.manual_seed(0)
    old = _with_old_biases(StyleNetwork(width=0.25, blocks=1))
    path = tmp_path / "old.pt"
    tiny = dict(size=32, batch=2, weights="random", device="cpu", progress=False, data=Photos())
    _, history = ts.train_network("mosaic", network=old, steps=2, checkpoint=path, **tiny)
    saved = torch.load(path, weights_only=True)
    assert any(k.endswith("down.0.0.bias") for k in saved["network"]["state_dict"])  # written the old way
    loaded = load_network(path)
    image = torch.rand(1, 3, 36, 44)
    with torch.no_grad():
        torch.testing.assert_close(loaded(image), old.eval()(image), atol=1e-5, rtol=0)  # the biases did nothing
    net, resumed = ts.train_network("mosaic", steps=3, checkpoint=path, resume=True, **tiny)
    assert [row["step"] for row in resumed] == [0, 1, 2] and resumed[:2] == list(history)


# --- Error texts: no internals, and a fix (issue 21) ------------------------------------------------------------------


def test_a_damaged_checkpoint_says_so_without_the_readers_internals(tmp_path):
    """Found in issue 21's review (a new user's first hour)."""
    import io
    import re

    from tutorial_style.realtime import save_checkpoint

    good = tmp_path / "good.pt"
    save_checkpoint(good, StyleNetwork(width=0.25, blocks=1), {})
    data = good.read_bytes()
    legacy = io.BytesIO()
    torch.save({"a": torch.zeros(100)}, legacy, _use_new_zipfile_serialization=False)
    cases = [
        data[: len(data) // 2],
        data[:100],
        data[:-10],
        legacy.getvalue()[:200],
        legacy.getvalue()[:40],
        b"PK\x03\x04" + bytes(100),
    ]
    for i, content in enumerate(cases):
        path = tmp_path / f"bad{i}.pt"
        path.write_bytes(content)
        with pytest.raises(CheckpointError) as raised:
            load_network(path)
        message = str(raised.value)
        assert f"checkpoint {str(path)!r} is" in message and "damaged" in message, message
        assert not re.search(r"Pytorch|EOF|zip|codec|\(\d+\)|expected \d+", message), message
