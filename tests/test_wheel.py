"""A plain (non-editable) install works: the wheel carries what the package reads at run time.

The wheel is built from a copy of the checkout, installed into a fresh virtual environment, and used from a
folder outside the checkout, without PYTHONPATH. The new environment also sees the packages of the one running
the tests (so torch is not installed again), the checkout's editable install included: the test checks that
the package and its pictures come from the wheel.
"""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tutorial_style import bundled_images

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd, env, timeout=300):
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv with the wheel installed, an empty folder outside the checkout, its environment)."""
    tmp = tmp_path_factory.mktemp("wheel")
    assert not tmp.resolve().is_relative_to(ROOT), "the temporary folder must lie outside the checkout"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TUTORIAL_STYLE_CACHE"] = str(tmp / "cache")
    # Build from a copy: a build in the checkout leaves build/ there, whose stale files would go into later wheels.
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__"))
    pip_wheel = ["pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", tmp / "dist", source]
    run(sys.executable, "-m", *pip_wheel, cwd=tmp, env=env)
    (wheel,) = (tmp / "dist").glob("tutorial_style-*.whl")

    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp, env=env)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # The venv sees this environment's packages (torch, pip ...) after its own: like --system-site-packages, but
    # also when the tests themselves run in a venv, whose packages --system-site-packages would not see.
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp, env=env).stdout
    outer = site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])
    lines = [f"import site; site.addsitedir({d!r})\n" for d in outer if Path(d).is_dir()]
    (Path(purelib.strip()) / "outer_environment.pth").write_text("".join(lines))
    # --ignore-installed: never touch the checkout's editable install, which this venv can see
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel, cwd=tmp, env=env)

    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return python, venv, elsewhere, env


def test_the_wheel_alone_loads_a_bundled_image(installed):
    python, venv, elsewhere, env = installed
    code = (
        "import tutorial_style as ts; image = ts.load_image('astronaut'); "
        "print(ts.__file__); print(ts.bundled_images()['astronaut'].path); print(tuple(image.shape))"
    )
    module, picture, shape = run(python, "-c", code, cwd=elsewhere, env=env).stdout.strip().splitlines()
    for path in (Path(module).resolve(), Path(picture).resolve()):
        assert path.is_relative_to(venv.resolve()) and not path.is_relative_to(ROOT), path
    assert shape == "(1, 3, 512, 512)"


def test_the_command_line_of_the_wheel_stylizes_and_lists_the_images(installed):
    python, venv, elsewhere, env = installed
    run(
        python,
        "-m",
        "tutorial_style",
        "stylize",
        "astronaut",
        "swirls",
        "-o",
        "out.png",
        "--size",
        "32",
        "--steps",
        "2",
        "--weights",
        "random",
        cwd=elsewhere,
        env=env,
    )
    with Image.open(elsewhere / "out.png") as image:
        assert image.format == "PNG" and image.size == (32, 32)
    listed = run(python, "-m", "tutorial_style", "images", cwd=elsewhere, env=env).stdout
    names = [line.split()[0] for line in listed.strip().splitlines()]
    assert sorted(names) == sorted(bundled_images())  # every picture of the checkout, once
    scripts = run(python, "-c", "import sysconfig; print(sysconfig.get_path('scripts'))", cwd=elsewhere, env=env).stdout
    console_script = Path(scripts.strip()) / "tutorial-style"
    assert run(console_script, "images", cwd=elsewhere, env=env).stdout == listed


def test_the_wheel_holds_every_module_of_the_checkout(installed):
    python, venv, elsewhere, env = installed
    code = (
        "import pathlib, tutorial_style as ts; root = pathlib.Path(ts.__file__).parent; "
        "print('\\n'.join(sorted(str(p.relative_to(root)) for p in root.rglob('*.py'))))"
    )
    shipped = set(run(python, "-c", code, cwd=elsewhere, env=env).stdout.split())
    package = ROOT / "tutorial_style"
    ours = {str(p.relative_to(package)) for p in package.rglob("*.py")}
    assert ours <= shipped, (
        f"modules missing from the wheel (add their package to pyproject.toml): {sorted(ours - shipped)}"
    )
    run(
        python,
        "-c",
        "from tutorial_style.notebook import widgets, plots, checks; import tutorial_style.controls",
        cwd=elsewhere,
        env=env,
    )


def test_the_wheel_holds_the_web_page_and_its_size_stays_small(installed, tmp_path):
    """The page's files are package data (deploy/web/page/); ONNX Runtime Web is not shipped (fetched once)."""
    python, venv, elsewhere, env = installed
    code = (
        "from tutorial_style.deploy.web.site import PAGE, PAGE_FILES; "
        "print(PAGE); print(all((PAGE / f).is_file() for f in PAGE_FILES))"
    )
    folder, found = run(python, "-c", code, cwd=elsewhere, env=env).stdout.split()
    assert Path(folder).resolve().is_relative_to(venv.resolve()) and found == "True"
    (wheel,) = (venv.parent / "dist").glob("tutorial_style-*.whl")
    assert wheel.stat().st_size < 3e6  # the bundled pictures and the code (0.9 MB); no 15-45 MB of WebAssembly
