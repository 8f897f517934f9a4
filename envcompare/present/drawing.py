"""Present stage: the build's charts drawn in a worker process, while the caller goes on.

    key_figures(facts, references, judged, shares, folder, jobs)   # every chart of `build`
    start_drawing(charts, folder, jobs)                            # some of them, in the background

With jobs > 1 the charts are drawn by one worker process while the caller goes on (in a build:
writes the tables and the workbook, which take longer than all the charts); the process exits
as soon as the last chart is drawn. It is started afresh
(multiprocessing's "spawn"): it does not inherit the caller's memory (in a build: every table of
the corpus) and is handed each chart's input alone (`chart_inputs`, a few hundred rows). One
process, not `jobs`: a second would only add its own copy of matplotlib to the build's memory
(issue 16), as the charts are done before the workbook either way. The caller imports no
matplotlib. As with any start method but "fork", a script that draws with jobs > 1 runs it under
`if __name__ == "__main__":` (the worker imports the script's main module; `python -m envcompare`
and notebooks need nothing).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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
    """Charts being drawn by a worker process while the caller does something else."""

    def __init__(self, tasks: list[tuple[Chart, Path]], jobs: int) -> None:
        self._pool = None
        self._pending = None
        self._done: list[list[Path]] | None = None
        if jobs > 1 and tasks:
            import multiprocessing as mp

            context = mp.get_context(WORKER_CONTEXT)
            self._pool = context.Pool(min(jobs, len(tasks), CHART_PROCESSES), initializer=_worker_ready)
            # closed as soon as the last chart is drawn: its process exits then, not at `wait`
            self._pending = self._pool.map_async(_draw, tasks, chunksize=1, callback=self._close_pool)
        else:
            self._done = [_draw(t) for t in tasks]

    def wait(self) -> list[Path]:
        """The paths written, in chart order, once every chart is drawn."""
        if self._done is None:
            assert self._pending is not None and self._pool is not None
            self._done = self._pending.get()
            self._pool.close()
            self._pool.join()
            self._pool = None
        return [p for paths in self._done for p in paths]

    def _close_pool(self, _drawn: object) -> None:
        pool = self._pool
        if pool is not None:
            pool.close()

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # left early (an error): stop the workers
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _worker_ready() -> None:
    """A chart process's start: the CJK font read once, before its first chart."""
    from matplotlib import font_manager

    from .fonts import cjk_family, font_file

    if cjk_family() and font_file():
        font_manager.get_font(str(font_file()))


def _draw(task: tuple[Chart, Path]) -> list[Path]:
    from .charts import save_chart  # matplotlib: in the chart processes only (or with jobs=1)

    return save_chart(*task)
