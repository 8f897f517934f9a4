"""What each data file may hold, checked when the file is read (as dateparser validates its
language data at load): an unknown key, a missing key or a value of the wrong type is a
`DataSchemaError` naming the file and the key, never a KeyError deep inside the engine.

A schema is plain data, one entry per file in `SCHEMAS` (a file name relative to data/, or a
glob such as `constructions/*.yaml`), so a new file or key is one line:

    str, int, float, bool   a value of that type (an int is also a float; a bool is neither)
    REGEX                   text that compiles as a regular expression
    None                    null
    [spec]                  a list, every item of `spec`
    (spec, spec, ...)       a list of exactly these items (units.yaml: [code, multiplier])
    {"key": spec, ...}      a mapping with these keys and no other; `...: spec` admits any other
                            key with values of `spec` (`{...: str}`: any keys, text values)
    Opt(spec, default)      a key that may be left out; `default` is filled in (Opt(spec): left out)
    OneOf(spec, ...)        any of these
    Enum(value, ...)        one of these values
    ANY                     anything (a part another module checks)

A CSV file's schema is a `Table`: its columns, each a `Cell` (a regular expression every cell
must match in full, and what it means). Unknown and missing columns are errors too.

Every YAML and CSV file of data/ has a schema here (tests/test_schema.py checks; the gold labels
and the example sentences, read by their own checkers, excepted). A file without one is read
unchecked rather than refused, so that a data file added on another branch does not stop the
engine before its schema line is merged.

Defaults live here, not in the code: a reader takes `cfg["key"]` and never `cfg.get("key", d)`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import DataSchemaError

_MISSING = object()


class _Regex:
    """Text that compiles as a regular expression."""

    def __repr__(self) -> str:
        return "REGEX"


class _Any:
    """Anything at all."""

    def __repr__(self) -> str:
        return "ANY"


REGEX = _Regex()
ANY = _Any()


@dataclass(frozen=True)
class Opt:
    """A key that may be left out of its mapping; `default` (if given) is filled in."""

    spec: Any
    default: Any = _MISSING


@dataclass(frozen=True)
class OneOf:
    """A value of any of these specs (tried in order)."""

    options: tuple[Any, ...]

    def __init__(self, *options: Any) -> None:
        object.__setattr__(self, "options", options)


@dataclass(frozen=True)
class Enum:
    """One of these values."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class Cell:
    """A CSV column: every cell matches `pattern` in full; `meaning` says what that is."""

    pattern: str
    meaning: str


@dataclass(frozen=True)
class Table:
    """A CSV file: its columns (all of them, in any order), what each cell holds, and the columns
    whose values name a row (no value twice)."""

    columns: dict[str, Cell]
    unique: tuple[str, ...] = ()


class _Mismatch(Exception):
    """A value that does not fit its schema, at `where` (a key path such as statistics.pm.en)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where or 'top level'}: {message}")


def describe(spec: Any) -> str:
    """A spec in words, for error messages and data/README.md."""
    if spec is None:
        return "null"
    if isinstance(spec, type):
        return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}[spec]
    if isinstance(spec, list):
        return f"a list of {describe(spec[0])}"
    if isinstance(spec, tuple):
        return f"a list of exactly {len(spec)} ({', '.join(describe(s) for s in spec)})"
    if isinstance(spec, dict):
        fixed = [k for k in spec if k is not ...]
        if not fixed:
            return f"a mapping of keys to {describe(spec[...])}"
        return "a mapping with the keys " + ", ".join(map(str, fixed)) + (" and any other" if ... in spec else "")
    if isinstance(spec, Opt):
        return describe(spec.spec)
    if isinstance(spec, OneOf):
        return " or ".join(describe(s) for s in spec.options)
    if isinstance(spec, Enum):
        return "one of " + ", ".join(repr(v) for v in spec.values)
    if spec is REGEX:
        return "a regular expression"
    if spec is ANY:
        return "anything"
    raise TypeError(f"not a schema: {spec!r}")


def _found(value: Any) -> str:
    kind = {dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a whole number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
    shown = repr(value)
    return f"{kind} {shown[:60] + '…' if len(shown) > 60 else shown}"


def check(spec: Any, value: Any, where: str = "") -> Any:
    """`value` if it fits `spec` (mappings get their defaults filled in, as new dicts); else
    _Mismatch naming the key path."""
    if spec is ANY:
        return value
    if isinstance(spec, Opt):
        return check(spec.spec, value, where)
    if isinstance(spec, OneOf):
        failures = []
        for option in spec.options:
            try:
                return check(option, value, where)
            except _Mismatch as exc:
                failures.append((option, exc))
        # a mapping against the one mapping option (a list against the one list option): its own
        # error, which names the key, says more than "expected one of"
        same_kind = [exc for option, exc in failures if _kind(option) is type(value)]
        if len(same_kind) == 1:
            raise same_kind[0]
        raise _Mismatch(where, f"expected {describe(spec)}, found {_found(value)}")
    if isinstance(spec, dict):
        return _check_mapping(spec, value, where)
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise _Mismatch(where, f"expected {describe(spec)}, found {_found(value)}")
        return [check(spec[0], item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(spec, tuple):
        if not isinstance(value, list) or len(value) != len(spec):
            raise _Mismatch(where, f"expected {describe(spec)}, found {_found(value)}")
        return [check(s, item, f"{where}[{i}]") for i, (s, item) in enumerate(zip(spec, value, strict=True))]
    if _fits_scalar(spec, value):
        if spec is REGEX:
            try:
                re.compile(value)
            except re.error as exc:
                raise _Mismatch(where, f"not a regular expression ({exc}): {value!r}") from None
        return value
    raise _Mismatch(where, f"expected {describe(spec)}, found {_found(value)}")


def _kind(spec: Any) -> type | None:
    """The container type a spec stands for (dict, list), or None for the others."""
    if isinstance(spec, dict):
        return dict
    if isinstance(spec, (list, tuple)):
        return list
    return None


def _fits_scalar(spec: Any, value: Any) -> bool:
    if spec is None:
        return value is None
    if spec is REGEX or spec is str:
        return isinstance(value, str)
    if spec is bool:
        return type(value) is bool
    if spec is int:
        return type(value) is int
    if spec is float:
        return type(value) in (int, float)
    if isinstance(spec, Enum):
        return any(value == v and type(value) is type(v) for v in spec.values)
    raise TypeError(f"not a schema: {spec!r}")


def _check_mapping(spec: dict, value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Mismatch(where, f"expected {describe(spec)}, found {_found(value)}")
    rest = spec.get(...)
    known = [k for k in spec if k is not ...]
    out = {}
    for key, item in value.items():
        inner = f"{where}.{key}" if where else str(key)
        if key in spec and key is not ...:
            out[key] = check(spec[key], item, inner)
        elif rest is not None:
            if not isinstance(key, str):
                raise _Mismatch(where, f"key {key!r} is not text")
            out[key] = check(rest, item, inner)
        else:
            raise _Mismatch(where, f"unknown key {key!r} (known: {', '.join(map(str, known))})")
    for key in known:
        if key in value:
            continue
        entry = spec[key]
        if not isinstance(entry, Opt):
            raise _Mismatch(where, f"missing key {key!r} ({describe(entry)})")
        if entry.default is not _MISSING:
            out[key] = _copy(entry.default)
    return out


def _copy(default: Any) -> Any:
    """A fresh copy of a default list or mapping: callers may not share one across files."""
    if isinstance(default, list):
        return [_copy(v) for v in default]
    if isinstance(default, dict):
        return {k: _copy(v) for k, v in default.items()}
    return default


def check_table(table: Table, frame: pd.DataFrame, where: str = "") -> pd.DataFrame:
    """`frame` (every cell text) if its columns and cells fit `table`; else _Mismatch."""
    columns = list(frame.columns)
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise _Mismatch(where, f"unknown column {unknown[0]!r} (known: {', '.join(table.columns)})")
    missing = [c for c in table.columns if c not in columns]
    if missing:
        raise _Mismatch(where, f"missing column {missing[0]!r}")
    for name, cell in table.columns.items():
        fits = frame[name].str.fullmatch(cell.pattern).fillna(False).to_numpy(dtype=bool)
        if not fits.all():
            row = int((~fits).argmax())
            raise _Mismatch(where, f"line {row + 2}, column {name!r}: {frame[name].iloc[row]!r} is not {cell.meaning}")
    for name in table.unique:
        twice = frame[name].duplicated().to_numpy(dtype=bool)
        if twice.any():
            row = int(twice.argmax())
            raise _Mismatch(where, f"line {row + 2}, column {name!r}: {frame[name].iloc[row]!r} is there twice")
    return frame


def schema_for(name: str) -> Any:
    """The declared schema of a data file (its name relative to data/, or a glob matching it);
    None when there is none."""
    if name in SCHEMAS:
        return SCHEMAS[name]
    return next((spec for pattern, spec in SCHEMAS.items() if fnmatch.fnmatchcase(name, pattern)), None)


def validate(name: str, value: Any, path: object) -> Any:
    """A data file's parsed content, checked against its schema (defaults filled in).

    `path` names the file in the error (DataSchemaError: file, then the key or line and why)."""
    spec = schema_for(name)
    if spec is None:
        return value
    try:
        if isinstance(spec, Table):
            if not isinstance(value, pd.DataFrame):
                raise _Mismatch("", "expected a CSV table")
            return check_table(spec, value)
        return check(spec, value)
    except _Mismatch as exc:
        raise DataSchemaError(path, str(exc)) from None


# --- the schemas -----------------------------------------------------------------------------------

WORDS = [str]
LANG_TEXT = {"zh": str, "en": str}  # a word in each language of the charts and sentences
TEXT = Cell(r"(?s).*", "text")
NON_EMPTY = Cell(r"(?s).+", "non-empty text")
WHOLE_NUMBER = Cell(r"\d+", "a whole number")
YEAR_OR_EMPTY = Cell(r"(\d{4})?", "a year or empty")
NUMBER = Cell(r"-?\d+(\.\d+)?", "a number")
NUMBER_OR_EMPTY = Cell(r"(-?\d+(\.\d+)?)?", "a number or empty")
INDICATOR_ID = Cell(r"[a-z]+\.[a-z0-9_]+", "an indicator id (domain.name)")
INDICATOR_ID_OR_EMPTY = Cell(r"([a-z]+\.[a-z0-9_]+)?", "an indicator id or empty")
STATISTIC_OR_EMPTY = Cell(r"([a-z0-9_]+)?", "a statistic id of comparability.yaml or empty")

SCHEMAS: dict[str, Any] = {
    "indicators.csv": Table({
        "id": INDICATOR_ID, "domain": NON_EMPTY, "name_zh": NON_EMPTY, "aliases": TEXT, "name_en": NON_EMPTY,
        "unit": NON_EMPTY, "direction": Cell("higher_better|lower_better|neutral", "a direction"),
        "subjects": TEXT, "zero_aliases": TEXT, "part_of": INDICATOR_ID_OR_EMPTY, "notes": TEXT,
        "scale_dependent": Cell("(yes)?", "yes or empty"), "statistic": STATISTIC_OR_EMPTY, "same_scope": TEXT,
        "ratio_of": INDICATOR_ID_OR_EMPTY,
    }, unique=("id",)),
    "places.csv": Table({
        "code": WHOLE_NUMBER, "name": NON_EMPTY, "short": NON_EMPTY,
        "level": Cell("province|municipality|prefecture|county_city|district|county", "a level of the gazetteer"),
        "province": NON_EMPTY, "prefecture": TEXT, "pinyin": TEXT,
    }, unique=("code",)),
    "references.csv": Table({
        "indicator": INDICATOR_ID, "city": TEXT, "year": YEAR_OR_EMPTY,
        "kind": Cell("limit|guideline|interim_target|average", "a reference kind"), "level": NON_EMPTY,
        "value": NUMBER, "unit": NON_EMPTY, "averaging": TEXT, "source": NON_EMPTY, "notes": TEXT,
        "statistic": STATISTIC_OR_EMPTY, "level_zh": TEXT,
    }),
    "aliases.yaml": {"gap_mark": str, "gap": REGEX, "negations": WORDS},
    "gazetteer.yaml": {"written_suffixes": {...: str}, "former_suffixes": WORDS},
    "units.yaml": {"units": {...: (str, float)}, "scales": {...: int}, "display": Opt({...: LANG_TEXT}, {}),
                   "convert": Opt({...: {...: float}}, {})},
    "doctypes.yaml": [{"type": Enum("summary", "report", "plan"), "words": WORDS}],
    "labels.yaml": {"doc_type": {...: LANG_TEXT}, "panel_keys": {...: LANG_TEXT}, ...: LANG_TEXT},
    "evaluate.yaml": {"place_suffixes": WORDS, "annual_periods": WORDS, "units": {...: str}},
    "comparability.yaml": {
        "count_prefix": REGEX,
        "min_cities": Opt(int, 5),
        "min_indicators": Opt(int, 2),
        "statistics": {...: {"en": str, "zh": str, "assumed": bool, "markers": WORDS, "applies_to": [str]}},
        "unstated": LANG_TEXT,
        "exact_units": Opt([str], []),
        "base_year_period": REGEX,
    },
    "clean.yaml": {
        "date_keys": WORDS, "publisher_keys": WORDS, "header_keys": WORDS, "header_date_line": REGEX,
        "header_date_max_length": int, "boilerplate_lines": [REGEX],
        "navigation": {"bullet": REGEX, "max_length": int, "min_run": int},
        "link_lists": {"heading": REGEX, "max_length": int},
        "title_furniture": {"breadcrumb_lead": REGEX, "breadcrumb": REGEX, "menu": REGEX, "max_item_length": int,
                            "site_words": WORDS, "headline_min_letters": int, "scan_lines": int},
        "spam_words": WORDS, "canonical_tokens": WORDS, "water_class_letters": REGEX, "water_class_digits": REGEX, "pinyin_gloss": REGEX,
        "duplicate_min_chars": int,
        "full_stop": str,  # a line holding it is prose (not a header, navigation or a title)
        "page_metadata": {"date": REGEX, "undated_key": str, "title_keys": WORDS, "bureaus": WORDS,
                          "title_lead_in": REGEX, "year": REGEX, "bare_title_year": REGEX,
                          "city_suffixes": WORDS, "city_suffix": str},
    },
    "text/themes.yaml": {
        "themes": [{"id": str, "zh": str, "en": str, "source": str, "words": WORDS}],
        "unthemed": {"id": str, "zh": str, "en": str},
    },
    "text/attention.yaml": {"definition": str, "source": Opt(str, ""), "words": WORDS},
    "text/segment.yaml": {
        "figure_suffixes": WORDS, "figure_hedges": WORDS, "code": REGEX, "ignore": Opt([REGEX], []),
        "userdict_min_freq": int, "segmenter": str,
    },
    # The extraction's cue words and patterns, one file per construction beside its examples:
    # the sections are checked here, the rules by the extraction stage that compiles them.
    "constructions/*.yaml": OneOf({"rules": Opt({...: ANY}), "examples": Opt([ANY]), "not_facts": Opt([ANY])}, None),
    # The review queue's weak-evidence rules and plausible ranges (envcompare/review).
    # kind_default: a kind's basis (extraction reader.KIND_BASES) -> the kinds flagged -> the reason
    "review.yaml": {"weak_year": {...: str}, "weak_city_checked_in": WORDS, "feeds": {...: str},
                    "kind_default": {b: Opt({...: str}) for b in ("cue", "section", "document", "default")}},
    "plausible.csv": Table({
        "indicator": INDICATOR_ID_OR_EMPTY, "unit": NON_EMPTY, "kind": Cell("level|change", "level or change"),
        "min": NUMBER_OR_EMPTY, "max": NUMBER_OR_EMPTY,
        "why": NON_EMPTY,
    }),
}
