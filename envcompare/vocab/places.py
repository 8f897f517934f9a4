"""The gazetteer: Chinese provinces, cities, counties and districts from data/places.csv.

Built once from the National Bureau of Statistics division codes (see data/README.md). Used to
infer a report's city and, in extraction, to attribute figures to the place a sentence names.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

import ahocorasick_rs

from .resources import read_csv, read_yaml

CITY_LEVELS = ("municipality", "prefecture", "county_city")


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    short: str
    level: str
    province: str
    prefecture: str
    pinyin: str

    @property
    def city(self) -> str:
        """The city this place belongs to, for attribution votes (a district votes for its city)."""
        if self.level in CITY_LEVELS:
            return self.short
        return _short_of(self.prefecture) if self.prefecture else self.short

    @property
    def city_of_prefecture(self) -> str:
        """The prefecture-level city a place lies in (itself for a prefecture)."""
        return _short_of(self.prefecture) if self.prefecture else self.short


class Mention(NamedTuple):
    """A place named in a text (a NamedTuple: thousands are made per document)."""

    start: int
    end: int
    place: Place
    full: bool  # written with its suffix (成都市), not only the short form (成都)
    former: bool = False  # written with a suffix it no longer has (茌平县 for 茌平区): find_places(former=True)


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    df = read_csv("places.csv")
    return tuple(Place(**row) for row in df.to_dict("records"))


@lru_cache(maxsize=1)
def _by_name() -> dict[str, Place]:
    return {p.name: p for p in places()}


def _short_of(name: str) -> str:
    p = _by_name().get(name)
    return p.short if p else name


def lookup(name: str) -> Place | None:
    """A city-level place by full or short name (成都市 or 成都); cities win over provinces."""
    return _city_index().get(name) or _by_name().get(name)


@lru_cache(maxsize=1)
def _city_index() -> dict[str, Place]:
    index: dict[str, Place] = {}
    for p in places():
        if p.level in CITY_LEVELS:
            index.setdefault(p.short, p)
            index.setdefault(p.name, p)
    return index


@lru_cache(maxsize=1)
def _written_suffixes() -> dict[str, str]:
    return dict(read_yaml("gazetteer.yaml")["written_suffixes"])  # checked at load (vocab.schema)


def _former_suffixes() -> list[str]:
    return list(read_yaml("gazetteer.yaml")["former_suffixes"])  # checked at load (vocab.schema)


@dataclass(frozen=True)
class _Matcher:
    automaton: ahocorasick_rs.AhoCorasick
    targets: tuple[tuple[Place, bool], ...]


@lru_cache(maxsize=1)
def _automaton() -> _Matcher:
    """Full names of every place; short names of city-level places and provinces (_names)."""
    keys = _names()
    names = list(keys)
    # ahocorasick_rs (Rust): ~20x faster than a pure trie walk over thousands of CJK keys
    auto = ahocorasick_rs.AhoCorasick(names, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
    return _Matcher(auto, tuple(keys[n] for n in names))


@lru_cache(maxsize=1)
def _names() -> dict[str, tuple[Place, bool]]:
    """Full names of every place; short names of city-level places and provinces.

    Short names of counties and districts are left out: two-character forms such as 东方 or
    合作 are everyday words.
    """
    keys: dict[str, tuple[Place, bool]] = {}
    for p in places():
        if p.level in ("province", "municipality"):
            keys.setdefault(p.name, (p, True))
            if len(p.short) >= 2:
                keys.setdefault(p.short, (p, False))
    for p in places():
        if p.level in CITY_LEVELS:
            keys[p.name] = (p, True)
            if p.level != "county_city" and len(p.short) >= 2 and (p.short not in keys or keys[p.short][0].level == "province"):
                keys[p.short] = (p, False)
    for p in places():
        if p.level in ("district", "county"):
            keys.setdefault(p.name, (p, True))
    for p in places():
        # an autonomous county or banner is written with its plain suffix (民和县 for 民和回族土族自治县)
        for autonomous, plain in _written_suffixes().items():
            if p.level == "county" and p.name.endswith(autonomous) and len(p.short) >= 2:
                keys.setdefault(p.short + plain, (p, True))
    return keys


@lru_cache(maxsize=64)
@lru_cache(maxsize=64)
def county_short_names(province: str) -> Mapping[str, Place]:
    """The short names (于都 for 于都县, 瑞金 for 瑞金市) of a province's districts, counties and
    county-level cities, where no other such place of the province has the same one.

    Left out of find_places (two-character forms are everyday words), they are read as places only
    where a text lists them side by side with other places (瑞金、于都、兴国…分别为…)."""
    found: dict[str, Place | None] = {}
    for p in places():
        if p.province == province and p.level in ("district", "county", "county_city") and len(p.short) >= 2:
            found[p.short] = None if p.short in found else p
    return MappingProxyType({short: p for short, p in found.items() if p is not None})


@lru_cache(maxsize=1)
def _former_automaton() -> _Matcher:
    """Districts, counties and county-level cities by their short name and a former suffix
    (gazetteer.yaml `former_suffixes`), where no place has that name."""
    taken = _names()
    keys: dict[str, tuple[Place, bool]] = {}
    for p in places():
        if p.level in ("district", "county", "county_city") and len(p.short) >= 2:
            for suffix in _former_suffixes():
                if p.short + suffix not in taken:
                    keys.setdefault(p.short + suffix, (p, True))
    names = list(keys)
    auto = ahocorasick_rs.AhoCorasick(names, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
    return _Matcher(auto, tuple(keys[n] for n in names))


def county_parent(name: str) -> str | None:
    """The prefecture-level city (its short name) of a district or county named in full
    (张店区 -> 淄博, 婺源县 -> 上饶); None for any other name."""
    p = _by_name().get(name)
    return p.city_of_prefecture if p is not None and p.level in ("district", "county") and p.prefecture else None


def province_short(name: str) -> str:
    """A province's short name (江西 for 江西省, 广西 for 广西壮族自治区); the name itself when unknown."""
    p = _by_name().get(name)
    return p.short if p is not None and p.level in ("province", "municipality") else name


def find_places(text: str, former: bool = False) -> list[Mention]:
    """Non-overlapping, leftmost-longest place mentions in `text`; `former`: also places written
    with a former suffix (茌平县), where they overlap no other mention. Those are for reading a
    sentence's places, not for telling which city a report is about."""
    return list(_find_places(text, former))


@lru_cache(maxsize=16)
def _find_places(text: str, former: bool) -> tuple[Mention, ...]:
    # memoised: the metadata and extract stages both read the same cleaned text
    m = _automaton()
    found = [Mention(start, end, *m.targets[i]) for i, start, end in m.automaton.find_matches_as_indexes(text)]
    if not former:
        return tuple(found)
    old = _former_automaton()
    starts = [f.start for f in found]
    for i, start, end in old.automaton.find_matches_as_indexes(text):
        # the longest reading wins: 广丰县 over the 丰县 inside it, 信州区 over a former name across it
        first, stop = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
        if (first > 0 and found[first - 1].end > start) or (stop > first and found[stop - 1].end > end):
            continue
        found[first:stop] = [Mention(start, end, *old.targets[i], former=True)]
        starts[first:stop] = [start]
    return tuple(found)
