"""Issue 6's GPU targets in one prepared run (a few minutes on an H100 or H200):

    python benchmarks/gpu.py --out results/            # on a CUDA machine
    python benchmarks/gpu.py --device cpu --smoke      # a tiny dry run of every section, anywhere

Sections, in order of importance; each writes its numbers to ``OUT/gpu.json`` as soon as it ends, so a run
cut short still leaves what it measured, and ``OUT/gpu.md`` holds the tables for docs/performance.md:

1. time per evaluation at 512 px: the tutorial-style baseline, ours fp32, ours bf16 (target 3: 1.5 ms);
2. where 500 evaluations at 512 px end in bf16 and in fp32, from the content image and from noise, next to
   fp32 runs whose rounding or start changed slightly (``benchmarks/precision.py``; target 3: within 1 %);
3. host syncs inside the loop (torch.cuda sync debug mode; the loop is meant to have none);
4. notebook 06's grid, the paper's Fig. 3: 5 layer sets x 4 ratios at 512 px, 500 evaluations each,
   one batched call per row (target 4: 15 s);
5. time and peak GPU memory per evaluation at 1024 px (target 5: 16 GB);
6. coarse-to-fine at 1024 px (issue 14): 256 -> 512 -> 1024 px against one run at 1024 px
   (``benchmarks/coarse_to_fine.py``);
7. real time (issue 15): a trained network's stylisation at 512 and 1024 px, the default network and Johnson's,
   milliseconds per image at batch 1 and images per second at batch 8, fp32 and bf16;
8. real time: training a network, images per second (``ts.train_network`` at 256 px, batch 8, default and
   Johnson's network; the time of a run of 2 + n steps less that of 2 steps).

Random VGG19 weights throughout: speed does not depend on the weights' values (the losses do, which is why
section 2 compares precisions on the same weights rather than against a fixed number).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tutorial_style as ts  # noqa: E402
from benchmarks import coarse_to_fine  # noqa: E402
from benchmarks import precision as precision_bench  # noqa: E402
from benchmarks.run import time_baseline, torchvision_features  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402
from tutorial_style import tradeoff  # noqa: E402

# Ways to run our stylize, none of which needs a change to the package: precision, the network's weights in
# channels_last memory format (what tensor cores prefer), and cuDNN's autotuner (torch.backends.cudnn.benchmark).
VARIANTS = {
    "fp32": ("fp32", False, False),
    "bf16": ("bf16", False, False),
    "bf16 channels_last": ("bf16", True, False),
    "bf16 channels_last autotuned": ("bf16", True, True),
}
FIG3_COLUMNS = tradeoff.COLUMNS[:4]  # four columns, as the paper's Fig. 3; its rows are tradeoff.layer_sets()
WEIGHTS = "random"  # --weights: speed does not depend on them, the losses of section 2 do


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds_per_step(content, style, vgg, steps, device, **settings) -> float:
    """(time of a run of 2 + steps evaluations - time of a run of 2) / steps: no callback, no sync inside the
    loop, so the GPU runs as far ahead of Python as the loop lets it; set-up and warm-up cancel out."""
    times = []
    for n in (2, 2 + steps, 2, 2 + steps):
        _sync(device)
        start = time.perf_counter()
        ts.stylize(content, style, steps=n, weights=vgg, device=device, progress=False, **settings)
        _sync(device)
        times.append(time.perf_counter() - start)
    return min(times[1::2]) / steps - min(times[0::2]) / steps


def per_evaluation(device, size, steps, baseline=True) -> dict:
    """Milliseconds per evaluation (median after warm-up) and peak memory, baseline and ours."""
    vgg = ts.get_vgg(WEIGHTS, device=device)
    content, style = ts.load_image("astronaut", size=size).to(device), ts.load_image("mosaic", size=size).to(device)
    row = {"size": size, "pixels": list(content.shape[-2:])}
    if baseline:
        features = torchvision_features(ts.VGG19Features(weights="random", pooling="max", normalize=None), device)
        row["baseline ms"] = 1e3 * time_baseline(content, style, features, steps, device)
        del features
    for name, (precision, channels_last, autotune) in VARIANTS.items():
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        net = copy.deepcopy(vgg).to(memory_format=torch.channels_last) if channels_last else vgg
        with torch.backends.cudnn.flags(enabled=True, benchmark=autotune):
            seconds = seconds_per_step(content, style, net, steps, device, precision=precision)
        row[f"ours {name} ms"] = 1e3 * seconds
        if device.type == "cuda":
            row[f"ours {name} peak GB"] = torch.cuda.max_memory_allocated() / 1e9
    return row


def precision_check(device, size, steps) -> dict:
    """bf16 against fp32 and against fp32's own yardsticks (benchmarks/precision.py), from the content image and
    from noise; every returned image scored in fp32."""
    vgg = ts.get_vgg(WEIGHTS, device=device)
    content, style = ts.load_image("astronaut", size=size).to(device), ts.load_image("mosaic", size=size).to(device)
    return {"size": size, "steps": steps, "rows": precision_bench.compare(content, style, vgg, steps, device)}


def host_syncs(device, size, steps) -> dict:
    """Host syncs torch reports while stylize runs (no progress bar, no callback), for a run of 2 evaluations and
    one of 2 + steps: the checks before the loop and the history after it sync once per run, so the difference
    divided by ``steps`` is the number of syncs per step of the loop (meant to be 0)."""
    if device.type != "cuda":
        return {"skipped": "not a CUDA device"}
    vgg = ts.get_vgg(WEIGHTS, device=device)
    content, style = ts.load_image("astronaut", size=size).to(device), ts.load_image("mosaic", size=size).to(device)
    counts, first = [], []
    for n in (2, 2 + steps):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                ts.stylize(content, style, steps=n, weights=vgg, device=device, progress=False)
            finally:
                torch.cuda.set_sync_debug_mode("default")
        syncs = [str(w.message).splitlines()[0] for w in caught if "synchroniz" in str(w.message)]
        counts.append(len(syncs))
        first = first or syncs[:5]
    return {"steps": steps, "syncs per run": counts, "syncs per step": (counts[1] - counts[0]) / steps, "first": first}


def fig3_grid(device, size, steps) -> dict:
    """Notebook 06's grid with the paper's Fig. 3 shape: one batched stylize call per row, nothing cached."""
    vgg = ts.get_vgg(WEIGHTS, device=device)
    _sync(device)
    start = time.perf_counter()
    grid = tradeoff.tradeoff_grid(
        "astronaut",
        "mosaic",
        size=size,
        steps=steps,
        columns=FIG3_COLUMNS,
        weights=vgg,
        device=device,
        cache=False,
        progress=False,
    )
    _sync(device)
    rows, cols = grid.shape
    return {"size": size, "steps": steps, "cells": f"{rows} x {cols}", "seconds": time.perf_counter() - start}


def realtime_stylisation(device, sizes, repeats: int, batch: int = 8) -> dict:
    """Per size and network: ms per image at batch 1 and images per second at ``batch``, fp32 and bf16 (autocast),
    the median of ``repeats`` timed runs after a warm-up, under ``torch.inference_mode``; peak GPU memory."""
    from tutorial_style.realtime.network import DEFAULT, JOHNSON

    rows = []
    for size in sizes:
        for name, config in (("default", DEFAULT), ("Johnson", JOHNSON)):
            torch.manual_seed(0)
            net = ts.StyleNetwork(**config).to(device).eval()
            row = {"size": size, "network": name, **config}
            for precision in ("fp32", "bf16"):
                for n in (1, batch):
                    images = torch.rand(n, 3, size, size, device=device)
                    seconds = _median_seconds(lambda: net(images), repeats, device, precision)
                    key = f"{precision} ms per image" if n == 1 else f"{precision} images/s at batch {n}"
                    row[key] = 1e3 * seconds if n == 1 else n / seconds
            if device.type == "cuda":
                row["peak GB"] = torch.cuda.max_memory_allocated() / 1e9
                torch.cuda.reset_peak_memory_stats()
            rows.append(row)
            print(f"  {json.dumps(row)}", flush=True)
    return {"rows": rows}


def _median_seconds(run, repeats: int, device, precision: str) -> float:
    import statistics

    times = []
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        for i in range(repeats + 2):
            _sync(device)
            start = time.perf_counter()
            run()
            _sync(device)
            times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def realtime_training(device, size: int, batch: int, steps: int) -> dict:
    """Training images per second: ``ts.train_network`` for 2 + ``steps`` steps and for 2 (set-up, data loading
    start and warm-up cancel out), the default network and Johnson's, random VGG19 weights, no checkpoint."""
    from tutorial_style.realtime.network import DEFAULT, JOHNSON

    if not hasattr(ts, "train_network"):
        raise RuntimeError("ts.train_network is not in this checkout (it comes with the training code of issue 15)")
    vgg = ts.get_vgg(WEIGHTS, device=device)
    rows = []
    for name, config in (("default", DEFAULT), ("Johnson", JOHNSON)):
        times = []
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for n in (2, 2 + steps):
            _sync(device)
            start = time.perf_counter()
            ts.train_network(
                "mosaic", steps=n, size=size, batch=batch, weights=vgg, device=device, progress=False, **config
            )
            _sync(device)
            times.append(time.perf_counter() - start)
        seconds_per_step = (times[1] - times[0]) / steps
        row = {
            "network": name,
            **config,
            "size": size,
            "batch": batch,
            "images/s": batch / seconds_per_step,
            "ms per step": 1e3 * seconds_per_step,
        }
        if device.type == "cuda":
            row["peak GB"] = torch.cuda.max_memory_allocated() / 1e9
        rows.append(row)
        print(f"  {json.dumps(row)}", flush=True)
    return {"rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default="benchmark-results", help="folder for gpu.json and gpu.md")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes and step counts: checks that every section runs"
    )
    parser.add_argument("--weights", default="random", help=WEIGHTS_HELP)
    args = parser.parse_args(argv)
    global WEIGHTS
    WEIGHTS = resolve_weights(args.weights)
    device = torch.device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    small = args.smoke
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    results = {
        "device": card,
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "tf32 convolutions": torch.backends.cudnn.allow_tf32,
        "smoke": small,
    }
    print(f"# {card}; torch {torch.__version__}", flush=True)
    sections = [
        ("per evaluation, 512 px", lambda: per_evaluation(device, 32 if small else 512, 4 if small else 40)),
        (
            "precision, 512 px, 500 evaluations",
            lambda: precision_check(device, 32 if small else 512, 3 if small else 500),
        ),
        ("host syncs", lambda: host_syncs(device, 32 if small else 512, 3 if small else 20)),
        ("Fig. 3 grid, 512 px, 500 evaluations", lambda: fig3_grid(device, 32 if small else 512, 2 if small else 500)),
        ("per evaluation, 1024 px", lambda: per_evaluation(device, 48 if small else 1024, 4 if small else 30)),
        (
            "coarse-to-fine, 1024 px",
            lambda: coarse_to_fine.compare(
                device,
                48 if small else 1024,
                (24, 48) if small else (256, 512, 1024),
                (2, 1) if small else (300, 150, 50),
                3 if small else 500,
            ),
        ),
        (
            "real time: stylisation, 512 and 1024 px",
            lambda: realtime_stylisation(
                device, (40, 48) if small else (512, 1024), 1 if small else 20, 2 if small else 8
            ),
        ),
        (
            "real time: training, images per second",
            lambda: realtime_training(device, 32 if small else 256, 2 if small else 8, 1 if small else 30),
        ),
    ]
    for name, section in sections:
        start = time.perf_counter()
        try:
            results[name] = section()
        except Exception as e:  # record it and go on: the later sections still count
            results[name] = {"error": f"{type(e).__name__}: {e}"}
        results[name]["section seconds"] = round(time.perf_counter() - start, 1)
        print(f"{name}: {json.dumps(results[name])}", flush=True)
        (out / "gpu.json").write_text(json.dumps(results, indent=1))
    (out / "gpu.md").write_text(markdown(results))
    print(markdown(results))
    return 0


def markdown(results: dict) -> str:
    lines = [
        f"Card: {results['device']}; torch {results['torch']}; cuDNN {results['cudnn']}; "
        f"TF32 convolutions {'on' if results['tf32 convolutions'] else 'off'} (PyTorch's default)",
        "",
    ]
    lines += [
        "| size | baseline | " + " | ".join(f"ours {v}" for v in VARIANTS) + " | peak GPU memory (fp32) |",
        "|---:|---:|" + "---:|" * len(VARIANTS) + "---:|",
    ]
    for key in ("per evaluation, 512 px", "per evaluation, 1024 px"):
        r = results.get(key, {})
        if "ours fp32 ms" in r:
            base = r.get("baseline ms")
            cells = [
                f"{r[f'ours {v} ms']:.2f} ms" + (f" ({base / r[f'ours {v} ms']:.2f}x)" if base else "")
                for v in VARIANTS
            ]
            peak = r.get("ours fp32 peak GB")
            lines.append(
                f"| {r['size']} px | {base:.2f} ms | "
                + " | ".join(cells)
                + f" | {'-' if peak is None else f'{peak:.1f} GB'} |"
            )
    p = results.get("precision, 512 px, 500 evaluations", {})
    if "rows" in p:
        lines += [
            "",
            f"Where {p['steps']} evaluations at {p['size']} px end, by precision "
            "(last column: over the first fp32 run from the same start):",
            "",
            precision_bench.table(p["rows"]).rstrip(),
        ]
    g = results.get("Fig. 3 grid, 512 px, 500 evaluations", {})
    if "seconds" in g:
        lines += [
            "",
            f"Fig. 3 grid ({g['cells']} cells, {g['size']} px, {g['steps']} evaluations each): {g['seconds']:.1f} s.",
        ]
    s = results.get("host syncs", {})
    if "syncs per step" in s:
        lines += [
            "",
            f"Host syncs per step of the loop: {s['syncs per step']:g} (per run, 2 and {2 + s['steps']} evaluations: "
            f"{s['syncs per run'][0]} and {s['syncs per run'][1]}).",
        ]
    c = results.get("coarse-to-fine, 1024 px", {})
    if "pyramid" in c:
        lines += ["", f"Coarse-to-fine at {c['size']} px, from white noise:", "", coarse_to_fine.table(c).rstrip()]
    lines += realtime_markdown(results)
    errors = [f"- {k}: {v['error']}" for k, v in results.items() if isinstance(v, dict) and "error" in v]
    return "\n".join(lines + (["", "Sections that failed:", *errors] if errors else [])) + "\n"


def realtime_markdown(results: dict) -> list[str]:
    """The lines of sections 7 and 8's tables."""
    lines = []
    rows = results.get("real time: stylisation, 512 and 1024 px", {}).get("rows")
    if rows:
        batched = [k for k in rows[0] if "images/s" in k]  # "fp32 images/s at batch 8", "bf16 ..."
        lines += [
            "",
            "A trained network's stylisation (random weights; speed does not depend on them):",
            "",
            "| size | network | fp32 per image | bf16 per image | " + " | ".join(batched) + " |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['size']} px | {r['network']} | {r['fp32 ms per image']:.2f} ms | "
                f"{r['bf16 ms per image']:.2f} ms | " + " | ".join(f"{r[k]:.0f}" for k in batched) + " |"
            )
    rows = results.get("real time: training, images per second", {}).get("rows")
    if rows:
        lines += [
            "",
            "Training a network (ts.train_network):",
            "",
            "| network | size | batch | images/s | ms per step | peak GPU memory |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            peak = f"{r['peak GB']:.1f} GB" if "peak GB" in r else "-"
            lines.append(
                f"| {r['network']} | {r['size']} px | {r['batch']} | "
                f"{r['images/s']:.1f} | {r['ms per step']:.1f} | {peak} |"
            )
    return lines


if __name__ == "__main__":
    sys.exit(main())
