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

from ..errors import ReportError
from .script import to_simplified

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
LEGACY = ("gb18030", "big5hkscs", "cp950")  # cp950: Big5 as Windows writes it (euro sign, ...)
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
# Characters a mis-decoding produces and a Chinese report does not hold: kana, Hangul, bopomofo,
# Cyrillic, Greek (except the micro sign), other scripts, private-use code points, half-width
# kana and the replacement character. (GB18030 read of Big5 bytes is full of them.)
STRANGE = re.compile(
    r"[\u0370-\u03bb\u03bd-\u03ff\u0400-\u1fff\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff"
    r"\uac00-\ud7af\ue000-\uf8ff\uff61-\uffdc\ufffd]"
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Below this share of everyday characters a decoding is taken for gibberish.
MIN_PLAUSIBILITY = 0.80
# Plausibility is judged on at most this many characters (spread over the text): bounded work.
PLAUSIBILITY_SAMPLE = 3_000  # characters: real prose scores ~0.98, wrong decodings ~0.3-0.6


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


def sample(text: str, size: int = PLAUSIBILITY_SAMPLE) -> str:
    """The text itself when short, else eight evenly spaced slices of it."""
    if len(text) <= size:
        return text
    step, part = len(text) // 8, size // 8
    return "".join(text[i * step : i * step + part] for i in range(8))


def plausibility(text: str) -> float:
    """Share of the judged characters that are everyday Chinese characters.

    Judged are the Han characters (after traditional->simplified) and the characters no Chinese
    report holds but mis-decodings produce (kana, Hangul, private-use, replacement character ...,
    see STRANGE); ASCII, punctuation and symbols are neutral. Real Chinese prose scores above 0.95;
    Big5 bytes read as GBK, or GBK read as Big5, score far lower. Text with nothing to judge
    scores 1.0. Long texts are judged on a sample of PLAUSIBILITY_SAMPLE characters.
    """
    return _judge(sample(text))


@lru_cache(maxsize=4)
def _judge(judged: str) -> float:
    """plausibility() of a sample; memoised by the sample (at most PLAUSIBILITY_SAMPLE characters)
    because the text decode chose is judged again by the mojibake check."""
    han = "".join(HAN_RUN.findall(judged))  # the Han characters, as one string (runs, not characters)
    strange = len(STRANGE.findall(judged))
    if not han and not strange:
        return 1.0
    simplified = to_simplified(han)
    common = len(simplified) - len(_uncommon_re().findall(simplified))  # the uncommon ones are few
    return common / (len(han) + strange)


@lru_cache(maxsize=1)
def _uncommon_re() -> re.Pattern[str]:
    # counted by the regex engine, not a Python loop over characters
    return re.compile("[^" + "".join(sorted(_common_han())) + "]")


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
    nul = data.find(b"\x00")
    if nul >= 0:  # no text encoding but UTF-16/32 has NUL bytes: a damaged or binary file
        raise ReportError(name, f"NUL byte at byte {nul:,}: a binary or damaged file, not a text report")
    candidates: list[tuple[str, str]] = []
    failures: dict[str, UnicodeDecodeError] = {}
    tried = (["utf-8"] + ([declared] if declared else []) + list(LEGACY))
    for encoding in dict.fromkeys(tried):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            # without its traceback: kept, it would hold this frame (and `failures`) in a cycle
            # that only the garbage collector frees, and a batch pauses it
            failures[encoding] = exc.with_traceback(None)
            continue
        except LookupError:
            continue
        if encoding == "utf-8":
            candidates = [(text, "utf-8")]
            break
        if all(text != t for t, _ in candidates):  # big5hkscs and cp950 mostly agree
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
        broken_big5 = _broken_big5(data, failures)
        if broken_big5:
            raise ReportError(name, broken_big5)
        raise ReportError(name, f"decodes only to implausible text (best guess {encoding}, score {score:.2f})")
    return text, encoding


def _broken_big5(data: bytes, failures: dict[str, UnicodeDecodeError]) -> str | None:
    """The reason to give when the bytes are Big5 text with a few bytes no Big5 table holds.

    GB18030 decodes almost any byte string, so such a file "decodes" only as GB18030 gibberish;
    it is reported as broken Big5 instead of being read as that gibberish.
    """
    exc = failures.get("big5hkscs")
    if exc is None:
        return None
    lenient = data.decode("big5hkscs", errors="replace")
    bad = lenient.count("\ufffd")
    if bad > max(3, len(lenient) // 1000) or plausibility(lenient) < MIN_PLAUSIBILITY:
        return None
    return (
        f"Big5 text with {bad} undecodable byte sequence{'s' if bad > 1 else ''} "
        f"(first at byte {exc.start}: {data[exc.start:exc.start + 2].hex(' ')}); not guessed as GB18030"
    )


def _decode_utf16_without_bom(data: bytes, name: str) -> tuple[str, str]:
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = max(1, len(data) // 2)
    if max(even_nuls, odd_nuls) / half < 0.05:
        raise ReportError(name, f"binary content (NUL bytes, first at byte {data.find(0):,}), not a text report")
    for encoding in ("utf-16-le", "utf-16-be") if odd_nuls >= even_nuls else ("utf-16-be", "utf-16-le"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _looks_binary(text) and plausibility(text) >= MIN_PLAUSIBILITY:
            return text, encoding
    raise ReportError(name, f"binary content (NUL bytes, first at byte {data.find(0):,}), not a text report")
