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

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_CHARS = "零〇一二两三四五六七八九十百千万亿"


def parse_chinese_number(text: str) -> float | None:
    """一万零一十二 -> 10012, 十一 -> 11, 两 -> 2, 三点五 -> 3.5; None when not a numeral."""
    if not text:
        return None
    if "点" in text:
        whole, _, frac = text.partition("点")
        w = parse_chinese_number(whole) if whole else 0
        if w is None or not frac or any(c not in CN_DIGITS for c in frac):
            return None
        return w + float("0." + "".join(str(CN_DIGITS[c]) for c in frac))
    if any(c not in CN_CHARS for c in text):
        return None
    if all(c in CN_DIGITS for c in text) and len(text) > 1:
        return float("".join(str(CN_DIGITS[c]) for c in text))  # 二〇二二-style digit strings
    total = section = number = 0
    for ch in text:
        if ch in CN_DIGITS:
            number = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            section += (number or 1) * CN_UNITS[ch]
            number = 0
        else:  # 万 / 亿
            big = CN_BIG[ch]
            section += number
            if big == 100_000_000:
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
class _Patterns:
    quantity: re.Pattern[str]
    units: dict[str, tuple[str, float]]
    scales: dict[str, float]


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    cfg = read_yaml("units.yaml")
    units = {k: (v[0], float(v[1])) for k, v in cfg["units"].items()}
    scales = {k: float(v) for k, v in cfg["scales"].items()}
    rules = read_yaml("rules.yaml")
    unit_alt = "|".join(map(re.escape, sorted(units, key=len, reverse=True)))
    scale_alt = "|".join(map(re.escape, sorted(scales, key=len, reverse=True)))
    before_words = rules["approx"]["before"]
    before = "|".join(map(re.escape, sorted(before_words, key=len, reverse=True)))
    # every match opens with a hedge word or a number: a lookahead on those first characters
    # rejects most positions at once (the optional group in front defeats the engine's own scan)
    firsts = "".join(sorted({w[0] for w in before_words} | set(CN_CHARS)))
    arabic = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    chinese = rf"[{CN_CHARS}]+(?:点[{''.join(CN_DIGITS)}]+)?"
    # a Chinese numeral counts only with a unit after it (十四五 and 一是 are words): say so in
    # the pattern, so the regex engine rejects them without a Python-level look
    cn_with_unit = rf"{chinese}(?=(?:{scale_alt})?(?:余|多)?(?:{unit_alt}))"
    number = rf"(?P<num>{arabic}|百分之(?P<pct>{chinese}|{arabic})|{cn_with_unit})"
    rng = rf"(?:\s*(?:-|—|–|~|至|到)\s*(?P<num2>{arabic}))?"
    pattern = (
        rf"(?=[\d{re.escape(firsts)}])(?P<before>{before})?{number}{rng}"
        rf"(?:[ \u00a0]?(?P<unit1>{unit_alt})|(?P<scale>{scale_alt})?(?P<hedge>余|多)?(?P<unit2>{unit_alt})?)"
        rf"(?P<after>及以上|及以下|以上|以下|以内|左右)?"
    )
    return _Patterns(re.compile(pattern), units, scales)


NOT_FIGURE_AFTER = re.compile(r"^(?:年(?!度)|年度|月|日|号|时|点\d|:\d|\.\d|届|代|级|大|五”|五规划|五期间|/\d)")
DATE_AFTER = re.compile(r"^(?:年|月|日|号)")


def find_quantities(text: str, pos: int = 0, endpos: int | None = None) -> list[Quantity]:
    """Quantities that may be figures in text[pos:endpos] (offsets in `text`), in text order."""
    pats = _patterns()
    out: list[Quantity] = []
    for m in pats.quantity.finditer(text, pos, len(text) if endpos is None else endpos):
        num = m.group("num")
        start = m.start("num")
        prev = text[start - 1] if start > 0 else ""
        prev2 = text[max(0, start - 2) : start]
        follow = text[m.end("num") : m.end("num") + 4]
        is_cn = not num[0].isdigit() and not num.startswith("百分之")
        unit_text = m.group("unit1") or m.group("unit2") or ""
        # codes, ordinals, document numbers, dates and times are not figures
        if prev.isascii() and prev.isalpha():
            continue
        if re.match(r"[A-Za-z0-9][-:.]$", prev2) or (prev and prev in "第〔["):
            continue
        if not m.group("num2") and NOT_FIGURE_AFTER.match(follow) and not unit_text:
            continue
        if DATE_AFTER.match(text[m.end() : m.end() + 1]) and not unit_text:
            continue
        if re.match(r"^\d+[.、]$", text[start : m.end("num") + 1]) and (start == 0 or text[start - 1] in "\n(("):
            continue  # section numbering: "1." / "2、" at the start of a line
        if is_cn:
            if not any(c in "零一二两三四五六七八九十" for c in num):
                continue  # 万名, 千方百计: scale characters alone are words, not numbers
            if not unit_text or (num == "一" and unit_text not in ("天", "%")):
                continue  # 十四五, 一是, 一批: Chinese numerals count only with a unit
        if m.group("pct"):
            pct = m.group("pct")
            value = float(pct) if pct[0].isdigit() else parse_chinese_number(pct)
            unit_code, unit_text = "%", "百分之"
        else:
            value = float(num.replace(",", "")) if num[0].isdigit() else parse_chinese_number(num)
            unit_code = pats.units[unit_text][0] if unit_text else None
        if value is None:
            continue
        if unit_text in pats.units:
            value *= pats.units[unit_text][1]
        if m.group("scale"):
            if not unit_text and m.group("scale") == "千":
                continue
            value *= pats.scales[m.group("scale")]
        range_end = float(m.group("num2")) if m.group("num2") else None
        after = m.group("after") or ""
        end = m.end() - len(after)
        negated = m.group("before") and m.start() > 0 and text[m.start() - 1] == "不"  # 不超过 is a bound
        approx = bool((m.group("before") and not negated) or m.group("hedge") or after == "左右" or range_end is not None)
        out.append(
            Quantity(start, end, float(value), unit_code, unit_text, approx, m.group("before") or "", after, m.end(), range_end)
        )
    return out
