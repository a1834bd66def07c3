"""tutorial_style: Gatys, Ecker & Bethge, *Image Style Transfer Using Convolutional Neural Networks* (CVPR 2016),
as a small library for the tutorial notebooks.

One module per concept, each named after what it is in the paper: ``layers`` (VGG19's layer names, the one
table), ``weights`` (where weights come from), ``normalization`` (the paper's normalised network), ``vgg`` (the
feature extractor), ``gram`` (eq. 3), ``losses`` (eqs. 1, 4, 5), ``objective`` (eq. 7, composed once),
``settings`` (one run's settings, validated once), ``lbfgs`` (the batched optimiser), ``optimize`` (the
algorithm), ``controls`` (what the 2017 follow-up adds: colour, masks, several styles; and total
variation), ``scale`` (its scale control, built on the algorithm), ``realtime`` (what came next: a network
trained once per style, one forward pass per image), ``deploy`` (that network as ONNX, int8 and a web page),
``video`` (video files, flicker measured and reduced, the temporal term), ``tradeoff`` (notebook 06's grid),
``cost`` (time and memory estimates), ``images`` and ``files``, ``cli`` (the command line). Notebook support
(widgets, plots, exercise checks) lives in ``tutorial_style.notebook`` and is imported only when a notebook asks
for it.
"""

from .controls import (
    guided_gram_matrix,
    luminance,
    match_color,
    match_luminance,
    propagate_mask,
    rgb_to_yiq,
    tv_loss,
    yiq_to_rgb,
)
from .cost import SizeWarning, estimate_cost
from .gram import gram_matrix
from .images import ImageError, bundled_images, load_image, save_image
from .layers import LAYER_INFO, LAYERS, PAPER_CONTENT_LAYERS, PAPER_STYLE_LAYERS
from .losses import content_loss, style_layer_loss, style_loss
from .objective import Objective
from .optimize import StyleTransferResult, minimize, reconstruct_content, reconstruct_style, stylize
from .realtime import CheckpointError, StyleNetwork, load_network, train_network
from .scale import mix_scales
from .settings import PRESETS, Settings, default_alpha
from .vgg import VGG19Features, default_device, get_vgg
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
    "Objective",
    "tv_loss",
    "rgb_to_yiq",
    "yiq_to_rgb",
    "luminance",
    "match_luminance",
    "match_color",
    "propagate_mask",
    "guided_gram_matrix",
    "mix_scales",
    "Settings",
    "stylize",
    "reconstruct_content",
    "reconstruct_style",
    "minimize",
    "StyleTransferResult",
    "SizeWarning",
    "estimate_cost",
    "default_device",
    "get_vgg",
    "PRESETS",
    "default_alpha",
    "StyleNetwork",
    "load_network",
    "train_network",
    "CheckpointError",
]
