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
- `sign`: a change whose sign contradicts the verb right before it (a fall of 5.4% stored as +5.4);
- `kind_default`: whether the fact is a target or not was decided by default: no cue in its
  sentence, paragraph or section heading, and either nothing at all (an article's figure taken
  as an actual) or only its document being a plan (taken as a target); the extraction stage's
  internal `kind_basis` column, data/review.yaml `kind_default`.

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

from ..extraction.tidy import FACT_COLUMNS, row_dicts
from ..vocab.catalog import indicators
from ..vocab.resources import read_csv, read_yaml
from ..vocab.rules import read_rules
from .corrections import Occurrences, number_text

FLAGS = ("unknown_place", "unknown_year", "weak_place", "weak_year", "conflict", "implausible", "sign", "kind_default")
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
    **{name: FACT_COLUMNS[name] for name in ("city", "year", "period", "indicator", "value", "unit", "kind",
                                             "comparator", "qualifier", "doc")},
    "occurrence": "Int64",
    **{name: FACT_COLUMNS[name] for name in ("evidence", "sentence", "start", "end")},
}


def _basis_flags(what: str, value: str, doc: Mapping[str, object], doc_value: object) -> list[str]:
    """unknown_<what> / weak_<what> for one figure's place or year: unknown when the figure has
    none or its document's is unknown, weak when it is its document's and that came from weak
    evidence."""
    unknown, weak = f"unknown_{what}", f"weak_{what}"
    if not value:
        return [f"{unknown}: no {what} " + (f"({doc[unknown]})" if unknown in doc else "found for this figure")]
    if unknown in doc:
        return [f"{unknown}: {doc[unknown]}; this figure's {what} {value} is from its sentence"]
    if weak in doc and value == doc_value:
        return [f"{weak}: {doc[weak]}"]
    return []


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


def doc_evidence(doc: Mapping[str, object]) -> dict[str, str]:
    """What a documents row says about its city and year: why unknown or weak (the reasons), and
    the city and year themselves."""
    weak_year: Mapping[str, str] = review_rules()["weak_year"]
    checked = review_rules()["weak_city_checked_in"]
    basis = parse_basis(doc.get("basis"))
    info: dict[str, str] = {}
    city, year = _text(doc.get("city")), _text(doc.get("report_year"))
    if not city:
        info["unknown_place"] = f"the document's city is {basis.get('city') or 'unknown'}"
    elif basis.get("city", "given") != "given" and not any(city in _text(doc.get(c)) for c in checked):
        info["weak_place"] = (f"{city} is the document's city, voted from the places its text names "
                              f"(its {' and '.join(checked)} name none)")
    if not year:
        info["unknown_year"] = f"the document's year is {basis.get('report_year') or 'unknown'}"
    elif basis.get("report_year") in weak_year:
        info["weak_year"] = f"{year} is the document's year, taken from {weak_year[basis['report_year']]}"
    info["city"], info["year"] = city, year
    return info


def _status(row: Mapping[str, object]) -> str:
    return _text(row.get("status")) or "extracted"


def fact_flags(row: Mapping[str, object], doc: Mapping[str, str]) -> list[str]:
    """The flags of one fact that need nothing but the fact and its document (`doc_evidence`):
    every flag but `conflict`, as `code: reason` parts."""
    status = _status(row)
    if status in ("rejected", "confirmed"):
        return []
    out: list[str] = []
    if status == "extracted":
        for what, column in (("place", "city"), ("year", "year")):
            out += _basis_flags(what, _text(row.get(column)), doc, doc.get(column))
    if (reason := _implausible(row)):
        out.append("implausible: " + reason)
    if (reason := _sign(row)):
        out.append("sign: " + reason)
    if status == "extracted" and (reason := _kind_default(row)):
        out.append("kind_default: " + reason)
    return out


def _kind_default(row: Mapping[str, object]) -> str | None:
    """Why a fact's kind is a default, or None: decided by a cue, or a table without `kind_basis`
    (an added fact)."""
    return _kind_reason(_text(row.get("kind_basis")), _text(row.get("kind")))


def _kind_reason(basis: str, kind: str) -> str | None:
    """data/review.yaml `kind_default`: the reason for a kind decided on `basis`, if it is flagged."""
    reasons: Mapping[str, Mapping[str, str]] = review_rules()["kind_default"]
    return reasons.get(basis, {}).get(kind)


def _cell(parts: list[str]) -> str | None:
    order = {code: k for k, code in enumerate(FLAGS)}
    return SEPARATOR.join(sorted(parts, key=lambda s: order[s.split(":", 1)[0]])) if parts else None


def flag_rows(rows: list[dict[str, object]], doc: Mapping[str, object]) -> list[dict[str, object]]:
    """Fact rows of one document (dicts) with their `flags`, every flag but `conflict` (which
    needs the whole corpus): what a batch worker can say while it draws the evidence page."""
    info = doc_evidence(doc)
    return [{**r, "flags": _cell(fact_flags(r, info))} for r in rows]


def flag_facts(facts: pd.DataFrame, documents: pd.DataFrame | None = None) -> pd.Series:
    """The `flags` cell of every fact (NA: none). Rejected and confirmed facts get none;
    corrected and added ones only the value checks."""
    if len(facts) == 0:
        return pd.Series(pd.array([], dtype="string"), index=facts.index)
    docs: dict[str, dict[str, str]] = {}
    if documents is not None:
        for d in row_dicts(documents):
            docs[str(d["doc"])] = doc_evidence(d)
    status = _statuses(facts)
    parts: list[list[str]] = [[] for _ in range(len(facts))]
    for i, flags in _place_year_flags(facts, status == "extracted", docs).items():
        parts[i] += flags
    checked = (status != "rejected") & (status != "confirmed")  # value checks: every fact a person did not confirm
    for code, reasons in (("implausible", _implausible_reasons(facts, checked)), ("sign", _sign_reasons(facts, checked))):
        for i, reason in reasons.items():
            parts[i].append(f"{code}: {reason}")
    for i, reason in _kind_default_reasons(facts, status == "extracted").items():
        parts[i].append("kind_default: " + reason)
    for i, reason in _conflicts(facts, status != "rejected").items():
        if status[i] == "extracted":
            parts[i].append("conflict: " + reason)
    return pd.Series(pd.array([_cell(p) if p else None for p in parts], dtype="string"), index=facts.index)


def _kind_default_reasons(facts: pd.DataFrame, extracted: np.ndarray) -> dict[int, str]:
    """`_kind_default` for every extracted fact, by position (none without a `kind_basis` column)."""
    if "kind_basis" not in facts.columns:
        return {}
    bases, kinds = _texts(facts["kind_basis"]), _texts(facts["kind"])
    flagged = extracted & np.isin(bases, list(review_rules()["kind_default"]))
    found = {int(i): _kind_reason(bases[i], kinds[i]) for i in np.flatnonzero(flagged)}
    return {i: reason for i, reason in found.items() if reason}


def _statuses(facts: pd.DataFrame) -> np.ndarray:
    """Each fact's status (`_status`): extracted when none is given."""
    if "status" not in facts.columns:
        return np.full(len(facts), "extracted", dtype=object)
    given = np.array([_text(v) for v in facts["status"].to_numpy(dtype=object, na_value=None)], dtype=object)
    return np.where(given == "", "extracted", given).astype(object)


def _records(facts: pd.DataFrame, positions: np.ndarray, columns: list[str]) -> list[dict[str, object]]:
    """The facts at these row positions as dicts of these columns (those it has), missing values as None."""
    rows = facts.iloc[positions][[c for c in columns if c in facts.columns]]
    return row_dicts(rows)


def _place_year_flags(facts: pd.DataFrame, extracted: np.ndarray, docs: Mapping[str, Mapping[str, str]]) -> dict[int, list[str]]:
    """Row position -> the unknown_ / weak_ place and year flags of the extracted facts, worked
    out once per (document, place, year)."""
    positions = np.flatnonzero(extracted)
    columns = [facts[c].to_numpy(dtype=object, na_value=None)[positions] for c in ("doc", "city", "year")]
    known: dict[tuple[object, object, object], list[str]] = {}
    out: dict[int, list[str]] = {}
    for i, key in zip(positions.tolist(), zip(*columns, strict=True), strict=True):
        flags = known.get(key)
        if flags is None:
            doc, city, year = key
            info = docs.get(str(doc), {})
            flags = known[key] = [*_basis_flags("place", _text(city), info, info.get("city")),
                                  *_basis_flags("year", _text(year), info, info.get("year"))]
        if flags:
            out[i] = flags
    return out


def _texts(series: pd.Series) -> np.ndarray:
    """`_text` of every value: missing ones as ""."""
    return series.astype("string").fillna("").to_numpy(dtype=object)


def _implausible_reasons(facts: pd.DataFrame, checked: np.ndarray) -> dict[int, str]:
    """Row position -> why the value is implausible (`_implausible`), for the checked facts: the
    ranges are tested column-wise and only the facts outside one are explained."""
    value = facts["value"].to_numpy(dtype="float64", na_value=np.nan)
    unit, kind, indicator = _texts(facts["unit"]), _texts(facts["kind"]), _texts(facts["indicator"])
    kind_class = np.where(kind == "change", "change", np.where((kind == "actual") | (kind == "target"), "level", ""))
    known = indicators()
    own_unit = np.array([known[i].unit if i in known else None for i in indicator], dtype=object)
    foreign = (kind_class == "level") & pd.notna(own_unit) & (unit != own_unit)
    outside = np.zeros(len(facts), dtype=bool)
    with np.errstate(invalid="ignore"):
        for (range_unit, range_kind), ranges in _ranges().items():
            here = (unit == range_unit) & (kind_class == range_kind)
            for r in ranges:
                applies = here & ((indicator == r["indicator"]) if r["indicator"] else ~foreign)
                outside |= applies & ~((r["low"] <= value) & (value <= r["high"]))
    candidates = np.flatnonzero(checked & ~np.isnan(value) & (outside | foreign))
    reasons = {i: _implausible(r) for i, r in zip(candidates.tolist(), _records(facts, candidates, ["value", "unit", "kind", "indicator"]), strict=True)}
    return {i: reason for i, reason in reasons.items() if reason}


def _sign_reasons(facts: pd.DataFrame, checked: np.ndarray) -> dict[int, str]:
    """Row position -> why a change's sign contradicts its verb (`_sign`), for the checked facts."""
    changes = facts["kind"].eq("change").fillna(False).to_numpy(dtype=bool) & facts["value"].notna().to_numpy(dtype=bool)
    candidates = np.flatnonzero(checked & changes)
    rows = _records(facts, candidates, ["value", "kind", "sentence", "evidence", "direction"])
    reasons = {i: _sign(r) for i, r in zip(candidates.tolist(), rows, strict=True)}
    return {i: reason for i, reason in reasons.items() if reason}


def flag_codes(flags: object) -> list[str]:
    """The codes of a `flags` cell: 'conflict: … | weak_year: …' -> ['conflict', 'weak_year']."""
    text = _text(flags)
    return [p.split(":", 1)[0].strip() for p in text.split(SEPARATOR)] if text else []


def _fmt(value: float, unit: object) -> str:
    return f"{number_text(float(value))} {_text(unit)}".strip()


def _cell_numbers(facts: pd.DataFrame, keys: list[str]) -> pd.Series:
    """One number per row, equal for rows with equal values on `keys` (a missing value equals
    "" and another missing value): each column factorized on its own (no Python object per
    cell: at 20,000 reports that was the review's peak), then the rows grouped by their codes."""
    codes = {}
    for key in keys:
        column = facts[key]
        if pd.api.types.is_string_dtype(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype("string").fillna("")
        codes[key] = pd.factorize(column, use_na_sentinel=False)[0]
    return pd.DataFrame(codes, index=facts.index).groupby(keys, sort=False).ngroup()


def _conflicts(facts: pd.DataFrame, live: np.ndarray) -> dict[int, str]:
    """Row position -> reason, for facts with another value of the same cell."""
    keys = ["city", "year", "period", "indicator", "kind", "unit", "qualifier"]
    placed = live & facts[["city", "year", "indicator", "value"]].notna().all(axis=1).to_numpy(dtype=bool)
    positions = np.flatnonzero(placed)
    cell = _cell_numbers(facts.iloc[positions], keys)
    values = facts["value"].to_numpy(dtype="float64", na_value=np.nan)
    spread = pd.DataFrame({"cell": cell.to_numpy(), "value": values[positions]}).groupby("cell")["value"].agg(
        ["min", "max", "size"])
    several = spread[(spread["size"] > 1).to_numpy()]
    differ = [not math.isclose(lo, hi, rel_tol=REL_TOL, abs_tol=1e-9) for lo, hi in zip(several["min"], several["max"], strict=True)]
    disputed = several.index[np.array(differ, dtype=bool)]
    at = np.isin(cell.to_numpy(), disputed)
    member_cells, members_at = cell.to_numpy()[at], positions[at]
    order = np.argsort(member_cells, kind="stable")  # each cell's members in row order
    starts = np.flatnonzero(np.diff(member_cells[order], prepend=-1) != 0)
    cells = np.split(members_at[order], starts[1:]) if len(starts) else []
    disputing = np.unique(members_at)  # only their texts are needed: not one object per fact
    units, docs, evidence = (dict(zip(disputing.tolist(), facts[c].iloc[disputing].astype(object).tolist(), strict=True))
                             for c in ("unit", "doc", "evidence"))
    out: dict[int, str] = {}
    for members in cells:
        texts = {o: f"{_fmt(values[o], units[o])} in {docs[o]} (\u00ab{evidence[o]}\u00bb)" for o in members}
        for i in members:
            seen: list[str] = []
            for o in members:
                if not math.isclose(float(values[o]), float(values[i]), rel_tol=REL_TOL, abs_tol=1e-9):
                    text = texts[o]
                    if text not in seen:
                        seen.append(text)
            more = f" and {len(seen) - 3} more" if len(seen) > 3 else ""
            out[i] = ("another value for the same place, year, period, indicator and qualifier: "
                      + "; ".join(seen[:3]) + more)
    return out


@lru_cache(maxsize=1)
def _ranges() -> dict[tuple[str, str], list[dict]]:
    """The plausible ranges by (unit, kind class), each with its bounds as floats."""
    out: dict[tuple[str, str], list[dict]] = {}
    for r in plausible_ranges().to_dict("records"):
        low = r["min"] if not math.isnan(r["min"]) else -math.inf
        high = r["max"] if not math.isnan(r["max"]) else math.inf
        out.setdefault((r["unit"], r["kind"]), []).append({**r, "low": low, "high": high})
    return out


def _implausible(row: Mapping[str, object]) -> str | None:
    """Why a fact's value is implausible (data/plausible.csv), or None."""
    value, unit, kind, indicator = row.get("value"), _text(row.get("unit")), _text(row.get("kind")), _text(row.get("indicator"))
    if not isinstance(value, (int, float)) or math.isnan(value):
        return None
    kind_class = "change" if kind == "change" else "level" if kind in ("actual", "target") else ""
    ind = indicators().get(indicator)
    foreign = kind_class == "level" and ind is not None and unit != ind.unit
    reasons = []
    for r in _ranges().get((unit, kind_class), []):
        if (r["indicator"] and r["indicator"] != indicator) or (not r["indicator"] and foreign):
            continue  # a level in another unit than its indicator's: that is the reason given below
        if not r["low"] <= value <= r["high"]:
            bounds = " to ".join(number_text(float(b)) if not math.isinf(b) else "any" for b in (r["low"], r["high"]))
            who = r["indicator"] or f"a {r['kind']} in {r['unit']}"
            reasons.append(f"{_fmt(value, unit)} is outside {bounds} for {who} ({r['why']})")
    if foreign and ind is not None:
        reasons.append(f"unit {unit or 'none'}: {indicator} is measured in {ind.unit} "
                       f"(a {kind} in another unit is compared with nothing)")
    return "; ".join(reasons) or None


@lru_cache(maxsize=1)
def _verbs() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """Change verbs (data/constructions/changes.yaml `change`): a pattern for one right before a figure, one for
    an evidence that starts with one, and each verb's sense (up, down, better, worse, flat)."""
    change = read_rules()["change"]
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


def _sign(row: Mapping[str, object]) -> str | None:
    """Why a change's sign contradicts the verb right before its figure, or None."""
    value = row.get("value")
    if _text(row.get("kind")) != "change" or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    before, leading, sense = _verbs()
    sentence, evidence = _text(row.get("sentence")), _text(row.get("evidence"))
    if not evidence:
        return None
    told = []
    start = sentence.find(evidence)
    while start >= 0:
        m = before.search(sentence[max(0, start - 16) : start])
        head = leading.match(evidence)
        verb = m.group(1) if m else (head.group(1) if head else None)
        if verb and (expected := _expected(sense[verb], _text(row.get("direction")))) is not None:
            told.append((verb, expected))
        start = sentence.find(evidence, start + 1)
    sign = "0" if value == 0 else ("+" if value > 0 else "-")
    if not told or any(e == sign for _, e in told):
        return None
    verb, expected = told[0]
    want = {"+": "a rise (positive)", "-": "a fall (negative)", "0": "no change (0)"}[expected]
    return f"the text says {verb} before the figure, which is {want}; the value is {number_text(float(value))}"


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
