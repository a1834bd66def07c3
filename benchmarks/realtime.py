"""Real time (issue 15): training a style network, and stylising with it, measured on this machine.

    python benchmarks/realtime.py                        # every section, random weights, the CPU
    python benchmarks/realtime.py --sections training    # one section
    python benchmarks/realtime.py --weights imagenet     # the same with the ImageNet weights, where they are

Each section is one function returning a dict of numbers (printed as JSON lines); nothing here is asserted in tests.

``training_section()``: the CPU training preset (``tutorial_style.realtime.train.PRESETS["cpu"]``): wall-clock
time from the call to the returned network (VGG19 already loaded), the training loss at the end (mean of the last
10 steps' batch means), and the loss of the held-out photos (never trained on) through the untrained network, the
trained one, and the photo itself (the identity, for scale), each scored with the training objective at 128 px.
Then peak memory of training, per network size, each in a fresh process running a few steps: resident memory from
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the process's peak, so torch's allocations are counted, unlike
tracemalloc), with the same process's peak after VGG19 was loaded, before training, for the share training adds.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tutorial_style as ts  # noqa: E402
from tutorial_style.objective import Objective  # noqa: E402
from tutorial_style.realtime import data as rt_data, train as rt_train  # noqa: E402


def held_out_loss(network, style: str, vgg, size: int) -> float:
    """Mean total training loss (alpha L_content(relu2_2) + beta L_style + tv L_tv) of ``network`` on the held-out
    photos at ``size`` px; ``network=None`` scores the photos themselves."""
    totals = []
    for photo in rt_data.held_out_photos(size=size).values():
        objective = Objective.for_images(
            vgg, photo, ts.load_image(style, size=size), content_layers=rt_train.JOHNSON_CONTENT_LAYERS,
            style_layers=ts.PAPER_STYLE_LAYERS, alpha=rt_train.ALPHA, beta=rt_train.BETA, tv_weight=rt_train.TV_WEIGHT,
        )  # fmt: skip
        with torch.no_grad():
            image = photo if network is None else network.eval()(photo)
            totals.append(float(objective(image)["total"]))
    return sum(totals) / len(totals)


def peak_training_rss_mb(preset: dict, steps: int, weights: str) -> dict:
    """Peak resident memory (MB) of a fresh process training ``steps`` steps with ``preset``, and before training."""
    code = (
        "import resource, sys, tutorial_style as ts;"
        f"vgg = ts.get_vgg({weights!r}, device='cpu');"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024;"
        f"ts.train_network('mosaic', weights=vgg, device='cpu', progress=False, **{dict(preset, steps=steps)!r});"
        "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, peak = map(float, out.stdout.strip().splitlines()[-1].split())
    return {"peak MB": round(peak), "before training MB": round(before), "training adds MB": round(peak - before)}


def training_section(weights: str = "random", style: str = "mosaic", steps: int | None = None, memory_steps: int = 3) -> dict:
    """The CPU preset's time and losses, and the peak memory of training at the default and at Johnson's size."""
    preset = dict(rt_train.PRESETS["cpu"], **({"steps": steps} if steps else {}))
    vgg = ts.get_vgg(weights, device="cpu")
    size = preset["size"]
    torch.manual_seed(0)
    untrained = ts.StyleNetwork(width=preset["width"], blocks=preset["blocks"])
    start = time.perf_counter()
    network, history = ts.train_network(style, weights=vgg, device="cpu", progress=False, **preset)
    seconds = time.perf_counter() - start
    last = [row["total"] for row in history[-10:]]
    result = {
        "preset": preset, "weights": vgg.weights_info.label, "threads": torch.get_num_threads(),
        "seconds": round(seconds, 1), "seconds per step": round(seconds / len(history), 3),
        "training loss, first step": round(history[0]["total"], 3), "training loss, last 10 steps": round(sum(last) / len(last), 3),
        "held-out loss, untrained network": round(held_out_loss(untrained, style, vgg, size), 3),
        "held-out loss, trained network": round(held_out_loss(network, style, vgg, size), 3),
        "held-out loss, the photo itself": round(held_out_loss(None, style, vgg, size), 3),
    }  # fmt: skip
    print(f"training preset: {json.dumps(result)}", flush=True)
    for name, config in (("default network", rt_train.PRESETS["cpu"]), ("Johnson's network", rt_train.PRESETS["johnson"])):
        label = f"peak memory, {name}, {config['size']} px, batch {config['batch']}"
        result[label] = peak_training_rss_mb(config, memory_steps, weights)
        print(f"{label}: {json.dumps(result[label])}", flush=True)
    return result


SECTIONS = {"training": training_section}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--weights", default="random", help="random (default: no download needed), imagenet, auto or a file")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the preset's; fewer for a quick look)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    print(f"# CPU {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    results = {}
    for name in args.sections:
        results[name] = training_section(args.weights, steps=args.steps) if name == "training" else SECTIONS[name]()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
