"""Real time (issue 15): training a style network, and stylising with it against the paper's optimisation,
on this machine.

    python benchmarks/realtime.py                               # every section, random weights, the CPU
    python benchmarks/realtime.py --sections stylisation        # one section (or training)
    python benchmarks/realtime.py --size 128 --repeats 3        # smaller and quicker
    python benchmarks/realtime.py --sections judged --weights FILE --picture held-out.png   # real features (issue 20)

Each section is one function returning a dict of numbers (printed as JSON lines, then as a table); nothing here is
asserted in tests. Speed does not depend on the weights' values, so random weights (VGG19 and networks) serve.
On a machine shared with other work, ``--threads 1`` gives steadier ratios: two threads that wait for each other
suffer most when another process takes one of the cores.

``stylisation_section()``: on the CPU, at ``size`` px (256 by default; astronaut in the style of mosaic), in one
run: one loss-and-gradient evaluation of the optimisation (VGG19, the paper's layers and weights), the whole fast
preset (``PRESETS["fast"]["steps"]`` such evaluations), and one image through the default network
(``StyleNetwork()``), a slimmer one and Johnson's full network in PyTorch eager (``torch.inference_mode``, batch 1)
and in ONNX Runtime on the CPU (the same network exported with ``export_onnx``, the same number of threads). Each is
timed once per round, in turn, for ``repeats`` rounds after two of warm-up; the medians are kept. Targets: the default
network at most 0.1 x one
evaluation, at least 500 x faster than the fast preset per image, and ONNX Runtime at least as fast as PyTorch.

``judged_section()`` (issue 20; run it with real features, ``--weights FILE`` from ``benchmarks/standin.py``): the CPU
preset's network trained, timed (wall and CPU, with the load average), and judged on the held-out photos by
``benchmarks/judge.py``: the style distance to the artwork and the content distance, photo against output.

``training_section()``: the CPU training preset (``tutorial_style.realtime.train.PRESETS["cpu"]``): wall-clock
time from the call to the returned network (VGG19 already loaded), the training loss at the end (mean of the last
10 steps' batch means), and the loss of the held-out photos (never trained on) through the untrained network, the
trained one, and the photo itself (the identity, for scale), each scored with the training objective at 128 px;
and Johnson et al.'s comparison: the optimisation from white noise with the same loss on the same held-out photos,
and after how many evaluations it first reaches the network's loss.
Then peak memory of training, per network size, each in a fresh process running a few steps: resident memory from
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the process's peak, so torch's allocations are counted, unlike
tracemalloc), with the same process's peak after VGG19 was loaded, before training, for the share training adds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tutorial_style as ts  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402
from tutorial_style.objective import Objective  # noqa: E402
from tutorial_style.realtime import data as rt_data  # noqa: E402
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.network import DEFAULT, JOHNSON  # noqa: E402

SLIM = {"width": 0.5, "blocks": 3}  # a candidate for a slimmer default, measured next to it


def evaluation(content: torch.Tensor, style: torch.Tensor, vgg) -> Callable[[], None]:
    """One loss-and-gradient evaluation of the optimisation, as ``ts.stylize`` runs it with the paper's settings
    (``Settings()``: the layers, alpha, beta): the objective's total loss of an image and its gradient."""
    settings = ts.Settings()
    objective = Objective.for_images(
        vgg,
        content,
        style,
        content_layers=settings.content_layers,
        style_layers=settings.style_layers,
        style_weights=settings.style_weights,
        alpha=settings.alpha_for(*content.shape[-2:]),
        beta=settings.beta,
    )
    image = content.clone().requires_grad_(True)

    def run() -> None:
        image.grad = None
        objective(image)["total"].sum().backward()

    return run


def interleaved_medians(runs: dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds of each run, the runs taken in turn in every round, so that a change in the machine's load
    during the measurement touches them all alike (the ratios are what matter)."""
    times = {name: [] for name in runs}
    for round_ in range(warmup + repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def stylisation_section(weights: str = "random", size: int = 256, repeats: int = 7) -> dict:
    """One evaluation of the optimisation, the fast preset, and the networks in PyTorch and ONNX Runtime, all at
    ``size`` px on the CPU, measured in turn in each round."""
    from tutorial_style.deploy.export import export_onnx, onnx_session, run_onnx

    vgg = ts.get_vgg(weights, device="cpu")
    content, style = ts.load_image("astronaut", size=size), ts.load_image("mosaic", size=size)
    runs, networks = {"evaluation": evaluation(content, style, vgg)}, {}
    with tempfile.TemporaryDirectory() as folder:
        for name, config in (("default", DEFAULT), ("slimmer", SLIM), ("Johnson", JOHNSON)):
            torch.manual_seed(0)
            net = networks[name] = ts.StyleNetwork(**config).eval()
            session = onnx_session(export_onnx(net, Path(folder) / f"{name}.onnx"), threads=torch.get_num_threads())
            runs[f"{name} pytorch"] = torch.inference_mode()(lambda net=net: net(content))
            runs[f"{name} onnx runtime"] = lambda session=session: run_onnx(session, content)
    seconds = interleaved_medians(runs, repeats)
    fast_steps = ts.PRESETS["fast"]["steps"]
    one = seconds["evaluation"]
    result = {
        "size": list(content.shape[-2:]),
        "threads": torch.get_num_threads(),
        "weights": vgg.weights_info.label,
        "one evaluation s": one,
        "fast preset evaluations": fast_steps,
        "fast preset s": fast_steps * one,
        "networks": [],
    }
    for name, net in networks.items():
        eager, ort = seconds[f"{name} pytorch"], seconds[f"{name} onnx runtime"]
        row = {
            "name": name,
            "network": f"width {net.config['width']}, {net.config['blocks']} blocks",
            "parameters": sum(p.numel() for p in net.parameters()),
            "pytorch s": eager,
            "onnx runtime s": ort,
            "x one evaluation": eager / one,
            "x faster than the fast preset": fast_steps * one / eager,
            "onnx runtime / pytorch": ort / eager,
        }
        result["networks"].append(row)
        print(f"{name}: {json.dumps(row)}", flush=True)
    return result


def stylisation_table(result: dict) -> str:
    """The section's numbers as the Markdown table of docs/performance.md."""
    h, w = result["size"]
    lines = [
        f"CPU, {result['threads']} threads, {w}x{h} px: one loss-and-gradient evaluation of the optimisation "
        f"{1e3 * result['one evaluation s']:.0f} ms; the fast preset ({result['fast preset evaluations']} evaluations) "
        f"{result['fast preset s']:.1f} s.",
        "",
        "| network | parameters | PyTorch per image | x one evaluation (target <= 0.1) "
        "| faster than the fast preset (target >= 500) "
        "| ONNX Runtime per image | ORT / PyTorch (target <= 1) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["networks"]:
        lines.append(
            f"| {r['name']} ({r['network']}) | {r['parameters']:,} | {1e3 * r['pytorch s']:.1f} ms "
            f"| {r['x one evaluation']:.3f} | {r['x faster than the fast preset']:.0f}x "
            f"| {1e3 * r['onnx runtime s']:.1f} ms | {r['onnx runtime / pytorch']:.2f} |"
        )
    return "\n".join(lines) + "\n"


TRAINING_LOSS = {
    "alpha": rt_train.TrainingSettings().alpha_for(rt_train.PRESETS["cpu"]["size"]),
    "beta": rt_train.BETA,
    "tv_weight": rt_train.TV_WEIGHT,
    "content_layers": rt_train.JOHNSON_CONTENT_LAYERS,
    "style_layers": ts.PAPER_STYLE_LAYERS,
}


def held_out_loss(network, style: str, vgg, size: int) -> float:
    """Mean total training loss (alpha L_content(relu2_2) + beta L_style + tv L_tv) of ``network`` on the held-out
    photos at ``size`` px; ``network=None`` scores the photos themselves."""
    from tutorial_style.realtime.compare import score

    artwork = ts.load_image(style, size=size)
    totals = []
    for photo in rt_data.held_out_photos(size=size).values():
        with torch.no_grad():
            image = photo if network is None else network.eval()(photo)
        totals += score(vgg, image, photo, artwork, **TRAINING_LOSS)
    return sum(totals) / len(totals)


def catch_up(network, style: str, vgg, size: int, evaluations: int) -> dict:
    """Johnson et al.'s comparison on the held-out photos: the optimisation (``stylize`` from white noise, the same
    loss) against the trained network; after how many evaluations it first reaches the network's loss."""
    from tutorial_style.realtime.compare import compare_with_optimisation

    artwork = ts.load_image(style, size=size)
    rows = {}
    for name, photo in rt_data.held_out_photos(size=size).items():
        c = compare_with_optimisation(vgg, network, photo, artwork, steps=evaluations, **TRAINING_LOSS)
        rows[name] = {
            "network loss": round(c.network_loss[0], 3),
            f"optimisation loss after {evaluations}": round(c.optimisation_loss[0], 3),
            "optimisation first reaches the network at evaluation": c.reached[0],
            "network s": round(c.seconds[0], 3),
            "optimisation s": round(c.seconds[1], 1),
        }
    return rows


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


def training_section(
    weights: str = "random",
    style: str = "mosaic",
    steps: int | None = None,
    memory_steps: int = 3,
    evaluations: int = 200,
) -> dict:
    """The CPU preset's time and losses, the optimisation's catch-up on the held-out photos, and the peak memory of
    training at the default and at Johnson's size."""
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
        "preset": preset,
        "weights": vgg.weights_info.label,
        "threads": torch.get_num_threads(),
        "seconds": round(seconds, 1),
        "seconds per step": round(seconds / len(history), 3),
        "training loss, first step": round(history[0]["total"], 3),
        "training loss, last 10 steps": round(sum(last) / len(last), 3),
        "held-out loss, untrained network": round(held_out_loss(untrained, style, vgg, size), 3),
        "held-out loss, trained network": round(held_out_loss(network, style, vgg, size), 3),
        "held-out loss, the photo itself": round(held_out_loss(None, style, vgg, size), 3),
    }
    print(f"training preset: {json.dumps(result)}", flush=True)
    result["catch-up"] = catch_up(network, style, vgg, size, evaluations)
    print(f"catch-up: {json.dumps(result['catch-up'])}", flush=True)
    for name, config in (
        ("default network", rt_train.PRESETS["cpu"]),
        ("Johnson's network", rt_train.PRESETS["johnson"]),
    ):
        label = f"peak memory, {name}, {config['size']} px, batch {config['batch']}"
        result[label] = peak_training_rss_mb(config, memory_steps, weights)
        print(f"{label}: {json.dumps(result[label])}", flush=True)
    return result


def judged_section(
    weights: str = "random",
    style: str = "mosaic",
    steps: int | None = None,
    size: int = 256,
    picture: str | None = None,
) -> dict:
    """Does the CPU preset's network stylise photos it never saw? The network trained with ``train.PRESETS["cpu"]``
    (``train_network``'s defaults: the content weight ``TrainingSettings.alpha_for``), its time (wall and this process's
    CPU time, with the load average), and the held-out photos at ``size`` px before (the photo) and after (the
    network's output) as ``benchmarks/judge.py`` scores them: the style distance to the artwork and the content
    distance to the photo. ``picture``: a PNG of photo | output for each held-out photo, to look at. Needs real
    features (``--weights FILE``; ``benchmarks/standin.py``): with random weights nothing stylises."""
    import os

    from judge import Judge

    preset = dict(rt_train.PRESETS["cpu"], **({"steps": steps} if steps else {}))
    vgg = ts.get_vgg(weights, device="cpu")
    load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    network, _ = ts.train_network(style, weights=vgg, device="cpu", progress=False, **preset)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    judge, artwork = Judge(weights), ts.load_image(style, size=size)
    result = {
        "preset": preset,
        "alpha": rt_train.TrainingSettings().alpha_for(preset["size"]),
        "weights": vgg.weights_info.label,
        "threads": torch.get_num_threads(),
        "seconds": round(wall, 1),
        "cpu seconds": round(cpu, 1),
        "load average at start, end": [round(load, 1), round(os.getloadavg()[0], 1)],
        "photos": {},
    }
    row = []
    for name, photo in rt_data.held_out_photos(size=size).items():
        with torch.no_grad():
            out = network.eval()(photo)
        before, after = judge(photo, photo, artwork), judge(out, photo, artwork)
        result["photos"][name] = {
            "style distance, photo": round(float(before["style"]), 3),
            "style distance, network": round(float(after["style"]), 3),
            "content distance, network": round(float(after["content"]), 3),
        }
        row += [photo, out]
    if picture:
        height = min(image.shape[-2] for image in row)
        ts.save_image(
            torch.cat(
                [
                    ts.images.resize_to(image, (height, round(image.shape[-1] * height / image.shape[-2])))
                    for image in row
                ],
                dim=-1,
            ),
            picture,
        )
    print(f"judged: {json.dumps(result)}", flush=True)
    return result


SECTIONS = {"stylisation": stylisation_section, "training": training_section, "judged": judged_section}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=["stylisation", "training"])
    parser.add_argument("--weights", default="random", help=WEIGHTS_HELP)
    parser.add_argument("--size", type=int, default=256, help="stylisation: the image's longer side (default 256)")
    parser.add_argument(
        "--repeats", type=int, default=7, help="stylisation: timed runs per network (the median is kept)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for PyTorch and ONNX Runtime (default: PyTorch's)"
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="training steps (default: the preset's; fewer for a quick look)"
    )
    parser.add_argument(
        "--evaluations",
        type=int,
        default=200,
        help="training: the optimisation's evaluations in the catch-up comparison",
    )
    parser.add_argument(
        "--picture", help="judged: write the held-out photos and the network's outputs, side by side, to this PNG"
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    args.weights = resolve_weights(args.weights)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# CPU {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    results = {}
    for name in args.sections:
        if name == "stylisation":
            results[name] = stylisation_section(args.weights, size=args.size, repeats=args.repeats)
            print(stylisation_table(results[name]))
        elif name == "judged":
            results[name] = judged_section(args.weights, steps=args.steps, picture=args.picture)
        else:
            results[name] = training_section(args.weights, steps=args.steps, evaluations=args.evaluations)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
