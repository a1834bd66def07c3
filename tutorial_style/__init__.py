"""tutorial_style: Gatys, Ecker & Bethge, *Image Style Transfer Using Convolutional Neural Networks* (CVPR 2016),
as a small library for the tutorial notebooks.

One module per concept: ``images`` (loading/saving), ``vgg`` (layer names and the feature extractor),
``weights`` (where weights come from), ``normalization`` (the paper's normalised network), ``gram``
(eq. 3), ``losses`` (eqs. 1, 4, 5), ``lbfgs`` (the batched optimiser), ``optimize`` (the algorithm),
``cli`` (the command line).
"""

from .gram import gram_matrix
from .images import ImageError, bundled_images, load_image, save_image
from .losses import content_loss, style_layer_loss, style_loss
from .optimize import (
    PRESETS,
    SizeWarning,
    StyleTransferResult,
    default_device,
    estimate_cost,
    get_vgg,
    reconstruct_content,
    reconstruct_style,
    stylize,
)
from .vgg import LAYER_INFO, LAYERS, PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS, VGG19Features
from .weights import RandomWeightsWarning, WeightsError, WeightsUnavailableError, fetch_imagenet_weights, load_weights

__version__ = "0.1.0"

__all__ = [
    "LAYERS",
    "LAYER_INFO",
    "PAPER_CONTENT_LAYERS",
    "PAPER_STYLE_LAYERS",
    "VGG19Features",
    "load_weights",
    "fetch_imagenet_weights",
    "WeightsError",
    "WeightsUnavailableError",
    "RandomWeightsWarning",
    "load_image",
    "save_image",
    "bundled_images",
    "ImageError",
    "gram_matrix",
    "content_loss",
    "style_layer_loss",
    "style_loss",
    "stylize",
    "reconstruct_content",
    "reconstruct_style",
    "StyleTransferResult",
    "SizeWarning",
    "estimate_cost",
    "default_device",
    "get_vgg",
    "PRESETS",
]
