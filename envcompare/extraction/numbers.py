"""Quantities in text: a number (Arabic or Chinese), its scale, unit and hedges.

Only numbers that can be figures come out: years, dates, times, document numbers
(〔2019〕14号), ordinals (第二), pollutant and standard codes (PM2.5, NO2, GB3095-2012) and
section numbering are recognised and skipped. Units and scales are data (data/units.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..vocab.resources import read_yaml
from ..vocab.rules import alternation, read_rules


@dataclass(frozen=True)
class Numerals:
    """Numerals written in words (data/constructions/numbers.yaml `numerals`)."""

    digits: dict[str, int]  # 一 -> 1
    units: dict[str, int]  # 十 -> 10
    big: dict[str, int]  # 万 -> 10000: a section of the number
    point: str  # the decimal point written as a word
    chars: str  # every numeral character
    counting: frozenset[str]  # a numeral holds one of these to be a number, not a scale word alone
    one: str  # a lone one counts only before `one_units`
    one_units: frozenset[str]


@lru_cache(maxsize=1)
def numerals() -> Numerals:
    n = read_rules()["numerals"]
    digits, units, big = dict(n["digits"]), dict(n["units"]), dict(n["big"])
    return Numerals(
        digits=digits,
        units=units,
        big=big,
        point=n["point"],
        chars="".join([*digits, *units, *big]),
        counting=frozenset(n["counting"]),
        one=n["one"],
        one_units=frozenset(n["one_units"]),
    )


def parse_chinese_number(text: str) -> float | None:
    """一万零一十二 -> 10012, 十一 -> 11, 两 -> 2, 三点五 -> 3.5; None when not a numeral."""
    if not text:
        return None
    numeral_words = numerals()
    if numeral_words.point in text:
        whole, _, frac = text.partition(numeral_words.point)
        w = parse_chinese_number(whole) if whole else 0
        if w is None or not frac or any(c not in numeral_words.digits for c in frac):
            return None
        return w + float("0." + "".join(str(numeral_words.digits[c]) for c in frac))
    if any(c not in numeral_words.chars for c in text):
        return None
    if all(c in numeral_words.digits for c in text) and len(text) > 1:
        return float("".join(str(numeral_words.digits[c]) for c in text))  # 二〇二二-style digit strings
    total = section = number = 0
    largest = max(numeral_words.big.values())
    for ch in text:
        if ch in numeral_words.digits:
            number = numeral_words.digits[ch]
        elif ch in numeral_words.units:
            section += (number or 1) * numeral_words.units[ch]
            number = 0
        else:  # 万 / 亿
            big = numeral_words.big[ch]
            section += number
            if big == largest:
                total = (total + section) * big
            else:
                total += section * big
            section = number = 0
    return float(total + section + number)


@dataclass(frozen=True)
class Quantity:
    start: int  # first character of the number (hedge words excluded)
    end: int  # after the unit (or the number when bare)
    value: float
    unit: str | None  # canonical unit code, None for a bare number
    unit_text: str
    approx: bool
    before: str  # hedge/comparator word right before ("约", "不高于" is found by the extractor)
    after: str  # word right after the unit: 以上, 以下, 左右 ...
    after_end: int  # end including `after`
    range_end: float | None = None


@dataclass(frozen=True)
class QuantityRules:
    """The quantity pattern and the checks after it (data/units.yaml, constructions/numbers.yaml)."""

    quantity: re.Pattern[str]
    units: dict[str, tuple[str, float]]
    scales: dict[str, float]
    percent: str  # 百分之: a per cent written before its number
    approx_after_unit: frozenset[str]  # 左右: a hedge after the unit
    hedge_negation: str  # 不 before a hedge word (不超过) makes it a bound
    scale_needs_unit: frozenset[str]  # 千 without a unit is no figure
    not_figure_before: str  # characters before a number that make it an ordinal or a code
    not_figure_after: re.Pattern[str]  # years, dates, times, plan names
    date_after: re.Pattern[str]
    section_number: re.Pattern[str]  # 1. / 2、 opening a line


@lru_cache(maxsize=1)
def _patterns() -> QuantityRules:
    cfg = read_yaml("units.yaml")
    units = {k: (v[0], float(v[1])) for k, v in cfg["units"].items()}
    scales = {k: float(v) for k, v in cfg["scales"].items()}
    rules = read_rules()
    numeral_words = numerals()
    approx = rules["approx"]
    unit_alt = alternation(units)
    scale_alt = alternation(scales)
    before_words = approx["before"]
    before = alternation(before_words)
    hedge = alternation(approx["after"], longest_first=False)  # 余/多 between a number and its unit
    percent = rules["percent_word"]
    # after the unit: comparators (以上, 以内) and hedges (左右)
    after = alternation(sorted({*rules["comparators"]["after"], *approx["after_unit"], *approx["after_actual"]}))
    # every match opens with a hedge word or a number: a lookahead on those first characters
    # rejects most positions at once (the optional group in front defeats the engine's own scan)
    firsts = "".join(sorted({w[0] for w in before_words} | set(numeral_words.chars) | {percent[0]}))
    arabic = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    chinese = rf"[{re.escape(numeral_words.chars)}]+(?:{re.escape(numeral_words.point)}[{re.escape(''.join(numeral_words.digits))}]+)?"
    # a Chinese numeral counts only with a unit after it (十四五 and 一是 are words): say so in
    # the pattern, so the regex engine rejects them without a Python-level look
    cn_with_unit = rf"{chinese}(?=(?:{scale_alt})?(?:{hedge})?(?:{unit_alt}))"
    number = rf"(?P<num>{arabic}|{re.escape(percent)}(?P<pct>{chinese}|{arabic})|{cn_with_unit})"
    rng = rf"(?:\s*(?:{alternation(rules['range_joins'], longest_first=False)})\s*(?P<num2>{arabic}))?"
    pattern = (
        rf"(?=[\d{re.escape(firsts)}])(?P<before>{before})?{number}{rng}"
        rf"(?:[ \u00a0]?(?P<unit1>{unit_alt})|(?P<scale>{scale_alt})?(?P<hedge>{hedge})?(?P<unit2>{unit_alt})?)"
        rf"(?P<after>{after})?"
    )
    not_figures = rules["not_figures"]
    return QuantityRules(
        quantity=re.compile(pattern),
        units=units,
        scales=scales,
        percent=percent,
        approx_after_unit=frozenset(approx["after_unit"]),
        hedge_negation=not_figures["hedge_negation"],
        scale_needs_unit=frozenset(not_figures["scale_needs_unit"]),
        not_figure_before=not_figures["before"],
        not_figure_after=re.compile(not_figures["after"]),
        date_after=re.compile(not_figures["date_after"]),
        section_number=re.compile(not_figures["section_number"]),
    )


def find_quantities(text: str, pos: int = 0, endpos: int | None = None) -> list[Quantity]:
    """Quantities that may be figures in text[pos:endpos] (offsets in `text`), in text order."""
    pats = _patterns()
    numeral_words = numerals()
    out: list[Quantity] = []
    for m in pats.quantity.finditer(text, pos, len(text) if endpos is None else endpos):
        num = m.group("num")
        start = m.start("num")
        prev = text[start - 1] if start > 0 else ""
        prev2 = text[max(0, start - 2) : start]
        follow = text[m.end("num") : m.end("num") + 4]
        is_cn = not num[0].isdigit() and not num.startswith(pats.percent)
        unit_text = m.group("unit1") or m.group("unit2") or ""
        # codes, ordinals, document numbers, dates and times are not figures
        if prev.isascii() and prev.isalpha():
            continue
        if re.match(r"[A-Za-z0-9][-:.]$", prev2) or (prev and prev in pats.not_figure_before):
            continue
        if not m.group("num2") and pats.not_figure_after.match(follow) and not unit_text:
            continue
        if pats.date_after.match(text[m.end() : m.end() + 1]) and not unit_text:
            continue
        if pats.section_number.match(text[start : m.end("num") + 1]) and (start == 0 or text[start - 1] in "\n(("):
            continue  # section numbering: "1." / "2、" at the start of a line
        if is_cn:
            if not any(c in numeral_words.counting for c in num):
                continue  # 万名, 千方百计: scale characters alone are words, not numbers
            if not unit_text or (num == numeral_words.one and unit_text not in numeral_words.one_units):
                continue  # 十四五, 一是, 一批: Chinese numerals count only with a unit
        if m.group("pct"):
            pct = m.group("pct")
            value = float(pct) if pct[0].isdigit() else parse_chinese_number(pct)
            unit_code, unit_text = "%", pats.percent
        else:
            value = float(num.replace(",", "")) if num[0].isdigit() else parse_chinese_number(num)
            unit_code = pats.units[unit_text][0] if unit_text else None
        if value is None:
            continue
        if unit_text in pats.units:
            value *= pats.units[unit_text][1]
        if m.group("scale"):
            if not unit_text and m.group("scale") in pats.scale_needs_unit:
                continue
            value *= pats.scales[m.group("scale")]
        range_end = float(m.group("num2")) if m.group("num2") else None
        after = m.group("after") or ""
        end = m.end() - len(after)
        negated = m.group("before") and m.start() > 0 and text[m.start() - 1] == pats.hedge_negation  # 不超过 is a bound
        approx = bool((m.group("before") and not negated) or m.group("hedge") or after in pats.approx_after_unit or range_end is not None)
        out.append(
            Quantity(start, end, float(value), unit_code, unit_text, approx, m.group("before") or "", after, m.end(), range_end)
        )
    return out
