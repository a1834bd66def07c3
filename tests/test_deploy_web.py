"""The web page's Python side (deploy/web/), without a browser: ONNX Runtime Web's files, the page's folder and the
server. (tests/browser/test_web_page.py runs the page itself; the `web` and `export` commands' errors are in
test_cli.py.)"""

import base64
import hashlib
import io
import json
import tarfile
import threading
import urllib.request

import pytest

from tutorial_style.cli import main
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
    assert (net.name, net.model, net.precision) == ("mosaic", copy, "fp32")
    assert "not recorded" in net.trained and net.pretrained is None
