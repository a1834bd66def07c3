"""The web page's Python side (deploy/web/), without a browser: ONNX Runtime Web's files, the page's folder and the
server, networks of several styles, and `web` without a network (the shipped ones). (tests/browser/test_web_page.py
runs the page itself; the `web` and `export` commands' other errors are in test_cli.py.)"""

import base64
import hashlib
import io
import json
import tarfile
import threading
import urllib.request
from pathlib import Path

import pytest
from cli_support import one_line_error
from realtime_support import TRAIN_FLAGS

from tutorial_style.cli import main
from tutorial_style.deploy.export import ExportError
from tutorial_style.deploy.web import build_site, make_server, web_networks
from tutorial_style.deploy.web import runtime as rt


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


def test_the_page_folder_holds_the_page_the_networks_and_the_runtime_and_the_server_isolates_it(
    tmp_path, slim_checkpoint
):
    pytest.importorskip("onnxruntime")
    runtime = fake_runtime(tmp_path / "ort-files")
    networks = web_networks([slim_checkpoint, slim_checkpoint])
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


def test_export_web_writes_the_static_folder(tmp_path, slim_checkpoint, capsys):
    pytest.importorskip("onnxruntime")
    runtime = fake_runtime(tmp_path / "ort-files")
    out = tmp_path / "page"
    assert main(["export", str(slim_checkpoint), "--web", str(out), "--runtime", str(runtime)]) == 0
    assert "https" in capsys.readouterr().out
    assert (out / "models" / "slim.onnx").is_file() and not (out / "models" / "slim.onnx").is_symlink()
    assert json.loads((out / "networks.json").read_text())["networks"][0]["name"] == "slim"
    assert (
        main(["export", str(slim_checkpoint), "--web", str(out), "--runtime", str(runtime)]) == 0
    )  # an earlier page is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ort-files", "page"]  # no staging folder left behind


def test_an_onnx_model_is_served_as_it_is_and_says_that_it_does_not_record_what_trained_it(tmp_path, slim_checkpoint):
    pytest.importorskip("onnxruntime")
    exported = web_networks([slim_checkpoint])[0].model  # the cached export of the checkpoint
    copy = tmp_path / "mosaic.onnx"
    copy.write_bytes(exported.read_bytes())
    (net,) = web_networks([copy])
    assert (net.name, net.model, net.precision, net.styles) == ("mosaic", copy, "fp32", [])
    assert "not recorded" in net.trained and net.pretrained is None
    site = build_site([net], tmp_path / "site", runtime=fake_runtime(tmp_path / "ort-files"))
    (entry,) = json.loads((site / "networks.json").read_text())["networks"]
    assert entry["styles"] == [] and entry["network"] == "an ONNX model"  # one style: the page shows no sliders


# --- networks of several styles (issue 27) ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_styles(tmp_path_factory):
    """A network of two styles, trained for 2 steps at 32 px with a random VGG19 (as `train A B` writes it)."""
    path = tmp_path_factory.mktemp("two") / "two.pt"
    assert main(["train", "mosaic", "swirls", "-o", str(path), "--steps", "2", *TRAIN_FLAGS]) == 0
    return path


def test_a_network_of_several_styles_is_listed_with_its_styles_as_a_checkpoint_and_as_an_onnx_file(
    tmp_path, two_styles
):
    pytest.importorskip("onnxruntime")
    (net,) = web_networks([two_styles])
    assert net.styles == ["mosaic", "swirls"] and "mosaic, swirls" in net.trained and "RANDOM" in net.trained
    site = build_site([net], tmp_path / "site", runtime=fake_runtime(tmp_path / "ort-files"))
    (entry,) = json.loads((site / "networks.json").read_text())["networks"]
    assert entry["name"] == "two" and entry["styles"] == ["mosaic", "swirls"]

    copy = tmp_path / "mixed.onnx"  # the exported model alone: its style names are in its metadata
    copy.write_bytes(net.model.read_bytes())
    (onnx,) = web_networks([copy])
    assert (onnx.name, onnx.styles, onnx.network) == ("mixed", ["mosaic", "swirls"], "an ONNX model of 2 styles")

    import onnx as onnx_lib

    model = onnx_lib.load(copy)  # exported elsewhere, without the names: numbered, as many as the mix has columns
    del model.metadata_props[:]
    onnx_lib.save(model, tmp_path / "unnamed.onnx")
    assert web_networks([tmp_path / "unnamed.onnx"])[0].styles == ["style 1", "style 2"]
    with pytest.raises(ValueError, match="--int8.*one style only.*two"):
        web_networks([two_styles], int8=True)


def _foreign_model(path, inputs):
    """An ONNX model that adds 0 to its first input of ``inputs`` (name, shape): not one of the tutorial's."""
    import onnx
    from onnx import TensorProto, helper

    args = [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in inputs]
    output = helper.make_tensor_value_info("stylised", TensorProto.FLOAT, ["b", 3, "h", "w"])
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    graph = helper.make_graph(
        [helper.make_node("Add", [inputs[0][0], "zero"], ["stylised"])], "g", args, [output], [zero]
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize(
    "inputs",
    [
        [("images", ["b", 3, "h", "w"]), ("weights", ["b", 2])],  # a second input of another name
        [("images", ["b", 3, "h", "w"]), ("mix", ["b", "styles"])],  # a mix without a fixed number of styles
        [("pixels", ["b", 3, "h", "w"])],
    ],
)
def test_a_model_with_other_inputs_is_a_one_line_error_naming_both_kinds_the_page_takes(tmp_path, inputs):
    pytest.importorskip("onnxruntime")
    path = _foreign_model(tmp_path / "foreign.onnx", inputs)
    with pytest.raises(ExportError) as error:
        web_networks([path])
    message = str(error.value)
    assert "\n" not in message and "foreign.onnx" in message and "not a style network" in message
    assert "'images' (batch, 3, height, width), or 'images' and 'mix' (batch, styles)" in message


def test_web_without_a_network_serves_the_shipped_ones_and_without_any_says_to_give_one(
    tmp_path, slim_checkpoint, monkeypatch, capsys
):
    pytest.importorskip("onnxruntime")
    import tutorial_style.deploy.web as web
    import tutorial_style.shipped as shipped

    monkeypatch.setattr(shipped, "shipped_networks", lambda: [])
    assert main(["web", "--port", "0"]) == 2
    assert "NET.pt" in one_line_error(capsys)

    class Server:  # stands in for the real one: serves "until Ctrl-C" at once, and keeps the page's folder to look at
        server_address = ("127.0.0.1", 8123)

        def __init__(self, folder, *args, **kwargs):
            self.folder = folder

        def serve_forever(self):
            served.append(json.loads((Path(self.folder) / "networks.json").read_text()))
            raise KeyboardInterrupt

        def server_close(self):
            pass

    served = []
    monkeypatch.setattr(web, "make_server", Server)
    house = tmp_path / "house.pt"  # a shipped network's file is NAME.pt
    house.write_bytes(slim_checkpoint.read_bytes())
    monkeypatch.setattr(shipped, "shipped_networks", lambda: [shipped.ShippedNetwork("house", house, {})])
    assert main(["web", "--port", "0", "--runtime", str(fake_runtime(tmp_path / "ort-files"))]) == 0
    assert capsys.readouterr().out.startswith("serving house at http://127.0.0.1:8123/")
    assert [n["name"] for n in served[0]["networks"]] == ["house"]
