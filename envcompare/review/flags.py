"""Review flags: which facts most need a human look, and why.

Each fact gets a `flags` cell: `code: reason` parts joined by ` | `. The codes:

- `unknown_place`, `unknown_year`: the fact has no place / year, or its document's city / year
  is unknown (documents.csv `basis` says why);
- `weak_place`: the fact's place is its document's city, inferred from the body text only
  (neither title nor publisher names it);
- `weak_year`: the fact's year is its document's year, inferred from weak evidence
  (data/review.yaml `weak_year`: the most frequent year of the text, the publication date, the
  web address);
- `conflict`: another fact has a different value for the same place, year, period, indicator,
  kind, unit and qualifier;
- `implausible`: the value lies outside the plausible range of its indicator and unit
  (data/plausible.csv), or an actual or target is not in its indicator's unit;
- `sign`: a change whose sign contradicts the verb right before it (a fall of 5.4% stored as +5.4).

A confirmed fact (corrections.csv `confirm`) gets no flag; a corrected or added one only the
value checks (`implausible`, `sign`): a person set its place and year.

The review queue lists the flagged facts, those that feed comparisons first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from ..vocab.catalog import indicators
from ..vocab.resources import read_csv, read_yaml
from .corrections import Occurrences, number_text

FLAGS = ("unknown_place", "unknown_year", "weak_place", "weak_year", "conflict", "implausible", "sign")
VALUE_FLAGS = ("implausible", "sign")
# flags about the fact itself, not about its document's metadata: first in the queue (measured on
# the development corpus, they point at wrong facts far more often: README, Review and correct)
STRONG_FLAGS = ("unknown_place", "unknown_year", "conflict", "implausible", "sign")
FEEDS = ("comparison", "targets", "changes", "other")
SEPARATOR = " | "
REL_TOL = 0.005  # values this close are one figure (the scorer's tolerance)

QUEUE_COLUMNS: dict[str, str] = {
    "priority": "Int64",
    "feeds": "string",
    "flags": "string",
    "reasons": "string",
    "status": "string",
    "city": "string",
    "year": "Int64",
    "period": "string",
    "indicator": "string",
    "value": "float64",
    "unit": "string",
    "kind": "string",
    "comparator": "string",
    "qualifier": "string",
    "doc": "string",
    "occurrence": "Int64",
    "evidence": "string",
    "sentence": "string",
    "start": "Int64",
    "end": "Int64",
}


@lru_cache(maxsize=1)
def review_rules() -> dict:
    return read_yaml("review.yaml")


@lru_cache(maxsize=1)
def plausible_ranges() -> pd.DataFrame:
    """data/plausible.csv: indicator (empty: any), unit, kind (`level`: actual or target;
    `change`), min, max (empty: no bound), why."""
    df = read_csv("plausible.csv")
    return df.assign(
        min=pd.to_numeric(df["min"].replace("", None), errors="raise").astype("float64"),
        max=pd.to_numeric(df["max"].replace("", None), errors="raise").astype("float64"),
    )


def parse_basis(basis: object) -> dict[str, str]:
    """`city: text; report_year: title` -> {"city": "text", "report_year": "title"}."""
    if not isinstance(basis, str):
        return {}
    out = {}
    for part in basis.split("; "):
        key, _, value = part.partition(": ")
        out[key.strip()] = value.strip()
    return out


def _text(value: object) -> str:
    return "" if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


def _doc_evidence(documents: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    """Per document: why its city or year is unknown, and whether they are weak (the reason)."""
    out: dict[str, dict[str, str]] = {}
    if documents is None or not len(documents):
        return out
    weak_year: Mapping[str, str] = review_rules()["weak_year"]
    checked = review_rules()["weak_city_checked_in"]
    for r in documents.astype(object).to_dict("records"):
        basis = parse_basis(r.get("basis"))
        info: dict[str, str] = {}
        city, year = _text(r.get("city")), _text(r.get("report_year"))
        if _text(r.get("error")):
            continue
        if not city:
            info["unknown_place"] = f"the document's city is {basis.get('city') or 'unknown'}"
        elif basis.get("city", "given") != "given" and not any(city in _text(r.get(c)) for c in checked):
            info["weak_place"] = (f"{city} is the document's city, voted from the places its text names "
                                  f"(its {' and '.join(checked)} name none)")
        if not year:
            info["unknown_year"] = f"the document's year is {basis.get('report_year') or 'unknown'}"
        elif basis.get("report_year") in weak_year:
            info["weak_year"] = f"{year} is the document's year, taken from {weak_year[basis['report_year']]}"
        info["city"], info["year"] = city, year
        out[str(r["doc"])] = info
    return out


def flag_facts(facts: pd.DataFrame, documents: pd.DataFrame | None = None) -> pd.Series:
    """The `flags` cell of every fact (NA: none). Rejected and confirmed facts get none;
    corrected and added ones only the value checks."""
    n = len(facts)
    parts: list[list[str]] = [[] for _ in range(n)]
    if n == 0:
        return pd.Series(pd.array([], dtype="string"), index=facts.index)
    status = facts["status"].fillna("extracted").to_numpy(dtype=object) if "status" in facts else np.full(n, "extracted", dtype=object)
    live = status != "rejected"
    inferred = live & (status == "extracted")
    checked = live & (status != "confirmed")

    docs = _doc_evidence(documents)
    cities = facts["city"].astype(object).to_numpy()
    years = facts["year"].astype(object).to_numpy()
    for i, doc in enumerate(facts["doc"].astype(object).to_numpy()):
        if not inferred[i]:
            continue
        info = docs.get(str(doc), {})
        city, year = _text(cities[i]), _text(years[i])
        if not city:
            parts[i].append("unknown_place: no place " + ("(" + info["unknown_place"] + ")" if "unknown_place" in info else "found for this figure"))
        elif "unknown_place" in info:
            parts[i].append(f"unknown_place: {info['unknown_place']}; this figure's place {city} is from its sentence")
        elif "weak_place" in info and city == info.get("city"):
            parts[i].append("weak_place: " + info["weak_place"])
        if not year:
            parts[i].append("unknown_year: no year " + ("(" + info["unknown_year"] + ")" if "unknown_year" in info else "found for this figure"))
        elif "unknown_year" in info:
            parts[i].append(f"unknown_year: {info['unknown_year']}; this figure's year {year} is from its sentence")
        elif "weak_year" in info and year == info.get("year"):
            parts[i].append("weak_year: " + info["weak_year"])

    for i, reason in _conflicts(facts, live).items():
        if inferred[i]:
            parts[i].append("conflict: " + reason)
    for i, reason in _implausible(facts, checked).items():
        parts[i].append("implausible: " + reason)
    for i, reason in _signs(facts, checked).items():
        parts[i].append("sign: " + reason)

    order = {code: k for k, code in enumerate(FLAGS)}
    cells = [SEPARATOR.join(sorted(p, key=lambda s: order[s.split(":", 1)[0]])) if p else None for p in parts]
    return pd.Series(pd.array(cells, dtype="string"), index=facts.index)


def flag_codes(flags: object) -> list[str]:
    """The codes of a `flags` cell: 'conflict: … | weak_year: …' -> ['conflict', 'weak_year']."""
    text = _text(flags)
    return [p.split(":", 1)[0].strip() for p in text.split(SEPARATOR)] if text else []


def _fmt(value: float, unit: object) -> str:
    return f"{number_text(float(value))} {_text(unit)}".strip()


def _conflicts(facts: pd.DataFrame, live: np.ndarray) -> dict[int, str]:
    """Row position -> reason, for facts with another value of the same cell."""
    keys = ["city", "year", "period", "indicator", "kind", "unit", "qualifier"]
    f = facts[keys + ["value", "doc", "evidence"]].astype(object).assign(_pos=np.arange(len(facts)))
    f = f[live & facts["city"].notna().to_numpy() & facts["year"].notna().to_numpy()
          & facts["indicator"].notna().to_numpy() & facts["value"].notna().to_numpy()]
    f = f.assign(qualifier=f["qualifier"].where(f["qualifier"].notna(), ""),
                 period=f["period"].where(f["period"].notna(), ""))
    if f.empty:
        return {}
    spread = f.groupby(keys, sort=False, dropna=False)["value"].agg(["min", "max"])
    wide = spread[~np.isclose(spread["min"].astype(float), spread["max"].astype(float), rtol=REL_TOL, atol=1e-9)]
    out: dict[int, str] = {}
    if wide.empty:
        return out
    for _, group in f.set_index(keys).loc[wide.index].groupby(level=list(range(len(keys))), sort=False, dropna=False):
        rows = group.reset_index().to_dict("records")
        for r in rows:
            others = [o for o in rows if not math.isclose(float(o["value"]), float(r["value"]), rel_tol=REL_TOL, abs_tol=1e-9)]
            seen: list[str] = []
            for o in others:
                text = f"{_fmt(o['value'], o['unit'])} in {o['doc']} (\u00ab{o['evidence']}\u00bb)"
                if text not in seen:
                    seen.append(text)
            more = f" and {len(seen) - 3} more" if len(seen) > 3 else ""
            out[int(r["_pos"])] = ("another value for the same place, year, period, indicator and qualifier: "
                                   + "; ".join(seen[:3]) + more)
    return out


def _implausible(facts: pd.DataFrame, checked: np.ndarray) -> dict[int, str]:
    out: dict[int, list[str]] = {}
    value = facts["value"].to_numpy(dtype="float64", na_value=np.nan)
    unit = facts["unit"].astype(object).to_numpy()
    indicator = facts["indicator"].astype(object).to_numpy()
    kind = facts["kind"].astype(object).to_numpy()
    kind_class = np.where(kind == "change", "change", np.where(np.isin(kind, ["actual", "target"]), "level", ""))
    catalog = indicators()
    own_unit = np.array([catalog[i].unit if i in catalog else None for i in indicator], dtype=object)
    foreign = (kind_class == "level") & (own_unit != None) & (unit != own_unit)  # noqa: E711 (elementwise)
    for r in plausible_ranges().to_dict("records"):
        mask = checked & (unit == r["unit"]) & (kind_class == r["kind"]) & ~np.isnan(value)
        if r["indicator"]:
            mask &= indicator == r["indicator"]
        else:
            mask &= ~foreign  # a level in another unit than its indicator's: that is the reason given
        low = r["min"] if not math.isnan(r["min"]) else -np.inf
        high = r["max"] if not math.isnan(r["max"]) else np.inf
        for i in np.flatnonzero(mask & ((value < low) | (value > high))):
            bounds = " to ".join(number_text(float(b)) if not math.isinf(b) else "any" for b in (low, high))
            who = r["indicator"] or f"a {r['kind']} in {r['unit']}"
            out.setdefault(int(i), []).append(f"{_fmt(value[i], unit[i])} is outside {bounds} for {who} ({r['why']})")
    for i in np.flatnonzero(checked & foreign):
        out.setdefault(int(i), []).append(f"unit {_text(unit[i]) or 'none'}: {indicator[i]} is measured in "
                                          f"{own_unit[i]} (a {kind[i]} in another unit is compared with nothing)")
    return {i: "; ".join(reasons) for i, reasons in out.items()}


@lru_cache(maxsize=1)
def _verbs() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """Change verbs (data/rules.yaml `change`): a pattern for one right before a figure, one for
    an evidence that starts with one, and each verb's sense (up, down, better, worse, flat)."""
    change = read_yaml("rules.yaml")["change"]
    sense = {}
    for key in ("up", "down", "better", "worse", "flat"):
        for word in change.get(key, []):
            sense.setdefault(word, key)
    words = "|".join(re.escape(w) for w in sorted(sense, key=len, reverse=True))
    return re.compile(f"({words}){change.get('after_verb', '')}\\s*$"), re.compile(f"({words})"), sense


def _expected(verb_sense: str, direction: str) -> str | None:
    """'+', '-', '0' or None (cannot tell) for a verb's sense and the indicator's direction."""
    if verb_sense in ("up", "down", "flat"):
        return {"up": "+", "down": "-", "flat": "0"}[verb_sense]
    if direction not in ("higher_better", "lower_better"):
        return None
    better_up = direction == "higher_better"
    return "+" if (verb_sense == "better") == better_up else "-"


def _signs(facts: pd.DataFrame, checked: np.ndarray) -> dict[int, str]:
    before, leading, sense = _verbs()
    out: dict[int, str] = {}
    kind = facts["kind"].astype(object).to_numpy()
    for i in np.flatnonzero(checked & (kind == "change")):
        r = facts.iloc[int(i)]
        value, sentence, evidence = r["value"], _text(r["sentence"]), _text(r["evidence"])
        if pd.isna(value) or not evidence:
            continue
        verdicts = []
        start = sentence.find(evidence)
        while start >= 0:
            m = before.search(sentence[max(0, start - 16) : start])
            head = leading.match(evidence)
            verb = m.group(1) if m else (head.group(1) if head else None)
            if verb:
                verdicts.append((verb, _expected(sense[verb], _text(r["direction"]))))
            start = sentence.find(evidence, start + 1)
        told = [(v, e) for v, e in verdicts if e is not None]
        if not told:
            continue
        sign = "0" if value == 0 else ("+" if value > 0 else "-")
        if all(e != sign for _, e in told):
            verb, expected = told[0]
            want = {"+": "a rise (positive)", "-": "a fall (negative)", "0": "no change (0)"}[expected]
            out[int(i)] = f"the text says {verb} before the figure, which is {want}; the value is {number_text(float(value))}"
    return out


def feeds(facts: pd.DataFrame) -> pd.Series:
    """Which tables a fact feeds: comparison (annual actuals with a place and a year), targets,
    changes, or other."""
    kind = facts["kind"].astype(object)
    annual = facts["period"].eq("annual").fillna(False).astype(bool)
    placed = facts["city"].notna() & facts["year"].notna()
    out = np.select(
        [(kind == "actual") & annual & placed, kind == "target", kind == "change"],
        ["comparison", "targets", "changes"], default="other",
    )
    return pd.Series(pd.array(out, dtype="string"), index=facts.index)


def review_queue(facts: pd.DataFrame, raw_text=None) -> pd.DataFrame:
    """The flagged facts (a `flags` column), one row each: those that feed comparisons first,
    then those with a flag about the fact itself (STRONG_FLAGS), then by number of flags,
    document and position. `raw_text(doc)` (optional) gives each
    document's raw text, for the evidence's occurrence (the corrections.csv key)."""
    f = facts[facts["flags"].notna() & facts["status"].ne("rejected").fillna(True)]
    if f.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in QUEUE_COLUMNS.items()})
    occurrence: list[object] = [pd.NA] * len(f)
    if raw_text is not None:  # one document's text at a time
        evidence, starts = f["evidence"].tolist(), f["start"].tolist()
        for doc, positions in f.groupby("doc", sort=False).indices.items():
            raw = raw_text(doc)
            if raw is None:
                continue
            found = Occurrences(raw)
            for k in positions:
                if isinstance(evidence[k], str):
                    occurrence[k] = found(evidence[k], int(starts[k])) or pd.NA
    fed = feeds(f)
    codes = f["flags"].map(flag_codes)
    reasons = f["flags"].map(lambda s: SEPARATOR.join(p.split(": ", 1)[1] if ": " in p else p for p in s.split(SEPARATOR)))
    q = f.assign(
        feeds=fed,
        flags=codes.map(",".join).astype("string"),
        reasons=reasons.astype("string"),
        occurrence=pd.array(occurrence, dtype="Int64"),
        _rank=fed.map({k: i for i, k in enumerate(FEEDS)}).astype(int),
        _strong=-codes.map(lambda c: sum(code in STRONG_FLAGS for code in c)),
        _n=-codes.map(len),
    ).sort_values(["_rank", "_strong", "_n", "doc", "start", "end"], kind="stable")
    q = q.assign(priority=np.arange(1, len(q) + 1))
    return q[list(QUEUE_COLUMNS)].astype(QUEUE_COLUMNS).reset_index(drop=True)
