"""The training photos (realtime/data.py): a folder searched recursively, the held-out photos kept out, random
crops fixed by seed, epoch and index, the same batches with workers."""

from __future__ import annotations

import pytest
import torch

from tutorial_style.realtime import data as rt_data


def test_a_folder_is_searched_recursively_and_unreadable_files_are_counted(photos):
    (photos / "more" / "notes.txt").write_text("not a photo")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (photos / ".hidden").mkdir()
    (photos / ".hidden" / "thumb.jpg").write_bytes(b"junk")  # hidden: neither used nor counted
    with pytest.warns(UserWarning, match=r"skipped 2 of 6 files .* \(first: '.*broken.jpg'") as caught:
        found = rt_data.folder_photos(photos)
    assert len(caught) == 1
    assert sorted(p.name for p in found) == ["astronaut.jpg", "camera.jpg", "coffee.jpg", "rocket.jpg"]
    assert {p.parent.name for p in found} == {"photos", "more"}


def test_a_folder_without_photos_is_a_one_line_error(tmp_path):
    (tmp_path / "a.txt").write_text("text")
    with pytest.raises(ValueError, match=r"has 1 file\(s\), none of them an image"):
        rt_data.folder_photos(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        rt_data.folder_photos(tmp_path / "nope")


def test_the_default_photos_keep_the_held_out_ones_out_of_training():
    training = rt_data.training_photos()
    names = {p.stem for p in training}
    assert {"astronaut", "rocket", "camera"} <= names and not names & set(rt_data.HELD_OUT)
    held = rt_data.held_out_photos(size=48)
    assert sorted(held) == sorted(rt_data.HELD_OUT) and all(max(im.shape[-2:]) == 48 for im in held.values())
    for path in rt_data.installed_photos().values():  # where matplotlib etc. are installed: real image files
        assert path.is_file()


def test_crops_are_random_but_fixed_by_seed_epoch_and_index(photos):
    dataset = rt_data.PhotoDataset(sorted(photos.rglob("*.jpg")), 32, length=6, seed=1)
    assert len(dataset) == 6
    a = dataset[0]
    assert a.shape == (3, 32, 32) and 0 <= float(a.min()) and float(a.max()) <= 1
    assert torch.equal(dataset[0], a) and not torch.equal(dataset[4], a)  # item 4 is photo 0 again, another crop
    dataset.set_epoch(1)
    assert not torch.equal(dataset[0], a)
    loader = rt_data.photo_loader(dataset, 2, seed=1)
    assert isinstance(loader, torch.utils.data.DataLoader) and [tuple(b.shape) for b in loader] == [(2, 3, 32, 32)] * 3


# --- workers (issue 21) -----------------------------------------------------------------------------------------------


def test_photo_loader_workers_give_the_same_batches(photo_folder):
    """Bug 10: the training photos were decoded on the main thread; workers must keep the crops of (seed, epoch, i).
    Found in issue 21's review (a new user's first hour)."""
    from tutorial_style.realtime import data as rt_data

    dataset = rt_data.PhotoDataset(rt_data.folder_photos(photo_folder), 32, length=6, seed=2)
    alone = list(rt_data.photo_loader(dataset, 2, epoch=1, seed=2))
    shared = list(rt_data.photo_loader(dataset, 2, epoch=1, seed=2, workers=2))
    assert len(alone) == len(shared) == 3
    for a, b in zip(alone, shared):
        assert torch.equal(a, b)
