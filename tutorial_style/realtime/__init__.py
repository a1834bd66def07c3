"""Real time: a network trained once per style, then one forward pass per image (Johnson, Alahi & Fei-Fei 2016).

The paper's method optimises every new image from scratch, hundreds of passes through VGG19, too slow for video or
phones. Here a feed-forward network learns to do the optimisation's job, trained with the paper's own loss:

``network.py``: :class:`StyleNetwork`, Johnson et al.'s image transformation network with instance normalisation.
``data.py``: the training photos (bundled, installed packages' or a folder), random crops, a DataLoader.
``config.py``: :class:`TrainingSettings`, a training's settings, validated once; what a resume keeps is marked on them.
``train.py``: :func:`train_network`, the paper's loss (``objective.py``) minimised over the network's weights.
``resume.py``: a training continued from its checkpoint, and the checks that it is the same training.
``checkpoint.py``: a trained network on disk, with what made it (:func:`load_network`).
``stylize.py``: a trained network applied to images, folders of photos and videos.

What a trained network is used for lives beside this package: ``deploy/`` (ONNX, int8, the web page) and
``video/`` (video files, flicker measured and reduced, the temporal term).
"""

from .checkpoint import CheckpointError, load_checkpoint, load_network, save_checkpoint
from .config import TrainingSettings
from .data import held_out_photos, training_photos
from .network import StyleNetwork
from .stylize import stylize_folder, stylize_images, stylize_video, trained_with
from .train import History, train_network

__all__ = [
    "StyleNetwork",
    "load_network",
    "load_checkpoint",
    "save_checkpoint",
    "CheckpointError",
    "train_network",
    "History",
    "TrainingSettings",
    "held_out_photos",
    "training_photos",
    "stylize_images",
    "stylize_folder",
    "stylize_video",
    "trained_with",
]
