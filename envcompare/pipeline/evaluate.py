"""Scoring extraction against hand-made gold (data/gold/*.csv): precision and recall.

A fact matches a gold row when document, indicator, kind, year, period, city and unit agree,
the value agrees (to 1e-6), and the two evidence spans overlap. Each gold row matches at most
one fact. Qualifier, comparator and approx are reported separately, not required to match.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..vocab.resources import data_path

KEY = ["doc", "indicator", "kind", "year", "period", "city", "unit"]


def gold_files(folder: Path | None = None) -> list[Path]:
    return sorted(Path(folder or data_path("gold")).glob("*.csv"))


def load_gold(folder: Path | None = None) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in gold_files(folder)]
    gold = pd.concat(frames, ignore_index=True)
    gold["value"] = gold["value"].astype(float)
    gold["year"] = gold["year"].astype(int)
    gold[["start", "end"]] = gold[["start", "end"]].astype(int)
    gold["domain"] = gold["indicator"].str.split(".").str[0].replace({"gov": "governance"})
    return gold


def match(facts: pd.DataFrame, gold: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (facts with a `matched` column, gold with a `found` column)."""
    facts = facts.copy()
    gold = gold.copy()
    facts["matched"] = False
    gold["found"] = False
    for gi, g in gold.iterrows():
        cand = facts[
            ~facts["matched"]
            & (facts["doc"] == g["doc"])
            & (facts["indicator"] == g["indicator"])
            & (facts["kind"] == g["kind"])
            & (facts["year"] == g["year"])
            & (facts["period"] == g["period"])
            & (facts["city"] == g["city"])
            & (facts["unit"] == g["unit"])
            & ((facts["value"] - g["value"]).abs() < 1e-6)
            & (facts["start"] < g["end"])
            & (facts["end"] > g["start"])
        ]
        if len(cand):
            facts.loc[cand.index[0], "matched"] = True
            gold.loc[gi, "found"] = True
    return facts, gold


def annotated_docs(docs: list[str], folder: Path | None = None) -> list[str]:
    """The documents that have a gold file (an empty gold file means: no catalog facts in it)."""
    stems = {p.stem for p in gold_files(folder)}
    return sorted(d for d in set(docs) if Path(d).stem in stems)


def score(facts: pd.DataFrame, gold: pd.DataFrame, docs: list[str] | None = None) -> pd.DataFrame:
    """Precision/recall per document and per domain (and overall)."""
    docs = docs or sorted(set(gold["doc"]))
    rows = []
    facts = facts[facts["doc"].isin(docs) & facts["indicator"].notna()]
    f, g = match(facts, gold[gold["doc"].isin(docs)])
    for by in ("doc", "domain"):
        keys = set(docs) if by == "doc" else set(f[by].dropna()) | set(g[by])
        for key in sorted(keys):
            ff, gg = f[f[by] == key], g[g[by] == key]
            rows.append(_row(by, key, ff, gg))
    rows.append(_row("all", "all", f, g))
    return pd.DataFrame(rows)


def _row(by: str, key: str, f: pd.DataFrame, g: pd.DataFrame) -> dict[str, object]:
    tp_f, tp_g = int(f["matched"].sum()), int(g["found"].sum())
    precision = tp_f / len(f) if len(f) else 1.0
    recall = tp_g / len(g) if len(g) else 1.0
    return {"by": by, "key": key, "gold": len(g), "extracted": len(f), "matched": tp_g, "precision": precision, "recall": recall}


def misses(facts: pd.DataFrame, gold: pd.DataFrame, docs: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(false positives, false negatives) for reading."""
    docs = docs or sorted(set(gold["doc"]))
    f, g = match(facts[facts["doc"].isin(docs) & facts["indicator"].notna()], gold)
    return f[~f["matched"]], g[~g["found"]]
