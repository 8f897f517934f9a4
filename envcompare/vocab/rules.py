"""The extraction rules: the cue words and patterns of every construction, one data file each.

`data/constructions/<construction>.yaml` holds a construction's `rules:` (its cue words and
patterns) beside its `examples:` (sentences and the facts they must yield) and `not_facts:`
(sentences that must not yield the facts they list, or none at all), duckling style. The engine
sees one mapping: every file's `rules:` merged, a key defined in one file only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from ..errors import DataFileError
from .resources import data_path, read_yaml

CONSTRUCTIONS = "constructions"


def alternation(words: Iterable[str], longest_first: bool = True) -> str:
    """A regular expression matching any of `words` as written (escaped), longest first so that
    a word is never cut short by another it starts with (or, with `longest_first=False`, in the given
    order, where a hand-written alternation's order was kept)."""
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True) if longest_first else words))


def construction_names() -> list[str]:
    """The construction files, sorted (`numbers`, `places` …)."""
    return sorted(p.stem for p in data_path(CONSTRUCTIONS).glob("*.yaml"))


def read_construction(name: str) -> dict:
    """One construction file: its rules, examples and not_facts (each may be absent; any other
    section is an error of the file's schema, vocab.schema SCHEMAS["constructions/*.yaml"])."""
    return read_yaml(f"{CONSTRUCTIONS}/{name}.yaml") or {}


@cache
def read_rules() -> dict:
    """The rules of every construction file, merged into one mapping (read once per process)."""
    merged: dict = {}
    where: dict[str, str] = {}
    names = construction_names()
    if not names:
        raise DataFileError(data_path(CONSTRUCTIONS), "no construction files (*.yaml)")
    for name in names:
        for key, value in (read_construction(name).get("rules") or {}).items():
            if key in merged:
                raise DataFileError(data_path(f"{CONSTRUCTIONS}/{name}.yaml"),
                                    f"rule {key!r} is also defined in {where[key]}.yaml")
            merged[key] = value
            where[key] = name
    return merged
