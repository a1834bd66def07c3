"""The benchmark scripts run end to end (tiny sizes, on the CPU), so the prepared GPU run works when a GPU is
lent. Nothing here asserts speed: the numbers are measured by hand, see docs/performance.md."""

import json
import subprocess
import sys
from pathlib import Path

import tutorial_style as ts

ROOT = Path(__file__).resolve().parent.parent


def test_the_gpu_script_runs_every_section_and_writes_its_tables(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--device", "cpu", "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "gpu.json").read_text())
    sections = [k for k, v in results.items() if isinstance(v, dict)]
    assert len(sections) == 8
    assert [k for k in sections if "error" in results[k]] == [], results  # every section ran
    assert results["Fig. 3 grid, 512 px, 500 evaluations"]["cells"] == "5 x 4"
    table = (tmp_path / "gpu.md").read_text()
    assert "| 32 px |" in table and "Sections that failed" not in table
    assert "| 40 px | default |" in table and "| 48 px | Johnson |" in table  # real-time stylisation
    assert "| Johnson | 32 px | 2 |" in table  # real-time training
    # the precision section: bf16 and the fp32 yardsticks, from both starts
    assert "| coarse-to-fine 24 px → 48 px | 2 + 1 |" in table
    assert "| content | bf16 |" in table and "| noise | fp32, rounding changed (channels_last) |" in table


def test_the_coarse_to_fine_benchmark_runs_and_prints_its_table():
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "coarse_to_fine.py"),
            "--size",
            "48",
            "--sizes",
            "24",
            "48",
            "--steps",
            "2",
            "1",
            "--single-steps",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "| one run at 48 px | 3 |" in done.stdout and "| coarse-to-fine 24 px → 48 px | 2 + 1 |" in done.stdout


def test_the_realtime_benchmark_runs_and_prints_its_speed_table(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "realtime.py"),
            "--sections",
            "stylisation",
            "--size",
            "32",
            "--repeats",
            "1",
            "--json",
            str(tmp_path / "realtime.json"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "realtime.json").read_text())["stylisation"]
    assert [r["name"] for r in results["networks"]] == ["default", "slimmer", "Johnson"]
    assert all(r["pytorch s"] > 0 and r["onnx runtime s"] > 0 for r in results["networks"])
    from tutorial_style.realtime.network import DEFAULT

    assert f"| default (width {DEFAULT['width']}, {DEFAULT['blocks']} blocks) |" in done.stdout
    assert f"the fast preset ({ts.PRESETS['fast']['steps']} evaluations)" in done.stdout


def test_the_video_benchmark_trains_both_networks_and_prints_its_table(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "video.py"),
            "--steps",
            "2",
            "--frames",
            "3",
            "--size",
            "32",
            "--temporal-weight",
            "10",
            "--temporal-blend",
            "0.5",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    from tutorial_style.video.clips import HELD_OUT_CLIP

    assert f"| {HELD_OUT_CLIP} | input |" in done.stdout and f"| {HELD_OUT_CLIP} | per-frame network |" in done.stdout
    assert f"| {HELD_OUT_CLIP} | stabilised network (warp, weight 10) |" in done.stdout
    assert f"| {HELD_OUT_CLIP} | per-frame network + blend 0.5 |" in done.stdout
    assert f"{HELD_OUT_CLIP}, stabilised network + blend 0.5: warping error x" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["per-frame-mosaic.pt", "stabilised-mosaic-warp-10.pt"]
