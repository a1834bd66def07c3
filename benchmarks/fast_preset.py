"""Time to a good result on the CPU: the ``fast`` preset against 500-evaluation single-scale runs.

    python benchmarks/fast_preset.py --weights standin                      # real features (the stand-in), 256 px
    python benchmarks/fast_preset.py --weights standin --reference-steps 0  # the preset alone, judged
    python benchmarks/fast_preset.py --weights imagenet                     # torchvision's VGG19, where it can be had

With real features (``--weights standin`` or ``imagenet``) every returned image is also judged by
``benchmarks/judge.py`` (style distance to the artwork, content distance to the photo), and the photo itself is
judged as the starting point. Besides wall-clock time, the process's CPU time is printed: on a machine shared with
other work it is the steadier number, and CPU time / threads is what an idle machine with that many cores takes
at best.

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
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tutorial_style as ts  # noqa: E402
from benchmarks.judge import Judge  # noqa: E402
from benchmarks.run import delivered_loss  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402


def timed(content, style, vgg, **settings) -> tuple[float, float, int, float, torch.Tensor]:
    """(seconds, CPU seconds, evaluations, delivered loss, image) of one stylize run."""
    start, cpu = time.perf_counter(), time.process_time()
    result = ts.stylize(content, style, weights=vgg, progress=False, **settings)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu, len(result.history), delivered_loss(content, style, result.image, vgg), result.image


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
    print(
        f"# {args.content} in the style of {args.style}, {content.shape[-1]}x{content.shape[-2]} px, weights: "
        f"{vgg.weights_info.label}; CPU {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}"
    )
    print(f"# fast preset here: {fast}")
    judge = Judge(args.weights) if vgg.weights_info.pretrained else None
    print(f"# load (1 min) at the start: {os.getloadavg()[0]:.1f}")

    def verdict(image) -> str:
        if judge is None:
            return ""
        d = judge(image, content, style)
        return f"  judged: style {float(d['style'][0]):.3f}, content {float(d['content'][0]):.3f}"

    runs = {"fast preset": fast}
    if args.reference_steps:
        runs = {
            f"paper: noise, {args.reference_steps} evaluations": dict(init="noise", steps=args.reference_steps),
            f"content, {args.reference_steps} evaluations": dict(init="content", steps=args.reference_steps),
            **runs,
        }
    results = {}
    for name, settings in runs.items():
        results[name] = timed(content, style, vgg, **settings)
        seconds, cpu, evaluations, loss, image = results[name]
        print(
            f"{name:<32} {seconds:7.1f} s ({cpu:6.1f} s CPU) {evaluations:5d} evaluations  loss of the returned image "
            f"{loss:.5g}{verdict(image)}",
            flush=True,
        )
    start = delivered_loss(content, style, content, vgg)
    print(
        f"{'the content image itself':<32} {'':22} {0:5d} evaluations  "
        f"loss of the returned image {start:.5g}{verdict(content)}"
    )
    print(f"# load (1 min) at the end: {os.getloadavg()[0]:.1f}")
    if not args.reference_steps:
        return 0
    loss = results["fast preset"][3]
    for name in list(runs)[:2]:
        print(f"fast preset / {name}: {loss / results[name][3]:.4f} (target: at most 1.05)")
    long = results[list(runs)[1]][3]
    print(
        f"share of the {args.reference_steps}-evaluation run's gain over the content image that the fast preset gets: "
        f"{(start - loss) / (start - long):.0%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
