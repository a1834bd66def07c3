"""The defects a review and a new user's first hour found (issue 21): each test here failed before its fix.

Random weights and tiny sizes throughout, as everywhere in the tests.
"""

from __future__ import annotations

import pytest
import torch

import tutorial_style as ts
from tutorial_style.realtime import CheckpointError, StyleNetwork, VideoError, load_network, stylize_video
from tutorial_style.weights import WeightsError, load_weights


# --- One check of input files (weights, checkpoints, videos) --------------------------------------------------------


def _bad_input(tmp_path, kind: str):
    if kind == "missing":
        return tmp_path / "missing.bin"
    if kind == "folder":
        (tmp_path / "folder.bin").mkdir()
        return tmp_path / "folder.bin"
    (tmp_path / "empty.bin").write_bytes(b"")
    return tmp_path / "empty.bin"


READERS = {
    "weights file": (lambda path: load_weights(str(path)), WeightsError),
    "checkpoint": (lambda path: load_network(path), CheckpointError),
    "video": (lambda path: stylize_video(StyleNetwork(width=0.25, blocks=1), path, path.parent / "out.mp4", progress=False), VideoError),
}


@pytest.mark.parametrize("kind, why", [("missing", "no such file"), ("folder", "is a folder, not a file"), ("empty", "is empty (0 bytes)")])
@pytest.mark.parametrize("what", list(READERS))
def test_weights_checkpoints_and_videos_are_checked_alike(tmp_path, what, kind, why):
    if what == "video":
        pytest.importorskip("av")
    path = _bad_input(tmp_path, kind)
    read, error = READERS[what]
    with pytest.raises(error) as raised:
        read(path)
    assert str(raised.value).startswith(f"{what} {str(path)!r}: {why}"), str(raised.value)
    assert "\n" not in str(raised.value)


class Photos(torch.utils.data.Dataset):
    """``n`` photos of 32 x 32 px, a caller's own Dataset (used as it is)."""

    def __init__(self, n: int = 2):
        names = ["astronaut", "rocket", "camera", "coffee"][:n]
        self.images = [torch.nn.functional.interpolate(ts.load_image(name, size=32), size=(32, 32))[0] for name in names]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


# --- The style network's convolutions before instance normalisation have no bias ---------------------------------


def _conv_norm_pairs(network: torch.nn.Module):
    """(convolution, instance norm) for every convolution that an instance normalisation directly follows."""
    for module in network.modules():
        children = list(module.children()) if isinstance(module, torch.nn.Sequential) else []
        for a, b in zip(children, children[1:]):
            if isinstance(a, torch.nn.Conv2d) and isinstance(b, torch.nn.InstanceNorm2d):
                yield a, b


def test_the_convolutions_before_instance_norm_have_no_bias():
    net = StyleNetwork(width=0.25, blocks=2)
    pairs = list(_conv_norm_pairs(net))
    assert len(pairs) == 3 + 2 * 2 + 2  # down, two per residual block, up
    assert all(conv.bias is None for conv, _ in pairs)
    assert net.out.bias is not None  # the last convolution has no normalisation after it: it keeps its bias


def _with_old_biases(net: StyleNetwork) -> StyleNetwork:
    """``net`` as networks were before: a (no-op) bias on each convolution before an instance normalisation."""
    generator = torch.Generator().manual_seed(3)
    for conv, _ in _conv_norm_pairs(net):
        conv.bias = torch.nn.Parameter(torch.randn(conv.out_channels, generator=generator))  # in the old slot, after weight
    return net


def test_an_old_checkpoint_with_those_biases_still_loads_and_resumes(tmp_path):
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
