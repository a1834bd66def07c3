"""Getting a machine ready: ``fetch-weights`` (VGG19's ImageNet weights), ``images`` (the bundled pictures), ``doctor``
(a checklist a teacher runs first)."""

from __future__ import annotations

from pathlib import Path


def add_commands(commands) -> None:
    _fetch_weights_command(commands)
    _images_command(commands)
    _networks_command(commands)
    _doctor_command(commands)


def _fetch_weights_command(commands) -> None:
    p = commands.add_parser("fetch-weights", help="download the ImageNet VGG19 weights into the torch hub cache")
    p.add_argument("--slim", metavar="OUT", help="also write a features-only copy (about 80 MB) to OUT, to hand around")
    p.set_defaults(run=_fetch_weights)


def _fetch_weights(args) -> int:
    from ..weights import fetch_imagenet_weights, save_slim_weights

    path = fetch_imagenet_weights()
    print(f"ImageNet VGG19 weights are in {path}")
    if args.slim:
        out = save_slim_weights("imagenet", args.slim)
        size = Path(out).stat().st_size / 1e6
        print(
            f"wrote the features-only copy {out} ({size:.0f} MB); use it with --weights {out} or "
            f"TUTORIAL_STYLE_WEIGHTS={out}"
        )
    return 0


def _images_command(commands) -> None:
    p = commands.add_parser("images", help="list the bundled images with their credits")
    p.set_defaults(run=_images)


def _images(args) -> int:
    from ..images import bundled_images

    for image in bundled_images().values():
        print(f"{image.name:<10} {image.kind:<8} {image.title} - {image.author}, {image.licence} ({image.source})")
    return 0


def _networks_command(commands) -> None:
    p = commands.add_parser(
        "networks",
        help="list the style networks shipped with the tutorial, with what trained them",
        description="The style networks that ship with the tutorial (tutorial_style/shipped/), each with its styles "
        "and provenance: the command, steps, time, machine, and the loss network with its licence. Use one by name: "
        "`apply NAME PHOTO -o OUT --style STYLE`, or `web` with no network.",
    )
    p.set_defaults(run=_networks)


def _networks(args) -> int:
    from ..shipped import shipped_networks

    found = shipped_networks()
    if not found:
        print("this installation ships no style networks; train one with `python -m tutorial_style train STYLE`")
    for net in found:
        print(net.describe())
    return 0


def _doctor_command(commands) -> None:
    p = commands.add_parser(
        "doctor",
        help="check that this machine is ready for the tutorial (a teacher runs it first)",
        description="Print a checklist: Python and package versions, the device, the ImageNet weights, the "
        "precomputed caches and the JupyterLab widget front-end; each failed check says how to fix it. "
        "Exits with 1 if an essential check failed.",
    )
    p.set_defaults(run=_doctor)


def _doctor(args) -> int:
    from ..doctor import report, run_checks

    checks = run_checks()
    print(report(checks))
    return 0 if all(c.ok for c in checks if c.essential) else 1
