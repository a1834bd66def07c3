"""Stored notebooks are clean: no widget state, no images, outputs only in check cells (see notebooks/clean.py)."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHECK = "# NBVAL_CHECK_OUTPUT"


def load_clean_script():
    spec = importlib.util.spec_from_file_location("notebooks_clean", NOTEBOOKS / "clean.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_notebooks():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(stored_notebooks()) >= 4


@pytest.mark.parametrize("path", stored_notebooks(), ids=lambda p: p.name)
def test_stored_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, "saved widget state: run python notebooks/clean.py"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if CHECK not in cell.source and "nbval-check-output" not in cell.metadata.get("tags", []):
            assert cell.outputs == [], f"cell {i} is not a check cell but has stored outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"
            continue
        assert cell.outputs, f"check cell {i} has no stored output to compare: execute the notebook, then clean it"
        for out in cell.outputs:
            assert out.output_type in ("stream", "execute_result", "display_data"), f"cell {i}: {out.output_type} output"
            if out.output_type != "stream":
                assert set(out.data) == {"text/plain"}, f"cell {i} keeps {sorted(out.data)}; only text/plain may stay"


@pytest.mark.parametrize("path", stored_notebooks(), ids=lambda p: p.name)
def test_stored_notebook_is_what_clean_py_writes(path):
    assert load_clean_script().main(["--check", str(path)]) == 0, "run: python notebooks/clean.py " + str(path)


def test_clean_keeps_only_the_text_of_check_cells(tmp_path, capsys):
    v4 = nbformat.v4
    image = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "VBox()"}
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("# title"),
        v4.new_code_cell("plot()", execution_count=1, outputs=[v4.new_output("display_data", data=image)]),
        v4.new_code_cell(f"{CHECK}\nprint(1)\nresult", execution_count=2, outputs=[
            v4.new_output("stream", name="stdout", text="1\n"),
            v4.new_output("display_data", data=image),
            v4.new_output("execute_result", data={"text/plain": "ok", "text/html": "<b>ok</b>"}, execution_count=2),
            v4.new_output("error", ename="E", evalue="v", traceback=[]),
        ]),
        v4.new_code_cell("panel()", execution_count=3, outputs=[v4.new_output("display_data", data=widget)]),
    ])  # fmt: skip
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
