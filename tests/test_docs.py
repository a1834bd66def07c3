"""The README and the pages in docs/ hold what a reader can follow: every relative link and picture resolves (anchors
included), every command they show parses with the command line's own parser, the README's two commands are the
ones CI runs, its fast test command selects every test but the notebooks and the browser, and notebooks/ holds
notebooks only. (This replaces a test that caught stale figures in the README: the README no longer holds any;
measured numbers live in docs/performance.md.)"""

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
INSTALL = 'pip install -e ".[dev]" && jupyter lab notebooks/01_images_and_vgg19.ipynb'
CLI = "python -m tutorial_style "


def slug(heading: str) -> str:
    """GitHub's anchor for a heading.

    >>> slug("CPU: time to a good result, the `fast` preset")
    'cpu-time-to-a-good-result-the-fast-preset'
    """
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # a '#' in a code block is no heading
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def code_lines(page: Path, language: str = "bash") -> list[str]:
    blocks = re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def links(text: str) -> list[str]:
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]  # http:, https:, mailto: are not files


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves_to_a_file_and_its_anchor(page):
    found = links(page.read_text())
    assert found or page.name in ("gallery.md",), f"{page.name} links nowhere: a page should lead on"
    for target in found:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name} links {target}, which does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), f"{page.name} links {target}: no heading {anchor!r} in {file.name}"


def test_the_readme_leads_to_the_pages_that_moved_out_of_it_and_stays_short():
    readme = (ROOT / "README.md").read_text()
    linked = {Path(target.partition("#")[0]).name for target in links(readme)}
    pages = {"command-line.md", "weights.md", "web.md", "video.md", "install.md", "testing.md", "performance.md"}
    assert pages <= linked, f"the README does not link {sorted(pages - linked)}"
    assert len(readme.splitlines()) <= 120, "the README is for the first ten minutes: move details to docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_shown_parses_with_the_command_lines_parser(page, capsys):
    from tutorial_style.cli import build_parser

    shown = [line for line in code_lines(page) if line.startswith(CLI)]
    if page.name == "README.md":  # the README shows its commands inline, too
        shown += re.findall(rf"`({CLI}[^`]*)`", page.read_text())
    for line in shown:
        argv = shlex.split(line, comments=True)[3:]
        try:
            build_parser().parse_args(argv)
        except (SystemExit, argparse.ArgumentError) as e:
            why = capsys.readouterr().err.strip() or e
            pytest.fail(f"{page.name} shows `{line}`, which the command line refuses: {why}")
    assert page.name != "command-line.md" or len(shown) >= 10, "the command-line page shows too few commands"


def test_the_readme_shows_the_two_commands_ci_runs():
    readme = code_lines(ROOT / "README.md")
    assert INSTALL in readme and "python -m pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert any(line.strip().endswith('pip install -e ".[dev]"') for line in ci)
    assert "python -m pytest" in [line.strip() for line in ci]
    assert (ROOT / INSTALL.split()[-1]).is_file()


def collected(args: list[str]) -> set[str]:
    command = [sys.executable, "-m", "pytest", *args, "--collect-only", "-q"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{' '.join(command)} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}"
    return {line for line in run.stdout.splitlines() if "::" in line or line.endswith(".ipynb")}


def test_the_readmes_fast_test_command_runs_everything_but_the_notebooks_and_the_browser():
    """Checked against the full run's own collection, so it holds wherever test files move."""
    fast = [line for line in code_lines(ROOT / "README.md") if line.startswith("python -m pytest ")]
    assert len(fast) == 1, f"the README should show one fast test command beside `python -m pytest`: {fast}"
    chosen = collected(shlex.split(fast[0])[3:])
    everything = collected([])
    slow = {t for t in everything if t.startswith(("notebooks/", "tests/browser/"))}
    assert slow and len(chosen) > 100, (len(slow), len(chosen))
    assert chosen == everything - slow, sorted(chosen ^ (everything - slow))[:10]


def test_notebooks_holds_notebooks_only_and_their_pictures_resolve():
    folder = ROOT / "notebooks"
    strays = [p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")]
    assert strays == [], f"notebooks/ holds notebooks only; move {strays} beside the docs"
    notebooks = sorted(folder.glob("*.ipynb"))
    cells = [c for nb in notebooks for c in nbformat.read(nb, as_version=4).cells]
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    pictures = [t for source in markdown for t in links(source) if not t.startswith(("#", "attachment:"))]
    assert pictures, "no notebook links a file: has the web page's screenshot gone?"
    for target in pictures:
        assert (folder / target.partition("#")[0]).exists(), f"a notebook links {target}, which does not exist"
