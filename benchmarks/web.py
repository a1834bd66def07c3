"""The web page's speed (issue 22): frames per second in headless Chromium, next to ONNX Runtime in Python.

    python benchmarks/web.py                                   # the whole table (about 15 minutes on 2 cores)
    python benchmarks/web.py --sizes 128 256 --threads 2 --networks slim --seconds 4
    python benchmarks/web.py --json web.json                   # also the numbers as JSON
    python benchmarks/web.py --networks slim --checkpoints four.pt --sizes 256 --threads 2 --precisions fp32
                                                               # a network of several styles too (sliders on the page)

The page (``python -m tutorial_style web``'s, served the same way, cross-origin isolated) runs in Debian's headless
Chromium with a fake camera (``--use-fake-device-for-media-stream``, 640 x 480, so a working size of 256 px is a
256 x 192 frame). For each network, precision, size and thread count a fresh tab opens the page
(``?network=...&size=...&threads=...&backend=wasm``), waits for ``--warmup`` styled frames, then counts the frames
finished in ``--seconds``; ``--rounds R`` measures every row R times, in turn, and reports the medians: the page's own
loop, camera frame to canvas (drawing, conversion to floats and back,
ONNX Runtime Web's run). ``network ms`` is the median time of the run alone, as the page measures it. Next to it,
ONNX Runtime in Python on the same model, the same frame size and the same number of threads: 1 / median time of
one run (``--seconds`` of runs after a warm-up).

Networks: ``default`` (``network.DEFAULT``) and ``slim`` (``network.SLIM``, the web page's), with random weights
(speed does not depend on the weights' values), exported to ONNX as the page does; ``int8``: the same quantised
with ``deploy/quantize.py``. ``--checkpoints`` adds trained networks from their files, of one style or several
(``train A B C D --preset web``): for a network of several styles the page shows a slider per style, and before
measuring the benchmark moves them all to 1 (every style at the same weight), so every frame feeds a real mix of all
the styles (the ``styles`` column says how many; int8 takes networks of one style only: ``--precisions fp32``).
The machine's load (1-minute average, ``os.getloadavg``) is printed beside every row: on a shared machine it changes
the numbers more than anything else here.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tutorial_style.deploy.export import onnx_session  # noqa: E402
from tutorial_style.deploy.web import build_site, make_server, web_networks  # noqa: E402
from tutorial_style.realtime import StyleNetwork, save_checkpoint  # noqa: E402
from tutorial_style.realtime.network import DEFAULT, SLIM  # noqa: E402

NETWORKS = {"default": DEFAULT, "slim": SLIM}
CAMERA = (640, 480)  # Chromium's fake camera


def browser_setup():
    """Chromium's path and flags, as the browser tests use them (tests/browser/conftest.py), plus a fake camera."""
    spec = importlib.util.spec_from_file_location("_browser_conftest", ROOT / "tests" / "browser" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    executable = module.find_chromium()
    if executable is None:
        sys.exit("no Chromium found: " + module.HOW_TO_INSTALL)
    return executable, module.CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def frame_size(size: int) -> tuple[int, int]:
    """The page's working size for the fake camera: the longer side ``size``, both sides multiples of 4 (app.js)."""
    w, h = CAMERA
    scale = size / max(w, h)
    return max(8, 4 * round(w * scale / 4)), max(8, 4 * round(h * scale / 4))


def make_networks(names: list[str], folder: Path) -> list[Path]:
    paths = []
    for name in names:
        torch.manual_seed(0)
        meta = {"style": "none", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False}
        paths.append(save_checkpoint(folder / f"{name}.pt", StyleNetwork(**NETWORKS[name]), meta))
    return paths


def web_models(paths: list[Path], int8: bool):
    return web_networks(paths, int8=int8, log=lambda line: print(line, file=sys.stderr))


def page_fps(browser, url: str, seconds: float, warmup: int, styles: int = 0) -> dict:
    """Frames per second of the page at ``url`` in a fresh tab, after ``warmup`` frames; the run's median ms.
    ``styles``: the network's number of styles (0: one style, no sliders); their sliders are all moved to 1 first."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.tutorialStyle && window.tutorialStyle.ready", timeout=180_000)
        sliders = page.locator("#styles input[type=range]")
        if sliders.count() != styles:
            raise RuntimeError(f"the page shows {sliders.count()} style sliders, the network has {styles} styles")
        for i in range(styles):
            sliders.nth(i).fill("1")
        even = page.evaluate("window.tutorialStyle.mix")
        if styles and (len(even) != styles or max(even) - min(even) > 1e-6):
            raise RuntimeError(f"the sliders at 1 gave the mix {even}, not {styles} equal weights")
        page.wait_for_function(f"window.tutorialStyle.frames >= {warmup}", timeout=180_000)
        state = page.evaluate("window.tutorialStyle")
        if state["message"]:
            raise RuntimeError(state["message"])
        start, frames0 = time.perf_counter(), state["frames"]
        samples = []
        while time.perf_counter() - start < seconds:
            time.sleep(0.1)
            samples.append(page.evaluate("window.tutorialStyle.ms"))
        frames = page.evaluate("window.tutorialStyle.frames") - frames0
        elapsed = time.perf_counter() - start
        final = page.evaluate("window.tutorialStyle")
        if final["mix"] != even:
            raise RuntimeError(f"the mix changed while measuring: {even} -> {final['mix']}")
        return {
            "fps": frames / elapsed,
            "network ms": statistics.median(samples),
            "threads used": final["threads"],
            "isolated": final["isolated"],
            "backend": final["backend"],
            "frame": f"{final['width']} x {final['height']}",
        }
    finally:
        context.close()


def python_fps(model: Path, size: tuple[int, int], threads: int, seconds: float, styles: int = 0) -> float:
    """1 / the median time of one run of ``model`` in ONNX Runtime in Python, on ``threads`` threads (a network of
    ``styles`` styles with every style at the same weight, as the page measures it)."""
    session = onnx_session(model, threads=threads)
    w, h = size
    feed = {"images": np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)}
    if styles:
        feed["mix"] = np.full((1, styles), 1 / styles, dtype=np.float32)
    for _ in range(3):
        session.run(None, feed)
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 5:
        t = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t)
    return 1 / statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 192, 256])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--networks", nargs="*", choices=list(NETWORKS), default=list(NETWORKS))
    parser.add_argument(
        "--checkpoints",
        nargs="+",
        type=Path,
        default=[],
        help="trained networks to measure too (NET.pt, of one style or several), named by their file",
    )
    parser.add_argument("--precisions", nargs="+", choices=["fp32", "int8"], default=["fp32", "int8"])
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per row, after the warm-up")
    parser.add_argument("--warmup", type=int, default=5, help="styled frames before measuring")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure every row this many times, in turn; report the medians"
    )
    parser.add_argument(
        "--runtime", default=None, help="ONNX Runtime Web's files (default: the cache; see `web --runtime`)"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    executable, flags = browser_setup()
    rows = []
    with tempfile.TemporaryDirectory(prefix="web-benchmark-") as tmp:
        paths = make_networks(args.networks, Path(tmp)) + list(args.checkpoints)
        if not paths:
            sys.exit("nothing to measure: give --networks or --checkpoints")
        networks = web_models(paths, "int8" in args.precisions)
        networks = [n for n in networks if n.precision in args.precisions]
        site = build_site(networks, Path(tmp) / "site", runtime=args.runtime, link=True)
        server = make_server(site, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        print(
            f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
            f"load before: {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=flags, headless=True)
            try:
                for round_ in range(
                    args.rounds
                ):  # each row once per round, in turn: a change of load touches all alike
                    for net in networks:
                        for size in args.sizes:
                            for threads in args.threads:
                                row = measure(browser, base, net, size, threads, args)
                                row["round"] = round_
                                rows.append(row)
                                print(json.dumps(row), flush=True)
            finally:
                browser.close()
                server.shutdown()
    print(table(medians(rows)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 1 if any("error" in r for r in rows) else 0


def measure(browser, base: str, net, size: int, threads: int, args) -> dict:
    """One row: the page's frames per second, and ONNX Runtime's in Python, for a network, a size, a thread count."""
    load = os.getloadavg()[0]
    url = f"{base}?network={net.name}&size={size}&threads={threads}&backend=wasm"
    row = {
        "network": net.name.removesuffix("-int8"),
        "precision": net.precision,
        "size": size,
        "threads": threads,
        "styles": len(net.styles),
        "model MB": net.model.stat().st_size / 1e6,
    }
    try:
        row.update(page_fps(browser, url, args.seconds, args.warmup, len(net.styles)))
    except Exception as e:  # one failed row is reported, the others still run
        row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    row["python fps"] = python_fps(net.model, frame_size(size), threads, min(args.seconds, 3.0), len(net.styles))
    row["load"] = (load + os.getloadavg()[0]) / 2
    return row


def medians(rows: list[dict]) -> list[dict]:
    """One row per (network, precision, size, threads): the median of its rounds' numbers."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["network"], r["precision"], r["size"], r["threads"]), []).append(r)
    merged = []
    for group in groups.values():
        row = dict(group[0])
        for key in ("fps", "network ms", "python fps", "load"):
            values = [r[key] for r in group if key in r]
            if values:
                row[key] = statistics.median(values)
        merged.append(row)
    return merged


def table(rows: list[dict]) -> str:
    lines = [
        "| network | styles | precision | model | frame | threads | page: frames/s | page: network ms "
        "| ONNX Runtime Python: frames/s | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        w, h = frame_size(r["size"])
        page = (f"{r['fps']:.1f}", f"{r['network ms']:.0f}") if "fps" in r else (r.get("error", "?"), "")
        threads = f"{r['threads']}" + (
            "" if r.get("threads used", r["threads"]) == r["threads"] else f" (page used {r['threads used']})"
        )
        lines.append(
            f"| {r['network']} | {r.get('styles') or 1} | {r['precision']} | {r['model MB']:.2f} MB "
            f"| {r['size']} px ({w} x {h}) | {threads} | {page[0]} | {page[1]} | {r['python fps']:.1f} "
            f"| {r['load']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
