"""The web page (``python -m tutorial_style web``) in headless Chromium: the camera styled live, a known image styled as
ONNX Runtime in Python styles it, threads when cross-origin isolated and one thread without, the service worker of
static hosts, the clear messages of a refused camera and an undecodable image, and a network of two styles mixed
live with one slider per style.

The camera is Chromium's fake one (``--use-fake-device-for-media-stream``); whether the page may use it is each
tab's permission (granted, or not: refused). The network is a tiny slim one with random weights: what is checked is
that the page computes what the network computes, not how the pictures look. ONNX Runtime Web's files come from
``$TUTORIAL_STYLE_ORT_WEB``, the user's cache (``python -m tutorial_style web --fetch-runtime``), or are fetched once
into the run's cache from the npm registry; when they cannot be had the tests are skipped, and fail under CI.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import CHROMIUM_ARGS, EXPECT_TIMEOUT_MS, find_chromium, skip_or_fail

TOLERANCE = 0.5 + 255 * 1e-4
"""Largest difference allowed between a pixel of the page (a byte) and ONNX Runtime's output in Python (a float times
255). The page rounds to bytes: 0.5 of it. The rest allows the floats of ONNX Runtime Web (WebAssembly) and of the
native ONNX Runtime to differ by 1e-4, the export's own tolerance against PyTorch. Measured here: 0.5005 at most
(the floats agree to about 2e-6), and 0.035 % of the bytes one step off the rounded float."""


@pytest.fixture(scope="module")
def runtime():
    """ONNX Runtime Web's files: ``$TUTORIAL_STYLE_ORT_WEB``, else the user's cache (read, never written), else fetched
    once into this run's cache from the npm registry, as ``python -m tutorial_style web`` fetches them."""
    from tutorial_style.deploy.web import runtime as rt

    chosen = os.environ.get(rt.ENVIRONMENT, "").strip()
    user_cache = Path.home() / ".cache" / "tutorial_style" / "onnxruntime-web" / rt.VERSION
    for candidate in [chosen] if chosen else [user_cache]:
        try:
            return rt.find_runtime(candidate)
        except rt.RuntimeMissing:
            pass
    if not chosen:
        try:
            return rt.runtime_dir(fetch=True, log=lambda line: None)
        except (rt.RuntimeMissing, OSError) as e:
            skip_or_fail(f"ONNX Runtime Web {rt.VERSION} is not here and could not be fetched ({e})")
    skip_or_fail(f"{rt.ENVIRONMENT}={chosen!r} does not hold ONNX Runtime Web {rt.VERSION}")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny slim network (random weights, instance norms made non-trivial)."""
    from tutorial_style.realtime import StyleNetwork, save_checkpoint

    torch.manual_seed(0)
    net = StyleNetwork(width=0.25, blocks=1, separable=True)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    meta = {"style": "mosaic", "weights": "RANDOM weights (seed 0), not pretrained", "pretrained": False}
    return save_checkpoint(tmp_path_factory.mktemp("net") / "tiny.pt", net, meta)


@pytest.fixture(scope="module")
def two_styles(tmp_path_factory):
    """A tiny slim network of two styles (random weights; each style's γ and β drawn apart, so that mixing them
    changes the picture)."""
    from tutorial_style.realtime import StyleNetwork, save_checkpoint

    torch.manual_seed(1)
    net = StyleNetwork(width=0.25, blocks=1, separable=True, styles=["mosaic", "swirls"])
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    meta = {"style": "mosaic, swirls", "weights": "RANDOM weights (seed 1), not pretrained", "pretrained": False}
    return save_checkpoint(tmp_path_factory.mktemp("net") / "two.pt", net, meta)


@pytest.fixture(scope="module")
def site(runtime, checkpoint, two_styles, tmp_path_factory):
    """The page with the tiny network, as `web` builds it (exported to ONNX once, into the tests' private cache)."""
    pytest.importorskip("onnxruntime")
    from tutorial_style.deploy.web import build_site, web_networks

    # tiny and tiny-2 for the picker (one export, cached), and "two", a network of two styles
    networks = web_networks([checkpoint, checkpoint, two_styles])
    return build_site(networks, tmp_path_factory.mktemp("web") / "site", runtime=runtime, link=True)


def _serve(site, isolated: bool):
    from tutorial_style.deploy.web import make_server

    server = make_server(site, "127.0.0.1", 0, isolated=isolated)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def urls(site):
    """The page served with the isolation headers (as `web` serves it) and without (as a plain static host)."""
    servers = {"isolated": _serve(site, True), "plain": _serve(site, False)}
    try:
        yield {name: f"http://127.0.0.1:{s.server_address[1]}/" for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def chromium(browser):
    """A second headless Chromium with a fake camera, launched by the session's Playwright (the ``browser`` fixture's:
    one thread runs one Playwright; ``browser`` also skips, or fails under CI, when Chromium or Playwright is
    missing)."""
    chromium = browser.browser_type.launch(
        executable_path=find_chromium(), args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream"]
    )
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def tab(chromium, request, artifacts):
    """A new tab in its own context, ``tab(camera=True, service_workers="block")``; page errors are collected and
    fail the test, and the tab's last view is kept as a screenshot."""
    opened, errors = [], []

    def open_tab(camera: bool = True, service_workers: str = "block"):
        context = chromium.new_context(
            permissions=["camera"] if camera else [], service_workers=service_workers, accept_downloads=True
        )
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        opened.append((context, page))
        return page

    yield open_tab
    for i, (context, page) in enumerate(opened):
        try:
            page.screenshot(path=str(artifacts / f"web-{request.node.name}-{i}.png"), timeout=15_000)
        except Exception:  # noqa: BLE001 - a screenshot is a courtesy
            pass
        context.close()
    assert errors == [], errors


def state(page) -> dict:
    return page.evaluate("window.tutorialStyle")


def wait_for_frames(page, count: int, source: str = "camera") -> dict:
    page.wait_for_function(
        f"window.tutorialStyle && window.tutorialStyle.frames >= {count} "
        f"&& window.tutorialStyle.source.startsWith({source!r})"
    )
    return state(page)


def test_the_camera_is_styled_live_on_several_threads_when_isolated(tab, urls):
    page = tab()
    page.goto(urls["isolated"] + "?threads=2&size=128")
    now = wait_for_frames(page, 3)
    assert now["isolated"] and page.evaluate("self.crossOriginIsolated") is True
    assert now["backend"] == "wasm" and now["threads"] == 2  # headless Chromium has no WebGPU adapter here
    assert (now["width"], now["height"]) == (128, 96)  # the fake camera's 640 x 480 at 128 px
    assert len(page.workers) >= 2  # ONNX Runtime's worker and its second thread: more than one thread computes
    assert "2 threads" in page.locator("#backend").inner_text()
    page.wait_for_function("window.tutorialStyle.fps > 0")
    assert "frames/s" in page.locator("#fps").inner_text()
    page.select_option("#network", label="tiny-2 (fp32)")  # another style, and another size, while the camera runs
    page.select_option("#size", "192")
    frames = state(page)["frames"]
    page.wait_for_function(
        "window.tutorialStyle.network === 'tiny-2' && window.tutorialStyle.width === 192 "
        f"&& window.tutorialStyle.frames > {frames + 2}"
    )
    assert state(page)["message"] == "" and "tiny-2" in page.locator("#made-by").inner_text()


def _known_image(path: Path) -> np.ndarray:
    """A 128 x 96 photo as a PNG: at the page's 128 px it is drawn pixel for pixel, so the page's input is known."""
    from tutorial_style import load_image

    array = (load_image("astronaut", size=128)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)[:96]
    Image.fromarray(array).save(path)
    return array


def test_a_styled_image_is_what_onnx_runtime_computes_in_python_and_the_snapshot_says_what_made_it(
    tab, urls, site, tmp_path
):
    from tutorial_style.deploy.export import onnx_session

    photo = _known_image(tmp_path / "photo.png")
    page = tab()
    page.goto(urls["isolated"] + "?camera=off&size=128")
    page.wait_for_function("window.tutorialStyle.ready")
    page.set_input_files("#file", str(tmp_path / "photo.png"))
    assert (wait_for_frames(page, 1, "image"))["width"] == 128
    pixels = page.evaluate(
        "(() => { const c = document.getElementById('view');"
        " return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); })()"
    )
    got = np.array(pixels, dtype=np.int16).reshape(96, 128, 4)
    assert (got[..., 3] == 255).all()
    model = json.loads((site / "networks.json").read_text())["networks"][0]["file"]
    images = (photo.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    expected = onnx_session(site / model).run(None, {"images": images})[0][0].transpose(1, 2, 0) * 255
    difference = np.abs(got[..., :3] - expected)
    assert difference.max() <= TOLERANCE, f"largest difference {difference.max():.4f} (0-255)"
    assert expected.std() > 5  # a picture with structure, not a flat one that any bug would match

    with page.expect_download() as download:
        page.click("#snapshot")
    assert download.value.suggested_filename == "tiny-128x96.png"
    download.value.save_as(tmp_path / "snapshot.png")
    snapshot = Image.open(tmp_path / "snapshot.png")
    assert snapshot.width == 480 and snapshot.height > 96 + 3 * 14  # the picture and its three lines of caption
    message = state(page)["message"]
    assert "tiny" in message and "128 x 96 px" in message and "RANDOM weights" in message


def test_without_isolation_the_page_runs_on_one_thread(tab, urls):
    page = tab(service_workers="block")  # a static host without headers, and no service worker to add them
    page.goto(urls["plain"] + "?size=128")
    now = wait_for_frames(page, 2)
    assert page.evaluate("self.crossOriginIsolated") is False and now["threads"] == 1
    assert "not cross-origin isolated" in page.locator("#backend").inner_text()
    assert now["message"] == ""


def test_on_a_static_host_the_service_worker_isolates_the_page(tab, urls):
    page = tab(service_workers="allow")
    page.goto(urls["plain"] + "?threads=2&size=128")
    page.wait_for_function(
        "self.crossOriginIsolated === true && window.tutorialStyle && window.tutorialStyle.frames >= 1"
    )
    assert state(page)["threads"] == 2


def test_a_refused_camera_and_an_undecodable_image_are_clear_messages_and_the_page_goes_on(tab, urls, tmp_path):
    page = tab(camera=False)
    page.goto(urls["isolated"] + "?size=128")
    page.wait_for_function("window.tutorialStyle && window.tutorialStyle.message !== ''")
    assert (
        "camera permission was refused" in state(page)["message"]
        and "choose or drop an image" in state(page)["message"]
    )
    assert page.locator("#message").is_visible()
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 10)
    page.set_input_files("#file", str(tmp_path / "broken.png"))
    page.wait_for_function("window.tutorialStyle.message.includes('cannot be decoded')")
    assert "broken.png" in state(page)["message"] and state(page)["frames"] == 0
    _known_image(tmp_path / "photo.png")
    page.set_input_files("#file", str(tmp_path / "photo.png"))
    wait_for_frames(page, 1, "image")
    assert state(page)["message"] == ""


def test_the_web_command_serves_the_page_with_the_isolation_headers_and_stops_on_ctrl_c(site, checkpoint, runtime):
    import signal
    import subprocess
    import sys
    import urllib.request

    env = {**os.environ, "TUTORIAL_STYLE_ORT_WEB": str(runtime), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tutorial_style", "web", str(checkpoint), "--port", "0"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # the export is cached (the site fixture made it): this is quick
        assert line.startswith("serving tiny at http://127.0.0.1:"), (
            line + server.stderr.read() if server.poll() is not None else line
        )
        url = line.split(" at ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "networks.json", timeout=30) as response:
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert json.loads(response.read())["networks"][0]["name"] == "tiny"
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
        assert server.returncode == 0 and "stopped" in out and "Traceback" not in err
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _view_pixels(page) -> np.ndarray:
    pixels = page.evaluate(
        "(() => { const c = document.getElementById('view');"
        " return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); })()"
    )
    height, width = page.evaluate("[document.getElementById('view').height, document.getElementById('view').width]")
    return np.array(pixels, dtype=np.int16).reshape(height, width, 4)


def test_a_network_of_two_styles_has_a_slider_each_and_moving_one_mixes_them_in_the_next_frame(
    tab, urls, site, tmp_path
):
    from tutorial_style.deploy.export import onnx_session

    photo = _known_image(tmp_path / "photo.png")
    page = tab()
    page.goto(urls["isolated"] + "?camera=off&size=128&network=two")
    page.wait_for_function("window.tutorialStyle.ready")
    sliders = page.locator("#styles input[type=range]")
    assert sliders.count() == 2 and page.locator("#styles").is_visible()
    assert page.locator("#styles label").all_inner_texts()[0].startswith("mosaic")
    assert page.locator("#styles label").all_inner_texts()[1].startswith("swirls")
    assert [sliders.nth(i).input_value() for i in range(2)] == ["1", "0"] and state(page)["mix"] == [1, 0]
    assert "RANDOM weights" in page.locator("#made-by").inner_text()  # what trained it, as for any network

    entry = next(n for n in json.loads((site / "networks.json").read_text())["networks"] if n["name"] == "two")
    session = onnx_session(site / entry["file"])
    images = (photo.astype(np.float32) / 255).transpose(2, 0, 1)[None]

    def expected(mix):
        feed = {"images": images, "mix": np.array([mix], dtype=np.float32)}
        return session.run(None, feed)[0][0].transpose(1, 2, 0) * 255

    page.set_input_files("#file", str(tmp_path / "photo.png"))
    wait_for_frames(page, 1, "image")
    mosaic = _view_pixels(page)
    assert np.abs(mosaic[..., :3] - expected([1, 0])).max() <= TOLERANCE  # the first style alone

    frames = state(page)["frames"]
    sliders.nth(1).fill("1")  # swirls up to mosaic's weight: half each, in the next frame
    page.wait_for_function(f"window.tutorialStyle.frames > {frames}")
    assert state(page)["mix"] == [0.5, 0.5] and page.locator("#styles output").all_inner_texts() == ["50 %", "50 %"]
    mixed = _view_pixels(page)
    assert np.abs(mixed[..., :3] - expected([0.5, 0.5])).max() <= TOLERANCE
    assert np.abs(mixed[..., :3] - mosaic[..., :3]).mean() > 2  # the mix changed the picture, not only a few bytes

    sliders.nth(0).fill("0")
    page.wait_for_function("window.tutorialStyle.mix[0] === 0")
    sliders.nth(1).fill("0")  # every slider at 0: a message, and the last mix (swirls alone) stays
    page.wait_for_function("window.tutorialStyle.message.includes('at 0')")
    assert state(page)["mix"] == [0, 1] and page.locator("#message").is_visible()
    sliders.nth(1).fill("0.3")
    page.wait_for_function("window.tutorialStyle.message === ''")
    assert state(page)["mix"] == [0, 1] and state(page)["network"] == "two"
