"""The evidence page: figures highlighted in the cleaned text, report text escaped."""

from __future__ import annotations

import re
import subprocess

import envcompare
from envcompare.ingest.load import report_from_bytes
from envcompare.present.evidence import show_evidence


def test_every_fact_is_highlighted_with_its_row(corpus):
    facts = envcompare.extract(corpus)
    report = corpus["jinan_2023_report.txt"]
    page = show_evidence(report, facts)
    marks = re.findall(r'<mark class="(\w+)" title="([^"]*)">([^<]*)</mark>', page.html)
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
