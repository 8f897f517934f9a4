"""Policy-text stage: what each report spends its words on (themes, attention, keywords).

Figures are half of a report; the other half is where the bureau puts its words. This stage
segments the cleaned text with jieba tuned for the domain and returns tidy tables:

    >>> from envcompare import load_reports, text
    >>> corpus = load_reports("seeds")
    >>> text.segment("PM2.5浓度为38微克/立方米")          # doctest: +SKIP
    ['PM2.5', '浓度', '为', '38微克/立方米']
    >>> text.theme_shares(corpus)      # share of words and sentences per theme, per document and city/year
    >>> text.attention(corpus)         # environmental attention index (literature definition)
    >>> text.keywords(corpus)          # distinctive words per city (TF-IDF across cities), with sentences
    >>> text.plan_vs_summary(corpus)   # theme shares of plan sections vs reported results
    >>> stats = text.corpus_stats(corpus)   # segment once, then any of the four tables:
    >>> stats.theme_shares(); stats.keywords(top=20)   # doctest: +SKIP

Each report is segmented once into a small `DocText` of counts (`analyse`); the tables are sums
over documents (`TextStats`). The batch runner computes DocTexts in its worker processes beside
extraction and caches them, so `build` segments a report only when its bytes change.

Segmentation is jieba's, built once per process: jieba's dictionary, then
`data/text/userdict.txt` and every theme and attention word, so that terms like 生态保护红线 or
化学需氧量 stay whole. It runs on jieba-rs (`rjieba`, jieba compiled; data/text/segment.yaml
`segmenter`), whose tokens equal jieba's with this dictionary on the seeds and the shared corpus
(tested on every run; jieba itself stays the reference, and jieba's global default tokenizer is
never touched). On 329 reports (1.75 M characters) jieba took 9.4 s and jieba-rs 0.6 s. Figures (80.5%,
1612.25万元, 38微克/立方米) and codes (PM2.5) are cut out by a regular expression before jieba sees
the text. Content words are the tokens left after removing stop words (`data/text/stopwords.txt`),
punctuation and figures; every share below is a share of content words.

Words missing from the dictionary are not guessed: jieba's hidden Markov model (HMM) is off.
Decided by measurement (issue 20), HMM on against off, same dictionary. Tables: theme token
shares moved by at most 0.003 (seeds) and 0.008 (shared corpus, 24 third-party reports);
attention by at most 0.005 (environment words are all in the dictionary, so only the all-words
denominator moves: +3% without the HMM); top-20 keyword lists overlap 0.93 (seeds) and 0.83
(shared) by mean Jaccard. Quality, by hand: of 60 random content words only the HMM produced, 38
(seeds) and 36 (shared, 9 of them personal names) were words and 22 and 24 junk fragments
across word boundaries (率达, 值为, 部及, 一氧 of 一氧化碳). Of the keywords only the lists with
the HMM had, 2 of 4 (seeds) and 21 of 46 (shared) were such fragments and 7 more were reporters'
and officials' names; of those only the lists without it had, 1 of 51 was junk (a mangled code).
Speed (`analyse` over 278 generated reports, best of 2, shared machine): 21.5 s with the HMM,
18.8 s without. The real words it found (禁燃区, 散煤, 专班 …) are in data/text/userdict.txt.

Vocabulary is data: `data/text/` (themes.yaml, attention.yaml, stopwords.txt, userdict.txt,
segment.yaml). Every table is sorted explicitly, so the same input gives the same rows in the same
order with the same numbers.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
import tempfile
import threading
import weakref
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain, compress
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..extraction.reader import SENTENCE, SectionContext, enter_line
from ..ingest.load import Corpus, Report
from ..vocab.resources import read_csv, read_text, read_yaml
from ..vocab.rules import alternation

__all__ = [
    "ATTENTION_COLUMNS",
    "KEYWORD_COLUMNS",
    "PLAN_COLUMNS",
    "THEME_COLUMNS",
    "Theme",
    "attention",
    "DocText",
    "TextStats",
    "analyse",
    "attention_words",
    "corpus_stats",
    "keywords",
    "plan_vs_summary",
    "segment",
    "theme_shares",
    "themes",
]

HAN_OR_LATIN = re.compile(r"[\u3400-\u9fffA-Za-z]")

HMM = False  # jieba's hidden Markov model for words missing from its dictionary: off (module docstring)


# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Theme:
    """A policy theme: its words (data/text/themes.yaml) and why they are chosen."""

    id: str
    zh: str
    en: str
    words: tuple[str, ...]
    source: str


def _read_word_list(name: str) -> list[tuple[str, ...]]:
    """Lines of a data/text word file, split on whitespace; '#' comments and blank lines skipped."""
    rows = []
    for line in read_text(f"text/{name}").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(tuple(line.split()))
    return rows


@lru_cache(maxsize=1)
def themes() -> tuple[Theme, ...]:
    """The themes of data/text/themes.yaml, in file order; a word may belong to one theme only."""
    out: list[Theme] = []
    owner: dict[str, str] = {}
    for t in read_yaml("text/themes.yaml")["themes"]:
        words = tuple(dict.fromkeys(str(w) for w in t["words"]))
        for w in words:
            if w in owner:
                raise ValueError(f"themes.yaml: {w!r} is in both {owner[w]!r} and {t['id']!r}")
            owner[w] = t["id"]
        out.append(Theme(str(t["id"]), str(t["zh"]), str(t["en"]), words, str(t["source"])))
    return tuple(out)


def attention_words() -> tuple[str, ...]:
    """The environment-related words of the attention index (data/text/attention.yaml)."""
    return tuple(str(w) for w in read_yaml("text/attention.yaml")["words"])


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return frozenset(row[0] for row in _read_word_list("stopwords.txt"))


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """Gazetteer names and short names (data/places.csv): left out of keywords."""
    df = read_csv("places.csv")
    return frozenset(n for n in (*df["name"], *df["short"]) if n)


# --------------------------------------------------------------------------- segmentation


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Raise a logger's level for the duration (jieba prints its dictionary loading at DEBUG)."""
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


PUNCTUATION, WORD, CONTENT = 0, 1, 2  # `_Segmenter.word_class`: what a token counts as


class _JiebaCutter:
    """jieba itself, the reference segmentation: a private `jieba.Tokenizer` (jieba's global
    default tokenizer, `jieba.dt`, stays as it is)."""

    def __init__(self) -> None:
        import jieba  # only when asked for: the compiled port below is the default

        self.tokenizer = jieba.Tokenizer()
        with _quiet(jieba.default_logger):
            self.tokenizer.initialize()

    def suggest_freq(self, word: str) -> int:
        return self.tokenizer.suggest_freq(word, False)

    def add_word(self, word: str, freq: int) -> None:
        self.tokenizer.add_word(word, freq)

    def cut(self, text: str, hmm: bool) -> list[str]:
        return self.tokenizer.lcut(text, HMM=hmm)


class _RustCutter:
    """jieba-rs (the `rjieba` binding): jieba's algorithm and dictionary compiled, about 16 times
    faster and 25 MB smaller per process. Its tokens equal jieba's with our dictionary on the
    seeds and the shared corpus (tests/test_text.py), given the same words added in the same
    order, each at the smallest frequency that keeps it whole in this segmenter."""

    def __init__(self) -> None:
        import rjieba

        self.tokenizer = rjieba.Jieba()

    def suggest_freq(self, word: str) -> int:
        return self.tokenizer.suggest_freq(word)

    def add_word(self, word: str, freq: int) -> None:
        self.tokenizer.add_word(word, freq, None)

    def cut(self, text: str, hmm: bool) -> list[str]:
        return self.tokenizer.cut(text, hmm)


CUTTERS = {"jieba": _JiebaCutter, "rjieba": _RustCutter}


class _Segmenter:
    """A tokenizer with the domain dictionary (`cutter`: jieba or its compiled port, by
    data/text/segment.yaml's `segmenter`), plus the figure-protecting pre-pass."""

    def __init__(self, cutter: str | None = None) -> None:
        seg = read_yaml("text/segment.yaml")
        name = cutter or seg["segmenter"]
        if name not in CUTTERS:
            raise ValueError(f"segmenter {name!r} is not one of {sorted(CUTTERS)} (data/text/segment.yaml)")
        self.cutter = CUTTERS[name]()
        floor = int(seg["userdict_min_freq"])
        for row in _read_word_list("userdict.txt"):
            self._add(row[0], int(row[1]) if len(row) > 1 else None, floor)
        for theme in themes():
            for w in theme.words:
                self._add(w, None)
        for w in attention_words():
            self._add(w, None)
        units = read_yaml("units.yaml")
        unit_words = sorted({*units["units"], *seg["figure_suffixes"]}, key=len, reverse=True)
        scales = sorted(units["scales"], key=len, reverse=True)
        number = r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?"
        hedge = f"(?:{alternation(seg['figure_hedges'], longest_first=False)})?"
        figure = rf"(?:{number}){hedge}(?:(?:{alternation(unit_words, longest_first=False)})|(?:{alternation(scales, longest_first=False)}){hedge}(?:{alternation(unit_words, longest_first=False)})?)?"
        # units written with a slash or Latin letters stay whole even without a number before them
        odd_units = [u for u in unit_words if not re.fullmatch(r"[\u3400-\u9fff%]+", u)]
        self.protect = re.compile(f"(?P<figure>{figure})|(?P<code>{seg['code']})|(?P<unit>{alternation(odd_units, longest_first=False)})")
        self.units = frozenset(unit_words)
        self.ignore = re.compile("|".join(f"(?:{p})" for p in seg["ignore"])) if seg["ignore"] else None
        self.stop = _stopwords()
        self.hmm = HMM
        self._classes: dict[str, int] = {}  # token -> word_class, as met

    def _add(self, word: str, freq: int | None, floor: int = 0) -> None:
        """Add a word that must stay whole: at least the cutter's suggested frequency (whole on
        its own) and `floor` (whole between common neighbours: 以十九大为 is not 十九/大为)."""
        if freq is not None and freq <= 0:
            # jieba's add_word(freq=0) writes to finalseg's module-level force-split set
            raise ValueError(f"userdict.txt: frequency of {word!r} must be positive")
        if freq is None:
            freq = max(self.cutter.suggest_freq(word), floor)
        self.cutter.add_word(word, freq)

    def tokens(self, text: str) -> list[str]:
        """All tokens of text but whitespace: figures and codes whole, the rest cut by jieba."""
        return self.span_tokens(text, [(0, len(text))])[0]

    def span_tokens(self, text: str, spans: Iterable[tuple[int, int]]) -> list[list[str]]:
        """The tokens of each (start, end) span of text, as `tokens` gives them, from one jieba pass.

        Figures and codes are cut out of each span first; the stretches of text between them, of
        every span, are joined by newlines and cut by jieba at once (one call per report, not one
        per stretch: the per-call cost was most of the calls' cost on short stretches). Boundary
        rule: jieba cuts each run of Han characters, letters and digits on its own and never joins
        across whitespace, so no token crosses the newline between two stretches; each token
        belongs to the stretch it starts in, and the tokens are exactly those of cutting every
        stretch alone (tests/test_text.py checks this against per-stretch cuts)."""
        stretches: list[str] = []
        layouts: list[list[str | int]] = []  # per span: its figures (str) and stretch numbers (int), in order
        for start, end in spans:
            span = text[start:end]
            layout: list[str | int] = []
            pos = 0
            for m in self.protect.finditer(span):
                if m.start() > pos:
                    layout.append(len(stretches))
                    stretches.append(span[pos : m.start()])
                layout.append(m.group())
                pos = m.end()
            if pos < len(span):
                layout.append(len(stretches))
                stretches.append(span[pos:])
            layouts.append(layout)
        by_stretch = self._cut_stretches(stretches)
        out: list[list[str]] = []
        for layout in layouts:
            tokens: list[str] = []
            for part in layout:
                if isinstance(part, str):
                    tokens.append(part)
                else:
                    tokens += by_stretch[part]
            out.append([t for t in tokens if t.strip()])
        return out

    def _cut_stretches(self, stretches: list[str]) -> list[list[str]]:
        """jieba's tokens of each stretch (whitespace included), from one call on them all."""
        by_stretch: list[list[str]] = [[] for _ in stretches]
        if not stretches:
            return by_stretch
        ends = list(accumulate(len(s) + 1 for s in stretches))  # offset just past each stretch's newline
        current, end, offset = 0, ends[0], 0
        for token in self.cutter.cut("\n".join(stretches), self.hmm):
            while offset >= end:  # a token starting before `end` is the stretch's (its newline: whitespace)
                current += 1
                end = ends[current]
            by_stretch[current].append(token)
            offset += len(token)
        return by_stretch

    def is_content(self, token: str) -> bool:
        """A word that carries content: not a stop word, figure, unit or punctuation."""
        return (
            token not in self.stop
            and not token[0].isdigit()
            and token not in self.units
            and HAN_OR_LATIN.search(token) is not None
        )

    def word_class(self, token: str) -> int:
        """PUNCTUATION, WORD (counted among all words, no content) or CONTENT; remembered per
        token, since a report repeats its words (figures, which rarely repeat, are not kept)."""
        known = self._classes.get(token)
        if known is not None:
            return known
        if token[0].isdigit():
            return WORD
        found = CONTENT if self.is_content(token) else WORD if _is_word(token) else PUNCTUATION
        self._classes[token] = found
        return found


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _segmenter_cached() -> _Segmenter:
    return _Segmenter()


def _segmenter() -> _Segmenter:
    """The process's one segmenter, built on first use (jieba's dictionary loads once)."""
    with _LOCK:
        return _segmenter_cached()


def prepare() -> None:
    """Build the segmenter now: before forking workers, so that each inherits it."""
    _segmenter()


def release() -> None:
    """Let the segmenter go (about 30 MB given back): a batch's parent, once its workers are
    done, segments nothing more. It is built again on the next use."""
    with _LOCK:
        _segmenter_cached.cache_clear()


def segment(text: str, content: bool = False) -> list[str]:
    """Tokens of `text` (whitespace dropped); `content=True` keeps only content words.

    Figures with their units (80.5%, 1612.25万元, 38微克/立方米, 2022年) and codes (PM2.5, NO2)
    are single tokens; user-dictionary, theme and attention words stay whole.
    """
    seg = _segmenter()
    toks = seg.tokens(text)
    return [t for t in toks if seg.is_content(t)] if content else toks


# --------------------------------------------------------------------------- matching


class _ThemeMatcher(NamedTuple):
    """The theme words, ready to match: one-character words match a token equal to them only."""

    single: dict[str, str]  # one-character word -> theme id
    longer: list[tuple[str, str]]  # (longer word, theme id), longest first


@lru_cache(maxsize=1)
def _theme_matcher() -> _ThemeMatcher:
    single: dict[str, str] = {}
    longer: list[tuple[str, str]] = []
    for t in themes():
        for w in t.words:
            if len(w) == 1:
                single[w] = t.id
            else:
                longer.append((w, t.id))
    longer.sort(key=lambda word_theme: (-len(word_theme[0]), word_theme[0]))
    return _ThemeMatcher(single, longer)


@lru_cache(maxsize=65536)
def _themes_of(token: str) -> tuple[str, ...]:
    """Themes of a content word: those of the longest listed word it contains (sorted ids)."""
    matcher = _theme_matcher()
    best = 0
    found: set[str] = set()
    for w, tid in matcher.longer:
        if len(w) < best:
            break
        if w in token:
            best = len(w)
            found.add(tid)
    if not found and token in matcher.single:
        found.add(matcher.single[token])
    return tuple(sorted(found))


@lru_cache(maxsize=65536)
def _is_env(token: str) -> bool:
    return any(w in token for w in attention_words())


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class _Sentence:
    """One sentence of a report: cleaned-text offsets, plan or reported part, content words."""

    start: int
    end: int
    plan: bool
    words: tuple[str, ...]


def _is_word(token: str) -> bool:
    """A word of the all-words count: any token but punctuation (figures count, as in a word count)."""
    return HAN_OR_LATIN.search(token) is not None or token[0].isdigit()


def _sentences(report: Report) -> tuple[_Sentence, ...]:
    """Sentences with content words; sections switch between plan and results as in extract.
    (`_all_words` counts the words of every sentence, the attention index's denominator.)"""
    return _read_sentences(report).sentences


class _ReadText(NamedTuple):
    """A report's sentences with content words, and its count of all words."""

    sentences: tuple[_Sentence, ...]
    all_words: int


def _read_sentences(report: Report) -> _ReadText:
    """The report's sentences, their section part (plan or done) and tokens, in one jieba pass."""
    seg = _segmenter()
    ctx = SectionContext(report, target=report.meta.doc_type == "plan", section_year=None)
    lines: list[str] = []  # the text as segmented: ignored stretches blanked, same offsets
    spans: list[tuple[int, int]] = []
    plan: list[bool] = []
    pos = 0
    for line in report.text.split("\n"):
        line_start, pos = pos, pos + len(line) + 1
        enter_line(ctx, line)
        if seg.ignore is not None:
            line = seg.ignore.sub(lambda m: " " * len(m.group()), line)
        lines.append(line)
        for sentence in SENTENCE.finditer(line):
            spans.append((line_start + sentence.start(), line_start + sentence.end()))
            plan.append(ctx.target)
    out: list[_Sentence] = []
    all_words = 0
    word_class = seg.word_class
    for (start, end), target, tokens in zip(spans, plan, seg.span_tokens("\n".join(lines), spans)):
        words = []
        for token in tokens:
            found = word_class(token)
            if found:
                all_words += 1
                if found == CONTENT:
                    words.append(token)
        if words:
            out.append(_Sentence(start, end, target, tuple(words)))
    return _ReadText(tuple(out), all_words)


# --------------------------------------------------------------------------- per-document counts


@dataclass
class _Tally:
    """Counts behind theme shares for a set of sentences."""

    tokens: Counter
    sentences: Counter
    content_tokens: int = 0
    total_sentences: int = 0

    @classmethod
    def of(cls, sentences: Iterable[_Sentence]) -> _Tally:
        tally = cls(Counter(), Counter())
        for s in sentences:
            touched: set[str] = set()
            for w in s.words:
                for tid in _themes_of(w):
                    tally.tokens[tid] += 1
                    touched.add(tid)
            tally.sentences.update(touched)
            tally.content_tokens += len(s.words)
            tally.total_sentences += 1
        return tally

    def add(self, other: _Tally) -> None:
        self.tokens.update(other.tokens)
        self.sentences.update(other.sentences)
        self.content_tokens += other.content_tokens
        self.total_sentences += other.total_sentences

    def rows(self, base: dict[str, object]) -> list[dict[str, object]]:
        out = []
        for t in themes():
            n, s = self.tokens[t.id], self.sentences[t.id]
            out.append(
                base
                | {
                    "theme": t.id,
                    "theme_zh": t.zh,
                    "theme_en": t.en,
                    "tokens": n,
                    "content_tokens": self.content_tokens,
                    "token_share": n / self.content_tokens if self.content_tokens else math.nan,
                    "sentences": s,
                    "total_sentences": self.total_sentences,
                    "sentence_share": s / self.total_sentences if self.total_sentences else math.nan,
                }
            )
        return out


WordStats = tuple[int, int, tuple[int, ...]]
"""One word of two or more characters in one document: (uses, sentences using it, the first of
those sentences as indices into `DocText.sentences`); `DocText.word_stats` gives them."""


@dataclass(frozen=True)
class DocText:
    """What one report spends its words on: every count the text tables need, and nothing else.

    Small and picklable, so the batch workers compute it beside extraction and the cache keeps it:
    corpus tables are then sums over documents (`TextStats`), and no report is segmented twice.
    `sentences` holds (raw start, raw end, cleaned sentence) of the example sentences only.
    The words' counts are columns (`words`, `uses`, `in_sentences`, `firsts`), not a mapping of
    small tuples: a report has hundreds of words, and each document's counts are pickled from a
    worker, written to and read from the cache and added to the corpus's (TextStats) as a few
    flat sequences, not as thousands of objects.
    """

    doc: str
    path: str
    city: str | None
    year: int | None
    doc_type: str | None
    done: _Tally
    plan: _Tally
    env_words: int
    words: tuple[str, ...]  # words of two or more characters, in order of first use
    uses: tuple[int, ...]  # how often each word is used
    in_sentences: tuple[int, ...]  # how many sentences use each word
    firsts: tuple[int, ...]  # each word's first `examples` sentences (into `sentences`), -1 where it has fewer
    sentences: tuple[tuple[int, int, str], ...]
    examples: int
    all_words: int = 0  # every word but punctuation: the literature's attention denominator

    def __post_init__(self) -> None:
        n = len(self.words)
        if not (len(self.uses) == len(self.in_sentences) == n and len(self.firsts) == n * self.examples):
            raise ValueError(f"{self.doc}: the word count columns are not aligned")

    def word_stats(self) -> Iterator[tuple[str, WordStats]]:
        """(word, (uses, sentences using it, its example sentences)) in order of first use."""
        width = self.examples
        for k, word in enumerate(self.words):
            first = self.firsts[k * width : (k + 1) * width]
            yield word, (self.uses[k], self.in_sentences[k], tuple(i for i in first if i >= 0))

    @property
    def base(self) -> dict[str, object]:
        return {"city": self.city, "year": self.year, "doc": self.doc, "doc_type": self.doc_type}

    @property
    def group(self) -> tuple[bool, str, bool, int, str]:
        """(city, year, document type): the unit every text measure is given for; never pooled
        across years or document types (a 2019 news article is not a 2022 work summary)."""
        return (self.city is None, self.city or "", self.year is None, self.year or 0, self.doc_type or "")

    @property
    def content_words(self) -> int:
        return self.done.content_tokens + self.plan.content_tokens

    def whole(self) -> _Tally:
        tally = _Tally(Counter(), Counter())
        tally.add(self.done)
        tally.add(self.plan)
        return tally


def _word_stats(sentences: tuple[_Sentence, ...], uses: Counter, examples: int) -> dict[str, list]:
    """Word -> [uses, sentences using it, [its first `examples` sentence numbers]], words of two
    or more characters in order of first use. Counted by C-level Counter and dict passes (a
    report has thousands of words; a Python step per word was most of `analyse`). `uses`: each
    content word's count."""
    in_sentences = Counter(chain.from_iterable(set(s.words) for s in sentences))
    if examples == 1:
        first: dict[str, int] = {}
        for i in range(len(sentences) - 1, -1, -1):  # backwards: the earliest sentence writes last
            first.update(dict.fromkeys(sentences[i].words, i))
        return {w: [uses[w], in_sentences[w], [first[w]]] for w in uses if len(w) >= 2}
    firsts: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sentences):
        for w in dict.fromkeys(s.words):
            if len(firsts[w]) < examples:
                firsts[w].append(i)
    return {w: [uses[w], in_sentences[w], firsts[w]] for w in uses if len(w) >= 2}


def analyse(report: Report, examples: int = 1) -> DocText:
    """Segment one report and count its themes, attention words and keywords.

    `examples`: how many sentences to keep per word (the keyword table shows up to that many).
    """
    sentences, all_words = _read_sentences(report)
    uses = Counter(chain.from_iterable(s.words for s in sentences))
    words = _word_stats(sentences, uses, examples)
    env = sum(count for w, count in uses.items() if _is_env(w))
    kept = sorted({i for stats in words.values() for i in stats[2]})
    number = {i: n for n, i in enumerate(kept)}
    example_rows = []
    for i in kept:
        s = sentences[i]
        example_rows.append((*report.raw_span(s.start, s.end), report.text[s.start : s.end]))
    firsts: list[int] = []
    for _, _, first in words.values():  # each word's examples renumbered, padded with -1 to `examples`
        firsts += [number[i] for i in first]
        firsts += [-1] * (examples - len(first))
    m = report.meta
    return DocText(
        doc=report.doc,
        path=str(report.path),
        city=m.city,
        year=m.report_year,
        doc_type=m.doc_type,
        done=_Tally.of(s for s in sentences if not s.plan),
        plan=_Tally.of(s for s in sentences if s.plan),
        env_words=env,
        words=tuple(words),
        uses=tuple(stats[0] for stats in words.values()),
        in_sentences=tuple(stats[1] for stats in words.values()),
        firsts=tuple(firsts),
        sentences=tuple(example_rows),
        examples=examples,
        all_words=all_words,
    )


class _SpillFile:
    """An append-only temporary file of byte records, each read back by (offset, length).

    TextStats keeps here what it needs of a document only when the keyword table is asked for
    (word counts, example sentences): memory then holds a few counts per document. The file is
    `tempfile.TemporaryFile` (no name at all where the system allows it), or a named file in
    `folder` (another process may then read it: `TextStats.shared`), and is closed, which deletes
    it, by `close`, when its owner is garbage-collected, or at exit (weakref.finalize)."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        # open as long as its owner lives: closed by close() or the finalizer, not by a with block
        self.path: str | None = None
        if folder is None:
            self._file = tempfile.TemporaryFile(prefix="envcompare-text-")  # noqa: SIM115
        else:
            handle, self.path = tempfile.mkstemp(prefix=".envcompare-text-", dir=folder)
            self._file = os.fdopen(handle, "w+b")
        self._finalizer = weakref.finalize(self, _close_spill, self._file, self.path)
        self.size = 0

    @classmethod
    def reading(cls, path: str, size: int) -> _SpillFile:
        """Another process's named spill file, read only: it stays that process's to delete."""
        spill = cls.__new__(cls)
        spill.path, spill.size = None, size
        spill._file = open(path, "rb")  # noqa: SIM115 (closed by close() or the finalizer)
        spill._finalizer = weakref.finalize(spill, _close_spill, spill._file, None)
        return spill

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def append(self, data: bytes) -> int:
        """Write data after every earlier record; its offset."""
        self._check_open()
        offset = self.size
        self._file.seek(offset)
        self._file.write(data)
        self.size += len(data)
        return offset

    def read(self, offset: int, length: int) -> bytes:
        self._check_open()
        self._file.seek(offset)
        data = self._file.read(length)
        if len(data) != length:
            raise OSError(f"text statistics spill file: {length} bytes wanted at {offset}, {len(data)} read")
        return data

    def close(self) -> None:
        self._finalizer()

    def flush(self) -> None:
        """Everything appended is in the file (for another process reading it by its path)."""
        self._check_open()
        self._file.flush()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("this TextStats is closed: its word counts and example sentences are gone")


def _close_spill(file: object, path: str | None) -> None:
    file.close()
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


_ID = np.dtype("<i4")  # word ids, counts and sentence numbers of a spilled record
_OFFSET = np.dtype("<i8")  # raw-text offsets and byte offsets
_TEXT_ENCODING = ("utf-8", "surrogatepass")  # any str round-trips, lone surrogates included


class _Place(NamedTuple):
    """Where a document's record is in the spill file, and the sizes needed to read it back."""

    offset: int
    words: int  # n: word ids, uses, sentences using each (n each), then n * examples sentence numbers
    sentences: int  # m: raw starts, raw ends, ends in the text bytes (m each)
    text_bytes: int  # then the example sentences, UTF-8 joined and zlib-compressed

    def counts_bytes(self, examples: int) -> int:
        return (3 + examples) * self.words * _ID.itemsize + 3 * self.sentences * _OFFSET.itemsize


class _DocWords(NamedTuple):
    """A document's spilled word counts, read back: arrays aligned on `ids` (ascending)."""

    ids: np.ndarray
    uses: np.ndarray
    sentences: np.ndarray
    examples: np.ndarray  # (words, examples) sentence numbers, -1 where the word has fewer
    starts: np.ndarray  # raw start of each example sentence
    ends: np.ndarray
    text_ends: np.ndarray  # end of each sentence in the decompressed text bytes


class _Candidate(NamedTuple):
    """An example sentence of a word in one document, before the first `examples` are picked."""

    order: tuple[str, str]  # (doc, path) of its document: document order, then text order
    start: int
    member: int  # the document's number in TextStats
    sentence: int  # its number in the document's record


_PLACE_FIELDS = len(_Place._fields)
_PLAIN_FIELDS = ("env_words", "all_words")  # after the place in a document's row of TextStats._numbers


class TextStats:
    """The corpus text tables, built from per-document counts added one document at a time.

        >>> stats = TextStats()
        >>> for report in load_reports("seeds"):          # doctest: +SKIP
        ...     stats.add(analyse(report))
        >>> stats.theme_shares(); stats.attention(); stats.keywords(top=20); stats.plan_vs_summary()

    Memory holds a few hundred bytes per document (its name, group and theme counts) and one
    entry per distinct word of the corpus, not the words of each city: the per-word counts and
    example sentences of each document go to an append-only temporary file (`_SpillFile`) and
    are read back only by `keywords`, one group at a time, and the sentences only of the
    documents giving the examples it prints. The file is deleted by `close` (or `with TextStats() as stats:`), else when the
    object is garbage-collected; a pickled TextStats carries the file's bytes and unpickles
    into a new file.
    """

    def __init__(self, examples: int = 1, places: bool = False, spill_folder: str | os.PathLike | None = None) -> None:
        """`spill_folder`: the spill file is a named file there, so that `shared` can hand these
        counts to another process without copying it (default: a file with no name)."""
        self.examples = max(examples, 1)
        self._skip = frozenset() if places else _places()
        self._theme_ids = tuple(t.id for t in themes())
        self._word_ids: dict[str, int] = {}  # every word of the corpus -> its number (the arrays' ids)
        self._words: list[str] = []  # the words by number
        self._meta: list[tuple[str, str, str | None, int | None, str | None]] = []  # (doc, path, city, year, doc_type)
        self._numbers = array("q")  # per document: _Place, env and all words, done and plan tallies
        self._spill = _SpillFile(spill_folder)

    @property
    def _width(self) -> int:
        """Numbers per document in `_numbers`: its place, the plain counts, the done and plan tallies."""
        return _PLACE_FIELDS + len(_PLAIN_FIELDS) + 2 * (2 + 2 * len(self._theme_ids))

    def __enter__(self) -> TextStats:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the temporary file now; the theme, attention and plan tables still work."""
        self._spill.close()

    @property
    def spilled(self) -> int:
        """Bytes of word counts and example sentences in the temporary file (what `keywords` reads)."""
        return self._spill.size

    def shared(self) -> SharedTextStats:
        """These counts for another process (a TextStats made with `spill_folder`): everything
        but the spilled word counts, which it reads from this one's file by its path instead of
        being sent them (~200 MB at 10,000 reports). The file stays this one's: close this one
        only once the other is done with it."""
        if self._spill.path is None:
            raise ValueError("this TextStats spills to a file with no name: make it with spill_folder to share it")
        self._spill.flush()
        state = {name: value for name, value in self.__dict__.items() if name != "_spill"}
        return SharedTextStats(state, self._spill.path, self._spill.size)

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_spill"] = self._spill.read(0, self._spill.size)  # the records themselves, not the open file
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        spilled = state.pop("_spill")
        self.__dict__.update(state)
        self._spill = _SpillFile()
        self._spill.append(spilled)  # at offset 0: every _Place stays right

    @classmethod
    def _reading(cls, shared: SharedTextStats) -> TextStats:
        stats = cls.__new__(cls)
        stats.__dict__.update(shared.state)
        stats._spill = _SpillFile.reading(shared.path, shared.size)
        return stats

    def add(self, doc: DocText) -> None:
        """Pool one document's counts: the same work per word of the document however many
        documents came before (nothing is read back; the tables are computed when asked for)."""
        if doc.examples < self.examples:
            raise ValueError(f"{doc.doc} was analysed with {doc.examples} example(s) per word; {self.examples} wanted")
        place = self._spill_words(doc)
        self._meta.append((doc.doc, doc.path, _interned(doc.city), doc.year, _interned(doc.doc_type)))
        self._numbers.extend([*place, doc.env_words, doc.all_words,
                              *self._tally_numbers(doc.done), *self._tally_numbers(doc.plan)])

    def _spill_words(self, doc: DocText) -> _Place:
        """Write a document's word counts and example sentences to the spill file; where they are."""
        wanted, skip, word_ids, words = self.examples, self._skip, self._word_ids, self._words
        kept_words = [w not in skip for w in doc.words]
        spilled = list(compress(doc.words, kept_words))
        ids = list(map(word_ids.get, spilled))  # the corpus's number of each word; None: new
        if None in ids:
            for k, word in enumerate(spilled):
                if ids[k] is None:
                    ids[k] = word_ids[word] = len(words)
                    words.append(sys.intern(word))  # one string per word (a worker's copies are new objects)
        keep = np.array(kept_words, dtype=bool)
        by_id = np.argsort(np.array(ids, dtype=_ID), kind="stable")
        # examples are padded with -1 at their end: the first `wanted` of `doc.examples` per word
        firsts = np.array(doc.firsts, dtype=_ID).reshape(len(doc.words), doc.examples)[keep, :wanted]
        example_numbers = firsts[by_id]
        kept = np.unique(example_numbers[example_numbers >= 0])  # the sentences some example needs
        sentences = [doc.sentences[i] for i in kept.tolist()]
        texts = [s[2].encode(*_TEXT_ENCODING) for s in sentences]
        renumbered = np.where(example_numbers >= 0, np.searchsorted(kept, example_numbers), -1)
        text = zlib.compress(b"".join(texts), 1)
        record = b"".join([
            np.array(ids, dtype=_ID)[by_id].tobytes(), np.array(doc.uses, dtype=_ID)[keep][by_id].tobytes(),
            np.array(doc.in_sentences, dtype=_ID)[keep][by_id].tobytes(),
            renumbered.astype(_ID).tobytes(),
            np.array([s[0] for s in sentences], dtype=_OFFSET).tobytes(),
            np.array([s[1] for s in sentences], dtype=_OFFSET).tobytes(),
            np.fromiter(accumulate(map(len, texts)), dtype=_OFFSET, count=len(texts)).tobytes(),
            text,
        ])
        return _Place(self._spill.append(record), len(ids), len(sentences), len(text))

    def _tally_numbers(self, tally: _Tally) -> list[int]:
        return [tally.content_tokens, tally.total_sentences, *(tally.tokens[t] for t in self._theme_ids),
                *(tally.sentences[t] for t in self._theme_ids)]

    def _row(self, number: int) -> list[int]:
        return self._numbers[number * self._width : (number + 1) * self._width].tolist()

    def _place(self, number: int) -> _Place:
        return _Place(*self._row(number)[:_PLACE_FIELDS])

    def _tally(self, numbers: list[int]) -> _Tally:
        themes_n = len(self._theme_ids)
        content_tokens, total_sentences = numbers[:2]
        tokens = Counter(dict(zip(self._theme_ids, numbers[2 : 2 + themes_n])))
        sentences = Counter(dict(zip(self._theme_ids, numbers[2 + themes_n : 2 + 2 * themes_n])))
        return _Tally(+tokens, +sentences, content_tokens, total_sentences)  # zero counts dropped, as counted

    def _doc(self, number: int) -> DocText:
        """A document's counts as a DocText without words or sentences (what the tables read)."""
        doc, path, city, year, doc_type = self._meta[number]
        row = self._row(number)
        env_words, all_words = row[_PLACE_FIELDS : _PLACE_FIELDS + 2]
        tally_width = 2 + 2 * len(self._theme_ids)
        done_at = _PLACE_FIELDS + len(_PLAIN_FIELDS)
        return DocText(doc, path, city, year, doc_type, done=self._tally(row[done_at : done_at + tally_width]),
                       plan=self._tally(row[done_at + tally_width :]), env_words=env_words, words=(), uses=(),
                       in_sentences=(), firsts=(), sentences=(), examples=self.examples, all_words=all_words)

    def _document_order(self) -> list[int]:
        """The documents' numbers sorted by (doc, path), whatever order they arrived in."""
        return sorted(range(len(self._meta)), key=lambda number: self._meta[number][:2])

    def _sorted_docs(self) -> Iterator[DocText]:
        """The documents' counts in document order, one at a time (never all of them at once)."""
        return (self._doc(number) for number in self._document_order())

    def _group_numbers(self) -> dict[tuple, list[int]]:
        """(city, year, document type) -> its documents' numbers in document order; sorted by group."""
        groups: dict[tuple, list[int]] = defaultdict(list)
        for number in self._document_order():
            groups[self._doc(number).group].append(number)
        return {key: groups[key] for key in sorted(groups)}

    def _groups(self) -> Iterator[list[DocText]]:
        """Each group's documents' counts, one group at a time."""
        for numbers in self._group_numbers().values():
            yield [self._doc(number) for number in numbers]

    @staticmethod
    def _group_base(members: list[DocText]) -> dict[str, object]:
        """A group row: the documents of one city, year and document type (level "city_year")."""
        return {"level": "city_year", "city": members[0].city, "year": members[0].year, "doc": None,
                "doc_type": members[0].doc_type, "documents": len(members)}

    def theme_shares(self) -> pd.DataFrame:
        """See `theme_shares`."""
        rows = _Columns(THEME_COLUMNS)
        for d in self._sorted_docs():
            rows += d.whole().rows({"level": "document", **d.base, "documents": 1})
        for members in self._groups():
            total = _Tally(Counter(), Counter())
            for d in members:
                total.add(d.whole())
            rows += total.rows(self._group_base(members))
        return rows.frame()

    def attention(self, denominator: str = "all") -> pd.DataFrame:
        """See `attention`."""
        if denominator not in ("all", "content"):
            raise ValueError(f"denominator must be 'all' or 'content', not {denominator!r}")
        rows = _Columns(ATTENTION_COLUMNS)
        for d in self._sorted_docs():
            rows.append({"level": "document", **d.base, "documents": 1,
                         **_attention_cells(d.env_words, d.content_words, d.all_words, denominator)})
        for members in self._groups():
            env = sum(d.env_words for d in members)
            content = sum(d.content_words for d in members)
            words = sum(d.all_words for d in members)
            rows.append(self._group_base(members) | _attention_cells(env, content, words, denominator))
        return rows.frame()

    def plan_vs_summary(self) -> pd.DataFrame:
        """See `plan_vs_summary`."""
        rows = _Columns(PLAN_COLUMNS)
        for d in self._sorted_docs():
            for part, tally in (("done", d.done), ("plan", d.plan)):
                if tally.total_sentences:
                    rows += tally.rows({**d.base, "part": part})
        return rows.frame()

    def keywords(self, top: int = 20) -> pd.DataFrame:
        """See `keywords`. Two reads of the spill file, one group at a time: the word ids (how many
        cities use each word), then each group's counts and, for the words listed, examples."""
        self._spill._check_open()
        groups = self._group_numbers()
        keys = list(groups)
        n = len(keys)
        cities_using = np.zeros(len(self._words), dtype=np.int64)  # document frequency: the groups using each word
        for key in keys:
            ids = [self._read_ids(number) for number in groups[key]]
            cities_using[ids[0] if len(ids) == 1 else np.unique(np.concatenate(ids))] += 1
        idf_by_cities = np.array([math.log(n / c) if c else 0.0 for c in range(n + 1)])  # math.log, as ever
        word_rank = np.empty(len(self._words), dtype=np.int64)  # ties are broken by the word itself
        word_rank[sorted(range(len(self._words)), key=self._words.__getitem__)] = np.arange(len(self._words))
        rows = _Columns(KEYWORD_COLUMNS)
        for key in keys:
            rows += self._group_keywords(key, groups[key], top, cities_using, idf_by_cities, word_rank)
        return rows.frame()

    def _group_keywords(self, key: tuple, members: list[int], top: int, cities_using: np.ndarray,
                        idf_by_cities: np.ndarray, word_rank: np.ndarray) -> list[dict[str, object]]:
        """One group's keyword rows: its words scored by tf * idf, the `top` first with their examples."""
        spilled = {number: self._read_words(number) for number in members}
        texts: dict[int, bytes] = {}  # the decompressed example sentences of the documents giving examples
        ids, uses, sentences = _pooled([spilled[number] for number in members])
        total = sum(self._doc(number).content_words for number in members)
        idf = idf_by_cities[cities_using[ids]]
        listed = np.flatnonzero(idf > 0)
        if not len(listed):
            return []
        score = uses[listed] / total * idf[listed]
        # by score (highest first), then count (highest first), then the word: sorted's order of
        # the tuples (-score, -count, word) (-(a * b) is -a * b exactly in floating point)
        ranked = listed[np.lexsort((word_rank[ids[listed]], -uses[listed], -score))][:top]
        rows: list[dict[str, object]] = []
        for rank, i in enumerate(ranked.tolist(), 1):
            word, k, word_idf = self._words[ids[i]], int(uses[i]), float(idf[i])
            base = {
                "city": None if key[0] else key[1],
                "year": None if key[2] else key[3],
                "doc_type": key[4] or None,
                "rank": rank,
                "keyword": word,
                "score": (k / total) * word_idf,
                "count": k,
                "tf": k / total,
                "idf": word_idf,
                "cities": int(cities_using[ids[i]]),
                "theme": ";".join(_themes_of(word)) or None,
                "sentences": int(sentences[i]),
            }
            for n_example, (number, sentence) in enumerate(self._examples(int(ids[i]), members, spilled), 1):
                doc_words = spilled[number]
                rows.append(base | {"example": n_example, "doc": self._meta[number][0],
                                    "start": int(doc_words.starts[sentence]), "end": int(doc_words.ends[sentence]),
                                    "sentence": self._sentence_text(number, doc_words, sentence, texts)})
        return rows

    def _examples(self, word: int, members: list[int], spilled: dict[int, _DocWords]) -> list[tuple[int, int]]:
        """The word's first `examples` sentences in the group, in document then text order, as
        (document number, sentence number): each document's own first ones, pooled."""
        candidates: list[_Candidate] = []
        for number in members:
            order = self._meta[number][:2]
            if len(candidates) >= self.examples and candidates[-1].order != order:
                break  # members are in document order: every later one's examples come after
            doc_words = spilled[number]
            i = int(np.searchsorted(doc_words.ids, word))
            if i == len(doc_words.ids) or doc_words.ids[i] != word:
                continue
            candidates += (_Candidate(order, int(doc_words.starts[s]), number, s)
                           for s in doc_words.examples[i].tolist() if s >= 0)
        candidates.sort(key=lambda c: (c.order, c.start))  # stable: text order within a document
        return [(c.member, c.sentence) for c in candidates[: self.examples]]

    def _read_ids(self, number: int) -> np.ndarray:
        place = self._place(number)
        return np.frombuffer(self._spill.read(place.offset, place.words * _ID.itemsize), dtype=_ID)

    def _read_words(self, number: int) -> _DocWords:
        place = self._place(number)
        data = self._spill.read(place.offset, place.counts_bytes(self.examples))
        n, m = place.words, place.sentences
        ints = np.frombuffer(data, dtype=_ID, count=(3 + self.examples) * n)
        offsets = np.frombuffer(data, dtype=_OFFSET, offset=ints.nbytes)
        return _DocWords(ints[:n], ints[n : 2 * n], ints[2 * n : 3 * n], ints[3 * n :].reshape(n, self.examples),
                         offsets[:m], offsets[m : 2 * m], offsets[2 * m :])

    def _sentence_text(self, number: int, doc_words: _DocWords, sentence: int, texts: dict[int, bytes]) -> str:
        """One example sentence of a document, read back from the spill file (each document's
        sentences are read and decompressed once per group: `texts`)."""
        text = texts.get(number)
        if text is None:
            place = self._place(number)
            data = self._spill.read(place.offset + place.counts_bytes(self.examples), place.text_bytes)
            text = texts[number] = zlib.decompress(data)
        start = int(doc_words.text_ends[sentence - 1]) if sentence else 0
        return text[start : int(doc_words.text_ends[sentence])].decode(*_TEXT_ENCODING)


def _pooled(docs: list[_DocWords]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A group's words (ascending ids), their uses and the sentences using them, summed over its documents."""
    if len(docs) == 1:
        return docs[0].ids, docs[0].uses.astype(np.int64), docs[0].sentences.astype(np.int64)
    ids = np.concatenate([d.ids for d in docs])
    by_id = np.argsort(ids, kind="stable")
    ids = ids[by_id]
    if not len(ids):
        return ids, ids.astype(np.int64), ids.astype(np.int64)
    firsts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    uses = np.add.reduceat(np.concatenate([d.uses for d in docs]).astype(np.int64)[by_id], firsts)
    sentences = np.add.reduceat(np.concatenate([d.sentences for d in docs]).astype(np.int64)[by_id], firsts)
    return ids[firsts], uses, sentences


def _interned(value: str | None) -> str | None:
    """One string object per city or document type, however many documents name it."""
    return None if value is None else sys.intern(value)


def corpus_stats(corpus: Corpus | Iterable[Report], examples: int = 1, places: bool = False) -> TextStats:
    """Segment every report once; the returned TextStats gives all four text tables.

    Cheaper than calling the table functions one by one on a large corpus (each segments it)."""
    stats = TextStats(examples, places)
    for report in corpus:
        stats.add(analyse(report, max(examples, 1)))
    return stats


class _Columns:
    """A table's rows gathered column by column, then typed: a list per column rather than a dict
    per row (the theme table of 2,000 reports, 14 MB, peaked at 51 MB above it from row dicts and
    the documents' counts all built at once; 22 MB now)."""

    def __init__(self, dtypes: dict[str, str]) -> None:
        self.dtypes = dtypes
        self.values: dict[str, list[object]] = {column: [] for column in dtypes}

    def append(self, row: dict[str, object]) -> None:
        """One row; a column missing from it is empty (NA), as in a frame built from row dicts."""
        for column, values in self.values.items():
            values.append(row.get(column))

    def __iadd__(self, rows: Iterable[dict[str, object]]) -> _Columns:
        for row in rows:
            self.append(row)
        return self

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame of the declared dtypes, each column converted straight to its type
        (and its list dropped then: the rows are gone once the frame is made)."""
        columns = {}
        for column, dtype in self.dtypes.items():
            values = self.values.pop(column)
            columns[column] = np.array(values, dtype=np.float64) if dtype == "float64" else pd.array(values, dtype=dtype)
        return pd.DataFrame(columns, columns=list(self.dtypes))


# --------------------------------------------------------------------------- theme shares

THEME_COLUMNS = {
    "level": "string",
    "city": "string",
    "year": "Int64",
    "doc": "string",
    "doc_type": "string",
    "documents": "Int64",
    "theme": "string",
    "theme_zh": "string",
    "theme_en": "string",
    "tokens": "Int64",
    "content_tokens": "Int64",
    "token_share": "float64",
    "sentences": "Int64",
    "total_sentences": "Int64",
    "sentence_share": "float64",
}
PLAN_COLUMNS = {
    "city": "string",
    "year": "Int64",
    "doc": "string",
    "doc_type": "string",
    "part": "string",
    **{k: v for k, v in THEME_COLUMNS.items() if k not in ("level", "city", "year", "doc", "doc_type", "documents")},
}


class SharedTextStats(NamedTuple):
    """A TextStats handed to another process (`TextStats.shared`): its counts, and the path and
    size of the spill file it reads the word counts from."""

    state: dict[str, object]
    path: str
    size: int

    def open(self) -> TextStats:
        """The TextStats, reading the owner's spill file (close it when done; the file stays)."""
        return TextStats._reading(self)


def theme_shares(corpus: Corpus | Iterable[Report]) -> pd.DataFrame:
    """Share of content words and of sentences per theme, per document and per city/year.

    One row per (document or city/year, theme), every theme listed (zeros included):
    `token_share` = content words of the theme / all content words; `sentence_share` = sentences
    with at least one word of the theme / sentences with content words. `level` is `document` or
    `city_year` (the documents of one city and report year pooled: counts are summed, not
    averaged). A word counts for the theme of the longest theme word it contains
    (data/text/themes.yaml), so one word rarely counts twice and shares are comparable across
    themes; the rest of the content words belong to no theme.
    """
    return corpus_stats(corpus).theme_shares()


# --------------------------------------------------------------------------- attention

ATTENTION_COLUMNS = {
    "level": "string",
    "city": "string",
    "year": "Int64",
    "doc": "string",
    "doc_type": "string",
    "documents": "Int64",
    "env_words": "Int64",
    "content_words": "Int64",
    "attention": "float64",
    "all_words": "Int64",
    "denominator": "string",
    "ci_low": "float64",
    "ci_high": "float64",
}
WILSON_Z = 1.959963984540054  # 95% two-sided


def attention(corpus: Corpus | Iterable[Report], denominator: str = "all") -> pd.DataFrame:
    """Environmental attention index per document and per (city, year, document type).

    attention = environment-related words / all words of the document (denominator="all", the
    default), the measure of local governments' environmental attention in 陈诗一、陈登科 (2018,
    经济研究 53(2)) and 王印红、李萌竹 (2017, 中国人口·资源与环境 27(2)): the frequency of
    environment-related words over the report's word count (every token but punctuation,
    figures included). denominator="content" divides by content words instead (stop words,
    punctuation and figures removed): larger values, not comparable with the literature's.
    Word list and definition: data/text/attention.yaml (its `source` and `definition`). A word
    counts once when it is or contains a listed word (生态环境 counts through 生态).

    ci_low..ci_high is the 95% Wilson score interval of the share, treating each word as a
    binomial draw: differences inside it are noise. Group rows (level "city_year") pool the
    documents of one city, year and document type, never years or types. The index was defined
    on government work reports; compare documents of one type (a bureau's summary with
    another's), and say so when types differ.
    """
    return corpus_stats(corpus).attention(denominator)


class Interval(NamedTuple):
    """A confidence interval."""

    low: float
    high: float


def wilson_interval(k: int, n: int, z: float = WILSON_Z) -> Interval:
    """Wilson score interval of a binomial proportion k/n (NaN, NaN for n = 0)."""
    if not n:
        return Interval(math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def _attention_cells(env: int, content: int, words: int, denominator: str = "all") -> dict[str, object]:
    total = words if denominator == "all" else content
    low, high = wilson_interval(env, total)
    return {"env_words": env, "content_words": content, "attention": env / total if total else math.nan,
            "all_words": words, "denominator": "all words" if denominator == "all" else "content words",
            "ci_low": low, "ci_high": high}


# --------------------------------------------------------------------------- keywords

KEYWORD_COLUMNS = {
    "city": "string",
    "year": "Int64",
    "doc_type": "string",
    "rank": "Int64",
    "keyword": "string",
    "score": "float64",
    "count": "Int64",
    "tf": "float64",
    "idf": "float64",
    "cities": "Int64",
    "theme": "string",
    "sentences": "Int64",
    "example": "Int64",
    "doc": "string",
    "start": "Int64",
    "end": "Int64",
    "sentence": "string",
}


def keywords(corpus: Corpus | Iterable[Report], top: int = 20, examples: int = 1, places: bool = False) -> pd.DataFrame:
    """Distinctive keywords per (city, year, document type) by TF-IDF across those groups, with
    the sentences behind them.

    The reports of one city, year and type are pooled into one document (never a city's 2019
    article with its 2022 summary); "city" below means such a group. tf = the word's count / the city's content
    words; idf = ln(number of cities / cities using the word); score = tf * idf. A word every city
    uses scores 0 and is never listed, so at least two cities are needed. Candidates are content
    words of two or more characters (stop words, figures and punctuation are never keywords);
    place names of the gazetteer (data/places.csv) are left out unless `places=True`. Ties are
    broken by count, then by the word itself.

    One row per keyword and example sentence (`examples` per keyword, in document and text
    order): `sentences` counts the city's sentences containing the word, `sentence` is the
    cleaned sentence, `start`/`end` its raw-text offsets in `doc`. `theme` is the word's theme.
    """
    return corpus_stats(corpus, examples, places).keywords(top)


# --------------------------------------------------------------------------- plan vs summary


def plan_vs_summary(corpus: Corpus | Iterable[Report]) -> pd.DataFrame:
    """Theme shares of what a report plans (`part` = plan) versus what it reports done (`done`).

    Sections are told apart as the extract stage does (extraction.reader.enter_line): a numbered heading
    (一、…) with a plan word (安排, 打算, 计划, 要点, 目标, 任务 …, data/constructions/structure.yaml
    section_target_words) starts a plan part, one with a result word (总结, 成效, 情况 …,
    section_actual_words) a reported part; text before any such heading follows the document
    type (a plan is all plan). One row per (document, part present in it, theme); shares as in
    `theme_shares`, within the part.
    """
    return corpus_stats(corpus).plan_vs_summary()


def label_themes(labels: Iterable[str]) -> pd.DataFrame:
    """Theme of each unmapped figure's label (the words naming the quantity).

    A label belongs to the theme most of its content words point to (ties: the theme id first
    in sort order); labels with no theme word get the `unthemed` entry of data/text/themes.yaml.
    Used to group the long tail of governance figures that match no catalog indicator.
    """
    names = {t.id: t for t in themes()}
    unthemed = read_yaml("text/themes.yaml")["unthemed"]
    rows = []
    for label in labels:
        votes: dict[str, int] = {}
        for token in segment(label or "", content=True):
            for tid in _themes_of(token):
                votes[tid] = votes.get(tid, 0) + 1
        tid = min(votes, key=lambda k: (-votes[k], k)) if votes else unthemed["id"]
        theme = names.get(tid)
        rows.append({"label": label, "theme": tid, "theme_zh": theme.zh if theme else unthemed["zh"],
                     "theme_en": theme.en if theme else unthemed["en"]})
    return pd.DataFrame(rows, columns=["label", "theme", "theme_zh", "theme_en"]).astype("string")
