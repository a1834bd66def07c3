"""How long Run All takes for each notebook, as a learner runs it: no environment variables, a fresh kernel.

    python benchmarks/notebooks.py                        # every notebook, the profile the device picks
    python benchmarks/notebooks.py 05 06 --profile laptop # some notebooks, a chosen profile
    python benchmarks/notebooks.py --quick                # quick mode (what the tests use)

Each notebook is copied to a temporary folder (so nothing is written next to the originals) and executed top to
bottom with nbclient, as "Run All" does; a cell that waits for the learner (a Run button, a parameter set on
purpose) waits here too, so what is timed is what happens without asking. Without ImageNet weights on the machine
the notebooks use random weights (said in the output): the time is the same, the pictures are not. Each kernel gets
an empty cache folder (``TUTORIAL_STYLE_CACHE``), so notebook 06's grid and the normalisation are computed as on a
learner's first run.

The issue-16 budget: at most about 20 minutes per notebook on a 2-core CPU (10 on a 4-core laptop). Prints a
Markdown table for docs/performance.md and writes it, with the machine, to ``--out`` (default notebook_times.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
BUDGET_MINUTES = 20  # per notebook, on 2 cores


def run_notebook(path: Path, env: dict, timeout: float) -> tuple[float, float, str]:
    """(seconds, kernel CPU seconds, outcome) of one Run All in a fresh kernel; outcome is "ok" or the error's first
    line. The kernel's CPU time (all its threads, from ``getrusage`` of this process's finished children) does not
    depend on what else the machine runs: on an otherwise idle machine with as many cores as torch uses threads,
    Run All takes between CPU time / threads and CPU time."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    with tempfile.TemporaryDirectory(prefix="tutorial_style_nb_") as folder:
        copy = Path(folder) / path.name
        shutil.copy(path, copy)
        nb = nbformat.read(copy, as_version=4)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            client = NotebookClient(
                nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}}
            )
            start, cpu = time.perf_counter(), _children_cpu()
            try:
                client.execute()
                outcome = "ok"
            except CellTimeoutError:
                outcome = f"a cell ran over {timeout:.0f} s"
            except CellExecutionError as e:
                outcome = "error: " + (str(e).strip().splitlines() or ["?"])[-1][:120]
            seconds = time.perf_counter() - start
            del client  # the kernel has been shut down and waited for: its CPU time is in getrusage now
            return seconds, _children_cpu() - cpu, outcome
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook numbers or names (default: all)")
    parser.add_argument(
        "--profile", default=None, help="TUTORIAL_STYLE_PROFILE for the kernels (default: as the device picks)"
    )
    parser.add_argument("--quick", action="store_true", help="TUTORIAL_STYLE_QUICK=1, as the tests")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one cell may take (default 3600)")
    parser.add_argument("--out", default="notebook_times.md", help="where to write the table")
    parser.add_argument("--weights", default=None, help=f"TUTORIAL_STYLE_WEIGHTS for the kernels: {WEIGHTS_HELP}")
    args = parser.parse_args(argv)
    if args.weights:
        os.environ["TUTORIAL_STYLE_WEIGHTS"] = resolve_weights(args.weights)

    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        paths = [p for p in paths if any(p.name.startswith(n) or p.stem == n for n in args.names)]
    env = {"TUTORIAL_STYLE_QUICK": "1" if args.quick else ""}
    if args.profile:
        env["TUTORIAL_STYLE_PROFILE"] = args.profile
    for name in ("TUTORIAL_STYLE_QUICK", "TUTORIAL_STYLE_PROFILE"):  # a learner's shell sets neither
        if name not in env:
            env[name] = ""

    import torch

    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    weights = os.environ.get("TUTORIAL_STYLE_WEIGHTS", "auto")
    lines = [
        f"Run All per notebook "
        f"({'quick mode' if args.quick else 'profile ' + (args.profile or 'chosen by the device')}; "
        f"weights: {weights}; {machine}; load before: {os.getloadavg()[0]:.1f})",
        "",
        "| notebook | Run All | kernel CPU time | load (1 min) at start, end | outcome |",
        "|---|---:|---:|---|---|",
    ]
    print("\n".join(lines), flush=True)
    worst = 0.0
    for path in paths:
        load = os.getloadavg()[0]
        with (
            tempfile.TemporaryDirectory() as cache
        ):  # a first run: nothing cached (notebook 06's grid, the normalisation)
            seconds, cpu, outcome = run_notebook(path, {**env, "TUTORIAL_STYLE_CACHE": cache}, args.timeout)
        worst = max(worst, seconds)
        line = (
            f"| {path.name} | {seconds / 60:.1f} min | {cpu / 60:.1f} min | "
            f"{load:.1f}, {os.getloadavg()[0]:.1f} | {outcome} |"
        )
        lines.append(line)
        print(line, flush=True)
    lines.append("")
    lines.append(f"longest: {worst / 60:.1f} min (budget: {BUDGET_MINUTES} min per notebook on 2 cores)")
    print(lines[-1])
    Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
