"""What comes after the 2016 paper: controls over the result, each a part added to the objective or to the images.

``tv.py``: a total-variation prior that smooths the result. The same authors' 2017 follow-up (Gatys, Ecker,
Bethge, Hertzmann & Shechtman, *Controlling Perceptual Factors in Neural Style Transfer*, CVPR 2017) adds control
over colour (``colour.py``: luminance-only transfer, colour histogram matching), space (``masks.py``: guided Gram
matrices, one style per region) and several styles (``blend.py``: blended Gram matrices). Each is a setting or an
argument of ``stylize``. Its control over scale is built on the optimisation itself, so it lives above it:
coarse-to-fine is ``stylize(sizes=...)``, mixing the scales of two artworks ``tutorial_style.scale.mix_scales``.
This package holds only loss terms and image transforms, and imports nothing that runs an optimisation.
"""

from .blend import blend_grams
from .colour import luminance, match_color, match_luminance, rgb_to_yiq, yiq_to_rgb
from .masks import GuidedStyleTerm, guided_gram_matrix, load_mask, normalise_mask, propagate_mask
from .tv import TVTerm, tv_loss

__all__ = [
    "tv_loss",
    "TVTerm",
    "rgb_to_yiq",
    "yiq_to_rgb",
    "luminance",
    "match_luminance",
    "match_color",
    "propagate_mask",
    "normalise_mask",
    "guided_gram_matrix",
    "GuidedStyleTerm",
    "load_mask",
    "blend_grams",
]
