"""Tidy stage: facts -> the facts table (one row per fact, explicit dtypes, raw-text provenance).

    >>> import envcompare
    >>> facts = envcompare.extract(envcompare.load_reports("seeds"))
    >>> facts.loc[0, ["city", "indicator", "value", "unit", "kind", "evidence"]]   # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..ingest.load import Corpus, Report, load_reports
from .reader import Fact, extract_facts

FACT_COLUMNS: dict[str, str] = {
    "city": "string",
    "year": "Int64",
    "period": "string",
    "indicator": "string",
    "value": "float64",
    "unit": "string",
    "direction": "string",
    "kind": "string",
    "comparator": "string",
    "approx": "boolean",
    "qualifier": "string",
    "domain": "string",
    "doc": "string",
    "start": "Int64",
    "end": "Int64",
    "evidence": "string",
    "sentence": "category",  # held once per sentence, however many figures it has
}
UNMAPPED_COLUMNS = {**FACT_COLUMNS, "label": "string"}
# What the extractor tells the review stage beside the facts table's columns; the reviewed table
# (envcompare.extract, facts.csv) drops them. `kind_basis`: how the kind was decided (reader.KIND_BASES).
INTERNAL_COLUMNS: dict[str, str] = {"kind_basis": "string"}
EXTRACTED_COLUMNS = {**FACT_COLUMNS, **INTERNAL_COLUMNS}
EXTRACTED_UNMAPPED_COLUMNS = {**UNMAPPED_COLUMNS, **INTERNAL_COLUMNS}


def fact_rows(report: Report, facts: Iterable[Fact]) -> list[dict[str, object]]:
    """Rows for one report: cleaned-text spans mapped back to raw-text offsets."""
    rows = []
    raw = report.raw_text
    sentences: dict[tuple[int, int], str] = {}  # one string per sentence, shared by its facts
    for f in facts:
        start, end = report.raw_span(f.start, f.end)
        if f.sentence not in sentences:
            s0, s1 = report.raw_span(*f.sentence)
            sentences[f.sentence] = raw[s0:s1].strip()
        ind = f.indicator
        rows.append(
            {
                "city": f.city or None,
                "year": f.year,
                "period": f.period,
                "indicator": ind.id if ind else None,
                "value": f.value,
                "unit": f.unit or None,
                "direction": ind.direction if ind else None,
                "kind": f.kind,
                "comparator": f.comparator or None,
                "approx": f.approx,
                "qualifier": f.qualifier or None,
                "domain": ind.domain if ind else None,
                "doc": report.doc,
                "start": start,
                "end": end,
                "evidence": raw[start:end],
                "sentence": sentences[f.sentence],
                "label": f.label or None,
                "kind_basis": f.kind_basis,
            }
        )
    return rows


def row_dicts(table: pd.DataFrame) -> list[dict[str, object]]:
    """The table's rows as dicts of plain Python values (str, int, float, bool), None where a
    value is missing: what `fact_rows` gives, back from a table. The same dicts as
    `table.astype(object).where(table.notna(), None).to_dict("records")`, made column by column
    (pandas boxes each cell on its own there: 3 million cells of a large corpus's flagged
    facts took seconds)."""
    names = [str(name) for name in table.columns]
    columns = [_plain_values(table[name]) for name in table.columns]
    if not names:
        return [{} for _ in range(len(table))]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _plain_values(column: pd.Series) -> list[object]:
    """A column's values as plain Python values, None where missing (numpy scalars in an object
    column unboxed, as `to_dict` does)."""
    values = column.to_numpy(dtype=object, na_value=None).tolist()
    if column.dtype == object:
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
    return values


def facts_frame(rows: list[dict[str, object]], unmapped: bool = False, internal: bool = False) -> pd.DataFrame:
    """Fact rows as a typed table; `internal`: with INTERNAL_COLUMNS (the extraction stage's own
    table, as the review stage reads it)."""
    if internal:
        columns = EXTRACTED_UNMAPPED_COLUMNS if unmapped else EXTRACTED_COLUMNS
    else:
        columns = UNMAPPED_COLUMNS if unmapped else FACT_COLUMNS
    df = pd.DataFrame(rows, columns=list(columns))
    return df.astype(columns).reset_index(drop=True)


def extract(
    reports: Corpus | Iterable[Report] | str | os.PathLike | Iterable[str | os.PathLike],
    unmapped: bool = False,
) -> pd.DataFrame:
    """The facts table of some reports (a Corpus, Reports, or paths to load).

    unmapped=True also keeps figures that match no catalog indicator, with a `label` column
    naming the quantity (e.g. 长江入河排污口整治任务). The table also has INTERNAL_COLUMNS, for
    the review stage (`envcompare.extract` gives the reviewed table, without them).
    """
    if isinstance(reports, (str, os.PathLike)) or (
        not isinstance(reports, Corpus) and not isinstance(reports, Report) and _are_paths(reports)
    ):
        reports = load_reports(reports)  # type: ignore[arg-type]
    if isinstance(reports, Report):
        reports = [reports]
    rows: list[dict[str, object]] = []
    for report in reports:
        rows.extend(fact_rows(report, extract_facts(report, unmapped=unmapped)))
    return facts_frame(rows, unmapped, internal=True)


def _are_paths(items) -> bool:
    items = list(items) if not isinstance(items, list) else items
    return bool(items) and all(isinstance(i, (str, os.PathLike)) for i in items)


def documents_with_counts(corpus: Corpus, facts: pd.DataFrame) -> pd.DataFrame:
    """The documents table plus the number of facts found in each."""
    return with_fact_counts(corpus.documents(), facts)


def with_fact_counts(docs: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Set the documents table's `facts` column from a facts table (NA for files that failed)."""
    counts = facts.groupby("doc").size() if len(facts) else pd.Series(dtype="int64")
    # One expression, a new column: with pandas 3 (copy-on-write) the mapped counts can share a
    # read-only buffer with `counts`, so writing into them in place (.loc[...] = NA) fails.
    found = docs["doc"].map(counts).fillna(0).astype("Int64")
    return docs.assign(facts=found.mask(docs["error"].notna()))
