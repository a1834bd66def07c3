"""Int8 static quantisation of an exported network, with ONNX Runtime's own tools.

Static quantisation stores each convolution's weights as 8-bit integers (a scale per output channel) and measures,
on a few calibration photos, the range of the activations that enter each convolution, so that they are rounded to
8 bits at run time too. The weights take a quarter of the space, so the default network's file shrinks from 2.0 to
0.7 MB; the slim one's from 0.41 to 0.33 MB (its few weights were a small part of the file). Whether it is faster
depends on the runtime's int8 kernels: measured in the browser by benchmarks/web.py, it is no faster, and slower for the
slim network (docs/performance.md). Only the convolutions
are quantised: instance normalisation, the sigmoid and the padding stay in float32, where 8 bits would visibly
band the image.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from ..files import atomic_write
from ..optional import require
from ..realtime.data import default_photos

__all__ = ["quantize_int8", "calibration_images"]

CALIBRATION_SIZE = 128
"""The calibration photos' longer side: activations' ranges hardly depend on the size."""


def calibration_images(size: int = CALIBRATION_SIZE, count: int = 8) -> list[np.ndarray]:
    """``count`` of the default photos (bundled first) as float32 arrays (1, 3, H, W) in [0, 1], longer side
    ``size``."""
    from ..images import load_image

    return [load_image(path, size=size).numpy().astype(np.float32) for path in list(default_photos().values())[:count]]


def quantize_int8(
    model: str | os.PathLike, target: str | os.PathLike, *, images: list[np.ndarray] | None = None
) -> Path:
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

    with tempfile.TemporaryDirectory(prefix="quantize-") as tmp, _quiet_logging():
        source, out = Path(tmp, "prepared.onnx"), Path(tmp, "int8.onnx")
        try:  # ONNX Runtime's recommended first step: shapes inferred, the graph simplified
            from onnxruntime.quantization.shape_inference import quant_pre_process

            quant_pre_process(str(model), str(source))
        except Exception:  # noqa: BLE001 - an optional step: quantise the model as it is
            source = Path(model)
        quantization.quantize_static(
            str(source),
            str(out),
            Reader(),
            quant_format=quantization.QuantFormat.QDQ,
            op_types_to_quantize=["Conv"],
            per_channel=True,
            activation_type=quantization.QuantType.QUInt8,
            weight_type=quantization.QuantType.QInt8,
        )
        with atomic_write(target) as f:
            f.write(out.read_bytes())
    return Path(target)


@contextlib.contextmanager
def _quiet_logging():
    """ONNX Runtime's quantisation tools log advice and shape-inference doubts as warnings: kept off the console."""
    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR
    try:
        yield
    finally:
        root.setLevel(level)
