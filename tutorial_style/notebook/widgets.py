"""Every ready-made control panel, by notebook: ``from tutorial_style.notebook import widgets`` gives them all
(notebook 07's are in ``controls.py``).

A panel is one function call, so a notebook cell is one line (see ``panels.py`` for what they share).
"""

from .controls import READY_MASKS, blend_panel, coarse_to_fine_panel, colour_panel, ready_mask, region_panel
from .explorers import layer_explorer, tradeoff_explorer
from .features import feature_map_browser, receptive_field_viewer
from .panels import Banner, LiveLossPlot, LivePreview, LiveView, Panel, figure_png, png_bytes, setup_banner, weights_tag
from .reconstruct import content_reconstruction_panel, gram_viewer, growing_style_sets, style_reconstruction_panel
from .studio import studio

__all__ = [
    # every notebook
    "setup_banner", "Banner", "weights_tag", "Panel", "LivePreview", "LiveLossPlot", "LiveView", "png_bytes", "figure_png",
    # 01, 02
    "receptive_field_viewer", "feature_map_browser",
    # 03, 04
    "content_reconstruction_panel", "style_reconstruction_panel", "growing_style_sets", "gram_viewer",
    # 05, 06
    "studio", "tradeoff_explorer", "layer_explorer",
    # 07
    "colour_panel", "region_panel", "ready_mask", "READY_MASKS", "blend_panel", "coarse_to_fine_panel",
]  # fmt: skip
