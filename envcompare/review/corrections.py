"""A researcher's corrections to the facts table, kept in `corrections.csv` and applied after
every extraction, so that they survive rebuilds and re-extraction.

One row per decision, keyed by what survives a re-scrape (the evidence text, not its offsets):

    doc,evidence,occurrence,match,action,city,year,period,indicator,value,unit,kind,comparator,qualifier,reviewer,note

`action` is `reject` (drop the fact), `set` (change the fields given), `add` (a figure the
extractor missed: its evidence must occur in the document) or `confirm` (checked and right: its
review flags are cleared). `occurrence` (default 1) says which occurrence of the evidence in the
document's raw text; `match` (an indicator id) picks one fact when several share the evidence.

A correction that no longer fits its document (the evidence is gone, the occurrence missing, no
fact or several facts there) is *stale*: reported by name and never applied to another figure.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..vocab.catalog import indicators
from ..vocab.places import lookup
from ..vocab.resources import read_yaml
from ..vocab.rules import read_rules

KEY_COLUMNS = ("doc", "evidence", "occurrence", "match")
FIELD_COLUMNS = ("city", "year", "period", "indicator", "value", "unit", "kind", "comparator", "qualifier")
CORRECTION_COLUMNS = (*KEY_COLUMNS[:4], "action", *FIELD_COLUMNS, "reviewer", "note")
ACTIONS = ("reject", "set", "add", "confirm")
KINDS = ("actual", "target", "change")
COMPARATORS = (">=", "<=", ">", "<", "=")
STATUSES = ("extracted", "corrected", "added", "confirmed", "rejected")
# columns the review stage adds to the facts table
REVIEW_COLUMNS: dict[str, str] = {"status": "string", "flags": "string", "correction": "string"}
FILE_NAME = "corrections.csv"


class CorrectionError(ValueError):
    """corrections.csv cannot be used: every problem, one line each, naming the file and row."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Correction:
    """One row of a corrections file, validated."""

    source: str  # the file (or "<table>")
    row: int  # 1-based data row (the header is not a row)
    line: int  # line of the file where the row starts
    doc: str
    evidence: str
    action: str
    occurrence: int = 1
    match: str | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    reviewer: str | None = None
    note: str | None = None

    @property
    def where(self) -> str:
        """`corrections.csv row 3 (line 4)`."""
        return f"{self.source} row {self.row} (line {self.line})"

    def describe(self) -> str:
        """`reject «5.4%» (occurrence 2) in wuhan.txt`."""
        occ = f" (occurrence {self.occurrence})" if self.occurrence != 1 else ""
        match = f" [{self.match}]" if self.match else ""
        return f"{self.action} \u00ab{self.evidence}\u00bb{occ}{match} in {self.doc}"

    def provenance(self) -> str:
        """What the facts table's `correction` column says about a fact this changed."""
        who = f" by {self.reviewer}" if self.reviewer else ""
        note = f": {self.note}" if self.note else ""
        return f"{self.action} ({Path(self.source).name} row {self.row}){who}{note}"


@dataclass(frozen=True)
class StaleCorrection:
    """A correction that no longer fits its document, and why; never applied."""

    correction: Correction
    reason: str

    def __str__(self) -> str:
        return f"stale correction, {self.correction.where}: {self.correction.describe()}: {self.reason}"


@dataclass
class Applied:
    """Facts after the corrections: every row with its `status` (`rejected` ones included),
    the corrections that could not be applied, and those naming documents not in this run."""

    facts: pd.DataFrame
    stale: list[StaleCorrection]
    elsewhere: list[Correction]
    applied: int = 0


# --- reading -------------------------------------------------------------------------------------

def known_units() -> frozenset[str]:
    """The canonical unit codes: those of data/units.yaml and of the catalog."""
    units = {v[0] for v in read_yaml("units.yaml")["units"].values()}
    return frozenset(units | {i.unit for i in indicators().values()})


def read_corrections(path: str | os.PathLike) -> list[Correction]:
    """The validated rows of a corrections CSV (UTF-8, with or without BOM). CorrectionError
    lists every problem (`<file> row N (line L): ...`); a file that does not exist is one."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CorrectionError([f"{p}: no such corrections file"]) from exc
    except UnicodeDecodeError as exc:
        raise CorrectionError([f"{p}: not UTF-8 text (save it as CSV UTF-8)"]) from exc
    except OSError as exc:
        raise CorrectionError([f"{p}: cannot read: {exc.strerror or exc}"]) from exc
    return parse_corrections(text, str(p))


def parse_corrections(text: str, source: str = FILE_NAME) -> list[Correction]:
    """The validated rows of corrections CSV text; CorrectionError lists every problem."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise CorrectionError([f"{source} line 1: {exc}"]) from exc
    header = [h.strip() for h in header]
    problems = []
    unknown = [h for h in header if h not in CORRECTION_COLUMNS]
    if unknown:
        problems.append(f"{source} line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
                        f"the columns are {','.join(CORRECTION_COLUMNS)}")
    missing = [c for c in ("doc", "evidence", "action") if c not in header]
    if missing:
        problems.append(f"{source} line 1: missing column(s) {', '.join(missing)}")
    if problems:
        raise CorrectionError(problems)
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    last = reader.line_num
    try:
        for values in reader:
            start, last = last + 1, reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                problems.append(f"{source} row {len(rows) + 1} (line {start}): {len(values)} cells, the header has "
                                f"{len(header)} (a comma inside a cell needs the cell in double quotes)")
            rows.append(dict(zip(header, values)))
            lines.append(start)
    except csv.Error as exc:
        problems.append(f"{source} line {reader.line_num}: {exc}")
    return corrections_from_rows(rows, source, lines, problems)


def corrections_from_frame(df: pd.DataFrame, source: str = "<table>") -> list[Correction]:
    """Corrections given as a DataFrame (the corrections.csv columns), validated the same way."""
    unknown = [c for c in df.columns if c not in CORRECTION_COLUMNS]
    if unknown:
        raise CorrectionError([f"{source}: unknown column(s) {', '.join(map(repr, unknown))}"])
    rows = [{k: "" if _blank(v) else str(v) for k, v in r.items()} for r in df.to_dict("records")]
    return corrections_from_rows(rows, source, [i + 2 for i in range(len(rows))])


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def corrections_from_rows(
    rows: list[dict[str, str]], source: str, lines: list[int], problems: list[str] | None = None
) -> list[Correction]:
    problems = list(problems or [])
    out: list[Correction] = []
    seen: dict[tuple, Correction] = {}
    for n, (row, line) in enumerate(zip(rows, lines), start=1):
        where = f"{source} row {n} (line {line})"
        try:
            c = _correction(row, source, n, line)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        key = (c.doc, c.evidence, c.occurrence, c.match, c.action == "add")
        if key in seen and (c.action != "add" or seen[key].fields.get("indicator") == c.fields.get("indicator")):
            problems.append(f"{where}: the same figure as row {seen[key].row} (doc, evidence, occurrence, match): "
                            "one decision per figure")
            continue
        seen[key] = c
        out.append(c)
    if problems:
        raise CorrectionError(problems)
    return out


def _correction(row: Mapping[str, str], source: str, n: int, line: int) -> Correction:
    """One row, checked; ValueError says what is wrong with it."""
    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    action = get("action").lower()
    if action not in ACTIONS:
        raise ValueError(f"action {get('action')!r}: use one of {', '.join(ACTIONS)}")
    doc = get("doc")
    evidence = (row.get("evidence") or "").strip("\r\n")
    if not doc:
        raise ValueError("doc is empty: the report's name as in documents.csv")
    if not evidence.strip():
        raise ValueError("evidence is empty: the exact words of the report that state the figure")
    occurrence = 1
    if get("occurrence"):
        try:
            occurrence = int(get("occurrence"))
        except ValueError:
            raise ValueError(f"occurrence {get('occurrence')!r} is not a whole number") from None
        if occurrence < 1:
            raise ValueError(f"occurrence {occurrence}: the first occurrence is 1")
    match = get("match") or None
    if match and match not in indicators():
        raise ValueError(f"match {match!r} is not an indicator id of data/indicators.csv")
    fields = {name: _field(name, get(name)) for name in FIELD_COLUMNS if get(name)}
    if action in ("reject", "confirm") and fields:
        raise ValueError(f"a {action} changes no field (remove {', '.join(fields)}); use set to change a fact")
    if action == "set" and not fields:
        raise ValueError(f"a set names the fields to change ({', '.join(FIELD_COLUMNS)}); none is filled")
    if action == "add":
        missing = [f for f in ("indicator", "value") if f not in fields]
        if fields.get("kind") == "change" and "unit" not in fields:
            missing.append("unit")
        if missing:
            raise ValueError(f"an add needs {', '.join(missing)}")
        if match:
            raise ValueError("an add takes no match (match picks an extracted fact)")
    return Correction(source, n, line, doc, evidence, action, occurrence, match, fields,
                      get("reviewer") or None, get("note") or None)


def _field(name: str, text: str) -> object:
    """A field's value in the facts table's type; ValueError for one that cannot be."""
    if name == "value":
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(f"value {text!r} is not a number (write 35, -5.4 or 16122500)") from None
        if not math.isfinite(value):
            raise ValueError(f"value {text!r} is not a finite number")
        return value
    if name == "year":
        if not (text.isdigit() and 1900 <= int(text) <= 2100):
            raise ValueError(f"year {text!r} is not a year (2023)")
        return int(text)
    if name == "indicator" and text not in indicators():
        raise ValueError(f"indicator {text!r} is not an id of data/indicators.csv")
    if name == "kind" and text not in KINDS:
        raise ValueError(f"kind {text!r}: use one of {', '.join(KINDS)}")
    if name == "comparator" and text not in COMPARATORS:
        raise ValueError(f"comparator {text!r}: use one of {' '.join(COMPARATORS)}")
    if name == "unit" and text not in known_units():
        raise ValueError(f"unit {text!r}: use a canonical unit ({', '.join(sorted(known_units()))})")
    if name == "city":
        place = lookup(text)
        return place.short if place is not None and place.name == text else text
    return text


def find_corrections(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The corrections.csv files of a run: one at the top of each folder given, and one beside
    each file given directly (each read once)."""
    found: list[Path] = []
    for item in paths:
        p = Path(item)
        candidate = (p if p.is_dir() else p.parent) / FILE_NAME
        if candidate.is_file() and candidate.resolve() not in {f.resolve() for f in found}:
            found.append(candidate)
    return found


def load_corrections(files: Iterable[str | os.PathLike]) -> list[Correction]:
    """The corrections of several files, in order; CorrectionError lists the problems of all."""
    out: list[Correction] = []
    problems: list[str] = []
    for f in files:
        try:
            out.extend(read_corrections(f))
        except CorrectionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CorrectionError(problems)
    return out


# --- applying ------------------------------------------------------------------------------------

def occurrences(raw: str, evidence: str) -> list[int]:
    """Start offsets of every occurrence of `evidence` in `raw` (overlapping ones included)."""
    found = []
    i = raw.find(evidence)
    while i >= 0:
        found.append(i)
        i = raw.find(evidence, i + 1)
    return found


def occurrence_of(raw: str, evidence: str, start: int) -> int:
    """Which occurrence (1-based) of `evidence` in `raw` starts at `start` (0 when none does)."""
    return Occurrences(raw)(evidence, start)


class Occurrences:
    """`occurrence_of` for many figures of one document. `evidences` known up front are found in
    one pass over the text (Aho-Corasick, overlapping matches); others are searched on demand."""

    def __init__(self, raw: str, evidences: Iterable[str] = ()):
        self.raw = raw
        self.found: dict[str, dict[int, int]] = {}
        patterns = sorted({e for e in evidences if e})
        if patterns:
            import ahocorasick_rs

            auto = ahocorasick_rs.AhoCorasick(patterns, matchkind=ahocorasick_rs.MatchKind.Standard)
            starts: dict[int, list[int]] = {}
            for i, start, _ in auto.find_matches_as_indexes(raw, overlapping=True):
                starts.setdefault(i, []).append(start)
            for i, pattern in enumerate(patterns):
                self.found[pattern] = {s: k for k, s in enumerate(sorted(starts.get(i, [])), start=1)}

    def __call__(self, evidence: str, start: int) -> int:
        if evidence not in self.found:
            self.found[evidence] = {s: k for k, s in enumerate(occurrences(self.raw, evidence), start=1)}
        return self.found[evidence].get(start, 0)


def add_occurrences(rows: list[dict[str, object]], raw: str) -> list[dict[str, object]]:
    """Set each fact row's `occurrence` (which occurrence of its evidence in the raw text, the
    corrections.csv key; 0 when its evidence is not at its offsets), in place."""
    found = Occurrences(raw, (str(r["evidence"]) for r in rows if r.get("evidence")))
    for r in rows:
        r["occurrence"] = found(str(r["evidence"]), int(r["start"])) if r.get("evidence") else 0  # type: ignore[arg-type]
    return rows


def with_status(facts: pd.DataFrame) -> pd.DataFrame:
    """The facts with the review columns (`status` extracted, no flags, no correction) if absent."""
    add = {c: pd.array([("extracted" if c == "status" else None)] * len(facts), dtype=t)
           for c, t in REVIEW_COLUMNS.items() if c not in facts.columns}
    return facts.assign(**add) if add else facts


def apply_corrections(
    facts: pd.DataFrame,
    corrections: Iterable[Correction],
    raw_text: Callable[[str], str | None],
    documents: pd.DataFrame | None = None,
) -> Applied:
    """Apply corrections to a facts table (with or without unmapped figures).

    `raw_text(doc)` gives a document's raw text (None: not in this run). `documents` (the
    documents table) gives an added figure's default city and year. Rejected facts stay, with
    status `rejected`; the caller drops them from the facts table.
    """
    df = with_status(facts).reset_index(drop=True)
    corrections = list(corrections)
    if not corrections:
        return Applied(df, [], [], 0)
    dtypes = {c: str(t) for c, t in df.dtypes.items()}
    records = df.to_dict("records")
    stale: list[StaleCorrection] = []
    elsewhere: list[Correction] = []
    added: list[dict[str, object]] = []
    applied = 0
    by_key: dict[tuple[str, int, int], list[int]] = {}
    for i, r in enumerate(records):
        by_key.setdefault((r["doc"], int(r["start"]), int(r["end"])), []).append(i)
    doc_info = _doc_defaults(documents)
    raws: dict[str, str | None] = {}
    for c in corrections:
        if c.doc not in raws:
            raws[c.doc] = raw_text(c.doc)
        raw = raws[c.doc]
        if raw is None:
            elsewhere.append(c)
            continue
        starts = occurrences(raw, c.evidence)
        if not starts:
            stale.append(StaleCorrection(c, "the evidence is not in the document any more"))
            continue
        if c.occurrence > len(starts):
            stale.append(StaleCorrection(c, f"the evidence occurs {_times(len(starts))} in the document, "
                                            f"not {c.occurrence}"))
            continue
        start = starts[c.occurrence - 1]
        end = start + len(c.evidence)
        here = [i for i in by_key.get((c.doc, start, end), []) if records[i]["status"] != "rejected"]
        if c.action == "add":
            same = [i for i in here if records[i]["indicator"] == c.fields["indicator"]]
            if same:
                r = records[same[0]]
                stale.append(StaleCorrection(c, f"the extractor now finds this figure ({_show(r)}): "
                                                "the add would count it twice"))
                continue
            added.append(_added_row(c, raw, start, end, doc_info.get(c.doc, {}), dtypes))
            applied += 1
            continue
        if c.match:
            here = [i for i in here if records[i]["indicator"] == c.match]
        if not here:
            what = f"no {c.match} figure" if c.match else "no extracted figure"
            stale.append(StaleCorrection(c, f"{what} at this evidence any more"))
            continue
        if len(here) > 1:
            ids = ", ".join(sorted({str(records[i]["indicator"]) for i in here}))
            fix = "" if c.match else " (name one in `match`)"
            stale.append(StaleCorrection(c, f"ambiguous: {len(here)} figures share this evidence ({ids}){fix}"))
            continue
        r = records[here[0]]
        if r["status"] in ("corrected", "confirmed"):
            stale.append(StaleCorrection(c, "ambiguous: another correction already changed this figure"))
            continue
        if c.action == "reject":
            r["status"] = "rejected"
        elif c.action == "confirm":
            r["status"] = "confirmed"
        else:
            _set_fields(r, c.fields)
            r["status"] = "corrected"
        r["correction"] = c.provenance()
        applied += 1
    if added:  # each added figure goes after the last fact of its document (others keep their order)
        block = {doc: k for k, doc in enumerate(dict.fromkeys(r["doc"] for r in records))}
        records = sorted(records + added, key=lambda r: block.get(r["doc"], len(block)))
    out = pd.DataFrame(records, columns=list(df.columns)) if records else df.iloc[0:0]
    return Applied(out.astype(dtypes).reset_index(drop=True), stale, elsewhere, applied)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def number_text(value: float) -> str:
    """16122500.0 -> '16122500', 80.5 -> '80.5', never scientific notation for report figures."""
    if math.isnan(value):
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _show(r: Mapping[str, object]) -> str:
    value = r["value"]
    number = number_text(value) if isinstance(value, float) else str(value)
    return f"{r['indicator']} {number} {r['unit'] if not _blank(r['unit']) else ''}".strip()


def _doc_defaults(documents: pd.DataFrame | None) -> dict[str, dict[str, object]]:
    if documents is None or not len(documents):
        return {}
    return {str(r["doc"]): {"city": r.get("city"), "year": r.get("report_year")}
            for r in documents.astype(object).to_dict("records")}


def _set_fields(r: dict[str, object], fields: Mapping[str, object]) -> None:
    r.update(fields)
    ind = indicators().get(str(r.get("indicator")))
    if "indicator" in fields and ind is not None:
        r["direction"] = ind.direction
        r["domain"] = ind.domain
        if "label" in r:
            r["label"] = None


def _sentence(raw: str, start: int, end: int) -> str:
    """The sentence around an added figure: from the last sentence end (constructions/structure.yaml),
    semicolon or line break before it to the next."""
    stops = read_rules()["sentence_ends"] + ";\n"
    s = max(raw.rfind(ch, 0, start) for ch in stops) + 1
    ends = [i for i in (raw.find(ch, end) for ch in stops) if i >= 0]
    e = min(ends) + 1 if ends else len(raw)
    return raw[s:e].strip()


def _added_row(c: Correction, raw: str, start: int, end: int, doc: Mapping[str, object],
               dtypes: Mapping[str, str]) -> dict[str, object]:
    ind = indicators()[str(c.fields["indicator"])]
    kind = str(c.fields.get("kind", "actual"))
    row: dict[str, object] = {col: None for col in dtypes}
    row.update(
        city=None if _blank(doc.get("city")) else doc.get("city"),
        year=None if _blank(doc.get("year")) else doc.get("year"),
        period="annual", unit=ind.unit if kind != "change" else None, kind=kind, approx=False,
        doc=c.doc, start=start, end=end, evidence=raw[start:end], sentence=_sentence(raw, start, end),
    )
    _set_fields(row, c.fields)
    row["status"] = "added"
    row["correction"] = c.provenance()
    return row


# --- writing a correction ------------------------------------------------------------------------

def correction_line(action: str, fact: Mapping[str, object], occurrence: int = 1, match: str | None = None) -> str:
    """The corrections.csv line (no line break) that applies `action` to a fact: `reject` or
    `confirm` (the key only) or `set` (every field filled with the fact's current value, to edit)."""
    values = {c: "" for c in CORRECTION_COLUMNS}
    values.update(doc=str(fact["doc"]), evidence=str(fact["evidence"]), action=action,
                  occurrence="" if occurrence == 1 else str(occurrence), match=match or "")
    if action == "set":
        for name in FIELD_COLUMNS:
            v = fact.get(name)
            if not _blank(v):
                values[name] = number_text(v) if name == "value" and isinstance(v, float) else str(v)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([values[c] for c in CORRECTION_COLUMNS])
    return buf.getvalue()


def header_line() -> str:
    """The header line of corrections.csv."""
    return ",".join(CORRECTION_COLUMNS)
