"""Time per loss-and-gradient evaluation: the tutorial-style baseline against tutorial_style, side by side.

    python benchmarks/run.py                      # this CPU, 128 and 256 px
    python benchmarks/run.py --device cuda --sizes 512 1024

Both implementations use the paper's layers (content relu4_2, style relu1_1 ... relu5_1), the same random
VGG19 weights (speed does not depend on the weights' values) and the same images. Each timing skips the
first evaluations (warm-up) and takes the median over repeats. Peak memory is reported per size: GPU memory
from torch.cuda, CPU resident memory from a fresh process per size. Speed is measured here, never asserted
in tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tutorial_style as ts  # noqa: E402
from benchmarks.baseline import run_baseline  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402
from tutorial_style.vgg import LAYERS  # noqa: E402


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def delivered_loss(content, style, image, vgg, **settings) -> float:
    """Total loss (float32) of the image a run returned, evaluated afresh: the common yardstick of runs that
    differ in precision, start or steps."""
    result = ts.stylize(
        content, style, init=image, steps=1, weights=vgg, device=image.device, progress=False, **settings
    )
    return result.history[0]["total"]


def time_ours(content, style, vgg, steps, device, **kwargs) -> tuple[float, float]:
    """Seconds per evaluation (median of the gaps after a warm-up) and the final total loss."""
    stamps = []

    def tick(step, image, losses):
        _sync(device)
        stamps.append(time.perf_counter())

    result = ts.stylize(
        content, style, steps=steps, weights=vgg, device=device, progress=False, callback=tick, **kwargs
    )
    gaps = [b - a for a, b in zip(stamps[2:], stamps[3:])]
    return statistics.median(gaps), float(torch.tensor(result.history[-1]["total"]).mean())


def time_baseline(content, style, features, steps, device) -> float:
    stamps = []

    def tick(evaluation):
        _sync(device)
        stamps.append(time.perf_counter())

    run_baseline(features, content, style, ts.PAPER_CONTENT_LAYERS, ts.PAPER_STYLE_LAYERS, steps, callback=tick)
    gaps = [b - a for a, b in zip(stamps[2:], stamps[3:])]
    return statistics.median(gaps)


def torchvision_features(vgg, device):
    """A torchvision-layout copy of the same (unnormalised) weights, for the baseline."""
    import torchvision

    features = torchvision.models.vgg19(weights=None).features
    state = vgg.layers.state_dict()
    features.load_state_dict({f"{LAYERS.index(k.split('.')[0])}.{k.split('.')[1]}": v for k, v in state.items()})
    return features.to(device)


def peak_rss_mb(size: int, steps: int) -> float:
    """Peak resident memory of a fresh process running ours at ``size`` px on the CPU."""
    code = (
        "import resource, tutorial_style as ts;"
        f"c, s = ts.load_image('astronaut', size={size}), ts.load_image('mosaic', size={size});"
        f"ts.stylize(c, s, steps={steps}, weights='random', device='cpu', progress=False);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--steps", type=int, default=10, help="evaluations per timing (the first two are warm-up)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also measure peak CPU memory per size (slow)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--weights", default="random", help=f"{WEIGHTS_HELP}; speed does not depend on them")
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    weights = resolve_weights(args.weights)
    vgg = ts.get_vgg(weights, device=device)
    features = torchvision_features(ts.VGG19Features(weights=weights, pooling="max", normalize=None), device)
    variants = {"ours fp32": {}, "ours bf16": {"precision": "bf16"}}
    where = (
        torch.cuda.get_device_name(0)
        if device.type == "cuda"
        else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    )
    print(
        f"# device: {device} ({where}); torch {torch.__version__}; {args.steps} evaluations, "
        f"median of gaps, best of {args.repeats}"
    )
    rows = []
    for size in args.sizes:
        content = ts.load_image("astronaut", size=size).to(device)
        style = ts.load_image("mosaic", size=size).to(device)
        row = {"size": size}
        if not args.no_baseline:
            row["baseline"] = min(
                time_baseline(content, style, features, args.steps, device) for _ in range(args.repeats)
            )
        for name, kwargs in variants.items():
            best = min(
                (time_ours(content, style, vgg, args.steps, device, **kwargs) for _ in range(args.repeats)),
                key=lambda t: t[0],
            )
            row[name], row[name + " loss"] = best
        if device.type == "cuda":
            row["peak GPU MB"] = torch.cuda.max_memory_allocated() / 2**20
            torch.cuda.reset_peak_memory_stats()
        elif args.memory:
            row["peak RSS MB"] = peak_rss_mb(size, 3)
        rows.append(row)
        _print_row(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


def _print_row(row):
    parts = [f"{row['size']:>5} px"]
    base = row.get("baseline")
    if base:
        parts.append(f"baseline {base * 1e3:8.1f} ms")
    for name in ("ours fp32", "ours bf16"):
        ratio = f" ({base / row[name]:.2f}x)" if base else ""
        parts.append(f"{name} {row[name] * 1e3:8.1f} ms{ratio}")
    loss32, loss16 = row["ours fp32 loss"], row["ours bf16 loss"]
    parts.append(f"bf16/fp32 final loss {loss16 / loss32:.4f}")
    for key in ("peak GPU MB", "peak RSS MB"):
        if key in row:
            parts.append(f"{key} {row[key]:.0f}")
    print(" | ".join(parts), flush=True)


if __name__ == "__main__":
    sys.exit(main())
