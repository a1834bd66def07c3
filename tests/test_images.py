"""Loading, resizing and saving images (images.py); the bundled set and its credits; odd files that load, hostile
ones that fail with ImageError naming the file, and no NaN pixels (issue 5)."""

import io
import json
import time
import tracemalloc

import numpy as np
import odd_files
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tutorial_style import ImageError, bundled_images, load_image, save_image
from tutorial_style.images import images_dir


def test_bundled_image_by_name():
    image = load_image("coffee")
    assert image.dtype == torch.float32 and image.shape[:2] == (1, 3)
    assert 0 <= image.min() and image.max() <= 1


def test_size_is_the_longer_side_and_keeps_the_aspect(tmp_path):
    Image.new("RGB", (300, 150), (255, 0, 0)).save(tmp_path / "wide.png")
    image = load_image(tmp_path / "wide.png", size=64)
    assert image.shape == (1, 3, 32, 64)
    torch.testing.assert_close(image[0, :, 5, 5], torch.tensor([1.0, 0.0, 0.0]))


def test_save_then_load_round_trips(tmp_path):
    image = torch.rand(1, 3, 20, 30, generator=torch.Generator().manual_seed(0))
    path = save_image(image, tmp_path / "out" / "x.png")
    again = load_image(path)
    assert (again - image).abs().max() <= 0.5 / 255 + 1e-6


def test_save_refuses_unknown_suffix_and_batches(tmp_path):
    with pytest.raises(ValueError, match="unknown image file type"):
        save_image(torch.rand(1, 3, 8, 8), tmp_path / "x.xyz")
    with pytest.raises(ValueError, match="batch of 2"):
        save_image(torch.rand(2, 3, 8, 8), tmp_path / "x.png")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ImageError, match="nothing.png.*no such file"):
        load_image(tmp_path / "nothing.png")
    with pytest.raises(ImageError, match="no such file or bundled image.*astronaut"):
        load_image("astronot")


def test_not_an_image_is_named(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ImageError, match="notes.txt"):
        load_image(path)


def test_every_bundled_image_loads_is_credited_and_small():
    folder = images_dir()
    credits = json.loads((folder / "credits.json").read_text())
    readme = (folder / "README.md").read_text()
    files = {p.name for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")}
    assert files == {c["file"] for c in credits}
    for image in bundled_images().values():
        assert image.path.name in readme and image.licence in readme
        assert image.licence in ("CC0 1.0", "Public domain")
        assert max(load_image(image.name).shape[-2:]) <= 512
    assert sum((folder / f).stat().st_size for f in files) < 5e6
    assert set(bundled_images("content")) and set(bundled_images("style"))

    # Any other exception type is a failure: hypothesis reports it.


# --- random sizes (issue 5) -------------------------------------------------------------------------------------------


@given(st.one_of(st.none(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=3), st.booleans()))
def test_random_sizes_for_load_image(size):
    try:
        image = load_image(torch.rand(1, 3, 10, 20), size=size)
    except ValueError as e:
        assert "size" in str(e)
        assert not (isinstance(size, int) and not isinstance(size, bool) and size >= 1)
    else:
        assert size is None or max(image.shape[-2:]) == size


# --- files that must load correctly (issue 5) -------------------------------------------------------------------------


def pixel(image: torch.Tensor, y: int, x: int) -> list[float]:
    return [round(v, 3) for v in image[0, :, y, x].tolist()]


def assert_image(image: torch.Tensor, h: int, w: int) -> None:
    assert image.shape == (1, 3, h, w) and image.dtype == torch.float32
    assert torch.isfinite(image).all() and image.min() >= 0 and image.max() <= 1


def test_rgba_is_composited_on_white_not_black(tmp_path):
    image = load_image(odd_files.make_rgba(tmp_path))
    assert_image(image, 8, 8)
    assert pixel(image, 0, 0) == [1, 0, 0]  # opaque red stays red
    assert pixel(image, 0, 6) == [1, 1, 1]  # transparent (stored black) comes out white


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_with_transparency_is_composited_on_white(tmp_path, suffix):
    image = load_image(odd_files.make_palette_transparent(tmp_path, suffix))
    assert_image(image, 8, 8)
    assert pixel(image, 0, 0) == [1, 0, 0]
    assert pixel(image, 6, 0) == [1, 1, 1]  # the transparent index, black in the palette


@pytest.mark.parametrize("mode, value", [("L", 128 / 255), ("LA", 1.0), ("1", 1.0)])
def test_greyscale_is_repeated_over_three_channels(tmp_path, mode, value):
    image = load_image(odd_files.make_grey(tmp_path, mode))
    assert_image(image, 8, 8)
    torch.testing.assert_close(image, torch.full_like(image, value))


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    image = load_image(odd_files.make_grey16(tmp_path))
    assert_image(image, 8, 8)
    row = image[0, 0, 0, :4].tolist()
    assert row[0] == 1.0  # 65535 -> 1
    assert row[1] == pytest.approx(0.5, abs=1e-4)  # 32768 -> 0.5, not clipped to 1
    assert row[2] == pytest.approx(256 / 65535, abs=1e-6)
    assert row[3] == 0.0
    assert image[0, 0, 5, 5] == pytest.approx(100 / 65535, abs=1e-6)  # dark 16-bit values are not bumped up
    assert torch.equal(image[0, 0], image[0, 1]) and torch.equal(image[0, 0], image[0, 2])


def test_cmyk_jpeg_has_the_right_colours(tmp_path):
    image = load_image(odd_files.make_cmyk_jpeg(tmp_path))
    assert_image(image, 16, 16)
    torch.testing.assert_close(image[0, :, 8, 8], torch.tensor([1.0, 0.0, 0.0]), atol=0.05, rtol=0)


@pytest.mark.parametrize(
    "suffix, scale, size",
    [(".jpg", 1, None), (".png", 1, None), (".webp", 1, None), (".png", 10, 40), (".jpg", 10, 40)],
)
def test_exif_orientation_is_applied(tmp_path, suffix, scale, size):
    """Also for big pictures that are shrunk while decoding (scale 10, size 40): the turn is not lost."""
    image = load_image(odd_files.make_exif_rotated(tmp_path, suffix, scale), size=size)
    assert_image(image, 40, 20)  # stored 40 wide and 20 high, shown (and loaded) 20 wide and 40 high
    top_right, top_left = image[0, :, 2, -3], image[0, :, 2, 2]
    torch.testing.assert_close(top_right, torch.tensor([1.0, 0.0, 0.0]), atol=0.1, rtol=0)
    assert float(top_left.max()) < 0.1  # the red corner moved from the top left to the top right


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_animation_gives_its_first_frame(tmp_path, suffix):
    image = load_image(odd_files.make_animation(tmp_path, suffix), size=16)
    assert_image(image, 16, 16)
    torch.testing.assert_close(image[0, :, 8, 8], torch.tensor([1.0, 0.0, 0.0]), atol=0.02, rtol=0)


@pytest.fixture(scope="module")
def large_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    return {s: odd_files.make_large(folder, s) for s in (".jpg", ".png")}


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_very_large_photo_is_downscaled_while_decoding(large_files, suffix):
    """A 6000 x 4000 photo at size=256: JPEGs are decoded at 1/8 scale (draft), big PNGs shrunk while still
    8-bit. Time and Python-side peak memory are printed for the record (run with -s), never asserted."""
    tracemalloc.start()
    start = time.perf_counter()
    image = load_image(large_files[suffix], size=256)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert_image(image, 171, 256)
    # the gradient survives: red grows left to right, green top to bottom
    assert image[0, 0, 85, 250] > image[0, 0, 85, 5] + 0.5
    assert image[0, 1, 165, 128] > image[0, 1, 5, 128] + 0.5
    print(f"\n6000x4000{suffix} -> 256 px: {seconds:.2f} s, traced peak {peak / 1e6:.0f} MB")


def test_phone_jpeg_with_extra_pictures_gives_the_main_picture_quickly(tmp_path, monkeypatch):
    """Many phones write JPEGs with a second picture (MPO); Pillow opens them as MPO, not JPEG. They must still
    be decoded at a reduced scale (JPEG draft mode) when a size is asked for."""
    from PIL import JpegImagePlugin

    drafts = []
    real_draft = JpegImagePlugin.JpegImageFile.draft
    monkeypatch.setattr(
        JpegImagePlugin.JpegImageFile, "draft", lambda self, *a: drafts.append(a) or real_draft(self, *a)
    )
    image = load_image(odd_files.make_mpo(tmp_path, 640, 480), size=64)
    assert_image(image, 48, 64)
    torch.testing.assert_close(image[0, :, 24, 32], torch.tensor([1.0, 0.0, 0.0]), atol=0.02, rtol=0)
    assert drafts == [("RGB", (64, 64))]


def test_bytes_of_an_upload_load_like_the_file(tmp_path):
    path = odd_files.make_rgba(tmp_path)
    torch.testing.assert_close(load_image(path.read_bytes()), load_image(path))


def test_bundled_names_and_paths_with_odd_spelling(tmp_path):
    path = odd_files.make_rgba(tmp_path)
    assert load_image(str(path)).shape == load_image(path).shape  # str or Path
    with pytest.raises(ImageError, match="'astronot'"):
        load_image("astronot")


# --- files that must fail with ImageError naming the file (issue 5) ---------------------------------------------------


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return odd_files.bad_files(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", odd_files.BAD_KINDS)
@pytest.mark.parametrize("size", [None, 64])
def test_hostile_file_fails_with_image_error_naming_it(bad, kind, size):
    path = bad[kind]
    with pytest.raises(ImageError) as error:
        load_image(path, size=size)
    message = str(error.value)
    assert str(path) in message, message
    reason = message.split(":", 1)[1].strip() if message.startswith("'") else message
    assert len(reason) > 8, message  # says why, not just which


def test_reasons_are_specific(bad):
    def reason(kind):
        with pytest.raises(ImageError) as error:
            load_image(bad[kind])
        return str(error.value)

    assert "truncated" in reason("PNG cut in half")
    assert "truncated" in reason("JPEG cut in half")
    assert "empty" in reason("empty file")
    assert "folder" in reason("a folder")
    assert "SVG drawing" in reason("SVG")
    assert "not an image file" in reason("text file")
    assert "HEIC" in reason("HEIC photo") and "JPEG" in reason("HEIC photo")
    assert "PDF or PostScript" in reason("PDF") and "PDF or PostScript" in reason("EPS (would run Ghostscript)")
    assert "decompression bomb" in reason("decompression bomb (10 gigapixel header)")
    assert "no such file" in reason("missing file")


def test_eps_never_reaches_ghostscript(bad, monkeypatch):
    """Pillow draws EPS files by running Ghostscript, a whole interpreter: hostile uploads must not get there."""
    from PIL import EpsImagePlugin

    ran = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *args, **kwargs: ran.append(args))
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs")
    for source in (bad["EPS (would run Ghostscript)"], bad["EPS (would run Ghostscript)"].read_bytes()):
        with pytest.raises(ImageError):
            load_image(source)
    assert ran == []


def test_decompression_bomb_at_pillows_limit_is_our_error(tmp_path, monkeypatch):
    path = tmp_path / "normal.png"
    path.write_bytes(odd_files.png_bytes(64, 64))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4096 px is then over twice the limit
    for source, name in ((path, str(path)), (path.read_bytes(), "uploaded file")):
        with pytest.raises(ImageError, match="decompression bomb") as error:
            load_image(source, size=32)
        assert name in str(error.value)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage" * 20,
        odd_files.SVG,
        odd_files.png_bytes()[:100],
        odd_files.bomb_png_bytes(),
        odd_files.HEIC_HEAD,
        odd_files.PDF,
    ],
    ids=["empty", "garbage", "SVG", "truncated PNG", "bomb", "HEIC", "PDF"],
)
def test_bad_uploads_fail_with_image_error_naming_the_upload(data):
    with pytest.raises(ImageError, match="uploaded file"):
        load_image(data)


def test_tensors_with_nan_or_out_of_range_values_are_refused():
    for bad in (float("nan"), float("inf"), -float("inf")):
        image = torch.rand(1, 3, 8, 8)
        image[0, 1, 2, 3] = bad
        with pytest.raises(ValueError, match="NaN or infinite"):
            load_image(image)
    with pytest.raises(ValueError, match="divide 0-255 images by 255"):
        load_image(torch.rand(1, 3, 8, 8) * 255)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        load_image(torch.rand(1, 3, 8, 8) - 0.5)
    with pytest.raises(ValueError, match="uint8"):
        load_image(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    nearly = torch.rand(1, 3, 8, 8).clamp(0, 1) + 1e-5  # a rounding error is clipped, not refused
    assert float(load_image(nearly).max()) <= 1


def test_save_image_writes_finite_pixels_even_from_nan(tmp_path):
    image = torch.rand(1, 3, 8, 8)
    image[0, :, 0, 0] = float("nan")
    image[0, :, 0, 1] = float("inf")
    image[0, :, 0, 2] = -float("inf")
    path = save_image(image, tmp_path / "out.png")
    back = load_image(path)
    assert_image(back, 8, 8)
    assert pixel(back, 0, 0) == [0, 0, 0] and pixel(back, 0, 1) == [1, 1, 1] and pixel(back, 0, 2) == [0, 0, 0]


# --- property-based (issue 5) -----------------------------------------------------------------------------------------


@given(st.binary(min_size=0, max_size=2048))
def test_random_bytes_give_an_image_error_or_an_image(data):
    try:
        image = load_image(data)
    except ImageError as e:
        assert "uploaded file" in str(e)
    else:
        assert image.dim() == 4 and image.shape[:2] == (1, 3)
        assert torch.isfinite(image).all() and 0 <= image.min() and image.max() <= 1


@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"BM"]),
    st.binary(max_size=512),
)
def test_random_bytes_behind_a_real_signature(signature, data):
    """Bytes that start like a PNG/JPEG/GIF/WebP/BMP get further into the decoders than pure noise."""
    try:
        image = load_image(signature + data, size=16)
    except ImageError as e:
        assert "uploaded file" in str(e)
    else:
        assert torch.isfinite(image).all()


MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16", "F"]


FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif", "WEBP": ".webp"}


def _can_save(mode: str, fmt: str) -> bool:
    try:
        Image.new(mode, (2, 2)).save(io.BytesIO(), format=fmt)
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


SAVABLE = [(m, f) for m in MODES for f in FORMATS if _can_save(m, f)]  # about 60 mode/format pairs


@st.composite
def pillow_images(draw):
    """A random-size, random-content image in a random mode, as bytes in a format Pillow can write it in."""
    mode, fmt = draw(st.sampled_from(SAVABLE))
    w, h = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if mode == "I;16":
        img = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    else:
        img = Image.fromarray(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), "RGBA").convert(mode)
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue(), draw(st.none() | st.integers(1, 64))


@given(pillow_images())
def test_random_images_in_random_formats_load_with_the_right_shape(tmp_path_factory, case):
    data, size = case
    with Image.open(io.BytesIO(data)) as stored:
        w, h = stored.size
    image = load_image(data, size=size)
    if size is not None:
        scale = size / max(w, h)
        h, w = max(1, round(h * scale)), max(1, round(w * scale))
    assert image.shape == (1, 3, h, w)
    assert image.dtype == torch.float32
    assert torch.isfinite(image).all() and image.min() >= 0 and image.max() <= 1


@given(
    st.integers(1, 3),
    st.integers(1, 24),
    st.integers(1, 24),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 2.0, -1.0, 0.5]),
)
def test_save_then_load_is_always_finite(tmp_path_factory, channels_batch, h, w, fill):
    image = torch.rand(1, 3, h, w)
    image[0, channels_batch - 1, : h // 2] = fill
    path = save_image(image, tmp_path_factory.mktemp("save") / "x.png")
    back = load_image(path)
    assert back.shape == (1, 3, h, w) and torch.isfinite(back).all()
