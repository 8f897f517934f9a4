"""Text that was mis-decoded before it reached us (mojibake): detect it; repair it only when the
repair is unambiguous, otherwise refuse to read it.

Two families arrive in scraped and forwarded reports:

* UTF-8 read as Latin-1 / Windows-1252 and saved again ("æ\\x88\\x90é\\x83½" for 成都). The bytes survive
  inside the characters, so ftfy (a maintained, conservative fixer) can restore them. Its repair
  is accepted only when it is lossless, leaves no mojibake behind and gives plausible Chinese
  (`decode.plausibility`); the document's `repair` field says what was undone.
* Chinese read in the wrong Chinese encoding (GBK bytes shown as Big5 or the reverse) and saved
  as UTF-8: valid text of implausible characters. No general fixer restores it; such a file is
  reported (with the likely cause when a strict round trip shows it) and never mined for numbers.
"""

from __future__ import annotations

import re
from itertools import islice

from ..errors import ReportError
from .decode import HAN, MIN_PLAUSIBILITY, plausibility, sample

# A UTF-8 lead byte (Â..ô) followed by a continuation byte, as Latin-1 or Windows-1252 show them.
_CONT_1252 = "\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
LATIN_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][\u0080-\u00bf{_CONT_1252}]")
# A repaired text must read at least this well ...
REPAIR_PLAUSIBILITY = 0.90
# ... and a text is judged for Chinese-in-the-wrong-Chinese-encoding only with this many Han characters.
MIN_HAN_JUDGED = 20
# ftfy steps that guess rather than restore: a repair that needs them is not unambiguous.
LOSSY_STEPS = {"replace_lossy_sequences"}
# (encoding the text was shown in, encoding the bytes really were) for the diagnosis
CJK_MIXUPS = (("big5hkscs", "gbk", "GBK read as Big5"), ("gbk", "big5hkscs", "Big5 read as GBK"),
              ("gbk", "utf-8", "UTF-8 read as GBK"), ("big5hkscs", "utf-8", "UTF-8 read as Big5"))


def _describe(steps) -> str:
    """ftfy's explanation as one phrase: [('encode', 'sloppy-windows-1252'), ('decode', 'utf-8')]
    -> 'utf-8 read as windows-1252'."""
    parts: list[str] = []
    shown = None
    for action, parameter in steps:
        if action == "encode":
            shown = parameter.removeprefix("sloppy-")
        elif action == "decode" and shown:
            parts.append(f"{parameter} read as {shown}")
            shown = None
        elif parameter == "decode_inconsistent_utf8":
            parts.append("utf-8 read as latin-1/windows-1252 in places")
        elif parameter == "restore_byte_a0":
            parts.append("lost 0xa0 bytes restored")
        else:
            parts.append(f"{action} {parameter}")
    if len(parts) > 1 and len(set(parts)) == 1:
        return f"{parts[0]} ({len(parts)} times)"
    return ", then ".join(parts)


def _latin_share(text: str, count: int) -> float:
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return 2 * count / max(1, non_ascii)


def repair(text: str, name: str) -> tuple[str, str | None]:
    """Return (text, None) for clean text, (repaired text, 'ftfy: ...') for mojibake ftfy restores
    unambiguously; raise ReportError (naming the file) for mojibake that cannot be trusted."""
    signs = len(LATIN_MOJIBAKE.findall(text)) if LATIN_MOJIBAKE.search(text) else 0
    if signs:
        fixed, label = _ftfy_repair(text, name, signs)
        if label:
            return fixed, label
    _check_cjk(text, name)
    return text, None


def _ftfy_repair(text: str, name: str, signs: int) -> tuple[str, str | None]:
    """ftfy line by line (each line of a partly mis-decoded file is judged on its own); the
    repair must be lossless, leave no mojibake behind and read as Chinese."""
    looks_broken = signs >= 3 and _latin_share(text, signs) > 0.3
    try:
        import ftfy
    except ImportError:  # pragma: no cover - ftfy is a requirement
        if looks_broken:
            raise ReportError(name, "mis-decoded text (UTF-8 read as Latin-1/Windows-1252); install ftfy to repair it") from None
        return text, None
    # split at LF only: CR and LF never occur inside a UTF-8 sequence, but NEL (0x85) and the
    # other breaks str.splitlines knows are continuation bytes shown as Latin-1
    lines = text.split("\n")
    described: dict[str, None] = {}
    lossy = False
    for i, line in enumerate(lines):
        if not LATIN_MOJIBAKE.search(line):
            continue
        fixed_line, steps = ftfy.fix_encoding_and_explain(line)
        if fixed_line == line:
            continue
        steps = list(steps or [])
        lossy = lossy or any(p in LOSSY_STEPS for _, p in steps) or fixed_line.count("\ufffd") > line.count("\ufffd")
        described[_describe(steps)] = None
        lines[i] = fixed_line
    fixed = "\n".join(lines)
    kinds = list(described)
    what = "; ".join(kinds[:3]) + (f"; +{len(kinds) - 3} more" if len(kinds) > 3 else "")
    if fixed == text:
        if looks_broken:
            raise ReportError(name, "mis-decoded text (UTF-8 read as Latin-1/Windows-1252) that ftfy does not restore")
        return text, None
    why = None
    if lossy:
        why = "bytes were lost"
    elif left := len(LATIN_MOJIBAKE.findall(fixed)):
        why = f"{left} mojibake sequence{'s' if left > 1 else ''} left after the repair"
    elif not HAN.search(fixed):
        why = "the repair gives no Chinese text"
    elif (score := plausibility(fixed)) < REPAIR_PLAUSIBILITY:
        why = f"the repair reads as implausible Chinese (score {score:.2f})"
    if why:
        if looks_broken:
            raise ReportError(name, f"mis-decoded text ({what}); not repaired: {why}")
        return text, None  # a few stray signs in otherwise sound text: left as they are
    return fixed, f"ftfy: {what}"


def _check_cjk(text: str, name: str) -> None:
    """Valid text of implausible Chinese characters: Chinese shown in the wrong Chinese encoding."""
    # counted up to MIN_HAN_JUDGED only: a list of every Han character cost more than the judging
    if sum(1 for _ in islice(HAN.finditer(sample(text)), MIN_HAN_JUDGED)) < MIN_HAN_JUDGED:
        return
    score = plausibility(text)
    if score >= MIN_PLAUSIBILITY:
        return
    head = text[:20_000]
    for shown, actual, label in CJK_MIXUPS:
        try:
            restored = head.encode(shown).decode(actual)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if plausibility(restored) >= REPAIR_PLAUSIBILITY:
            raise ReportError(name, f"mis-decoded Chinese (looks like {label}; score {score:.2f}): not read")
    raise ReportError(name, f"implausible Chinese text (score {score:.2f}): mis-decoded or not Chinese, not read")
