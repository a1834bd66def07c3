"""The package's shape: no import cycles, the paper's modules free of notebook plumbing, a light import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tutorial_style"
PAPER_MODULES = (
    "layers",
    "weights",
    "normalization",
    "vgg",
    "gram",
    "losses",
    "objective",
    "settings",
    "lbfgs",
    "optimize",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The package modules ``path`` imports anywhere in its code (module level or inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {c for c in candidates if c.startswith("tutorial_style") and c in MODULES}
    return found - {name}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def graph() -> dict[str, set[str]]:
    """Module -> the modules it imports; a package's ``__init__`` counts as importing nothing but what it names."""
    return {name: imports_of(path) for name, path in MODULES.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``edges`` (node -> the nodes it imports) as a path that ends where it starts, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def unit(module: str) -> str:
    """The unit of the package graph a module belongs to: its subpackage (``tutorial_style.controls``) if it is in
    one, else the top-level module itself (``tutorial_style.optimize``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module


def package_graph() -> dict[str, set[str]]:
    """Each subpackage as one node, each top-level module as one node: what each imports, outside itself."""
    edges: dict[str, set[str]] = {}
    for module, targets in graph().items():
        if module == "tutorial_style":
            continue
        edges.setdefault(unit(module), set()).update(
            unit(t) for t in targets if t != "tutorial_style" and unit(t) != unit(module)
        )
    return edges


def test_the_import_graph_has_no_cycle():
    edges = {m: {t for t in ts if t != "tutorial_style"} for m, ts in graph().items() if m != "tutorial_style"}
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_subpackages_and_modules_import_each_other_without_a_cycle():
    """A subpackage (controls/, realtime/, notebook/) is one unit: no module of it may import a module that imports
    back into it, even when no single module closes the loop (controls/scale.py importing optimize, which imports
    controls/colour.py, was such a cycle)."""
    cycle = find_cycle(package_graph())
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_a_cycle_between_packages():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert (
        unit("tutorial_style.controls.scale") == "tutorial_style.controls"
        and unit("tutorial_style.optimize") == "tutorial_style.optimize"
    )


def test_the_controls_hold_only_loss_terms_and_image_transforms():
    """controls/ is below the optimisation: it imports none of the modules that run one."""
    assert not package_graph()["tutorial_style.controls"] & {
        "tutorial_style.optimize",
        "tutorial_style.objective",
        "tutorial_style.settings",
    }


def test_only_the_notebook_support_imports_the_notebook_support():
    for module, targets in graph().items():
        if unit(module) != "tutorial_style.notebook" and module != "tutorial_style":
            assert not any(unit(t) == "tutorial_style.notebook" for t in targets), (module, sorted(targets))


def test_real_time_video_and_deployment_import_downwards_only():
    """realtime/ (the network) imports video/ (frames through a network), deploy/ imports realtime/; never back, and
    neither imports the notebook support."""
    edges = package_graph()
    realtime, video, deploy, notebook = (f"tutorial_style.{p}" for p in ("realtime", "video", "deploy", "notebook"))
    assert not edges[realtime] & {deploy, notebook}, sorted(edges[realtime])
    assert not edges[video] & {realtime, deploy, notebook}, sorted(edges[video])
    assert realtime in edges[deploy] and notebook not in edges[deploy]


def test_the_layer_table_is_a_leaf():
    assert imports_of(MODULES["tutorial_style.layers"]) == set()


@pytest.mark.parametrize("name", PAPER_MODULES)
def test_the_papers_modules_know_nothing_of_notebooks(name):
    source = MODULES[f"tutorial_style.{name}"].read_text()
    imported = imports_of(MODULES[f"tutorial_style.{name}"])
    assert not any(m.startswith("tutorial_style.notebook") for m in imported), imported
    for library in ("matplotlib", "ipywidgets", "IPython"):
        assert f"import {library}" not in source and f"from {library}" not in source


def test_importing_the_package_loads_no_notebook_libraries():
    code = (
        "import sys, tutorial_style; "
        "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'IPython', 'torchvision') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


NOTEBOOKS = sorted((PACKAGE.parent / "notebooks").glob("*.ipynb"))


def notebook_imports(path: Path) -> set[str]:
    """The package modules a notebook's code cells import (``from tutorial_style.notebook import checks`` gives
    ``tutorial_style.notebook.checks``)."""
    import json

    found = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tutorial_style"):
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith("tutorial_style")}
    return found


def test_the_notebooks_import_their_support_from_tutorial_style_notebook_only():
    """One way in: ``from tutorial_style.notebook import ...`` (the old top-level names, ``from tutorial_style import
    widgets``, are gone)."""
    import tutorial_style

    support = {m.rsplit(".", 1)[-1] for m in MODULES if unit(m) == "tutorial_style.notebook" and m != unit(m)}
    assert NOTEBOOKS and {"checks", "plots", "widgets", "profiles"} <= support
    for path in NOTEBOOKS:
        imported = notebook_imports(path)
        assert "tutorial_style.notebook.widgets" in imported, path.name
        old = sorted(m for m in imported if m.startswith("tutorial_style.") and m.split(".")[1] in support)
        assert not old, f"{path.name} imports the notebook support outside tutorial_style.notebook: {old}"
    with pytest.raises(AttributeError):
        tutorial_style.widgets


# Each default has one home: Settings' fields (and PRESETS) for a run, train.py's constants for a style network's
# training. The modules that show or restate a default read it from there (settings.default, default_alpha).
RESTATED = {1e-3, 1e-4, 0.02, "avg", "simple", "lbfgs"}  # alpha, train.ALPHA and LR, ADAM_LR, pooling, masks, optimizer
READERS = (
    "cli.paper",
    "cli.network",
    "notebook.nb05_style_transfer",
    "notebook.nb06_tradeoff_and_layers",
    "notebook.panels",
    "notebook.plots",
    "notebook.nb07_controls",
    "notebook.nb08_real_time",
    "notebook.nb08_training_panel",
    "realtime.compare",
)


def literals(path: Path) -> list[tuple[int, object]]:
    """The numbers and strings written in ``path``'s code (docstrings left out), with their line."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in docstrings]


@pytest.mark.parametrize("name", READERS)
def test_defaults_are_read_from_their_one_home_not_written_again(name):
    path = MODULES[f"tutorial_style.{name}"]
    found = [(line, value) for line, value in literals(path) if not isinstance(value, bool) and value in RESTATED]
    if name == "notebook.plots":  # a colour scale's floor, not a loss weight
        found = [(line, value) for line, value in found if "vmax" not in path.read_text().splitlines()[line - 1]]
    assert not found, f"{path.name} restates defaults (line, value): {found}; read them from Settings or train.py"


# --- A module's tests are found by its name ----------------------------------------------------------------------

TESTS = Path(__file__).resolve().parent
# Test files named after what they check across the package, not after one module.
CROSS_CUTTING = {
    "test_structure.py": "the package's shape: its imports, and where its tests are",
    "test_wheel.py": "packaging: what a plain install carries",
    "test_docs.py": "the README and docs/: links, pictures and commands",
    "test_notebooks_clean.py": "the stored notebooks",
    "test_benchmarks.py": "the benchmark scripts run end to end",
    "test_figures_readable.py": "every figure of plots.py and panels.py reads at a glance",
    "test_real_features.py": "what only real ImageNet features show (the development stand-in)",
    "test_real_features_realtime.py": "the same for the real-time network's training",
}
# Modules without a test file of their own, and why.
WITHOUT_OWN_TESTS = {
    "machine": "its doctests, and test_notebook_profiles.py and test_doctor.py through the two modules that ask it",
    "notebook.widgets": "it only gathers the panels of the other notebook modules, each tested under its own name",
}


def files_for(module: str) -> list[str]:
    """The test files that may hold ``module``'s tests (``tutorial_style.realtime.train``): its own,
    ``test_realtime_train.py``, or one for a package around it, ``test_realtime.py`` (a package of small modules)."""
    parts = module.split(".")[1:]
    return [f"test_{'_'.join(parts[:k])}.py" for k in range(len(parts), 0, -1)]


def named_after_a_module(test_file: str) -> bool:
    """Whether ``test_file`` (``test_realtime_train.py``) is named after a module or package of tutorial_style."""
    return test_file in {files_for(m)[0] for m in MODULES if m != "tutorial_style"}


def test_every_module_has_tests_under_its_name_and_every_test_file_is_named_after_one():
    """Issue 28: tests were filed by when a bug was found (test_review_fixes.py, test_reliability_files.py), not by
    what they test. ``tests/test_<module>.py`` mirrors the package (``test_<package>_<module>.py`` in a
    subpackage); a file that checks the whole package has a name that says what (CROSS_CUTTING)."""
    assert named_after_a_module("test_realtime_train.py") and named_after_a_module("test_notebook_nb08_real_time.py")
    assert not named_after_a_module("test_review_fixes2.py") and not named_after_a_module("test_reliability_files.py")
    site = files_for("tutorial_style.deploy.web.site")
    assert site == ["test_deploy_web_site.py", "test_deploy_web.py", "test_deploy.py"], site
    files = {p.name for p in TESTS.glob("test_*.py")}
    modules = sorted(m for m, p in MODULES.items() if p.name not in ("__init__.py", "__main__.py"))
    without = [m for m in modules if not files & set(files_for(m)) and m.split(".", 1)[1] not in WITHOUT_OWN_TESTS]
    assert not without, f"modules with no tests/test_<module>.py (add one, or a reason to WITHOUT_OWN_TESTS): {without}"
    stale = [
        m
        for m in WITHOUT_OWN_TESTS
        if f"tutorial_style.{m}" not in modules or files_for(f"tutorial_style.{m}")[0] in files
    ]
    assert not stale, f"WITHOUT_OWN_TESTS names modules that are gone or now have their own test file: {stale}"
    unnamed = sorted(f for f in files if not named_after_a_module(f) and f not in CROSS_CUTTING)
    assert not unnamed, f"test files named after no module (move each test to its module's file): {unnamed}"
    assert set(CROSS_CUTTING) <= files, sorted(set(CROSS_CUTTING) - files)
