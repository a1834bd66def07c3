"""A trained style network on the command line (Johnson et al. 2016): ``train`` one, ``apply`` it to photos, folders and
videos in one pass, ``export`` it to ONNX or a static web page, serve it on the ``web`` page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_INTERRUPTED, add_weights_and_device, given


def add_commands(commands) -> None:
    _train_command(commands)
    _apply_command(commands)
    _export_command(commands)
    _web_command(commands)


def _train_command(commands) -> None:
    from ..realtime import train
    from ..realtime.config import CONTENT_WEIGHT_AT_512_RELU2_2, PRESETS, TrainingSettings

    defaults = TrainingSettings()  # every default below is read from it
    p = commands.add_parser(
        "train",
        help="train a real-time style network for STYLE (Johnson et al. 2016)",
        description="Train a feed-forward network that renders any photo in the style of STYLE in one pass, with the "
        "paper's loss. Writes the network, with what made it and the training state, to OUTPUT every so often and at "
        "the end; Ctrl-C saves it and --resume continues. Runs unchanged under torchrun --nproc_per_node=K.",
    )
    p.add_argument(
        "style",
        nargs="+",
        help="style image(s): files or bundled names (see `images`); several train one network of several "
        "styles (Dumoulin et al. 2017), named by the bundled name or the file's stem",
    )
    p.add_argument("-o", "--output", required=True, help="the network checkpoint to write (e.g. net.pt)")
    p.add_argument(
        "--base",
        metavar="NET.pt",
        default=None,
        help="add the one STYLE to this trained network, training only its own normalisation (γ, β); "
        "-o gets a network of one more style",
    )
    p.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="a folder of your photos, searched recursively (default: the bundled photos)",
    )
    presets = "; ".join(
        f"{n}: {v['steps']} steps of {v['batch']} x {v['size']} px, width {v['width']}"
        + (", separable (the web page's slim network)" if v.get("separable") else "")
        for n, v in PRESETS.items()
    )
    p.add_argument(
        "--preset", choices=list(PRESETS), default="cpu", help=f"default cpu, minutes on a laptop ({presets})"
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="training steps in all (default: the preset's); with --resume, the total to reach",
    )
    p.add_argument(
        "--size", type=int, default=None, help="side of the square training crops in pixels (default: the preset's)"
    )
    p.add_argument(
        "--style-size",
        type=int,
        default=None,
        help="side in pixels of the artwork whose Gram matrices the network learns: the scale of its texture in "
        "the output (default: the preset's, else the crops' size)",
    )
    p.add_argument("--batch", type=int, default=None, help="photos per step, per process (default: the preset's)")
    p.add_argument(
        "--lr", type=float, default=None, help=f"Adam's learning rate (default {defaults.lr:g}, Johnson et al.'s)"
    )
    content, size = ", ".join(defaults.content_layers), PRESETS["cpu"]["size"]
    p.add_argument(
        "--alpha",
        type=float,
        default=None,
        help=f"content weight alpha, on {content} (default {CONTENT_WEIGHT_AT_512_RELU2_2:g} x 512^2 / size^2: "
        f"{defaults.alpha_for(size):.2g} at {size} px)",
    )
    p.add_argument("--beta", type=float, default=None, help=f"style weight beta (default {defaults.beta:g})")
    p.add_argument(
        "--tv-weight", type=float, default=None, help=f"total-variation weight (default {defaults.tv_weight:g})"
    )
    p.add_argument(
        "--temporal-weight",
        type=float,
        default=None,
        help=f"weight of the temporal term against flicker in video (default {defaults.temporal_weight:g}: none; "
        f"{train.TEMPORAL_WEIGHT_FOR_VIDEO:g} for a network meant for video, measured in docs/performance.md)",
    )
    p.add_argument(
        "--width",
        type=float,
        default=None,
        help="channel width of the network (default: the preset's; 1.0 is Johnson's)",
    )
    p.add_argument("--blocks", type=int, default=None, help="residual blocks (default: the preset's; Johnson's 5)")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of the network's start, the photos' order and crops (default {defaults.seed})",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        help=f"steps between checkpoints (default {defaults.checkpoint_every})",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue training OUTPUT: its step count, optimiser state and settings (size and steps may change on "
        "resume: --steps is the total to reach; the loss, learning rate, batch and seed stay the checkpoint's)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"processes that decode the photos while the network trains (default {defaults.workers}: this one; on a "
        "GPU several, e.g. 4)",
    )
    add_weights_and_device(p)
    p.set_defaults(run=_train)


def _train(args) -> int:
    import dataclasses
    import os

    from ..files import prepare_output
    from ..realtime import train
    from ..realtime.config import TrainingSettings

    output = prepare_output(args.output)  # a bad output path fails now, not after the training
    if args.base is not None:
        shape = [f"--{n}" for n in ("width", "blocks") if getattr(args, n) is not None]
        if shape:
            raise ValueError(f"--base: {', '.join(shape)} cannot change the base network's shape; leave them out")
        if Path(args.base).resolve() == output.resolve():
            raise ValueError(f"--base: -o {args.output!r} is the base network; write the new network to another file")
        if args.resume:
            raise ValueError("--base: resuming the training of an added style is not supported; train it again")
    if args.resume and not output.is_file():
        raise ValueError(f"--resume: {str(output)!r} does not exist; train it first (without --resume)")
    if not args.resume and output.exists():
        raise ValueError(f"{str(output)!r} already exists; pass --resume to continue training it, or choose another -o")
    chosen = given(args, *(f.name for f in dataclasses.fields(TrainingSettings) if hasattr(args, f.name)))
    if (
        args.resume
    ):  # the checkpoint's network and settings are continued (its width and blocks too), unless asked otherwise
        recorded = {"steps": train.PRESETS[args.preset]["steps"], **train.recorded_options(output)}
        settings = TrainingSettings.of(None, **{**recorded, **chosen})
    else:
        settings = TrainingSettings.preset(args.preset, **chosen)
    if args.base is not None:  # the base's shape, not the preset's
        settings = dataclasses.replace(settings, width=None, blocks=None, separable=None)
    network, history = train.train_network(
        args.style[0] if len(args.style) == 1 else args.style,
        settings=settings,
        data=args.data,
        weights=args.weights,
        device=args.device,
        checkpoint=output,
        resume=args.resume,
        base=args.base,
    )
    if int(os.environ.get("RANK", "0")) != 0:
        return EXIT_INTERRUPTED if history.interrupted else 0
    if history.interrupted and not output.is_file():
        print(
            f"interrupted before the first training step was done: nothing was saved ({output} was not written)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    done = history[-1]["step"] + 1 if history else 0
    where = (
        f"{output} ({done} steps, loss {history[-1]['total']:.4g}, weights: {history.weights_label})"
        if history
        else str(output)
    )
    if history.interrupted:
        print(
            f"interrupted after {done} of {settings.steps} steps; saved the network to {where}; continue with --resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"saved {where}")
    return 0


def _apply_command(commands) -> None:
    from ..video.smoothing import BLEND_FOR_VIDEO

    p = commands.add_parser(
        "apply",
        help="stylise a photo, a folder of photos or a video in one pass through a trained network",
        description="One pass through NET.pt (a network trained with `train`): no optimisation, no STYLE (the network "
        "learnt its style in training). CONTENT is an image (-o an image file), a folder of images (-o a folder) or a "
        "video (-o a video file; the sound is not copied). `stylize CONTENT --network NET.pt` is the old spelling.",
    )
    p.add_argument("network", metavar="NET.pt", help="a trained style network (`train` writes one)")
    p.add_argument("content", help="an image (a file or a bundled name, see `images`), a folder of images, or a video")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write: an image (.png, .jpg), a folder for a folder, a video for a video",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="longer side of each result in pixels (default: the photo's own size; not for a video)",
    )
    p.add_argument(
        "--temporal-blend",
        type=float,
        default=None,
        metavar="S",
        help="for a video: blend each styled frame with the previous one along the input's motion, strength S in "
        f"[0, 1) (default 0, off; {BLEND_FOR_VIDEO:g} for video, chosen on the test clips: docs/performance.md): "
        "softer texture; needs OpenCV",
    )
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")
    add_mix_options(p)
    p.set_defaults(run=_apply)


def add_mix_options(p: argparse.ArgumentParser) -> None:
    """``--style NAME`` and ``--mix NAME=WEIGHT ...``: which of a network's styles, or their mix (Dumoulin et al.)."""
    p.add_argument(
        "--style",
        dest="pick",
        metavar="NAME",
        default=None,
        help="for a network of several styles: the style to apply (see its styles in the error without it)",
    )
    p.add_argument(
        "--mix",
        nargs="+",
        metavar="NAME=WEIGHT",
        default=None,
        help="for a network of several styles: mix them, e.g. --mix mosaic=0.7 swirls=0.3 (normalised to sum 1)",
    )


def network_mix(network, pick: str | None, pairs: list[str] | None):
    """The ``mix`` for ``network`` that ``--style``/``--mix`` ask for (None for a one-style network); one-line errors.

    >>> from tutorial_style.realtime import StyleNetwork
    >>> net = StyleNetwork(width=0.25, blocks=1, styles=["mosaic", "swirls"])
    >>> network_mix(net, None, ["mosaic=3", "swirls=1"])
    tensor([0.7500, 0.2500])
    >>> network_mix(net, None, ["mosaic"])
    Traceback (most recent call last):
    ValueError: --mix: 'mosaic' is not NAME=WEIGHT (e.g. --mix mosaic=0.7 swirls=0.3)
    """
    if pick is not None and pairs is not None:
        raise ValueError("give --style NAME or --mix NAME=WEIGHT ..., not both")
    spec = pick
    if pairs is not None:
        spec = {}
        for pair in pairs:
            name, sep, weight = pair.partition("=")
            try:
                value = float(weight)
            except ValueError:
                value = None
            if not sep or not name or value is None:
                raise ValueError(f"--mix: {pair!r} is not NAME=WEIGHT (e.g. --mix mosaic=0.7 swirls=0.3)")
            if name in spec:
                raise ValueError(f"--mix: {name!r} is given twice")
            spec[name] = value
    flag = "--style" if pairs is None else "--mix"
    if network.styles is None:  # one style: its own name is accepted
        own = Path(str((getattr(network, "meta", None) or {}).get("style", ""))).stem
        names = [pick] if pairs is None else list(spec)
        if spec is not None and (names != [own] or (pairs is not None and not spec[own] > 0)):
            raise ValueError(f"{flag}: this network has one style ({own or 'unnamed'}); leave {flag} out")
        return None
    if spec is None:
        raise ValueError(
            f"this network holds {len(network.styles)} styles ({', '.join(network.styles)}); "
            "pick one with --style NAME or mix them with --mix NAME=WEIGHT ..."
        )
    try:
        return network.mix_for(spec)
    except ValueError as e:
        raise ValueError(f"{flag}: {str(e).removeprefix('mix: ')}") from None


def apply_from_stylize(args, optimisation_flags) -> int:
    """``stylize CONTENT --network NET.pt -o OUT``, the old spelling of ``apply NET.pt CONTENT -o OUT``. Its parser also
    has the optimisation's flags, which a network's one pass would ignore: any of them given is an error."""
    if args.style:
        raise ValueError(
            f"with --network give no STYLE: the network learnt its style in training (got {' '.join(args.style)!r})"
        )
    ignored = [
        f"--{n.replace('_', '-')}" for n in (*optimisation_flags, "mask", "preset") if getattr(args, n) is not None
    ]
    ignored += ["--weights"] if args.weights != "auto" else []
    if ignored:
        raise ValueError(
            f"{', '.join(ignored)}: option(s) of the optimisation, which --network does not run; leave them out"
        )
    return _apply(args)


def _apply(args) -> int:
    """``apply NET.pt CONTENT -o OUT``: one pass through a trained network for an image, a folder, a video."""
    from ..images import check_image_path, load_image, save_image
    from ..realtime import load_network
    from ..realtime.stylize import stylize_folder, stylize_images, stylize_video, trained_with
    from ..vgg import check_device
    from ..video.frames import check_video_path, is_video
    from ..video.smoothing import TemporalBlend

    content, output, kind = Path(args.content), Path(args.output), "image"
    if content.is_dir():
        kind = "folder"
        if is_video(output) or output.suffix.lower() in (".png", ".jpg", ".jpeg"):
            raise ValueError(
                f"CONTENT {args.content!r} is a folder, so -o is the folder for the results, not {args.output!r}"
            )
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
        raise ValueError(
            f"--temporal-blend applies to a video only (CONTENT {args.content!r} is "
            f"{'a folder' if kind == 'folder' else 'an image'})"
        )
    network = load_network(args.network, device=check_device(args.device))
    mix = network_mix(network, getattr(args, "pick", None), getattr(args, "mix", None))
    print(
        f"network {args.network} ({network.extra_repr()}), trained with {trained_with(getattr(network, 'meta', None))}"
    )
    if kind == "image":
        image = stylize_images(network, load_image(args.content, size=args.size), mix=mix)
        save_image(image, output)
        print(f"saved {output} ({image.shape[-1]}x{image.shape[-2]} px)")
    elif kind == "folder":
        done = stylize_folder(network, content, output, size=args.size, mix=mix)
        for path, why in done.skipped:
            print(f"warning: skipped {path.name}: {why}", file=sys.stderr)
        if not done.written:
            raise ValueError(f"{args.content!r} holds no readable image ({len(done.skipped)} file(s) skipped)")
        print(
            f"saved {len(done.written)} image(s) in {output}; skipped {len(done.skipped)} file(s) that are not "
            "readable images"
        )
    else:
        video = stylize_video(network, content, output, temporal_blend=args.temporal_blend or 0.0, mix=mix)
        notes = "; the sound track was not copied" if video.audio_dropped else ""
        notes += f"; frames blended along the motion, strength {args.temporal_blend:g}" if args.temporal_blend else ""
        print(
            f"saved {output} ({video.frames} frames, {video.width}x{video.height} px, {float(video.fps):.4g} frames/s, "
            f"{video.codec}{notes})"
        )
    return 0


def _export_command(commands) -> None:
    from ..optional import ALL_TOOLS

    p = commands.add_parser(
        "export",
        help="write a trained style network as an ONNX model, for phones and other devices",
        description="Write NET.pt (a network trained with `train`) as an ONNX model with dynamic batch, height and "
        "width, and check it with ONNX Runtime against PyTorch. Needs onnx, onnxscript and onnxruntime "
        f"({ALL_TOOLS}). With --web DIR: the web page of `web` with this network, as a static "
        "folder for any HTTPS host.",
    )
    p.add_argument("network", metavar="NET.pt", help="the trained network's checkpoint")
    p.add_argument("--onnx", metavar="OUT.onnx", default=None, help="where to write the ONNX model")
    p.add_argument("--opset", type=int, default=None, help="ONNX operator set (default: the exporter's)")
    p.add_argument(
        "--web",
        metavar="DIR",
        default=None,
        help="write the web page with this network as a static folder, for any HTTPS host (see `web`)",
    )
    p.add_argument(
        "--no-check", action="store_true", help="do not check the model with ONNX Runtime (which it then does not need)"
    )
    _add_web_options(p)
    p.set_defaults(run=_export)


def _export(args) -> int:
    from ..deploy.export import export_onnx
    from ..realtime import load_network
    from ..realtime.stylize import trained_with

    if args.onnx is None and args.web is None:
        raise ValueError("export needs --onnx OUT.onnx (the model) or --web DIR (the web page), or both")
    if args.onnx is None and args.opset is not None:
        raise ValueError("--opset applies to --onnx; the web page uses the exporter's default")
    if args.web is None and (args.int8 or args.runtime is not None):
        raise ValueError("--int8 and --runtime apply to --web DIR (the web page); give --web, or leave them out")
    if args.onnx is None:
        return _export_web(args)
    network = load_network(args.network)
    print(
        f"network {args.network} ({network.extra_repr()}), trained with {trained_with(getattr(network, 'meta', None))}"
    )
    path = export_onnx(network, args.onnx, opset=args.opset, check=not args.no_check, progress=True)
    size = path.stat().st_size / 1e6
    checked = "not checked (--no-check)" if args.no_check else "checked against PyTorch with ONNX Runtime"
    print(
        f"saved {path} ({size:.1f} MB; input 'images' (batch, 3, height, width) in [0, 1], output 'stylised' the same "
        f"shape; {checked})"
    )
    return _export_web(args) if args.web is not None else 0


def _export_web(args) -> int:
    import shutil
    import tempfile

    from ..deploy.web import build_site, web_networks
    from ..files import prepare_output

    target = Path(args.web)
    if target.exists() and not target.is_dir():
        raise ValueError(f"--web {args.web!r} is a file; give a folder for the page")
    if target.is_dir() and any(target.iterdir()) and not (target / "networks.json").is_file():
        raise ValueError(
            f"--web {args.web!r} is a folder with other files in it; give a new or empty folder (or an earlier page's)"
        )
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
    print(
        f"wrote the web page to {target}/ ({size:.0f} MB: the page, {len(networks)} network(s), ONNX Runtime Web); "
        f"put the folder on an https host (docs/web.md), or try it here: python -m http.server -d {target} 8000"
    )
    return 0


def _web_command(commands) -> None:
    p = commands.add_parser(
        "web",
        help="serve a web page that styles the webcam live with trained networks (ONNX Runtime Web)",
        description="Serve a page that runs NET (a checkpoint from `train`, exported to ONNX on the fly, or an .onnx "
        "model; without NET, the networks shipped with the tutorial) on the camera, live, in the browser: ONNX "
        "Runtime Web on WebGPU where the browser has it, else WebAssembly on several threads. Several networks give "
        "a network picker; a network of several styles, one slider per style to mix them. Browsers allow the camera "
        "only on https:// or on localhost (the default host); `export NET.pt --web DIR` writes the page for an HTTPS "
        "host. "
        "Ctrl-C stops.",
    )
    p.add_argument(
        "networks",
        nargs="*",
        metavar="NET",
        help="checkpoints (.pt) or ONNX models (.onnx), of one style or several (a slider per style); default: the "
        "networks shipped with the tutorial",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to serve on (default 127.0.0.1, this machine; 0.0.0.0 also serves the network, where phones "
        "allow the camera only over https)",
    )
    p.add_argument(
        "--fetch-runtime",
        action="store_true",
        help="fetch ONNX Runtime Web into the cache now (once, from the npm registry) and print its folder",
    )
    _add_web_options(p)
    p.set_defaults(run=_web)


def _add_web_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--int8", action="store_true", help="add an int8-quantised copy of each network to the page")
    p.add_argument(
        "--runtime",
        metavar="PATH",
        default=None,
        help="ONNX Runtime Web's files: a folder or the npm package's .tgz (default: the cache, fetched once; "
        "or $TUTORIAL_STYLE_ORT_WEB)",
    )


def _shipped_paths() -> list[Path]:
    """The shipped networks' checkpoints, for `web` without a network; a one-line error when there are none."""
    from ..shipped import shipped_networks

    paths = [net.path for net in shipped_networks()]
    if not paths:
        raise ValueError(
            "web: this installation ships no networks; give one: a checkpoint NET.pt (`train` writes one) or an "
            "ONNX model NET.onnx"
        )
    return paths


def _web(args) -> int:
    import json
    import tempfile

    from ..deploy.web import build_site, make_server, runtime_dir, web_networks

    if args.fetch_runtime:
        print(runtime_dir(args.runtime))
        if not args.networks:
            return 0
    if not (0 <= args.port <= 65535):
        raise ValueError(f"--port must be from 0 to 65535, got {args.port}")
    paths = args.networks or _shipped_paths()
    with tempfile.TemporaryDirectory(prefix="tutorial_style_web_") as folder:
        server = make_server(folder, args.host, args.port)  # a port in use fails now, before any export
        try:
            build_site(web_networks(paths, int8=args.int8), folder, runtime=args.runtime, link=True)
        except BaseException:
            server.server_close()
            raise
        host, port = server.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        names = ", ".join(n["name"] for n in json.loads((Path(folder) / "networks.json").read_text())["networks"])
        print(
            f"serving {names} at http://{shown}:{port}/ (cross-origin isolated: several threads); open it in a "
            "browser, Ctrl-C stops"
        )
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(
                "note: over the network (http://THIS-MACHINE:PORT/) phones allow no camera, only images; for the "
                "camera put `export NET.pt --web DIR` on an https host (docs/web.md)"
            )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
        finally:
            server.server_close()
    return 0
