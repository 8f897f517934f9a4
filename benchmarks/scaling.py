"""Growth of `build` with the size of one document, and peak memory of a corpus build.

    python benchmarks/scaling.py                       # numbers 10k-80k, tables 2.5k-20k cells, 2,000 reports
    python benchmarks/scaling.py --reports 5000 10000  # peak memory of bigger corpus builds
    python benchmarks/scaling.py --skip-numbers --skip-tables --reports 20000

Each measure runs `python -m envcompare build FILE -o OUT --no-cache -q -j 1` in a new
interpreter (so the time is the whole command: load, extract, segment, evidence page, tables,
workbook, charts) and prints the time and the ratio to the previous size (linear: 2.0x per
doubling). Peak memory is the largest sum of the resident sets of the build process and all its
children (workers, chart processes), sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil  # a dependency of distributed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

HEADER = "\u6d4e\u5357\u5e022023\u5e74\u751f\u6001\u73af\u5883\u72b6\u51b5\u516c\u62a5"  # a report title
TON = "\u5428"


def bare_numbers(n: int, path: Path) -> Path:
    """One report of `n` figures with a unit, 20 to a line, without a clause break between them."""
    rng = random.Random(n)
    lines = [HEADER, ""]
    for start in range(0, n, 20):
        lines.append(" ".join(f"{rng.randint(1, 9999)}.{rng.randint(0, 9)}{TON}" for _ in range(min(20, n - start))))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table(cells: int, path: Path) -> Path:
    """One scraped HTML page holding a data table of about `cells` cells (a label and 5 years a row)."""
    rng = random.Random(cells)
    label = "PM2.5\u5e74\u5747\u6d53\u5ea6\uff08\u5fae\u514b/\u7acb\u65b9\u7c73\uff09"
    head = "<tr><th>\u6307\u6807</th>" + "".join(f"<th>{y}\u5e74</th>" for y in range(2019, 2024)) + "</tr>"
    rows = [f"<tr><td>{label}{i}</td>" + "".join(f"<td>{rng.randint(10, 99)}.{rng.randint(0, 9)}</td>" for _ in range(5))
            + "</tr>" for i in range(cells // 6)]
    path.write_text(f"<html><head><title>{HEADER}</title></head><body><h1>{HEADER}</h1><table>{head}"
                    + "\n".join(rows) + "</table></body></html>", encoding="utf-8")
    return path


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """Seconds, peak RSS and peak PSS (MB) of the whole process tree of a command. RSS counts the
    pages forked workers share with their parent once per process; PSS splits them."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    top = psutil.Process(proc.pid)
    peak = peak_pss = 0
    while proc.poll() is None:
        total = pss = 0
        with contextlib.suppress(psutil.Error):
            for p in [top, *top.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    info = p.memory_full_info()
                    total += info.rss
                    pss += getattr(info, "pss", info.rss)
        peak, peak_pss = max(peak, total), max(peak_pss, pss)
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-500:]}")
    return seconds, peak / 1e6, peak_pss / 1e6


def build(path: Path, out: Path, jobs: int = 1) -> list[str]:
    return [sys.executable, "-m", "envcompare", "build", str(path), "-o", str(out), "--no-cache", "-q", "-j", str(jobs)]


def series(name: str, sizes: list[int], make, work: Path) -> None:
    previous = None
    for n in sizes:
        path = make(n, work / f"{name}_{n}{'.html' if name == 'table' else '.txt'}")
        seconds, _, _ = measured(build(path, work / f"out_{name}_{n}"))
        growth = f"  {seconds / previous:.2f}x the previous (linear 2.00x)" if previous else ""
        print(f"{name} {n:>6,}: build {seconds:6.1f} s{growth}", flush=True)
        previous = seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--numbers", type=int, nargs="*", default=[10_000, 20_000, 40_000, 80_000])
    ap.add_argument("--cells", type=int, nargs="*", default=[2_500, 5_000, 10_000, 20_000])
    ap.add_argument("--reports", type=int, nargs="*", default=[2_000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-numbers", action="store_true")
    ap.add_argument("--skip-tables", action="store_true")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "envcompare-scaling")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.skip_numbers:
        series("numbers", args.numbers, bare_numbers, args.work)
    if not args.skip_tables:
        series("table", args.cells, table, args.work)
    from generate import generate

    for n in args.reports:
        folder = args.work / f"corpus_{n}"
        if len(list(folder.glob("doc_*"))) != n:
            generate(folder, n, 7)
        seconds, peak, pss = measured(build(folder, args.work / f"out_corpus_{n}", args.jobs))
        print(f"build of {n:,} reports, {args.jobs} workers: {seconds:.0f} s, peak memory of the process tree: "
              f"RSS {peak:,.0f} MB, PSS {pss:,.0f} MB", flush=True)


if __name__ == "__main__":
    main()
