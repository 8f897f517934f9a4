"""The indicator catalog (data/indicators.csv) and finding indicator names in text.

Literal aliases go into one Aho-Corasick automaton (one pass per text, however large the
catalog); aliases with a gap (`反馈…问题`: a few characters between the parts) go into one
combined regular expression. The gap mark, what a gap may hold and the words that negate a name
are data (data/aliases.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import ahocorasick_rs
import pandas as pd

from .resources import read_csv, read_yaml

T = TypeVar("T")


@dataclass(frozen=True)
class AliasRules:
    """How aliases are written and matched (data/aliases.yaml)."""

    gap_mark: str  # in an alias: a gap between its parts
    gap: str  # a regular expression: what a gap may hold
    negations: tuple[str, ...]  # a name right after one of these is negated, not stated


@lru_cache(maxsize=1)
def alias_rules() -> AliasRules:
    cfg = read_yaml("aliases.yaml")
    return AliasRules(cfg["gap_mark"], cfg["gap"], tuple(cfg["negations"]))


@dataclass(frozen=True)
class Indicator:
    id: str
    domain: str
    name_zh: str
    name_en: str
    unit: str
    direction: str
    part_of: str


@dataclass(frozen=True)
class IndicatorMention:
    start: int
    end: int
    indicator: Indicator
    alias: str
    role: str  # "name", "zero" (a zero-construction name) or "subject"


@lru_cache(maxsize=1)
def catalog() -> pd.DataFrame:
    """The catalog as a DataFrame, one row per indicator id."""
    return read_csv("indicators.csv")


UNLISTED = 10**6  # the catalog position of an id the catalog does not list: after every listed one
DEFAULT_COMPARATORS = {"higher_better": ">=", "lower_better": "<="}


@lru_cache(maxsize=1)
def _positions() -> dict[str, int]:
    return {ind: i for i, ind in enumerate(catalog()["id"])}


def catalog_position(indicator: object) -> int:
    """An indicator's row in the catalog: tables, sheets and charts list indicators in this
    order (the catalog groups them by domain); an id not in the catalog comes after all."""
    return _positions().get(indicator, UNLISTED)  # type: ignore[arg-type]


def in_catalog_order(items: Iterable[T], indicator_of: Callable[[T], object] | None = None) -> list[T]:
    """`items` in catalog order of their indicator (`indicator_of(item)`, default the item
    itself), then by the item: the one order every table and chart uses."""
    key = indicator_of or (lambda item: item)
    return sorted(items, key=lambda item: (catalog_position(key(item)), item))


def default_comparator(direction: object) -> str | None:
    """How a target stated without a comparator is read: at least (>=) where higher is better,
    at most (<=) where lower is better; None for an indicator without a direction."""
    return DEFAULT_COMPARATORS.get(direction) if isinstance(direction, str) else None


@lru_cache(maxsize=1)
def indicators() -> dict[str, Indicator]:
    return {
        r["id"]: Indicator(r["id"], r["domain"], r["name_zh"], r["name_en"], r["unit"], r["direction"], r["part_of"])
        for r in catalog().to_dict("records")
    }


def _aliases() -> list[tuple[str, str, str]]:
    out = []
    for r in catalog().to_dict("records"):
        for role, column in (("name", "aliases"), ("zero", "zero_aliases"), ("subject", "subjects")):
            for alias in filter(None, (a.strip() for a in r[column].split("|"))):
                out.append((alias, r["id"], role))
    return out


@dataclass(frozen=True)
class _Matchers:
    automaton: ahocorasick_rs.AhoCorasick  # literal aliases + the first parts of gapped aliases
    values: list[tuple[str, tuple[tuple[str, str], ...], bool]]  # per pattern: alias, targets, first part?
    gapped: re.Pattern[str] | None  # all gapped aliases, one named group each
    gapped_targets: dict[str, tuple[str, list[tuple[str, str]]]]  # group name -> alias, targets
    heads: bool  # every gapped alias opens with a literal part (the automaton finds where to try)
    negation_chars: frozenset[str]  # one-character negations (the common case: a set lookup)
    negation_words: tuple[str, ...]  # longer ones


@lru_cache(maxsize=1)
def _matchers() -> _Matchers:
    rules = alias_rules()
    gapped: dict[str, list[tuple[str, str]]] = {}
    literal: dict[str, list[tuple[str, str]]] = {}
    for alias, ind, role in _aliases():
        (gapped if rules.gap_mark in alias else literal).setdefault(alias, []).append((ind, role))
    parts = sorted(gapped, key=len, reverse=True)
    # every gapped alias starts with its literal first part: the one automaton pass that finds the
    # literal aliases also finds the only positions where the gapped pattern can match, so the
    # regex never scans the whole text
    firsts = set(a.split(rules.gap_mark)[0] for a in parts)
    heads = all(firsts)
    names = list(dict.fromkeys([*literal, *(sorted(firsts) if heads else [])]))
    values = [(a, tuple(literal.get(a, ())), heads and a in firsts) for a in names]
    pattern = None
    if parts:
        pattern = re.compile("|".join(f"(?P<g{i}>{rules.gap.join(map(re.escape, a.split(rules.gap_mark)))})"
                                      for i, a in enumerate(parts)))
    targets = {f"g{i}": (a, gapped[a]) for i, a in enumerate(parts)}
    return _Matchers(ahocorasick_rs.AhoCorasick(names), values, pattern, targets, heads,
                     frozenset(w for w in rules.negations if len(w) == 1),
                     tuple(w for w in rules.negations if len(w) > 1))


def _negated(text: str, start: int, matchers: _Matchers) -> bool:
    """A negation (data/aliases.yaml) ends right before `start`."""
    if start and text[start - 1] in matchers.negation_chars:
        return True
    return any(start >= len(w) and text.startswith(w, start - len(w)) for w in matchers.negation_words)


def _gapped_matches(text: str, pattern: re.Pattern[str], starts: set[int]) -> list[re.Match[str]]:
    """What `pattern.finditer(text)` yields (non-overlapping, leftmost, first alternative), found by
    trying the pattern only at `starts`, where one of its literal first parts starts."""
    out: list[re.Match[str]] = []
    last_end = 0
    for start in sorted(starts):
        if start < last_end:
            continue
        m = pattern.match(text, start)
        if m:
            out.append(m)
            last_end = m.end()
    return out


def _ascii_boundary_ok(text: str, start: int, end: int, alias: str) -> bool:
    """PM2.5 inside PM2.5PM10 is a name; CO inside COD or CO2 is not."""
    if alias[0].isascii() and alias[0].isalpha() and start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
        return False
    if end < len(text):
        nxt = text[end]
        if alias[-1].isascii() and alias[-1].isalpha() and nxt.isascii() and nxt.isalnum():
            return False
        if alias[-1].isdigit() and (nxt.isdigit() or (nxt == "." and end + 1 < len(text) and text[end + 1].isdigit())):
            return False
    return True


def find_indicators(text: str) -> list[IndicatorMention]:
    """Longest indicator mentions (of two as long, the later-ending), in text order."""
    matchers = _matchers()
    cat = indicators()
    found: list[tuple[int, int, str, tuple[tuple[str, str], ...]]] = []
    heads: set[int] = set()
    values = matchers.values
    for i, start, end in matchers.automaton.find_matches_as_indexes(text, overlapping=True):
        alias, targets, head = values[i]
        if head:
            heads.add(start)
        if not targets:
            continue  # only the first part of a gapped alias
        if _negated(text, start, matchers):
            continue  # 未达到二级标准的天数 is not the days that met it
        if _ascii_boundary_ok(text, start, end, alias):
            found.append((start, end, alias, targets))
    pattern = matchers.gapped
    if pattern is not None:
        for m in _gapped_matches(text, pattern, heads) if matchers.heads else pattern.finditer(text):
            alias, gtargets = matchers.gapped_targets[m.lastgroup]  # type: ignore[index]
            found.append((m.start(), m.end(), alias, tuple(gtargets)))
    # longest names first: 空气质量优良天数比例 is a ratio, not 空气质量优良天(数); of two as long,
    # the one ending later, as Chinese puts the head last: 空气优良天数比率 is the ratio (优良天数比率),
    # not the days (空气优良天数)
    found.sort(key=lambda f: (-(f[1] - f[0]), -f[1]))
    taken = bytearray(len(text) + 1)
    mentions: list[IndicatorMention] = []
    for start, end, alias, targets in found:
        if any(taken[start:end]):
            continue
        taken[start:end] = b"\x01" * (end - start)
        for ind, role in targets:
            mentions.append(IndicatorMention(start, end, cat[ind], alias, role))
    mentions.sort(key=lambda m: m.start)
    return mentions
