"""Memory of the bulk stages: garbage-collector settings, freed memory given back, tables held compactly.

Extraction results, workbook cells and the parent's state inherited by forked workers are large
sets of long-lived objects without reference cycles worth collecting early. Python's cyclic
collector walks them again and again as they grow (a fifth of the workbook's time; 10k reports
extracted 1.2x slower than 10 x 1k), and a forked worker's first collection touches every
inherited object, copying the parent's heap page by page.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (restored after it, also after an error)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def frozen_for_fork() -> Iterator[None]:
    """Move every current object out of the collector's reach while workers are forked
    (the `gc.freeze` recipe of the gc documentation); undone after the block."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def release_unused() -> None:
    """Give memory freed by a finished stage back to the system. Garbage in reference cycles is
    collected first (the collector's full passes are rare, and the batch pauses it). Then
    pyarrow's allocator, which may keep freed blocks for reuse (mimalloc kept about 90 MB after
    reading 3,000 reports' facts, counted in every later stage's peak and in each process forked
    from this one), and the C allocator's free pages (glibc's malloc_trim, where there is one)."""
    import sys

    gc.collect()

    if "pyarrow" in sys.modules:  # never imported only for this
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        import ctypes

        # the process's own symbols (libc's among them): `ctypes.util.find_library` would run
        # ldconfig, a child process that counts the whole parent's memory until it starts
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
        if trim is not None:
            trim(0)


def arrow_on_jemalloc() -> None:
    """Allocate pyarrow's buffers (pandas' text columns) with jemalloc, where pyarrow has it: it
    gives freed pages back to the system, where mimalloc (pyarrow's default) kept them: a
    20,000-report build from the cache peaked at 1,053 MB with mimalloc, 926 MB with jemalloc.
    For a command's whole process (the CLI sets it); a pool chosen with ARROW_DEFAULT_MEMORY_POOL
    is kept."""
    import os

    import pyarrow

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pyarrow.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without it (Windows wheels)
        return
    pyarrow.set_memory_pool(pool)


def compact(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text column held as categories: each distinct value once (a city, a
    unit, a flag or a reason repeats over thousands of rows), the values and their order the same.
    For the tables a stage only writes and lays out; comparisons take the text columns as text."""
    text = {name: "category" for name, dtype in table.dtypes.items() if isinstance(dtype, pd.StringDtype)}
    return table.astype(text) if text else table
