"""Policy-text stage (envcompare/text.py): segmentation, themes, attention, keywords, plan vs summary."""

from __future__ import annotations

import gc
import itertools
import logging
import math
import pickle
import random
from collections import Counter
from dataclasses import replace
from functools import cache
from pathlib import Path

import jieba
import jieba.finalseg
import pandas as pd
import pytest

from envcompare.ingest.load import load_reports, report_from_bytes
from envcompare.policytext import text
from envcompare.vocab.resources import read_yaml

SHARED_DOCS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "docs"


def _jieba_global_state() -> tuple:
    """What another caller of jieba could observe: the default tokenizer, HMM force-splits, logger."""
    dt = jieba.dt
    return (
        dt.initialized,
        len(dt.FREQ),
        dt.total,
        dict(dt.user_word_tag_tab),
        frozenset(jieba.finalseg.Force_Split_Words),
        jieba.default_logger.level,
    )


# taken at collection, before any test has built the segmenter
GLOBAL_AT_IMPORT = _jieba_global_state()
BUILT_AT_IMPORT = text._segmenter_cached.cache_info().currsize > 0


def _report(body: str, doc: str = "hand.txt", city: str = "甲", doc_type: str = "summary", year: int = 2023):
    return report_from_bytes(
        body.encode("utf-8"), doc, metadata={"city": city, "doc_type": doc_type, "report_year": year}
    )


def _userdict_terms() -> list[str]:
    return [row[0] for row in text._read_word_list("userdict.txt")]


@cache
def _reference_segmenter() -> text._Segmenter:
    """jieba itself with the same dictionary: the segmentation every other cutter must equal."""
    return text._Segmenter("jieba")


# ---------------------------------------------------------------- segmentation


def test_the_compiled_segmenter_is_the_default():
    assert read_yaml("text/segment.yaml")["segmenter"] == "rjieba"
    assert type(text._segmenter().cutter).__name__ == "_RustCutter"


def test_an_unknown_segmenter_is_refused():
    with pytest.raises(ValueError, match="segmenter 'hanlp'"):
        text._Segmenter("hanlp")


@pytest.mark.parametrize("folder", [
    pytest.param(Path(__file__).resolve().parent.parent / "seeds", id="seeds"),
    pytest.param(SHARED_DOCS, id="shared", marks=pytest.mark.skipif(not SHARED_DOCS.is_dir(), reason="no ../shared/corpus")),
])
def test_the_default_segmenter_cuts_exactly_as_jieba(folder):
    """The compiled port is used only because its tokens equal jieba's (same dictionary, HMM as
    configured) on whole reports: every token of every report, in order."""
    seg, reference = text._segmenter(), _reference_segmenter()
    reports = load_reports(folder)
    assert len(reports) >= 5
    for report in reports:
        assert seg.cutter.cut(report.text, text.HMM) == reference.cutter.cut(report.text, text.HMM), report.doc
        assert seg.tokens(report.text) == reference.tokens(report.text), report.doc


def test_dictionary_words_stay_whole_in_both_segmenters():
    # written for this test: theme and user-dictionary terms between common neighbours
    sentence = "全面推进无废城市建设,加强入河排污口整治,开展挥发性有机物综合治理"
    for seg in (text._segmenter(), _reference_segmenter()):
        tokens = seg.tokens(sentence)
        assert "无废城市" in tokens and "挥发性有机物" in tokens, type(seg.cutter).__name__


def test_jieba_global_default_untouched():
    text.segment("推进无废城市建设,持续开展入河排污口整治")
    if BUILT_AT_IMPORT:  # something built it before this module was imported: rebuild to observe
        before = _jieba_global_state()
        text._segmenter_cached.cache_clear()
        text.segment("无废城市")
    else:
        before = GLOBAL_AT_IMPORT
    assert _jieba_global_state() == before
    reference = text._Segmenter("jieba")  # the reference segmenter: jieba's own tokenizer
    assert _jieba_global_state() == before
    assert reference.cutter.tokenizer is not jieba.dt
    assert reference.cutter.tokenizer.FREQ.get("无废城市")
    if jieba.dt.initialized:  # another caller's tokenizer does not know our words
        assert not jieba.dt.FREQ.get("环评告知承诺")


def test_segmenter_initialised_once():
    first = text._segmenter()
    misses = text._segmenter_cached.cache_info().misses
    for s in ("空气质量", "水质", "党建"):
        text.segment(s)
    assert text._segmenter() is first
    assert text._segmenter_cached.cache_info().misses == misses


def test_userdict_is_large_and_has_the_issue_terms():
    terms = _userdict_terms()
    assert len(terms) >= 80
    assert len(set(terms)) == len(terms)
    for t in [
        "细颗粒物",
        "排污许可",
        "无废城市",
        "生态保护红线",
        "长江大保护",
        "碳达峰",
        "碳中和",
        "入河排污口",
        "黑臭水体",
        "河湖长制",
        "环评告知承诺",
        "化学需氧量",
        "挥发性有机物",
        "生态环境损害赔偿",
        "督察整改",
    ]:
        assert t in terms


SAMPLE_SENTENCES = [
    "推进{}工作",
    "全市{}情况良好。",
    "以{}为重点,",
    "加强{}和管理",
    "对{}进行排查",
    "做好{}的各项工作",
    "持续开展{}专项行动",
    "{}",
]


@pytest.mark.parametrize("template", SAMPLE_SENTENCES)
def test_userdict_terms_stay_whole(template):
    broken = [
        (t, text.segment(template.format(t))) for t in _userdict_terms() if t not in text.segment(template.format(t))
    ]
    assert broken == []


@pytest.mark.parametrize(
    "sentence, term",
    [
        ("完成498个长江入河排污口整治任务", "入河排污口"),
        ("化学需氧量、挥发性有机物(VOCs)重点工程减排任务", "化学需氧量"),
        ("化学需氧量、挥发性有机物(VOCs)重点工程减排任务", "挥发性有机物"),
        ("严格落实“三会一课”、主题党日等制度", "三会一课"),
        ("全市以环评告知承诺方式审批项目占比60%以上", "环评告知承诺"),
        ("组织启动生态环境损害赔偿案件141件并办结37件", "生态环境损害赔偿"),
        ("开展生态保护红线保护成效年度评估", "生态保护红线"),
        ("持续推进长江大保护,深化河湖长制", "长江大保护"),
        ("持续推进长江大保护,深化河湖长制", "河湖长制"),
        ("细颗粒物(PM2.5)浓度为38微克/立方米", "细颗粒物"),
        ("均无劣V类水质断面", "劣V类"),
        ("以学习贯彻习近平新时代中国特色社会主义思想主题教育为主线", "习近平新时代中国特色社会主义思想"),
    ],
)
def test_terms_whole_in_report_sentences(sentence, term):
    assert term in text.segment(sentence)


def test_every_theme_and_attention_word_is_one_token():
    words = [w for t in text.themes() for w in t.words] + list(text.attention_words())
    assert [w for w in words if text.segment(w) != [w]] == []


def test_figures_and_units_are_single_tokens():
    toks = text.segment(
        "PM2.5PM10年平均浓度分别不高于20.5、37微克每立方米,优良天数比例为80.5%,同比增加1.3个百分点,"
        "共处罚款1612.25万元,报废老旧汽油车2万辆,单位:微克/立方米,2022年底前完成"
    )
    for t in [
        "PM2.5",
        "PM10",
        "20.5",
        "37微克每立方米",
        "80.5%",
        "1.3个百分点",
        "1612.25万元",
        "2万辆",
        "微克/立方米",
        "2022年",
    ]:
        assert t in toks
    content = text.segment("细颗粒物(PM2.5)浓度为38微克/立方米,同比下降5.4%", content=True)
    assert content == ["细颗粒物", "PM2.5", "浓度", "下降"]  # figures and units are not content words


def test_stop_words_are_not_content():
    stop = text._stopwords()
    for w in ["坚持", "推进", "加强", "深入", "全面", "工作", "开展", "的", "和"]:
        assert w in stop
    assert text.segment("坚持深入推进和全面加强工作,开展的", content=True) == []


# ---------------------------------------------------------------- themes

HAND = (
    "一、工作成效\n"
    "空气质量明显改善,入海排污口整治完成。\n"
    "加强执法检查和党建工作(牵头单位:监测站、执法科)。\n"
    "二、下一步工作安排\n"
    "水质稳定达标,水更清。\n"
)
# Content words by sentence (stop words 完成 加强 和 工作 下一步 安排 更 dropped; the bracketed list of
# responsible units is ignored, so 监测站 and 执法科 count for nothing; the headings keep no content word):
#   s1 (done): 空气质量 明显改善 入海排污口 整治       -> air 1 (空气质量), marine 1 (入海排污口: its longest
#                                                       theme word is 入海排污口, not water's 排污口)
#   s2 (done): 执法检查 党建                           -> enforcement 1 (执法检查 contains 执法), party 1
#   s3 (plan): 水质 稳定 达标 水 清                      -> water 2 (水质; 水 = the one-character word)
# 11 content words in 3 sentences:
#   token shares  air 1/11, marine 1/11, enforcement 1/11, party 1/11, water 2/11, every other theme 0
#   sentence shares  air, marine, enforcement, party, water 1/3 each
HAND_TOKENS = {"air": 1, "marine": 1, "enforcement_inspection": 1, "party_discipline": 1, "water": 2}
HAND_SENTENCES = {"air": 1, "marine": 1, "enforcement_inspection": 1, "party_discipline": 1, "water": 1}


def test_theme_shares_of_a_hand_written_document():
    df = text.theme_shares([_report(HAND)])
    doc = df[df["level"] == "document"].set_index("theme")
    assert list(doc.index) == [t.id for t in text.themes()]
    assert (doc["content_tokens"] == 11).all() and (doc["total_sentences"] == 3).all()
    for theme, row in doc.iterrows():
        assert row["tokens"] == HAND_TOKENS.get(theme, 0), theme
        assert row["token_share"] == pytest.approx(HAND_TOKENS.get(theme, 0) / 11), theme
        assert row["sentence_share"] == pytest.approx(HAND_SENTENCES.get(theme, 0) / 3), theme
    city = df[df["level"] == "city_year"].set_index("theme")
    pd.testing.assert_series_equal(city["token_share"], doc["token_share"])
    assert city["doc"].isna().all() and (city["documents"] == 1).all()


def test_city_year_pools_counts_not_shares():
    a = _report("空气质量改善。水质达标。", doc="a.txt")  # 空气质量 改善 | 水质 达标: 4 words, air 1
    b = _report("臭氧污染防控。", doc="b.txt")  # 臭氧污染 防控: 2 words, air 1
    df = text.theme_shares([a, b])
    air = df[(df["level"] == "city_year") & (df["theme"] == "air")].iloc[0]
    assert (air["tokens"], air["content_tokens"], air["documents"]) == (2, 6, 2)
    assert air["token_share"] == pytest.approx(2 / 6)  # pooled, not the mean of 1/4 and 1/2


def test_plan_vs_summary_of_the_hand_document():
    df = text.plan_vs_summary([_report(HAND)]).set_index(["part", "theme"])
    assert df.loc[("done", "air"), "content_tokens"] == 6  # s1 + s2
    assert df.loc[("done", "air"), "token_share"] == pytest.approx(1 / 6)
    assert df.loc[("done", "party_discipline"), "sentence_share"] == pytest.approx(1 / 2)
    assert df.loc[("done", "water"), "tokens"] == 0
    assert df.loc[("plan", "water"), "token_share"] == pytest.approx(2 / 5)  # s3 under 二、下一步工作安排
    assert df.loc[("plan", "water"), "sentence_share"] == 1.0
    assert df.loc[("plan", "air"), "tokens"] == 0


def test_themes_data():
    ids = [t.id for t in text.themes()]
    for required in [
        "air",
        "water",
        "soil_groundwater",
        "waste_chemicals",
        "climate_carbon",
        "ecology_biodiversity",
        "nuclear_radiation",
        "enforcement_inspection",
        "approvals_business",
        "monitoring_digital",
        "party_discipline",
    ]:
        assert required in ids
    assert len(ids) == len(set(ids))
    for t in text.themes():
        assert t.zh and t.en and t.source and t.words


# ---------------------------------------------------------------- attention

ATTENTION_TEXT = "生态环境持续向好。全市环保投入增加,污染减排成效明显,PM2.5浓度下降5%,党建工作扎实。"
# content words: 生态环境 环保 投入 增加 污染 减排 明显 PM2.5 浓度 下降 党建 = 11
# (stop words 持续 全市 成效 工作 扎实, the figure 5% and punctuation are not content words)
# environment-related: 生态环境 (contains 生态), 环保, 污染, 减排, PM2.5 = 5  ->  attention 5/11


def test_attention_index_equals_the_hand_count():
    assert text.segment(ATTENTION_TEXT, content=True) == [
        "生态环境",
        "环保",
        "投入",
        "增加",
        "污染",
        "减排",
        "明显",
        "PM2.5",
        "浓度",
        "下降",
        "党建",
    ]
    # all words (the literature's denominator): the 11 content words, the stop words 持续 向 好 全市
    # 成效 工作 扎实 (7) and the figure 5% (1) = 19; punctuation is not a word
    row = text.attention([_report(ATTENTION_TEXT)]).iloc[0]
    assert (row["env_words"], row["content_words"], row["all_words"]) == (5, 11, 19)
    assert row["attention"] == pytest.approx(5 / 19) and row["denominator"] == "all words"
    # Wilson 95%: p = 5/19 = .263158, z^2 = 3.841459, z^2/n = .202182; centre (.263158 + .101091) / 1.202182
    # = .302990; half 1.959964 sqrt(.0102056 + 3.841459 / 1444) / 1.202182 = 1.959964 * .113428 / 1.202182
    # = .184926 -> .118064 .. .487916
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.118064, 0.487916), abs=2e-6)
    content = text.attention([_report(ATTENTION_TEXT)], denominator="content").iloc[0]
    assert content["attention"] == pytest.approx(5 / 11) and content["denominator"] == "content words"


def test_attention_words_are_the_literature_list():
    assert set(text.attention_words()) == {
        "环境保护",
        "环保",
        "污染",
        "能耗",
        "减排",
        "排污",
        "生态",
        "绿色",
        "低碳",
        "空气",
        "化学需氧量",
        "二氧化硫",
        "二氧化碳",
        "PM10",
        "PM2.5",
    }


# ---------------------------------------------------------------- keywords


def test_keywords_tfidf_by_hand():
    a = _report("臭氧治理。臭氧监测。", doc="a.txt", city="甲")  # 臭氧 治理 臭氧 监测
    b = _report("水质监测。水质改善。", doc="b.txt", city="乙")  # 水质 监测 水质 改善
    df = text.keywords([a, b], top=5)
    # 监测 is used by both cities: idf ln(2/2) = 0, never listed
    assert "监测" not in set(df["keyword"])
    got = {(r.city, r.keyword): (r.rank, r.count, r.score, r.sentences) for r in df.itertuples()}
    ln2 = math.log(2)
    assert got[("甲", "臭氧")] == (1, 2, pytest.approx(2 / 4 * ln2), 2)
    assert got[("甲", "治理")] == (2, 1, pytest.approx(1 / 4 * ln2), 1)
    assert got[("乙", "水质")] == (1, 2, pytest.approx(2 / 4 * ln2), 2)
    first = df[(df["city"] == "甲") & (df["keyword"] == "臭氧")].iloc[0]
    assert first["sentence"] == "臭氧治理。" and first["doc"] == "a.txt"
    assert a.raw_text[first["start"] : first["end"]] == "臭氧治理。"


def test_stop_words_never_in_keyword_output(corpus):
    df = text.keywords(corpus, top=200, examples=3)
    assert len(df) > 0
    stop = text._stopwords()
    assert not set(df["keyword"]) & stop
    assert not df["keyword"].str.match(r"^\d").any()  # no figures
    assert (df["keyword"].str.len() >= 2).all()
    assert not set(df["keyword"]) & text._places()  # no gazetteer place names by default
    assert (df["example"] <= 3).all()
    assert all(k in s for k, s in zip(df["keyword"], df["sentence"], strict=True))
    first = df[(df["rank"] <= 20) & (df["example"] == 1)]
    assert all(k in text.segment(s) for k, s in zip(first["keyword"], first["sentence"], strict=True))  # a whole token


def test_keywords_per_city_on_the_seeds(corpus):
    df = text.keywords(corpus, top=20)
    assert set(df["city"]) == {r.meta.city for r in corpus}
    assert (df.groupby("city")["rank"].max() == 20).all()
    # one group per (city, year, document type): 武汉's 2019 article and 2022 summary apart
    assert set(df.loc[df["city"] == "武汉", "year"]) == {2019, 2022}
    ordered = df.sort_values(["city", "year", "doc_type", "score", "count", "keyword"],
                             ascending=[True, True, True, False, False, True])
    assert list(ordered.index) == list(df.index)  # score, then count, then the word itself


# ---------------------------------------------------------------- determinism and dtypes


def _all_tables(reports):
    return [
        text.theme_shares(reports),
        text.attention(reports),
        text.keywords(reports, examples=2),
        text.plan_vs_summary(reports),
    ]


def test_deterministic(corpus):
    first = _all_tables(corpus)
    again = _all_tables(list(reversed(list(corpus))))
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_explicit_dtypes(corpus):
    for df, columns in zip(
        _all_tables(corpus),
        [text.THEME_COLUMNS, text.ATTENTION_COLUMNS, text.KEYWORD_COLUMNS, text.PLAN_COLUMNS],
        strict=True,
    ):
        assert {c: str(t) for c, t in df.dtypes.items()} == columns


def test_seed_tables_are_plausible(corpus):
    shares = text.theme_shares(corpus)
    docs = shares[shares["level"] == "document"]
    assert docs.groupby("doc")["token_share"].sum().between(0.1, 1.0).all()
    # the 2019 article is about air-quality preparations for the Military World Games
    wuhan19 = docs[docs["doc"] == "wuhan_2019_article.txt"].set_index("theme")["token_share"]
    assert wuhan19.idxmax() == "air"
    # only the coastal city writes about the sea
    marine = docs[docs["theme"] == "marine"].set_index("doc")["tokens"]
    assert marine[marine > 0].index.tolist() == ["fuzhou_2022_plan.txt"]
    att = text.attention(corpus)
    assert att["attention"].between(0.03, 0.3).all()
    parts = text.plan_vs_summary(corpus)
    assert set(parts.loc[parts["doc"] == "jinan_2023_report.txt", "part"]) == {"done", "plan"}
    assert set(parts.loc[parts["doc"] == "qianjiang_2023_plan.txt", "part"]) == {"plan"}


def test_jieba_logger_is_quiet_while_loading(caplog):
    logger = jieba.default_logger
    level = logger.level
    with caplog.at_level(logging.NOTSET), text._quiet(logger):
        logger.debug("Building prefix dict from the default dictionary ...")  # what initialize() logs
    assert not [r for r in caplog.records if r.name == "jieba"]
    assert logger.level == level  # restored afterwards


# ---------------------------------------------------------------- one jieba pass per report

ONE_PASS = (
    "一、工作成效\n"
    "臭氧浓度为150微克/立方米,散煤治理完成。\n"
    "水质达标率100%,禁燃区扩大2.5平方公里。\n"
    "二、下一步工作安排\n"
    "大气污染防治。\n"
)
# Figures cut each sentence into stretches (臭氧浓度为 | ,散煤治理完成。), all cut by one jieba call.
# Tokens by sentence (punctuation left out; figures are tokens and words, never content words):
#   heading 一、工作成效: 一 工作 成效                       content: none (stop words)
#   s2 (done): 臭氧浓度 为 150微克/立方米 散煤 治理 完成      content: 臭氧浓度 散煤 治理 -> air 1
#   s3 (done): 水质 达标率 100% 禁燃区 扩大 2.5平方公里       content: 水质 达标率 禁燃区 扩大 -> water 1
#   heading 二、下一步工作安排: 二 下一步 工作 安排            content: none
#   s5 (plan): 大气污染 防治                                content: 大气污染 防治 -> air 1, environment 1
# 9 content words in 3 sentences; all words 3 + 6 + 6 + 4 + 2 = 21.
ONE_PASS_TOKENS = [
    ["一", "工作", "成效"],
    ["臭氧浓度", "为", "150微克/立方米", "散煤", "治理", "完成"],
    ["水质", "达标率", "100%", "禁燃区", "扩大", "2.5平方公里"],
    ["二", "下一步", "工作", "安排"],
    ["大气污染", "防治"],
]


def _count_jieba_calls(monkeypatch) -> list[str]:
    """Record every text given to the segmenter's cutter (jieba or its compiled port)."""
    cutter = text._segmenter().cutter
    calls: list[str] = []
    cut = cutter.cut

    def spy(sentence, *args, **kwargs):
        calls.append(sentence)
        return cut(sentence, *args, **kwargs)

    monkeypatch.setattr(cutter, "cut", spy)
    return calls


def test_a_report_is_segmented_by_one_jieba_call(monkeypatch):
    calls = _count_jieba_calls(monkeypatch)
    doc = text.analyse(_report(ONE_PASS))
    assert len(calls) == 1
    for stretch in ("臭氧浓度为", ",散煤治理完成。", ",禁燃区扩大", "大气污染防治。"):
        assert stretch in calls[0]
    assert "150" not in calls[0] and "2.5" not in calls[0]  # figures never reach jieba
    assert doc.content_words == 9 and doc.all_words == 21


def test_span_tokens_by_hand():
    seg = text._segmenter()
    lines = ONE_PASS.split("\n")
    starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines) - 1)]
    spans = [(start, start + len(line)) for start, line in zip(starts, lines)]
    got = [[t for t in tokens if text.HAN_OR_LATIN.search(t) or t[0].isdigit()] for tokens in seg.span_tokens(ONE_PASS, spans)]
    assert got == ONE_PASS_TOKENS


def test_one_pass_tokens_equal_cutting_every_stretch_alone(corpus):
    """The boundary rule: no jieba token crosses the newline joining two stretches, so one call
    gives what a call per stretch gave (expected values from jieba directly, stretch by stretch)."""
    seg = text._segmenter()
    reference = _reference_segmenter()
    for report in corpus:
        lines = report.text.split("\n")
        spans, pos = [], 0
        for line in lines:
            spans.append((pos, pos + len(line)))
            pos += len(line) + 1
        expected = []
        for start, end in spans:
            line, tokens, at = report.text[start:end], [], 0
            for m in seg.protect.finditer(line):
                tokens += reference.cutter.cut(line[at : m.start()], text.HMM) + [m.group()]
                at = m.end()
            tokens += reference.cutter.cut(line[at:], text.HMM)
            expected.append([t for t in tokens if t.strip()])
        assert seg.span_tokens(report.text, spans) == expected, report.doc


def test_tables_of_the_one_pass_document_by_hand():
    doc = _report(ONE_PASS, doc="a.txt", city="甲")
    other = _report("水质改善。", doc="b.txt", city="乙")
    shares = text.theme_shares([doc])
    row = shares[shares["level"] == "document"].set_index("theme")
    assert (row.loc["air", "tokens"], row.loc["water", "tokens"], row.loc["air", "content_tokens"]) == (2, 1, 9)
    assert row.loc["air", "token_share"] == pytest.approx(2 / 9)
    assert row.loc["air", "sentence_share"] == pytest.approx(2 / 3)
    assert row.loc["water", "sentence_share"] == pytest.approx(1 / 3)
    plan = text.plan_vs_summary([doc]).set_index(["part", "theme"])
    assert plan.loc[("plan", "air"), "token_share"] == 0.5  # 大气污染 of 大气污染 防治
    assert plan.loc[("done", "air"), "token_share"] == pytest.approx(1 / 7)
    assert plan.loc[("done", "water"), "token_share"] == pytest.approx(1 / 7)
    att = text.attention([doc]).iloc[0]
    assert (att["env_words"], att["content_words"], att["all_words"]) == (1, 9, 21)
    kw = text.keywords([doc, other], top=20)
    mine = kw[kw["city"] == "甲"]
    # every word of 甲 but 水质 (乙 uses it too) once: tf 1/9, idf ln 2, ties ordered by the word
    assert list(mine["keyword"]) == sorted(["臭氧浓度", "散煤", "治理", "达标率", "禁燃区", "扩大", "大气污染", "防治"])
    assert mine["score"].tolist() == pytest.approx([math.log(2) / 9] * 8)
    fire = mine[mine["keyword"] == "禁燃区"].iloc[0]
    assert fire["sentence"] == "水质达标率100%,禁燃区扩大2.5平方公里。"


def test_hmm_off_leaves_unknown_words_in_characters():
    assert text.HMM is False
    assert text.segment("军运会期间") == ["军", "运", "会", "期间"]  # not in the dictionary: not guessed


# ---------------------------------------------------------------- pooling documents


def _doc(body: str, doc: str, city: str) -> text.DocText:
    return text.analyse(_report(body, doc=doc, city=city), examples=2)


def test_text_stats_keep_the_first_examples_whatever_the_arrival_order():
    a = _doc("散煤治理。散煤替代。", "a.txt", "甲")
    b = _doc("散煤清零。", "b.txt", "甲")
    c = _doc("水质改善。", "c.txt", "乙")
    tables = []
    for order in ([a, b, c], [b, c, a], [c, b, a]):
        stats = text.TextStats(examples=2)
        for d in order:
            stats.add(d)
        tables.append(stats.keywords(top=5))
    for other in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], other)
    coal = tables[0][(tables[0]["city"] == "甲") & (tables[0]["keyword"] == "散煤")]
    assert coal["count"].tolist() == [3, 3] and coal["sentences"].tolist() == [3, 3]
    assert coal["doc"].tolist() == ["a.txt", "a.txt"]  # a.txt's two sentences, before b.txt's
    assert coal["sentence"].tolist() == ["散煤治理。", "散煤替代。"]


def test_text_stats_add_reads_nothing_back(monkeypatch):
    """Pooling writes the added document's counts once and reads no earlier document's: the same
    work per word of the document however many documents came before."""
    stats = text.TextStats()
    for i in range(3):
        stats.add(_doc("散煤治理。", f"{i}.txt", "甲"))
    appended = []
    append = text._SpillFile.append
    monkeypatch.setattr(text._SpillFile, "append", lambda spill, data: appended.append(data) or append(spill, data))
    monkeypatch.setattr(text._SpillFile, "read", lambda *args: pytest.fail("add read the spill file back"))
    stats.add(_doc("散煤治理。", "9.txt", "甲"))
    assert len(appended) == 1


def test_text_stats_examples_across_documents_in_any_order():
    """Examples are each group's first in document, then text order, wherever they are spilled."""
    docs = [
        text.analyse(_report("散煤宣传。", doc="c.txt", city="甲"), examples=3),
        text.analyse(_report("散煤替代。水质改善。散煤清零。散煤监管。", doc="b.txt", city="甲"), examples=3),
        text.analyse(_report("水质改善。散煤治理。", doc="a.txt", city="甲"), examples=3),  # later in its text than b's
        text.analyse(_report("水质改善。", doc="d.txt", city="乙"), examples=3),
    ]
    tables = []
    for order in itertools.permutations(docs):
        stats = text.TextStats(examples=3)
        for d in order:
            stats.add(d)
        tables.append(stats.keywords(top=5))
    for other in tables[1:]:
        pd.testing.assert_frame_equal(tables[0], other, check_exact=True)
    coal = tables[0][(tables[0]["city"] == "甲") & (tables[0]["keyword"] == "散煤")]
    assert coal["count"].tolist() == [5] * 3 and coal["sentences"].tolist() == [5] * 3
    assert coal["doc"].tolist() == ["a.txt", "b.txt", "b.txt"]
    assert coal["sentence"].tolist() == ["散煤治理。", "散煤替代。", "散煤清零。"]
    assert coal["example"].tolist() == [1, 2, 3]


def _plain_keywords(docs: list[text.DocText], top: int, examples: int) -> list[tuple]:
    """The keyword rows recounted with plain dicts from whole DocTexts (the table's definition)."""
    groups: dict[tuple, list[text.DocText]] = {}
    for d in sorted(docs, key=lambda d: (d.doc, d.path)):
        groups.setdefault(d.group, []).append(d)
    pooled: dict[tuple, dict[str, list]] = {}
    using: dict[str, int] = {}
    for key, members in groups.items():
        words: dict[str, list] = {}
        for d in members:
            for w, (uses, in_sentences, first) in d.word_stats():
                if w in text._places():
                    continue
                word = words.setdefault(w, [0, 0, []])
                word[0] += uses
                word[1] += in_sentences
                word[2] += [((d.doc, d.path), d.sentences[i][0], d.doc, d.sentences[i]) for i in first[:examples]]
        for w in words:
            using[w] = using.get(w, 0) + 1
        pooled[key] = words
    rows = []
    for key in sorted(groups):
        total = sum(d.content_words for d in groups[key])
        scored = sorted((-(k / total) * math.log(len(groups) / using[w]), -k, w)
                        for w, (k, _, _) in pooled[key].items() if len(groups) > using[w])
        for rank, (_, _, w) in enumerate(scored[:top], 1):
            k, in_sentences, found = pooled[key][w]
            for i, (_, _, doc, (start, end, sentence)) in enumerate(sorted(found, key=lambda e: e[:2])[:examples], 1):
                rows.append((key[1], key[3], rank, w, k, using[w], in_sentences, i, doc, start, end, sentence))
    return rows


def test_keywords_equal_a_plain_recount_with_several_documents_per_group(corpus):
    """Groups of several documents (copies of the seeds under other names, same cities: equal
    example offsets in different documents), arriving in shuffled orders."""
    seeds = [text.analyse(r, examples=2) for r in corpus]
    docs = [*seeds, *(replace(d, doc=f"copy of {d.doc}", path=f"{d.path}.copy") for d in seeds),
            _doc("散煤治理。散煤替代。", "z.txt", seeds[0].city)]
    expected = _plain_keywords(docs, top=25, examples=2)
    assert len({row[:2] for row in expected}) < len(docs)  # some group has several documents
    columns = ["city", "year", "rank", "keyword", "count", "cities", "sentences", "example", "doc", "start", "end",
               "sentence"]
    for seed in (1, 2):
        shuffled = docs[:]
        random.Random(seed).shuffle(shuffled)
        stats = text.TextStats(examples=2)
        for d in shuffled:
            stats.add(d)
        table = stats.keywords(top=25)
        assert list(table[columns].astype(object).itertuples(index=False, name=None)) == expected


def test_spilled_sentences_and_offsets_read_back_exactly():
    """Sentences with astral characters or empty, offsets past 2**31: read back as they were added."""
    sentences = (("", 2**40, 2**40 + 1), ("\U0001d11e 散煤", 2**33, 2**33 + 9), ("散煤。", 0, 3))

    def made(doc: str, city: str, words: dict) -> text.DocText:
        done, plan = text._Tally(Counter(), Counter(), 5, 3), text._Tally(Counter(), Counter())
        counts = list(words.values())  # (uses, sentences, examples) as columns, two examples each, -1 padded
        firsts = tuple(i for _, _, first in counts for i in (*first, -1, -1)[:2])
        return text.DocText(doc, doc, city, 2023, "summary", done, plan, 0, tuple(words),
                            tuple(c[0] for c in counts), tuple(c[1] for c in counts), firsts,
                            tuple((start, end, s) for s, start, end in sentences), 2, 10)

    stats = text.TextStats(examples=2)
    stats.add(made("a.txt", "甲", {"散煤": (3, 3, (1, 0)), "治理": (1, 1, (2,)), "共有": (1, 1, (2,))}))
    stats.add(made("b.txt", "乙", {"共有": (1, 1, (0,))}))
    table = stats.keywords(top=5)
    got = {(w, row_start): s for w, row_start, s in zip(table["keyword"], table["start"], table["sentence"])}
    assert got == {("散煤", 2**33): "\U0001d11e 散煤", ("散煤", 2**40): "", ("治理", 0): "散煤。"}
    assert table["end"].tolist() == [2**33 + 9, 2**40 + 1, 3]


def test_text_stats_pickle_copy_and_close(corpus):
    """A pickled TextStats carries its spilled counts; close() deletes the file; so does dropping it."""
    stats = text.TextStats(examples=2)
    for r in corpus:
        stats.add(text.analyse(r, examples=2))
    keywords, shares = stats.keywords(), stats.theme_shares()
    copy = pickle.loads(pickle.dumps(stats))
    spill = stats._spill
    stats.close()
    assert spill._file.closed and copy._spill is not spill
    with pytest.raises(ValueError, match="closed"):
        stats.keywords()
    pd.testing.assert_frame_equal(stats.theme_shares(), shares, check_exact=True)
    pd.testing.assert_frame_equal(copy.keywords(), keywords, check_exact=True)
    with copy:
        pass
    assert copy._spill._file.closed
    dropped = text.TextStats()
    file = dropped._spill._file
    del dropped
    gc.collect()
    assert file.closed


def test_text_stats_shared_with_another_process_read_its_spill_file(corpus, tmp_path):
    """`shared` hands the counts without the spilled bytes: the other side reads the owner's named
    file, which stays until the owner closes."""
    stats = text.TextStats(examples=2, spill_folder=tmp_path)
    for r in corpus:
        stats.add(text.analyse(r, examples=2))
    (spill,) = tmp_path.iterdir()
    shared = stats.shared()
    assert "_spill" not in shared.state and shared.path == str(spill) and shared.size == spill.stat().st_size > 0
    other = pickle.loads(pickle.dumps(shared)).open()
    pd.testing.assert_frame_equal(other.keywords(), stats.keywords(), check_exact=True)
    pd.testing.assert_frame_equal(other.attention(), stats.attention(), check_exact=True)
    other.close()
    assert spill.exists()  # the reader's close leaves the owner's file
    stats.close()
    assert not spill.exists()
    with pytest.raises(ValueError, match="spill_folder"):
        text.TextStats().shared()


def test_a_released_segmenter_is_built_again_on_next_use():
    # a build's parent lets the segmenter go once its workers are done (memory); a later call
    # (a notebook after a batch run) must still segment as before
    text.prepare()
    text.release()
    assert text.segment("PM2.5浓度为38微克/立方米") == ["PM2.5", "浓度", "为", "38微克/立方米"]
