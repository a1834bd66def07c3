"""Where an evaluation's time goes on a CPU: ours against the PyTorch-tutorial baseline, interleaved,
per ISA (issue 21).

    python benchmarks/profile_cpu.py                        # 256 px, this CPU's own ISA and AVX2 only
    python benchmarks/profile_cpu.py --isa avx2 --rounds 7  # one ISA, more rounds

``--isa avx2`` runs the measurement in a fresh process with PyTorch's kernels held to AVX2: ``ATEN_CPU_CAPABILITY``
for ATen's own kernels (pooling, element-wise, ...) and ``ONEDNN_MAX_CPU_ISA`` for oneDNN's convolutions and
matrix products, so that a CPU with AVX-512 shows what a laptop's AVX2 CPU does (the same code paths; the clock
and the caches stay this machine's). ``native`` leaves both alone.

In each process, ``--rounds`` rounds run every implementation in turn, ``--evaluations`` loss-and-gradient
evaluations each (the first two are warm-up), and the medians of the per-evaluation times are kept: a change of
load touches all of them alike. The implementations:

- ``baseline``: ``benchmarks/baseline.py``, the tutorial's code (max pooling, raw weights, ``torch.optim.LBFGS``);
- ``ours``: ``ts.stylize`` as it runs (average pooling, the paper's normalised network, our L-BFGS, best-image
  bookkeeping);
- ``ours, max pooling`` and ``ours, raw weights``: ours with one of the two network choices changed to the
  baseline's, which tells how much each choice costs;
- ``ours, loss and gradient only``: the objective's loss and gradient alone, as a bare loop (no optimiser step,
  no bookkeeping): what ``stylize`` adds around it is the difference to ``ours``.

A second measurement alternates single evaluations of the loss and gradient alone: the baseline's model and loss
(its closure without the optimiser) and ours (``Objective``), and ours with max pooling or raw weights, one
evaluation each in turn, ``--pairs`` times. Whole runs take tens of seconds each, over which a shared machine's load
changes; single evaluations in turn see the same load, so these ratios are the steadier ones.

Then ``torch.profiler`` runs a few evaluations of the baseline and of ours and prints the operators that take
the most time (self CPU time, in ms per evaluation). Random weights throughout: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ISAS = {"native": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}}


def measure(size: int, evaluations: int, rounds: int, profile: int, threads: int | None, pairs: int) -> dict:
    """Every implementation, interleaved, in this process: medians in seconds per evaluation, and the profiles."""
    import torch

    if threads:
        torch.set_num_threads(threads)

    sys.path.insert(0, str(ROOT))
    import tutorial_style as ts
    from benchmarks.baseline import run_baseline
    from benchmarks.run import torchvision_features
    from tutorial_style.objective import Objective

    content, style = ts.load_image("astronaut", size=size), ts.load_image("mosaic", size=size)
    raw_max = ts.VGG19Features(weights="random", pooling="max", normalize=None)
    features = torchvision_features(raw_max, "cpu")
    networks = {
        "ours": ts.get_vgg("random", device="cpu"),
        "ours, max pooling": ts.get_vgg("random", pooling="max", device="cpu"),
        "ours, raw weights": ts.get_vgg("random", normalize=None, device="cpu"),
    }

    def baseline(n, tick):
        run_baseline(
            features, content, style, ts.PAPER_CONTENT_LAYERS, ts.PAPER_STYLE_LAYERS, n, callback=lambda e: tick()
        )

    def ours(vgg):
        def run(n, tick):
            ts.stylize(content, style, init="content", steps=n, weights=vgg, progress=False, callback=lambda *a: tick())

        return run

    def bare(n, tick):
        objective = Objective.for_images(
            networks["ours"],
            content,
            style,
            content_layers=ts.PAPER_CONTENT_LAYERS,
            style_layers=ts.PAPER_STYLE_LAYERS,
            alpha=ts.default_alpha(*content.shape[-2:]),
            beta=ts.Settings().beta,
        )
        x = content.clone()
        for _ in range(n):
            image = x.detach().requires_grad_(True)
            torch.autograd.grad(objective(image)["total"].sum(), image)
            tick()

    runs = {
        "baseline": baseline,
        **{name: ours(vgg) for name, vgg in networks.items()},
        "ours, loss and gradient only": bare,
    }
    gaps = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            stamps = []
            run(evaluations, lambda: stamps.append(time.perf_counter()))
            gaps[name] += [b - a for a, b in zip(stamps[2:], stamps[3:])]
    result = {
        "medians": {name: statistics.median(g) for name, g in gaps.items()},
        "samples": {n: len(g) for n, g in gaps.items()},
    }
    result["alternated"] = _alternated(content, style, features, networks, pairs)
    if profile:
        result["profiles"] = {name: _profile(runs[name], profile) for name in ("baseline", "ours")}
    result["torch"] = torch.__version__
    result["threads"] = torch.get_num_threads()
    result["capability"] = torch.backends.cpu.get_cpu_capability()
    return result


def _alternated(content, style, features, networks, pairs: int) -> dict:
    """Median seconds of one loss-and-gradient evaluation, each implementation in turn, ``pairs`` times."""
    import torch

    import tutorial_style as ts
    from benchmarks.baseline import build_model
    from tutorial_style.objective import Objective

    model, content_losses, style_losses = build_model(
        features, content, style, ts.PAPER_CONTENT_LAYERS, ts.PAPER_STYLE_LAYERS
    )
    model.eval().requires_grad_(False)

    def baseline():
        image = content.clone().requires_grad_(True)
        model(image)
        loss = 1e6 * sum(s.loss for s in style_losses) + sum(c.loss for c in content_losses)
        torch.autograd.grad(loss, image)

    def ours(vgg):
        objective = Objective.for_images(
            vgg,
            content,
            style,
            content_layers=ts.PAPER_CONTENT_LAYERS,
            style_layers=ts.PAPER_STYLE_LAYERS,
            alpha=ts.default_alpha(*content.shape[-2:]),
            beta=ts.Settings().beta,
        )

        def run():
            image = content.clone().requires_grad_(True)
            torch.autograd.grad(objective(image)["total"].sum(), image)

        return run

    runs = {"baseline": baseline, **{name: ours(vgg) for name, vgg in networks.items()}}
    times = {name: [] for name in runs}
    for k in range(pairs + 1):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            if k:  # the first of each is a warm-up
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


def _profile(run, evaluations: int) -> list[tuple[str, float]]:
    """The operators with the most self CPU time, in ms per evaluation (after one warm-up run)."""
    from torch.profiler import ProfilerActivity, profile

    run(2, lambda: None)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run(evaluations, lambda: None)
    rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    return [(e.key, e.self_cpu_time_total / 1000 / evaluations) for e in rows[:14]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument(
        "--evaluations", type=int, default=7, help="per implementation and round; the first two are warm-up"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, default=3, help="evaluations profiled per implementation (0: none)")
    parser.add_argument("--isa", choices=list(ISAS), nargs="+", default=list(ISAS))
    parser.add_argument("--pairs", type=int, default=8, help="single evaluations of each implementation, in turn")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's). On a shared machine 1 gives steadier ratios: with two, every "
        "operation waits for both threads, and a busy core stalls each of them",
    )
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.size, args.evaluations, args.rounds, args.profile, args.threads, args.pairs)))
        return 0
    results = {}
    for isa in args.isa:
        load = os.getloadavg()
        command = [
            sys.executable,
            __file__,
            "--child",
            "--size",
            str(args.size),
            "--evaluations",
            str(args.evaluations),
            "--rounds",
            str(args.rounds),
            "--profile",
            str(args.profile),
            "--pairs",
            str(args.pairs),
            *(["--threads", str(args.threads)] if args.threads else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **ISAS[isa]}, check=True)
        results[isa] = json.loads(done.stdout.strip().splitlines()[-1])
        results[isa]["load before"], results[isa]["load after"] = load, os.getloadavg()
        _print(isa, args.size, results[isa])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def _print(isa: str, size: int, r: dict) -> None:
    m = r["medians"]
    base = m["baseline"]
    load = f"load {r['load before'][0]:.1f} before, {r['load after'][0]:.1f} after"
    print(f"\n## {isa} (ATen: {r['capability']}), {size} px, {r['threads']} threads, torch {r['torch']}; {load}")
    print("| implementation | ms per evaluation | / baseline |\n|---|---:|---:|")
    for name, seconds in m.items():
        print(f"| {name} | {seconds * 1e3:.0f} | {seconds / base:.2f} |")
    a = r["alternated"]
    print(
        "\nloss and gradient alone, one evaluation each in turn:\n"
        "| implementation | ms per evaluation | / baseline |\n|---|---:|---:|"
    )
    for name, seconds in a.items():
        print(f"| {name} | {seconds * 1e3:.0f} | {seconds / a['baseline']:.2f} |")
    for name, rows in r.get("profiles", {}).items():
        print(f"\n{name}: self CPU time per evaluation")
        for key, ms in rows:
            print(f"  {key:<45} {ms:8.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
