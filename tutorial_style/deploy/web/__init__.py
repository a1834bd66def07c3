"""The trained network in a web page: the webcam styled live in the browser, on a phone too, nothing to install.

``page/``: the page's files, served as they are: ``index.html``, ``app.js`` (the one script: camera or image, the
network through ONNX Runtime Web, frames per second, snapshot) and ``sw.js`` (a service worker for static hosts).
``runtime.py``: ONNX Runtime Web's files, one pinned version, fetched once into the cache (:func:`runtime_dir`).
``site.py``: the page, the networks (checkpoints exported to ONNX) and the runtime as a folder (:func:`build_site`).
``server.py``: a small server for that folder, with the headers that allow threads (:func:`make_server`).

``python -m tutorial_style web NET.pt`` serves it; ``python -m tutorial_style export NET.pt --web DIR`` writes the
folder for a static HTTPS host.
"""

from .runtime import RuntimeMissing, runtime_dir
from .server import make_server
from .site import WebNetwork, build_site, web_networks

__all__ = ["RuntimeMissing", "runtime_dir", "make_server", "WebNetwork", "build_site", "web_networks"]
