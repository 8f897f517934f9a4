"""Clean stage: raw report text -> normalised body text with a map back to raw offsets.

What goes: page headers (read first by the metadata stage), web furniture (print/close links,
navigation lists, 上一篇/下一篇), spam glued to titles, pinyin glosses, and paragraphs repeated
verbatim. What changes: full-width forms to ASCII (NFKC), traditional to simplified characters,
lower-case pollutant codes to upper case, runs of blanks to one (or to their tabs, which split a
scraped table's cells). Every character of the cleaned text remembers the raw character it came
from, so a figure found later points at the original text.
The rules are data: data/clean.yaml.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..vocab.resources import read_yaml
from ..vocab.rules import alternation
from .script import to_simplified


@dataclass(frozen=True)
class Removal:
    """A raw line (or part of one) the cleaner took out, and why."""

    reason: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Cleaned:
    """Cleaned text plus `offsets[i]`, the raw-text index of `text[i]`."""

    text: str
    offsets: array
    removed: tuple[Removal, ...] = ()
    header: tuple[str, ...] = ()

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw-text [start, end) covering cleaned-text [start, end)."""
        if end <= start:
            raw = self.offsets[start] if start < len(self.offsets) else 0
            return raw, raw
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass(frozen=True)
class _Rules:
    header: re.Pattern[str]
    header_date: re.Pattern[str]
    header_date_max: int
    boilerplate_start: re.Pattern[str] | None  # the patterns anchored at the line start: match
    boilerplate_any: re.Pattern[str] | None  # the others: search
    bullet: re.Pattern[str]
    nav_max: int
    nav_run: int
    link_heading: re.Pattern[str]  # a heading over other pages' headlines (相关阅读)
    link_max: int
    spam: re.Pattern[str]
    upper: re.Pattern[str]
    canonical: dict[str, str]
    water_class: re.Pattern[str]
    water_class_digits: re.Pattern[str]
    gloss: re.Pattern[str]
    dup_min: int
    full_stop: str  # a line holding one is prose (not a header, a navigation item or a title)


def _anchored(pattern: str) -> bool:
    """Whether a pattern can match only at the start of a line: it opens with ^ and has no
    alternation outside parentheses or brackets (^a|b would also match b anywhere)."""
    if not pattern.startswith("^"):
        return False
    depth, escaped, class_from = 0, False, -1  # class_from: index of the open class's first member
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif class_from >= 0:
            if ch == "^" and i == class_from:
                class_from += 1  # [^…]
            elif ch == "]" and i > class_from:  # []…] and [^]…]: a first ] is a member
                class_from = -1
        elif ch == "[":
            class_from = i + 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return False
    return True


def _alternation(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts)) if parts else None


def _boilerplate(text: str) -> bool:
    """A whole line of page furniture (data/clean.yaml boilerplate_lines). The patterns anchored
    at the line start are tried there only, not at every position as one re.search would."""
    r = rules()
    return bool(
        (r.boilerplate_start is not None and r.boilerplate_start.match(text))
        or (r.boilerplate_any is not None and r.boilerplate_any.search(text))
    )


@lru_cache(maxsize=1)
def rules() -> _Rules:
    cfg = read_yaml("clean.yaml")
    keys = sorted(cfg["header_keys"], key=len, reverse=True)
    key_alt = "|".join(r"\s*".join(map(re.escape, k)) for k in keys)
    header = rf"^(?:{key_alt})\s*[::]"
    spam_words = alternation(cfg["spam_words"], longest_first=False)
    tokens = sorted(cfg["canonical_tokens"], key=len, reverse=True)
    return _Rules(
        header=re.compile(header),
        header_date=re.compile(cfg["header_date_line"]),
        header_date_max=int(cfg["header_date_max_length"]),
        boilerplate_start=_alternation(p[1:] for p in cfg["boilerplate_lines"] if _anchored(p)),
        boilerplate_any=_alternation(p for p in cfg["boilerplate_lines"] if not _anchored(p)),
        bullet=re.compile(cfg["navigation"]["bullet"]),
        nav_max=int(cfg["navigation"]["max_length"]),
        nav_run=int(cfg["navigation"]["min_run"]),
        link_heading=re.compile(cfg["link_lists"]["heading"]),
        link_max=int(cfg["link_lists"]["max_length"]),
        spam=re.compile(
            rf"(?:\s*[-_|–—]+\s*[^-_|–—]*?|[A-Za-z0-9]*[\u4e00-\u9fff]{{0,3}})(?:{spam_words})[^-_|–—]{{0,12}}$",
            re.I,
        ),
        # the lookahead on the tokens' first letters rejects most positions at once (a pattern
        # that opens with a lookbehind gets no fast first-character scan from the regex engine)
        upper=re.compile(
            "(?=[" + "".join(sorted({re.escape(t[0]) for t in tokens})) + r"])(?<![A-Za-z])(?:"
            + alternation(tokens, longest_first=False) + r")(?![A-Za-z])",
            re.I,
        ),
        canonical={t.lower(): t for t in tokens},
        water_class=re.compile(cfg["water_class_letters"]),
        water_class_digits=re.compile(cfg["water_class_digits"]),
        gloss=re.compile(cfg["pinyin_gloss"]),
        dup_min=int(cfg["duplicate_min_chars"]),
        full_stop=cfg["full_stop"],
    )


def _delete(text: str, index: Sequence[int], spans: list[tuple[int, int]]) -> tuple[str, Sequence[int]]:
    if not spans:
        return text, index
    keep = [True] * len(text)
    for s, e in spans:
        for i in range(s, e):
            keep[i] = False
    return "".join(c for c, k in zip(text, keep) if k), [x for x, k in zip(index, keep) if k]


BLANK_RUN = re.compile(r"[ \t\u00a0\u3000][ \t\u00a0\u3000]+")  # = {2,}, but scanned 3x faster
TAB = "\t"  # a table cell boundary in scraped tables: squeezing keeps it (envcompare/extraction/tables.py)
ASCII_LETTER = re.compile(r"[A-Za-z]")


def normalise_line(line: str, base: int, markdown: bool = False, simplified: str | None = None) -> tuple[str, Sequence[int]]:
    """Normalise one raw line; return the text and the raw index of each of its characters.

    `simplified`: the line already NFKC-normalised and simplified character for character
    (the whole-text fast path of `clean`).
    """
    r = rules()
    index: Sequence[int] = range(base, base + len(line))
    text = line if simplified is None else simplified
    if markdown:
        text, index = _delete(text, index, _markdown_spans(text))
    if simplified is not None:
        if "(" in text:
            text, index = _delete(text, index, [m.span() for m in r.gloss.finditer(text)])
    elif not text.isascii():
        nfkc = text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)
        if len(nfkc) != len(text):
            chars, idx = [], []
            for ch, i in zip(text, index):
                n = ch if ch < "\u00a0" or "\u4e00" <= ch <= "\u9fff" else unicodedata.normalize("NFKC", ch)
                chars.append(n)
                idx.extend([i] * len(n))
            nfkc = "".join(chars)
            index = idx
        text = nfkc
        simp = to_simplified(text)
        if len(simp) != len(text):
            simp = "".join(to_simplified(ch) if len(to_simplified(ch)) == 1 else ch for ch in text)
        text = simp
        text, index = _delete(text, index, [m.span() for m in r.gloss.finditer(text)])
    if ASCII_LETTER.search(text):
        text = r.upper.sub(lambda m: r.canonical[m.group(0).lower()], text)
        text = r.water_class.sub(lambda m: m.group(1).upper(), text)
    if r.water_class_digits.search(text):  # 好于3类 -> 好于III类, 劣5类 -> 劣V类
        text, index = _roman_classes(text, index, r.water_class_digits)
    # squeeze runs of blanks (scrapes pad with spaces, nbsp, ideographic spaces)
    text, index = _delete(text, index, _squeezed(text))
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    return stripped, index[lead : lead + len(stripped)]


ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V"}  # the classes of surface water


def _roman_classes(text: str, index: Sequence[int], digits: re.Pattern[str]) -> tuple[str, list[int]]:
    """Water classes written with Arabic digits as the Roman numerals the catalog's names use;
    every numeral's letters keep the raw index of its digit."""
    chars: list[str] = []
    idx: list[int] = []
    at = 0
    for m in digits.finditer(text):
        chars.append(text[at : m.start()])
        idx.extend(index[at : m.start()])
        numeral = ROMAN[m.group(0)]
        chars.append(numeral)
        idx.extend([index[m.start()]] * len(numeral))
        at = m.end()
    chars.append(text[at:])
    idx.extend(index[at:])
    return "".join(chars), idx


def _squeezed(text: str) -> list[tuple[int, int]]:
    """The blanks a squeeze deletes: a run of blanks keeps its first one, or its tabs when it holds
    any (tabs split the cells of a scraped table; two stand around an empty cell)."""
    spans: list[tuple[int, int]] = []
    for m in BLANK_RUN.finditer(text):
        if TAB not in m.group(0):
            spans.append((m.start() + 1, m.end()))
        else:
            spans.extend((i, i + 1) for i in range(m.start(), m.end()) if text[i] != TAB)
    return spans


MD_PATTERNS = (
    re.compile(r"^\s{0,3}#{1,6}\s+"),
    re.compile(r"^\s{0,3}>\s?"),
    re.compile(r"^\s*[-*+]\s+(?=\S)"),
    re.compile(r"\*\*|__|`"),
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),
    re.compile(r"(?<=\])\([^)]*\)"),
    re.compile(r"\[(?=[^\]]*\]\()"),
    re.compile(r"\](?=\()"),
)


def _extend(offsets: array, index: Sequence[int]) -> None:
    """offsets += index; a run of consecutive offsets (most lines) is written by numpy, not
    converted integer by integer."""
    if isinstance(index, range) and index.step == 1 and len(index) > 16:
        offsets.frombytes(np.arange(index.start, index.stop, dtype=np.intc).tobytes())
    else:
        offsets.extend(index)


def _markdown_spans(text: str) -> list[tuple[int, int]]:
    spans: set[tuple[int, int]] = set()
    for p in MD_PATTERNS:
        spans.update(m.span() for m in p.finditer(text) if m.end() > m.start())
    return sorted(spans)


def _is_header(text: str) -> bool:
    r = rules()
    if r.header.match(text):
        return True
    return len(text) <= r.header_date_max and r.full_stop not in text and bool(r.header_date.match(text))


def clean(raw: str, markdown: bool = False) -> Cleaned:
    """Clean a report's raw text. Pure function of its input."""
    lines: list[tuple[str, Sequence[int], int, int]] = []
    # fast path: traditional -> simplified once for the whole text (it keeps characters in place
    # almost always); then NFKC only on the lines that need it
    simp = to_simplified(raw) if not raw.isascii() else raw
    in_place = len(simp) == len(raw) and simp.count("\n") == raw.count("\n")
    pos = 0
    for part in raw.splitlines(keepends=True):
        body = part.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        pre = simp[pos : pos + len(body)] if in_place else None
        if pre is not None and not unicodedata.is_normalized("NFKC", pre):
            nfkc = unicodedata.normalize("NFKC", pre)
            pre = nfkc if len(nfkc) == len(pre) else None  # lengths change: the per-character path
        text, index = normalise_line(body, pos, markdown, pre)
        lines.append((text, index, pos, pos + len(part)))
        pos += len(part)

    verdict: list[str | None] = []  # None = keep, else the reason for removal
    header: list[str] = []
    for text, _, _, _ in lines:
        if not text:
            verdict.append("blank")
        elif _is_header(text.replace(" ", "")) or _is_header(text):
            verdict.append("header")
            header.append(text)
        elif _boilerplate(text):
            verdict.append("boilerplate")
        elif not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", text):
            verdict.append("no text")
        else:
            verdict.append(None)
    _mark_navigation(lines, verdict)
    _mark_link_lists(lines, verdict)
    removed: list[Removal] = []
    _cut_title_spam(lines, verdict, raw, removed)
    _mark_duplicates(lines, verdict)

    out: list[str] = []
    offsets = array("i")  # 4 bytes a character: files are far below 2**31 characters
    length = 0
    line_break = 0
    for (text, index, start, end), why in zip(lines, verdict):
        if why is None:
            if out:
                out.append("\n")
                offsets.append(line_break)
                length += 1
            out.append(text)
            _extend(offsets, index)
            length += len(text)
            line_break = start + len(raw[start:end].rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"))
        elif why != "blank":
            removed.append(Removal(why, start, end, raw[start:end].rstrip("\r\n")))
    removed.sort(key=lambda x: x.start)
    return Cleaned("".join(out), offsets, tuple(removed), tuple(header))


def _mark_navigation(lines, verdict) -> None:
    r = rules()
    run: list[int] = []

    def flush() -> None:
        if len(run) >= r.nav_run:
            for i in run:
                verdict[i] = "navigation"
        run.clear()

    for i, (text, *_rest) in enumerate(lines):
        if verdict[i] == "blank":
            continue
        if verdict[i] is None and r.bullet.match(text) and len(text) <= r.nav_max and r.full_stop not in text:
            run.append(i)
        else:
            flush()
    flush()


def _mark_link_lists(lines, verdict) -> None:
    """The headlines under a link-list heading (相关阅读): short lines without a full stop, up to
    the first line of prose. The heading itself is boilerplate."""
    r = rules()
    under = False
    for i, (text, *_rest) in enumerate(lines):
        if verdict[i] == "blank":
            continue
        if r.link_heading.match(text):
            under = True
            if verdict[i] is None:
                verdict[i] = "boilerplate"
        elif under and verdict[i] is None and len(text) <= r.link_max and r.full_stop not in text:
            verdict[i] = "navigation"
        elif verdict[i] is None:
            under = False


def _cut_title_spam(lines, verdict, raw, removed) -> None:
    """Cut spam glued to title-like lines near the top of the page."""
    r = rules()
    seen = 0
    for i, (text, index, start, end) in enumerate(lines):
        if verdict[i] is not None:
            continue
        seen += 1
        if seen > 6:
            break
        if r.full_stop in text or len(text) > 80:
            continue
        m = r.spam.search(text)
        if not m or m.start() < 4:
            continue
        cut = m.start()
        raw_s, raw_e = index[cut], index[-1] + 1
        removed.append(Removal("title spam", raw_s, raw_e, raw[raw_s:raw_e]))
        lines[i] = (text[:cut].rstrip(), index[: len(text[:cut].rstrip())], start, end)


def _mark_duplicates(lines, verdict) -> None:
    r = rules()
    seen: set[str] = set()
    short_repeats: list[int] = []
    for i, (text, *_rest) in enumerate(lines):
        if verdict[i] is not None:
            continue
        key = "".join(text.split())  # = re.sub(r"\s+", "", text): both use Unicode whitespace
        if key.endswith("|"):
            continue  # a table cell (`下降14.9% |`): the same figure in another row is no repeat
        if key in seen:
            if len(key) >= r.dup_min:
                verdict[i] = "duplicate"
            else:
                short_repeats.append(i)
        seen.add(key)
    kept = [i for i, v in enumerate(verdict) if v in (None, "duplicate")]
    where = {i: k for k, i in enumerate(kept)}  # kept.index(i) per repeat was quadratic
    for i in short_repeats:
        k = where[i]
        before = verdict[kept[k - 1]] if k > 0 else "duplicate"
        after = verdict[kept[k + 1]] if k + 1 < len(kept) else "duplicate"
        if before == "duplicate" and after == "duplicate":
            verdict[i] = "duplicate"


__all__ = ["Cleaned", "Removal", "clean", "normalise_line", "to_simplified"]
