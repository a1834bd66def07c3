"""Time to a good result on the CPU: the ``fast`` preset against 500-evaluation single-scale runs.

    python benchmarks/fast_preset.py                      # 256 px, astronaut in the style of mosaic
    python benchmarks/fast_preset.py --weights imagenet   # the same with the ImageNet weights

Issue 6, target 2: a 256 px stylisation in at most 60 s on 2 cores whose final total loss is within 5 % of
a 500-evaluation single-scale run. Every run is scored the same way: the total loss (alpha L_content +
beta L_style, float32) of the image it returns, the one a learner sees and saves. The references are the
paper's run (500 evaluations from white noise) and 500 evaluations from the content image (the fast
preset's start, so the second ratio says what the 400 extra evaluations would still buy). The content
image's own loss is printed too: with random weights it is already close to the 500-evaluation run from
it, so the last line says what share of that run's gain over its start the preset gets. The preset's
time is wall-clock from the loaded images to the returned image, weights already in memory.
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


def timed(content, style, vgg, **settings) -> tuple[float, int, float]:
    """(seconds, evaluations, delivered loss) of one stylize run."""
    start = time.perf_counter()
    result = ts.stylize(content, style, weights=vgg, progress=False, **settings)
    seconds = time.perf_counter() - start
    return seconds, len(result.history), delivered_loss(content, style, result.image, vgg)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--content", default="astronaut")
    parser.add_argument("--style", default="mosaic")
    parser.add_argument("--weights", default="random", help=WEIGHTS_HELP)
    parser.add_argument("--reference-steps", type=int, default=500)
    args = parser.parse_args(argv)
    args.weights = resolve_weights(args.weights)

    vgg = ts.get_vgg(args.weights, device="cpu")
    content, style = ts.load_image(args.content, size=args.size), ts.load_image(args.style, size=args.size)
    fast = ts.PRESETS["fast"]
    print(f"# {args.content} in the style of {args.style}, {content.shape[-1]}x{content.shape[-2]} px, weights: "
          f"{vgg.weights_info.label}; CPU {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")  # fmt: skip
    print(f"# fast preset here: {fast}")
    runs = {
        f"paper: noise, {args.reference_steps} evaluations": dict(init="noise", steps=args.reference_steps),
        f"content, {args.reference_steps} evaluations": dict(init="content", steps=args.reference_steps),
        "fast preset": fast,
    }
    results = {}
    for name, settings in runs.items():
        results[name] = timed(content, style, vgg, **settings)
        seconds, evaluations, loss = results[name]
        print(f"{name:<32} {seconds:7.1f} s {evaluations:5d} evaluations  loss of the returned image {loss:.5g}", flush=True)
    start = delivered_loss(content, style, content, vgg)
    print(f"{'the content image itself':<32} {'':9} {0:5d} evaluations  loss of the returned image {start:.5g}")
    loss = results["fast preset"][2]
    for name in list(runs)[:2]:
        print(f"fast preset / {name}: {loss / results[name][2]:.4f} (target: at most 1.05)")
    long = results[list(runs)[1]][2]
    print(f"share of the {args.reference_steps}-evaluation run's gain over the content image that the fast preset gets: "
          f"{(start - loss) / (start - long):.0%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
