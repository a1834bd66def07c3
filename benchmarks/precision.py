"""How far does rounding move where the optimisation ends? fp32 against itself, and bf16 against fp32.

    python benchmarks/precision.py                                      # 128 px, 300 evaluations, CPU
    python benchmarks/precision.py --device cuda --size 512 --steps 500

Issue 6 asks bf16 to end "within 1 % of fp32 on the same run". From white noise, L-BFGS is chaotic: a change
of rounding alone (the network in channels_last memory format, so other kernels add in another order) or
a start moved by 1e-6 ends more than 1 % away. So every start gets these fp32 yardsticks next to bf16, and
bf16's difference means something only where it is larger than theirs. From the content image the fp32
runs agree closely, and that is where the 1 % is judged.

Each run is scored by the float32 total loss of the image it returns; the start's own loss is a row too
(a run that returns its start has gained nothing). The columns before it are the run's own loss curve,
in its own precision.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tutorial_style as ts  # noqa: E402
from benchmarks.run import delivered_loss  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402

NUDGE = 1e-6
STARTS = ("content", "noise")


def runs(device) -> dict[str, dict]:
    """The runs per start: (precision, channels_last network, start moved by NUDGE, TF32 convolutions)."""
    fp32 = "fp32 (TF32 convolutions, PyTorch's default)" if device.type == "cuda" else "fp32"
    table = {
        fp32: dict(precision="fp32"),
        "fp32, rounding changed (channels_last)": dict(precision="fp32", channels_last=True),
        f"fp32, start moved by {NUDGE:g}": dict(precision="fp32", nudge=True),
        "bf16": dict(precision="bf16"),
    }
    if device.type == "cuda":
        table["fp32, TF32 off"] = dict(precision="fp32", tf32=False)
    return table


def compare(content, style, vgg, steps, device, seed=0) -> list[dict]:
    """One row per start and run: the run's own loss at a few steps, and the fp32 loss of the image it returns."""
    channels_last = copy.deepcopy(vgg).to(memory_format=torch.channels_last)
    noise = torch.rand(content.shape, generator=torch.Generator().manual_seed(seed)).to(device)
    marks = sorted({min(10, steps - 1), steps // 2, steps - 1})
    rows = []
    for start in STARTS:
        x0 = content if start == "content" else noise
        reference = None
        rows.append(
            {"start": start, "run": "the start itself (0 evaluations)", "loss": delivered_loss(content, style, x0, vgg)}
        )
        for name, run in runs(device).items():
            init = (
                (
                    x0 + NUDGE * torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed + 1)).to(device)
                ).clamp(0, 1)
                if run.get("nudge")
                else x0
            )
            net = channels_last if run.get("channels_last") else vgg
            with torch.backends.cudnn.flags(enabled=True, allow_tf32=run.get("tf32", True)):
                result = ts.stylize(
                    content,
                    style,
                    init=init,
                    steps=steps,
                    weights=net,
                    device=device,
                    precision=run["precision"],
                    progress=False,
                )
            loss = delivered_loss(content, style, result.image, vgg)
            reference = loss if reference is None else reference  # the first fp32 run from this start
            curve = {m: result.history[m]["total"] for m in marks}
            rows.append({"start": start, "run": name, "curve": curve, "loss": loss, "/ fp32": loss / reference})
            print(f"{start:>8}  {name:<44} {' '.join(f'{v:10.5g}' for v in curve.values())}  {loss:10.5g}", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    """The rows of :func:`compare` as a markdown table."""
    marks = next(r["curve"] for r in rows if "curve" in r)
    lines = [
        "| start | run | "
        + " | ".join(f"own loss at step {m}" for m in marks)
        + " | fp32 loss of the returned image | / fp32 |",
        "|---|---|" + "---:|" * (len(marks) + 2),
    ]
    for r in rows:
        curve = [f"{v:.5g}" for v in r["curve"].values()] if "curve" in r else [""] * len(marks)
        ratio = f"{r['/ fp32']:.4f}" if "/ fp32" in r else ""
        lines.append(f"| {r['start']} | {r['run']} | " + " | ".join(curve) + f" | {r['loss']:.5g} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--weights", default="random", help=WEIGHTS_HELP)
    args = parser.parse_args(argv)
    args.weights = resolve_weights(args.weights)
    device = torch.device(args.device)
    vgg = ts.get_vgg(args.weights, device=device)
    content = ts.load_image("astronaut", size=args.size).to(device)
    style = ts.load_image("mosaic", size=args.size).to(device)
    print(
        f"# astronaut in the style of mosaic, {args.size} px, {args.steps} evaluations, device {device}, "
        f"weights {vgg.weights_info.label}"
    )
    print(table(compare(content, style, vgg, args.steps, device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
