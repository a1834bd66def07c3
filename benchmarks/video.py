"""Video without flicker (issue 23): the warping error, style and content of a per-frame network and a stabilised one.

    python benchmarks/video.py --weights standin                  # train both with the CPU preset (cached in --out),
                                                                  # report
    python benchmarks/video.py --weights FILE --clips choosing    # the clips for choosing settings (not the
                                                                  # held-out one)
    python benchmarks/video.py --weights FILE --temporal-weight 2 --form difference --out DIR2   # another stabilised
                                                                                                 # network
    python benchmarks/video.py --weights standin --temporal-blend 0.3 0.5  # and each network with the run-time blend

Two networks, trained with ``train.PRESETS["cpu"]`` on the same photos, from the same start, with the same seed: the
**per-frame** one (no temporal term, as Johnson et al.) and the **stabilised** one (``--temporal-weight W``,
``video/temporal.py``). Their checkpoints are kept in ``--out`` and reused by a later run with the same settings.
Each clip of ``video/clips.py`` (``--clips held-out``: only :data:`~tutorial_style.video.clips.HELD_OUT_CLIP`,
kept out of every choice of weights and settings; ``choosing``: the others; ``all``) is made at ``--size`` px and
``--frames`` frames, and for the input video and each network's styling of it this prints:

- the **warping error** (``video/flicker.py``, Lai et al. 2018; the input's is the floor noise and JPEG leave);
- the **style loss**: the training objective's L_style (eq. 5, the package's normalised network) against the
  artwork, mean over the frames; and the judge's style distance (``benchmarks/judge.py``: raw features, max pooling);
- the **content distance** to the input frame (the judge's, relu4_2; 0 for the input itself);
- **frames per second** of the network on the clip (CPU, batches of 4, ``torch.inference_mode``), with the blend's
  optical flow where it is used.

``--temporal-blend S ...`` adds, for each network, its styling blended at run time with strength S
(``video/smoothing.py``).

The goal (issue 23): on the held-out clip, the stabilised network's warping error at most half the per-frame one's,
with its style loss up by at most 10 %. With random weights nothing stylises, so run it with real features
(``--weights standin``, or a file; ``benchmarks/standin.py`` builds the stand-in), and label results with the weights'
name.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from judge import Judge  # noqa: E402

import tutorial_style as ts  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402
from tutorial_style.objective import Objective  # noqa: E402
from tutorial_style.realtime import load_network  # noqa: E402
from tutorial_style.realtime import train as rt_train
from tutorial_style.realtime.stylize import stylize_images  # noqa: E402
from tutorial_style.video.clips import CLIPS, HELD_OUT_CLIP, make_clip  # noqa: E402
from tutorial_style.video.flicker import frame_flows, warping_error  # noqa: E402
from tutorial_style.video.smoothing import blend_video, check_strength  # noqa: E402


def train_or_load(path: Path, style: str, vgg, temporal_weight: float, form: str, steps: int | None) -> tuple:
    """The network at ``path`` if it was trained with these settings, else trained now (the CPU preset) and saved."""
    preset = dict(rt_train.PRESETS["cpu"], **({"steps": steps} if steps else {}))
    if path.is_file():
        net = load_network(path)
        meta = net.meta
        if (meta.get("temporal_weight", 0.0), meta.get("steps"), meta.get("style")) == (
            temporal_weight,
            preset["steps"],
            style,
        ) and (not temporal_weight or meta.get("temporal_form") == form):
            return net.eval(), {
                "seconds": meta.get("train_seconds"),
                "cpu seconds": meta.get("train_cpu_seconds"),
                "cached": True,
            }
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    net, history = ts.train_network(
        style,
        weights=vgg,
        device="cpu",
        progress=False,
        checkpoint=None,
        temporal_weight=temporal_weight,
        temporal_form=form,
        **preset,
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    from tutorial_style.realtime.checkpoint import save_checkpoint

    meta = {
        "style": style,
        "steps": preset["steps"],
        "temporal_weight": temporal_weight,
        "temporal_form": form,
        "weights": vgg.weights_info.label,
        "pretrained": vgg.weights_info.pretrained,
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu, 1),
        "load_at_start": load,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, net, meta)
    return net.eval(), {
        "seconds": round(seconds, 1),
        "cpu seconds": round(cpu, 1),
        "load": [load, os.getloadavg()[0]],
        "cached": False,
    }


def measure(
    frames: torch.Tensor, styled: torch.Tensor | None, flows, objective: Objective, judge: Judge, artwork
) -> dict:
    """Warping error (with DIS flow, and with Farneback's: the run-time blend uses DIS, so the other flow checks it),
    L_style (mean over frames), the judge's style and content distances (means) of ``styled`` (None: the input)."""
    image = frames if styled is None else styled
    with torch.no_grad():
        style_loss = float(objective(image)["style"].mean())
    judged = judge(image, frames, artwork)
    return {
        "warping error": warping_error(frames, image, flows=flows["dis"]).mean,
        "warping error (Farneback)": warping_error(frames, image, flows=flows["farneback"]).mean,
        "style loss": style_loss,
        "judged style": float(judged["style"].mean()),
        "judged content": float(judged["content"].mean()),
    }


def frames_per_second(net, frames: torch.Tensor, blend: float = 0.0) -> float:
    """Frames a second of the network on ``frames`` (batches of 4), and of the run-time blend after it if ``blend``."""
    stylize_images(net, frames[:4])  # warm-up
    start = time.perf_counter()
    styled = stylize_images(net, frames, batch_size=4)
    if blend:
        blend_video(frames, styled, blend)
    return len(frames) / (time.perf_counter() - start)


def table(rows: list[dict]) -> str:
    lines = [
        "| clip | video | warping error (DIS) | warping error (Farneback) | style loss L_style | judged style distance "
        "| judged content distance | frames/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fps = f"{r['fps']:.0f}" if r.get("fps") else "—"
        lines.append(
            f"| {r['clip']} | {r['video']} | {r['warping error']:.2e} | {r['warping error (Farneback)']:.2e} "
            f"| {r['style loss']:.3f} | {r['judged style']:.3f} "
            f"| {r['judged content']:.3f} | {fps} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="random", help=WEIGHTS_HELP)
    parser.add_argument("--style", default="mosaic")
    parser.add_argument(
        "--temporal-weight",
        type=float,
        default=None,
        help="the stabilised network's (default: train.TEMPORAL_WEIGHT_FOR_VIDEO)",
    )
    parser.add_argument("--form", choices=("warp", "difference"), default=rt_train.TEMPORAL_FORM)
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the CPU preset's)")
    parser.add_argument("--clips", choices=("held-out", "choosing", "all"), default="held-out")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--temporal-blend",
        type=float,
        nargs="*",
        default=[],
        help="also each network's styling blended at run time with these strengths (video/smoothing.py)",
    )
    parser.add_argument(
        "--out", default=str(ts.files.cache_dir("benchmark-video")), help="where the two networks are kept"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.weights = resolve_weights(args.weights)
    for strength in args.temporal_blend:  # before minutes of training
        try:
            check_strength(strength, "--temporal-blend")
        except ValueError as e:
            parser.error(str(e))
    weight = args.temporal_weight if args.temporal_weight is not None else rt_train.TEMPORAL_WEIGHT_FOR_VIDEO
    vgg = ts.get_vgg(args.weights, device="cpu")
    judge = Judge(args.weights)
    out = Path(args.out)
    per_frame, t1 = train_or_load(out / f"per-frame-{args.style}.pt", args.style, vgg, 0.0, args.form, args.steps)
    stabilised, t2 = train_or_load(
        out / f"stabilised-{args.style}-{args.form}-{weight:g}.pt", args.style, vgg, weight, args.form, args.steps
    )
    names = {"held-out": [HELD_OUT_CLIP], "choosing": [c for c in CLIPS if c != HELD_OUT_CLIP], "all": list(CLIPS)}[
        args.clips
    ]
    artwork = ts.load_image(args.style, size=args.size)
    rows = []
    for name in names:
        frames = make_clip(name, frames=args.frames, size=args.size)
        flows = {method: frame_flows(frames, method) for method in ("dis", "farneback")}
        objective = Objective.for_images(vgg, frames[:1], artwork, style_layers=ts.PAPER_STYLE_LAYERS)
        rows.append({"clip": name, "video": "input", **measure(frames, None, flows, objective, judge, artwork)})
        for label, net in (
            ("per-frame network", per_frame),
            (f"stabilised network ({args.form}, weight {weight:g})", stabilised),
        ):
            styled = stylize_images(net, frames, batch_size=4)
            rows.append(
                {
                    "clip": name,
                    "video": label,
                    **measure(frames, styled, flows, objective, judge, artwork),
                    "fps": frames_per_second(net, frames),
                }
            )
            for strength in args.temporal_blend:
                blended = blend_video(frames, styled, strength)
                rows.append(
                    {
                        "clip": name,
                        "video": f"{label.split(' (')[0]} + blend {strength:g}",
                        **measure(frames, blended, flows, objective, judge, artwork),
                        "fps": frames_per_second(net, frames, blend=strength),
                    }
                )
    result = {
        "weights": vgg.weights_info.label,
        "style": args.style,
        "frames": args.frames,
        "size": args.size,
        "threads": torch.get_num_threads(),
        "training": {"per-frame": t1, "stabilised": t2},
        "rows": rows,
        "cpu seconds": resource.getrusage(resource.RUSAGE_SELF).ru_utime,
        "load": os.getloadavg(),
    }
    print(json.dumps(result))
    print(f"\nWeights: {result['weights']}; {args.frames} frames of {args.size} px; style {args.style}")
    print(table(rows))
    for name in names:
        r = {row["video"].split(" (")[0]: row for row in rows if row["clip"] == name}
        p = r["per-frame network"]
        for label, s in r.items():
            if label not in ("input", "per-frame network"):
                ratio, check = (s[k] / p[k] for k in ("warping error", "warping error (Farneback)"))
                print(
                    f"{name}, {label}: warping error x{ratio:.2f} (x{check:.2f} with Farneback's flow; goal <= 0.5), "
                    f"style loss {s['style loss'] / p['style loss'] - 1:+.1%} (goal <= +10 %), "
                    f"judged style {s['judged style'] / p['judged style'] - 1:+.1%}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
