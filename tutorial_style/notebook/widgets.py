"""Every ready-made control panel: ``from tutorial_style.notebook import widgets`` gives them all.

A panel is one function call, so a notebook cell is one line (``panels.py`` says what every panel shares).
"""

from .features import feature_map_browser, receptive_field_viewer
from .nb05_style_transfer import studio
from .nb06_tradeoff_and_layers import layer_explorer, tradeoff_explorer
from .nb07_controls import READY_MASKS, blend_panel, coarse_to_fine_panel, colour_panel, ready_mask, region_panel
from .nb08_real_time import stylize_panel
from .nb08_training_panel import training_panel
from .panels import Banner, LiveLossPlot, LivePreview, LiveView, Panel, figure_png, png_bytes, setup_banner, weights_tag
from .reconstruct import content_reconstruction_panel, gram_viewer, growing_style_sets, style_reconstruction_panel

__all__ = [
    "setup_banner",
    "Banner",
    "weights_tag",
    "Panel",
    "LivePreview",
    "LiveLossPlot",
    "LiveView",
    "png_bytes",
    "figure_png",
    "receptive_field_viewer",
    "feature_map_browser",
    "content_reconstruction_panel",
    "style_reconstruction_panel",
    "growing_style_sets",
    "gram_viewer",
    "studio",
    "tradeoff_explorer",
    "layer_explorer",
    "colour_panel",
    "region_panel",
    "ready_mask",
    "READY_MASKS",
    "blend_panel",
    "coarse_to_fine_panel",
    "training_panel",
    "stylize_panel",
]
