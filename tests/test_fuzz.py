"""Property and fuzz tests (hypothesis): extraction never raises on any text, returns the facts
table with its dtypes, every fact points at the raw characters it came from, dates and document
numbers are never figures, and the Chinese-numeral parser agrees with cn2an's writer.

By default the runs are small and derandomized (the same examples every run, a few seconds in
all). `ENVCOMPARE_FUZZ=1 python -m pytest tests/test_fuzz.py` runs many more, randomly.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import envcompare
from envcompare import FACT_COLUMNS, ReportError
from envcompare.ingest.load import report_from_bytes, report_from_text
from envcompare.review import REVIEWED_UNMAPPED_COLUMNS as UNMAPPED_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
FUZZ = os.environ.get("ENVCOMPARE_FUZZ") == "1"


def budget(n: int) -> settings:
    """n examples by default (derandomized: CI sees the same inputs every run); 40 n when fuzzing."""
    return settings(
        max_examples=n * 40 if FUZZ else n,
        deadline=None,
        database=None,
        derandomize=not FUZZ,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# --- inputs -----------------------------------------------------------------------------------

NEAR_MISSES = [
    "优良天数比例为", "优良天数", "PM2.5", "PM2.5平均浓度为", "PM10", "NO2", "O3-8h第90百分位数", "二氧化氮", "细颗粒物",
    "同比下降", "同比上升", "同比持平", "个百分点", "〔2019〕14号", "武政规〔2019〕14号", "2023年1月", "2023年", "二〇二三年",
    "1-11月", "上半年", "十四五", "“十四五”", "二十大", "微克/立方米", "μg/m³", "%", "％", "。", "，", ",", ";", "：",
    "(", ")", "（", "）", "《", "》", "【", "】", "“", "”", "〔", "〕", "一万零一十二", "1,100万", "1612.25万元", "万元",
    "亿元", "第二", "731074791/2023-02192", "全市", "武汉市", "济南", "全国", "地表水", "国控断面", "水质优良比例", "目标",
    "不高于", "不低于", "达到", "约", "余", "以上", "左右", "分别为", "和", "、", "罚款", "件", "天", "起", "家", "吨",
    "个", "倍", "三点五", "百分之八十", "零", "两", "GB3095-2012", "1.", "2、", "Ⅲ类", "劣Ⅴ类", "0", "100", "-", "—",
    "~", "至", "9" * 40, "1e308", "NaN", "inf", "0.0000001", "１２３", "⑴", "①",
]
NOISE = ["\n", "\r\n", "\r", "\t", " ", "\u3000", "\xa0", "\x00", "\x01", "\x0b", "\x0c", "\x1f", "\x7f", "\x85",
         "\u2028", "\u200b", "\ufeff", "\ufffd", "\U0001f600", "ア", "한", "ф", "é", "Ã¦", "å\x8d", "<p>", "&amp;"]


@lru_cache(maxsize=1)
def seed_sentences() -> list[str]:
    """Real sentences: the rule examples (other cities, years, scripts) and the seed reports."""
    out = []
    for path in sorted((ROOT / "data" / "constructions").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [e["text"] for e in (doc.get("examples") or []) + (doc.get("not_facts") or []) if e.get("text")]
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        out += [s for s in re.split(r"(?<=[。\n])", path.read_text(encoding="utf-8")) if re.search(r"\d", s)]
    return out


pieces = st.one_of(
    st.sampled_from(NEAR_MISSES),
    st.sampled_from(NOISE),
    st.text(max_size=6),
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.3f}"),
)
arbitrary_text = st.lists(pieces, max_size=50).map("".join)


@st.composite
def mutated_sentences(draw) -> str:
    """Real sentences with pieces inserted, spans deleted and numbers swapped for wild ones."""
    text = "".join(draw(st.lists(st.sampled_from(seed_sentences()), min_size=1, max_size=3)))
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "number"]))
        if action == "insert":
            text = text[:i] + draw(pieces) + text[i:]
        elif action == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 8)) :]
        else:
            wild = str(draw(st.one_of(st.integers(0, 10**25), st.floats(0, 1e30, allow_nan=False))))
            text = re.sub(r"\d+(?:\.\d+)?", lambda _m, w=wild: w, text, count=1)
    return text


def check_facts(report, unmapped: bool) -> None:
    facts = envcompare.extract(report, unmapped=unmapped)
    columns = UNMAPPED_COLUMNS if unmapped else FACT_COLUMNS
    assert list(facts.columns) == list(columns)
    assert {c: str(t) for c, t in facts.dtypes.items()} == columns
    raw = report.raw_text
    for row in facts.itertuples(index=False):
        assert 0 <= row.start <= row.end <= len(raw)
        assert row.evidence == raw[row.start : row.end]
        assert row.doc == report.doc
        assert row.value == row.value  # not NaN


def load_or_none(text: str):
    try:
        return report_from_text(text, "fuzz.txt")
    except ReportError as exc:  # the only way loading may fail, and it names the document
        assert exc.path == "fuzz.txt" and exc.reason
        return None


# --- properties -------------------------------------------------------------------------------


@budget(120)
@given(arbitrary_text, st.booleans())
@example("优良天数比例为80.5%\x00，同比下降1.2个百分点〔2019〕14号", True)
@example("PM2.5" + "9" * 400 + "微克/立方米", False)
@example("((((((((优良天数比例为((80%))))", True)
def test_extract_never_raises_on_arbitrary_text(text, unmapped):
    report = load_or_none(text)
    if report is not None:
        check_facts(report, unmapped)


@budget(120)
@given(mutated_sentences(), st.booleans())
def test_extract_never_raises_on_mutated_report_sentences(text, unmapped):
    report = load_or_none(text)
    if report is not None:
        check_facts(report, unmapped)


@budget(40)
@given(mutated_sentences(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030", "big5"]), st.sampled_from(["text", "html", "markdown"]))
def test_bytes_in_any_encoding_load_or_fail_by_name(text, encoding, fmt):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    try:
        report = report_from_bytes(data, "fuzz.bin", fmt=fmt)
    except ReportError as exc:
        assert exc.path == "fuzz.bin"
        return
    check_facts(report, unmapped=True)


# dates and document numbers next to indicator names: their digits are never a figure
DATE_LIKE = st.one_of(
    st.builds("{}年{}月".format, st.integers(1990, 2035), st.integers(1, 12)),
    st.builds("{}年{}月{}日".format, st.integers(1990, 2035), st.integers(1, 12), st.integers(1, 31)),
    st.builds("{}年".format, st.integers(1990, 2035)),
    st.builds("{}年度".format, st.integers(1990, 2035)),
    st.builds("{}年{}-{}月".format, st.integers(1990, 2035), st.integers(1, 6), st.integers(7, 12)),
    st.builds("{}〔{}〕{}号".format, st.sampled_from(["武政规", "环办", "鲁环发", "济环字", ""]), st.integers(1990, 2035), st.integers(1, 300)),
    st.builds("{}[{}]{}号".format, st.sampled_from(["环发", "闽环保"]), st.integers(1990, 2035), st.integers(1, 300)),
    st.builds("第{}条".format, st.integers(1, 99)),
    st.builds("{}-{:02d}-{:02d}".format, st.integers(1990, 2035), st.integers(1, 12), st.integers(1, 31)),
    # written dates end at a space or punctuation (2023/1/5个百分点 is no sentence anyone writes)
    st.builds("{}/{}/{}{}".format, st.integers(1990, 2035), st.integers(1, 12), st.integers(1, 31), st.sampled_from(" ，。,")),
    st.builds("{}.{}.{}".format, st.integers(1990, 2035), st.integers(1, 12), st.integers(1, 31)),
    st.builds("{}年{}月{}日{}时".format, st.integers(1990, 2035), st.integers(1, 12), st.integers(1, 31), st.integers(0, 23)),
    st.builds("{}年第{}季度".format, st.integers(1990, 2035), st.integers(1, 4)),
    st.builds("{}—{}年".format, st.integers(1990, 2030), st.integers(2020, 2035)),
    st.builds("{}{}年".format, st.sampled_from(["二〇二三", "二〇一九", "二〇二五"]), st.just("")),
)
CONTEXT = st.sampled_from([
    "全市", "优良天数比例为", "优良天数", "PM2.5平均浓度", "同比下降", "同比上升", "个百分点", "微克/立方米", "%", "天",
    "根据", "印发", "《", "》", "(", ")", ",", "。", "，", "目标", "不高于", "达到", "截至", "以来", "自", "起", "完成", "罚款", "万元",
])


@budget(150)
@given(st.lists(st.one_of(DATE_LIKE.map(lambda s: ("date", s)), CONTEXT.map(lambda s: ("ctx", s))), min_size=1, max_size=14))
def test_dates_and_document_numbers_are_never_facts(parts):
    text, spans, pos = "", [], 0
    for kind, s in parts:
        if kind == "date":
            spans.append((pos, pos + len(s)))
        text += s
        pos += len(s)
    report = load_or_none(text)
    assume(report is not None)
    assert report.raw_text == text
    facts = envcompare.extract(report, unmapped=True)
    for row in facts.itertuples(index=False):
        for a, b in spans:
            assert not (a <= row.start < b), (text, row.evidence, row.value)


# --- the Chinese-numeral parser ---------------------------------------------------------------


@budget(300)
@given(st.integers(0, 2**53))
@example(10_012)
@example(10)
@example(100_000_000)
@example(1_000_000_000_001)
def test_chinese_numerals_round_trip_through_cn2an(n):
    cn2an = pytest.importorskip("cn2an")
    from envcompare.extraction.numbers import parse_chinese_number

    assert parse_chinese_number(cn2an.an2cn(n, "low")) == n


@budget(150)
@given(st.integers(0, 10**8), st.integers(0, 10**6))
def test_chinese_decimals_round_trip_through_cn2an(whole, frac):
    cn2an = pytest.importorskip("cn2an")
    from envcompare.extraction.numbers import parse_chinese_number

    written = f"{whole}.{frac:06d}".rstrip("0").rstrip(".")
    assert parse_chinese_number(cn2an.an2cn(written, "low")) == pytest.approx(float(written), rel=1e-12)


@budget(150)
@given(st.text(alphabet="零〇一二两三四五六七八九十百千万亿点", max_size=12))
def test_chinese_numeral_parser_never_raises(text):
    from envcompare.extraction.numbers import parse_chinese_number

    value = parse_chinese_number(text)
    assert value is None or (isinstance(value, float) and value >= 0)
