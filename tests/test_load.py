"""Load stage: encodings, formats, bad files, metadata inference and overrides."""

from __future__ import annotations

import shutil
from pathlib import Path

import opencc
import pandas as pd
import pytest

from envcompare import ReportError, load_reports, read_report

SAMPLE = "wuhan_2022_summary_2023_plan.txt"


@pytest.fixture(scope="module")
def sample_text(seeds_dir) -> str:
    return (seeds_dir / SAMPLE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def expected(sample_text, tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("orig") / "report.txt"
    p.write_text(sample_text, encoding="utf-8")
    return read_report(p).text


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _html(text: str) -> str:
    paras = "".join(f"<p>{line}</p>\n" for line in text.split("\n") if line.strip())
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>page</title>"
        "<style>p { color: red } .x:before { content: '999天' }</style>"
        "<script>var pm25 = 12; document.write('<p>优良天数为1天</p>');</script></head>"
        f"<body><div class='nav'><script>track()</script></div>{paras}"
        "<noscript>请启用JavaScript</noscript></body></html>"
    )


VARIANTS = {
    "gbk": lambda t: ("report.txt", t.replace("\xa0", " ").encode("gbk")),
    "gb18030": lambda t: ("report.txt", t.encode("gb18030")),
    "utf8-bom": lambda t: ("report.txt", t.encode("utf-8-sig")),
    "utf16": lambda t: ("report.txt", t.encode("utf-16")),
    "utf16le-no-bom": lambda t: ("report.txt", t.encode("utf-16-le")),
    "big5-traditional": lambda t: ("report.txt", opencc.OpenCC("s2tw").convert(t.replace("\xa0", " ")).encode("big5")),
    "utf8-traditional": lambda t: ("report.txt", opencc.OpenCC("s2t").convert(t).encode("utf-8")),
    "html": lambda t: ("report.html", _html(t).encode("utf-8")),
    "html-gbk": lambda t: ("report.htm", _html(t).replace("charset='utf-8'", "charset='gbk'").replace("\xa0", " ").encode("gbk")),
    "fullwidth": lambda t: ("report.txt", _fullwidth(t).encode("utf-8")),
    "markdown": lambda t: ("report.md", ("# " + t.replace("\n\n", "\n\n")).encode("utf-8")),
    "crlf": lambda t: ("report.txt", t.replace("\n", "\r\n").encode("utf-8")),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_same_report_in_every_encoding_and_format_cleans_the_same(variant, sample_text, expected, tmp_path):
    name, data = VARIANTS[variant](sample_text)
    path = tmp_path / name
    path.write_bytes(data)
    report = read_report(path)
    if variant.endswith("traditional"):
        # 著 is both the traditional form of 着 and a simplified character of its own (显著):
        # character-level t2s cannot undo s2t there. Every other character must match.
        assert len(report.text) == len(expected)
        diffs = {(a, b) for a, b in zip(report.text, expected) if a != b}
        assert diffs <= {("著", "着")}
    else:
        assert report.text == expected
    assert report.meta.city == "武汉"
    assert "999天" not in report.raw_text and "track()" not in report.raw_text


def test_html_raw_text_is_the_visible_text(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>T</title><meta name='ArticleTitle' content='某市2023年工作总结'>"
        "<meta name='PubDate' content='2024-01-05 09:00'></head><body><h1>某市2023年工作总结</h1>"
        "<p>全市优良天数为300天&nbsp;,同比增加5天。</p><script>alert(1)</script></body></html>",
        encoding="utf-8",
    )
    report = read_report(path)
    assert "alert" not in report.raw_text
    assert "全市优良天数为300天" in report.raw_text
    assert report.meta.title == "某市2023年工作总结"
    assert str(report.meta.published) == "2024-01-05"


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n ", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary"),
        ("report.pdf", "%PDF-1.4 2022年优良天数为294天".encode(), "unsupported file type '.pdf'"),
        ("report.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
        ("noext", "优良天数为294天".encode(), "unsupported file type"),
        ("nav.html", "<html><body><p>【打印】【关闭】</p></body></html>".encode(), "no report text"),
    ],
)
def test_bad_files_fail_with_a_named_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ReportError) as err:
        read_report(path)
    assert err.value.path.endswith(name)
    assert reason in err.value.reason
    assert name in str(err.value)


def test_undecodable_bytes_are_an_error_not_mojibake(tmp_path):
    path = tmp_path / "broken.txt"
    # valid GB18030 lead bytes followed by bytes no Chinese encoding accepts
    path.write_bytes("优良天数".encode("gbk") + b"\x81\x20\xff\xfe\x81\x7f" * 40)
    with pytest.raises(ReportError) as err:
        read_report(path)
    assert "broken.txt" in str(err.value)


def test_a_batch_survives_bad_files(tmp_path, seeds_dir):
    shutil.copy(seeds_dir / SAMPLE, tmp_path / "good.txt")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "table.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    corpus = load_reports([tmp_path, tmp_path / "missing.txt"])
    assert [r.doc for r in corpus] == ["good.txt"]
    failed = {Path(e.path).name: e.reason for e in corpus.errors}
    assert set(failed) == {"empty.txt", "binary.txt", "table.xls", "missing.txt"}
    docs = corpus.documents()
    assert len(docs) == 5
    assert docs.set_index("doc").loc["empty.txt", "error"] == "empty file"


def test_seed_metadata_matches_hand_written_sources(corpus, sources):
    docs = corpus.documents().set_index("doc")
    assert set(docs.index) == set(sources["file"])
    for row in sources.itertuples():
        got = docs.loc[row.file]
        assert got["city"] == row.city, row.file
        assert got["province"] == row.province, row.file
        assert got["doc_type"] == row.doc_type, row.file
        assert int(got["report_year"]) == int(row.report_year), row.file
        assert (got["published"] if pd.notna(got["published"]) else "") == row.published, row.file
        assert got["publisher"] == row.publisher, row.file


def test_sources_csv_is_not_read_by_the_loader(corpus):
    # seeds/sources.csv is ground truth for tests; inference must stand on the texts alone
    assert all("given" not in r.meta.sources.values() for r in corpus)


def test_given_metadata_wins(tmp_path, seeds_dir):
    shutil.copy(seeds_dir / "fuzhou_2022_plan.txt", tmp_path / "a.txt")
    pd.DataFrame([{"file": "a.txt", "city": "厦门市", "published": "2022-03-04", "doc_type": ""}]).to_csv(
        tmp_path / "metadata.csv", index=False
    )
    report = load_reports(tmp_path)["a.txt"]
    assert report.meta.city == "厦门"
    assert report.meta.province == "福建省"
    assert str(report.meta.published) == "2022-03-04"
    assert report.meta.doc_type == "plan"  # empty given value keeps the inferred one
    report = load_reports(tmp_path, metadata={"a.txt": {"report_year": 2021}})["a.txt"]
    assert report.meta.report_year == 2021 and report.meta.city == "厦门"


def test_city_inferred_from_body_when_header_is_silent():
    from envcompare.ingest.load import report_from_bytes

    text = "2023年全市生态环境工作要点\n日期:2023-02-01 来源:生态环境局\n推动《绵阳市“十四五”生态环境保护规划》实施,打响“绿色绵阳”品牌。对标成都,学习重庆经验。"
    report = report_from_bytes(text.encode(), "x.txt")
    assert (report.meta.city, report.meta.province) == ("绵阳", "四川省")
    assert report.meta.publisher == "绵阳市生态环境局"
    assert report.meta.doc_type == "plan" and report.meta.report_year == 2023


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://news.example.cn/a/2018/0718/42734_2.html", "2018-07-18"),
        ("https://www.example.gov.cn/xxgk/202012/t20201223_52.html", "2020-12-23"),
        ("http://example.com/c/2025/03/04/31-5933.html", "2025-03-04"),
        ("http://example.com/news/2019-8-7/abc.html", "2019-08-07"),
        ("http://example.com/sjkf/201606/t815211.shtml", "2016-06-01"),
        ("http://example.com/p/9088.html", None),
        ("http://2023.example.com/p/9088.html", None),  # a year in the host is no date
    ],
)
def test_publication_date_from_url(url, expected):
    from envcompare.ingest.metadata import date_from_url

    found = date_from_url(url)
    assert (found.isoformat() if found else None) == expected


def test_url_in_metadata_csv_dates_an_undated_page(tmp_path):
    (tmp_path / "page.txt").write_text("全市优良天数比例为88.5%,同比上升1.2个百分点。\n", encoding="utf-8")
    (tmp_path / "metadata.csv").write_text(
        "file,url\npage.txt,http://news.example.cn/a/2022/0326/1.html\n", encoding="utf-8"
    )
    report = load_reports(tmp_path)["page.txt"]
    assert report.meta.published.isoformat() == "2022-03-26"
    assert report.meta.report_year == 2022
    assert report.meta.sources["published"] == "url"


def test_source_link_in_the_page_dates_an_undated_page(tmp_path):
    """A scrape's source line carries the original address; its date path dates the page."""
    text = "二季度全市空气质量优良天数比例为91.4%。\n\n文章来源:http://news.example.cn/2019/0412/5521.shtml\n"
    (tmp_path / "page.txt").write_text(text, encoding="utf-8")
    report = load_reports(tmp_path)["page.txt"]
    assert report.meta.published.isoformat() == "2019-04-12"
    assert report.meta.report_year == 2019
    assert report.meta.sources["published"] == "link in page"


def test_a_date_written_after_the_source_dates_the_page(tmp_path):
    """News pages often put the date on the source line, after the paper's name, with no date key."""
    text = "来源:江城晚报\u30002024-05-08 10:20\u3000字号:大 中 小\n1-4月,全市优良天数比例为86.7%。\n"
    (tmp_path / "page.txt").write_text(text, encoding="utf-8")
    meta = load_reports(tmp_path)["page.txt"].meta
    assert meta.published.isoformat() == "2024-05-08"
    assert meta.report_year == 2024
    assert meta.publisher == "江城晚报"


def test_a_page_date_beats_a_link_date(tmp_path):
    text = "发布时间:2021-03-02\n全市优良天数比例为80.1%。详见http://example.cn/2017/0101/1.html\n"
    (tmp_path / "page.txt").write_text(text, encoding="utf-8")
    assert load_reports(tmp_path)["page.txt"].meta.published.isoformat() == "2021-03-02"


def test_fact_counts_when_no_document_takes_the_rare_branches(seeds_dir):
    """pandas 3 copy-on-write: every document has facts and none failed (the counts come from another frame)."""
    from envcompare.extraction.tidy import with_fact_counts
    from envcompare.pipeline.batch import run

    result = run([seeds_dir / "jinan_2023_report.txt"], jobs=1, cache_dir=None, progress=False)
    docs = with_fact_counts(result.documents, result.facts)
    assert docs["facts"].tolist() == [len(result.facts)] and len(result.facts) > 0
    failed = result.documents.assign(error=["unreadable"])
    assert with_fact_counts(failed, result.facts.iloc[0:0])["facts"].isna().all()


@pytest.mark.parametrize(
    "title, expected",
    [
        ("上半年各市空气质量排名公布 宣城六安排名靠前", "article"),  # 六安 + 排名, not 安排
        ("2024年六安市生态环境保护工作要点", "plan"),
        ("2023年工作总结和2024年工作安排", "summary"),
        ("二〇二二年度生态环境状况公报", "report"),
        ("全市蓝天保卫战取得新进展", "article"),
    ],
)
def test_document_type_from_the_title(title, expected):
    from envcompare.ingest.metadata import doc_type_of

    assert doc_type_of(title) == expected


def test_a_print_link_is_not_the_title(tmp_path):
    (tmp_path / "page.txt").write_text("打印页面\n\n一季度各县区空气质量通报\n\n全市优良天数比例为90.1%。\n", encoding="utf-8")
    assert load_reports(tmp_path)["page.txt"].meta.title == "一季度各县区空气质量通报"


# Scraped pages open with site furniture above the headline: a bureau or site name, a breadcrumb,
# a menu. The headline below is the title, and its period governs the page's figures.
FURNISHED_PAGES = {
    "deyang.txt": (
        "德阳市生态环境局\n2023年上半年德阳市环境空气质量状况\n"
        "全市环境空气质量优良天数比例为88.4%,同比上升2.1个百分点。\n"
    ),
    "qinzhou.txt": (
        "钦州新闻网 > 本地新闻 > 正文\n一季度我市地表水水质保持优良\n发布时间:2024-04-12\n"
        "记者从市生态环境局获悉,全市国考断面水质优良比例为100%,同比持平。\n"
    ),
    "shaoguan.txt": (
        "首页 | 部门概况 | 信息公开 | 办事服务 | 公众参与\n您的位置：首页>环境质量\n"
        "韶关市2023年11月环境空气质量通报\n全市PM2.5平均浓度为26微克/立方米,同比下降7.1%。\n"
    ),
}


@pytest.fixture(scope="module")
def furnished(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("furnished")
    for name, text in FURNISHED_PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "doc, title, year, doc_type",
    [
        ("deyang.txt", "2023年上半年德阳市环境空气质量状况", 2023, "article"),
        ("qinzhou.txt", "一季度我市地表水水质保持优良", 2024, "article"),
        ("shaoguan.txt", "韶关市2023年11月环境空气质量通报", 2023, "report"),
    ],
)
def test_site_furniture_is_not_the_title(furnished, doc, title, year, doc_type):
    meta = load_reports(furnished)[doc].meta
    assert (meta.title, meta.report_year, meta.doc_type) == (title, year, doc_type)
    if doc != "qinzhou.txt":  # the headline names the year; the news page is dated instead
        assert meta.sources["report_year"] == "title"


def test_the_headline_under_site_furniture_gives_the_figures_their_period(furnished):
    from envcompare import extract

    facts = extract(furnished)
    periods = {doc: set(rows["period"]) for doc, rows in facts.groupby("doc")}
    assert periods == {"deyang.txt": {"上半年"}, "qinzhou.txt": {"一季度"}, "shaoguan.txt": {"11月"}}


@pytest.mark.parametrize(
    "line, furniture",
    [
        ("常德市生态环境局", True),
        ("玉溪日报", True),
        ("钦州市人民政府门户网站", True),
        ("新闻中心 » 县区动态 » 正文", True),
        ("您现在的位置:首页", True),  # lines are read cleaned (NFKC: full-width colons are ASCII)
        ("网站首页  机构设置  政策法规  环境质量", True),
        ("岳阳市生态环境局 网站首页 | 机构设置 | 政务公开", True),  # a site's name, then its menu
        ("宜宾新闻网 - 宜宾日报社主办", True),
        ("株洲日报 3月空气质量排名第二", False),  # a paper's name, then one headline: no menu
        ("常德市生态环境局2024年工作要点", False),  # a place and a bureau, then a headline
        ("首页 > 通知公告 > 常德市2024年3月空气质量排名", False),  # the breadcrumb ends in a headline
        ("PM2.5浓度>75", False),
        ("2024/03/05", False),
        ("玉溪:前两月中心城区优良天数比例100%", False),
        ("长沙市 湘潭市", False),  # places alone, no site word: no site's name
    ],
)
def test_which_lines_are_site_furniture(line, furniture):
    from envcompare.ingest.metadata import is_furniture

    assert is_furniture(line) is furniture
