"""The exported network against PyTorch's (deploy/compare.py, notebook 08, section 7): ONNX Runtime gives the
network's picture."""

from __future__ import annotations

import pytest
import torch

import tutorial_style as ts
from tutorial_style.deploy.compare import onnx_comparison


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


def tiny():
    torch.manual_seed(0)
    return ts.StyleNetwork(width=0.25, blocks=1)


def test_onnx_runtime_gives_the_networks_picture(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    result = onnx_comparison(tiny(), tmp_path / "net.onnx", [rand(1, 3, 24, 40), rand(1, 3, 33, 17)], min_run_time=0.01)
    assert [shape for shape, *_ in result.rows] == [(24, 40), (33, 17)]
    assert all(difference < 1e-4 for _, difference, _, _ in result.rows) and result.megabytes > 0
