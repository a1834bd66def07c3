"""The exported network against PyTorch's: the same picture, and the time of each on the CPU (notebook 08, sec. 7)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Sequence

import torch

from ..realtime.compare import median_seconds
from ..realtime.network import StyleNetwork
from .export import export_onnx, onnx_session, run_onnx

__all__ = ["OnnxComparison", "onnx_comparison"]


@dataclass(frozen=True)
class OnnxComparison:
    """The network exported to ``path`` and run by ONNX Runtime on the CPU, against PyTorch on the same images:
    the largest pixel difference and the milliseconds per image of each (medians), per image size."""

    path: str
    megabytes: float
    rows: list[tuple[tuple[int, int], float, float, float]]  # (H, W), largest difference, PyTorch ms, ONNX Runtime ms


def onnx_comparison(
    network: StyleNetwork, path, images: Sequence[torch.Tensor], min_run_time: float = 0.2
) -> OnnxComparison:
    """Export ``network`` (:func:`~tutorial_style.deploy.export.export_onnx`, which checks the file) and run it with
    ONNX Runtime on ``images`` (of different sizes: the model takes any), timing both runtimes on the CPU for at least
    ``min_run_time`` seconds each."""
    network = copy.deepcopy(network).cpu().eval()
    export_onnx(network, path)
    session = onnx_session(path)
    rows = []
    for image in images:
        x = image.cpu()
        with torch.no_grad():
            difference = float((network(x) - run_onnx(session, x)).abs().max())
            torch_ms = 1000 * median_seconds(lambda: network(x), min_run_time)
            onnx_ms = 1000 * median_seconds(lambda: run_onnx(session, x), min_run_time)
        rows.append((tuple(x.shape[-2:]), difference, torch_ms, onnx_ms))
    return OnnxComparison(str(path), os.path.getsize(path) / 1e6, rows)
