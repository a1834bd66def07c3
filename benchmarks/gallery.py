"""The gallery: what the package makes with real ImageNet features, every picture captioned with its weights.

    python benchmarks/gallery.py                              # the stand-in, every section (an hour or more on 2 cores)
    python benchmarks/gallery.py --sections fast row          # some sections only; the others keep their pictures
    python benchmarks/gallery.py --weights imagenet           # torchvision's VGG19, where it can be downloaded
    python benchmarks/gallery.py --network mosaic.pt          # the real-time section from a trained network

Writes ``docs/gallery/*.jpg`` and ``docs/gallery.md``. Each section is one run of the package's public API, with the
settings a learner would use (the fast preset, the paper preset, the trade-off grid's columns, the 2017 controls, a
trained network on held-out photos), timed, and judged by ``benchmarks/judge.py``: the style distance to the artwork
and the content distance to the photo, measured apart from the objective that made the picture. A section's record
is kept in ``docs/gallery/records.json``, so running one section again rewrites the page with the others unchanged.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tutorial_style as ts  # noqa: E402
from benchmarks.judge import Judge  # noqa: E402
from benchmarks.standin import WEIGHTS_HELP, resolve_weights  # noqa: E402
from tutorial_style import tradeoff  # noqa: E402
from tutorial_style.files import atomic_write  # noqa: E402
from tutorial_style.images import resize_to  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"
PHOTO, ARTWORK, SECOND = "astronaut", "mosaic", "swirls"


def strip(images: list[torch.Tensor], height: int = 192, gap: int = 4) -> Image.Image:
    """Images side by side at one height, on white: one JPEG per gallery row."""
    tiles = []
    for image in images:
        array = (image[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype("uint8")
        tile = Image.fromarray(array)
        tiles.append(tile.resize((round(tile.width * height / tile.height), height), Image.LANCZOS))
    out = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), height), "white")
    x = 0
    for tile in tiles:
        out.paste(tile, (x, 0))
        x += tile.width + gap
    return out


def save(name: str, images: list[torch.Tensor], per_row: int | None = None, gap: int = 4) -> str:
    """One JPEG of ``images`` side by side, or in rows of ``per_row``."""
    path = OUT / f"{name}.jpg"
    rows = [strip(images[i : i + per_row]) for i in range(0, len(images), per_row)] if per_row else [strip(images)]
    out = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows) + gap * (len(rows) - 1)), "white")
    for i, row in enumerate(rows):
        out.paste(row, (0, i * (row.height + gap)))
    with atomic_write(path) as f:
        out.save(f, format="JPEG", quality=88)
    return f"gallery/{path.name}"


def judged(judge: Judge, image, photo, artwork) -> str:
    d = judge(image, photo, artwork)
    return f"style {float(d['style'][0]):.3f}, content {float(d['content'][0]):.3f}"


def run(label: str, fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def section_fast(vgg, judge, size):
    photo, artwork = ts.load_image(PHOTO, size=size), ts.load_image(ARTWORK, size=size)
    result, seconds = run("fast", lambda: ts.stylize(photo, artwork, weights=vgg, progress=False, **ts.PRESETS["fast"]))
    return {
        "title": "The fast preset (the command line's default)",
        "command": f"python -m tutorial_style stylize {PHOTO} {ARTWORK} -o out.png --size {size}",
        "image": save("fast", [photo, resize_to(artwork, photo.shape[-2:]), result.image]),
        "caption": f"photo, artwork, result: {size} px, 70 L-BFGS evaluations from the photo, "
        f"alpha = {result.settings['alpha']:.2g} "
        f"(the default for this size), {seconds:.0f} s. Judged: photo {judged(judge, photo, photo, artwork)}; "
        f"result {judged(judge, result.image, photo, artwork)}.",
    }


def section_paper(vgg, judge, size):
    photo, artwork = ts.load_image(PHOTO, size=size), ts.load_image(ARTWORK, size=size)
    result, seconds = run(
        "paper", lambda: ts.stylize(photo, artwork, weights=vgg, progress=False, **ts.PRESETS["paper"])
    )
    return {
        "title": "The paper's run: 500 evaluations from white noise",
        "command": f"python -m tutorial_style stylize {PHOTO} {ARTWORK} -o out.png --preset paper --size {size}",
        "image": save("paper", [photo, result.image]),
        "caption": f"photo, result: {size} px (the paper used about 512), 500 L-BFGS evaluations from uniform "
        f"white noise, alpha = {result.settings['alpha']:.2g}, {seconds:.0f} s. "
        f"Judged: {judged(judge, result.image, photo, artwork)}.",
    }


def section_row(vgg, judge, size):
    photo, artwork = ts.load_image(PHOTO, size=size), ts.load_image(ARTWORK, size=size)
    ratios = tradeoff.default_ratios(*photo.shape[-2:])
    result, seconds = run(
        "row",
        lambda: tradeoff.tradeoff_row(
            photo, artwork, ts.PAPER_STYLE_LAYERS, ratios, weights=vgg, progress=False, **ts.PRESETS["fast"]
        ),
    )
    d = judge(result.image, photo, artwork)
    cells = ", ".join(
        f"{r:.0e}: style {float(s):.2f} / content {float(c):.2f}" for r, s, c in zip(ratios, d["style"], d["content"])
    )
    return {
        "title": "The trade-off: one row of notebook 06's grid",
        "command": "notebook 06, or ts.tradeoff.tradeoff_row(photo, artwork, ts.PAPER_STYLE_LAYERS, "
        "ts.tradeoff.default_ratios(h, w))",
        "image": save("row", list(result.image.split(1))),
        "caption": f"alpha/beta from 1/100 of the default (left) to 100 times it (right), all five style layers, "
        f"{size} px, the fast preset, one batched call, {seconds:.0f} s. "
        f"Judged (alpha/beta: style / content): {cells}.",
    }


def section_controls(vgg, judge, size):
    photo = ts.load_image(PHOTO, size=size)
    art, second = ts.load_image(ARTWORK, size=size), ts.load_image(SECOND, size=size)
    fast = ts.PRESETS["fast"]
    colour, t1 = run(
        "colour", lambda: ts.stylize(photo, art, weights=vgg, progress=False, preserve_colors="luminance", **fast)
    )
    left = torch.zeros(photo.shape[-2:])
    left[:, : photo.shape[-1] // 2] = 1
    regions, t2 = run(
        "regions",
        lambda: ts.stylize(photo, [art, second], content_masks=[left, 1 - left], weights=vgg, progress=False, **fast),
    )
    blend, t3 = run(
        "blend", lambda: ts.stylize(photo, [art, second], style_blend=[0.5, 0.5], weights=vgg, progress=False, **fast)
    )
    return {
        "title": "The 2017 controls: the photo's colours, one style per region, two styles blended",
        "command": f"stylize {PHOTO} {ARTWORK} --preserve-colors luminance; "
        f"stylize {PHOTO} {ARTWORK} {SECOND} --mask left.png right.png; "
        f"stylize {PHOTO} {ARTWORK} {SECOND} --style-blend 0.5 0.5",
        "image": save("controls", [colour.image, regions.image, blend.image]),
        "caption": f"{size} px, the fast preset each: the luminance only ({t1:.0f} s); "
        f"{ARTWORK} on the left half and {SECOND} on the right (guided Gram matrices, {t2:.0f} s); "
        f"both blended half and half ({t3:.0f} s).",
    }


def section_network(vgg, judge, size, network_path):
    from tutorial_style.realtime import data
    from tutorial_style.realtime.checkpoint import load_network
    from tutorial_style.realtime.stylize import stylize_images, trained_with

    if network_path is None:
        return None
    network = load_network(network_path)
    artwork = ts.load_image(network.meta.get("style", ARTWORK), size=size)
    photos = data.held_out_photos(size=size)
    start = time.perf_counter()
    outputs = [stylize_images(network, photo) for photo in photos.values()]
    seconds = (time.perf_counter() - start) / len(photos)
    scores = "; ".join(
        f"{name}: photo {judged(judge, p, p, artwork)} -> network {judged(judge, o, p, artwork)}"
        for (name, p), o in zip(photos.items(), outputs)
    )
    return {
        "title": "A real-time network (Johnson et al. 2016) on photos it never saw",
        "command": f"python -m tutorial_style train {network.meta.get('style', ARTWORK)} -o net.pt; "
        f"python -m tutorial_style stylize photo.jpg --network net.pt -o out.png",
        "image": save("network", [x for pair in zip(photos.values(), outputs) for x in pair]),
        "caption": f"held-out photos and the network's output, {size} px, {seconds * 1e3:.0f} ms per image on the CPU. "
        f"Trained with: {trained_with(network.meta)}. Judged: {scores}.",
    }


def section_shipped(vgg, judge, size, network_path):
    """The shipped network of several styles on the held-out photos, one row per photo: the photo, the learner's
    network (``--network``, the default ``train``) when given, then each shipped style."""
    from tutorial_style.realtime import data
    from tutorial_style.realtime.checkpoint import load_network
    from tutorial_style.realtime.stylize import stylize_images, trained_with
    from tutorial_style.shipped import shipped_networks

    shipped = next((n for n in shipped_networks() if len(n.styles) > 1), None)
    if shipped is None:
        return None
    network, learner = load_network(shipped.name), load_network(network_path) if network_path else None
    photos = data.held_out_photos(size=size)
    images, scores = [], []
    for name, photo in photos.items():
        images.append(photo)
        if learner is not None:
            images.append(stylize_images(learner, photo))
        for style in network.styles:
            out = stylize_images(network, photo, mix=network.mix_for(style))
            images.append(out)
            scores.append(f"{name} as {style}: {judged(judge, out, photo, ts.load_image(style, size=size))}")
    p = shipped.provenance
    columns = ["the photo"] + (["the learner's network (" + learner.meta.get("style", "?") + ")"] if learner else [])
    columns += [f"shipped: {s}" for s in network.styles]
    learner_line = f" The learner's network: {trained_with(learner.meta)}." if learner else ""
    return {
        "title": f"The shipped network of {len(network.styles)} styles ({shipped.name}), on photos it never saw",
        "command": f"python -m tutorial_style apply {shipped.name} photo.jpg --style {network.styles[0]} -o out.png",
        "image": save("shipped", images, per_row=len(columns)),
        "caption": f"{size} px; columns: {', '.join(columns)}. The shipped network: {trained_with(network.meta)}, "
        f"{p.get('cpu minutes')} CPU minutes on {p.get('machine')} ({p.get('loss network')}).{learner_line} "
        f"Judged (against each style's artwork): {'; '.join(scores)}.",
    }


SECTIONS = ("fast", "paper", "row", "controls", "network", "shipped")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="standin", help=WEIGHTS_HELP)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--size", type=int, default=256, help="the pictures' longer side (default 256)")
    parser.add_argument("--row-size", type=int, default=160, help="the trade-off row's size (default 160)")
    parser.add_argument("--network", help="a trained network (train ... -o FILE) for the real-time section")
    args = parser.parse_args(argv)
    weights = resolve_weights(args.weights)
    vgg, judge = ts.get_vgg(weights, device="cpu"), Judge(weights)
    records_path = OUT / "records.json"
    records = json.loads(records_path.read_text()) if records_path.is_file() else {}
    makers = {
        "fast": lambda: section_fast(vgg, judge, args.size),
        "paper": lambda: section_paper(vgg, judge, args.size),
        "row": lambda: section_row(vgg, judge, args.row_size),
        "controls": lambda: section_controls(vgg, judge, args.size),
        "network": lambda: section_network(vgg, judge, args.size, args.network),
        "shipped": lambda: section_shipped(vgg, judge, args.size, args.network),
    }
    machine = f"{platform.machine()} CPU, {torch.get_num_threads()} threads, torch {torch.__version__}"
    for name in args.sections:
        record = makers[name]()
        if record is None:
            print(f"{name}: skipped (give --network FILE; shipped: needs a shipped network)")
            continue
        record.update(weights=vgg.weights_info.label, machine=machine, made=time.strftime("%Y-%m-%d"))
        records[name] = record
        print(f"{name}: {record['caption']}", flush=True)
        with atomic_write(records_path, "w") as f:
            json.dump(records, f, indent=1)
    write_page(records)
    return 0


def write_page(records: dict) -> None:
    lines = [
        "# Gallery",
        "",
        "What the package makes, each picture with the weights that made it. Made by `python benchmarks/gallery.py`;",
        "the distances come from `benchmarks/judge.py` (style: the mean over relu1_1 ... relu5_1 of |G(x) - G(a)|² /",
        "|G(a)|², 0 is the artwork's texture; content: |F(x) - F(p)|² / |F(p)|² at relu4_2, "
        "0 is the photo), measured with the",
        "raw convolutions apart from the objective that made the picture. Times are wall-clock on a shared 2-core CPU.",
        "",
        "**Weights.** Pictures marked *development stand-in* were made with ImageNet VGG16 convolutions "
        "in VGG19's shape",
        "(`benchmarks/standin.py`), not with torchvision's VGG19, "
        "which cannot be downloaded where this project is built.",
        "Both are trained on ImageNet; VGG19's own pictures differ in detail.",
        "",
    ]
    for name in SECTIONS:
        r = records.get(name)
        if r is None:
            continue
        lines += [
            f"## {r['title']}",
            "",
            f"![{r['title']}]({r['image']})",
            "",
            f"{r['caption']}",
            "",
            f"`{r['command']}`",
            "",
            f"*Weights: {r['weights']}. {r['machine']}, {r['made']}.*",
            "",
        ]
    with atomic_write(PAGE, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
