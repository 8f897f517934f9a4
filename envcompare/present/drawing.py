"""Present stage: the build's charts drawn in a worker process, while the caller goes on.

    key_figures(facts, references, judged, shares, folder, jobs)   # every chart of `build`
    start_drawing(charts, folder, jobs)                            # some of them, in the background

With jobs > 1 the charts are drawn by one worker process while the caller goes on; when the
caller then waits, it draws from the back of the list the charts the worker has not started, and
the worker exits as soon as no chart is left for it (a build waits at once, after its tables are
written and let go: the two processes draw side by side). It is started afresh (multiprocessing's
"spawn"): it does not inherit the caller's memory and is handed each chart's input alone
(`chart_inputs`, a few hundred rows), and it gives its memory back after each chart. One process,
not `jobs`: each adds its own copy of matplotlib and a chart's canvas (~300 MB for a chart of
300 cities) to the build's memory (issue 16). As with any start method but "fork", a script that draws with
jobs > 1 runs it under `if __name__ == "__main__":` (the worker imports the script's main module;
`python -m envcompare` and notebooks need nothing).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd

from ..memory import release_unused
from .chart_inputs import Chart, key_charts, theme_bars

WORKER_CONTEXT = "spawn"
CHART_PROCESSES = 1  # the most chart processes at once, whatever `jobs` is (module docstring)


def key_figures(facts: pd.DataFrame, references: pd.DataFrame, judged: pd.DataFrame, shares: pd.DataFrame,
                folder: Path, jobs: int = 1, langs: tuple[str, ...] = ("zh",)) -> list[Path]:
    """The build's charts as PNG + SVG (Chinese labels; add "en" to `langs` for `_en` PNGs),
    drawn in a worker process when jobs > 1."""
    with start_drawing(key_charts(facts, references, judged, theme_bars(shares, langs), langs), folder, jobs) as drawing:
        return drawing.wait()


def start_drawing(charts: list[Chart], folder: Path, jobs: int = 1) -> Drawing:
    """Draw `charts` into `folder`: with jobs > 1 in a worker process, in the background until
    `wait`; else here and now."""
    return Drawing([(chart, Path(folder)) for chart in charts], jobs)


class Drawing:
    """Charts being drawn by a worker process while the caller does something else. The worker
    takes them from the front of the list, one at a time; the caller, once it waits, draws from
    the back those the worker has not started, so that neither waits while charts remain (a small
    corpus's tables and workbook are done long before its charts)."""

    def __init__(self, tasks: list[tuple[Chart, Path]], jobs: int) -> None:
        self._tasks = tasks
        self._drawn: list[list[Path] | None] = [None] * len(tasks)
        self._front, self._back = 0, len(tasks)  # the worker takes self._front next, the caller self._back - 1
        self._lock = threading.Lock()
        self._idle = threading.Event()  # set when the worker has no chart in hand
        self._idle.set()
        self._error: BaseException | None = None
        self._pool = None
        if jobs > 1 and tasks:
            import multiprocessing as mp

            context = mp.get_context(WORKER_CONTEXT)
            self._pool = context.Pool(min(jobs, len(tasks), CHART_PROCESSES), initializer=_worker_ready)
            self._next()

    def _next(self) -> None:
        """Hand the worker the next chart from the front; none left: close its pool (its process
        exits then, not at `wait`)."""
        with self._lock:
            pool = self._pool
            if pool is None:
                return
            if self._error is not None or self._front >= self._back:
                self._idle.set()
                pool.close()
                return
            i = self._front
            self._front += 1
            self._idle.clear()
        pool.apply_async(_draw_and_release, (self._tasks[i],), callback=lambda paths: self._done(i, paths),
                         error_callback=self._failed)

    def _done(self, i: int, paths: list[Path]) -> None:
        self._drawn[i] = paths
        self._next()

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._error = error
        self._next()

    def wait(self) -> list[Path]:
        """The paths written, in chart order, once every chart is drawn (those the worker has not
        started are drawn here, also after the worker failed one: which charts exist does not
        depend on when its error arrives); then the worker's error, if any, is raised."""
        while True:
            with self._lock:
                if self._back <= self._front:
                    break
                self._back -= 1
                i = self._back
            self._drawn[i] = _draw(self._tasks[i])
        self._idle.wait()
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
        if self._error is not None:
            raise self._error
        return [p for paths in self._drawn if paths is not None for p in paths]

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # left early (an error): stop the worker
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _worker_ready() -> None:
    """A chart process's start: the CJK font read once, before its first chart."""
    from matplotlib import font_manager

    from .fonts import cjk_family, font_file

    if cjk_family() and font_file():
        font_manager.get_font(str(font_file()))


def _draw_and_release(task: tuple[Chart, Path]) -> list[Path]:
    """A chart drawn in the chart process, which then gives its memory back: a chart of 300 cities
    is a canvas of 900 x 13,000 pixels, and the allocator would otherwise keep the largest one's
    pages (the process's peak 350 -> 280 MB on 1,000 generated reports' charts)."""
    try:
        return _draw(task)
    finally:
        release_unused()


def _draw(task: tuple[Chart, Path]) -> list[Path]:
    from .charts import save_chart  # matplotlib: in the chart processes only (or with jobs=1)

    return save_chart(*task)
