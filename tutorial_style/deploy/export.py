"""A trained network as an ONNX model, for phones, browsers and other weak devices.

ONNX is a file format for networks that many runtimes read (ONNX Runtime on phones and in browsers, TensorRT,
OpenVINO, Core ML's converters). :func:`export_onnx` writes one whose batch, height and width are dynamic: one file
stylises images of any size, as the PyTorch network does.

It uses PyTorch's ``torch.export``-based exporter (``torch.onnx.export(..., dynamo=True)``, which needs the
``onnxscript`` package): it records the network's arithmetic on the image size symbolically, so the padding to a
multiple of 4 that ``StyleNetwork.forward`` computes from the size is exported as a computation, not as the
numbers of one example. The example image it traces has an odd size on purpose: for a size that needs no padding
the exporter would drop the padding from the model. After writing, the model is checked with ONNX Runtime against
PyTorch at sizes that need padding and sizes that need none (``check=True``) before it is written, so a wrong export
fails here, not on a phone. (The exporter records what it assumed of the example's size, such as "it needs padding",
as run-time assertions that the ONNX model does not keep; the model's arithmetic holds for every size, which that
check confirms.)

A network of several styles (``StyleNetwork(..., styles=[...])``) is exported with a second input, ``mix`` (batch, N):
each image's style weights, normalised inside the model, so that a web page mixes the styles without exporting again.
The model clamps a negative weight to 0 and gives γ = β = 0 for a row of zeros (never NaN); PyTorch refuses both.
The styles' names are kept in the model's metadata (:data:`STYLES_KEY`, a JSON list; :func:`onnx_styles` reads them).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import warnings
from pathlib import Path

import torch

from ..files import atomic_write, prepare_output
from ..optional import require
from ..realtime.network import StyleNetwork

__all__ = ["ExportError", "export_onnx", "onnx_session", "onnx_styles", "run_onnx", "CHECK_SHAPES"]

INPUT, OUTPUT = "images", "stylised"
MIX = "mix"
"""The second input of a network of several styles: (batch, N) style weights, one row per image."""
STYLES_KEY = "tutorial_style.styles"
"""The model's metadata entry (``metadata_props``) with a network of several styles' names, as a JSON list."""
_EXAMPLE = (2, 3, 37, 53)  # odd height and width: both get padded (see the module's docstring); a batch of 2, not 1
CHECK_SHAPES = ((2, 3, 64, 48), (1, 3, 45, 31), (1, 3, 5, 3))
"""Shapes at which :func:`export_onnx` compares ONNX Runtime with PyTorch: no padding, padding, the smallest."""
_TOLERANCE = 1e-4  # outputs in [0, 1]; float32 rounding differences between the two are about 1e-6


class ExportError(ValueError):
    """A network could not be exported, or the exported model does not compute what the network does."""


def export_onnx(
    network: StyleNetwork,
    path: str | os.PathLike,
    *,
    opset: int | None = None,
    check: bool = True,
    progress: bool = False,
) -> Path:
    """Write ``network`` to ``path`` as an ONNX model with dynamic batch, height and width; returns the path.

    The model takes ``images`` (B, 3, H, W) float32 in [0, 1] and gives ``stylised``, the same shape, its axes named
    as the input's (``batch``, ``height``, ``width``); a network of several styles also takes ``mix`` (B, N) float32,
    each image's style weights (:data:`MIX`). ``opset``: the ONNX operator set (default: the exporter's).
    ``check``: run the written model with ONNX Runtime at :data:`CHECK_SHAPES` and raise :class:`ExportError`,
    writing nothing, if it differs from PyTorch. ``progress``: say on stderr what it is doing (the export takes
    tens of seconds). Written atomically.
    """
    require("onnxscript", "exporting to ONNX", pip="onnxscript")
    require("onnx", "exporting to ONNX", pip="onnx")
    if check:
        require(
            "onnxruntime",
            "checking the exported model (check=False, or --no-check on the command line, skips it)",
            pip="onnxruntime",
        )
    path = prepare_output(path)
    if path.suffix.lower() != ".onnx":
        raise ExportError(f"{str(path)!r}: an ONNX model's file name ends in .onnx")
    network = _cpu_copy(network)
    batch, height, width = (torch.export.Dim(name) for name in ("batch", "height", "width"))
    generator = torch.Generator().manual_seed(0)
    inputs, names, shapes = (torch.rand(_EXAMPLE, generator=generator),), [INPUT], ({0: batch, 2: height, 3: width},)
    if network.styles is not None:  # the mix's rows share the images' batch axis
        inputs += (torch.rand(_EXAMPLE[0], len(network.styles), generator=generator),)
        names, shapes = [INPUT, MIX], (*shapes, {0: batch})
    kwargs = {} if opset is None else {"opset_version": opset}
    _say(
        progress,
        "exporting: torch.export records the network's arithmetic for any image size (this takes up to a minute) ...",
    )
    try:
        with _quiet():
            program = torch.onnx.export(
                network,
                inputs,
                dynamo=True,
                input_names=names,
                output_names=[OUTPUT],
                dynamic_shapes=shapes,
                verbose=False,
                **kwargs,
            )
        model = program.model_proto
        _name_output_axes(model)
        if network.styles is not None:  # the names go with the model: a web page labels its sliders with them
            model.metadata_props.add(key=STYLES_KEY, value=json.dumps(list(network.styles)))
        data = model.SerializeToString()
    except Exception as e:  # the exporter's many failure types; the first line says what went wrong
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"exporting the network to ONNX failed ({type(e).__name__}: {first})") from None
    if check:  # before writing: a wrong model never reaches the disk
        sizes = f"{len(CHECK_SHAPES)} image sizes" + (" and style mixes" if network.styles is not None else "")
        _say(progress, f"checking the model with ONNX Runtime against PyTorch at {sizes} ...")
        check_onnx(data, network)
    with atomic_write(path) as f:
        f.write(data)
    return path


def _name_output_axes(model) -> None:
    """The output has the input's shape: name its free axes as the input's are. (The exporter writes out the
    arithmetic that gives them, the padding to a multiple of 4 and the crop back, e.g. ``Min(height, 4*(...))``.)"""
    names = [dim.dim_param for dim in model.graph.input[0].type.tensor_type.shape.dim]
    for dim, name in zip(model.graph.output[0].type.tensor_type.shape.dim, names):
        if name:
            dim.dim_param = name


def onnx_styles(session) -> list[str] | None:
    """The style names an ONNX Runtime ``session``'s model stores (:data:`STYLES_KEY`, written by
    :func:`export_onnx`); None when it stores none (a model of one style, or one exported elsewhere)."""
    text = session.get_modelmeta().custom_metadata_map.get(STYLES_KEY)
    try:
        names = json.loads(text) if text else None
    except ValueError:
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _say(progress: bool, line: str) -> None:
    if progress:
        print(line, file=sys.stderr, flush=True)


def check_onnx(model: str | os.PathLike | bytes, network: StyleNetwork, shapes=CHECK_SHAPES, mix=None) -> float:
    """The largest difference between the ONNX ``model`` (a file, or its bytes), run by ONNX Runtime, and ``network``
    over random images of ``shapes``; :class:`ExportError` if it fails or differs by more than float32 rounding.

    A network of several styles is compared with ``mix`` ((N,) or (B, N)) at every shape, or by default with a random
    mix per image and then with each style alone (N images of the shape's size, one-hot rows)."""
    session = onnx_session(model)
    worst = 0.0
    network = _cpu_copy(network)
    generator = torch.Generator().manual_seed(1)
    for shape in shapes:
        for images, weights in _check_inputs(network, shape, mix, generator):
            with torch.inference_mode():
                expected = network(images, weights) if weights is not None else network(images)
            where = f"images of shape {tuple(images.shape)}" + ("" if weights is None else f" and mix {_rows(weights)}")
            try:
                got = run_onnx(session, images, weights)
            except Exception as e:
                raise ExportError(f"the exported model fails on {where} in ONNX Runtime ({_first(e)})") from None
            if got.shape != expected.shape or not torch.allclose(got, expected, atol=_TOLERANCE, rtol=0):
                same = got.shape == expected.shape
                by = f"by up to {(got - expected).abs().max().item():.3g}" if same else f"shape {tuple(got.shape)}"
                raise ExportError(f"the ONNX model differs from the network on {where} ({by})")
            worst = max(worst, (got - expected).abs().max().item())
    return worst


def _check_inputs(network: StyleNetwork, shape, mix, generator: torch.Generator) -> list:
    """The (images, mix) :func:`check_onnx` tries at one shape: mix None for one style; ``mix``; or a random mix,
    then every style alone."""
    images = torch.rand(shape, generator=generator)
    if network.styles is None:
        if mix is not None:
            raise ExportError("mix: this network has one style and takes no mix")
        return [(images, None)]
    if mix is not None:
        return [(images, torch.as_tensor(mix, dtype=torch.float32))]
    n = len(network.styles)
    each_alone = torch.rand((n, *shape[1:]), generator=generator), torch.eye(n)
    return [(images, torch.rand(shape[0], n, generator=generator)), each_alone]


def _rows(mix: torch.Tensor) -> str:
    return str([[round(w, 3) for w in row] for row in mix.reshape(-1, mix.shape[-1]).tolist()])


def onnx_session(model: str | os.PathLike | bytes, threads: int | None = None):
    """An ONNX Runtime session on the CPU for the ONNX ``model`` (a file, or its bytes); ``threads``: intra-op
    threads (default ONNX Runtime's choice)."""
    ort = require("onnxruntime", "running an ONNX model", pip="onnxruntime")
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise here
    source = model if isinstance(model, bytes) else str(model)
    try:
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as e:
        name = "the exported model" if isinstance(model, bytes) else repr(str(model))
        raise ExportError(f"{name}: ONNX Runtime cannot load it ({_first(e)})") from None


def run_onnx(session, images: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
    """``images`` (B, 3, H, W) in [0, 1] through an ONNX Runtime ``session``: the stylised images, as a tensor.

    ``mix``: for a model of several styles, the style weights, (N,) for every image or (B, N) (``StyleNetwork.mix_for``
    gives one); it may be left out for a model of one style."""
    array = images.detach().to("cpu", torch.float32).contiguous().numpy()
    feed = {INPUT: array}
    inputs = {i.name: i for i in session.get_inputs()}
    if MIX in inputs:
        n = inputs[MIX].shape[1]
        weights = torch.ones(n) if mix is None and n == 1 else mix
        if weights is None:
            raise ValueError(f"mix: this model holds {n} styles; pass their weights, shape ({n},) or (B, {n})")
        weights, batch = torch.as_tensor(weights).detach().to("cpu", torch.float32), len(array)
        rows_fit = weights.dim() != 2 or weights.shape[0] in (1, batch)
        if weights.dim() not in (1, 2) or weights.shape[-1] != n or not rows_fit:
            raise ValueError(f"mix must have shape ({n},) or (B, {n}) for {batch} images, got {tuple(weights.shape)}")
        feed[MIX] = weights.reshape(-1, n).expand(batch, n).contiguous().numpy()
    elif mix is not None:
        raise ValueError("mix: this model has one style and takes no mix")
    return torch.from_numpy(session.run([OUTPUT], feed)[0])


def _cpu_copy(network: StyleNetwork) -> StyleNetwork:
    """The network on the CPU in eval mode, without moving or switching the caller's."""
    if not isinstance(network, StyleNetwork):
        raise ExportError(f"export_onnx takes a StyleNetwork (see load_network), not {type(network).__name__}")
    copy = StyleNetwork(**network.config)
    copy.load_state_dict({k: v.detach().to("cpu", torch.float32) for k, v in network.state_dict().items()})
    return copy.eval()


@contextlib.contextmanager
def _quiet():
    """The exporter's progress lines ("[torch.onnx] Run decompositions...") and warnings kept off the console."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _first(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
