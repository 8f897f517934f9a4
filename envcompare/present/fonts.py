"""A CJK font for matplotlib, found and registered in-process (nothing written to disk).

Order: a system Noto Sans CJK (Debian's fonts-noto-cjk), else the Noto Sans CJK SC file that
the `mplfonts` wheel carries. Only OFL-licensed Noto files are ever registered; the wheel's
SimHei is not freely licensed and is never touched. No `mplfonts init`, no cache wiping.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

SYSTEM_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/Supplemental/NotoSansCJK-Regular.ttc",
)
WHEEL_FILE = "NotoSansCJKsc-Regular.otf"


def _wheel_font() -> Path | None:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / WHEEL_FILE
    return path if path.is_file() else None


def font_file() -> Path | None:
    """The OFL CJK font file that will be used, or None when none is available."""
    for candidate in SYSTEM_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    return _wheel_font()


@lru_cache(maxsize=1)
def cjk_family() -> str | None:
    """Register the CJK font with matplotlib's font manager (once) and return its family name."""
    from matplotlib import font_manager

    path = font_file()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    return name
