"""Strip notebooks for committing: keep only the text outputs of the check cells.

    python tests/notebook_support/clean.py notebooks/*.ipynb

For every notebook given: removes every output except the text outputs (``text/plain`` results and
stdout/stderr streams) of check cells, the cells tagged ``nbval-check-output`` in their metadata, whose
outputs nbval compares; clears the execution counts, except that each check cell gets the count it has in
a top-to-bottom run (nbval refuses stored outputs of a cell without one); removes saved widget state
(``metadata.widgets``) and per-cell execution metadata. nbval's comment markers (a line such as
``# NBVAL_CHECK_OUTPUT``) become the matching cell tags, so learners never read test plumbing.
A notebook is rewritten only if something changed. ``--check`` changes nothing and exits with 1 if a
notebook would change (for CI or a pre-commit hook).
"""

from __future__ import annotations

import argparse
import sys

import nbformat

CHECK_TAG = "nbval-check-output"
KEPT_MIME = "text/plain"
# nbval's comment markers and the cell tags that replace them (nbval reads both).
MARKERS = {
    "NBVAL_CHECK_OUTPUT": CHECK_TAG,
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_RAISES_EXCEPTION": "nbval-raises-exception",
    "NBVAL_SKIP": "nbval-skip",
}


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and CHECK_TAG in cell.metadata.get("tags", [])


def markers_to_tags(cell) -> None:
    """Move nbval comment lines (``# NBVAL_CHECK_OUTPUT``) out of the source into the cell's tags."""
    lines, found = [], []
    for line in cell.source.splitlines():
        text = line.strip()
        if text.startswith("#") and text.lstrip("#").strip() in MARKERS:
            found.append(MARKERS[text.lstrip("#").strip()])
        else:
            lines.append(line)
    if found:
        cell.source = "\n".join(lines)
        cell.metadata["tags"] = list(dict.fromkeys(cell.metadata.get("tags", []) + found))


def clean_outputs(cell, count: int | None = None) -> list:
    """The outputs a stored check cell keeps: streams, and the text/plain part of text results."""
    kept = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            kept.append(out)
        elif out.output_type in ("execute_result", "display_data") and _is_text(out.get("data", {})):
            out = nbformat.from_dict(dict(out))
            out.data = {KEPT_MIME: out.data[KEPT_MIME]}
            out.metadata = {}
            if out.output_type == "execute_result":
                out.execution_count = count
            kept.append(out)
    return kept


def _is_text(data) -> bool:
    """A result that is text: it has text/plain and is not a figure or a widget (whose text/plain is a stand-in)."""
    return KEPT_MIME in data and not any(
        m.startswith("image/") or m.startswith("application/vnd.jupyter.widget") for m in data
    )


def clean(nb) -> None:
    """Clean a notebook in place."""
    nb.metadata.pop("widgets", None)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        count += 1
        markers_to_tags(cell)
        cell.outputs = clean_outputs(cell, count) if is_check_cell(cell) else []
        cell.execution_count = count if is_check_cell(cell) else None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("scrolled", None)
        cell.metadata.pop("collapsed", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", help="the .ipynb files to clean")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not clean")
    args = parser.parse_args(argv)
    dirty = []
    for path in args.notebooks:
        try:
            with open(path, encoding="utf-8") as f:
                before = f.read()
            nb = nbformat.reads(before, as_version=4)
        except (OSError, ValueError) as e:  # nbformat's read errors are ValueErrors
            print(f"clean.py: cannot read {path}: {e}", file=sys.stderr)
            return 2
        clean(nb)
        after = nbformat.writes(nb) + "\n"
        if after != before:
            dirty.append(path)
            if not args.check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(after)
    verb = "would change" if args.check else "cleaned"
    for path in dirty:
        print(f"{verb}: {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
