"""The style networks that ship with the package (shipped/): found by name wherever a network is loaded, listed with
their provenance by ``networks``, and labelled "trained with ImageNet VGG16 features"; an unknown name is a one-line
error naming the shipped ones. The tests of a made-up folder use random weights at tiny sizes; the last tests check
the networks this checkout really ships."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from cli_support import one_line_error
from realtime_support import conditional, ship_for_test

import tutorial_style.shipped as shipped
from tutorial_style.cli import main
from tutorial_style.realtime import load_network
from tutorial_style.realtime.stylize import trained_with


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A shipped folder holding one two-style network, ``pair``, and an ``orphan.pt`` without provenance."""
    ship_for_test(tmp_path, monkeypatch)
    (tmp_path / "orphan.pt").write_bytes((tmp_path / "pair.pt").read_bytes())  # no provenance: not listed
    return tmp_path


def test_a_shipped_network_is_loaded_by_name_and_says_what_trained_it(folder):
    assert [n.name for n in shipped.shipped_networks()] == ["pair"]
    net = load_network("pair")
    assert net.styles == ("mosaic", "swirls")
    expected = conditional()
    photo = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(net(photo, net.mix_for("swirls")), expected(photo, expected.mix_for("swirls")))
    assert trained_with(net.meta) == f"style 'mosaic, swirls', 8 steps ({shipped.LABEL})"


def test_a_file_wins_over_a_name_and_an_unknown_name_lists_the_shipped_ones(folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "..")
    (tmp_path / ".." / "pair").write_bytes(b"x")  # a file called like a shipped network: the file wins
    assert shipped.network_file("pair") == Path("pair")
    (tmp_path / ".." / "pair").unlink()
    assert shipped.network_file("pair") == folder / "pair.pt"
    assert shipped.network_file("pair.pt") == Path("pair.pt")  # a path stays a path, even when missing
    with pytest.raises(ValueError, match=r"no network file or shipped network named 'pear'; .* are: pair$"):
        load_network("pear")
    with pytest.raises(ValueError, match="no such file"):  # a path that does not exist stays a missing file
        load_network("nets/pear.pt")


def test_networks_lists_each_with_its_provenance(folder, capsys):
    assert main(["networks"]) == 0
    out = capsys.readouterr().out
    for fact in ("pair: mosaic, swirls", shipped.LABEL, "8 steps", "a test", "ship.py train", "CC BY 4.0"):
        assert fact in out


def test_apply_takes_a_shipped_network_by_name(folder, tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["apply", "pair", "chelsea", "-o", str(out), "--size", "32", "--style", "mosaic"]) == 0
    assert out.is_file()
    assert main(["apply", "pear", "chelsea", "-o", str(out)]) == 2
    assert "shipped networks are: pair" in one_line_error(capsys)


def test_an_installation_without_networks_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shipped, "FOLDER", tmp_path)
    assert main(["networks"]) == 0
    assert "ships no style networks" in capsys.readouterr().out
    with pytest.raises(ValueError, match="none in this installation"):
        load_network("four-styles")


@pytest.mark.parametrize("net", shipped.shipped_networks(), ids=lambda n: n.name)
def test_every_network_this_checkout_ships_loads_and_carries_its_provenance(net):
    for key in ("styles", "command", "steps", "cpu minutes", "machine", "loss network", "licence"):
        assert net.provenance.get(key), key
    assert "CC BY 4.0" in net.provenance["licence"] and shipped.LABEL in net.provenance["loss network"]
    loaded = load_network(net.name)
    assert list(loaded.styles) == net.styles and shipped.LABEL in trained_with(loaded.meta)
    assert "training" not in torch.load(net.path, weights_only=True)  # the network only: small
    assert net.path.stat().st_size < 2_000_000
