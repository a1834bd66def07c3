"""int8 convolutions (deploy/quantize.py): a smaller model that stylises like the float one."""

import numpy as np
import pytest
import torch

from tutorial_style.realtime import StyleNetwork


def test_int8_quantisation_makes_a_smaller_model_that_stylises_like_the_float_one(tmp_path):
    pytest.importorskip("onnxruntime")
    from tutorial_style.deploy.export import export_onnx, onnx_session
    from tutorial_style.deploy.quantize import calibration_images, quantize_int8

    torch.manual_seed(0)
    fp32 = export_onnx(StyleNetwork(width=0.5, blocks=1), tmp_path / "net.onnx")
    int8 = quantize_int8(fp32, tmp_path / "int8.onnx", images=calibration_images(size=48, count=3))
    assert int8.stat().st_size * 2 < fp32.stat().st_size
    image = calibration_images(size=40, count=1)[0]
    a = onnx_session(fp32).run(None, {"images": image})[0]
    b = onnx_session(int8).run(None, {"images": image})[0]
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < 0.05  # near the float model (outputs in [0, 1]), not equal: 8 bits round
    assert sorted(p.name for p in tmp_path.iterdir()) == ["int8.onnx", "net.onnx"]
