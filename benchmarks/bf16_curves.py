"""Do bf16 convolutions change where the optimisation goes? Loss curves of fp32 and bf16 runs, side by side.

    python benchmarks/bf16_curves.py --size 128 --steps 100

Same images, weights, seed and settings; only ``precision`` differs. Prints the total loss at a few steps
(each run's own measure) and the ratio bf16 / fp32 of the loss of the returned images, both scored in fp32.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tutorial_style as ts

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import delivered_loss  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args(argv)
    vgg = ts.get_vgg("random", device=args.device)
    content, style = ts.load_image("astronaut", size=args.size), ts.load_image("mosaic", size=args.size)
    marks = sorted({0, 5, 10, 25, 50, args.steps // 2, args.steps - 1} & set(range(args.steps)))
    print(f"# {args.size} px, {args.steps} evaluations, device {args.device}, weights {vgg.weights_info.label}")
    print("seed precision " + " ".join(f"{'step ' + str(m):>11}" for m in marks) + "  returned")
    for seed in args.seeds:
        best = {}
        for precision in ("fp32", "bf16"):
            result = ts.stylize(content, style, steps=args.steps, weights=vgg, device=args.device, seed=seed,
                                precision=precision, progress=False)  # fmt: skip
            totals = [h["total"] for h in result.history]
            best[precision] = delivered_loss(content, style, result.image, vgg)
            print(f"{seed:>4} {precision:>9} " + " ".join(f"{totals[m]:>11.4g}" for m in marks) + f" {best[precision]:>10.4g}")
        print(f"{seed:>4} bf16/fp32 ratio of the returned images' fp32 loss {best['bf16'] / best['fp32']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
