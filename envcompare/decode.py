"""Bytes to text: encoding detection for Chinese report files.

Government pages and forwarded files arrive as UTF-8 (with or without BOM), UTF-16,
GB18030/GBK or Big5. Byte-level detectors guess poorly on short Chinese texts and between
GBK and Big5, so the decision here is made on the *result*: every encoding that decodes the
bytes strictly is a candidate, and the one whose text reads most like Chinese wins.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from .errors import ReportError

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
LEGACY = ("gb18030", "big5hkscs")
HAN = re.compile(r"[\u3400-\u9fff]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Below this share of everyday characters a decoding is taken for gibberish.
MIN_PLAUSIBILITY = 0.80


@lru_cache(maxsize=1)
def _common_han() -> frozenset[str]:
    """GB2312 level-1 hanzi: the 3,755 most frequent simplified characters."""
    chars = []
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.append(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def plausibility(text: str) -> float:
    """Share of Han characters (after traditional->simplified) that are everyday characters.

    Real Chinese prose scores above 0.95; Big5 bytes read as GBK, or GBK read as Big5,
    score far lower. Text with no Han characters scores 1.0 (nothing to judge).
    """
    from .clean import to_simplified

    han = HAN.findall(text[:200_000])  # a sample is enough to tell real text from gibberish
    if not han:
        return 1.0
    common = _common_han()
    simplified = to_simplified("".join(han))
    return sum(ch in common for ch in simplified) / len(han)


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    return bool(sample) and len(CONTROL.findall(sample)) > max(2, len(sample) // 200)


def decode(data: bytes, name: str, declared: str | None = None) -> tuple[str, str]:
    """Decode a report file; return (text, encoding) or raise ReportError naming the file."""
    if not data.strip():
        raise ReportError(name, "empty file")
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise ReportError(name, f"invalid {encoding} after byte-order mark: {exc.reason}") from exc
    if b"\x00" in data[:4096]:
        return _decode_utf16_without_bom(data, name)
    candidates: list[tuple[str, str]] = []
    tried = (["utf-8"] + ([declared] if declared else []) + list(LEGACY))
    for encoding in dict.fromkeys(tried):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding == "utf-8":
            candidates = [(text, "utf-8")]
            break
        candidates.append((text, encoding))
    if not candidates:
        raise ReportError(name, "not valid UTF-8, UTF-16, GB18030 or Big5 text (undecodable bytes)")
    if len(candidates) == 1 and candidates[0][1] == "utf-8":
        (text, encoding), score = candidates[0], 1.0  # valid UTF-8 is not ambiguous
    else:
        scored = sorted(((plausibility(t), -i, t, e) for i, (t, e) in enumerate(candidates)), reverse=True)
        score, _, text, encoding = scored[0]
    if _looks_binary(text):
        raise ReportError(name, "binary content (control bytes), not a text report")
    if score < MIN_PLAUSIBILITY and encoding != "utf-8":
        raise ReportError(name, f"decodes only to implausible text (best guess {encoding}, score {score:.2f})")
    return text, encoding


def _decode_utf16_without_bom(data: bytes, name: str) -> tuple[str, str]:
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = max(1, len(data) // 2)
    if max(even_nuls, odd_nuls) / half < 0.05:
        raise ReportError(name, "binary content (NUL bytes), not a text report")
    for encoding in ("utf-16-le", "utf-16-be") if odd_nuls >= even_nuls else ("utf-16-be", "utf-16-le"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _looks_binary(text) and plausibility(text) >= MIN_PLAUSIBILITY:
            return text, encoding
    raise ReportError(name, "binary content (NUL bytes), not a text report")
