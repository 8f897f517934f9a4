"""The committed notebooks: every chart cell shows its chart; running one leaves nothing behind.

(nbval, run by `python -m pytest`, re-executes every notebook and compares the outputs; it does not
compare images, so a chart cell whose stored output has no picture passes unnoticed without this.)
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import nbformat
import pytest
from matplotlib.figure import Figure

from envcompare.present import charts as chart_module

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CALL = re.compile(r"\bcharts\.(\w+)\s*\(")


def figure_functions() -> set[str]:
    """The functions of envcompare.present.charts that return a matplotlib Figure (from their annotations)."""
    names = set()
    for name in dir(chart_module):
        obj = getattr(chart_module, name)
        if callable(obj) and getattr(obj, "__module__", None) == chart_module.__name__ and not isinstance(obj, type):
            try:
                hints = typing.get_type_hints(obj)
            except Exception:  # annotations naming something not importable here: not a chart
                continue
            if hints.get("return") is Figure:
                names.add(name)
    return names


def chart_cells(nb) -> list[tuple[int, object]]:
    charts = figure_functions()
    return [(i, cell) for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and charts & set(CALL.findall(cell.source))]


def test_the_chart_functions_are_recognised():
    assert {"indicator_chart", "changes_chart", "targets_chart", "coverage_chart", "theme_chart"} <= figure_functions()
    assert "save_figure" not in figure_functions()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_chart_cell_has_a_picture(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in chart_cells(nb):
        kinds = [key for out in cell.get("outputs", []) for key in out.get("data", {})]
        assert "image/png" in kinds, f"{path.name} cell {i} draws a chart but shows none: {cell.source!r}"


def test_the_notebooks_draw_charts():
    assert sum(len(chart_cells(nbformat.read(p, as_version=4))) for p in NOTEBOOKS) >= 8


def test_export_notebook_leaves_no_temporary_folder(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the kernel's tempfile.gettempdir()
    path = next(p for p in NOTEBOOKS if p.name.startswith("07_"))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    written = [out for cell in nb.cells for out in cell.get("outputs", []) if out.get("name") == "stdout"]
    assert written, "the notebook ran its last cell"
    assert sorted(p.name for p in scratch.iterdir()) == []
