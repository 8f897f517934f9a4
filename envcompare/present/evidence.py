"""See the evidence: a report as HTML with every extracted figure highlighted.

The cleaned text is shown (what extraction read); each figure is marked where its raw-text
evidence falls, coloured by kind, and carries its row (indicator, value, unit, year, period) in a
tooltip. All report text is escaped: a scraped page is untrusted and never becomes markup.

The page is also the review tool (README: Review and correct): each figure shows its status
(extracted, corrected, added, confirmed, rejected) and review flags, corrected and added figures
are outlined, rejected ones struck through, and each offers the corrections.csv lines to copy
(reject, set, confirm). Plain HTML: no script, works offline.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..ingest.load import Report
from ..review.corrections import Occurrences, correction_line, header_line
from .output import atomic_write

KIND_COLOURS = {"actual": "#cfe8d5", "target": "#d6e4f5", "change": "#f8e3c4", "derived": "#eeeeee"}
STYLE = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 60em; margin: 2em auto; line-height: 1.8; color: #222; }
.report p { margin: 0.4em 0; }
mark { border-radius: 3px; padding: 0 2px; }
mark.actual { background: %(actual)s; } mark.target { background: %(target)s; }
mark.change { background: %(change)s; } mark.derived { background: %(derived)s; }
.legend span { display: inline-block; padding: 0 0.6em; margin-right: 0.6em; border-radius: 3px; }
table { border-collapse: collapse; font-size: 0.9em; margin-top: 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
mark.corrected, mark.added, mark.confirmed { outline: 2px solid #7b3fa0; }
mark.added { outline-style: double; outline-width: 3px; }
mark.confirmed { outline-color: #2e7d32; }
mark.rejected { background: none; color: #888; text-decoration: line-through; }
mark.flagged { border-bottom: 3px double #c62828; }
tr.corrected td, tr.added td { background: #f3e8fa; }
tr.confirmed td { background: #e8f5e9; }
tr.rejected td { color: #888; text-decoration: line-through; }
tr.rejected td.fix, tr.rejected td.status { text-decoration: none; }
td.flags { color: #c62828; font-size: 0.85em; max-width: 22em; }
td.fix { font-size: 0.85em; min-width: 18em; } td.fix code { display: block; white-space: pre-wrap;
  word-break: break-all; background: #f6f6f6; padding: 0.2em 0.4em; margin: 0.2em 0; user-select: all; }
.review { background: #fafafa; border-left: 4px solid #7b3fa0; padding: 0.4em 0.8em; font-size: 0.9em; }
""" % KIND_COLOURS


@dataclass(frozen=True)
class EvidencePage:
    """An HTML page; shows itself in Jupyter."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"EvidencePage({self.html.count('<mark')} highlighted figures)"

    def save(self, path: str | Path) -> Path:
        return atomic_write(Path(path), lambda p: p.write_text(self.html, encoding="utf-8"))


def fmt(value: float) -> str:
    """16122500.0 -> 16122500, 80.5 -> 80.5 (never scientific notation)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.10g}"


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _tooltip(row: Mapping[str, object]) -> str:
    parts = [str(row["indicator"]) if not _missing(row["indicator"]) else str(row.get("label", "")),
             f"{fmt(row['value'])} {row['unit'] if not _missing(row['unit']) else ''}".strip(),
             str(row["kind"]), f"{row['year']}" if not _missing(row["year"]) else "", str(row["period"])]
    if not _missing(row.get("comparator")):
        parts.insert(2, f"target {row['comparator']}")
    if _status(row) != "extracted":
        parts.append(_status(row))
    if not _missing(row.get("flags")):
        parts.append("flags: " + str(row["flags"]))
    return " · ".join(p for p in parts if p)


TABLE_COLUMNS = ("indicator", "value", "unit", "kind", "comparator", "year", "period", "city", "evidence")
REVIEW_HEADERS = ("status", "flags", "correct")


def _status(row: Mapping[str, object]) -> str:
    status = row.get("status")
    return "extracted" if _missing(status) else str(status)


def _classes(row: Mapping[str, object]) -> str:
    """The mark's classes: its kind, its status unless extracted, `flagged` when it has flags."""
    out = [str(row["kind"])]
    if _status(row) != "extracted":
        out.append(_status(row))
    if not _missing(row.get("flags")):
        out.append("flagged")
    return " ".join(out)


def _fix_cell(row: Mapping[str, object], occurrence: int, match: str | None) -> str:
    """The corrections.csv lines for this figure, to copy (escaped; no script)."""
    if _missing(row.get("evidence")) or occurrence < 1:
        return ""
    if _status(row) != "extracted":  # one decision per figure: its row of corrections.csv is edited, not added to
        return (f"<div>{html.escape(str(row.get('correction') or _status(row)))}</div>"
                "<div>(edit that row of corrections.csv to change the decision)</div>")
    actions = ["reject", "set"] + (["confirm"] if not _missing(row.get("flags")) else [])
    lines = "".join(
        f"<code>{html.escape(correction_line(a, row, occurrence, match))}</code>" for a in actions
    )
    return f"<details><summary>{' / '.join(actions)}</summary>{lines}</details>"


def _cell(row: Mapping[str, object], col: str) -> str:
    value = row[col]
    if _missing(value):
        return ""
    return fmt(value) if col == "value" else str(value)


def show_evidence(report: Report, facts: pd.DataFrame) -> EvidencePage:
    """The report's cleaned text with its facts highlighted (facts: rows of `extract`)."""
    rows = facts[facts["doc"] == report.doc].to_dict("records")
    return evidence_page(report, rows)


def evidence_page(report: Report, rows: Sequence[Mapping[str, object]]) -> EvidencePage:
    """The page for one report from its fact rows (dicts with the facts table's columns).

    A pure function of the report and its rows, so batch workers can build it beside extraction.
    Each mark names its row of the table (`data-row`), so that `with_rows` can draw the page
    again from rows that differ only in their review (status, flags) without the report.
    """
    rows = _in_page_order(rows)
    offsets = report.cleaned.offsets
    text = report.text
    marks: list[tuple[int, int, int]] = []  # (start, end, row number) in the cleaned text
    last_end = -1
    for number, row in enumerate(rows):
        s = bisect.bisect_left(offsets, int(row["start"]))
        e = bisect.bisect_left(offsets, int(row["end"]))
        if s >= last_end and e > s:
            marks.append((s, e, number))
            last_end = e
    out: list[str] = []
    pos = 0
    for s, e, number in marks:
        out.append(html.escape(text[pos:s]))
        out.append(f"{_mark_tag(number, rows[number])}{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    body = "".join(out).split("\n")
    paragraphs = "\n".join(f"<p>{line}</p>" for line in body if line.strip())
    occurrence = Occurrences(report.raw_text, (str(r["evidence"]) for r in rows
                                               if "occurrence" not in r and not _missing(r.get("evidence"))))
    title = html.escape(report.meta.title or report.doc)
    page = (
        f"<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{title}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{title}</h1>{_summary(rows)}<div class=\"report\">{paragraphs}</div>"
        "<h2>Figures found</h2><table><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in (*TABLE_COLUMNS, *REVIEW_HEADERS))
        + f"</tr></thead><tbody>{_table_rows(rows, occurrence)}</tbody></table></body></html>"
    )
    return EvidencePage(page)


def with_rows(page: str, rows: Sequence[Mapping[str, object]]) -> EvidencePage:
    """The page `evidence_page` draws from `rows`, made from a page it drew for the same report
    from rows with the same figures at the same offsets, in the same order (say, before the
    corpus-wide review flags were known): the marks' classes and tooltips, the summary and the
    table are drawn again, the report's text is kept. No report is read, so each row carries its
    `occurrence` (the corrections.csv key). ValueError when the page is not such a page."""
    rows = _in_page_order(rows)
    if any("occurrence" not in r or _missing(r["occurrence"]) for r in rows):
        raise ValueError("each row needs its occurrence")
    summary, report_at = page.find(_SUMMARY_START), page.find(_REPORT_START)
    table, table_end = page.rfind("<tbody>"), page.rfind("</tbody>")
    if not 0 <= summary < report_at < table < table_end or page.count("<tr class=", table, table_end) != len(rows):
        raise ValueError("not an evidence page of these rows")

    def mark(found: re.Match[str]) -> str:
        number = int(found.group(1))
        if number >= len(rows):
            raise ValueError("a mark names a row the rows do not have")
        return _mark_tag(number, rows[number])

    text = _MARK_TAG.sub(mark, page[report_at:table])
    drawn = [row + "</tr>" for row in page[table + len("<tbody>") : table_end].split("</tr>")[:-1]]
    return EvidencePage(page[:summary] + _summary(rows) + text + "<tbody>"
                        + _table_rows(rows, lambda evidence, start: 0, drawn) + page[table_end:])


_SUMMARY_START = '<p class="legend">'
_REPORT_START = '<div class="report">'
_MARK_TAG = re.compile(r'<mark data-row="(\d+)" class="[^"<>]*" title="[^"<>]*">')  # attributes are escaped


def _in_page_order(rows: Sequence[Mapping[str, object]]) -> list[Mapping[str, object]]:
    return sorted(rows, key=lambda r: (int(r["start"]), int(r["end"])))  # stable: ties keep row order


def _mark_tag(number: int, row: Mapping[str, object]) -> str:
    """A figure's mark in the text: its row number in the table, classes and tooltip."""
    return f'<mark data-row="{number}" class="{html.escape(_classes(row))}" title="{html.escape(_tooltip(row))}">'


def _summary(rows: Sequence[Mapping[str, object]]) -> str:
    """The legend and the review note: figures, flagged figures, review decisions, how to correct."""
    legend = "".join(f'<span style="background:{c}">{k}</span>' for k, c in KIND_COLOURS.items() if k != "derived")
    live = [r for r in rows if _status(r) != "rejected"]
    counts = {k: sum(1 for r in rows if _status(r) == k) for k in ("corrected", "added", "confirmed", "rejected")}
    return (
        f"{_SUMMARY_START}{legend} — {len(live)} figures; hover a figure for its row.</p>"
        f'<p class="review">{sum(1 for r in live if not _missing(r.get("flags")))} figures flagged for review '
        "(double red underline)"
        + "".join(f"; {n} {k}" for k, n in counts.items() if n)
        + ". To correct a figure, open its <em>reject / set</em> line in the table, copy it into "
        "<code>corrections.csv</code> beside the reports (first line: "
        f"<code>{html.escape(header_line())}</code>), edit the fields of a <em>set</em> line, and build again.</p>"
    )


def _table_rows(rows: Sequence[Mapping[str, object]], occurrence: Callable[[str, int], int],
                drawn: Sequence[str] | None = None) -> str:
    """The table of figures: each row's columns, status, flags and corrections.csv lines
    (`occurrence(evidence, start)` for rows without their `occurrence`). `drawn`: the same rows
    as a page drew them; one whose status (extracted) and flags are the same is kept as it is."""
    shared: dict[tuple[int, int], int] = {}  # facts per evidence span: `match` is needed when several share one
    for row in rows:
        key = (int(row["start"]), int(row["end"]))
        shared[key] = shared.get(key, 0) + 1
    out = []
    for i, row in enumerate(rows):
        review = _review_cells(row)
        if drawn is not None and _status(row) == "extracted" and review in drawn[i]:
            out.append(drawn[i])
        else:
            out.append(_table_row(row, review, occurrence, shared[(int(row["start"]), int(row["end"]))] > 1))
    return "".join(out)


def _review_cells(row: Mapping[str, object]) -> str:
    """A table row's status and flags cells."""
    return (f'<td class="status">{html.escape(_status(row))}</td>'
            f'<td class="flags">{html.escape("" if _missing(row.get("flags")) else str(row["flags"]))}</td>')


def _table_row(row: Mapping[str, object], review: str, occurrence: Callable[[str, int], int], shares_span: bool) -> str:
    """One figure's table row: its columns, its review cells, its corrections.csv lines (with
    `match` when another figure shares its span)."""
    return (
        f'<tr class="{html.escape(_status(row))}">' + "".join(
            f'<td class="{"num" if col == "value" else ""}">{html.escape(_cell(row, col))}</td>' for col in TABLE_COLUMNS
        )
        + review
        + '<td class="fix">' + _fix_cell(
            row, int(row["occurrence"]) if "occurrence" in row and not _missing(row["occurrence"])  # type: ignore[call-overload]
            else occurrence(str(row["evidence"]), int(row["start"])) if not _missing(row.get("evidence")) else 0,
            str(row["indicator"]) if shares_span and not _missing(row["indicator"]) else None,
        ) + "</td></tr>"
    )
