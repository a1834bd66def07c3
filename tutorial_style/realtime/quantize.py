"""Int8 static quantisation of an exported network, with ONNX Runtime's own tools.

Static quantisation stores each convolution's weights as 8-bit integers (a scale per output channel) and measures,
on a few calibration photos, the range of the activations that enter each convolution, so that they are rounded to
8 bits at run time too. The model is about four times smaller; whether it is faster depends on the runtime's int8
kernels (benchmarks/web.py measures it in the browser, docs/performance.md has the numbers). Only the convolutions
are quantised: instance normalisation, the sigmoid and the padding stay in float32, where 8 bits would visibly
band the image.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..files import atomic_write
from .data import default_photos
from .optional import require

__all__ = ["quantize_int8", "calibration_images"]

CALIBRATION_SIZE = 128
"""The calibration photos' longer side: activations' ranges hardly depend on the size."""


def calibration_images(size: int = CALIBRATION_SIZE, count: int = 8) -> list[np.ndarray]:
    """``count`` of the default photos (bundled first) as float32 arrays (1, 3, H, W) in [0, 1], longer side ``size``."""
    from ..images import load_image

    return [load_image(path, size=size).numpy().astype(np.float32) for path in list(default_photos().values())[:count]]


def quantize_int8(model: str | os.PathLike, target: str | os.PathLike, *, images: list[np.ndarray] | None = None) -> Path:
    """Write an int8 copy of the ONNX ``model`` to ``target`` (QDQ format: weights int8 per channel, activations uint8),
    calibrated on ``images`` (default :func:`calibration_images`); returns ``target``. Written atomically."""
    quantization = require("onnxruntime.quantization", "int8 quantisation", pip="onnxruntime")
    images = calibration_images() if images is None else images

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self.items = iter(images)

        def get_next(self):
            image = next(self.items, None)
            return None if image is None else {"images": image}

    with tempfile.TemporaryDirectory(prefix="quantize-") as tmp:
        out = Path(tmp, "int8.onnx")
        quantization.quantize_static(
            str(model), str(out), Reader(), quant_format=quantization.QuantFormat.QDQ, op_types_to_quantize=["Conv"],
            per_channel=True, activation_type=quantization.QuantType.QUInt8, weight_type=quantization.QuantType.QInt8,
        )  # fmt: skip
        with atomic_write(target) as f:
            f.write(out.read_bytes())
    return Path(target)
