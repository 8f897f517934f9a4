"""Clean stage: rule examples (tests/examples/clean.yaml) and the seeds' own boilerplate."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml

from envcompare.ingest.clean import clean, to_simplified

EXAMPLES = yaml.safe_load((Path(__file__).parent / "examples" / "clean.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["line"][:24] for e in EXAMPLES])
def test_clean_rule_examples(example):
    # the line sits between two ordinary paragraphs, as on a page
    before, after = "正文第一段,全市环境质量持续改善。", "正文最后一段,各项任务全面完成。"
    raw = f"{before}\n{example['line']}\n{after}\n"
    cleaned = clean(raw)
    lines = cleaned.text.split("\n")
    if example["drop"] is None:
        assert lines == [before, example["text"], after]
    else:
        assert lines == [before, after]
        reasons = {r.reason for r in cleaned.removed if r.text == example["line"]}
        assert reasons == {example["drop"]}


def _norm(ch: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", ch)).lower()


def test_offset_map_points_at_the_same_character(corpus):
    for report in corpus:
        text, offsets, raw = report.text, report.cleaned.offsets, report.raw_text
        assert len(offsets) == len(text)
        for i, ch in enumerate(text):
            if ch == "\n":
                assert raw[offsets[i]] in "\r\n", (report.doc, i)
            else:
                assert ch.lower() in _norm(raw[offsets[i]]), (report.doc, i, ch)


def test_raw_span_of_a_phrase_is_the_raw_phrase(corpus):
    report = corpus["wuhan_2022_summary_2023_plan.txt"]
    i = report.text.index("细颗粒物(PM2.5)")
    s, e = report.raw_span(i, i + len("细颗粒物(PM2.5)"))
    assert report.raw_text[s:e] == "细颗粒物(pm2.5)"


@pytest.mark.parametrize(
    "doc, gone",
    [
        ("wuhan_2022_summary_2023_plan.txt", ["ag凯发娱乐", "打印", "收藏", "文件下载", "网站地图", "索 引 号", "效力状态"]),
        ("qianjiang_2023_plan.txt", ["扫一扫", "我要纠错", "关闭窗口", "发布日期", "索"]),
        ("wuhan_2019_article.txt", ["更多>>", "民法典", "普法", "上一篇", "下一篇", "浏览次数"]),
        ("fuzhou_2022_plan.txt", ["| | |", "相关链接", "来源:生态环境局"]),
    ],
)
def test_seed_boilerplate_is_gone(corpus, doc, gone):
    text = corpus[doc].text
    for fragment in gone:
        if fragment == "索":
            assert not text.startswith("索")
        else:
            assert fragment not in text, fragment


def test_repeated_sections_appear_once(corpus):
    report = corpus["wuhan_2019_article.txt"]
    raw_count = report.raw_text.count("一、以完善体制机制为抓手")
    assert raw_count == 2  # the scrape repeats the article's four sections
    for heading in ["一、以完善体制机制为抓手", "二、以大数据信息化平台建设为基础", "三、以解决短板为核心", "四、以减少排放为重点"]:
        assert report.text.count(heading) == 1
    assert report.text.count("全市共建设35个水质自动监测站") == 1
    # the body after the repeats is still there
    assert "编制完成“四个清单”" in report.text


def test_title_kept_once_without_spam(corpus):
    text = corpus["wuhan_2022_summary_2023_plan.txt"].text
    assert text.split("\n")[0] == "武汉市生态环境局2022年工作总结和2023年工作安排"
    assert text.count("武汉市生态环境局2022年工作总结和2023年工作安排") == 1


def test_short_headings_that_recur_legitimately_are_kept():
    raw = "一、主要目标\n空气质量持续改善。\n二、重点任务\n一、主要目标\n水质稳定达标。\n"
    assert clean(raw).text.count("一、主要目标") == 2


@pytest.mark.parametrize(
    "pattern, anchored",
    [("^扫一扫", True), ("^(上一篇|下一篇)", True), ("^a|b", False), ("更多", False), (r"^\|x", True),
     (r"^\(|x", False), ("^[|]x", True), ("^[]|]x", True), ("^[^]|]x", True), ("^[(]|x", False)],
)
def test_anchored_boilerplate_patterns_are_told_apart(pattern, anchored):
    # an anchored pattern is only tried at the line start: a top-level | must keep it searched
    from envcompare.ingest.clean import _anchored

    assert _anchored(pattern) is anchored


def test_boilerplate_split_matches_one_search_over_all_patterns():
    import re

    from envcompare.ingest.clean import _boilerplate
    from envcompare.vocab.resources import read_yaml

    combined = re.compile("|".join(f"(?:{p})" for p in read_yaml("clean.yaml")["boilerplate_lines"]))
    lines = [e["line"] for e in EXAMPLES] + ["打印 关闭", "相关链接:", "查看更多>>", "全市更多 >", "正文:更多»", "首页>新闻", "x首页>"]
    for line in lines:
        assert _boilerplate(line) == bool(combined.search(line)), line


def test_headlines_under_a_link_list_heading_are_dropped():
    """The headlines of other pages under 相关阅读 (or 推荐阅读…) hold their figures, not this page's;
    prose after them is kept."""
    from envcompare.ingest.clean import clean

    raw = ("1-5月,全市优良天数比例为88.2%。\n\n推荐阅读\n"
           "宜昌:一季度PM2.5浓度同比下降8.1%\n恩施州空气质量优良天数比例达99%\n"
           "附:本期监测数据由市环境监测站提供。\n")
    text = clean(raw).text
    assert "88.2%" in text and "附:本期监测数据由市环境监测站提供。" in text
    assert "宜昌" not in text and "99%" not in text and "推荐阅读" not in text
