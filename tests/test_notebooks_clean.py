"""Stored notebooks are clean: no widget state, no images, outputs only in check cells, no test plumbing in
what learners read (see tests/notebook_support/clean.py)."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SUPPORT = Path(__file__).resolve().parent / "notebook_support"
CHECK = "nbval-check-output"  # nbval's cell tag: compare this cell's outputs


def load_clean_script():
    spec = importlib.util.spec_from_file_location("notebooks_clean", SUPPORT / "clean.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_notebooks():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def is_check_cell(cell) -> bool:
    return CHECK in cell.metadata.get("tags", [])


def test_there_are_notebooks():
    assert len(stored_notebooks()) >= 4


def test_test_support_lives_outside_the_learners_folder():
    assert not [p.name for p in NOTEBOOKS.iterdir() if p.suffix in (".py", ".cfg")]
    assert (SUPPORT / "clean.py").is_file() and (SUPPORT / "sanitize.cfg").is_file()
    assert (
        "--nbval-sanitize-with=tests/notebook_support/sanitize.cfg" in (NOTEBOOKS.parent / "pyproject.toml").read_text()
    )


@pytest.mark.parametrize("path", stored_notebooks(), ids=lambda p: p.name)
def test_learners_read_no_test_plumbing_and_solutions_have_titles(path):
    """nbval's markers are cell tags, not comments; a collapsed solution shows a first line that says what it is."""
    nb = nbformat.read(path, as_version=4)
    assert [c.source for c in nb.cells if "NBVAL" in c.source.upper()] == []
    assert any(is_check_cell(c) for c in nb.cells), "no check cell: nbval would compare nothing"
    solutions = [c for c in nb.cells if c.metadata.get("jupyter", {}).get("source_hidden")]
    assert solutions, "no collapsed solution"
    for cell in solutions:
        title = cell.source.splitlines()[0]  # what JupyterLab shows of a collapsed cell
        assert title.startswith("# Solution: ") and "def solution_" in cell.source, title
        name = cell.source.split("def ", 1)[1].split("(", 1)[0]
        assert f"({name})" in title, f"the title should name {name}: {title}"


@pytest.mark.parametrize("path", stored_notebooks(), ids=lambda p: p.name)
def test_stored_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, "saved widget state: run python tests/notebook_support/clean.py"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if not is_check_cell(cell):
            assert cell.outputs == [], f"cell {i} is not a check cell but has stored outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"
            continue
        assert cell.outputs, f"check cell {i} has no stored output to compare: execute the notebook, then clean it"
        for out in cell.outputs:
            assert out.output_type in ("stream", "execute_result", "display_data"), (
                f"cell {i}: {out.output_type} output"
            )
            if out.output_type != "stream":
                assert set(out.data) == {"text/plain"}, f"cell {i} keeps {sorted(out.data)}; only text/plain may stay"


@pytest.mark.parametrize("path", stored_notebooks(), ids=lambda p: p.name)
def test_stored_notebook_is_what_clean_py_writes(path):
    assert load_clean_script().main(["--check", str(path)]) == 0, "run: python tests/notebook_support/clean.py " + str(
        path
    )


def test_clean_keeps_only_the_text_of_check_cells(tmp_path, capsys):
    v4 = nbformat.v4
    image = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "VBox()"}
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# title"),
            v4.new_code_cell("plot()", execution_count=1, outputs=[v4.new_output("display_data", data=image)]),
            v4.new_code_cell(
                "print(1)\nresult",
                execution_count=2,
                metadata={"tags": [CHECK]},
                outputs=[
                    v4.new_output("stream", name="stdout", text="1\n"),
                    v4.new_output("display_data", data=image),
                    v4.new_output(
                        "execute_result", data={"text/plain": "ok", "text/html": "<b>ok</b>"}, execution_count=2
                    ),
                    v4.new_output("error", ename="E", evalue="v", traceback=[]),
                ],
            ),
            v4.new_code_cell("panel()", execution_count=3, outputs=[v4.new_output("display_data", data=widget)]),
        ]
    )
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    clean = load_clean_script()

    assert clean.main(["--check", str(path)]) == 1  # dirty, and --check changes nothing
    assert nbformat.read(path, as_version=4) == nb
    assert clean.main([str(path)]) == 0
    assert "cleaned" in capsys.readouterr().out
    cleaned = nbformat.read(path, as_version=4)
    assert "widgets" not in cleaned.metadata
    plot, check, panel = cleaned.cells[1:]
    assert plot.outputs == [] and plot.execution_count is None and "execution" not in plot.metadata
    assert panel.outputs == [] and panel.execution_count is None
    assert check.execution_count == 2  # nbval only compares cells that have one
    assert [o.output_type for o in check.outputs] == ["stream", "execute_result"]
    assert check.outputs[1].data == {"text/plain": "ok"}
    assert clean.main(["--check", str(path)]) == 0  # cleaning is idempotent


def test_clean_turns_nbval_comment_markers_into_cell_tags(tmp_path):
    v4 = nbformat.v4
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "# NBVAL_CHECK_OUTPUT\nprint(1)",
                execution_count=1,
                outputs=[v4.new_output("stream", name="stdout", text="1\n")],
            ),
            v4.new_code_cell("x = 1\n  # NBVAL_SKIP\ny = 2", metadata={"tags": ["keep-me"]}),
            v4.new_code_cell("# NBVAL_CHECK_OUTPUT is what nbval reads\nz = 3"),  # a sentence, not a marker line
        ]
    )
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert load_clean_script().main([str(path)]) == 0
    check, skip, sentence = nbformat.read(path, as_version=4).cells
    assert check.source == "print(1)" and check.metadata["tags"] == [CHECK]
    assert check.outputs[0]["text"] == "1\n" and check.execution_count == 1  # now a check cell: its output stays
    assert skip.source == "x = 1\ny = 2" and skip.metadata["tags"] == ["keep-me", "nbval-skip"]
    assert sentence.source.startswith("# NBVAL_CHECK_OUTPUT is") and "tags" not in sentence.metadata
