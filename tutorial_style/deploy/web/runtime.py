"""ONNX Runtime Web's files for the page: one pinned version, fetched once into the cache, then offline for good.

The page runs the network with ONNX Runtime Web (Microsoft's npm package ``onnxruntime-web``, MIT licence): a small
JavaScript module and a WebAssembly build of ONNX Runtime. The page never loads them from a CDN, so it works in a
workshop without internet. They are not shipped inside the tutorial's wheel either: the WebAssembly files take 44 MB
(15 MB for the CPU build, 29 MB for the WebGPU build; 11 MB compressed), twelve times the tutorial's whole wheel
(0.9 MB). Instead
:func:`runtime_dir` fetches the pinned version once from the npm registry (the 35 MB package, with ``npm pack`` when
npm is installed, else by HTTPS) and keeps the six files the page uses in the tutorial's cache. The package's
SHA-512 is checked against :data:`INTEGRITY`, the registry's own record of this version, so that a damaged or
different file is refused.

Offline, point at a copy instead (``--runtime PATH`` or ``TUTORIAL_STYLE_ORT_WEB=PATH``): the npm package file
(``npm pack onnxruntime-web@1.31.1``), its ``dist`` folder (``node_modules/onnxruntime-web/dist``) or a folder this
module filled (another machine's cache, copied from a USB stick). ``export NET.pt --web DIR`` copies the files into
the static folder, which then needs nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import Callable

from ...files import cache_dir

__all__ = ["VERSION", "INTEGRITY", "FILES", "RuntimeMissing", "runtime_dir", "find_runtime", "unpack"]

VERSION = "1.31.1"
"""The onnxruntime-web version the page is written and tested for."""
INTEGRITY = "sha512-5GeH+bWQ+HxM10z7erGlsWqryrwMbSvm/1tkIsKTT48g0fI19VXVVC435t4t7VsPdSQeS7NmuZPXrQ73k82URw=="
"""The npm registry's SHA-512 of ``onnxruntime-web-1.31.1.tgz`` (``npm view onnxruntime-web@1.31.1 dist.integrity``)."""
FILES = (
    "ort.wasm.min.mjs",
    "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm",  # WebAssembly on the CPU
    "ort.webgpu.min.mjs",
    "ort-wasm-simd-threaded.asyncify.mjs",
    "ort-wasm-simd-threaded.asyncify.wasm",  # WebGPU
)
"""The files of the package's ``dist/`` folder that the page loads (the other 500 are other builds and source maps)."""
ENVIRONMENT = "TUTORIAL_STYLE_ORT_WEB"
DOWNLOAD_MB = 35
_MARKER = ".complete"  # written last into a cache folder: a folder without it is an interrupted fetch

_FIX = (
    f"on a machine with internet run `python -m tutorial_style web --fetch-runtime` and copy the folder it prints, or "
    f"`npm pack onnxruntime-web@{VERSION}`; then pass the folder or the .tgz with --runtime PATH "
    f"(or {ENVIRONMENT}=PATH)"
)


class RuntimeMissing(ValueError):
    """ONNX Runtime Web's files are not here and cannot be fetched, or a given copy is not the right one."""


def runtime_dir(
    source: str | os.PathLike | None = None, *, fetch: bool = True, log: Callable[[str], None] | None = None
) -> Path:
    """The folder holding :data:`FILES` of onnxruntime-web :data:`VERSION`.

    ``source`` (default ``$TUTORIAL_STYLE_ORT_WEB``): a copy to use (see the module's docstring; a .tgz is unpacked
    into the cache). Else the cache; if the cache does not have them and ``fetch``, they are fetched once from the
    npm registry, saying so through ``log`` (default: a line on stderr). :class:`RuntimeMissing` says what to do.
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    source = source if source is not None else (os.environ.get(ENVIRONMENT) or None)
    if source is not None:
        return find_runtime(source)
    cached = cache_dir("onnxruntime-web", VERSION)
    if (cached / _MARKER).is_file() and all((cached / name).is_file() for name in FILES):
        return cached
    if not fetch:
        raise RuntimeMissing(f"ONNX Runtime Web {VERSION} is not in the cache ({cached}); {_FIX}")
    log(
        f"ONNX Runtime Web {VERSION} is not in the cache yet: fetching it once from the npm registry "
        f"({DOWNLOAD_MB} MB; its page files are kept in {cached}, and the page works offline from then on)"
    )
    with tempfile.TemporaryDirectory(prefix="onnxruntime-web-") as tmp:
        tarball = _download(Path(tmp))
        return unpack(tarball, cached)


def find_runtime(source: str | os.PathLike) -> Path:
    """The folder of :data:`FILES` in a given copy: a folder (itself, its ``dist/`` or ``package/dist/``) or the npm
    package's .tgz (checked against :data:`INTEGRITY` and unpacked into the cache)."""
    path = Path(source).expanduser()
    if path.is_file():
        return unpack(path, cache_dir("onnxruntime-web", VERSION))
    if not path.is_dir():
        raise RuntimeMissing(
            f"ONNX Runtime Web: {str(source)!r} does not exist; give a folder or the .tgz of onnxruntime-web {VERSION}"
        )
    for folder in (path, path / "dist", path / "package" / "dist"):
        if all((folder / name).is_file() for name in FILES):
            _check_version(folder, str(source))
            return folder
    missing = [name for name in FILES if not (path / name).is_file()]
    raise RuntimeMissing(f"ONNX Runtime Web: {str(source)!r} lacks {', '.join(missing)}; {_FIX}")


def unpack(tarball: str | os.PathLike, target: str | os.PathLike) -> Path:
    """:data:`FILES` from the npm package ``tarball`` (checked against :data:`INTEGRITY`) into ``target``, whole or
    not at all (a temporary folder renamed into place, then the completion marker)."""
    tarball, target = Path(tarball), Path(target)
    data = tarball.read_bytes()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != INTEGRITY:
        raise RuntimeMissing(
            f"{str(tarball)!r} is not onnxruntime-web {VERSION} as the npm registry publishes it "
            f"(its SHA-512 differs); {_FIX}"
        )
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for name in FILES:
                member = archive.getmember(f"package/dist/{name}")
                with archive.extractfile(member) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        staging.chmod(0o755)  # mkdtemp makes a private folder; the cache is as readable as the user's other files
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (target / _MARKER).write_text(f"onnxruntime-web {VERSION} {INTEGRITY}\n")
    return target


def _check_version(folder: Path, source: str) -> None:
    """A folder of another version would load, then fail in the browser: refuse it here (the JS names its version)."""
    with open(folder / FILES[0], "rb") as f:
        head = f.read(200)
    if f"v{VERSION}".encode() not in head:
        named = (
            head.split(b"ONNX Runtime Web ", 1)[-1].split(b"\n", 1)[0] if b"ONNX Runtime Web " in head else b"unknown"
        )
        found = named.decode(errors="replace").strip().removeprefix("v")
        raise RuntimeMissing(
            f"ONNX Runtime Web: {source!r} holds version {found}, but the page needs {VERSION}; {_FIX}"
        )


def _download(folder: Path) -> Path:
    """The npm package of :data:`VERSION` in ``folder``: with npm (the registry's own client) when it is installed, else
    straight from the registry over HTTPS (``$NPM_CONFIG_REGISTRY`` if set)."""
    name = f"onnxruntime-web-{VERSION}.tgz"
    npm = shutil.which("npm")
    try:
        if npm:
            subprocess.run(
                [npm, "pack", f"onnxruntime-web@{VERSION}", "--pack-destination", str(folder), "--silent"],
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
        else:
            registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
            with (
                urllib.request.urlopen(f"{registry}/onnxruntime-web/-/{name}", timeout=60) as response,
                open(folder / name, "wb") as f,
            ):
                shutil.copyfileobj(response, f)
    except subprocess.CalledProcessError as e:
        lines = (e.stderr or e.stdout or "").strip().splitlines()
        raise RuntimeMissing(
            f"could not fetch ONNX Runtime Web {VERSION} with npm ({lines[-1] if lines else e}); {_FIX}"
        ) from None
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RuntimeMissing(
            f"could not fetch ONNX Runtime Web {VERSION} from the npm registry ({e}); {_FIX}"
        ) from None
    if not (folder / name).is_file():
        raise RuntimeMissing(f"npm did not write {name}; {_FIX}")
    return folder / name
