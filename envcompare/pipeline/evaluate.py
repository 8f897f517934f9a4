"""Checking extraction against hand labels: recall, precision, and why each label was missed.

Labels are one CSV row per figure a person read in a report (the corpus format; README, "Checking
the extraction on your own sample"; the seeds' labels are `data/gold/labels.csv`):

    doc,area,year,period,indicator,value,unit,kind,comparator,evidence,required[,qualifier]

Other columns are kept and ignored. A row with a `doc` and no `indicator` says: this document was
read and holds no catalog figure (its facts still count for precision). `other:<name>` indicators
are figures outside the catalog, never scored.

Matching (the same rules as the corpus scorer `../shared/tools/score.py`; the spellings it needs
are in `data/evaluate.yaml`). A label is found by a fact of the same document (file name) with

- the same indicator, kind and unit (units normalised through `data/evaluate.yaml`),
- the same place: the fact's `city` equals the label's `area`, both without a city or province
  ending (`place_suffixes`),
- the same year (exactly) and the same period class (annual or not),
- a value within 0.5% (or 1e-6 absolute),
- and, only where the label has a non-empty `qualifier`, the same qualifier.

Labels are taken in file order; each takes the first such fact not taken yet, so a label matches
at most one fact and a fact at most one label. `optional` labels (figures only implied) are never
a miss, and a fact matching one is never wrong. Precision counts the facts of the scored domains
(the indicator id before the dot) in labelled documents: right when it found a label, wrong when
it matches no label at all (a second fact equal to a found label is neither).

A missed label gets a reason: `not found` when no fact of its document has its value; otherwise
the fields (indicator, kind, unit, place, year, period, qualifier) in which the closest fact with
that value differs. Extras (wrong facts) name the closest label with their value the same way.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..vocab.resources import data_path, read_yaml

FIELDS = ("indicator", "kind", "unit", "place", "year", "period", "qualifier")
NOT_FOUND = "not found"
TAKEN = "its fact matched another label"  # two equal labels, one fact
NO_LABEL = "no label with this value"


def default_labels() -> Path:
    return data_path("gold/labels.csv")


def _rules() -> dict:
    return read_yaml("evaluate.yaml")


def norm_unit(unit: object) -> str:
    u = _text(unit)
    return str(_rules()["units"].get(u, u))


def norm_place(place: object) -> str:
    p = _text(place)
    return p[:-1] if len(p) > 2 and p[-1] in _rules()["place_suffixes"] else p


def is_annual(period: object) -> bool:
    return _text(period).lower() in _rules()["annual_periods"]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.005, abs_tol=1e-6)


def _text(x: object) -> str:
    return "" if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else str(x).strip()


def _domain(indicator: str) -> str:
    return indicator.split(".", 1)[0] if "." in indicator else ""


class LabelError(ValueError):
    """A labels file that cannot be read (one line for the user)."""


def read_labels(path: str | os.PathLike) -> pd.DataFrame:
    """The labels file as strings, with its line numbers (`line`); checks the columns it needs."""
    try:
        labels = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise LabelError(f"no labels file {path}") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise LabelError(f"cannot read labels {path}: {exc}") from exc
    labels = labels.rename(columns={"seed": "doc"} if "doc" not in labels else {})
    labels = labels.rename(columns={"city": "area"} if "area" not in labels else {})
    missing = [c for c in ("doc", "year", "indicator", "value", "unit", "kind") if c not in labels]
    if missing:
        raise LabelError(f"labels {path} lack the column(s) {', '.join(missing)}")
    labels.insert(0, "line", range(2, len(labels) + 2))
    for r in labels.to_dict("records"):
        if _scored(r):
            _label_key(r)  # a value that is not a number stops here, before any extraction
    return labels


def _scored(r: dict) -> bool:
    ind = r["indicator"].strip()
    return bool(ind) and not ind.startswith("other:")


def label_domains(labels: pd.DataFrame) -> set[str]:
    return {_domain(r["indicator"].strip()) for r in labels.to_dict("records") if _scored(r)}


def labelled_docs(labels: pd.DataFrame) -> set[str]:
    """Every document the labels file names (file names), including those with no catalog figure."""
    return {os.path.basename(d.strip()) for d in labels["doc"] if d.strip()}


@dataclass
class Evaluation:
    labels: pd.DataFrame  # one row per scored label: result (found / missed / optional), reason, the fact
    extras: pd.DataFrame  # wrong facts, with the closest label of the same value
    by_doc: pd.DataFrame
    by_domain: pd.DataFrame
    recall: float
    precision: float
    domains: list[str]

    def table(self) -> pd.DataFrame:
        """Labels and extras in one table (the `-o` output of the command)."""
        return pd.concat([self.labels, self.extras], ignore_index=True)


def _label_key(r: dict) -> dict:
    try:
        value = float(r["value"])
    except ValueError:
        raise LabelError(f"labels line {r['line']}: value {r['value']!r} is not a number") from None
    return dict(
        doc=os.path.basename(r["doc"].strip()), year=str(r["year"]).strip(), indicator=r["indicator"].strip(),
        value=value, unit=norm_unit(r["unit"]), kind=r["kind"].strip(), place=norm_place(r.get("area")),
        annual=is_annual(r.get("period")), qualifier=_text(r.get("qualifier")), raw=r,
    )


def _fact_key(r: dict, i: int) -> dict:
    year = r.get("year")
    return dict(
        doc=os.path.basename(_text(r.get("doc"))), year="" if _text(year) == "" else str(year).split(".")[0],
        indicator=_text(r.get("indicator")), value=float(r["value"]), unit=norm_unit(r.get("unit")),
        kind=_text(r.get("kind")), place=norm_place(r.get("city")), annual=is_annual(r.get("period")),
        qualifier=_text(r.get("qualifier")), raw=r, index=i, used=False,
    )


def differences(fact: dict, label: dict) -> list[str]:
    """The fields (of FIELDS) in which a fact differs from a label; the value is not compared.
    The qualifier counts only where the label has one."""
    out = [f for f in ("indicator", "kind", "unit", "place", "year") if fact[f] != label[f]]
    if fact["annual"] != label["annual"]:
        out.append("period")
    if label["qualifier"] and fact["qualifier"] != label["qualifier"]:
        out.append("qualifier")
    return out


def _same(fact: dict, label: dict) -> bool:
    return not differences(fact, label) and close(fact["value"], label["value"])


def evaluate(facts: pd.DataFrame, labels: pd.DataFrame, domains: Iterable[str] | None = None,
             docs: Iterable[str] | None = None) -> Evaluation:
    """Score a facts table against labels (`read_labels`).

    `domains`: the indicator domains scored (default: every domain the labels have). `docs`: the
    documents evaluated (file names; default: every labelled one); labels of other documents
    are left out, and facts of documents without labels are never scored.
    """
    annotated = labelled_docs(labels)
    docs = sorted(annotated & {os.path.basename(d) for d in docs} if docs is not None else annotated)
    wanted = set(docs)
    rows = [r for r in labels.to_dict("records") if os.path.basename(r["doc"].strip()) in wanted]
    scored = [r for r in rows if _scored(r)]
    keyed = [_label_key(r) for r in scored]
    domains = sorted(set(domains) if domains is not None else {_domain(k["indicator"]) for k in keyed})
    keyed = [k for k in keyed if _domain(k["indicator"]) in domains]
    required = [k for k in keyed if _text(k["raw"].get("required")) != "optional"]

    fact_keys = []
    for i, r in enumerate(facts.to_dict("records")):
        if not pd.isna(r.get("value")):
            k = _fact_key(r, i)
            if k["doc"] in wanted:
                fact_keys.append(k)
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for k in fact_keys:
        by_doc[k["doc"]].append(k)

    for lab in required:
        lab["fact"] = next((x for x in by_doc[lab["doc"]] if not x["used"] and _same(x, lab)), None)
        if lab["fact"] is not None:
            lab["fact"]["used"] = True
    labels_of: dict[str, list[dict]] = defaultdict(list)
    for lab in keyed:
        labels_of[lab["doc"]].append(lab)
    counted = [x for x in fact_keys if _domain(x["indicator"]) in domains]
    for x in counted:
        x["right"] = x["used"]
        x["wrong"] = not x["used"] and not any(_same(x, lab) for lab in labels_of[x["doc"]])

    label_rows = [_label_row(lab, by_doc[lab["doc"]]) for lab in keyed]
    extras = [_extra_row(x, labels_of[x["doc"]]) for x in counted if x["wrong"]]
    label_table = pd.DataFrame(label_rows, columns=RESULT_COLUMNS).astype(RESULT_TYPES)
    extra_table = pd.DataFrame(extras, columns=RESULT_COLUMNS).astype(RESULT_TYPES)
    summary = {
        "doc": _summary(docs, required, counted, lambda k: k["doc"]),
        "domain": _summary(domains, required, counted, lambda k: _domain(k["indicator"])),
    }
    found = sum(1 for lab in required if lab["fact"] is not None)
    right = sum(1 for x in counted if x["right"])
    wrong = sum(1 for x in counted if x["wrong"])
    return Evaluation(
        label_table, extra_table, summary["doc"], summary["domain"],
        recall=found / len(required) if required else 0.0,
        precision=right / (right + wrong) if right + wrong else 0.0,
        domains=domains,
    )


def _summary(keys, required, counted, key_of) -> pd.DataFrame:
    rows = []
    for key in keys:
        labs = [lab for lab in required if key_of(lab) == key]
        of_key = [x for x in counted if key_of(x) == key]
        found = sum(1 for lab in labs if lab["fact"] is not None)
        right, wrong = sum(x["right"] for x in of_key), sum(x["wrong"] for x in of_key)
        rows.append({
            "key": key, "labels": len(labs), "found": found, "recall": found / len(labs) if labs else math.nan,
            "facts": len(of_key), "right": right, "wrong": wrong,
            "precision": right / (right + wrong) if right + wrong else math.nan,
        })
    return pd.DataFrame(rows, columns=["key", "labels", "found", "recall", "facts", "right", "wrong", "precision"])


LABEL_FIELDS = ["doc", "area", "year", "period", "indicator", "value", "unit", "kind", "comparator", "qualifier",
                "required", "evidence", "line"]
FACT_FIELDS = ["city", "year", "period", "indicator", "value", "unit", "kind", "comparator", "qualifier", "evidence", "start"]
RESULT_COLUMNS = ["result", "reason", *LABEL_FIELDS, *(f"fact_{c}" for c in FACT_FIELDS)]
RESULT_TYPES = {"line": "Int64", "value": "float64", "fact_year": "Int64", "fact_value": "float64", "fact_start": "Int64"}


class Closest(NamedTuple):
    """The closest candidate (None: none has the value) and the fields it differs in."""

    candidate: dict | None
    differences: list[str]


def _closest(candidates: list[dict], other: dict, fact_side: bool) -> Closest:
    """The candidate with `other`'s value that differs in the fewest fields; among equals, a fact
    no label took or a label no fact found comes first."""
    best, best_diff, best_rank = None, [], None
    for c in candidates:
        if not close(c["value"], other["value"]):
            continue
        diff = differences(c, other) if fact_side else differences(other, c)
        rank = (len(diff), c["used"] if fact_side else c.get("fact") is not None)
        if best_rank is None or rank < best_rank:
            best, best_diff, best_rank = c, diff, rank
    return Closest(best, best_diff)


def _row(result: str, reason: str, lab: dict | None, fact: dict | None) -> dict:
    row = {"result": result, "reason": reason}
    if lab is not None:
        raw = lab["raw"]
        row.update({c: _text(raw.get(c)) for c in LABEL_FIELDS})
        row["doc"], row["value"], row["line"] = lab["doc"], lab["value"], raw["line"]
    if fact is not None:
        raw = fact["raw"]
        row.update({f"fact_{c}": raw.get(c) for c in FACT_FIELDS})
        if not row.get("doc"):
            row["doc"] = fact["doc"]
    return row


def _label_row(lab: dict, facts: list[dict]) -> dict:
    if _text(lab["raw"].get("required")) == "optional":
        fact = next((x for x in facts if _same(x, lab)), None)
        return _row("optional", "found" if fact is not None else NOT_FOUND, lab, fact)
    if lab["fact"] is not None:
        return _row("found", "", lab, lab["fact"])
    fact, diff = _closest(facts, lab, fact_side=True)
    reason = NOT_FOUND if fact is None else (", ".join(diff) if diff else TAKEN)
    return _row("missed", reason, lab, fact)


def _extra_row(fact: dict, labels: list[dict]) -> dict:
    lab, diff = _closest(labels, fact, fact_side=False)
    return _row("extra", NO_LABEL if lab is None else ", ".join(diff), lab, fact)
