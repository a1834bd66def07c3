"""The web page's Python side, without a browser: the slim network, int8 quantisation, ONNX Runtime Web's files, the
page's folder, the server and the command line's errors. (tests/browser/test_web_page.py runs the page itself.)"""

import base64
import hashlib
import io
import json
import socket
import tarfile
import threading
import urllib.request

import numpy as np
import pytest
import torch

from tutorial_style.cli import main
from tutorial_style.realtime import StyleNetwork, load_network, save_checkpoint
from tutorial_style.realtime.network import DEFAULT, SLIM
from tutorial_style.deploy.web import runtime as rt
from tutorial_style.deploy.web import build_site, make_server, web_networks

META = {"style": "mosaic", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False, "steps": 0}


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def fake_runtime(folder, version=rt.VERSION):
    """A folder shaped like ONNX Runtime Web's files (the JS names its version in its first line, as the real one)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in rt.FILES:
        (folder / name).write_text(f"/*!\n * ONNX Runtime Web v{version}\n */\n// {name}\n")
    return folder


def npm_tarball(path, files):
    """An npm package file (package/dist/...) holding ``files``; its SHA-512 in npm's integrity notation."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/dist/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return "sha512-" + base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()


# --- the slim network ------------------------------------------------------------------------------------------------


def test_the_slim_network_is_depthwise_separable_smaller_and_keeps_the_image_size():
    slim, default = StyleNetwork(**SLIM), StyleNetwork(**DEFAULT)
    convs = [m for m in slim.modules() if isinstance(m, torch.nn.Conv2d)]
    spatial = [m for m in convs if m.kernel_size != (1, 1)]
    assert spatial and all(m.groups == m.in_channels == m.out_channels for m in spatial)  # every k x k conv is depthwise
    assert all(m.kernel_size == (1, 1) for m in convs if m.groups == 1)  # the channels are mixed by 1 x 1 convs only
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(slim) * 8 < count(default)
    assert slim(torch.rand(2, 3, 37, 50)).shape == (2, 3, 37, 50)
    assert isinstance(slim.up[0][0], torch.nn.Upsample)  # upsampling, then a convolution: no transposed convolution
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in slim.modules())


def test_a_separable_network_is_saved_and_loaded_and_plain_configs_stay_as_they_were(tmp_path):
    torch.manual_seed(0)
    net = StyleNetwork(**SLIM).eval()
    save_checkpoint(tmp_path / "slim.pt", net, META)
    loaded = load_network(tmp_path / "slim.pt")
    assert loaded.config == SLIM and "separable" in loaded.extra_repr()
    images = torch.rand(1, 3, 24, 20)
    torch.testing.assert_close(loaded(images), net(images))
    assert StyleNetwork().config == DEFAULT  # no "separable" key: earlier checkpoints load as before
    with pytest.raises(ValueError, match="separable"):
        StyleNetwork(separable="yes")


def test_the_web_training_preset_trains_the_slim_network(tmp_path, capsys):
    from tutorial_style.realtime.train import PRESETS

    assert {k: PRESETS["web"][k] for k in SLIM} == SLIM
    out = tmp_path / "slim.pt"
    assert main(["train", "mosaic", "-o", str(out), "--preset", "web", "--steps", "1", "--size", "32", "--batch", "1", "--weights", "random"]) == 0
    assert load_network(out).config == SLIM


# --- int8 ------------------------------------------------------------------------------------------------------------


def test_int8_quantisation_makes_a_smaller_model_that_stylises_like_the_float_one(tmp_path):
    pytest.importorskip("onnxruntime")
    from tutorial_style.deploy.export import export_onnx, onnx_session
    from tutorial_style.deploy.quantize import calibration_images, quantize_int8

    torch.manual_seed(0)
    fp32 = export_onnx(StyleNetwork(width=0.5, blocks=1), tmp_path / "net.onnx")
    int8 = quantize_int8(fp32, tmp_path / "int8.onnx", images=calibration_images(size=48, count=3))
    assert int8.stat().st_size * 2 < fp32.stat().st_size
    image = calibration_images(size=40, count=1)[0]
    a = onnx_session(fp32).run(None, {"images": image})[0]
    b = onnx_session(int8).run(None, {"images": image})[0]
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < 0.05  # near the float model (outputs in [0, 1]), not equal: 8 bits round
    assert sorted(p.name for p in tmp_path.iterdir()) == ["int8.onnx", "net.onnx"]


# --- ONNX Runtime Web's files ----------------------------------------------------------------------------------------


def test_the_runtime_is_unpacked_from_the_npm_package_only_when_its_checksum_is_the_registrys(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path / "cache-root"))
    monkeypatch.delenv(rt.ENVIRONMENT, raising=False)
    files = {name: f"/*!\n * ONNX Runtime Web v{rt.VERSION}\n */ {name}" for name in rt.FILES}
    files["ort.min.js.map"] = "not needed"
    integrity = npm_tarball(tmp_path / "onnxruntime-web.tgz", files)
    with pytest.raises(rt.RuntimeMissing, match="SHA-512 differs.*npm pack onnxruntime-web@"):
        rt.unpack(tmp_path / "onnxruntime-web.tgz", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
    monkeypatch.setattr(rt, "INTEGRITY", integrity)
    folder = rt.runtime_dir(tmp_path / "onnxruntime-web.tgz")  # a .tgz given: unpacked into the cache
    assert sorted(p.name for p in folder.iterdir()) == sorted([*rt.FILES, ".complete"])
    assert (folder / rt.FILES[0]).read_text() == files[rt.FILES[0]]
    assert rt.runtime_dir(fetch=False) == folder  # and found there from then on, without fetching


def test_a_runtime_folder_must_hold_every_file_of_the_pinned_version(tmp_path, monkeypatch):
    assert rt.find_runtime(fake_runtime(tmp_path / "ok" / "dist")) == tmp_path / "ok" / "dist"
    monkeypatch.setenv(rt.ENVIRONMENT, str(tmp_path / "ok"))
    assert rt.runtime_dir() == tmp_path / "ok" / "dist"
    with pytest.raises(rt.RuntimeMissing, match="holds version 1.0.0, but the page needs"):
        rt.find_runtime(fake_runtime(tmp_path / "old", "1.0.0"))
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / rt.FILES[0]).write_text("x")
    with pytest.raises(rt.RuntimeMissing, match="lacks ort-wasm-simd-threaded.mjs"):
        rt.find_runtime(tmp_path / "half")
    with pytest.raises(rt.RuntimeMissing, match="does not exist"):
        rt.find_runtime(tmp_path / "nowhere")


def test_without_a_cached_runtime_and_without_fetching_the_message_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTORIAL_STYLE_CACHE", str(tmp_path))
    monkeypatch.delenv(rt.ENVIRONMENT, raising=False)
    with pytest.raises(rt.RuntimeMissing, match=r"web --fetch-runtime.*--runtime PATH"):
        rt.runtime_dir(fetch=False)


# --- the page's folder and the server --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("net") / "slim.pt"
    save_checkpoint(path, StyleNetwork(width=0.25, blocks=1, separable=True), META)
    return path


def test_the_page_folder_holds_the_page_the_networks_and_the_runtime_and_the_server_isolates_it(tmp_path, checkpoint):
    pytest.importorskip("onnxruntime")
    runtime = fake_runtime(tmp_path / "ort-files")
    networks = web_networks([checkpoint, checkpoint])
    assert [n.name for n in networks] == ["slim", "slim-2"]
    site = build_site(networks, tmp_path / "site", runtime=runtime)
    listed = json.loads((site / "networks.json").read_text())["networks"]
    assert [n["file"] for n in listed] == ["models/slim.onnx", "models/slim-2.onnx"]
    assert "RANDOM" in listed[0]["trained"] and "separable" in listed[0]["network"] and listed[0]["pretrained"] is False
    assert {p.name for p in site.iterdir()} == {"index.html", "app.js", "sw.js", "networks.json", "models", "ort"}
    assert sorted(p.name for p in (site / "ort").iterdir()) == sorted(rt.FILES)
    server = make_server(site, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(base) as page:
            assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert page.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert b'src="app.js"' in page.read()
        with urllib.request.urlopen(base + "ort/ort-wasm-simd-threaded.wasm") as wasm:
            assert wasm.headers["Content-Type"] == "application/wasm"
        with urllib.request.urlopen(base + "ort/ort.wasm.min.mjs") as module:
            assert module.headers["Content-Type"] == "text/javascript"
    finally:
        server.shutdown()
        server.server_close()


def test_a_port_in_use_is_a_one_line_error_before_any_work(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["web", str(tmp_path / "never-read.pt"), "--port", str(port)]) == 2
    error = one_line_error(capsys)
    assert f"port {port}" in error and "in use" in error and "--port" in error


@pytest.mark.parametrize("kind", ["not a checkpoint", "foreign", "bad onnx", "missing"])
def test_a_file_that_is_not_a_network_is_a_one_line_error(tmp_path, capsys, kind):
    bad = tmp_path / ("bad.onnx" if "onnx" in kind else "bad.pt")
    if kind == "not a checkpoint":
        bad.write_text("hello")
    elif kind == "foreign":
        torch.save({"state_dict": {"w": torch.zeros(2)}}, bad)
    elif kind == "bad onnx":
        bad.write_bytes(b"\x08\x07garbage")
    assert main(["web", str(bad), "--port", "0"]) == 2
    assert "bad." in one_line_error(capsys)


def test_export_needs_onnx_or_web_and_keeps_a_folder_of_other_files(tmp_path, checkpoint, capsys):
    assert main(["export", str(checkpoint)]) == 2
    assert "--onnx" in one_line_error(capsys)
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "n.onnx"), "--int8"]) == 2
    assert "--web" in one_line_error(capsys) and not (tmp_path / "n.onnx").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["export", str(checkpoint), "--web", str(tmp_path / "mine")]) == 2
    assert "other files" in one_line_error(capsys)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_export_web_writes_the_static_folder(tmp_path, checkpoint, capsys):
    pytest.importorskip("onnxruntime")
    runtime = fake_runtime(tmp_path / "ort-files")
    out = tmp_path / "page"
    assert main(["export", str(checkpoint), "--web", str(out), "--runtime", str(runtime)]) == 0
    assert "https" in capsys.readouterr().out
    assert (out / "models" / "slim.onnx").is_file() and not (out / "models" / "slim.onnx").is_symlink()
    assert json.loads((out / "networks.json").read_text())["networks"][0]["name"] == "slim"
    assert main(["export", str(checkpoint), "--web", str(out), "--runtime", str(runtime)]) == 0  # an earlier page is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ort-files", "page"]  # no staging folder left behind


def test_an_onnx_model_is_served_as_it_is_and_says_that_it_does_not_record_what_trained_it(tmp_path, checkpoint):
    pytest.importorskip("onnxruntime")
    exported = web_networks([checkpoint])[0].model  # the cached export of the checkpoint
    copy = tmp_path / "mosaic.onnx"
    copy.write_bytes(exported.read_bytes())
    (net,) = web_networks([copy])
    assert (net.name, net.model, net.precision) == ("mosaic", copy, "fp32")
    assert "not recorded" in net.trained and net.pretrained is None
