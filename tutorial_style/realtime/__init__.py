"""Real time: a network trained once per style, then one forward pass per image (Johnson, Alahi & Fei-Fei 2016).

The paper's method optimises every new image from scratch, hundreds of passes through VGG19, too slow for video or
phones. Here a feed-forward network learns to do the optimisation's job, trained with the paper's own loss:

``network.py``: :class:`StyleNetwork`, Johnson et al.'s image transformation network with instance normalisation.
``checkpoint.py``: a trained network on disk, with what made it (:func:`load_network`).
"""

from .checkpoint import CheckpointError, load_checkpoint, load_network, save_checkpoint
from .network import StyleNetwork

__all__ = ["StyleNetwork", "load_network", "load_checkpoint", "save_checkpoint", "CheckpointError"]
