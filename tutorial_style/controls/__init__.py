"""What comes after the 2016 paper: controls over the result, each a part added to the objective or to the images.

``tv.py``: a total-variation prior that smooths the result. The same authors' 2017 follow-up (Gatys, Ecker,
Bethge, Hertzmann & Shechtman, *Controlling Perceptual Factors in Neural Style Transfer*, CVPR 2017) adds control
over colour, space and scale.
"""

from .tv import TVTerm, tv_loss

__all__ = ["tv_loss", "TVTerm"]
