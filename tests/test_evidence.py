"""The evidence page: figures highlighted in the cleaned text, report text escaped."""

from __future__ import annotations

import re
import subprocess

import pytest

import envcompare
from envcompare.ingest.load import report_from_bytes
from envcompare.present.evidence import evidence_page, show_evidence, with_rows
from envcompare.review.corrections import add_occurrences


def test_every_fact_is_highlighted_with_its_row(corpus):
    facts = envcompare.extract(corpus)
    report = corpus["jinan_2023_report.txt"]
    page = show_evidence(report, facts)
    marks = re.findall(r'<mark data-row="\d+" class="(\w+)" title="([^"]*)">([^<]*)</mark>', page.html)
    doc_facts = facts[facts["doc"] == report.doc]
    assert len(marks) == len(doc_facts.drop_duplicates(["start", "end"]))
    texts = [m[2] for m in marks]
    assert "38微克/立方米" in texts and "1612.25万元" in texts
    kinds = {m[0] for m in marks}
    assert kinds <= {"actual", "target", "change"}
    assert any("gov.fines" in m[1] and "16122500" in m[1] for m in marks)


def test_report_text_is_escaped():
    text = "2023年工作总结\n全市优良天数为300天<script>alert('x')</script>,<img src=x onerror=alert(1)>同比增加5天。"
    report = report_from_bytes(text.encode(), "evil.txt", metadata={"city": "成都"})
    page = show_evidence(report, envcompare.extract(report))
    assert "<script>" not in page.html and "<img" not in page.html
    assert "&lt;script&gt;" in page.html
    assert page.html.count("<mark") == 2


def test_page_renders_in_headless_chromium(corpus, tmp_path, program):
    chromium = program("chromium", "chromium")
    facts = envcompare.extract(corpus)
    page = show_evidence(corpus["wuhan_2022_summary_2023_plan.txt"], facts)
    html_path = page.save(tmp_path / "evidence.html")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1400",
         html_path.as_uri()],
        capture_output=True, timeout=120, check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000


def _worker_rows(report) -> list[dict]:
    """A report's rows as a batch worker draws its page from them: catalog facts with their occurrence."""
    facts = envcompare.extract(report)
    rows = facts.astype(object).where(facts.notna(), None).to_dict("records")
    return add_occurrences(rows, report.raw_text)


def test_a_page_drawn_again_with_new_flags_is_the_page_drawn_from_the_report(corpus):
    """`with_rows` (the build's review, no report read) gives the very page `evidence_page` draws
    from the report: flags with characters to escape, a decision, figures sharing a span."""
    shared_spans = 0
    for report in corpus.reports:
        rows = _worker_rows(report)
        spans = [(r["start"], r["end"]) for r in rows]
        shared_spans += len(spans) - len(set(spans))
        first = evidence_page(report, rows).html
        again = [{**r, "flags": 'conflict: another value (38 ug/m3 in <a "b" & \'c\'.txt>)' if i % 2 else r["flags"],
                  "status": "rejected" if i == 1 else r["status"]} for i, r in enumerate(rows)]
        assert with_rows(first, again).html == evidence_page(report, again).html
        assert with_rows(first, rows).html == first
    assert shared_spans > 0  # the seeds have figures sharing one span (the `match` column of their lines)


def test_a_page_is_not_drawn_again_from_rows_it_was_not_drawn_from(corpus):
    report = corpus["jinan_2023_report.txt"]
    rows = _worker_rows(report)
    page = evidence_page(report, rows).html
    with pytest.raises(ValueError):
        with_rows(page, rows[:-1])  # a figure fewer
    with pytest.raises(ValueError):
        with_rows(page, [{k: v for k, v in r.items() if k != "occurrence"} for r in rows])  # no key to copy
    with pytest.raises(ValueError):
        with_rows("<html>not a page</html>", rows)
