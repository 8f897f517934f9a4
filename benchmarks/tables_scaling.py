"""Flattened tables of growing size: extraction time must grow linearly with the cells.

    python benchmarks/tables_scaling.py

Both shapes the table reader knows (one cell per line ending in `|`; cells between lines holding
only `|`), from 300 to 3,000 rows (about 2,000 to 20,000 cells). A speed check, so it lives here
and not among the unit tests, whose wall times on a shared 2-core machine would only flake.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_tables import META, _shape1, _shape2

import envcompare
from envcompare.ingest.load import report_from_bytes


def seconds(shape, rows: int) -> tuple[int, float]:
    report = report_from_bytes(shape(rows).encode(), "t.txt", metadata=META)
    start = time.perf_counter()
    facts = envcompare.extract(report)
    return len(facts), time.perf_counter() - start


def main() -> None:
    for shape in (_shape1, _shape2):
        seconds(shape, 50)  # warm the caches
        base_n, base = seconds(shape, 300)
        for rows in (300, 750, 1500, 3000):
            n, t = seconds(shape, rows)
            print(f"{shape.__name__}: {rows:5d} rows, {n:6d} facts, {t:6.2f} s, {t / max(base, 1e-3):5.1f}x the 300-row time")


if __name__ == "__main__":
    main()
