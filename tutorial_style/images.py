"""Loading and saving images as tensors, and the bundled content and style images.

Images are float32 tensors of shape (1, 3, H, W) with values in [0, 1] (RGB). ImageNet's
mean/std normalisation is *not* applied here: that belongs to the network (see ``vgg.py``).
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .files import atomic_write, prepare_output

__all__ = [
    "ImageError",
    "load_image",
    "save_image",
    "resize_to",
    "check_image_path",
    "bundled_images",
    "BundledImage",
    "images_dir",
]

ImageSource = Union[str, os.PathLike, bytes, torch.Tensor]

# The raster formats we read. Others that Pillow knows are refused: EPS would run Ghostscript on the file, and
# the rest (scientific data, video, cursors ...) are not pictures a learner means to style.
FORMATS = (
    "PNG",
    "JPEG",
    "MPO",
    "WEBP",
    "GIF",
    "BMP",
    "DIB",
    "TIFF",
    "AVIF",
    "PPM",
    "TGA",
    "ICO",
    "PSD",
    "JPEG2000",
    "QOI",
    "PCX",
    "SGI",
)


class ImageError(ValueError):
    """An image could not be read. The message names the file and the reason."""


@dataclass(frozen=True)
class BundledImage:
    """One of the images shipped in ``images/`` (see ``images/README.md`` for credits)."""

    name: str
    path: Path
    kind: str  # "content" or "style"
    title: str
    author: str
    source: str
    licence: str


def images_dir() -> Path:
    """The folder of the bundled images and their ``credits.json``: the one place that finds them.

    An installed wheel carries them inside the package, as ``tutorial_style/_images`` (see pyproject.toml); in
    a checkout (an editable install, or the repository on ``sys.path``) they are the top-level ``images/``.
    """
    package = Path(__file__).resolve().parent
    shipped = package / "_images"
    return shipped if shipped.is_dir() else package.parent / "images"


def bundled_images(kind: str | None = None) -> dict[str, BundledImage]:
    """The bundled images by name, read from ``images/credits.json``; ``kind`` keeps "content" or "style" only.

    >>> "astronaut" in bundled_images("content")
    True
    """
    folder = images_dir()
    try:
        entries = json.loads((folder / "credits.json").read_text())
    except (OSError, ValueError) as e:
        raise ImageError(f"cannot read the list of bundled images {str(folder / 'credits.json')!r}: {e}") from None
    images = {
        e["name"]: BundledImage(
            e["name"], folder / e["file"], e["kind"], e["title"], e["author"], e["source"], e["licence"]
        )
        for e in entries
    }
    return {n: im for n, im in images.items() if kind is None or im.kind == kind}


def load_image(source: ImageSource, size: int | None = None) -> torch.Tensor:
    """Read an image as a float32 tensor of shape (1, 3, H, W) in [0, 1].

    ``source`` is a file path, the name of a bundled image (``"astronaut"``), the bytes of an image file
    (e.g. an upload) or an image tensor. ``size`` is the length of the longer side after resizing; the
    aspect ratio is kept. Transparent images are composited on white, greyscale is repeated over the
    three channels, 16-bit images are scaled (not clipped), EXIF orientation is applied, and
    animations give their first frame.

    >>> img = load_image("astronaut", size=64)
    >>> img.shape, img.dtype
    (torch.Size([1, 3, 64, 64]), torch.float32)
    >>> float(img.min()) >= 0 and float(img.max()) <= 1
    True
    """
    if size is not None and (not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1):
        raise ValueError(f"size must be a positive whole number of pixels (the longer side), got {size!r}")
    if isinstance(source, torch.Tensor):
        return _resize(_check_range(_check_tensor(source, "image")), size)
    name, opener = _opener(source)
    try:
        with warnings.catch_warnings():
            # Pillow warns about very large images before it refuses them; we report the refusal.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with opener() as f, Image.open(f, formats=readable_formats()) as img:
                img.seek(0)  # first frame of an animation
                shape = _shown_shape(img)  # before draft() and reduce() shrink it: the result's size follows this
                if size is not None and img.format in ("JPEG", "MPO"):  # MPO: phone JPEGs with extra pictures
                    img.draft("RGB", (size, size))  # decode big JPEGs at a reduced scale: fast, little memory
                ImageOps.exif_transpose(img, in_place=True)  # in place: no copy of a big picture when upright
                array = _to_rgb_array(img, size)
                if size is not None:
                    array = _resize_array(array, size, shape)
    except Image.DecompressionBombError as e:
        raise ImageError(f"{name}: refused as a possible decompression bomb ({e}). Use a smaller image.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: {_unreadable(opener)}") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a folder, not an image file") from None
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file. {_bundled_hint()}") from None
    except PermissionError:
        raise ImageError(f"{name}: cannot be read (permission denied)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # truncated or corrupt data
        raise ImageError(f"{name}: cannot be decoded ({e}). The file may be truncated or damaged.") from None
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def save_image(image: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write an image tensor ((1, 3, H, W) or (3, H, W), values clipped to [0, 1]) atomically.

    The format follows the file's suffix (``.png``, ``.jpg``, ...). Returns the path.
    """
    path = Path(path)
    image = _check_tensor(image, "image")
    if image.shape[0] != 1:
        raise ValueError(f"save_image writes one image; got a batch of {image.shape[0]}. Save image[i:i+1] for each.")
    fmt = _image_format(path)
    array = (image[0].detach().float().cpu().clamp(0, 1).nan_to_num(0.0) * 255).round().byte()
    pil = Image.fromarray(array.permute(1, 2, 0).numpy())
    with atomic_write(path) as f:
        pil.save(f, format=fmt)
    return path


def check_image_path(path: str | os.PathLike) -> Path:
    """Check, before any long work, that an image can be saved at ``path``: a known suffix, a writable folder.

    The folder is created. Raises ValueError (an ``OutputPathError`` for folders) naming the path.
    """
    path = Path(path)
    _image_format(path)
    return prepare_output(path)


def _image_format(path: Path) -> str:
    if path.is_dir():
        prepare_output(path, probe=False)  # raises "... is a folder; give a file name such as ..."
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(f"{str(path)!r}: unknown image file type {path.suffix!r}; use .png or .jpg")
    return fmt


def _opener(source):
    """A readable name for messages, and a function that opens the image data."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise ImageError("uploaded file: is empty")
        return "uploaded file", lambda: io.BytesIO(data)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"load_image takes a path, a bundled image name, bytes or a tensor, not {type(source).__name__}"
        )
    path = Path(source)
    if not path.exists() and isinstance(source, str) and os.sep not in source and "." not in source:
        bundled = bundled_images()
        if source in bundled:
            path = bundled[source].path
        else:
            raise ImageError(f"{source!r}: no such file or bundled image. {_bundled_hint()}")
    name = repr(str(path))
    if path.is_file() and path.stat().st_size == 0:
        raise ImageError(f"{name}: is empty (0 bytes)")
    return name, lambda: open(path, "rb")


def readable_formats() -> list[str]:
    """The formats of :data:`FORMATS` that this Pillow can read, for ``Image.open(..., formats=...)``: what
    ``load_image`` reads, and what counts as a photo in a folder of training photos."""
    Image.init()  # register every plugin first: Image.open(formats=...) fails on a name not yet registered
    return [f for f in FORMATS if f in Image.OPEN]  # AVIF, JPEG2000 ... only where Pillow was built with them


def _unreadable(opener) -> str:
    """Why Pillow did not recognise the data, naming the usual suspects (iPhone photos, drawings)."""
    try:
        with opener() as f:
            head = f.read(1024)
    except OSError:
        head = b""
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return "a HEIC/HEIF photo (the iPhone's own format), which cannot be read here; export it as JPEG or PNG"
    if b"<svg" in head.lower():
        return "an SVG drawing (vector graphics, not pixels); export it as PNG"
    if head.startswith(b"%PDF") or head.startswith(b"%!PS") or head.startswith(b"\xc5\xd0\xd3\xc6"):
        return "a PDF or PostScript document, not an image file; export the picture as PNG or JPEG"
    return "not an image file in a format read here (PNG, JPEG, WebP, GIF, BMP, TIFF, AVIF ...)"


def _bundled_hint() -> str:
    try:
        return "Bundled images: " + ", ".join(sorted(bundled_images())) + "."
    except ImageError:
        return ""


def _to_rgb_array(img: Image.Image, size: int | None = None) -> np.ndarray:
    """Any Pillow image as float32 RGB (H, W, 3) in [0, 1], shrunk on the way if it is over 4 * ``size``."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        grey = np.asarray(_reduce(img.convert("I"), size), dtype=np.float32)
        peak = 65535.0 if grey.max(initial=0) > 255 or img.mode.startswith("I;16") else 255.0
        return np.repeat((np.clip(grey, 0, peak) / peak)[..., None], 3, axis=2)
    if img.mode == "F":
        grey = np.asarray(_reduce(img, size), dtype=np.float32)
        grey = grey / 255.0 if grey.max(initial=0) > 1 else grey
        return np.repeat(np.clip(np.nan_to_num(grey), 0, 1)[..., None], 3, axis=2)
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    if img.mode in ("L", "RGB", "CMYK", "YCbCr"):
        img = _reduce(img, size)  # before convert() copies it
    return np.asarray(_reduce(img.convert("RGB"), size), dtype=np.float32) / 255.0


def _reduce(img: Image.Image, size: int | None) -> Image.Image:
    """Shrink a big image by a whole factor (box filter) before it becomes floats: big PNGs then need little memory.

    At least ``2 * size`` pixels remain on the longer side, for the antialiased resize that follows.
    """
    if size is None or max(img.size) < 4 * size:
        return img
    return img.reduce(max(img.size) // (2 * size))


def _shown_shape(img: Image.Image) -> tuple[int, int]:
    """(height, width) of the picture as viewers show it, EXIF orientation included."""
    w, h = img.size
    return (w, h) if img.getexif().get(0x0112) in (5, 6, 7, 8) else (h, w)


def _resize_array(array: np.ndarray, size: int, shape: tuple[int, int]) -> np.ndarray:
    return _resize(torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0), size, shape)[0].permute(1, 2, 0).numpy()


def _resize(image: torch.Tensor, size: int | None, shape: tuple[int, int] | None = None) -> torch.Tensor:
    """Resize so the longer side is ``size`` (antialiased bilinear), keeping the aspect ratio of ``shape`` (the
    original (height, width), when ``image`` was already shrunk while decoding) or of the image itself."""
    if size is None:
        return image
    h, w = shape or image.shape[-2:]
    scale = size / max(h, w)
    new = (max(1, round(h * scale)), max(1, round(w * scale)))
    return resize_to(image, new)


def resize_to(image: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """Resize images (B, 3, H, W) to exactly ``hw`` = (height, width): antialiased bilinear, values kept in [0, 1].

    This is how the style image is brought to the content image's size, as in the paper.
    """
    hw = tuple(int(n) for n in hw)
    if tuple(image.shape[-2:]) == hw:
        return image
    # antialias only acts when shrinking; enlarging is plain bilinear
    out = torch.nn.functional.interpolate(image, size=hw, mode="bilinear", antialias=True, align_corners=False)
    return out.clamp(0, 1)


def _check_range(image: torch.Tensor) -> torch.Tensor:
    """An image tensor with finite values in [0, 1] (a rounding error beyond is clipped), else a ValueError."""
    if not torch.isfinite(image).all():
        raise ValueError("image tensor contains NaN or infinite values")
    low, high = float(image.min()), float(image.max())
    if low < -1e-3 or high > 1 + 1e-3:
        hint = "; divide 0-255 images by 255" if high > 1 else ""
        raise ValueError(f"image tensor values must be in [0, 1], got {low:.4g} to {high:.4g}{hint}")
    return image.clamp(0, 1)


def _check_tensor(image: torch.Tensor, what: str) -> torch.Tensor:
    if image.dim() == 3:
        image = image.unsqueeze(0)
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"{what} must be an RGB tensor of shape (1, 3, H, W) or (3, H, W), got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise ValueError(f"{what} must hold floats in [0, 1], got dtype {image.dtype}; divide uint8 images by 255")
    return image
