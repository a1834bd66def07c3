"""The learning curve of a style network (issue 27): judged distances on the held-out photos against steps and CPU time.

    python benchmarks/curve.py train OUT --weights standin                  # train (default network, CPU preset)
    python benchmarks/curve.py train OUT --weights standin --network slim   # the web page's slim network
    python benchmarks/curve.py judge OUT --weights standin                  # judge every snapshot, write OUT/curve.json
    python benchmarks/curve.py plot OUT1 OUT2 ... --png docs/performance/curve.png

``train`` runs ``train_network`` with the preset's settings (``--size``, ``--batch``, ``--lr`` and the rest may be
changed, one lever at a time) to ``--steps``, and keeps a snapshot of the network at each step of ``--at``, with the
CPU time this process had spent training by then (``time.process_time``: one thread, so a laptop core's minutes,
whatever else the machine runs) and the wall time. It checkpoints and resumes (``--resume``), so a long run survives
an interruption. ``judge`` scores each snapshot on the held-out photos (``data.HELD_OUT``) at ``--judge-size`` px with
``benchmarks/judge.py``: the style distance to the artwork, per layer and its mean, and the content distance.
Nothing here is asserted by tests; docs/performance.md has the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
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
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.network import DEFAULT, SLIM  # noqa: E402

NETWORKS = {"default": DEFAULT, "slim": SLIM}
AT = (0, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 2500, 3000, 4000, 5000)


def train(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    vgg = ts.get_vgg(args.weights, device="cpu")
    log_path = out / "snapshots.json"
    log = json.loads(log_path.read_text()) if args.resume and log_path.exists() else {"snapshots": []}
    spent = log["snapshots"][-1]["cpu seconds"] if log["snapshots"] else 0.0
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    options = {"size": args.size, "batch": args.batch, "lr": args.lr, **NETWORKS[args.network]}
    if args.alpha is not None:
        options["alpha"] = args.alpha
    for name in ("tv_weight", "style_size", "content_layers", "style_layers"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.resume:
        options = {k: v for k, v in options.items() if k not in NETWORKS[args.network]}
    log["settings"] = {
        "style": args.style,
        "network": args.network,
        "weights": vgg.weights_info.label,
        "threads": args.threads,
        **{k: v for k, v in options.items()},
    }
    wanted = sorted({s for s in (*(args.steps_at or AT), args.steps) if s <= args.steps})

    def snapshot(step: int, network) -> None:
        cpu = spent + time.process_time() - start_cpu
        torch.save({k: v.detach().clone() for k, v in network.state_dict().items()}, out / f"step{step}.pt")
        log["snapshots"].append(
            {
                "step": step,
                "cpu seconds": round(cpu, 1),
                "wall seconds": round(time.perf_counter() - start_wall, 1),
                "load average": round(os.getloadavg()[0], 2),
                "config": network.config,
            }
        )
        with atomic_write(log_path, "w") as f:
            json.dump(log, f, indent=1)
        print(f"step {step}: {cpu / 60:.1f} CPU minutes", flush=True)

    def callback(step, losses, network):
        if step + 1 in wanted:
            snapshot(step + 1, network)

    if not args.resume and 0 in wanted:
        torch.manual_seed(rt_train.SEED)
        snapshot(0, ts.StyleNetwork(**NETWORKS[args.network]))
    ts.train_network(
        args.style,
        weights=vgg,
        device="cpu",
        steps=args.steps,
        callback=callback,
        progress=False,
        checkpoint=out / "net.pt",
        resume=args.resume,
        **options,
    )


def judge(args) -> None:
    from judge import Judge

    out = Path(args.out)
    log = json.loads((out / "snapshots.json").read_text())
    judge_, artwork = Judge(args.weights), ts.load_image(log["settings"]["style"], size=args.judge_size)
    photos = rt_data.held_out_photos(size=args.judge_size)
    rows = []
    for snap in log["snapshots"]:
        net = ts.StyleNetwork(**snap["config"])
        net.load_state_dict(torch.load(out / f"step{snap['step']}.pt", weights_only=True))
        row = {**{k: snap[k] for k in ("step", "cpu seconds")}, "photos": {}}
        for name, photo in photos.items():
            with torch.no_grad():
                result = judge_(net.eval()(photo), photo, artwork)
            row["photos"][name] = {
                "style": round(float(result["style"]), 3),
                "content": round(float(result["content"]), 3),
                "style layers": {k: round(float(v), 3) for k, v in result["style layers"].items()},
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    with atomic_write(out / "curve.json", "w") as f:
        json.dump(
            {"settings": log["settings"], "judge size": args.judge_size, "judge weights": judge_.label, "rows": rows},
            f,
            indent=1,
        )


def plot(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for folder in args.outs:
        curve = json.loads((Path(folder) / "curve.json").read_text())
        rows = [r for r in curve["rows"] if r["step"] > 0]
        label = args.labels.get(folder, curve["settings"]["network"]) if args.labels else curve["settings"]["network"]
        for photo in rows[0]["photos"]:
            minutes = [r["cpu seconds"] / 60 for r in rows]
            axes[0].plot(minutes, [r["photos"][photo]["style"] for r in rows], marker="o", label=f"{label}, {photo}")
            axes[1].plot(minutes, [r["photos"][photo]["content"] for r in rows], marker="o", label=f"{label}, {photo}")
    for ax, what in zip(axes, ("style distance to the artwork", "content distance to the photo")):
        ax.set_xscale("log")
        ax.set_xlabel("training: CPU minutes (one core)")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"A style network's learning curve (mosaic), held-out photos judged at {curve['judge size']} px\n"
        f"loss network and judge: {curve['judge weights'].split(', file')[0]}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("out")
    t.add_argument("--style", default="mosaic")
    t.add_argument("--network", choices=list(NETWORKS), default="default")
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--size", type=int, default=rt_train.PRESETS["cpu"]["size"])
    t.add_argument("--batch", type=int, default=rt_train.PRESETS["cpu"]["batch"])
    t.add_argument("--lr", type=float, default=rt_train.LR)
    t.add_argument("--alpha", type=float, default=None)
    t.add_argument("--tv-weight", type=float, default=None)
    t.add_argument("--style-size", type=int, default=None, help="the artwork's side for its Gram matrices")
    t.add_argument("--content-layers", type=lambda v: tuple(v.split(",")), default=None)
    t.add_argument("--style-layers", type=lambda v: tuple(v.split(",")), default=None)
    t.add_argument("--steps-at", type=lambda v: tuple(int(x) for x in v.split(",")), default=None)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--resume", action="store_true")
    j = sub.add_parser("judge")
    j.add_argument("out")
    j.add_argument("--judge-size", type=int, default=256)
    p = sub.add_parser("plot")
    p.add_argument("outs", nargs="+")
    p.add_argument("--png", required=True)
    for s in (t, j):
        s.add_argument("--weights", default="standin", help=WEIGHTS_HELP)
    args = parser.parse_args(argv)
    args.labels = None
    if hasattr(args, "weights"):
        args.weights = resolve_weights(args.weights)
    {"train": train, "judge": judge, "plot": plot}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
