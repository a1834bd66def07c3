"""The paper's method on the command line: ``stylize`` (an optimisation of the image) and ``precompute`` (notebook
06's grid ahead of a workshop)."""

from __future__ import annotations

import sys

from ..controls.colour import COLOR_MODES
from ..controls.masks import MASK_METHODS
from ..layers import POOLINGS
from ..settings import ADAM_LR, ALPHA_AT_512, INITS, OPTIMIZERS, PRECISIONS, PRESETS, Settings, default, default_alpha
from .common import EXIT_INTERRUPTED, add_weights_and_device, given
from .network import add_mix_options, apply_from_stylize

STYLIZE_SIZE = 256  # stylize's image size unless --size or --sizes says: the fast preset's size
# The stylize flags that are settings: left at None, they take the preset's value or Settings' default.
SETTING_FLAGS = (
    "steps",
    "alpha",
    "beta",
    "init",
    "optimizer",
    "lr",
    "pooling",
    "seed",
    "precision",
    "tv_weight",
    "preserve_colors",
    "style_blend",
    "mask_propagation",
    "sizes",
)


def add_commands(commands) -> None:
    _stylize_command(commands)
    _precompute_command(commands)


def _stylize_command(commands) -> None:
    p = commands.add_parser(
        "stylize",
        help="render CONTENT in the style of STYLE: the paper's method, an optimisation of the image",
        description="The paper's method: an optimisation of the image (minutes). For one pass through a trained "
        "network use `apply NET.pt CONTENT` (`stylize CONTENT --network NET.pt`, its old spelling, still works).",
    )
    p.add_argument("content", help="content image: a file or a bundled name (see `images`)")
    p.add_argument(
        "style",
        nargs="*",
        help="style image(s): files or bundled names; several are blended, or one per --mask region (not with "
        "--network)",
    )
    p.add_argument("-o", "--output", required=True, help="where to write the result (.png or .jpg)")
    # The old spelling of `apply NET.pt CONTENT` (tutorial_style/cli/network.py), kept working.
    p.add_argument(
        "--network",
        metavar="NET.pt",
        default=None,
        help="old spelling of `apply NET.pt CONTENT`: one pass through a trained network",
    )
    p.add_argument(
        "--temporal-blend", type=float, default=None, metavar="S", help="with --network and a video: see `apply --help`"
    )
    add_mix_options(p)  # with --network: a network of several styles' --style NAME or --mix NAME=WEIGHT ...
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help=f"longer side of the result in pixels (default {STYLIZE_SIZE}, the paper used about 512)",
    )
    presets = "; ".join(f"{name}: {p['steps']} evaluations from {p['init']}" for name, p in PRESETS.items())
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=None,
        help=f"default fast, about a minute at {STYLIZE_SIZE} px on a laptop ({presets}); --steps and --init override "
        "it",
    )
    p.add_argument(
        "--steps",
        type=int,
        nargs="+",
        default=None,
        help="loss-and-gradient evaluations (default: the preset's); with --sizes, one per size",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=None,
        help=(
            f"content weight alpha (default: {ALPHA_AT_512:g} at 512 x 512 px, scaled with 1 / the pixel count, e.g. "
            f"{default_alpha(256, 256):g} at 256 px; settings.py says why not the paper's alpha/beta = 1e-3)"
        ),
    )
    p.add_argument("--beta", type=float, default=None, help=f"style weight beta (default {default('beta')})")
    p.add_argument("--init", choices=list(INITS), default=None, help="start image (default: the preset's)")
    p.add_argument(
        "--optimizer", choices=list(OPTIMIZERS), default=None, help=f"default: {default('optimizer')}, the paper's"
    )
    p.add_argument(
        "--lr", type=float, default=None, help=f"Adam's learning rate (with --optimizer adam; default {ADAM_LR})"
    )
    add_weights_and_device(p)
    p.add_argument(
        "--pooling",
        choices=list(POOLINGS),
        default=None,
        help=f"avg (the paper's) or max; default {default('pooling')}",
    )
    p.add_argument("--seed", type=int, default=None, help=f"seed of the noise image (default {default('seed')})")
    p.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        default=None,
        help="bf16 runs the convolutions in bfloat16: faster per step on CPUs and GPUs with bf16 units, but it ends at "
        "a higher loss, and from the content image (the fast preset) it may return that image unchanged",
    )
    # The controls of Gatys et al. 2017 (tutorial_style/controls/)
    p.add_argument(
        "--preserve-colors",
        choices=list(COLOR_MODES),
        default=None,
        help="keep the photo's colours: luminance (transfer the brightness only) or histogram (recolour the artwork "
        "first)",
    )
    p.add_argument(
        "--style-blend",
        type=float,
        nargs="+",
        metavar="W",
        default=None,
        help="weights of several STYLE images (default equal)",
    )
    p.add_argument(
        "--mask",
        action="extend",
        nargs="+",
        metavar="FILE",
        default=None,
        help="one mask image per STYLE (white = the region of the photo that takes that style)",
    )
    p.add_argument(
        "--mask-propagation",
        choices=list(MASK_METHODS),
        default=None,
        help=f"how masks reach the layers (default {default('mask_propagation')})",
    )
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        metavar="PX",
        default=None,
        help="coarse-to-fine: run at each size in turn (e.g. 256 512), each started from the previous result; replaces "
        "--size",
    )
    p.add_argument(
        "--tv-weight",
        type=float,
        default=None,
        help=f"weight of a total-variation prior (default {default('tv_weight'):g}; the paper has none)",
    )
    p.set_defaults(run=_stylize)


def _stylize(args) -> int:
    from ..images import check_image_path, load_image, save_image
    from ..optimize import stylize

    if args.network is not None:
        return apply_from_stylize(args, SETTING_FLAGS)
    if args.pick is not None or args.mix is not None:
        raise ValueError(
            "--style and --mix pick a trained network's styles: use `apply NET.pt CONTENT` (or --network NET.pt)"
        )
    if args.temporal_blend is not None:
        raise ValueError(
            "--temporal-blend blends the frames of a video styled by a trained network: use `apply NET.pt VIDEO` (or "
            "--network NET.pt)"
        )
    if not args.style:
        raise ValueError(
            "stylize needs at least one STYLE image after CONTENT (or `apply NET.pt CONTENT` for a trained network)"
        )
    check_image_path(args.output)  # a bad output path fails now, not after minutes of work
    if args.steps is not None and len(args.steps) == 1:
        args.steps = args.steps[0]
    settings = Settings(**{**PRESETS[args.preset or "fast"], **given(args, *SETTING_FLAGS)})  # checked before any work
    size = (STYLIZE_SIZE if args.size is None else args.size) if settings.sizes is None else settings.sizes[-1]
    content = load_image(args.content, size=size)
    style = [load_image(name, size=size) for name in args.style]
    style = style[0] if len(style) == 1 else style
    result = stylize(content, style, settings, content_masks=args.mask, weights=args.weights, device=args.device)
    save_image(result.image, args.output)
    where = f"{args.output} ({result.image.shape[-1]}x{result.image.shape[-2]} px, weights: {result.weights_label})"
    if result.interrupted:
        done = len(result.history)
        print(
            f"interrupted after {done} of {settings.total_steps} steps; saved the best image so far to {where}",
            file=sys.stderr,
        )
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
    return (
        f"note: with {result.weights_label} the result is {what}. For a real style transfer use the ImageNet weights: "
        "python -m tutorial_style fetch-weights, or --weights FILE (a VGG19 weights file, see docs/weights.md)"
    )


def _precompute_command(commands) -> None:
    p = commands.add_parser(
        "precompute",
        help="compute notebook 06's trade-off grid into the cache ahead of a workshop",
        description="Compute the alpha/beta trade-off grid of notebook 06 into the tutorial's cache, so the "
        "notebook opens without computing anything. It asks for the same grid as the notebook: the paper's settings "
        f"(512 px, {PRESETS['paper']['steps']} steps, 5 x 5; hours on a CPU), or quick mode's small grid with --quick "
        "or TUTORIAL_STYLE_QUICK=1.",
    )
    p.add_argument(
        "--content",
        default="astronaut",
        help="content image: a file or a bundled name (default astronaut, the notebook's)",
    )
    p.add_argument(
        "--style", default="mosaic", help="style image: a file or a bundled name (default mosaic, the notebook's)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="quick mode's small grid, as the notebook with TUTORIAL_STYLE_QUICK=1 (default: follow that variable)",
    )
    p.add_argument("--size", type=int, default=None, help="longer side in pixels (default 512, or quick mode's)")
    p.add_argument(
        "--steps", type=int, default=None, help=f"steps per row (default {PRESETS['paper']['steps']}, or quick mode's)"
    )
    add_weights_and_device(p)
    p.set_defaults(run=_precompute)


def _precompute(args) -> int:
    from ..files import cache_dir
    from ..tradeoff import default_grid

    changed = given(args, "size", "steps")
    quick = True if args.quick else None  # None: $TUTORIAL_STYLE_QUICK decides, as in the notebook
    grid = default_grid(args.content, args.style, quick=quick, weights=args.weights, device=args.device, **changed)
    settings = grid.settings
    rows, cols = grid.shape
    hits = sum(grid.cached)
    print(
        f"trade-off grid {rows} x {cols} ({settings['size']} px, {settings['steps']} steps, weights: "
        f"{grid.weights_label}): {hits} row(s) were already cached, {rows - hits} computed; cache: "
        f"{cache_dir('tradeoff')}"
    )
    if changed or (args.content, args.style) != ("astronaut", "mosaic"):
        print(
            "note: notebook 06 asks for the default images and settings; set the same ones in its parameters cell to "
            "use these rows"
        )
    return 0
