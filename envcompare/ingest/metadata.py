"""Metadata inference: city, province, publisher, title, dates, document type and years.

Read from what a page says about itself (header lines such as 发布时间/来源/发布机构, HTML meta
fields, the title) and, failing that, from the body: a report that never names its city in the
header still names it in the text more than any other place. Metadata a user supplies wins.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from datetime import date
from functools import lru_cache

from ..errors import DataFileError
from ..vocab.places import CITY_LEVELS, county_short_names, find_places, lookup
from ..vocab.resources import data_path, read_yaml
from ..vocab.rules import alternation, read_rules

# the source of a publication date read from a link in the page: any page's date, too weak to date
# the page's own periods or years by
LINK_DATE = "link in page"


@dataclass(frozen=True)
class _PageRules:
    """The page_metadata rules of data/clean.yaml, compiled."""

    date: re.Pattern[str]  # a date written out: year, month, day
    undated_key: str  # the date key a header line starting with a date is read under
    title_keys: tuple[str, ...]  # header keys naming the page
    bureau: re.Pattern[str]  # an environment authority's name after its place
    title_lead_in: re.Pattern[str]  # a first line's lead-in or tail, no part of its title
    year: re.Pattern[str]  # a year named with its year word, not a comparison's base
    bare_title_year: re.Pattern[str]  # a year in a title without its year word
    city_suffix_end: re.Pattern[str]  # a user-given city's ending, stripped
    city_suffix: str  # added to an unknown city's short name to name its publisher


@lru_cache(maxsize=1)
def _page_rules() -> _PageRules:
    cfg = read_yaml("clean.yaml")
    rules = cfg["page_metadata"]
    if rules["undated_key"] not in cfg["date_keys"]:
        raise DataFileError(data_path("clean.yaml"), f"page_metadata.undated_key {rules['undated_key']!r} is not one of date_keys")
    return _PageRules(
        re.compile(rules["date"]), rules["undated_key"], tuple(rules["title_keys"]),
        re.compile(alternation(rules["bureaus"], longest_first=False)), re.compile(rules["title_lead_in"]),
        re.compile(rules["year"]), re.compile(rules["bare_title_year"]),
        re.compile(f"(?:{alternation(rules['city_suffixes'])})$"), rules["city_suffix"],
    )


@dataclass(frozen=True)
class Metadata:
    """What is known about one report. `years` are the years its figures cover."""

    city: str | None = None
    province: str | None = None
    publisher: str | None = None
    title: str | None = None
    published: date | None = None
    doc_type: str = "article"
    report_year: int | None = None
    years: tuple[int, ...] = ()
    url: str | None = None
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def override(self, given: dict[str, object]) -> Metadata:
        """Metadata given by the user replaces inferred fields (empty values are ignored)."""
        names = {f.name for f in fields(self)} - {"sources"}
        changes: dict[str, object] = {}
        for key, value in given.items():
            if key not in names or value is None or (isinstance(value, str) and not value.strip()):
                continue
            changes[key] = _coerce(key, value)
        if "city" in changes and "province" not in changes:
            place = lookup(str(changes["city"]))
            if place:
                changes["province"] = place.province
        if "years" in changes and "report_year" not in changes and changes["years"]:
            changes["report_year"] = changes["years"][0]
        src = dict(self.sources)
        src.update({k: "given" for k in changes})
        if changes.get("published") and self.report_year is None and "report_year" not in changes:
            changes["report_year"] = changes["published"].year  # a dated page speaks of its year
            changes["years"] = changes.get("years") or (changes["published"].year,)
            src["report_year"] = "published"
        if changes.get("url") and "published" not in changes and self.published is None:
            # where a page was found is weak evidence of when it was published: used only when
            # neither the page nor the user gave a date
            published = date_from_url(str(changes["url"]))
            if published:
                changes["published"] = published
                src["published"] = "url"
                if self.report_year is None and "report_year" not in changes:
                    changes["report_year"] = published.year
                    changes["years"] = changes.get("years") or (published.year,)
                    src["report_year"] = "url"
        return replace(self, **changes, sources=src)


def _coerce(key: str, value: object) -> object:
    if key == "published":
        return value if isinstance(value, date) else parse_date(str(value))
    if key == "report_year":
        return int(float(str(value)))
    if key == "years":
        if isinstance(value, (list, tuple)):
            return tuple(int(v) for v in value)
        return tuple(int(v) for v in re.findall(r"\d{4}", str(value)))
    if key == "city":
        return strip_suffix(str(value).strip())
    return str(value).strip()


# Dates in a page's address, most specific first: /2020-07/09/, /2019/8/7/, 20230803, /202012/t2020…,
# /2018/0718/. A year-month path gives the first of the month.
URL_DATES = (
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-/_](\d{1,2})[-/_](\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})/(\d{2})(\d{2})(?!\d)"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-/]?(\d{2})()(?=/)"),
)


def date_from_url(url: str) -> date | None:
    """The publication date a page's address implies, if any (weak evidence: a repost keeps
    its host's dates, so the date is used only where the page itself gives none)."""
    path = url.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else ""
    for pattern in URL_DATES:
        for m in pattern.finditer(path):
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
            except ValueError:
                continue
    return None


LINK = re.compile(r"https?://[!#-'*-;=?-~]+")


def date_from_links(texts: tuple[str, ...]) -> date | None:
    """The date in the address of a link the page carries (a scrape's source line: `来源:
    http://…/2018/0720/….shtml`). Weak evidence, like the `url` of metadata.csv: used only
    where the page has no header or meta date."""
    for text in texts:
        for link in LINK.finditer(text):
            if found := date_from_url(link.group(0)):
                return found
    return None


UNKNOWN_BECAUSE = {
    "city": "no place named in the title, header or text",
    "report_year": "no year in the title or text and no publication date",
}


def basis(meta: Metadata) -> str:
    """Where each inferred field came from, and why a field is unknown: `city: text; report_year:
    unknown (no year …)`. Kept in the documents table so that an empty place or year says why."""
    parts = []
    for key in ("city", "report_year", "published"):
        value = getattr(meta, key)
        if value is None or value == "":
            if key in UNKNOWN_BECAUSE:
                parts.append(f"{key}: unknown ({UNKNOWN_BECAUSE[key]})")
        else:
            parts.append(f"{key}: {meta.sources.get(key, 'given')}")
    return "; ".join(parts)


def parse_date(text: str) -> date | None:
    m = _page_rules().date.search(text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def strip_suffix(name: str) -> str:
    place = lookup(name)
    return place.short if place and place.level in CITY_LEVELS else _page_rules().city_suffix_end.sub("", name)


@lru_cache(maxsize=1)
def _header_fields() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(date keys, publisher keys) of data/clean.yaml, in order of preference."""
    cfg = read_yaml("clean.yaml")
    return tuple(cfg["date_keys"]), tuple(cfg["publisher_keys"])


@lru_cache(maxsize=1)
def _doctypes() -> list[tuple[str, tuple[str, ...]]]:
    return [(d["type"], tuple(d["words"])) for d in read_yaml("doctypes.yaml")]


@lru_cache(maxsize=1)
def _key_pattern() -> re.Pattern[str]:
    keys = sorted(read_yaml("clean.yaml")["header_keys"], key=len, reverse=True)
    alt = "|".join(r"[\s\u2002\u00a0]*".join(map(re.escape, k)) for k in keys)
    return re.compile(rf"(?<![\u4e00-\u9fff])({alt})\s*[::]")


def parse_header(header: str) -> dict[str, str]:
    """Header lines -> {key: value}; keys as in data/clean.yaml, first occurrence wins."""
    fields_: dict[str, str] = {}
    matches = list(_key_pattern().finditer(header))
    for m, nxt in zip(matches, matches[1:] + [None]):
        key = re.sub(r"[\s\u2002\u00a0]", "", m.group(1))
        value = header[m.end() : nxt.start() if nxt else len(header)].split("\n")[0].strip(" \u00a0\u2002-—")
        if value and key not in fields_:
            fields_[key] = value
    return fields_


def _field(header: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((header[k] for k in keys if header.get(k)), None)


TITLE_MAX_LENGTH = 80
TITLE_CANDIDATES = 3  # the title is one of a page's first three lines that are not furniture


@dataclass(frozen=True)
class _Furniture:
    """The title_furniture rules of data/clean.yaml, compiled."""

    breadcrumb_lead: re.Pattern[str]
    breadcrumb: re.Pattern[str]
    menu: re.Pattern[str]
    max_item_length: int
    site_words: re.Pattern[str]
    headline_min_letters: int
    scan_lines: int
    full_stop: str


@lru_cache(maxsize=1)
def _furniture() -> _Furniture:
    cfg = read_yaml("clean.yaml")
    rules = cfg["title_furniture"]
    return _Furniture(
        re.compile(rules["breadcrumb_lead"]), re.compile(rules["breadcrumb"]), re.compile(rules["menu"]),
        rules["max_item_length"], re.compile(alternation(rules["site_words"])),
        rules["headline_min_letters"], rules["scan_lines"], cfg["full_stop"],
    )


LETTER = re.compile(r"[^\W\d_]")


def _short_items(line: str, joint: re.Pattern[str], least: int, rules: _Furniture) -> bool:
    """`line` is at least `least` short items (not bare numbers) joined by `joint`."""
    items = [item.strip() for item in joint.split(line) if item.strip()]
    return len(items) >= least and all(len(item) <= rules.max_item_length and LETTER.search(item) for item in items)


def is_furniture(line: str) -> bool:
    """A breadcrumb, a menu (after the site's name, too) or a bare site name: page furniture above
    the headline, no title."""
    rules = _furniture()
    line = line.strip()
    if not line:
        return False
    crumbs = rules.breadcrumb_lead.sub("", line)
    led = crumbs != line  # 您的位置: before the breadcrumb
    if led and not crumbs:
        return True
    if _short_items(crumbs, rules.breadcrumb, 1 if led else 2, rules) or _short_items(line, rules.menu, 3, rules):
        return True
    site, gap, menu = line.partition(" ")  # a site's name, then its menu (常德市生态环境局 首页 | 机构设置 | …)
    if gap and _short_items(menu, rules.menu, 3, rules) and is_furniture(site):
        return True
    if not rules.site_words.search(line):
        return False  # no site word: no bare site name (masking places below only blanks characters)
    masked = list(line)
    mentions = find_places(line)
    for mention in mentions:
        masked[mention.start : mention.end] = " " * (mention.end - mention.start)
    for province in {m.place.province for m in mentions}:  # 淄博市生态环境局张店分局: a county's bureau
        for short in county_short_names(province):
            at = line.find(short)
            while at >= 0:
                masked[at : at + len(short)] = " " * len(short)
                at = line.find(short, at + len(short))
    rest, named = rules.site_words.subn(" ", "".join(masked))
    return named > 0 and not re.search(r"\w", rest)


def _headline(line: str, rules: _Furniture) -> bool:
    return len(line) <= TITLE_MAX_LENGTH and rules.full_stop not in line and \
        len(LETTER.findall(line)) >= rules.headline_min_letters


def title_of(lines: list[str], html_meta: dict[str, str]) -> str | None:
    """The page's title: an HTML title field, else the first headline among the first lines that
    are not site furniture (a breadcrumb, a menu, a bare site name; data/clean.yaml
    `title_furniture`), else the first short line without a full stop."""
    for key in ("articletitle", "title", "og:title"):
        if html_meta.get(key):
            return html_meta[key].strip()
    rules = _furniture()
    candidates = [line for line in lines[: rules.scan_lines] if line.strip() and not is_furniture(line)]
    found = next((line for line in candidates[:TITLE_CANDIDATES] if _headline(line, rules)), None)
    found = found or next((line for line in lines[:TITLE_CANDIDATES]
                           if line and len(line) <= TITLE_MAX_LENGTH and rules.full_stop not in line), None)
    return (_page_rules().title_lead_in.sub("", found) or found) if found else None


def _named_org(text: str) -> str | None:
    """First environment bureau named with its place (成都市生态环境局) in the text."""
    ends = {p.end: p for p in _head_places(text)}
    for m in _page_rules().bureau.finditer(text):
        place = ends.get(m.start())
        if place:
            return place.place.name + m.group(0)
    return None


def infer(text: str, header: tuple[str, ...] = (), html_meta: dict[str, str] | None = None) -> Metadata:
    """Infer metadata from a cleaned report (its text and removed header lines)."""
    html_meta = {k.lower(): v for k, v in (html_meta or {}).items()}
    head = parse_header("\n".join(header))
    lines = text.split("\n")
    sources: dict[str, str] = {}
    page = _page_rules()

    title = title_of(lines, html_meta)
    name_field = _field(head, page.title_keys)
    if name_field and not title:
        title = name_field
    if title:
        sources["title"] = "html meta" if html_meta.get("articletitle") or html_meta.get("title") else "first line"

    date_keys, publisher_keys = _header_fields()
    published = None
    undated = [h for h in header if page.date.match(h.strip())]
    if undated and not any(_field(head, (k,)) for k in date_keys):
        head = {**head, page.undated_key: undated[0].strip()}
    for key in date_keys:
        value = _field(head, (key,))
        if value and (published := parse_date(value)):
            sources["published"] = key
            break
    if published is None:  # a date written in another field of the header (来源: a paper, then its date)
        for key, value in head.items():
            if published := parse_date(value):
                sources["published"] = key
                break
    if published is None:
        for key in ("pubdate", "publishdate", "firstpublishedtime", "article:published_time"):
            if html_meta.get(key) and (published := parse_date(html_meta[key])):
                sources["published"] = f"html meta {key}"
                break
    if published is None and (published := date_from_links((*header, text))):
        sources["published"] = LINK_DATE

    publisher = _field(head, publisher_keys) or html_meta.get("contentsource")
    if not publisher or not page.bureau.search(publisher):
        publisher = _named_org(text) or publisher
    if publisher:
        publisher = re.split(r"\s", publisher.strip())[0]
        sources["publisher"] = "header" if _field(head, publisher_keys) else "text"

    city, province = _infer_city(text, " ".join(filter(None, [title, publisher, *head.values()])))
    if city:
        sources["city"] = "text"
        heading = " ".join(filter(None, [title, *lines[:HEAD_LINES]]))
        if (county := _county_page(heading, text, city)) is not None:
            city, sources["city"] = county, "county page"
    if publisher and city and not find_places(publisher):
        place = lookup(city)
        publisher = (place.name if place else city + page.city_suffix) + publisher
        sources["publisher"] = "header + inferred city"

    probe = title or (lines[0] if lines else "")
    doc_type = doc_type_of(probe)

    title_years = [int(y) for y in page.year.findall(probe)] or [int(y) for y in page.bare_title_year.findall(probe)]
    lead = _lead_year(lines, title) if not title_years else None
    lead_source = "lead sentence"
    dated = published is not None and sources["published"] != LINK_DATE
    if not title_years and lead is None and dated and doc_type != "plan":
        # 去年我市空气质量…, published in January: the year before the page's date
        offset = _relative_year(probe)
        if offset is None:
            offset = _lead_relative_year(lines, title)
        if offset is not None:
            lead, lead_source = published.year + offset, "named relative to the date"
    if title_years:
        years = tuple(sorted(set(title_years)))
        report_year = max(years) if doc_type == "plan" else min(years)
        sources["report_year"] = "title"
    elif lead is not None and doc_type != "plan" and published and published.year - 1 <= lead <= published.year:
        # a dated news item reports this year or the last; a plan's lead recaps its base year
        report_year, years = lead, (lead,)
        sources["report_year"] = lead_source
    else:
        counts = Counter(int(y) for y in page.year.findall(text))
        if published and sources["published"] != LINK_DATE:
            counts = Counter({y: n for y, n in counts.items() if y <= published.year}) or counts
        bases = [int(y) + 1 for y in _year_rules().same_period_base.findall(text)] if not counts else []
        if bases:
            # 较2022年同期增加7天 is the only year named: the page reports 2023
            report_year = max(bases)
        else:
            report_year = max(counts, key=lambda y: (counts[y], y)) if counts else (published.year if published else None)
        if report_year is not None:
            sources["report_year"] = "text" if counts else ("comparison base" if bases else "published")
        years = (report_year,) if report_year else ()
    return Metadata(city, province, publisher, title, published, doc_type, report_year, years, sources=sources)


@lru_cache(maxsize=1)
def _lead_rules() -> tuple[re.Pattern[str], re.Pattern[str], str]:
    r = read_rules()
    return re.compile(r["lead_year"]), re.compile(r["title"]), read_yaml("clean.yaml")["full_stop"]


@dataclass(frozen=True)
class _YearRules:
    relative: re.Pattern[str]  # a year named relative to the page's date (去年)
    offsets: dict[str, int]  # its offset from the publication year
    same_period_base: re.Pattern[str]  # 较2022年同期


@lru_cache(maxsize=1)
def _year_rules() -> _YearRules:
    r = read_rules()
    words = r["relative_years"]["words"]
    relative = re.compile(rf"(?<![{r['relative_years']['not_after']}])(?:{alternation(words)})")
    return _YearRules(relative, dict(words), re.compile(r["same_period_base"]))


def _relative_year(text: str) -> int | None:
    """The offset of the first year `text` names relative to the page's date (去年: -1)."""
    m = _year_rules().relative.search(text)
    return _year_rules().offsets[m.group(0)] if m else None


def _lead_sentence(lines: list[str], title: str | None) -> str | None:
    """The first sentence of the first paragraph after the title (lines without a full stop before
    it are furniture, a byline or a heading); None when there is none."""
    stop = _lead_rules()[2]
    start = next((i + 1 for i, line in enumerate(lines) if title and line.strip() == title.strip()), 0)
    for line in lines[start:]:
        at = line.find(stop)
        if at >= 0:
            return line[:at]
    return None


def _lead_relative_year(lines: list[str], title: str | None) -> int | None:
    """The offset of a year the lead sentence names relative to the page's date (…获悉,去年我市…)."""
    lead = _lead_sentence(lines, title)
    return _relative_year(lead) if lead is not None else None


def _lead_year(lines: list[str], title: str | None) -> int | None:
    """The year the lead sentence states (…获悉,2016年我市环境空气质量持续改善。). A news item
    published in January about last year, or one that later names next year's tasks (2017年是…攻坚
    之年), reports the year its lead states, however often the rest names another. None when the
    lead states no year (periods.yaml `lead_year`: not a comparison base, a dated day or a year
    inside a 《title》)."""
    lead = _lead_sentence(lines, title)
    if lead is None:
        return None
    year, titled, _ = _lead_rules()
    m = year.search(titled.sub("", lead))
    return int(m.group(1)) if m else None


def doc_type_of(title: str) -> str:
    """The document type a title's words name (data/doctypes.yaml), else "article". Place names
    are read first, so a type word across a name's edge is no type word (六安排名: 六安, not 安排)."""
    masked = list(title)
    for mention in find_places(title):
        masked[mention.start : mention.end] = "\0" * (mention.end - mention.start)
    probe = "".join(masked)
    for kind, words in _doctypes():
        if any(w in probe for w in words):
            return kind
    return "article"


CITY_SCAN_CHARS = 8000  # a report names its city early and often; the head is enough to vote
HEAD_LINES = 4  # the lines above a page's text: site name, breadcrumb, headline


def _head_places(text: str) -> list:
    # one place pass over the whole text, shared with the extract stage (memoised by text)
    return [m for m in find_places(text) if m.start < CITY_SCAN_CHARS]


def _county_page(heading: str, text: str, city: str) -> str | None:
    """The county or district (as the heading writes it) whose own page this is: the title or a
    line above the text (`heading`) names one of `city`'s districts or counties in full, and the
    text speaks of itself as one (places.yaml `county_page`: 我区, 全县 …). None for a city's page."""
    self_words = read_rules()["county_page"]["self_words"]
    if not any(word in text for word in self_words):
        return None
    for m in find_places(heading):
        p = m.place
        if m.full and p.level in ("district", "county") and p.city_of_prefecture == city:
            return heading[m.start : m.end]
    return None


def _infer_city(text: str, prominent: str) -> tuple[str | None, str | None]:
    """The city a report is about: named in title/publisher/header, else most named in the body."""
    votes: Counter[str] = Counter()
    province_of: dict[str, str] = {}
    for weight, mentions in ((10.0, find_places(prominent)), (1.0, _head_places(text))):
        for m in mentions:
            p = m.place
            if p.level == "province":
                continue
            city = p.city
            province_of.setdefault(city, p.province)
            votes[city] += weight * (2.0 if m.full else 1.0) * (1.0 if p.level in CITY_LEVELS else 0.5)
            if p.level == "county_city" and p.prefecture:
                # 延吉, 图们 and 珲春 named together speak for their prefecture (延边) as well
                parent = p.city_of_prefecture
                province_of.setdefault(parent, p.province)
                votes[parent] += weight * 0.5
    if not votes:
        return None, None
    city, _ = max(votes.items(), key=lambda kv: (kv[1], kv[0]))
    return city, province_of[city]
