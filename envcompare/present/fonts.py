"""The CJK font of every chart: the Noto Sans CJK SC file of the `mplfonts` wheel, by path.

Charts must not depend on the machine: a system fonts-noto-cjk collection holds JP, KR, SC and
TC faces (its first face is JP: Japanese glyph forms for 骨, 直, 值), and matplotlib's font cache
may be stale. So the bundled OFL file is always the one used: it is registered in-process
(nothing written to disk; no `mplfonts init`, no cache wiping) and placed first in matplotlib's
font list, so that its family name resolves to this file even when a system font of the same
family name is known. The wheel's SimHei is not freely licensed and is never touched. The file
has one weight (regular): charts never ask for bold (matplotlib would warn on stderr).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

WHEEL_FILE = "NotoSansCJKsc-Regular.otf"


def font_file() -> Path | None:
    """The OFL Noto Sans CJK SC file every chart uses, or None when mplfonts is not installed."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / WHEEL_FILE
    return path if path.is_file() else None


_registered: dict[str, str] = {}  # font file -> the family name it yields


def cjk_family() -> str | None:
    """The family name of the bundled SC file, registered so that the name finds this file.

    Checked on every call (cheap): matplotlib rebuilds its font list when a cached font file has
    gone missing, which would drop an earlier registration.
    """
    from matplotlib import font_manager

    path = font_file()
    if path is None:
        return None
    fname = str(path)
    family = _registered.get(fname)
    ttflist = font_manager.fontManager.ttflist
    if family is not None and ttflist and ttflist[0].fname == fname and ttflist[0].name == family:
        return family
    # first in the list: findfont takes the first of equally good matches, so a system font of
    # the same family name (a JP-first collection, a stale cache entry) never wins
    others = [entry for entry in ttflist if entry.fname != fname]
    ttflist.clear()
    font_manager.fontManager.addfont(fname)  # also empties findfont's cache of earlier answers
    family = _registered[fname] = ttflist[0].name
    ttflist.extend(others)
    return family
