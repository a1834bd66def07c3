"""The defects a review and a new user's first hour found (issue 21): each test here failed before its fix.

Random weights and tiny sizes throughout, as everywhere in the tests.
"""

from __future__ import annotations

import re

import pytest
import torch

import tutorial_style as ts
from tutorial_style.realtime import CheckpointError, StyleNetwork, load_network, stylize_video
from tutorial_style.video import VideoError
from tutorial_style.weights import WeightsError, load_weights


# --- One check of input files (weights, checkpoints, videos) --------------------------------------------------------


def _bad_input(tmp_path, kind: str):
    if kind == "missing":
        return tmp_path / "missing.bin"
    if kind == "folder":
        (tmp_path / "folder.bin").mkdir()
        return tmp_path / "folder.bin"
    (tmp_path / "empty.bin").write_bytes(b"")
    return tmp_path / "empty.bin"


READERS = {
    "weights file": (lambda path: load_weights(str(path)), WeightsError),
    "checkpoint": (lambda path: load_network(path), CheckpointError),
    "video": (lambda path: stylize_video(StyleNetwork(width=0.25, blocks=1), path, path.parent / "out.mp4", progress=False), VideoError),
}


@pytest.mark.parametrize("kind, why", [("missing", "no such file"), ("folder", "is a folder, not a file"), ("empty", "is empty (0 bytes)")])
@pytest.mark.parametrize("what", list(READERS))
def test_weights_checkpoints_and_videos_are_checked_alike(tmp_path, what, kind, why):
    if what == "video":
        pytest.importorskip("av")
    path = _bad_input(tmp_path, kind)
    read, error = READERS[what]
    with pytest.raises(error) as raised:
        read(path)
    assert str(raised.value).startswith(f"{what} {str(path)!r}: {why}"), str(raised.value)
    assert "\n" not in str(raised.value)


class Photos(torch.utils.data.Dataset):
    """``n`` photos of 32 x 32 px, a caller's own Dataset (used as it is)."""

    def __init__(self, n: int = 2):
        names = ["astronaut", "rocket", "camera", "coffee"][:n]
        self.images = [torch.nn.functional.interpolate(ts.load_image(name, size=32), size=(32, 32))[0] for name in names]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


# --- The style network's convolutions before instance normalisation have no bias ---------------------------------


def _conv_norm_pairs(network: torch.nn.Module):
    """(convolution, instance norm) for every convolution that an instance normalisation directly follows."""
    for module in network.modules():
        children = list(module.children()) if isinstance(module, torch.nn.Sequential) else []
        for a, b in zip(children, children[1:]):
            if isinstance(a, torch.nn.Conv2d) and isinstance(b, torch.nn.InstanceNorm2d):
                yield a, b


def test_the_convolutions_before_instance_norm_have_no_bias():
    net = StyleNetwork(width=0.25, blocks=2)
    pairs = list(_conv_norm_pairs(net))
    assert len(pairs) == 3 + 2 * 2 + 2  # down, two per residual block, up
    assert all(conv.bias is None for conv, _ in pairs)
    assert net.out.bias is not None  # the last convolution has no normalisation after it: it keeps its bias


def _with_old_biases(net: StyleNetwork) -> StyleNetwork:
    """``net`` as networks were before: a (no-op) bias on each convolution before an instance normalisation."""
    generator = torch.Generator().manual_seed(3)
    for conv, _ in _conv_norm_pairs(net):
        conv.bias = torch.nn.Parameter(torch.randn(conv.out_channels, generator=generator))  # in the old slot, after weight
    return net


def test_an_old_checkpoint_with_those_biases_still_loads_and_resumes(tmp_path):
    torch.manual_seed(0)
    old = _with_old_biases(StyleNetwork(width=0.25, blocks=1))
    path = tmp_path / "old.pt"
    tiny = dict(size=32, batch=2, weights="random", device="cpu", progress=False, data=Photos())
    _, history = ts.train_network("mosaic", network=old, steps=2, checkpoint=path, **tiny)
    saved = torch.load(path, weights_only=True)
    assert any(k.endswith("down.0.0.bias") for k in saved["network"]["state_dict"])  # written the old way
    loaded = load_network(path)
    image = torch.rand(1, 3, 36, 44)
    with torch.no_grad():
        torch.testing.assert_close(loaded(image), old.eval()(image), atol=1e-5, rtol=0)  # the biases did nothing
    net, resumed = ts.train_network("mosaic", steps=3, checkpoint=path, resume=True, **tiny)
    assert [row["step"] for row in resumed] == [0, 1, 2] and resumed[:2] == list(history)


# --- Training: Ctrl-C before the first step, resume at another size, a small Dataset, callbacks, workers -------------

TINY = dict(size=32, batch=2, width=0.25, blocks=1, weights="random", device="cpu", progress=False)
TRAIN_FLAGS = ["--size", "32", "--batch", "2", "--width", "0.25", "--blocks", "1", "--weights", "random"]


@pytest.fixture()
def photo_folder(tmp_path):
    import shutil

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ["astronaut", "rocket", "camera", "coffee"]:
        shutil.copy(ts.bundled_images()[name].path, folder / f"{name}.jpg")
    return folder


def test_ctrl_c_before_the_first_training_step_claims_no_save(photo_folder, tmp_path, capsys, monkeypatch):
    """Bug 1: no file was written, so nothing may say it was, nor suggest --resume."""
    from tutorial_style.cli import main
    from tutorial_style.realtime import train as rt_train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rt_train, "_step", interrupted)
    path = tmp_path / "net.pt"
    code = main(["train", "mosaic", "-o", str(path), "--data", str(photo_folder), "--steps", "5", *TRAIN_FLAGS])
    err = capsys.readouterr().err
    assert code == 130 and not path.exists()
    last = err.strip().splitlines()[-1]
    assert "interrupted before the first training step" in last and "nothing was saved" in last, err
    assert "saved the network" not in err and "--resume" not in err


def test_resume_may_change_the_size_and_steps_and_names_any_other_difference(photo_folder, tmp_path, capsys):
    """Bug 2: the style was fingerprinted after resizing, so another --size was blamed on the style."""
    from tutorial_style.cli import main

    path = tmp_path / "net.pt"
    ts.train_network("mosaic", data=photo_folder, steps=2, checkpoint=path, **TINY)
    net, history = ts.train_network("mosaic", data=photo_folder, steps=3, checkpoint=path, resume=True, **{**TINY, "size": 48})
    assert len(history) == 3 and ts.load_network(path).meta["size"] == 48
    with pytest.raises(ValueError, match="another style"):
        ts.train_network("swirls", data=photo_folder, steps=4, checkpoint=path, resume=True, **TINY)
    with pytest.raises(ValueError, match=r"alpha=0\.5.*size and steps may change") as raised:
        ts.train_network("mosaic", data=photo_folder, steps=4, checkpoint=path, resume=True, **{**TINY, "alpha": 0.5})
    assert "style" not in str(raised.value).split(";")[0]
    # the command line resumes with the checkpoint's own settings, not the preset's, and may change the size
    code = main(["train", "mosaic", "-o", str(path), "--data", str(photo_folder), "--steps", "4", "--resume", "--size", "40",
                 "--weights", "random"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert ts.load_network(path).meta["size"] == 40 and ts.load_network(path).meta["batch"] == 2
    from tutorial_style.cli import build_parser

    assert "size and steps may change" in " ".join(build_parser()._subparsers._group_actions[0].choices["train"].format_help().split())


def test_a_dataset_smaller_than_a_batch_is_refused_before_any_work(monkeypatch):
    """Bug 3: with fewer items than batch x processes an epoch had no batch: divmod(step, 0) after VGG19 had loaded."""
    from tutorial_style.realtime import train as rt_train

    def no_vgg(*args, **kwargs):
        raise AssertionError("VGG19 was loaded before the data was checked")

    monkeypatch.setattr(rt_train, "_vgg", no_vgg)
    with pytest.raises(ValueError, match=r"1 item.*batch of 2") as raised:
        ts.train_network("mosaic", data=Photos(1), steps=2, **TINY)
    assert "\n" not in str(raised.value)


def test_the_training_callback_stops_on_true_as_stylizes_does():
    """Bug 5: stylize's callback stops the run by returning True; train_network's stopped on False."""
    _, history = ts.train_network("mosaic", data=Photos(), steps=5, callback=lambda step, losses, net: step == 1, **TINY)
    assert history.interrupted and len(history) == 2
    _, history = ts.train_network("mosaic", data=Photos(), steps=3, callback=lambda step, losses, net: False, **TINY)
    assert not history.interrupted and len(history) == 3


DISTRIBUTED_STOP = '''
import sys, torch, tutorial_style as ts
from tutorial_style.realtime.train import train_network
rank = int(__import__("os").environ["RANK"])
net, history = train_network("mosaic", data=sys.argv[1], steps=20, size=32, batch=2, width=0.25, blocks=1, weights="random",
                             device="cpu", progress=False, callback=lambda step, losses, net: rank == 0 and step == 1)
print(f"rank {rank}: {len(history)} steps, interrupted {history.interrupted}")
'''


def test_a_stop_on_one_process_stops_every_process(photo_folder, tmp_path):
    """Bug 5 under torchrun: only rank 0's callback asks to stop; the flag is shared, so no process waits forever."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "stop.py"
    script.write_text(DISTRIBUTED_STOP)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script),
                           str(photo_folder)], capture_output=True, text=True, timeout=240, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # (the two processes share one stdout, so their lines may run together: find them, not split them)
    assert sorted(re.findall(r"rank \d: \d+ steps, interrupted \w+", done.stdout)) == [
        "rank 0: 2 steps, interrupted True", "rank 1: 2 steps, interrupted True"]


def test_photo_loader_workers_give_the_same_batches(photo_folder):
    """Bug 10: the training photos were decoded on the main thread; workers must keep the crops of (seed, epoch, i)."""
    from tutorial_style.realtime import data as rt_data

    dataset = rt_data.PhotoDataset(rt_data.folder_photos(photo_folder), 32, length=6, seed=2)
    alone = list(rt_data.photo_loader(dataset, 2, epoch=1, seed=2))
    shared = list(rt_data.photo_loader(dataset, 2, epoch=1, seed=2, workers=2))
    assert len(alone) == len(shared) == 3
    for a, b in zip(alone, shared):
        assert torch.equal(a, b)


def test_train_takes_workers_on_the_command_line(photo_folder, tmp_path, capsys, monkeypatch):
    from tutorial_style.cli import main
    from tutorial_style.realtime import train as rt_train

    seen = {}
    real = rt_train.train_network

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(rt_train, "train_network", spy)
    code = main(["train", "mosaic", "-o", str(tmp_path / "n.pt"), "--data", str(photo_folder), "--steps", "1", "--workers", "2",
                 *TRAIN_FLAGS])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert seen["settings"].workers == 2  # the command line builds one TrainingSettings


# --- The trade-off grid with style weights ---------------------------------------------------------------------------


def test_the_grid_cuts_style_weights_to_each_rows_layers(tmp_path, monkeypatch):
    """Bug 4: rows replace the style layers, and Settings rejected the weights of the layers a row leaves out."""
    from tutorial_style.tradeoff import tradeoff_grid

    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path / "cache"))
    content, style = ts.load_image("chelsea", size=32), ts.load_image("swirls", size=32)
    grid = tradeoff_grid(content, style, steps=2, ratios=(1e-3,), layer_sets=[("relu1_1",), ("relu1_1", "relu2_1")],
                         style_weights={"relu1_1": 0.25, "relu2_1": 0.75}, weights="random", progress=False)  # fmt: skip
    assert grid.shape == (2, 1)
    # row 1 is the run with the weights as given; row 0 keeps relu1_1 only, its weight renormalised to the same sum
    for row, weights in ((0, {"relu1_1": 1.0}), (1, {"relu1_1": 0.25, "relu2_1": 0.75})):
        alone = ts.stylize(content, style, steps=2, alpha=1e-3 * ts.Settings().beta, beta=ts.Settings().beta, weights="random",
                           style_layers=tuple(weights), style_weights=weights, progress=False)  # fmt: skip
        expected = (alone.image.clamp(0, 1) * 255).round() / 255
        torch.testing.assert_close(grid.cell(row, 0), expected, atol=1 / 255 + 1e-6, rtol=0)


# --- stylize: a given network's options, and the callers' modules -----------------------------------------------------


def test_stylize_refuses_pooling_or_normalize_that_contradict_the_given_network():
    """Bug 7: stylize(weights=vgg, pooling="max") ran with vgg's average pooling without a word."""
    c, s = ts.load_image("chelsea", size=32), ts.load_image("mosaic", size=32)
    vgg = ts.get_vgg("random")
    with pytest.raises(ValueError, match=r"pooling='max'.*the given network.*'avg'"):
        ts.stylize(c, s, weights=vgg, pooling="max", steps=1, progress=False)
    with pytest.raises(ValueError, match=r"normalize=None"):
        ts.stylize(c, s, ts.Settings(normalize=None, steps=1), weights=vgg, progress=False)
    with pytest.raises(ValueError, match=r"pooling='max'"):
        ts.reconstruct_content(c, weights=vgg, pooling="max", steps=1, progress=False)
    result = ts.stylize(c, s, weights=ts.get_vgg("random", pooling="max"), steps=1, progress=False)  # not asked: the network's
    assert result.settings["pooling"] == "max"
    assert ts.stylize(c, s, weights=vgg, pooling="avg", steps=1, progress=False).settings["pooling"] == "avg"


class Spy(StyleNetwork):
    """A style network that notes every move of itself: a caller's module must not be moved."""

    def to(self, *args, **kwargs):
        self.moved = True
        return super().to(*args, **kwargs)


def _spy() -> Spy:
    spy = Spy(width=0.25, blocks=1).train()
    spy.moved = False
    return spy


def test_the_stylising_functions_leave_the_callers_network_where_it_is():
    """Bug 6: the forward pass called network.to(device) on the caller's network."""
    from tutorial_style.realtime import stylize_images

    spy = _spy()
    out = stylize_images(spy, torch.rand(2, 3, 20, 24), device="cpu")
    assert out.shape == (2, 3, 20, 24) and not spy.moved and spy.training
    from tutorial_style.vgg import on_device

    copy = on_device(spy, torch.device("meta"))  # another device: a copy goes there, the network stays
    assert copy is not spy and next(copy.parameters()).device.type == "meta" and next(spy.parameters()).device.type == "cpu"


def test_notebook_08s_timing_and_comparison_leave_the_callers_network_as_it_was():
    from tutorial_style.realtime import compare

    vgg = ts.get_vgg("random")
    photo, style = ts.load_image("chelsea", size=32), ts.load_image("mosaic", size=32)
    spy = _spy()
    compare.measure_speed(vgg, spy, photo, style, evaluations=1, min_run_time=0.01)
    assert not spy.moved and spy.training  # neither moved nor left in another mode
    compare.compare_with_optimisation(vgg, spy, photo, style, steps=1)
    assert not spy.moved and spy.training


# --- Losses: guided style weights, float64 --------------------------------------------------------------------------


def test_guided_style_term_checks_its_layer_weights_as_the_style_term_does():
    """Bug 8: a negative w_l gave a negative loss in GuidedStyleTerm where StyleTerm refuses it."""
    from tutorial_style.controls.masks import GuidedStyleTerm
    from tutorial_style.objective import StyleTerm

    targets, masks = {"relu1_1": torch.rand(1, 2, 2)}, {"relu1_1": torch.ones(1, 3, 3)}
    with pytest.raises(ValueError, match="non-negative"):
        StyleTerm({"relu1_1": torch.rand(1, 2, 2)}, weights={"relu1_1": -1.0})({"relu1_1": torch.rand(1, 2, 3, 3)}, torch.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match="non-negative"):
        GuidedStyleTerm(targets, masks, weights={"relu1_1": -1.0})
    features = {"relu1_1": torch.rand(2, 2, 3, 3)}
    plain = StyleTerm(targets)(features, torch.zeros(2, 3, 3, 3))
    torch.testing.assert_close(GuidedStyleTerm(targets, masks)(features, torch.zeros(2, 3, 3, 3)), plain)  # a mask of ones


@pytest.mark.parametrize("dtype, expected", [(torch.float64, torch.float64), (torch.float32, torch.float32),
                                             (torch.bfloat16, torch.float32), (torch.float16, torch.float32)])  # fmt: skip
def test_the_losses_keep_float64_and_promote_lower_precisions_to_float32(dtype, expected):
    """Bug 9: float64 input came back as float32 from gram_matrix, content_loss and tv_loss."""
    x = torch.rand(2, 3, 4, 5).to(dtype)
    assert ts.gram_matrix(x).dtype == expected
    assert ts.content_loss(x, x.flip(0)).dtype == expected
    assert ts.tv_loss(x).dtype == expected
    assert ts.style_layer_loss(x, ts.gram_matrix(x.flip(0))).dtype == expected
    if dtype == torch.float64:  # and float64 is computed in float64, not rounded through float32
        y = torch.full((1, 1, 1, 2), 1 + 2**-40, dtype=torch.float64)
        assert ts.gram_matrix(y).item() == 2 * (1 + 2**-40) ** 2


# --- What a new user met ----------------------------------------------------------------------------------------------


def test_the_onnx_models_output_axes_are_named_as_the_inputs(tmp_path):
    pytest.importorskip("onnxscript")
    onnx = pytest.importorskip("onnx")
    from tutorial_style.deploy.export import export_onnx

    path = export_onnx(StyleNetwork(width=0.25, blocks=1), tmp_path / "net.onnx", check=False)
    model = onnx.load(str(path))
    shape = lambda value: [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]  # noqa: E731
    assert shape(model.graph.input[0]) == shape(model.graph.output[0]) == ["batch", 3, "height", "width"]


def test_export_says_what_it_does_and_its_missing_package_advice_works_on_the_command_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("onnxscript")
    from tutorial_style.cli import build_parser, main
    from tutorial_style.realtime import save_checkpoint

    checkpoint = tmp_path / "net.pt"
    save_checkpoint(checkpoint, StyleNetwork(width=0.25, blocks=1), {"style": "mosaic", "weights": "RANDOM", "pretrained": False})
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)  # not installed
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "a.onnx")]) == 2
    error = capsys.readouterr().err
    assert "--no-check" in error and 'pip install -e ".[realtime]"' in error
    assert "--no-check" in build_parser()._subparsers._group_actions[0].choices["export"].format_help()
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "b.onnx"), "--no-check"]) == 0
    out, err = capsys.readouterr()
    assert "exporting" in err and "not checked" in out and (tmp_path / "b.onnx").is_file()


def test_a_random_weights_stylize_says_at_the_end_that_the_photo_is_almost_unchanged(tmp_path, capsys):
    from tutorial_style.cli import main

    out = tmp_path / "o.png"
    assert main(["stylize", "astronaut", "mosaic", "-o", str(out), "--size", "48", "--steps", "3", "--weights", "random"]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "RANDOM" in last and "almost unchanged" in last and "/255" in last and "fetch-weights" in last, last


def test_doctor_offers_random_weights_to_a_machine_that_cannot_download(tmp_path, monkeypatch):
    from tutorial_style import doctor

    monkeypatch.delenv("TUTORIAL_STYLE_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    weights = {c.name: c for c in doctor.run_checks(probe_network=False)}["VGG19 weights"]
    assert not weights.ok and "TUTORIAL_STYLE_WEIGHTS=random" in weights.fix and "--weights random" in weights.fix


def test_missing_package_advice_gives_the_form_that_works_from_a_checkout():
    from tutorial_style.optional import MissingPackageError, require

    with pytest.raises(MissingPackageError) as raised:
        require("no_such_module_here", "flying", pip="wings")
    assert 'pip install -e ".[realtime]"' in str(raised.value) and 'pip install "tutorial_style[realtime]"' in str(raised.value)


# --- Error texts: no internals, and a fix -----------------------------------------------------------------------------


def test_a_damaged_checkpoint_says_so_without_the_readers_internals(tmp_path):
    import io
    import re

    from tutorial_style.realtime import save_checkpoint

    good = tmp_path / "good.pt"
    save_checkpoint(good, StyleNetwork(width=0.25, blocks=1), {})
    data = good.read_bytes()
    legacy = io.BytesIO()
    torch.save({"a": torch.zeros(100)}, legacy, _use_new_zipfile_serialization=False)
    cases = [data[: len(data) // 2], data[:100], data[:-10], legacy.getvalue()[:200], legacy.getvalue()[:40], b"PK\x03\x04" + bytes(100)]
    for i, content in enumerate(cases):
        path = tmp_path / f"bad{i}.pt"
        path.write_bytes(content)
        with pytest.raises(CheckpointError) as raised:
            load_network(path)
        message = str(raised.value)
        assert f"checkpoint {str(path)!r} is" in message and "damaged" in message, message
        assert not re.search(r"Pytorch|EOF|zip|codec|\(\d+\)|expected \d+", message), message


def test_an_output_folder_error_names_the_folder_and_a_full_one_says_what_to_do(tmp_path, monkeypatch):
    import errno
    import tempfile

    from tutorial_style.files import OutputPathError
    from tutorial_style.realtime import stylize_folder

    photos = tmp_path / "photos"
    photos.mkdir()
    ts.save_image(ts.load_image("coffee", size=16), photos / "a.png")
    (tmp_path / "file").write_text("a file where a folder should be")
    with pytest.raises(OutputPathError) as raised:
        stylize_folder(StyleNetwork(width=0.25, blocks=1), photos, tmp_path / "file" / "out", progress=False)
    assert ".probe" not in str(raised.value) and "'" + str(tmp_path / "file") + "' is a file" in str(raised.value)

    def refused(*args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(OutputPathError) as raised:
        stylize_folder(StyleNetwork(width=0.25, blocks=1), photos, tmp_path / "ro", progress=False)
    message = str(raised.value)
    assert message.startswith(f"cannot write to the folder {str(tmp_path / 'ro')!r}: Operation not permitted") and ".probe" not in message
    assert "Choose a folder you can write to" in message


def test_train_says_how_long_the_rest_will_take_after_its_first_steps(photo_folder, tmp_path, capsys):
    import re

    from tutorial_style.cli import main

    code = main(["train", "mosaic", "-o", str(tmp_path / "n.pt"), "--data", str(photo_folder), "--steps", "5", *TRAIN_FLAGS])
    err = capsys.readouterr().err
    assert code == 0 and re.search(r"train: [\d.e-]+ s per step on cpu; the other 2 steps take about \d+ m?s", err), err
