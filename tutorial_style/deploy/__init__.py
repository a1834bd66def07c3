"""A trained style network taken where people use it: phones, browsers, other runtimes.

``export.py``: the network as an ONNX model (:func:`export_onnx`; needs onnx).
``quantize.py``: an exported model with int8 convolutions (:func:`quantize_int8`; needs onnxruntime).
``web/``: the web page that runs a network on the camera in the browser (``python -m tutorial_style web``).
"""

from .export import ExportError, export_onnx

__all__ = ["export_onnx", "ExportError"]
