"""Extract stage: a cleaned report -> facts (one per figure), each pointing at its raw span.

A report is read line by line (headings switch between achieved results and plans, and set
the year), then sentence by sentence. In a sentence, indicator names (catalog aliases) and
quantities (numbers with units) are paired by a few constructions that recur across Chinese
environmental reports, each with its cues and examples in data/constructions/<construction>.yaml:

- name then figure (优良天数比例为80.5%), across 分别 lists (PM10、PM2.5分别为55、35微克/立方米);
- a count before its noun (完成498个长江入河排污口整治任务), and parts of a total
  (106项整改任务中,已整改完成86项);
- year-on-year changes (同比下降5.4%, 同比增加1.3个百分点, 同比持平) of the figure before them;
- zero and full constructions (不出现重度污染天气, 无劣V类断面, 饮用水水源地水质全部达标).

Cues (change verbs, comparators, hedges, periods, list joins, heading numerals …) are data, read once
(envcompare.vocab.rules.read_rules); this module holds no word of the language.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from ..ingest.load import Report
from ..ingest.metadata import LINK_DATE
from ..vocab.catalog import Indicator, IndicatorMention, find_indicators, indicators
from ..vocab.places import CITY_LEVELS, Mention, Place, county_parent, county_short_names, find_places, province_short
from ..vocab.resources import read_yaml
from ..vocab.rules import alternation, read_rules
from .numbers import Quantity, find_quantities
from .tables import read_tables, separators

ANNUAL = "annual"  # the period form of a whole year
CLAUSE_BREAK = ",;:"
CLAUSE_BREAK_RE = re.compile("[,;:]")
HEADING_CHARS = 40  # a heading longer than this is a paragraph that happens to be numbered
GLOSS_CHARS = 24  # the longest bracketed gloss after a name read as part of it
NESTED_NAMES = 4  # mentions that may share a span (one name in several roles) or nest
GLOSS = re.compile(rf"^\([^()]{{1,{GLOSS_CHARS - 2}}}\)")
PLACE_LIST_PUNCTUATION = "()::"  # besides the list joins, what may stand between listed places and their figure

# How a fact's kind (target or not) was decided, for the review stage's `kind_default` flag:
CUE = "cue"  # a word or construction of its sentence or paragraph (目标, 到2025年, 不得超过, a table's column)
SECTION = "section"  # its section's heading (工作计划 / 工作成效)
DOCUMENT = "document"  # its document's type, nothing nearer: a plan's figures are targets, a summary's actuals
DEFAULT = "default"  # nothing at all: taken as an actual (an article, a document of unknown type)
KIND_BASES = (CUE, SECTION, DOCUMENT, DEFAULT)


@dataclass
class Fact:
    """A fact in cleaned-text coordinates, before it is tidied into a table row."""

    start: int
    end: int
    indicator: Indicator | None
    value: float
    unit: str
    kind: str
    comparator: str = ""
    approx: bool = False
    qualifier: str = ""
    period: str = "annual"
    year: int | None = None
    city: str = ""
    label: str = ""
    sentence: tuple[int, int] = (0, 0)
    in_parens: bool = False
    ranged: bool = False  # stated as a range (24-31微克/立方米) or a bound all of several share (均在90%以上)
    kind_basis: str = DEFAULT  # how `kind` was decided: one of KIND_BASES


class PeriodPattern(NamedTuple):
    """A period cue of the data: its pattern, the form it is written as ({0}: the first group),
    and replacements that normalise the form (截至12月31日 -> annual)."""

    pattern: re.Pattern[str]
    form: str
    normalise: dict[str, str]


class PlacePattern(NamedTuple):
    """A place written as a pattern: its label template and whether its scope carries on."""

    pattern: re.Pattern[str]
    label: str
    carry: bool


class ScopeIndicator(NamedTuple):
    """An indicator named loosely (`source`) that is `target` under a scope matching `scope`."""

    scope: re.Pattern[str]
    source: str
    target: str


class PeriodCue(NamedTuple):
    """A period named in a text: where it starts and its normalised form."""

    start: int
    value: str


class Line(NamedTuple):
    """A line of the cleaned text and where it starts."""

    start: int
    text: str


@dataclass(frozen=True)
class _Rules:
    change: re.Pattern[str]
    change_verbs: re.Pattern[str]
    up: frozenset[str]
    down: frozenset[str]
    after_base: frozenset[str]  # verbs that state a change only right after a base (比上年多6天)
    better: frozenset[str]
    worse: frozenset[str]
    flat: re.Pattern[str]
    flat_words: re.Pattern[str]
    other_base: re.Pattern[str]
    target_cues: re.Pattern[str]
    target_after: re.Pattern[str]
    target_scope: re.Pattern[str]
    target_year: re.Pattern[str]
    comp_before: tuple[tuple[str, str], ...]
    comp_after: dict[str, str]
    approx_after_actual: frozenset[str]
    frame_before: tuple[str, ...]
    frame_after: frozenset[str]
    list_keep: tuple[str, ...]  # a level kept in a list of targets (保持100%)
    target_of_year: re.Pattern[str]  # a year written onto a target in brackets (2025年规划目标(不低于91.5%))
    not_indicator_after: tuple[str, ...]
    zero_neg: re.Pattern[str]
    zero_after: re.Pattern[str]
    full: re.Pattern[str]
    spread: tuple[str, ...]
    part_words: re.Pattern[str]
    completion_after: re.Pattern[str]
    periods: tuple[PeriodPattern, ...]
    place_words: dict[str, str | None]
    place_patterns: tuple[PlacePattern, ...]
    min_foreign_place_chars: int
    place_value_links: frozenset[str]
    spread_bound: re.Pattern[str]
    range_join_after: re.Pattern[str]  # a range's join and its second figure right after a figure with its unit
    short_place_after: tuple[str, ...]
    zero_subject: re.Pattern[str]
    split_modifier: re.Pattern[str]
    negated_bounds: dict[str, str]
    negated_bound: re.Pattern[str]
    scope_indicators: tuple[ScopeIndicator, ...]
    continues_paragraph: tuple[str, ...]
    relative_years: dict[str, int]
    relative_year: re.Pattern[str]
    place_value_fillers: tuple[str, ...]
    place_change_fillers: dict[str, str]  # 降幅最大 -> 下降: the figure after is that place's change
    place_value_leads: tuple[str, ...]
    not_place_after: tuple[str, ...]
    section_target: tuple[str, ...]
    section_actual: tuple[str, ...]
    qualifier: re.Pattern[str]
    qualifier_trim: tuple[str, ...]
    scope: re.Pattern[str]
    gap_after: int
    gap_before: int
    counting_units: frozenset[str]
    counted_before_noun: frozenset[str]
    links: frozenset[str]
    # sentences, headings and punctuation (constructions/structure.yaml)
    sentence: re.Pattern[str]
    heading: re.Pattern[str]
    subheading: re.Pattern[str]
    title: re.Pattern[str]
    title_or_quote: re.Pattern[str]
    full_stop: str
    list_mark: str  # 、
    list_break: re.Pattern[str]  # punctuation that ends a list of names
    year_in_text: re.Pattern[str]
    # lists of names, figures and places (constructions/names.yaml)
    list_join: frozenset[str]  # "" (names written side by side) and the joining words
    list_words: tuple[str, ...]  # the joins of a list, as _at_word_start takes them
    place_list_marks: str  # what may stand between listed places and their figure
    number_list_joins: tuple[str, ...]
    minus_signs: str  # signs written before a change's figure (-4.2%)
    # changes (constructions/changes.yaml)
    flat_trim: tuple[str, ...]
    base_year: re.Pattern[str]
    base_since: str
    base_period: str
    quote_marks: str
    base_words: dict[str, str]  # a base's leading word as the period writes it (比上月 -> 较上月)
    # comparators and places
    comparator_fillers: tuple[re.Pattern[str], ...]
    region_suffix: str  # a province whose whole is 全区 (自治区)
    county_page_words: dict[str, str]  # place words on a county's own page (places.yaml county_page)
    passing_place_labels: tuple[str, ...]
    # counts and qualifiers
    count_noun_filler: str
    qualifier_list_join: re.Pattern[str]
    qualifier_counted: re.Pattern[str]
    # labels of unmapped figures (constructions/labels.yaml)
    label_after: re.Pattern[str]
    label_link_tail: re.Pattern[str]
    label_lead_words: re.Pattern[str]
    label_split: re.Pattern[str]
    # constructions beside a figure: shares, compared values, target references, goals, durations
    share_frame: re.Pattern[str]
    share_word: re.Pattern[str]
    share_of: dict[str, str]
    previous_value: re.Pattern[str]
    reached_value: re.Pattern[str]
    current_value: re.Pattern[str]
    average_value: re.Pattern[str]  # a wider place's average in brackets after its words (全省平均水平(91.4%))
    attributive_figure: re.Pattern[str]
    attributive_year: re.Pattern[str]
    target_gap: re.Pattern[str]
    average_gap: re.Pattern[str]  # the distance to a wider place's average: no fact
    reference_after: re.Pattern[str]  # a nation or province framing a rank or an average
    average_frame_after: re.Pattern[str]  # any place framing an average (全市平均水平)
    target_written: re.Pattern[str]  # a target written right after its word (目标值(30.8), 年度目标为29)
    goal_lead: re.Pattern[str]
    goal_met_words: tuple[str, ...]
    goal_met_window: int
    duration_before: tuple[str, ...]
    period_end_month: re.Pattern[str]  # the month a numbered period form ends in (1-11月, 截至6月30日)
    period_end_forms: dict[str, int]  # the month a named period form ends in (上半年)
    target_whole_year: re.Pattern[str]  # words that make a target the whole year's (今年…不高于, 年度目标)


@lru_cache(maxsize=1)
def rules() -> _Rules:
    r = read_rules()
    change_rules = r["change"]
    after_base = change_rules["up_after_base"] + change_rules["down_after_base"]
    verbs = change_rules["up"] + change_rules["down"] + change_rules["better"] + change_rules["worse"] + after_base
    change = re.compile(
        rf"(?:(?P<base>{alternation(change_rules['bases'])})|(?P<other>{change_rules['other_base']}))?(?:{alternation(change_rules['before_verb'], longest_first=False)})?"
        rf"(?P<verb>{alternation(verbs)})(?:{alternation(change_rules['particles'], longest_first=False)})?{change_rules.get('after_verb', '')}(?:{alternation(change_rules['after_change'], longest_first=False)})?$"
    )
    ends = re.escape(r["sentence_ends"])
    full_stop = r["full_stop"]
    joins = r["list_joins"]
    list_words = tuple(sorted(joins))
    nb = r["negated_bounds"]
    base = change_rules["base_of_period"]
    periods = tuple(PeriodPattern(re.compile(p["pattern"]), p["form"], p.get("normalise", {})) for p in r["periods"])
    return _Rules(
        change=change,
        change_verbs=re.compile(alternation(verbs)),
        up=frozenset(change_rules["up"] + change_rules["up_after_base"]),
        down=frozenset(change_rules["down"] + change_rules["down_after_base"]),
        after_base=frozenset(after_base),
        better=frozenset(change_rules["better"]),
        worse=frozenset(change_rules["worse"]),
        flat=re.compile(rf"(?:{alternation(change_rules['bases'])})?(?P<word>{alternation(change_rules['flat'])})"),
        flat_words=re.compile(alternation(change_rules["flat"])),
        other_base=re.compile(change_rules["other_base"]),
        target_cues=re.compile(alternation(r["target_cues"])),
        target_after=re.compile(r["target_after"]),
        target_scope=re.compile(r["target_scope_cues"]),
        target_year=re.compile(r["target_year_cue"]),
        comp_before=tuple(sorted(r["comparators"]["before"].items(), key=lambda kv: -len(kv[0]))),
        comp_after=dict(r["comparators"]["after"]),
        approx_after_actual=frozenset(r["approx"]["after_actual"]),
        frame_before=tuple(r["target_frames"]["before"]),
        frame_after=frozenset(r["target_frames"]["after"]),
        list_keep=tuple(r["target_list"]["keep"]),
        target_of_year=re.compile(r["target_of_year"]),
        not_indicator_after=tuple(r["not_indicator_after"]),
        zero_neg=re.compile(rf"(?P<spread>{alternation(r['spread_words'])})?(?P<neg>{alternation(r['zero_negations'])})$"),
        zero_after=re.compile(r["zero_after"].strip()),
        full=re.compile(alternation(r["full_phrases"])),
        spread=tuple(r["spread_words"]),
        part_words=re.compile(rf"(?:{alternation(r['part_words'])})$"),
        completion_after=re.compile("|".join(r["completion_after"])),
        periods=periods,
        place_words=dict(r["place_words"]),
        place_patterns=tuple(
            PlacePattern(re.compile(p["pattern"]), p["label"], bool(p.get("carry", True))) for p in r.get("place_patterns", ())
        ),
        min_foreign_place_chars=int(r.get("min_foreign_place_chars", 0)),
        place_value_links=frozenset(r.get("place_value_links", ())),
        spread_bound=re.compile(r["spread_bound"]),
        range_join_after=re.compile(rf"\s*(?:{alternation(r['range_joins'])})\s*\d"),
        short_place_after=tuple(r.get("short_place_after", ())),
        zero_subject=re.compile(f"(?:{alternation(r['zero_subject_lead'])})?(?P<noun>{alternation(r['zero_subjects'])})"),
        split_modifier=re.compile(r["count_split_modifier"] + "$"),
        negated_bounds=dict(r["negated_bounds"]["words"]),
        negated_bound=re.compile(
            rf"(?:{alternation(nb['negations'])})(?P<word>{alternation(nb['words'])})(?:{alternation(nb['fillers'], longest_first=False)})?$"
        ),
        scope_indicators=tuple(ScopeIndicator(re.compile(x["scope"]), x["from"], x["to"]) for x in r["scope_indicators"]),
        continues_paragraph=tuple(r["continues_paragraph"]),
        relative_years=dict(r["relative_years"]["words"]),
        relative_year=re.compile(rf"(?<![{r['relative_years']['not_after']}])(?:{alternation(r['relative_years']['words'])})"),
        place_value_fillers=tuple(r.get("place_value_fillers", ())),
        place_change_fillers=dict(r["place_change_fillers"]),
        place_value_leads=tuple(r["place_value_leads"]),
        not_place_after=tuple(r["not_a_place_after"]),
        section_target=tuple(r["section_target_words"]),
        section_actual=tuple(r["section_actual_words"]),
        qualifier=re.compile("|".join(f"(?:{p})" for p in r["qualifier_patterns"])),
        qualifier_trim=tuple(r["qualifier_trim"]),
        scope=re.compile(r["scope_clause"]),
        gap_after=int(r["max_gap_after_name"]),
        gap_before=int(r["max_gap_before_name"]),
        counting_units=frozenset(r["counting_units"]),
        counted_before_noun=frozenset(r["counted_before_noun"]),
        links=frozenset(r["clause_links"]),
        sentence=re.compile(rf"[^{ends}\n]+[{ends}]?"),
        heading=re.compile(r["headings"]["chapter"]),
        subheading=re.compile(r["headings"]["subsection"]),
        title=re.compile(r["title"]),
        title_or_quote=re.compile(f"{r['title']}|{r['quote']}"),
        full_stop=full_stop,
        list_mark=r["list_mark"],
        list_break=re.compile(f"[,;{re.escape(full_stop)}]"),
        year_in_text=re.compile(r["year_in_text"]),
        list_join=frozenset({"", *joins}),
        list_words=list_words,
        place_list_marks="".join(list_words) + PLACE_LIST_PUNCTUATION,
        number_list_joins=tuple(r["number_list_joins"]),
        minus_signs="".join(r["minus_signs"]),
        flat_trim=tuple(change_rules["flat_trim"]),
        base_year=re.compile(base["year"]),
        base_since=base["since"],
        base_period=base["period"],
        quote_marks=base["quote_marks"],
        base_words=dict(base["words"]),
        comparator_fillers=tuple(re.compile(f"({alternation(words, longest_first=False)})$") for words in r["comparators"]["fillers"]),
        region_suffix=r["region_suffix"],
        county_page_words=dict(r["county_page"]["words"]),
        passing_place_labels=tuple(r["passing_place_labels"]),
        count_noun_filler=r["count_noun_filler"],
        qualifier_list_join=re.compile(f"[{re.escape(''.join(r['qualifier_list_joins']))}]"),
        qualifier_counted=re.compile(f"{r['qualifier_counted']}|{re.escape(r['list_mark'])}"),
        label_after=re.compile(r["label_after"]),
        label_link_tail=re.compile(rf"(?:{alternation(r['label_link_words'], longest_first=False)})+$"),
        label_lead_words=re.compile(rf"^(?:{alternation(r['label_lead_words'], longest_first=False)})+"),
        label_split=re.compile(r["label_split"]),
        share_frame=re.compile(r["shares"]["frame"]),
        share_word=re.compile(r["shares"]["bare"]),
        share_of=dict(r["shares"]["indicators"]),
        previous_value=re.compile(r["previous_value"] + "$"),
        reached_value=re.compile(r["reached_value"] + "$"),
        current_value=re.compile(r["current_value"]),
        average_value=re.compile(r["average_value"] + "$"),
        attributive_figure=re.compile(r["attributive_figure"]),
        attributive_year=re.compile(r["attributive_year"] + "$"),
        target_gap=re.compile(r["target_references"]["gap"] + "$"),
        average_gap=re.compile(r["average_gap"]),
        reference_after=re.compile(r["reference_after"]),
        average_frame_after=re.compile(r["average_frame_after"]),
        target_written=re.compile(r["target_references"]["written"] + "$"),
        goal_lead=re.compile(r["goal_lead"]["pattern"]),
        goal_met_words=tuple(r["goal_lead"]["not_after"]),
        goal_met_window=int(r["goal_lead"]["window"]),
        duration_before=tuple(r["duration_before"]),
        period_end_month=re.compile(r["period_end"]["month"]),
        period_end_forms={k: int(v) for k, v in r["period_end"]["forms"].items()},
        target_whole_year=re.compile(r["target_whole_year"]),
    )


def __getattr__(name: str) -> re.Pattern[str]:
    """SENTENCE: the pattern of a sentence (read from the data on first use)."""
    if name == "SENTENCE":
        return rules().sentence
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=1)
def _children() -> dict[str, Indicator]:
    """Part indicators by their total: gov.inspection_issues -> gov.inspection_issues_rectified."""
    return {i.part_of: i for i in indicators().values() if i.part_of}


@dataclass(frozen=True)
class _Marks:
    """Positions in one sentence, computed once: the years named and the '…中,' scopes.

    Looking them up by position keeps a long sentence linear (no rescans from its start)."""

    year_ends: list[int]
    years: list[int | None]  # None: back to the context's year
    scope_breaks: list[int]
    scopes: list[str]
    opens: list[int]
    closes: list[int]
    target_year: int | None  # end of the first 到2025年-style cue, if any
    target_scope: int | None = None  # end of the first 目标要求-style cue outside a 《title》, if any


def _marks(text: str, s: int, e: int, this_year: int | None = None) -> _Marks:
    """`this_year`: the publication year, against which 今年/去年 are read (not read without it)."""
    r = rules()
    sent = text[s:e]
    titles = [(m.start(), m.end()) for m in r.title.finditer(sent)]
    named: list[tuple[int, int, int | None]] = []  # (end, year, end of the one figure it owns)
    for m in r.year_in_text.finditer(sent):
        if not any(a <= m.start() < b for a, b in titles):
            owned = r.attributive_figure.match(sent, m.end()) or r.target_of_year.match(sent, m.end())
            named.append((s + m.end(), int(m.group(1)), s + owned.end() if owned else None))
    if this_year is not None and r.relative_years:
        for m in r.relative_year.finditer(sent):
            named.append((s + m.end(), this_year + r.relative_years[m.group(0)], None))
    named.sort()
    # 由2014年的52.3%上升至…: a year written onto one figure names that figure's year only; the
    # year in force before it returns after the figure
    events: list[tuple[int, int | None]] = []
    current: int | None = None
    for end, year, owned_end in named:
        events.append((end, year))
        if owned_end is None:
            current = year
        else:
            events.append((owned_end, current))
    events.sort(key=lambda event: event[0])
    year_ends = [end for end, _ in events]
    years = [year for _, year in events]
    breaks, scopes = [], []
    scope, clause_start = "", 0
    for m in CLAUSE_BREAK_RE.finditer(sent):
        i = m.start()
        if sent[i] == ";":
            scope = ""
        else:
            found = r.scope.search(sent, clause_start, i)
            if found:
                scope = next(group for group in found.groups() if group)  # the form that matched
        clause_start = i + 1
        breaks.append(s + i)
        scopes.append(scope)
    opens = [s + m.start() for m in re.finditer(r"\(", sent)]
    closes = [s + m.start() for m in re.finditer(r"\)", sent)]
    cue = r.target_year.search(sent)
    scope_cue = next((m for m in r.target_scope.finditer(sent) if not any(a <= m.start() < b for a, b in titles)), None)
    return _Marks(year_ends, years, breaks, scopes, opens, closes, s + cue.end() if cue else None,
                  s + scope_cue.end() if scope_cue else None)


class PlaceCue(NamedTuple):
    """A place named in a sentence as the owner of the figures after it."""

    start: int
    end: int
    label: str  # "" is the report's own city
    carry: bool  # False for places named in passing (the nation, a province, a region)
    clause_only: bool = False  # a province's name (纳入湖北省…考核的断面) owns its clause only


@dataclass
class SectionContext:
    """What the reader knows when it reaches a sentence.

    Scope: a time or place cue governs the figures after it in its sentence; a cue that leads a
    sentence (stands before its first figure) governs the rest of the paragraph; a cue in a
    heading governs its section until the next heading. The nearest cue wins: clause, sentence,
    paragraph, section, then the document (its title's period, its city and year).
    """

    report: Report
    target: bool
    section_year: int | None
    target_basis: str = DOCUMENT  # what set `target`: SECTION (a heading's words) or DOCUMENT (its type)
    paragraph_year: int | None = None
    doc_period: str = "annual"  # a news item titled 1-6月… speaks of that period throughout
    section_period: str | None = None  # of a chapter heading (一、…)
    section_place: str | None = None  # None: no cue; "": the report's own city
    subsection_period: str | None = None  # of a subheading ((一)…), inside its chapter
    subsection_place: str | None = None
    paragraph_period: str | None = None
    paragraph_place: str | None = None
    paragraph_target: bool = False  # the paragraph opened by announcing goals (主要目标:…)
    facts: list[Fact] = field(default_factory=list)
    mention_starts: list[int] = field(default_factory=list)  # of its indicator mentions
    # the sentence being read, its place mentions, and what is computed from them on first use
    # only (many sentences name an indicator but make no fact: they never need them)
    sentence: tuple[int, int] | None = None
    sentence_places: list[Mention] = field(default_factory=list)
    _lazy: dict[str, object] = field(default_factory=dict)

    def enter_sentence(self, s: int, e: int, places_in: list[Mention]) -> None:
        self.sentence = (s, e)
        self.sentence_places = places_in
        self._lazy.clear()

    @property
    def marks(self) -> _Marks | None:
        """Years, scopes and parentheses of the sentence being read."""
        if self.sentence is None:
            return None
        if "marks" not in self._lazy:
            published = self.report.meta.published
            self._lazy["marks"] = _marks(self.report.text, *self.sentence, published.year if published else None)
        return self._lazy["marks"]  # type: ignore[return-value]

    @property
    def periods(self) -> list[PeriodCue]:
        """Period cues of the sentence being read (_period_cues)."""
        if "periods" not in self._lazy:
            s, e = self.sentence or (0, 0)
            self._lazy["periods"] = _period_cues(self.report.text, s, e)
        return self._lazy["periods"]  # type: ignore[return-value]

    @property
    def scope_period(self) -> str:
        """The period of a figure whose sentence names none before it."""
        for period in (self.paragraph_period, self.subsection_period, self.section_period):
            if period is not None:
                return period
        return self.doc_period

    def lead(self, first_figure: int, first_end: int | None = None) -> None:
        """Cues before a sentence's first figure govern the rest of its paragraph; a year written
        onto that figure (由2019年的89.6%…, ending at `first_end`) is the figure's own and leads nothing."""
        s, e = self.sentence or (0, 0)
        periods = [value for start, value in self.periods if start < first_figure]
        if periods:
            self.paragraph_period = periods[-1]
        places = [c for c in self.place_cues if c.start < first_figure and c.carry]
        if places and len(_place_list(self.report.text, self.place_cues, places[-1])) == 1:
            # a list of places (甲县、乙县分别为…) is no one place the next sentences are about
            self.paragraph_place = places[-1].label
        if _announces_goals(self.report.text, s, first_figure):
            self.paragraph_target = True
        marks = self.marks
        if marks is not None:
            until = first_figure if first_end is None else first_end
            years = [y for end, y in zip(marks.year_ends, marks.years) if end <= until]
            if years and years[-1] is not None:
                self.paragraph_year = years[-1]

    @property
    def place_cues(self) -> list[PlaceCue]:
        """Place cues of the sentence being read (_place_cues)."""
        if "places" not in self._lazy:
            s, e = self.sentence or (0, 0)
            self._lazy["places"] = _place_cues(self, self.report.text, s, e, self.sentence_places)
        return self._lazy["places"]  # type: ignore[return-value]


def extract_facts(report: Report, unmapped: bool = False) -> list[Fact]:
    """All facts of one report, in text order, duplicates removed (first occurrence kept)."""
    text = report.text
    mentions = find_indicators(text)
    places = find_places(text, former=True)  # memoised: the tables reader reads the same
    m_starts = [m.start for m in mentions]
    p_starts = [p.start for p in places]
    meta = report.meta
    ctx = SectionContext(report, target=meta.doc_type == "plan", section_year=None)
    title = meta.title or ""
    title_periods = _period_cues(title, 0, len(title))
    if title_periods:
        ctx.doc_period = title_periods[-1][1]
    lines: list[Line] = []
    pos = 0
    for line in text.split("\n"):
        lines.append(Line(pos, line))
        pos += len(line) + 1
    seps = separators(report.raw_text, lines, report.raw_span)  # `|` lines the clean stage dropped
    cells, table_lines = read_tables(text, lines, mentions, _units(), meta.report_year, seps)
    by_line: dict[int, list] = {}
    for c in cells:
        by_line.setdefault(c.line, []).append(c)
    table_scope: tuple[str | None, int | None] = (None, None)
    for li, (line_start, line) in enumerate(lines):
        line_end = line_start + len(line)
        if li in table_lines and li - 1 not in table_lines:
            # a table takes the period and year its lead-in line names (2023年4月各县区…见下表)
            table_scope = _lead_in(ctx, lines, li)
        enter_line(ctx, line, line_start, places[bisect.bisect_left(p_starts, line_start) : bisect.bisect_left(p_starts, line_end)])
        if li in table_lines:
            ctx.paragraph_period, ctx.paragraph_year = table_scope
            ctx.facts.extend(_table_fact(ctx, c, line_start, len(line)) for c in by_line.get(li, []))
            continue
        if not unmapped:
            k = bisect.bisect_left(m_starts, line_start)
            if k == len(m_starts) or m_starts[k] >= line_start + len(line):
                continue  # no indicator named in the line: none of its sentences is read
        for sentence_match in rules().sentence.finditer(line):
            s, e = line_start + sentence_match.start(), line_start + sentence_match.end()
            mentions_in = mentions[bisect.bisect_left(m_starts, s) : bisect.bisect_left(m_starts, e)]
            quantities = find_quantities(text, s, e)
            if mentions_in and quantities:
                quantities = _outside_names(text, quantities, mentions_in)
            places_in = places[bisect.bisect_left(p_starts, s) : bisect.bisect_left(p_starts, e)]
            if mentions_in or (unmapped and quantities):
                _read_sentence(ctx, s, e, [m for m in mentions_in if m.end <= e], quantities, places_in)
            else:
                ctx.enter_sentence(s, e, places_in)  # no figure of an indicator, but its cues may lead
            if quantities:  # a sentence without figures (启动某市…项目) leads nothing
                ctx.lead(quantities[0].start, quantities[0].end)
    seen: set[tuple] = set()
    out: list[Fact] = []
    previous: Fact | None = None
    for f in ctx.facts:
        # a rate right after a count describes that count (热线297件,整改完成率100%): the count is
        # part of its identity, so two 100% rates of different counts are two facts
        anchor = None
        if previous and previous.sentence == f.sentence and f.unit == "%" and previous.unit == "count":
            anchor = (previous.value, previous.qualifier)
        previous = f
        if f.indicator is None and not unmapped:
            continue
        if f.ranged and f.kind == "actual" and f.indicator is not None:
            continue  # 各县PM2.5浓度在24-31之间, 均在90%以上: a spread over places, no one place's figure
        if f.indicator is None and not f.unit:
            continue  # a bare number with no indicator is not a figure of anything
        key = (f.city, f.year, f.period, f.indicator.id if f.indicator else f.label, f.kind, round(f.value, 6), f.unit, f.qualifier, anchor)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


@lru_cache(maxsize=1)
def _units() -> dict[str, tuple[str, float]]:
    return {k: (v[0], float(v[1])) for k, v in read_yaml("units.yaml")["units"].items()}


def _lead_in(ctx: SectionContext, lines: list[Line], first: int) -> tuple[str | None, int | None]:
    """Period and year named by the last non-empty line before a table, else the paragraph's."""
    for start, line in reversed(lines[max(0, first - 2) : first]):
        if line.strip():
            periods = _period_cues(ctx.report.text, start, start + len(line))
            years = [int(y) for y in rules().year_in_text.findall(line)]
            return (periods[-1][1] if periods else ctx.paragraph_period), (years[-1] if years else ctx.paragraph_year)
    return ctx.paragraph_period, ctx.paragraph_year


def _table_fact(ctx: SectionContext, c, line_start: int, line_len: int) -> Fact:
    by_context = c.kind == "actual" and c.year is None  # a column naming neither a year nor what it holds
    kind = "target" if c.kind == "target" or (ctx.target and by_context) else c.kind
    f = Fact(c.start, c.end, c.indicator, c.value, c.unit, kind, kind_basis=_context_basis(ctx) if by_context else CUE)
    if kind == "target":
        f.comparator = "<=" if c.indicator.direction == "lower_better" else ">="
    period = (c.period or ctx.scope_period) if c.period is not None else None
    f.year = c.year or _default_year(ctx, period)
    f.city = c.place or ctx.report.meta.city or ""  # a table whose rows are places
    if c.period is not None:
        f.period = c.period or ctx.scope_period
    f.sentence = (line_start, line_start + line_len)
    return f


def enter_line(ctx: SectionContext, line: str, line_start: int = 0, places: list[Mention] | None = None) -> None:
    """A new line is a new paragraph; a heading also opens a section (see SectionContext, "Scope").
    With the line's offset and place mentions, a heading's place and period cues are read too."""
    r = rules()
    stripped = line.strip()
    years = [int(y) for y in r.year_in_text.findall(stripped[:12])]
    if stripped.startswith(r.continues_paragraph):
        return  # 其中,…: the paragraph before goes on, with its time and place
    ctx.paragraph_period = ctx.paragraph_place = None
    ctx.paragraph_target = False
    if places is not None:
        _enter_heading(ctx, line, line_start, places)
    if r.heading.match(stripped) and len(stripped) <= HEADING_CHARS:
        # the cue word nearest the end decides: 重点工作成效 reports results, 工作总结和工作安排 plans
        cues = [(stripped.rfind(w), True) for w in r.section_target if w in stripped]
        cues += [(stripped.rfind(w), False) for w in r.section_actual if w in stripped]
        ctx.target = max(cues)[1] if cues else ctx.report.meta.doc_type == "plan"
        ctx.target_basis = SECTION if cues else DOCUMENT
        heading_years = [int(y) for y in r.year_in_text.findall(stripped)]
        ctx.section_year = heading_years[0] if heading_years else None
        ctx.paragraph_year = None
    else:
        ctx.paragraph_year = years[0] if years and r.year_in_text.match(stripped) else None


def _enter_heading(ctx: SectionContext, line: str, line_start: int, places: list[Mention]) -> None:
    """A numbered heading (一、… or (一)…, alone or leading its paragraph: 「(二)县级城市。…」)
    sets the section's place and period; a heading without them clears the previous section's."""
    r = rules()
    lead = len(line) - len(line.lstrip())
    chapter = r.heading.match(line, lead)
    if not chapter and not r.subheading.match(line, lead):
        return
    stop = line.find(r.full_stop, lead)
    end = len(line) if stop < 0 else stop
    if end - lead > HEADING_CHARS:
        return
    s, e = line_start + lead, line_start + end
    text = ctx.report.text
    periods = _period_cues(text, s, e)
    period = periods[-1][1] if periods else None
    cues = [c for c in _place_cues(ctx, text, s, e, [p for p in places if p.end <= e]) if c.carry]
    place = cues[-1].label if cues else None
    if chapter:  # a chapter ends its subsections too
        ctx.section_period, ctx.section_place = period, place
        ctx.subsection_period = ctx.subsection_place = None
    else:
        ctx.subsection_period, ctx.subsection_place = period, place


def _default_year(ctx: SectionContext, period: str | None = None) -> int | None:
    """The year of a figure whose sentence names none: its paragraph's, its section's, else the
    document's; a part of a year (`period`) the page was published after is of the publication year."""
    if ctx.paragraph_year:
        return ctx.paragraph_year
    if ctx.section_year:
        return ctx.section_year
    meta = ctx.report.meta
    if meta.report_year and ctx.target and meta.doc_type in ("summary", "report"):
        return max([*meta.years, meta.report_year + 1]) if max(meta.years or [0]) > meta.report_year else meta.report_year + 1
    if period is not None and (year := _published_period_year(meta, period)) is not None:
        return year
    return meta.report_year


# where a page's publication date comes from when it is too weak to date a period by (a date in a
# link of the page may be any page's)
UNDATING_SOURCES = (LINK_DATE,)
# where a report year comes from when it is stated for the document (its title, the user)
STATED_YEAR_SOURCES = ("title", "given")


def _period_end(period: str) -> int | None:
    """The month a part of a year ends in (1-11月: 11, 上半年: 6), None for a whole year or an
    unknown form (累计, 秋冬季)."""
    r = rules()
    if period in r.period_end_forms:
        return r.period_end_forms[period]
    m = r.period_end_month.search(period)
    return int(m.group(1)) if m else None


def _published_period_year(meta, period: str) -> int | None:
    """A January bulletin published in February 2019 recaps 2018 as well, and the text names 2018
    most: its undated 1月 is still January 2019. A part of a year named without a year, on a page
    whose title and user state no year, is the latest such part that ended by the month the page
    was published. None when the page's date is unknown or weak, or the period is no part of a year."""
    published = meta.published
    if published is None or meta.sources.get("published") in UNDATING_SOURCES:
        return None
    if meta.sources.get("report_year") in STATED_YEAR_SOURCES:
        return None
    end = _period_end(period)
    if end is None or end == 12:
        return None
    # a period ending in the month of publication is still this year's (截至4月5日, published in April;
    # a date path gives only the month)
    return published.year if end <= published.month else published.year - 1


CLAUSE_WINDOW = 64  # clause breaks are looked for this many characters at a time


def _clause_start(text: str, s: int, pos: int) -> int:
    """Start of the clause holding pos: after the last clause break in [s, pos), else s.
    Found by str.rfind in windows (C speed; a window, as a break is usually near)."""
    hi = pos
    while hi > s:
        lo = max(s, hi - CLAUSE_WINDOW)
        j = max(text.rfind(c, lo, hi) for c in CLAUSE_BREAK)
        if j >= 0:
            return j + 1
        hi = lo
    return min(s, pos)


def _clause_end(text: str, pos: int, e: int) -> int:
    """End of the clause holding pos: the first clause break in [pos, e), else e."""
    lo = pos
    while lo < e:
        hi = min(e, lo + CLAUSE_WINDOW)
        found = [j for j in (text.find(c, lo, hi) for c in CLAUSE_BREAK) if j >= 0]
        if found:
            return min(found)
        lo = hi
    return max(e, pos)


def _in_parens(ctx: SectionContext, pos: int) -> bool:
    m = ctx.marks
    return m is not None and bisect.bisect_left(m.opens, pos) > bisect.bisect_left(m.closes, pos)


def _minus_before(text: str, pos: int) -> bool:
    """Whether the figure at `pos` is written with a minus sign (-4.2%), not as a range's end (30-35)."""
    return pos > 0 and text[pos - 1] in rules().minus_signs and not (pos > 1 and text[pos - 2].isalnum() and text[pos - 2].isascii())


def _groups(text: str, quantities: list[Quantity]) -> list[list[Quantity]]:
    """Quantities joined only by 、/和 form one list (55、35、34微克/立方米, 9.1%和-4.2%)."""
    r = rules()
    joins = r.number_list_joins
    groups: list[list[Quantity]] = []
    for q in quantities:
        gap = text[groups[-1][-1].after_end : q.start] if groups else ""
        if groups and (gap in joins or (_minus_before(text, q.start) and gap[:-1] in joins)):
            groups[-1].append(q)
        else:
            groups.append([q])
    out = []
    for g in groups:
        unit = g[-1]
        fixed = [q if q.unit else replace(q, unit=unit.unit, unit_text=unit.unit_text) for q in g] if unit.unit else g
        out.append(fixed)
    return out


def _chain(text: str, names: list[IndicatorMention], i: int) -> list[IndicatorMention]:
    """Names listed together before one figure list (names[i] the last of them):
    可吸入颗粒物(PM10)、细颗粒物(PM2.5)、二氧化氮(NO2)."""
    r = rules()
    chain = [names[i]]
    while i > 0:
        prev = names[i - 1]
        between = text[prev.end : chain[0].start]
        if prev.indicator.id == chain[0].indicator.id and between.strip("()") == "":
            chain[0] = prev if prev.start < chain[0].start else chain[0]
            i -= 1
            continue
        if between.strip("()") in r.list_join and not r.list_break.search(between):
            chain.insert(0, prev)
            i -= 1
            continue
        break
    # a name written twice in a row (细颗粒物(PM2.5)) counts once
    out: list[IndicatorMention] = []
    for m in chain:
        if not out or out[-1].indicator.id != m.indicator.id:
            out.append(m)
    return out


@lru_cache(maxsize=1)
def _conversions() -> dict[tuple[str, str], float]:
    """Unit -> unit multipliers (units.yaml `convert`): 0.062 mg/m3 of PM10 is 62 ug/m3."""
    return {(a, b): float(k) for a, to in read_yaml("units.yaml")["convert"].items() for b, k in to.items()}


def _in_unit(ind: Indicator | None, q: Quantity) -> Quantity:
    """`q` in the indicator's own unit when it is written in another it converts from (pre-2013
    bulletins give PM10, SO2 and NO2 in mg/m3); else `q` unchanged."""
    factor = _conversions().get((q.unit or "", ind.unit)) if ind is not None else None
    if factor is None or ind is None:
        return q
    return replace(q, value=round(q.value * factor, 6), unit=ind.unit)


def _compatible(ind: Indicator, q: Quantity, change: bool) -> bool:
    if q.unit is not None and (q.unit, ind.unit) in _conversions():
        return True
    if change:
        if q.unit is None:
            return ind.unit == "index"  # 综合指数同比下降0.07
        return q.unit in (ind.unit, "%") or (ind.unit == "%" and q.unit == "pp")
    if q.unit is None:
        # 劣V类水体比例为0: a bare zero is a zero in the indicator's own unit
        return ind.unit == "index" or (q.value == 0 and not q.unit_text)
    return q.unit == ind.unit


class Pairing(NamedTuple):
    """A figure of a sentence and what it was paired with."""

    indicator: Indicator | None
    quantity: Quantity
    how: str  # "level", "change", or "completed" (a total restated as done: its part)
    between: str = ""  # the words between a count and its noun (498个长江入河排污口整治任务)


class ChangeCue(NamedTuple):
    """The direction verb of a change and the other period it is measured against, if any."""

    verb: str
    other_base: str


@dataclass
class SentenceReading:
    """One sentence being read: its mentions and figures, and what the passes find in them."""

    text: str
    s: int
    e: int
    mentions: list[IndicatorMention]  # every mention in the sentence (names, zero names, subjects)
    quantities: list[Quantity]
    names: list[IndicatorMention]  # the mentions that are names
    name_starts: list[int]
    name_index: dict[int, int]  # id(mention) -> its index in `names`
    groups: list[list[Quantity]]  # figures joined by 、/和 form one group
    claimed: set[int] = field(default_factory=set)  # ids of the names a group took
    resolved: dict[int, list[Pairing]] = field(default_factory=dict)  # group index -> its pairings
    changes: dict[int, ChangeCue] = field(default_factory=dict)  # group index -> its change cue
    facts: list[Fact] = field(default_factory=list)
    change_facts: set[int] = field(default_factory=set)  # ids of the facts stated as changes (a targeted change too)
    shared: dict[int, list[str]] = field(default_factory=dict)  # a figure stated once for a list of places -> their labels
    last_level: list[Fact] = field(default_factory=list)  # the latest level figures (what a bare change is of)


def _read_sentence(
    ctx: SectionContext, s: int, e: int, mentions_in: list[IndicatorMention], quantities: list[Quantity], places_in: list[Mention]
) -> None:
    """A sentence's facts: pass 1 pairs changes and figures after their names, pass 2 counts
    written before their noun, then every group of figures becomes facts (_group_facts); a figure
    stated once for a list of places is copied to each, and zero, full and flat phrases are read."""
    text = ctx.report.text
    ctx.enter_sentence(s, e, places_in)
    name_ms = [m for m in mentions_in if m.role == "name"]
    ctx.mention_starts = [m.start for m in mentions_in]
    sr = SentenceReading(
        text, s, e, mentions_in, quantities, name_ms, [m.start for m in name_ms], {id(m): k for k, m in enumerate(name_ms)}, _groups(text, quantities)
    )
    _pair_after_names(ctx, sr)
    _pair_counts_before_nouns(sr)
    for gi, g in enumerate(sr.groups):
        _group_facts(ctx, sr, gi, g)
    _spread_over_places(sr)
    _zero_and_full(ctx, text, s, e, mentions_in, sr.facts)
    _flat(ctx, text, s, e, mentions_in, sr.facts)
    _compared_values(text, s, sr.facts)
    _target_references(text, s, sr.facts)
    sr.facts.sort(key=lambda f: f.start)
    ctx.facts.extend(sr.facts)


def _pair_after_names(ctx: SectionContext, sr: SentenceReading) -> None:
    """Pass 1: changes (a verb before the figure) and figures that follow their names."""
    r = rules()
    text, s, quantities, name_ms = sr.text, sr.s, sr.quantities, sr.names
    floor = s
    sentence_base = ""
    shares, wholes = _shares(text, s, name_ms, sr.groups)
    for gi, g in enumerate(sr.groups):
        head = g[0]
        if gi in wholes or gi in shares:
            if gi in shares:
                sr.resolved[gi] = [Pairing(shares[gi], q, "level") for q in g]
            floor = g[-1].after_end
            continue
        clause_start = _clause_start(text, s, head.start)
        pre = text[max(clause_start, floor) : head.start - len(head.before)]
        cue = r.change.search(pre) if r.change_verbs.search(pre) else None  # a change holds a verb
        if cue and cue.group("verb") in r.after_base and not (cue.group("base") or cue.group("other")):
            cue = None  # 多/少 without a base (至少3天) is no change
        lo = bisect.bisect_left(sr.name_starts, max(clause_start, floor))
        hi = bisect.bisect_left(sr.name_starts, head.start)
        names = [m for m in name_ms[lo:hi] if m.end <= head.start]
        if names and any(w in text[names[-1].end : head.start] for w in r.not_indicator_after):
            names = []  # 二氧化硫…排放总量: an emission, not the catalog's concentration
        if cue:
            if cue.group("base"):
                sentence_base = ""  # 同比: back to the same period a year earlier
            elif cue.group("other"):
                sentence_base = cue.group("other")
            elif not sentence_base and (lead := list(r.other_base.finditer(text, max(clause_start, floor) if gi else s, clause_start))):
                sentence_base = lead[-1].group(0)  # 与2015年相比,…下降30.2%
            # 较2015年下降36.3%;可吸入颗粒物浓度下降48: a base named once governs the changes after it
            sr.changes[gi] = ChangeCue(cue.group("verb"), cue.group("other") or sentence_base)
            if names:
                near = _chain(text, name_ms, sr.name_index[id(names[-1])])
                inds = [m.indicator for m in near]
            else:
                inds = []
            sr.resolved[gi] = [
                Pairing(inds[i] if i < len(inds) else (inds[-1] if len(inds) == 1 else None), q, "change")
                for i, q in enumerate(g)
            ]
        elif not names and (topic := _topic(ctx, text, name_ms, clause_start, head)) is not None:
            if topic[1]:  # 丁县降幅最大,为17.2%: the place's change
                sr.changes[gi] = ChangeCue(topic[1], sentence_base)
            sr.resolved[gi] = [Pairing(topic[0], q, "change" if topic[1] else "level") for q in g]
        elif not names and (pre in r.links or r.share_word.fullmatch(pre)):
            # "…排放降低率完成省下达目标,达到4.2%": the name sits in the clause before
            earlier = [m for m in sr.mentions if m.role == "name" and m.end <= clause_start and id(m) not in sr.claimed]
            # 水质优良断面13个,占86.7%: a count of the subject may stand between it and its share;
            # a bare share word (…断面7个,比例为70.0%) only after such a count
            between = [x for x in quantities if earlier and earlier[-1].end <= x.start < clause_start]
            # 比2020年下降18%以上,控制在45微克/立方米以内: the subject's own change may stand there too
            changed = {id(p.quantity) for ps in sr.resolved.values() for p in ps
                       if earlier and p.how == "change" and p.indicator is earlier[-1].indicator}
            between = [x for x in between if id(x) not in changed]
            if (earlier and all(x.unit == "count" for x in between) and _compatible(earlier[-1].indicator, head, False)
                    and (not between or earlier[-1].indicator.unit == "%") and (between or pre in r.links)):
                # PM2.5、PM10浓度较高,分别为42、70: a list of names before takes the figures in turn
                at = sr.name_index.get(id(earlier[-1]))
                chain = _chain(text, name_ms, at) if at is not None else [earlier[-1]]
                if len(chain) == len(g):
                    sr.resolved[gi] = [Pairing(m.indicator, q, "level") for m, q in zip(chain, g)]
                elif len(chain) == 1:
                    sr.resolved[gi] = [Pairing(earlier[-1].indicator, q, "level") for q in g]
                if gi in sr.resolved:
                    sr.claimed.update(id(m) for m in chain)
        elif names:
            last = names[-1]
            gap = GLOSS.sub("", text[last.end : head.start - len(head.before)])  # 优良率(AQI≤100的天数)为
            gap = r.attributive_year.sub("", gap)  # 浓度从2013年的106: the year written onto the figure
            # 19天重度污染、4天严重污染: a name right after a count is that count's noun, and the
            # figure after the list mark starts the next item
            counted = gap == r.list_mark and any(x.after_end == last.start for x in quantities)
            if len(gap) <= r.gap_after and not r.list_break.search(gap) and not counted:
                chain = _chain(text, name_ms, sr.name_index[id(last)])
                if len(chain) == len(g):
                    pairs = [Pairing(m.indicator, q, "level") for m, q in zip(chain, g)]
                else:
                    pairs = [Pairing(last.indicator, q, "level") for q in g]
                if all(_compatible(p.indicator, p.quantity, False) for p in pairs):
                    sr.resolved[gi] = pairs
                    sr.claimed.update(id(m) for m in chain)
        floor = g[-1].after_end


def _pair_counts_before_nouns(sr: SentenceReading) -> None:
    """Pass 2: counts written before their noun (完成498个长江入河排污口整治任务)."""
    r = rules()
    text, s, e, quantities = sr.text, sr.s, sr.e, sr.quantities
    for gi, g in enumerate(sr.groups):
        if gi in sr.resolved:
            continue
        q = g[-1]
        if q.unit_text not in r.counting_units and q.unit not in r.counted_before_noun:
            continue
        if text.endswith(r.duration_before, s, g[0].start - len(g[0].before)):
            continue  # 提前11天完成…目标: how early, not a count of days
        clause_end = _clause_end(text, q.after_end, e)
        next_figure = next((x.start for x in quantities if x.start >= q.after_end), e)
        for m in sr.mentions:
            if m.role != "name" or m.start < q.after_end or id(m) in sr.claimed:
                continue
            if m.start - q.after_end > r.gap_before or m.end > min(clause_end, next_figure):
                break
            if _compatible(m.indicator, q, False):
                ind = m.indicator
                tail = text[m.end : clause_end]
                child = _children().get(ind.id)
                how = "level"
                if child and r.completion_after.match(tail.lstrip(r.count_noun_filler)):
                    ind, how = child, "completed"  # the total restated as done: no parent needed
                # the words between a count and its noun narrow it (498个长江入河排污口整治任务):
                # a qualifier pattern over them and the name, else the words as written
                named = [x.group(0) for x in r.qualifier.finditer(text, q.after_end, m.end)]
                if not named and not text[q.after_end : m.start].strip(r.count_noun_filler):
                    # 3次中央…督察反馈意见涉及的106项整改任务: the source stands before the count
                    named = [x.group(0) for x in r.qualifier.finditer(text, _clause_start(text, s, q.start), q.start)][-1:]
                qual = max(named, key=len) if named else text[q.after_end : m.start].strip(r.count_noun_filler)
                if qual and (split := r.split_modifier.search(text, max(s, q.start - 8), q.start)):
                    qual = split.group(0) + qual  # 第二轮17项中督整改任务: a modifier the count splits
                sr.resolved[gi] = [Pairing(ind, x, how, qual) for x in g]
                sr.claimed.add(id(m))
                break


def _group_facts(ctx: SectionContext, sr: SentenceReading, gi: int, g: list[Quantity]) -> None:
    """The facts of one group of figures: each paired figure (or a bare one) with its kind,
    comparator, qualifier, period, year and place; then the changes that found no name of their
    own take the level figures before them."""
    text, s, mentions_in = sr.text, sr.s, sr.mentions
    pairs = sr.resolved.get(gi) or [Pairing(None, q, "level") for q in g]
    clause_start = _clause_start(text, s, g[0].start)
    scope = _scope_before(ctx.marks, g[0].start)
    quals = _list_qualifiers(text, clause_start, mentions_in, g, pairs, ctx.mention_starts)
    for idx, pairing in enumerate(pairs):
        f = _pair_fact(ctx, sr, gi, g, clause_start, scope, quals, idx, pairing, len(pairs))
        sr.facts.append(f)
        if pairing.how == "change":
            sr.change_facts.add(id(f))
    group_facts = sr.facts[-len(pairs):]
    if any(id(f) not in sr.change_facts and f.indicator for f in group_facts):
        current = [f for f in group_facts if f.indicator and not f.in_parens and id(f) not in sr.change_facts]
        if current:
            sr.last_level = current
    # changes that found no name of their own take the figures before them
    for f in group_facts:
        if id(f) in sr.change_facts and f.indicator is None and sr.last_level:
            _change_of_level_before(ctx, sr, gi, f, group_facts.index(f), len(pairs))


def _pair_fact(ctx: SectionContext, sr: SentenceReading, gi: int, g: list[Quantity], clause_start: int, scope: str,
               quals: list[str], idx: int, pairing: Pairing, n_pairs: int) -> Fact:
    """The fact of one figure of a group (the idx-th of n_pairs)."""
    r = rules()
    text, s, e, mentions_in = sr.text, sr.s, sr.e, sr.mentions
    ind, q, how, between = pairing
    is_change = how == "change"
    if ind is not None and ind.part_of and how != "completed" and not _has_parent(ind, sr.facts, mentions_in, q.start):
        ind = None
    if ind is not None and not _compatible(ind, q, is_change):
        ind = None
    q = _in_unit(ind, q)
    if ind is not None and scope:
        ind = _under_scope(ind, scope)
    kind, basis = _kind(ctx, text, clause_start, q, s)
    verb, other_base = sr.changes.get(gi, ChangeCue("", ""))
    if kind != "target" and _continues_targets(sr, clause_start, q, is_change, other_base):
        kind, basis = "target", CUE
    value = _change_value(text, q.start, q.value, verb, ind) if is_change else q.value
    # a plan's section asks for improvements: a change for the worse there is reported (同比上升2.1%)
    reported = is_change and kind == "target" and basis in (SECTION, DOCUMENT) and _worse(value, ind)
    if reported:
        kind, basis = "change", CUE
    if is_change and kind != "target":
        kind = "change"  # a change asked for (目标…下降25%) stays a target, signed
    f = Fact(q.start, q.end, ind, value, q.unit or (ind.unit if ind else ""), kind, kind_basis=basis)
    f.approx = q.approx or (kind == "actual" and q.after in r.approx_after_actual)
    f.ranged = q.range_end is not None or (
        q.after in r.comp_after and r.spread_bound.search(text, clause_start, q.start - len(q.before)) is not None)
    # 在76.3%—84.2%之间: each end written with its unit, a range all the same
    f.ranged = f.ranged or (q.unit is not None and r.range_join_after.match(text, q.after_end) is not None)
    if kind == "target":
        f.comparator = ("<=" if value < 0 else ">=") if is_change else _comparator(text, clause_start, g[0], q, ind)
    f.qualifier = (quals[idx] if quals else between) or _qualifier(text, clause_start, mentions_in, q, ind, ctx.mention_starts) or scope
    f.period = _period(ctx.periods, q.start, ctx.scope_period)
    if kind == "target" and f.period != ANNUAL and _whole_year_target(ctx, text, s, q.start):
        f.period = ANNUAL  # 1-6月…今年PM2.5平均浓度不高于36, 截至6月30日,…年度目标为…: this year's target
    f.year = _reported_year(ctx, text, s, q.start, f.period) if reported else _year(ctx, text, s, q.start, f.period)
    if other_base:
        f.period = _normal_base(other_base, f.year, f.period)
    if ind is not None and not f.qualifier:
        f.qualifier = _inherited_qualifier(ind, f, sr.facts)
    elif ind is not None and ind.part_of and f.qualifier == scope:
        f.qualifier = _inherited_qualifier(ind, f, sr.facts) or f.qualifier
    if f.indicator is not None and f.qualifier and f.qualifier != scope:
        f.indicator = _under_scope(f.indicator, f.qualifier)  # 12个国考断面优良比例: that network's share
    elif f.indicator is not None and not f.qualifier:
        f.indicator = _under_scope(f.indicator, text[clause_start : q.start])  # 省级考核断面水质优良比例为…
    cue, f.city = _place_cue(ctx, q.start, text)
    if cue is not None and (cue.start >= clause_start or not text[cue.end : clause_start].strip(r.place_list_marks + " ,;")):
        listed = _place_list(text, ctx.place_cues, cue)
        if len(listed) == n_pairs > 1:  # 甲县、乙县分别为30、40
            f.city = listed[idx].label or f.city
        elif len(listed) > 1 and n_pairs == 1:  # 甲县、乙县均为31: one figure each
            sr.shared[id(f)] = [c.label or ctx.report.meta.city or "" for c in listed]
        elif n_pairs > 1 and len(quals) == n_pairs:
            # 甲县、乙县、某某湖区…分别为…: a list of subjects, not all of them places the gazetteer
            # knows: each figure takes its own subject's place, or none (never the list's last place)
            named = {text[c.start : c.end]: c for c in ctx.place_cues}
            own = named.get(quals[idx])
            f.city = (own.label or f.city) if own is not None else ""
    elif cue is not None and cue.start >= s and n_pairs > 1:
        # 甲县、乙县优良天数比例分别为80%、85%,PM2.5浓度分别为30、28: the sentence's list again
        listed = _place_list(text, ctx.place_cues, cue)
        if len(listed) == n_pairs:
            f.city = listed[idx].label or f.city
    f.sentence = (s, e)
    f.in_parens = _in_parens(ctx, q.start)
    if ind is None:
        f.label = _label(text, clause_start, q)
    return f


def _continues_targets(sr: SentenceReading, clause_start: int, q: Quantity, is_change: bool, other_base: str) -> bool:
    """Whether a figure goes on a list of targets (…不高于27微克/立方米,国考断面水质优良比例保持100%,
    重污染天数比2024年减少20%以上): the figure before it in its sentence, in an earlier clause, is a
    target by a cue of its own, and this one keeps a level (targets.yaml `target_list`) or is a change
    bounded (以上) or against another year (比2024年), never a year-on-year change (同比)."""
    r = rules()
    before = next((f for f in reversed(sr.facts) if f.indicator is not None and f.start < q.start), None)
    if before is None or before.kind != "target" or before.kind_basis != CUE or before.end > clause_start:
        return False
    if is_change:
        return q.after in r.comp_after or bool(other_base)
    return sr.text[clause_start : q.start - len(q.before)].endswith(r.list_keep)


def _change_of_level_before(ctx: SectionContext, sr: SentenceReading, gi: int, f: Fact, j: int, n_pairs: int) -> None:
    """A change with no name of its own (the j-th of its group) takes the level figure before it:
    the j-th of the last level group when the groups match, else the last level figure."""
    last_level = sr.last_level
    src = last_level[j] if len(last_level) == n_pairs else (last_level[-1] if n_pairs == 1 else None)
    if src is not None and n_pairs == 1 and not _compatible(src.indicator, _as_q(f), True):
        # 优良天数245天,比例89.7%,较去年同期增加8天: the change in days is the days'
        src = next((x for x in reversed(sr.facts) if x.indicator and id(x) not in sr.change_facts
                    and x.start < f.start and x.unit == f.unit), None)
    if src and _compatible(src.indicator, _as_q(f), True):
        f.indicator = src.indicator
        f.unit = f.unit or src.indicator.unit
        if not any(src.start < c.start < f.start for c in ctx.place_cues):
            f.city = src.city  # 全国…为29,同比下降3%: the change is the nation's too
        f.qualifier = f.qualifier or src.qualifier
        f.value = _change_value(ctx.report.text, f.start, f.value, sr.changes.get(gi, ChangeCue("", "")).verb, src.indicator)
        converted = _in_unit(src.indicator, _as_q(f))
        f.value, f.unit = converted.value, converted.unit or f.unit
        f.label = ""


def _spread_over_places(sr: SentenceReading) -> None:
    """A figure stated once for a list of places (甲县、乙县均为31) is a fact of each of them."""
    for f in list(sr.facts):
        for city in sr.shared.get(id(f), [])[:-1]:
            sr.facts.append(replace(f, city=city))


def _topic(ctx: SectionContext, text: str, names: list[IndicatorMention], clause_start: int,
           head: Quantity) -> tuple[Indicator, str] | None:
    """The indicator of a place-value clause: a clause holding only places and a link word
    before its figure (甲区为4.23 / 乙县(14微克/立方米)), or only a link word after a clause
    ending in a place (最高的是丙市,为63), is a figure of the last indicator named before it
    in the sentence (data/constructions/places.yaml `place_value_links`); with the verb of a
    change when the place is said to change most (丁县降幅最大,为17.2%: `place_change_fillers`),
    else ""."""
    cues = [c for c in ctx.place_cues if c.start < head.start]
    if not cues:
        return None
    verb = ""
    rest, at = [], clause_start
    in_clause = [c for c in cues if c.start >= clause_start]
    for c in in_clause:
        rest.append(text[at : c.start])
        at = c.end
    rest.append(text[at : head.start - len(head.before)])
    r = rules()
    words = "".join(rest).strip(r.place_list_marks + " ")
    for lead in r.place_value_leads:  # 其中甲区、乙区分别为…
        words = words.removeprefix(lead).strip(r.place_list_marks + " ")
    if in_clause:
        for filler, down_or_up in r.place_change_fillers.items():
            if words.startswith(filler):
                words, verb = words.removeprefix(filler), down_or_up
        for filler in r.place_value_fillers:  # 全省平均为92.6%, 丙县最高为38
            words = words.removeprefix(filler)
    links = r.place_value_links
    if words and words not in links:
        return None
    if not in_clause:
        before = text[cues[-1].end : clause_start].strip(r.place_list_marks + " ,;")
        for filler in r.place_value_fillers:
            before = before.removeprefix(filler)
        if before in r.place_change_fillers:
            before, verb = "", r.place_change_fillers[before]
        if not words or before:
            return None  # the place must end the clause just before
    for m in reversed(names):
        if m.end <= head.start and _compatible(m.indicator, head, bool(verb)):
            return m.indicator, verb
    return None


def _under_scope(ind: Indicator, scope: str) -> Indicator:
    """A share named loosely (优良比例) under a scope of sections (12个国考断面中,…), with them
    as its qualifier (12个国考断面优良比例) or in its clause, is the sections' share, not the
    air's (data/constructions/qualifiers.yaml `scope_indicators`, the last match wins)."""
    found = ind
    for pattern, source, target in rules().scope_indicators:
        if ind.id == source and pattern.search(scope):
            found = indicators()[target]
    return found


def _outside_names(text: str, quantities: list[Quantity], mentions_in: list[IndicatorMention]) -> list[Quantity]:
    """A number inside an indicator's name (日最大8小时平均浓度第90百分位数) is part of the name,
    and so is a bare number inside a gloss in brackets right after the name, with words after
    it (优良率(AQI≤100的天数)为…): a definition, not a figure. A bracket holding only a figure
    (综合指数(4.23)) is the figure."""
    names = sorted((m.start, m.end) for m in mentions_in)
    glosses = []
    for m in mentions_in:
        if text.startswith("(", m.end) and (close := text.find(")", m.end, m.end + GLOSS_CHARS)) > 0:
            glosses.append((m.end, close))
    glosses.sort()
    name_starts = [a for a, _ in names]
    gloss_starts = [a for a, _ in glosses]

    def inside(spans: list[tuple[int, int]], starts: list[int], q: Quantity) -> tuple[int, int] | None:
        # the spans starting at or before the number: names are short, so the nearest few
        i = bisect.bisect_right(starts, q.start)
        for a, b in spans[max(0, i - NESTED_NAMES) : i]:
            if a <= q.start and q.end <= b:
                return a, b
        return None

    def in_gloss(q: Quantity) -> bool:
        span = inside(glosses, gloss_starts, q) if q.unit is None else None
        return span is not None and span[0] < q.start and bool(text[q.after_end : span[1]].strip())

    return [q for q in quantities if inside(names, name_starts, q) is None and not in_gloss(q)]


def _worse(value: float, ind: Indicator | None) -> bool:
    """Whether a signed change goes the worse way for its indicator (a rise of a concentration)."""
    if ind is None or ind.direction == "neutral":
        return False
    return value > 0 if ind.direction == "lower_better" else value < 0


def _reported_year(ctx: SectionContext, text: str, s: int, pos: int, period: str | None = None) -> int | None:
    """The year of a figure reported inside a plan's section: as if the section held no targets."""
    held = ctx.target
    ctx.target = False
    try:
        return _year(ctx, text, s, pos, period)
    finally:
        ctx.target = held


def _as_q(f: Fact) -> Quantity:
    return Quantity(f.start, f.end, f.value, f.unit or None, "", f.approx, "", "", f.end)


def _change_value(text: str, pos: int, value: float, verb: str, ind: Indicator | None) -> float:
    """A change's signed value: its verb's direction (_signed), turned round by a minus sign
    written before the figure (同比改善-4.2%: a worsening)."""
    signed = _signed(value, verb, ind)
    return -signed if _minus_before(text, pos) else signed


def _signed(value: float, verb: str, ind: Indicator | None) -> float:
    r = rules()
    v = abs(value)
    if verb in r.down:
        return -v
    if verb in r.better:
        return -v if ind is not None and ind.direction == "lower_better" else v
    if verb in r.worse:
        return v if ind is not None and ind.direction == "lower_better" else -v
    return v


def _normal_base(text: str, year: int | None, period: str) -> str:
    """较2020年 stays a base; 较2022年(同期) in a 2023 figure is simply year-on-year: the figure
    keeps its own period (1-10月 stays 1-10月)."""
    r = rules()
    m = r.base_year.search(text)
    if m and not text.endswith(r.base_since):
        return period if year is not None and int(m.group(1)) == year - 1 else r.base_period.format(m.group(1))
    for mark in r.quote_marks:
        text = text.replace(mark, "")
    for word, written in r.base_words.items():
        if text.startswith(word):
            return written + text[len(word):]
    return text


def _listed_qualifier(prefix: str) -> str:
    """The words narrowing a subject before it: the last conjunct (断面和城镇… -> 城镇), whole when
    it is a list of qualifiers (9个地级、9个县级、23个乡镇级集中式), else the last qualifier."""
    r = rules()
    last = r.qualifier_list_join.split(prefix)[-1]
    covered = r.qualifier.sub("", last)
    covered = r.qualifier_counted.sub("", covered)
    for word in r.qualifier_trim:
        covered = covered.replace(word, "")
    if last and r.qualifier.search(last) and not covered:
        return last
    found = list(r.qualifier.finditer(prefix))
    return found[-1].group(0) if found else ""


def _inherited_qualifier(ind: Indicator, f: Fact, facts: list[Fact]) -> str:
    """A part takes its total's qualifier (302项 from 生态环境保护督察 -> 完成整改276项), and a
    rate right after a count takes the count's (省环保督察热线297件,整改完成率100%)."""
    last = facts[-1] if facts else None
    if last is not None and last.indicator is not None and last.start < f.start and (
        (f.unit == "%" and last.unit == "count") or last.indicator.id == ind.part_of
    ):
        return last.qualifier
    if ind.part_of:  # parts are few: only they look further back
        for x in reversed(facts):
            if x.indicator is not None and x.start < f.start and x.indicator.id == ind.part_of:
                return x.qualifier
    return ""


def _has_parent(ind: Indicator, facts: list[Fact], mentions_in: list[IndicatorMention], before: int) -> bool:
    """A part (已整改完成86项) needs its total as the latest figure before it, or named before it."""
    for f in reversed(facts):  # the latest level figure before it
        if f.indicator and f.kind != "change" and f.start < before:
            return f.indicator.id in (ind.part_of, ind.id)
    return any(m.indicator.id == ind.part_of and m.end <= before for m in mentions_in)


def _kind(ctx: SectionContext, text: str, clause_start: int, q: Quantity, s: int | None = None) -> tuple[str, str]:
    """A figure's kind (target or actual) and what decided it (KIND_BASES): a cue of its clause,
    sentence or paragraph, else its section or document (`_context_basis`)."""
    r = rules()
    if ctx.paragraph_target:
        return "target", CUE  # the paragraph opened by announcing goals
    if ctx.target:
        return "target", ctx.target_basis
    if r.target_cues.search(r.title.sub("", text[clause_start : q.start])):  # 《…目标》 is a title, not a goal
        return "target", CUE
    if r.target_after.match(text, q.end):  # 以…70%为目标, 锚定…39微克/立方米的目标
        return "target", CUE
    marks = ctx.marks if s is not None else None
    if marks is not None and marks.target_scope is not None and marks.target_scope <= clause_start:  # 目标要求…,…
        return "target", CUE
    if r.negated_bound.search(text[clause_start : q.start]):
        return "target", CUE  # 不得超过5天
    if q.after in r.frame_after and text[clause_start : q.start - len(q.before)].endswith(r.frame_before):
        return "target", CUE  # 达到72%以上
    cue = ctx.marks.target_year if ctx.marks is not None else None  # first 到2025年 of the sentence
    if s is not None and cue is not None and cue < q.start:
        return "target", CUE
    return "actual", _context_basis(ctx)


def _context_basis(ctx: SectionContext) -> str:
    """What decided a figure's kind when nothing near it does: its section's heading, else its
    document's type (a plan's figures are targets, a summary's or report's actuals), else nothing."""
    if ctx.target_basis == SECTION:
        return SECTION
    return DOCUMENT if ctx.target or ctx.report.meta.doc_type in ("summary", "report") else DEFAULT


def _comparator(text: str, clause_start: int, head: Quantity, q: Quantity, ind: Indicator | None) -> str:
    r = rules()
    if q.after in r.comp_after:
        return r.comp_after[q.after]
    pre = text[clause_start : head.start]
    for fillers in r.comparator_fillers:  # 要分别不高于 -> 不高于
        pre = fillers.sub("", pre)
    bound = r.negated_bound.search(pre)
    if bound:  # 不得高于30 is at most 30: a negated bound is never its plain word's comparator
        return r.negated_bounds[bound.group("word")]
    for word, comp in r.comp_before:
        if pre.endswith(word):
            return comp
    if ind is None:
        return ""
    return "<=" if ind.direction == "lower_better" else ">="


def _period_cues(text: str, s: int, e: int) -> list[PeriodCue]:
    cues = []
    sent = text[s:e]
    for pattern, form, normalise in rules().periods:
        for m in pattern.finditer(sent):
            groups = [g for g in m.groups() if g is not None]
            value = form.format(*groups) if "{" in form else form
            for a, b in normalise.items():
                value = value.replace(a, b)
            cues.append((s + m.start(), s + m.end(), value))
    kept: list[PeriodCue] = []
    last_end = -1
    for start, end, value in sorted(cues, key=lambda c: (c[0], -(c[1] - c[0]))):
        if start >= last_end:  # 1-11月 is one period, not also 11月
            kept.append(PeriodCue(start, value))
            last_end = end
    return kept


def _whole_year_target(ctx: SectionContext, text: str, s: int, pos: int) -> bool:
    """A target set for this year (今年…不高于36, 年度目标) in a bulletin of part of a year is the
    whole year's: its sentence names this year or the year's goal before the figure, and no period
    between them (periods.yaml `target_whole_year`)."""
    starts = [m.start() for m in rules().target_whole_year.finditer(text, s, pos)]
    return bool(starts) and not any(starts[-1] <= start < pos for start, _ in ctx.periods)


def _period(cues: list[PeriodCue], pos: int, default: str = "annual") -> str:
    found = default
    for start, value in cues:
        if start < pos:
            found = value
    return found


def _year(ctx: SectionContext, text: str, s: int, pos: int, period: str | None = None) -> int | None:
    """The last year named in the sentence before `pos` (not inside a 《title》), else the context's
    (for a figure of `period`, see _default_year)."""
    marks = ctx.marks
    i = bisect.bisect_right(marks.year_ends, pos) if marks else 0
    return marks.years[i - 1] if i and marks.years[i - 1] is not None else _default_year(ctx, period)


def _place_cues(ctx: SectionContext, text: str, s: int, e: int, places_in: list[Mention]) -> list[PlaceCue]:
    """Places named in the sentence as the owner of a figure (gazetteer mentions, place words
    and place patterns of data/constructions/places.yaml), in text order, overlaps resolved longest first."""
    r = rules()
    meta = ctx.report.meta
    own = meta.city or ""
    sent = text[s:e]
    titles = [(m.start(), m.end()) for m in r.title_or_quote.finditer(sent)]
    cues: list[PlaceCue] = []
    for m in places_in:
        start, end = m.start - s, m.end - s
        if any(a <= start < b for a, b in titles) or sent[end:].startswith(r.not_place_after):
            continue
        p = m.place
        if not m.full and end - start == 2 and p.short != own and not _at_word_start(text, m.start, s, r.short_place_after):
            continue  # 千佛山 is a mountain, not 佛山
        if m.former and not (_at_word_start(text, m.start, s, r.short_place_after) or (cues and cues[-1].end == m.start)):
            continue  # 以上城市 is no 上城区, written before it was a district
        if (p.level in CITY_LEVELS or p.level == "province") and not m.former:
            label = p.short
        else:
            label = text[m.start : m.end]  # as written: 民和县 for 民和回族土族自治县, 祁阳县 before it was 祁阳市
            if len(label) < r.min_foreign_place_chars and p.city != own and (
                p.level == "district" or not _at_word_start(text, m.start, s, r.list_words)
            ):
                # 城区, 郊区, 和县 (市局和县(市)区局): ordinary words unless the report's own city has
                # one, or a county stands as an item of its own (旌德县、泾县和石台县)
                continue
        province = p.level == "province"
        cues.append(PlaceCue(m.start, m.end, "" if label == own else label, not province, province))
    if meta.province and r.list_mark in sent:
        cues.extend(_listed_short_places(text, s, e, cues, county_short_names(meta.province), own))
    own_province = province_short(meta.province or "")
    # 全区 is the report's province only where that is an autonomous region (广西壮族自治区)
    fill = {"province": own_province, "city": own,
            "region": own_province if (meta.province or "").endswith(r.region_suffix) else ""}
    place_words = r.place_words
    if (prefecture := county_parent(own)) is not None:  # a county's own page: 全县 is it, 全市 its city
        place_words, fill["prefecture"] = {**place_words, **r.county_page_words}, prefecture
    for word, label in place_words.items():
        if label is None:
            continue
        for m in re.finditer(re.escape(word), sent):
            value = label.format(**fill) if "{" in label else label
            if "{region}" in label and not fill["region"]:
                continue
            cues.append(PlaceCue(s + m.start(), s + m.end(), value, value not in (*r.passing_place_labels, own_province)))
    for pattern, label, carry in r.place_patterns:
        for m in pattern.finditer(sent):
            if sent[m.end() :].startswith(r.not_place_after):
                continue  # 某新区管委会, 某新区国控站点: an organisation or a monitoring site
            first = next((g for g in m.groups() if g is not None), m.group(0))
            cues.append(PlaceCue(s + m.start(), s + m.end(), label.replace("{0}", first).format(**fill), carry))
    cues.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[PlaceCue] = []
    for c in cues:
        if kept and c.start < kept[-1].end:
            continue  # 宿迁市湖滨新区: one place, the longest reading at each position
        if (not c.carry and r.reference_after.match(text, c.end, e)) or r.average_frame_after.match(text, c.end, e):
            c = c._replace(clause_only=True)  # 在全国…中排名第85位, 全省平均: the frame, not the owner
        kept.append(c)
    return kept


def _listed_short_places(text: str, s: int, e: int, cues: list[PlaceCue], shorts: Mapping[str, Place],
                         own: str) -> list[PlaceCue]:
    """Short names of the report's own counties and districts (and of its province's county-level
    cities) standing as items of a list of places (瑞金、于都、兴国优良天数比例分别为…; 甲区、于都和
    瑞金…): every item of the list is a place, the first starts a word. A short name outside such a
    list stays an ordinary word."""
    r = rules()
    joins = sorted(r.list_join - {""}, key=len, reverse=True)
    longest = max(map(len, shorts), default=0)
    found: dict[int, tuple[int, Place | None]] = {c.start: (c.end, None) for c in cues if c.carry}

    def listed(place: Place | None) -> bool:
        # the report's own counties; of the rest of the province only county-level cities: other
        # counties' short names are too often a river's or a mountain's (乐安河)
        return place is not None and (place.city_of_prefecture == own or place.level == "county_city")

    def item_at(pos: int) -> None:
        for size in range(min(longest, e - pos), 1, -1):
            place = shorts.get(text[pos : pos + size])
            if listed(place):
                found.setdefault(pos, (pos + size, place))
                return

    def item_before(pos: int) -> None:
        for size in range(min(longest, pos - s), 1, -1):
            place = shorts.get(text[pos - size : pos])
            if listed(place) and _at_word_start(text, pos - size, s, r.short_place_after):
                found.setdefault(pos - size, (pos, place))
                return

    for at in (m.start() for m in re.finditer(re.escape(r.list_mark), text[s:e])):
        item_before(s + at)
        item_at(s + at + len(r.list_mark))
    for start in sorted(found):  # the last item may follow 和/及 rather than the list mark
        end = found[start][0]
        for join in joins:
            if text.startswith(join, end) and end + len(join) not in found:
                item_at(end + len(join))
                break
    items = sorted((start, end, place) for start, (end, place) in found.items())
    chains: list[list[tuple[int, int, Place | None]]] = []
    for item in items:
        if chains and text[chains[-1][-1][1] : item[0]] in r.list_join - {""}:
            chains[-1].append(item)
        else:
            chains.append([item])
    out = []
    for chain in chains:
        if len(chain) < 2 or any(b[0] < a[1] for a, b in zip(chain, chain[1:])):
            continue
        for start, end, place in chain:
            if place is not None:
                label = place.short if place.level in CITY_LEVELS else place.name
                out.append(PlaceCue(start, end, "" if label == own else label, True))
    return out


def _at_word_start(text: str, pos: int, floor: int, words: tuple[str, ...]) -> bool:
    """Whether a name at `pos` starts a word: after punctuation, a non-Han character, or one of
    `words` (和, 在, 的 …)."""
    if pos <= floor:
        return True
    before = text[pos - 1]
    return not ("\u4e00" <= before <= "\u9fff") or text.endswith(words, floor, pos)


def _place_cue(ctx: SectionContext, pos: int, text: str) -> tuple[PlaceCue | None, str]:
    """The cue that owns a figure at `pos` (None when no cue of the sentence does), and the place
    the figure gets: the last cue before it in its sentence, else the paragraph's, the
    subsection's, the section's, the report's city (see SectionContext, "Scope")."""
    own = ctx.report.meta.city or ""
    cue = None
    s = ctx.sentence[0] if ctx.sentence else 0
    clause_start = _clause_start(text, s, pos)
    for c in ctx.place_cues:
        if c.start >= pos:
            break
        if not c.clause_only or c.start >= clause_start:
            cue = c
    if cue is not None:
        return cue, cue.label or own
    for scoped in (ctx.paragraph_place, ctx.subsection_place, ctx.section_place):
        if scoped is not None:
            return None, scoped or own
    return None, own


def _city(ctx: SectionContext, pos: int, text: str) -> str:
    """The place a figure at `pos` gets (_place_cue, without the cue)."""
    return _place_cue(ctx, pos, text)[1]


def _place_list(text: str, cues: list[PlaceCue], cue: PlaceCue) -> list[PlaceCue]:
    """The places listed together with `cue` as its last (甲县、乙县和丙区): one figure for each."""
    joins = rules().list_join - {""}
    i = cues.index(cue)
    out = [cue]
    while i > 0 and text[cues[i - 1].end : out[0].start] in joins and cues[i - 1].carry == cue.carry:
        i -= 1
        out.insert(0, cues[i])
    return out


def _scope_before(marks: _Marks | None, pos: int) -> str:
    """'…中,' clauses earlier in the sentence: 24个主要河流断面中 -> 24个主要河流断面 (reset by ';')."""
    if marks is None:
        return ""
    i = bisect.bisect_left(marks.scope_breaks, pos)
    return marks.scopes[i - 1] if i else ""


def _name_before(mentions_in: list[IndicatorMention], starts: list[int], ind_id: str, clause_start: int, pos: int) -> IndicatorMention | None:
    """The nearest mention of `ind_id` in [clause_start, pos): a walk back within one clause, not the sentence."""
    i = bisect.bisect_left(starts, pos) - 1
    while i >= 0 and mentions_in[i].start >= clause_start:
        if mentions_in[i].indicator.id == ind_id and mentions_in[i].end <= pos:
            return mentions_in[i]
        i -= 1
    return None


def _qualifier(text: str, clause_start: int, mentions_in: list[IndicatorMention], q: Quantity, ind: Indicator | None,
               starts: list[int] | None = None) -> str:
    r = rules()
    if ind is None:
        return ""
    name = _name_before(mentions_in, starts if starts is not None else [m.start for m in mentions_in], ind.id, clause_start, q.start)
    if name is None:
        return ""
    prefix = text[clause_start : name.start]
    part = r.part_words.search(prefix)
    if part and ind.unit == "count":
        return part.group(0)
    # a qualifier may open the name itself (交办信访件: the alias holds its source)
    found = [m for m in r.qualifier.finditer(text, clause_start, name.end) if m.start() <= name.start]
    if not found:
        return ""
    start, end = found[-1].span()
    for m in reversed(found[:-1]):  # 县级及以上 + 城市 -> 县级及以上城市
        if m.end() != start:
            break
        start = m.start()
    return text[start:end]


def _list_qualifiers(text: str, clause_start: int, mentions_in: list[IndicatorMention], g: list[Quantity], pairs,
                     starts: list[int]) -> list[str]:
    """县级及以上、农村“千吨万人”集中式饮用水水源地水质达标率分别达100%、95% -> one qualifier per figure."""
    if len(g) < 2 or not pairs or len({p[0].id for p in pairs if p[0]}) != 1:
        return []
    ind = pairs[0][0]
    name = _name_before(mentions_in, starts, ind.id, clause_start, g[0].start)
    if name is None:
        return []
    r = rules()
    items = [i for i in text[clause_start : name.start].split(r.list_mark)]
    if len(items) != len(g):
        return []
    trims = r.qualifier_trim
    out = []
    for item in items:
        item = item.strip()
        changed = True
        while changed:
            changed = False
            for t in trims:
                if item.endswith(t) and len(item) > len(t):
                    item = item[: -len(t)]
                    changed = True
        out.append(item)
    return out


def _label(text: str, clause_start: int, q: Quantity) -> str:
    """The words naming an unmapped figure: the noun after a count (498个…整治任务), else the
    phrase before the figure without its linking verb (线上执法检查率达37.12% -> 线上执法检查率)."""
    r = rules()
    if q.unit_text in r.counting_units:
        m = r.label_after.match(text, q.after_end)
        if m:
            return m.group(1)
    before = r.label_split.split(text[clause_start : q.start - len(q.before)])[-1]
    before = r.label_lead_words.sub("", r.label_link_tail.sub("", before))
    return before[-16:]


def _zero_and_full(ctx, text, s, e, mentions_in, sent_facts) -> None:
    r = rules()
    for m in mentions_in:
        if m.role == "zero":
            pre = text[max(s, m.start - 4) : m.start]
            z = r.zero_neg.search(pre)
            if not z:
                after = r.zero_after.match(text, m.end, e)
                if after:  # 劣V类水体全面消除
                    qual = _scope_before(ctx.marks, m.start)
                    _add_phrase_fact(ctx, text, s, e, m.start, after.end(), m.indicator, 0.0, qual, sent_facts)
                continue
            start = m.start - len(z.group(0)) + (len(z.group("spread")) if z.group("spread") else 0)
            quals = [""]
            if z.group("spread"):
                earlier = [
                    f.qualifier
                    for f in sent_facts
                    if f.start < m.start and f.indicator and f.indicator.domain == m.indicator.domain and f.qualifier and f.kind != "change"
                ]
                quals = list(dict.fromkeys(earlier)) or [""]
            elif (sc := _scope_before(ctx.marks, m.start)):
                quals = [sc]  # 24个主要河流断面中,…无劣V类水质断面
            elif (noun := r.zero_subject.match(text, m.end, e)) is not None:
                quals = [noun.group("noun")]  # 无劣V类水质湖泊: the lakes are what has none
            for qual in quals:
                _add_phrase_fact(ctx, text, s, e, start, m.end, m.indicator, 0.0, qual, sent_facts)
        elif m.role == "subject":
            clause_end = _clause_end(text, m.end, e)
            full = r.full.search(text, m.end, clause_end)
            if not full or full.start() - m.end > 8:
                continue
            clause_start = _clause_start(text, s, m.start)
            _add_phrase_fact(ctx, text, s, e, full.start(), full.end(), m.indicator, 100.0,
                             _listed_qualifier(text[clause_start : m.start]), sent_facts)


class Share(NamedTuple):
    """A percentage read as a count's share, or a figure inside a share frame (the whole)."""

    shares: dict[int, Indicator]  # group index -> the share indicator of the count named before it
    wholes: set[int]  # group indexes of figures inside a frame (占全年有效天数(365天)的…)


def _shares(text: str, s: int, name_ms: list[IndicatorMention], groups: list[list[Quantity]]) -> Share:
    """Shares of a count: the count named, then 占 the whole 的 a percentage (优良天数占全年有效
    监测天数(365天)的82.5%), or the count's figure and then a clause of a bare share word
    (达标天数29天,达标率96.7%). The percentage is the count's share indicator (constructions/
    shares.yaml); a figure inside a frame (the whole: 365天) is no fact."""
    r = rules()
    found = Share({}, set())
    name_starts = [m.start for m in name_ms]
    for gi, g in enumerate(groups):
        head = g[0]
        if head.unit != "%":
            continue
        i = bisect.bisect_left(name_starts, head.start)
        name = next((m for m in reversed(name_ms[max(0, i - NESTED_NAMES) : i]) if m.end <= head.start), None)
        if name is None or name.indicator.id not in r.share_of:
            continue
        share = indicators()[r.share_of[name.indicator.id]]
        if r.share_frame.fullmatch(text, name.end, head.start - len(head.before)):
            found.shares[gi] = share
            found.wholes.update(k for k, other in enumerate(groups)
                                if name.end <= other[0].start and other[-1].end <= head.start)
        elif ((clause_start := _clause_start(text, s, head.start)) > name.end
              and (r.share_word.fullmatch(text, clause_start, head.start - len(head.before))
                   or r.share_frame.fullmatch(text, clause_start, head.start - len(head.before)))):
            counted = [x for x in groups[:gi] if name.end <= x[0].start < clause_start]
            if len(counted) == 1 and counted[0][-1].unit == name.indicator.unit:
                found.shares[gi] = share  # 达标天数29天,达标率96.7% / …301天,占全年的82.5%
    return found


def _level_before(facts: list[Fact], f: Fact) -> Fact | None:
    """The last level figure of an indicator before `f` in its sentence, in f's unit (not a change,
    not a figure in brackets): what a figure stated beside it refers to."""
    return next((x for x in reversed(facts) if x.start < f.start and x.indicator is not None
                 and x.kind != "change" and not x.in_parens and x.unit == f.unit), None)


def _compared_values(text: str, s: int, sent_facts: list[Fact]) -> None:
    """Figures stated beside another figure of the same indicator, in the same unit: the earlier
    value it is compared with (…为96.2%,高于2014年的94.1% / 比上年的80.1%提高…) is the actual
    of that year, else of the year before; the value a change reached (由2014年的52.3%上升至2021年
    的86.3%) is the actual of the year it names, else of its own, and so is the value it stands at
    now after a target (需控制在36以内,目前为39); a wider place's average in brackets after its
    words (高于全省平均水平(91.4%)) is that place's actual (constructions/compared_values.yaml)."""
    r = rules()
    for f in sent_facts:
        if f.indicator is not None or f.kind == "change":
            continue
        clause_start = _clause_start(text, s, f.start)
        average = r.average_value.search(text, clause_start, f.start)
        if average is not None:
            source = _level_before(sent_facts, f)
            # the average is the place named before it: none named (the figure's own) is no one's
            if source is not None and f.city and f.city != source.city:
                f.indicator, f.kind, f.label, f.kind_basis, f.in_parens = source.indicator, "actual", "", CUE, False
                f.period, f.year, f.qualifier, f.comparator = source.period, source.year, "", ""
            continue
        m = (r.previous_value.search(text, clause_start, f.start) or r.reached_value.search(text, clause_start, f.start)
             or r.current_value.fullmatch(text, clause_start, f.start))
        if m is None:
            continue
        source = _level_before(sent_facts, f)
        if source is None:
            continue
        named = m.groupdict().get("year")
        if named:
            f.year = int(named)
        elif m.re is r.previous_value:
            f.year = source.year - 1 if source.year else None
        f.indicator, f.kind, f.label, f.kind_basis = source.indicator, "actual", "", CUE
        f.city, f.qualifier, f.period, f.comparator = source.city, source.qualifier, source.period, ""


def _target_references(text: str, s: int, sent_facts: list[Fact]) -> None:
    """A figure set against a target: the distance to it (…高于目标值3微克/立方米, 比控制目标
    (30.8)低7.1), or to a wider place's average (高于全省平均水平6), is neither an actual nor a
    target, and is dropped; the target written right after its word (控制目标(30.8微克/立方米),
    年度目标为29) is the year's target of the indicator named before it in the same unit, bounded
    by the indicator's direction (constructions/targets.yaml `target_references`,
    compared_values.yaml `average_gap`)."""
    r = rules()
    kept: list[Fact] = []
    for f in sent_facts:
        clause_start = _clause_start(text, s, f.start)
        if r.target_gap.search(text, clause_start, f.start) or r.average_gap.search(text, clause_start, f.start):
            continue
        # 省定目标(不高于32): the bound word between the target's word and its figure is its comparator
        before = text[clause_start : f.start]
        bound = next(((word, comp) for word, comp in r.comp_before if before.endswith(word)), ("", ""))
        written = r.target_written.search(text, clause_start, f.start - len(bound[0]))
        if f.indicator is None and written:
            source = _level_before(kept, f)
            if source is not None:
                f.indicator, f.kind, f.label, f.in_parens = source.indicator, "target", "", False
                f.kind_basis = CUE
                f.comparator = bound[1] or ("<=" if source.indicator.direction == "lower_better" else ">=")
                # a target handed down is the year's, whatever period the figure beside it covers;
                # a year named before its word (2025年规划目标(…)) is the target's own
                named = r.year_in_text.search(text, max(clause_start, source.end), written.start())
                f.city, f.qualifier, f.period = source.city, source.qualifier, "annual"
                f.year = int(named.group(1)) if named else source.year
        kept.append(f)
    sent_facts[:] = kept


def _announces_goals(text: str, s: int, first_figure: int) -> bool:
    """Whether a sentence opens by announcing goals (会议明确了今年的主要目标:…) before its first
    figure: then the rest of its paragraph states targets. A goal said to be met (完成年度目标,…)
    announces nothing (constructions/targets.yaml `goal_lead`)."""
    r = rules()
    for m in r.goal_lead.finditer(text, s, first_figure):
        if not any(w in text[max(s, m.start() - r.goal_met_window) : m.start()] for w in r.goal_met_words):
            return True
    return False


def _add_phrase_fact(ctx, text, s, e, start, end, ind, value, qual, sent_facts) -> None:
    clause_start = _clause_start(text, s, start)
    q = Quantity(start, end, value, ind.unit, "", False, "", "", end)
    kind, basis = _kind(ctx, text, clause_start, q, s)
    f = Fact(start, end, ind, value, ind.unit, kind, qualifier=qual, kind_basis=basis)
    f.comparator = ("<=" if value == 0 else ">=") if kind == "target" else ""
    f.period = _period(ctx.periods, start, ctx.scope_period)
    f.year = _year(ctx, text, s, start, f.period)
    f.city = _city(ctx, start, text)
    f.sentence = (s, e)
    f.in_parens = _in_parens(ctx, start)
    sent_facts.append(f)


def _flat(ctx, text, s, e, mentions_in, sent_facts) -> None:
    r = rules()
    if not r.flat_words.search(text, s, e):
        return  # every match of r.flat holds a flat word; this pattern is scanned much faster
    for m in r.flat.finditer(text, s, e):
        start, end = m.span("word")
        for trim in r.flat_trim:  # 基本持平 is flat: the statement is 持平
            if text.startswith(trim, start, end) and end - start > len(trim):
                start += len(trim)
            if text.endswith(trim, start, end) and end - start > len(trim):
                end -= len(trim)
        clause_start = _clause_start(text, s, start)
        names = [x for x in mentions_in if x.role == "name" and clause_start <= x.start and x.end <= start]
        before = [f for f in sent_facts if f.start < start and f.indicator and f.kind != "change" and not f.in_parens]
        if names:
            ind, qual = names[-1].indicator, ""
        elif before:
            # the nearest level before the flat word, by position: zero phrases (无劣V类水体;) are
            # read after the sentence's figures, so the list is not in text order
            last = max(before, key=lambda f: f.start)
            ind, qual = last.indicator, last.qualifier
        else:
            continue
        # a share changes in points; a concentration or an index is said to be flat in per cent
        unit = {"%": "pp", "day": "day", "count": "count"}.get(ind.unit, "%")
        f = Fact(start, end, ind, 0.0, unit, "change", qualifier=qual, kind_basis=CUE)  # 持平 reports, never asks
        f.period = _period(ctx.periods, start, ctx.scope_period)
        f.year = _year(ctx, text, s, start, f.period)
        f.city = _city(ctx, start, text)
        f.sentence = (s, e)
        sent_facts.append(f)
