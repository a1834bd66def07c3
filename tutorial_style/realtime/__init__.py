"""Real time: a network trained once per style, then one forward pass per image (Johnson, Alahi & Fei-Fei 2016).

The paper's method optimises every new image from scratch, hundreds of passes through VGG19, too slow for video or
phones. Here a feed-forward network learns to do the optimisation's job, trained with the paper's own loss:

``network.py``: :class:`StyleNetwork`, Johnson et al.'s image transformation network with instance normalisation.
``checkpoint.py``: a trained network on disk, with what made it (:func:`load_network`).
``data.py``: the training photos (bundled, installed packages' or a folder), random crops, a DataLoader.
``train.py``: :func:`train_network`, the paper's loss (``objective.py``) minimised over the network's weights.
``stylize.py``: a trained network applied to images and folders of images (:func:`stylize_images`).
``video.py``: ... and to the frames of a video (:func:`stylize_video`; needs PyAV).
``export.py``: a trained network as an ONNX model for phones and other devices (:func:`export_onnx`; needs onnx).
``optional.py``: those optional packages, imported when needed (``pip install -e ".[realtime]"`` in the tutorial's folder).
``quantize.py``: an exported model with int8 convolutions (:func:`~tutorial_style.realtime.quantize.quantize_int8`).
``web/``: the web page that runs a network on the camera in the browser (``python -m tutorial_style web``).
"""

from .checkpoint import CheckpointError, load_checkpoint, load_network, save_checkpoint
from .data import held_out_photos, training_photos
from .export import ExportError, export_onnx
from .network import StyleNetwork
from .optional import MissingPackageError
from .stylize import stylize_folder, stylize_images, trained_with
from .train import History, train_network
from .video import VideoError, stylize_video

__all__ = [
    "StyleNetwork", "load_network", "load_checkpoint", "save_checkpoint", "CheckpointError", "train_network", "History",
    "held_out_photos", "training_photos",
]  # fmt: skip
__all__ += ["stylize_images", "stylize_folder", "stylize_video", "export_onnx", "trained_with", "VideoError", "ExportError",
            "MissingPackageError"]  # fmt: skip
