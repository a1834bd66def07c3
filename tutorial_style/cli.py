"""The command line: ``python -m tutorial_style COMMAND``.

Errors are one line on stderr and a non-zero exit code, never a traceback. Ctrl-C during ``stylize``
saves the best image so far and exits with 130; with ``--network`` it keeps the files already finished and no
half-written one (a video is written whole or not at all).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .controls.colour import COLOR_MODES
from .controls.masks import MASK_METHODS
from .layers import POOLINGS
from .settings import ADAM_LR, ALPHA_AT_512, INITS, OPTIMIZERS, PRECISIONS, PRESETS, Settings, default, default_alpha

__all__ = ["main", "build_parser"]

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
STYLIZE_SIZE = 256  # stylize's image size unless --size or --sizes says: the fast preset's size
# The stylize flags that are settings: left at None, they take the preset's value or Settings' default.
SETTING_FLAGS = (
    "steps", "alpha", "beta", "init", "optimizer", "lr", "pooling", "seed", "precision", "tv_weight", "preserve_colors",
    "style_blend", "mask_propagation", "sizes",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tutorial_style",
        description="Neural style transfer as in Gatys, Ecker & Bethge (CVPR 2016), and tools for the tutorial.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in (
        _stylize_command, _fetch_weights_command, _images_command, _precompute_command, _doctor_command,
        _train_command, _export_command, _web_command, _video_stats_command,
    ):  # fmt: skip
        add_command(commands)
    return parser


# One function per command: its flags, and the function that runs it (``run``).


def _stylize_command(commands) -> None:
    from .video.smoothing import BLEND_FOR_VIDEO

    p = commands.add_parser(
        "stylize", help="render CONTENT in the style of STYLE, or through a trained network (--network)",
        description="Without --network: the paper's method, an optimisation of the image (minutes). With --network NET.pt "
        "(a network trained with `train`): one pass through the network, no optimisation and no STYLE; CONTENT may then be "
        "an image, a folder of images (-o is an output folder) or a video (-o a video file; the sound is not copied).",
    )  # fmt: skip
    p.add_argument("content", help="content image: a file or a bundled name (see `images`); with --network also a folder or a video")
    p.add_argument("style", nargs="*", help="style image(s): files or bundled names; several are blended, or one per --mask region (not with --network)")
    p.add_argument("-o", "--output", required=True, help="where to write the result (.png or .jpg; with --network a folder for a folder, a video for a video)")
    p.add_argument("--network", metavar="NET.pt", default=None, help="a trained style network (`train` writes one): stylise in one pass, without STYLE")
    p.add_argument("--temporal-blend", type=float, default=None, metavar="S",
                   help="with --network and a video: blend each styled frame with the previous one along the input's motion, "
                        f"strength S in [0, 1) (default 0, off; {BLEND_FOR_VIDEO:g} for video, chosen on the test clips: "
                        "docs/performance.md): softer texture; needs OpenCV")  # fmt: skip
    p.add_argument("--size", type=int, default=None,
                   help=f"longer side of the result in pixels (default {STYLIZE_SIZE}, the paper used about 512; with --network: the photo's own size)")  # fmt: skip
    presets = "; ".join(f"{name}: {p['steps']} evaluations from {p['init']}" for name, p in PRESETS.items())
    p.add_argument("--preset", choices=list(PRESETS), default=None,
                   help=f"default fast, about a minute at {STYLIZE_SIZE} px on a laptop ({presets}); --steps and --init override it")  # fmt: skip
    p.add_argument("--steps", type=int, nargs="+", default=None, help="loss-and-gradient evaluations (default: the preset's); with --sizes, one per size")
    p.add_argument("--alpha", type=float, default=None, help=(
        f"content weight alpha (default: {ALPHA_AT_512:g} at 512 x 512 px, scaled with 1 / the pixel count, e.g. "
        f"{default_alpha(256, 256):g} at 256 px; settings.py says why not the paper's alpha/beta = 1e-3)"))
    p.add_argument("--beta", type=float, default=None, help=f"style weight beta (default {default('beta')})")
    p.add_argument("--init", choices=list(INITS), default=None, help="start image (default: the preset's)")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=None, help=f"default: {default('optimizer')}, the paper's")
    p.add_argument("--lr", type=float, default=None, help=f"Adam's learning rate (with --optimizer adam; default {ADAM_LR})")
    _add_weights_and_device(p)
    p.add_argument("--pooling", choices=list(POOLINGS), default=None, help=f"avg (the paper's) or max; default {default('pooling')}")
    p.add_argument("--seed", type=int, default=None, help=f"seed of the noise image (default {default('seed')})")
    p.add_argument("--precision", choices=list(PRECISIONS), default=None,
                   help="bf16 runs the convolutions in bfloat16: faster per step on CPUs and GPUs with bf16 units, but it ends at a "
                        "higher loss, and from the content image (the fast preset) it may return that image unchanged")  # fmt: skip
    # The controls of Gatys et al. 2017 (tutorial_style/controls/)
    p.add_argument("--preserve-colors", choices=list(COLOR_MODES), default=None,
                   help="keep the photo's colours: luminance (transfer the brightness only) or histogram (recolour the artwork first)")  # fmt: skip
    p.add_argument("--style-blend", type=float, nargs="+", metavar="W", default=None, help="weights of several STYLE images (default equal)")
    p.add_argument("--mask", action="extend", nargs="+", metavar="FILE", default=None,
                   help="one mask image per STYLE (white = the region of the photo that takes that style)")  # fmt: skip
    p.add_argument("--mask-propagation", choices=list(MASK_METHODS), default=None, help=f"how masks reach the layers (default {default('mask_propagation')})")
    p.add_argument("--sizes", type=int, nargs="+", metavar="PX", default=None,
                   help="coarse-to-fine: run at each size in turn (e.g. 256 512), each started from the previous result; replaces --size")  # fmt: skip
    p.add_argument("--tv-weight", type=float, default=None, help=f"weight of a total-variation prior (default {default('tv_weight'):g}; the paper has none)")
    p.set_defaults(run=_stylize)


def _fetch_weights_command(commands) -> None:
    p = commands.add_parser("fetch-weights", help="download the ImageNet VGG19 weights into the torch hub cache")
    p.add_argument("--slim", metavar="OUT", help="also write a features-only copy (about 80 MB) to OUT, to hand around")
    p.set_defaults(run=_fetch_weights)


def _images_command(commands) -> None:
    p = commands.add_parser("images", help="list the bundled images with their credits")
    p.set_defaults(run=_images)


def _precompute_command(commands) -> None:
    p = commands.add_parser(
        "precompute",
        help="compute notebook 06's trade-off grid into the cache ahead of a workshop",
        description="Compute the alpha/beta trade-off grid of notebook 06 into the tutorial's cache, so the "
        "notebook opens without computing anything. It asks for the same grid as the notebook: the paper's settings "
        f"(512 px, {PRESETS['paper']['steps']} steps, 5 x 5; hours on a CPU), or quick mode's small grid with --quick or "
        "TUTORIAL_STYLE_QUICK=1.",
    )
    p.add_argument("--content", default="astronaut", help="content image: a file or a bundled name (default astronaut, the notebook's)")
    p.add_argument("--style", default="mosaic", help="style image: a file or a bundled name (default mosaic, the notebook's)")
    p.add_argument("--quick", action="store_true", help="quick mode's small grid, as the notebook with TUTORIAL_STYLE_QUICK=1 (default: follow that variable)")
    p.add_argument("--size", type=int, default=None, help="longer side in pixels (default 512, or quick mode's)")
    p.add_argument("--steps", type=int, default=None, help=f"steps per row (default {PRESETS['paper']['steps']}, or quick mode's)")
    _add_weights_and_device(p)
    p.set_defaults(run=_precompute)


def _doctor_command(commands) -> None:
    p = commands.add_parser(
        "doctor",
        help="check that this machine is ready for the tutorial (a teacher runs it first)",
        description="Print a checklist: Python and package versions, the device, the ImageNet weights, the "
        "precomputed caches and the JupyterLab widget front-end; each failed check says how to fix it. "
        "Exits with 1 if an essential check failed.",
    )
    p.set_defaults(run=_doctor)


def _train_command(commands) -> None:
    from .realtime import train
    from .realtime.config import CONTENT_WEIGHT_AT_512_RELU2_2, PRESETS, TrainingSettings

    defaults = TrainingSettings()  # every default below is read from it
    p = commands.add_parser(
        "train",
        help="train a real-time style network for STYLE (Johnson et al. 2016)",
        description="Train a feed-forward network that renders any photo in the style of STYLE in one pass, with the "
        "paper's loss. Writes the network, with what made it and the training state, to OUTPUT every so often and at "
        "the end; Ctrl-C saves it and --resume continues. Runs unchanged under torchrun --nproc_per_node=K.",
    )
    p.add_argument("style", help="style image: a file or a bundled name (see `images`)")
    p.add_argument("-o", "--output", required=True, help="the network checkpoint to write (e.g. net.pt)")
    p.add_argument("--data", metavar="DIR", default=None, help="a folder of your photos, searched recursively (default: the bundled photos)")
    presets = "; ".join(f"{n}: {v['steps']} steps of {v['batch']} x {v['size']} px, width {v['width']}"
                        + (", separable (the web page's slim network)" if v.get("separable") else "") for n, v in PRESETS.items())
    p.add_argument("--preset", choices=list(PRESETS), default="cpu", help=f"default cpu, minutes on a laptop ({presets})")
    p.add_argument("--steps", type=int, default=None, help="training steps in all (default: the preset's); with --resume, the total to reach")
    p.add_argument("--size", type=int, default=None, help="side of the square training crops in pixels (default: the preset's)")
    p.add_argument("--batch", type=int, default=None, help="photos per step, per process (default: the preset's)")
    p.add_argument("--lr", type=float, default=None, help=f"Adam's learning rate (default {defaults.lr:g}, Johnson et al.'s)")
    content, size = ", ".join(defaults.content_layers), PRESETS["cpu"]["size"]
    p.add_argument("--alpha", type=float, default=None,
                   help=f"content weight alpha, on {content} (default {CONTENT_WEIGHT_AT_512_RELU2_2:g} x 512^2 / size^2: "
                   f"{defaults.alpha_for(size):.2g} at {size} px)")
    p.add_argument("--beta", type=float, default=None, help=f"style weight beta (default {defaults.beta:g})")
    p.add_argument("--tv-weight", type=float, default=None, help=f"total-variation weight (default {defaults.tv_weight:g})")
    p.add_argument("--temporal-weight", type=float, default=None,
                   help=f"weight of the temporal term against flicker in video (default {defaults.temporal_weight:g}: none; "
                   f"{train.TEMPORAL_WEIGHT_FOR_VIDEO:g} for a network meant for video, measured in docs/performance.md)")
    p.add_argument("--width", type=float, default=None, help="channel width of the network (default: the preset's; 1.0 is Johnson's)")
    p.add_argument("--blocks", type=int, default=None, help="residual blocks (default: the preset's; Johnson's 5)")
    p.add_argument("--seed", type=int, default=None, help=f"seed of the network's start, the photos' order and crops (default {defaults.seed})")
    p.add_argument("--checkpoint-every", type=int, default=None, help=f"steps between checkpoints (default {defaults.checkpoint_every})")
    p.add_argument("--resume", action="store_true",
                   help="continue training OUTPUT: its step count, optimiser state and settings (size and steps may change on "
                        "resume: --steps is the total to reach; the loss, learning rate, batch and seed stay the checkpoint's)")
    p.add_argument("--workers", type=int, default=None,
                   help=f"processes that decode the photos while the network trains (default {defaults.workers}: this one; on a "
                        "GPU several, e.g. 4)")  # fmt: skip
    _add_weights_and_device(p)
    p.set_defaults(run=_train)


def _add_weights_and_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default="auto", help="auto (default), imagenet, random, or a weights file")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")


def _given(args: argparse.Namespace, *names: str) -> dict:
    """The options among ``names`` that were given on the command line (their default is None)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as e:  # our errors (ImageError, WeightsError, ...) are ValueErrors
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line, like errors (no source line); random weights are already announced by weights.py."""
    if category.__name__ != "RandomWeightsWarning":
        print(f"warning: {message}", file=sys.stderr)


def _stylize(args) -> int:
    from .images import check_image_path, load_image, save_image
    from .optimize import stylize

    if args.network is not None:
        return _stylize_with_network(args)
    if args.temporal_blend is not None:
        raise ValueError("--temporal-blend blends the frames of a video styled by a trained network: use it with --network NET.pt")
    if not args.style:
        raise ValueError("stylize needs at least one STYLE image after CONTENT (or --network NET.pt, a trained network)")
    check_image_path(args.output)  # a bad output path fails now, not after minutes of work
    if args.steps is not None and len(args.steps) == 1:
        args.steps = args.steps[0]
    settings = Settings(**{**PRESETS[args.preset or "fast"], **_given(args, *SETTING_FLAGS)})  # checked before any work
    size = (STYLIZE_SIZE if args.size is None else args.size) if settings.sizes is None else settings.sizes[-1]
    content = load_image(args.content, size=size)
    style = [load_image(name, size=size) for name in args.style]
    style = style[0] if len(style) == 1 else style
    result = stylize(content, style, settings, content_masks=args.mask, weights=args.weights, device=args.device)
    save_image(result.image, args.output)
    where = f"{args.output} ({result.image.shape[-1]}x{result.image.shape[-2]} px, weights: {result.weights_label})"
    if result.interrupted:
        done = len(result.history)
        print(f"interrupted after {done} of {settings.total_steps} steps; saved the best image so far to {where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"saved {where}")
    if not result.weights.pretrained:
        print(_untrained_note(result, content, settings), file=sys.stderr)
    return 0


def _untrained_note(result, content, settings: Settings) -> str:
    """The last line of a run with random weights: what it did (from the photo: almost nothing), and the fix."""
    what = "a run with an untrained network's features, not a style transfer"
    if settings.init == "content" and result.image.shape[-2:] == content.shape[-2:]:
        change = float((result.image.cpu() - content.cpu()).abs().mean()) * 255
        what = f"the photo almost unchanged ({change:.1f}/255 on average): an untrained network sees no style to add"
    return (f"note: with {result.weights_label} the result is {what}. For a real style transfer use the ImageNet weights: "
            "python -m tutorial_style fetch-weights, or --weights FILE (a VGG19 weights file, see docs/weights.md)")  # fmt: skip


def _stylize_with_network(args) -> int:
    """``stylize CONTENT --network NET.pt -o OUT``: one pass through a trained network for an image, a folder, a video."""
    from .images import check_image_path, load_image, save_image
    from .realtime import load_network
    from .realtime.stylize import stylize_folder, stylize_images, trained_with
    from .video.smoothing import TemporalBlend
    from .realtime.stylize import stylize_video
    from .video.frames import check_video_path, is_video
    from .vgg import check_device

    if args.style:
        raise ValueError(f"with --network give no STYLE: the network learnt its style in training (got {' '.join(args.style)!r})")
    ignored = [f"--{n.replace('_', '-')}" for n in (*SETTING_FLAGS, "mask", "preset") if getattr(args, n) is not None]
    ignored += ["--weights"] if args.weights != "auto" else []
    if ignored:
        raise ValueError(f"{', '.join(ignored)}: option(s) of the optimisation, which --network does not run; leave them out")
    content, output, kind = Path(args.content), Path(args.output), "image"
    if content.is_dir():
        kind = "folder"
        if is_video(output) or output.suffix.lower() in (".png", ".jpg", ".jpeg"):
            raise ValueError(f"CONTENT {args.content!r} is a folder, so -o is the folder for the results, not {args.output!r}")
    elif is_video(content):
        kind = "video"
        if args.size is not None:
            raise ValueError("--size does not apply to a video: frames keep their size (resize the video first)")
        if args.temporal_blend is not None:
            TemporalBlend(args.temporal_blend, name="--temporal-blend")  # a bad strength, or no OpenCV, fails now
        check_video_path(output)
    else:
        check_image_path(output)  # a bad output path fails now, not after the work
    if args.temporal_blend is not None and kind != "video":
        raise ValueError(f"--temporal-blend applies to a video only (CONTENT {args.content!r} is {'a folder' if kind == 'folder' else 'an image'})")
    network = load_network(args.network, device=check_device(args.device))
    print(f"network {args.network} ({network.extra_repr()}), trained with {trained_with(getattr(network, 'meta', None))}")
    if kind == "image":
        image = stylize_images(network, load_image(args.content, size=args.size))
        save_image(image, output)
        print(f"saved {output} ({image.shape[-1]}x{image.shape[-2]} px)")
    elif kind == "folder":
        done = stylize_folder(network, content, output, size=args.size)
        for path, why in done.skipped:
            print(f"warning: skipped {path.name}: {why}", file=sys.stderr)
        if not done.written:
            raise ValueError(f"{args.content!r} holds no readable image ({len(done.skipped)} file(s) skipped)")
        print(f"saved {len(done.written)} image(s) in {output}; skipped {len(done.skipped)} file(s) that are not readable images")
    else:
        video = stylize_video(network, content, output, temporal_blend=args.temporal_blend or 0.0)
        notes = "; the sound track was not copied" if video.audio_dropped else ""
        notes += f"; frames blended along the motion, strength {args.temporal_blend:g}" if args.temporal_blend else ""
        print(f"saved {output} ({video.frames} frames, {video.width}x{video.height} px, {float(video.fps):.4g} frames/s, {video.codec}{notes})")
    return 0


def _fetch_weights(args) -> int:
    from .weights import fetch_imagenet_weights, save_slim_weights

    path = fetch_imagenet_weights()
    print(f"ImageNet VGG19 weights are in {path}")
    if args.slim:
        out = save_slim_weights("imagenet", args.slim)
        size = Path(out).stat().st_size / 1e6
        print(f"wrote the features-only copy {out} ({size:.0f} MB); use it with --weights {out} or TUTORIAL_STYLE_WEIGHTS={out}")
    return 0


def _images(args) -> int:
    from .images import bundled_images

    for image in bundled_images().values():
        print(f"{image.name:<10} {image.kind:<8} {image.title} - {image.author}, {image.licence} ({image.source})")
    return 0



def _train(args) -> int:
    import dataclasses
    import os

    from .files import prepare_output
    from .realtime import train
    from .realtime.config import TrainingSettings

    output = prepare_output(args.output)  # a bad output path fails now, not after the training
    if args.resume and not output.is_file():
        raise ValueError(f"--resume: {str(output)!r} does not exist; train it first (without --resume)")
    if not args.resume and output.exists():
        raise ValueError(f"{str(output)!r} already exists; pass --resume to continue training it, or choose another -o")
    given = _given(args, *(f.name for f in dataclasses.fields(TrainingSettings) if hasattr(args, f.name)))
    if args.resume:  # the checkpoint's network and settings are continued (its width and blocks too), unless asked otherwise
        recorded = {"steps": train.PRESETS[args.preset]["steps"], **train.recorded_options(output)}
        settings = TrainingSettings.of(None, **{**recorded, **given})
    else:
        settings = TrainingSettings.preset(args.preset, **given)
    network, history = train.train_network(
        args.style, settings=settings, data=args.data, weights=args.weights, device=args.device, checkpoint=output,
        resume=args.resume,
    )
    if int(os.environ.get("RANK", "0")) != 0:
        return EXIT_INTERRUPTED if history.interrupted else 0
    if history.interrupted and not output.is_file():
        print(f"interrupted before the first training step was done: nothing was saved ({output} was not written)", file=sys.stderr)
        return EXIT_INTERRUPTED
    done = history[-1]["step"] + 1 if history else 0
    where = f"{output} ({done} steps, loss {history[-1]['total']:.4g}, weights: {history.weights_label})" if history else str(output)
    if history.interrupted:
        print(f"interrupted after {done} of {settings.steps} steps; saved the network to {where}; continue with --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"saved {where}")
    return 0


def _precompute(args) -> int:
    from .files import cache_dir
    from .tradeoff import default_grid

    changed = _given(args, "size", "steps")
    quick = True if args.quick else None  # None: $TUTORIAL_STYLE_QUICK decides, as in the notebook
    grid = default_grid(args.content, args.style, quick=quick, weights=args.weights, device=args.device, **changed)
    settings = grid.settings
    rows, cols = grid.shape
    hits = sum(grid.cached)
    print(
        f"trade-off grid {rows} x {cols} ({settings['size']} px, {settings['steps']} steps, weights: {grid.weights_label}): "
        f"{hits} row(s) were already cached, {rows - hits} computed; cache: {cache_dir('tradeoff')}"
    )
    if changed or (args.content, args.style) != ("astronaut", "mosaic"):
        print("note: notebook 06 asks for the default images and settings; set the same ones in its parameters cell to use these rows")
    return 0


def _export_command(commands) -> None:
    from .optional import ALL_TOOLS

    p = commands.add_parser(
        "export",
        help="write a trained style network as an ONNX model, for phones and other devices",
        description="Write NET.pt (a network trained with `train`) as an ONNX model with dynamic batch, height and width, "
        "and check it with ONNX Runtime against PyTorch. Needs onnx, onnxscript and onnxruntime "
        f'({ALL_TOOLS}). With --web DIR: the web page of `web` with this network, as a static '
        "folder for any HTTPS host.",
    )  # fmt: skip
    p.add_argument("network", metavar="NET.pt", help="the trained network's checkpoint")
    p.add_argument("--onnx", metavar="OUT.onnx", default=None, help="where to write the ONNX model")
    p.add_argument("--opset", type=int, default=None, help="ONNX operator set (default: the exporter's)")
    p.add_argument("--web", metavar="DIR", default=None,
                   help="write the web page with this network as a static folder, for any HTTPS host (see `web`)")  # fmt: skip
    p.add_argument("--no-check", action="store_true", help="do not check the model with ONNX Runtime (which it then does not need)")
    _add_web_options(p)
    p.set_defaults(run=_export)


def _export(args) -> int:
    from .realtime import load_network
    from .deploy.export import export_onnx
    from .realtime.stylize import trained_with

    if args.onnx is None and args.web is None:
        raise ValueError("export needs --onnx OUT.onnx (the model) or --web DIR (the web page), or both")
    if args.onnx is None and args.opset is not None:
        raise ValueError("--opset applies to --onnx; the web page uses the exporter's default")
    if args.web is None and (args.int8 or args.runtime is not None):
        raise ValueError("--int8 and --runtime apply to --web DIR (the web page); give --web, or leave them out")
    if args.onnx is None:
        return _export_web(args)
    network = load_network(args.network)
    print(f"network {args.network} ({network.extra_repr()}), trained with {trained_with(getattr(network, 'meta', None))}")
    path = export_onnx(network, args.onnx, opset=args.opset, check=not args.no_check, progress=True)
    size = path.stat().st_size / 1e6
    checked = "not checked (--no-check)" if args.no_check else "checked against PyTorch with ONNX Runtime"
    print(f"saved {path} ({size:.1f} MB; input 'images' (batch, 3, height, width) in [0, 1], output 'stylised' the same shape; {checked})")
    return _export_web(args) if args.web is not None else 0


def _web_command(commands) -> None:
    p = commands.add_parser(
        "web",
        help="serve a web page that styles the webcam live with trained networks (ONNX Runtime Web)",
        description="Serve a page that runs NET (a checkpoint from `train`, exported to ONNX on the fly, or an .onnx model) on "
        "the camera, live, in the browser: ONNX Runtime Web on WebGPU where the browser has it, else WebAssembly on "
        "several threads. Several networks give a style picker. Browsers allow the camera only on https:// or on "
        "localhost (the default host); `export NET.pt --web DIR` writes the page for an HTTPS host. Ctrl-C stops.",
    )  # fmt: skip
    p.add_argument("networks", nargs="*", metavar="NET", help="checkpoints (.pt) or ONNX models (.onnx); one style each")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to serve on (default 127.0.0.1, this machine; 0.0.0.0 also serves the network, where phones "
                        "allow the camera only over https)")  # fmt: skip
    p.add_argument("--fetch-runtime", action="store_true",
                   help="fetch ONNX Runtime Web into the cache now (once, from the npm registry) and print its folder")  # fmt: skip
    _add_web_options(p)
    p.set_defaults(run=_web)


def _add_web_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--int8", action="store_true", help="add an int8-quantised copy of each network to the page")
    p.add_argument("--runtime", metavar="PATH", default=None,
                   help="ONNX Runtime Web's files: a folder or the npm package's .tgz (default: the cache, fetched once; "
                        "or $TUTORIAL_STYLE_ORT_WEB)")  # fmt: skip


def _web(args) -> int:
    import json
    import tempfile

    from .deploy.web import build_site, make_server, runtime_dir, web_networks

    if args.fetch_runtime:
        print(runtime_dir(args.runtime))
        if not args.networks:
            return 0
    if not (0 <= args.port <= 65535):
        raise ValueError(f"--port must be from 0 to 65535, got {args.port}")
    if not args.networks:
        raise ValueError("web needs at least one network: a checkpoint NET.pt (`train` writes one) or an ONNX model NET.onnx")
    with tempfile.TemporaryDirectory(prefix="tutorial_style_web_") as folder:
        server = make_server(folder, args.host, args.port)  # a port in use fails now, before any export
        try:
            build_site(web_networks(args.networks, int8=args.int8), folder, runtime=args.runtime, link=True)
        except BaseException:
            server.server_close()
            raise
        host, port = server.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        names = ", ".join(n["name"] for n in json.loads((Path(folder) / "networks.json").read_text())["networks"])
        print(f"serving {names} at http://{shown}:{port}/ (cross-origin isolated: several threads); open it in a browser, Ctrl-C stops")
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print("note: over the network (http://THIS-MACHINE:PORT/) phones allow no camera, only images; for the camera put "
                  "`export NET.pt --web DIR` on an https host (docs/web.md)")  # fmt: skip
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
        finally:
            server.server_close()
    return 0


def _export_web(args) -> int:
    import shutil
    import tempfile

    from .files import prepare_output
    from .deploy.web import build_site, web_networks

    target = Path(args.web)
    if target.exists() and not target.is_dir():
        raise ValueError(f"--web {args.web!r} is a file; give a folder for the page")
    if target.is_dir() and any(target.iterdir()) and not (target / "networks.json").is_file():
        raise ValueError(f"--web {args.web!r} is a folder with other files in it; give a new or empty folder (or an earlier page's)")
    prepare_output(target / ".probe")  # the folder can be written: fail now, not after the export
    networks = web_networks([args.network], int8=args.int8)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:  # built beside it, then swapped in: an interrupted export leaves the earlier folder whole
        build_site(networks, staging, runtime=args.runtime)
        staging.chmod(0o755)  # mkdtemp's folder is private; a web server may run as another user
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) / 1e6
    print(f"wrote the web page to {target}/ ({size:.0f} MB: the page, {len(networks)} network(s), ONNX Runtime Web); "
          f"put the folder on an https host (docs/web.md), or try it here: python -m http.server -d {target} 8000")  # fmt: skip
    return 0


def _video_stats_command(commands) -> None:
    from .video.flicker import FLOW_METHODS
    from .optional import install_hint

    p = commands.add_parser(
        "video-stats",
        help="how much a styled video flickers: its warping error against its input (Lai et al. 2018)",
        description="Print the warping error of OUT (a styling of IN, frame by frame) and of IN itself: the optical flow "
        "between IN's frames warps each output frame onto the next, and the squared difference over the pixels seen in "
        f"both is averaged (0: no flicker). Needs OpenCV: {install_hint('video')}.",
    )  # fmt: skip
    p.add_argument("input", metavar="IN", help="the input video")
    p.add_argument("output", metavar="OUT", help="its styling, e.g. from stylize IN --network NET.pt -o OUT")
    p.add_argument("--max-frames", type=int, default=None, help="measure only the first N frames of both")
    p.add_argument("--flow", choices=FLOW_METHODS, default=FLOW_METHODS[0], help="the optical flow (default: OpenCV's DIS)")
    p.set_defaults(run=_video_stats)


def _video_stats(args) -> int:
    from .video.frames import video_stats

    if args.max_frames is not None and args.max_frames < 2:
        raise ValueError(f"--max-frames must be at least 2 (the warping error compares consecutive frames), got {args.max_frames}")
    stats = video_stats(args.input, args.output, max_frames=args.max_frames, method=args.flow)
    print(f"{stats['frames']} frames of {stats['width']}x{stats['height']} px; warping error (Lai et al. 2018; {args.flow} flow, "
          f"forward-backward occlusion check; [0, 1] RGB, squared, summed over channels, mean over unoccluded pixels):")
    print(f"  output {args.output}: {stats['output']}")
    print(f"  input  {args.input}: {stats['input']} (the floor: noise, compression and the flow's own errors)")
    return 0


def _doctor(args) -> int:
    from .doctor import report, run_checks

    checks = run_checks()
    print(report(checks))
    return 0 if all(c.ok for c in checks if c.essential) else 1


if __name__ == "__main__":
    sys.exit(main())
