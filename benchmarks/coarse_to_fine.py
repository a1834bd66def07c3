"""Coarse-to-fine (Gatys et al. 2017, section 6) against one run at the full size: time and final loss.

    python benchmarks/coarse_to_fine.py                          # this CPU: 256 px, pyramid 128 -> 256
    python benchmarks/coarse_to_fine.py --device cuda --size 1024 --sizes 256 512 1024 --steps 300 150 50 --single-steps
    500

Every run starts from the same white noise with the paper's settings (alpha/beta = 1e-3, L-BFGS, the five style
layers) and is scored the same way: the total loss at the full size of the image it returns (``delivered_loss``,
as in ``run.py``). The single run gets ``--single-steps`` evaluations at the full size; the pyramid gets
``--steps`` evaluations at each of ``--sizes``. Wall-clock from the loaded images to the returned image, the
weights already in memory. Random VGG19 weights by default: speed does not depend on the weights' values, the
losses do (compare runs with each other, not with other weights' numbers).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tutorial_style as ts  # noqa: E402
from benchmarks.run import delivered_loss  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def compare(
    device, size: int, sizes, steps, single_steps: int, weights: str = "random", content="astronaut", style="mosaic"
) -> dict:
    """{"single": {...}, "pyramid": {...}}: seconds, evaluations and delivered loss of each run."""
    device = torch.device(device)
    vgg = ts.get_vgg(weights, device=device)
    c, s = ts.load_image(content, size=size), ts.load_image(style, size=size)
    runs = {"single": dict(steps=single_steps), "pyramid": dict(sizes=tuple(sizes), steps=tuple(steps))}
    out = {"size": size, "weights": vgg.weights_info.label}
    for name, settings in runs.items():
        _sync(device)
        start = time.perf_counter()
        result = ts.stylize(c, s, weights=vgg, device=device, progress=False, **settings)
        _sync(device)
        seconds = time.perf_counter() - start
        out[name] = {
            **{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
            "seconds": seconds,
            "evaluations": len(result.history),
            "loss": delivered_loss(c.to(device), s.to(device), result.image, vgg),
        }
    return out


def table(r: dict) -> str:
    lines = ["| run | evaluations | time | total loss at full size |", "|---|---:|---:|---:|"]
    for name in ("single", "pyramid"):
        x = r[name]
        what = (
            f"one run at {r['size']} px"
            if name == "single"
            else "coarse-to-fine " + " → ".join(f"{p} px" for p in x["sizes"])
        )
        steps = str(x["steps"]) if name == "single" else " + ".join(map(str, x["steps"]))
        lines.append(f"| {what} | {steps} | {x['seconds']:.1f} s | {x['loss']:.4g} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256, help="the full size (longer side, px)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[128, 256], help="the pyramid's sizes, the last = --size"
    )
    parser.add_argument("--steps", type=int, nargs="+", default=[150, 50], help="the pyramid's evaluations per size")
    parser.add_argument("--single-steps", type=int, default=200, help="evaluations of the single run at the full size")
    parser.add_argument("--weights", default="random", help=WEIGHTS_HELP)
    args = parser.parse_args(argv)
    args.weights = resolve_weights(args.weights)
    if args.sizes[-1] != args.size:
        parser.error("the last of --sizes must be --size")
    where = (
        torch.cuda.get_device_name(0)
        if args.device.startswith("cuda")
        else f"CPU {platform.machine()}, {torch.get_num_threads()} threads"
    )
    print(f"# astronaut in the style of mosaic, from white noise; {where}; torch {torch.__version__}", flush=True)
    r = compare(args.device, args.size, args.sizes, args.steps, args.single_steps, args.weights)
    print(f"# weights: {r['weights']}")
    print(table(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
