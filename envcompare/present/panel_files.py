"""Writing a city-year panel for Stata, R and Python: the same table in every format.

    >>> from envcompare.present.panel_files import write_panel
    >>> write_panel(p, "out")            # doctest: +SKIP
    [PosixPath('out/panel.csv'), PosixPath('out/panel.parquet'), PosixPath('out/panel.dta'), ...]

`panel.{csv,parquet,dta}` is the wide table (one row per place and year); `panel_long.{csv,parquet}`
the long one (one row per value, with its document and offsets) for R's tidyverse;
`panel_variables.csv` maps each variable to its indicator column, names and unit. The `.dta` is
Stata 14+ format (version 118, UTF-8), each variable labelled with its Chinese and English
name and unit; empty cells are Stata's missing value, never 0.
"""

from __future__ import annotations

from pathlib import Path

from ..comparison.panel import KEY_COLUMNS, Panel
from ..vocab.resources import read_yaml
from .export import write_table
from .output import atomic_write

STATA_VERSION = 118


def write_panel(panel: Panel, out_dir: str | Path) -> list[Path]:
    """Write the panel's files into out_dir (created if needed); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = [write_table(panel.wide, out / "panel.csv"), write_table(panel.long, out / "panel_long.csv"),
              write_table(panel.variables, out / "panel_variables.csv")]
    return tables + write_panel_binaries(panel, out)


BINARY_FILES = ("panel.parquet", "panel_long.parquet", "panel.dta")  # what write_panel_binaries writes


def write_panel_binaries(panel: Panel, out_dir: Path) -> list[Path]:
    """The files of the panel that are not CSV tables (BINARY_FILES): Parquet for Python and R,
    .dta for Stata."""
    wide, long, stata = BINARY_FILES
    return [
        atomic_write(out_dir / wide, lambda p: panel.wide.to_parquet(p, index=False)),
        atomic_write(out_dir / long, lambda p: panel.long.to_parquet(p, index=False)),
        atomic_write(out_dir / stata, lambda p: write_stata(panel, p)),
    ]


def write_stata(panel: Panel, path: str | Path) -> None:
    """The wide table as a Stata .dta (version 118) with variable labels."""
    table = panel.wide.copy()
    for column, dtype in KEY_COLUMNS.items():
        if dtype == "Int64":  # Stata has no nullable integer: a column with a missing cell is a float
            table[column] = table[column].astype("float64" if table[column].isna().any() else "int32")
        elif dtype == "string":
            table[column] = table[column].astype("object").where(table[column].notna(), "")
    keys = {key: f"{words['zh']} | {words['en']}" for key, words in read_yaml("labels.yaml")["panel_keys"].items()}
    labels = {**keys, **dict(zip(panel.variables["variable"], panel.variables["label"], strict=True))}
    table.to_stata(
        path,
        version=STATA_VERSION,
        write_index=False,
        variable_labels={k: v for k, v in labels.items() if k in table.columns},
        data_label="envcompare city-year panel",
    )

