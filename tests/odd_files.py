"""Odd and hostile files for the reliability tests, generated at test time (no binary fixtures in the repository).

Every ``make_*`` function writes one file into ``folder`` and returns its path. ``GOOD`` are files a learner may
well have (phone photos, scans, screenshots, GIFs) that must load correctly; ``BAD`` must fail with
``ImageError`` naming the file. For the weights, caches and checkpoints: :func:`features_state` (a tiny valid
weights file's contents), :class:`Payload` (a pickle that would run code) and :func:`leftovers` (what a write left
behind).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tutorial_style.layers import LAYER_INFO, make_layers

RED, WHITE = (255, 0, 0), (255, 255, 255)


# --- files that must load ---------------------------------------------------------------------------------


def make_rgba(folder: Path) -> Path:
    """Left half opaque red, right half fully transparent (stored as transparent *black*)."""
    a = np.zeros((8, 8, 4), np.uint8)
    a[:, :4] = (255, 0, 0, 255)
    path = folder / "rgba.png"
    Image.fromarray(a, "RGBA").save(path)
    return path


def make_palette_transparent(folder: Path, suffix: str = ".png") -> Path:
    """A palette image: index 0 red, index 1 black but marked transparent (top half 0, bottom half 1)."""
    px = np.zeros((8, 8), np.uint8)
    px[4:] = 1
    img = Image.fromarray(px, "P")
    img.putpalette([255, 0, 0, 0, 0, 0] + [0] * 762)
    path = folder / f"palette{suffix}"
    img.save(path, transparency=1)
    return path


def make_grey(folder: Path, mode: str) -> Path:
    """Greyscale in mode L (value 128), LA (transparent black) or 1 (white)."""
    if mode == "L":
        img = Image.fromarray(np.full((8, 8), 128, np.uint8), "L")
    elif mode == "LA":
        img = Image.fromarray(np.zeros((8, 8, 2), np.uint8), "LA")
    else:
        img = Image.new("1", (8, 8), 1)
    path = folder / f"grey_{mode}.png"
    img.save(path)
    return path


def make_grey16(folder: Path) -> Path:
    """16-bit greyscale PNG: row 0 holds 65535, 32768, 256, 0, the rest is 100 (a dark 16-bit value)."""
    a = np.full((8, 8), 100, np.uint16)
    a[0, :4] = (65535, 32768, 256, 0)
    path = folder / "grey16.png"
    Image.fromarray(a).save(path)
    assert Image.open(path).mode.startswith("I;16")  # the file really is 16-bit
    return path


def make_cmyk_jpeg(folder: Path) -> Path:
    """A pure red CMYK JPEG (C=0, M=100%, Y=100%, K=0), as printers' and some cameras' files are."""
    path = folder / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    return path


def make_exif_rotated(folder: Path, suffix: str = ".jpg", scale: int = 1) -> Path:
    """A 40 x 20 (W x H, times ``scale``) picture with a red top-left corner and EXIF orientation 6 ("rotate 90
    degrees clockwise"): viewers show it 20 wide, 40 high, with the red corner at the top *right*."""
    a = np.zeros((20 * scale, 40 * scale, 3), np.uint8)
    a[: 5 * scale, : 5 * scale] = RED
    img = Image.fromarray(a)
    exif = img.getexif()
    exif[0x0112] = 6
    path = folder / f"exif_rotated{suffix}"
    img.save(path, exif=exif.tobytes(), **({"quality": 95} if suffix == ".jpg" else {}))
    assert Image.open(path).getexif().get(0x0112) == 6
    return path


def make_animation(folder: Path, suffix: str) -> Path:
    """A three-frame animation, red then green then blue; ``suffix`` ".gif" or ".webp"."""
    frames = [Image.new("RGB", (16, 16), c) for c in (RED, (0, 255, 0), (0, 0, 255))]
    path = folder / f"animated{suffix}"
    extra = {"lossless": True} if suffix == ".webp" else {}
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0, **extra)
    assert getattr(Image.open(path), "n_frames", 1) == 3
    return path


def make_large(folder: Path, suffix: str, width: int = 6000, height: int = 4000) -> Path:
    """A large image, 6000 x 4000 by default like a 24 MP camera's: red grows left to right, green top to bottom."""
    red = np.broadcast_to(np.linspace(0, 255, width).astype(np.uint8)[None, :], (height, width))
    green = np.broadcast_to(np.linspace(0, 255, height).astype(np.uint8)[:, None], (height, width))
    a = np.stack([red, green, np.full((height, width), 128, np.uint8)], axis=-1)
    path = folder / f"large{suffix}"
    Image.fromarray(a).save(path, **({"quality": 85} if suffix == ".jpg" else {"compress_level": 1}))
    return path


# --- files that must fail ---------------------------------------------------------------------------------


def make_mpo(folder: Path, width: int = 64, height: int = 48) -> Path:
    """A multi-picture JPEG (MPO), as phones write photos with a depth map or HDR gain map: red, then blue."""
    path = folder / "phone.jpg"
    first, second = Image.new("RGB", (width, height), RED), Image.new("RGB", (width, height), (0, 0, 255))
    first.save(path, format="MPO", save_all=True, append_images=[second])
    assert Image.open(path).format == "MPO"
    return path


def make_eps(folder: Path) -> Path:
    """An Encapsulated PostScript picture: Pillow would hand it to Ghostscript, a program, to draw it."""
    path = folder / "figure.eps"
    Image.new("RGB", (16, 16), RED).save(path, format="EPS")
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    """A valid RGB PNG of noise (noise does not compress, so truncating it cuts into the pixel data)."""
    import io

    a = np.random.default_rng(1).integers(0, 256, (height, width, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(a).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 64, height: int = 64) -> bytes:
    import io

    a = np.random.default_rng(2).integers(0, 256, (height, width, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(a).save(buffer, format="JPEG")
    return buffer.getvalue()


def bomb_png_bytes(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (10 gigapixels by default): a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + _png_chunk(b"IEND", b"")
    )


HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200  # what an iPhone photo starts with
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>'


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


BAD_KINDS = (
    "PNG cut after its signature",
    "PNG cut in half",
    "JPEG cut after its header",
    "JPEG cut in half",
    "random bytes",
    "random bytes named .jpg",
    "empty file",
    "a folder",
    "SVG",
    "text file",
    "text file named .png",
    "HTML page saved as .jpg",
    "decompression bomb (10 gigapixel header)",
    "missing file",
    "HEIC photo",
    "PDF",
    "EPS (would run Ghostscript)",
)


def bad_files(folder: Path) -> dict[str, Path]:
    """Every kind of file that must fail with ImageError (:data:`BAD_KINDS`), by a short description."""
    png, jpg = png_bytes(), jpeg_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a folder.png").mkdir(exist_ok=True)
    files = {
        "PNG cut after its signature": write(folder, "cut_header.png", png[:12]),
        "PNG cut in half": write(folder, "cut_half.png", png[: len(png) // 2]),
        "JPEG cut after its header": write(folder, "cut_header.jpg", jpg[:200]),
        "JPEG cut in half": write(folder, "cut_half.jpg", jpg[: len(jpg) // 2]),
        "random bytes": write(folder, "random.bin", np.random.default_rng(3).bytes(4096)),
        "random bytes named .jpg": write(folder, "random.jpg", np.random.default_rng(4).bytes(4096)),
        "empty file": write(folder, "empty.png", b""),
        "a folder": folder / "a folder.png",
        "SVG": write(folder, "drawing.svg", SVG),
        "text file": write(folder, "notes.txt", b"these are not the pixels you are looking for\n"),
        "text file named .png": write(folder, "notes.png", b"hello\n"),
        "HTML page saved as .jpg": write(folder, "page.jpg", b"<!DOCTYPE html><html><body>404</body></html>"),
        "decompression bomb (10 gigapixel header)": write(folder, "bomb.png", bomb_png_bytes()),
        "missing file": folder / "does-not-exist.png",
        "HEIC photo": write(folder, "IMG_0001.HEIC", HEIC_HEAD),
        "PDF": write(folder, "scan.pdf", PDF),
        "EPS (would run Ghostscript)": make_eps(folder),
    }
    assert tuple(files) == BAD_KINDS
    return files


# --- weights files, pickles, and what a write leaves behind -------------------------------------------------------


def features_state(**changes) -> dict[str, torch.Tensor]:
    """A features-only state dict in torchvision's keys, stored tiny (every tensor a view of one number)."""
    state = {
        f"features.{LAYER_INFO[k.split('.')[0]].index}.{k.split('.')[1]}": torch.full((), 0.01).expand(v.shape)
        for k, v in make_layers("max").state_dict().items()
    }
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            del state[key]
        else:
            state[key] = value
    return state


class Payload:
    """Unpickling this creates the file ``marker``: a stand-in for code an attacker would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def leftovers(folder: Path) -> list[Path]:
    """Temporary files that a write left behind."""
    return sorted(p for p in folder.iterdir() if p.name.endswith((".tmp", ".partial")))
