"""Traditional -> simplified Chinese (OpenCC t2s): used by decode (judging a decoding) and clean."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified (OpenCC t2s)."""
    return _t2s().convert(text)
