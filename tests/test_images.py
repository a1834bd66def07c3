"""Loading, resizing and saving images; the bundled set and its credits."""

import json
from pathlib import Path

import pytest
import torch
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
