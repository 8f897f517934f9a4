"""Speed and memory of envcompare on a generated corpus, measured in one run on the same text.

    python benchmarks/run.py                    # 1k and 10k documents (about 150 MB), ~15 minutes
    python benchmarks/run.py --small 200 --large 2000    # a quick look

Prints: extraction throughput (decode, clean, extract, tidy) on one core and with N worker
processes; jieba default-mode segmentation of the same text and the ratio of the two; peak RSS;
the time for the small and the large corpus (scaling); the seed build; and `envcompare build` of
the small and the large corpus: the first build against the extraction alone, with the peak
memory of its whole process tree, an unchanged re-run, and a re-run after one report changed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

from envcompare.ingest.load import read_report  # noqa: E402
from envcompare.pipeline.batch import process_file, run  # noqa: E402


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def corpus(folder: Path, docs: int, seed: int) -> list[Path]:
    existing = sorted(folder.glob("doc_*")) if folder.is_dir() else []
    if len(existing) == docs:
        return existing
    return generate(folder, docs, seed)


def one_core(files: list[Path], repeats: int = 2) -> tuple[float, int]:
    """Seconds (best of `repeats`, after a warm-up) and characters for decode + clean + extract +
    tidy of every file, in this process."""
    for f in files[:20]:  # data files, OpenCC and regexes load once, not inside the timing
        process_file(str(f))
    best = float("inf")
    for _ in range(repeats):
        chars = 0
        start = time.perf_counter()
        for f in files:
            result = process_file(str(f))
            chars += int(result.doc_row.get("raw_chars") or 0)
        best = min(best, time.perf_counter() - start)
    return best, chars


def jieba_rate(files: list[Path]) -> float:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    texts = [read_report(f).raw_text for f in files]
    best = float("inf")
    for _ in range(2):  # best of two, as for extraction
        start = time.perf_counter()
        for t in texts:
            for _ in jieba.cut(t):
                pass
        best = min(best, time.perf_counter() - start)
    return sum(map(len, texts)) / best


def long_sentence_scaling() -> str:
    """Seconds to extract 600 vs 2,400 repeats of a clause in one sentence: linear is ~4x."""
    from envcompare.extraction.tidy import extract
    from envcompare.ingest.load import report_from_text

    unit = "PM2.5浓度为30微克/立方米,优良天数比例为80.5%,同比下降1.2个百分点,"
    times = []
    for n in (600, 1500):
        report = report_from_text("2023年某市生态环境状况\n" + unit * n, "long.txt")
        start = time.perf_counter()
        extract(report)
        times.append(time.perf_counter() - start)
    return f"{times[0]:.2f} s for 600 clauses, {times[1]:.2f} s for 1,500 ({times[1] / times[0]:.1f}x; linear 2.5x)"


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "envcompare-bench")
    args = ap.parse_args()

    small = corpus(args.work / f"corpus_{args.small}", args.small, args.seed)
    size = sum(p.stat().st_size for p in small) / 1e6
    print(f"corpus: {len(small)} documents, {size:.1f} MB (generated, seed {args.seed})")

    sec, chars = one_core(small)
    rate = chars / sec
    print(f"extraction, 1 core:   {rate / 1e6:.2f} M chars/s, {len(small) / sec:.0f} docs/s ({sec:.1f} s)")
    jr = jieba_rate(small)
    print(f"jieba default mode:   {jr / 1e6:.2f} M chars/s on the same text")
    print(f"ratio extraction/jieba: {rate / jr:.2f}x (target >= 4.5x)")

    par = float("inf")
    for _ in range(2):  # best of two, as on one core (the 10k run below is timed once)
        start = time.perf_counter()
        run(small, jobs=args.jobs, progress=False)
        par = min(par, time.perf_counter() - start)
    print(f"extraction, {args.jobs} procs:  {chars / par / 1e6:.2f} M chars/s, {len(small) / par:.0f} docs/s ({par:.1f} s)")

    large = corpus(args.work / f"corpus_{args.large}", args.large, args.seed)
    lsize = sum(p.stat().st_size for p in large) / 1e6
    start = time.perf_counter()
    result = run(args.work / f"corpus_{args.large}", jobs=args.jobs, progress=False)
    big = time.perf_counter() - start
    print(f"{len(large)} documents ({lsize:.0f} MB), {args.jobs} procs: {big:.1f} s, {len(result.facts)} facts "
          f"(target < 180 s); {big / par:.2f}x the {len(small)}-document time "
          f"(target <= {1.2 * len(large) / len(small):.1f}x)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (target < 2048 MB)")
    print(f"one long sentence without 。 (robustness): {long_sentence_scaling()}")

    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        seed_builds = [timed([py, "-m", "envcompare", "build", "-q", "--no-cache", "-o", f"{tmp}/seed{i}"], ROOT) for i in (1, 2)]
        print(f"seed build (extract + compare + text + workbook + figures): {min(seed_builds):.1f} s, best of "
              f"{', '.join(f'{t:.1f}' for t in seed_builds)} (target < 10 s)")
        for line in build_figures(args.work / f"corpus_{args.small}", Path(tmp), args.jobs, par):
            print(line)
        for line in build_figures(args.work / f"corpus_{args.large}", Path(tmp), args.jobs, big):
            print(line)


class Measured(NamedTuple):
    """One command: wall seconds, CPU seconds of it and every process it waited for (its workers,
    its chart and text-table processes: steadier than wall time on a shared VM), peak memory of
    its whole process tree (sum of RSS, and of PSS, which counts the pages forked workers share
    with their parent once), its first output line."""

    seconds: float
    cpu_seconds: float
    rss_mb: float
    pss_mb: float
    said: str


def measured(cmd: list[str]) -> Measured:
    """Run `cmd`, sampling the memory of it and its children every 0.1 s."""
    import psutil

    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss = pss = 0
        try:
            for p in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    info = p.memory_full_info()
                    rss, pss = rss + info.rss, pss + info.pss
        except psutil.Error:
            pass
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.1)
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {err.strip()[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Measured(time.perf_counter() - start, cpu, peak_rss / 2**20, peak_pss / 2**20, (out.splitlines() or [""])[0])


def change_one_report(folder: Path) -> Path:
    """A real edit: one figure (the first number before a mass unit) of one UTF-8 report is
    raised by one, so that report's facts change."""
    unit = re.compile(r"\d+(?=\u5fae\u514b)")  # a number before "micro-gram", written as escapes
    for path in sorted(folder.iterdir()):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        if found := unit.search(text):
            path.write_bytes((text[:found.start()] + str(int(found.group()) + 1) + text[found.end():]).encode("utf-8"))
            return path
    raise SystemExit(f"no UTF-8 report with a figure in {folder}")


def build_figures(source: Path, tmp: Path, jobs: int, extraction: float) -> list[str]:
    """`envcompare build` on a copy of the corpus: first build, unchanged re-run, one report
    changed; each against `extraction` (seconds of the batch alone on the same corpus)."""
    import shutil

    reports = tmp / f"reports-{source.name}"
    shutil.copytree(source, reports)
    cmd = [sys.executable, "-m", "envcompare", "build", str(reports), "-q", "-j", str(jobs),
           "--cache", str(tmp / f"cache-{source.name}"), "-o", str(tmp / f"out-{source.name}")]
    first = measured(cmd)
    unchanged = measured(cmd)
    change_one_report(reports)
    changed = measured(cmd)
    n = sum(1 for _ in source.iterdir())
    return [
        f"build, {n} reports, {jobs} procs: first {first.seconds:.1f} s (CPU {first.cpu_seconds:.1f} s) = "
        f"{first.seconds / extraction:.1f}x the "
        f"extraction alone ({extraction:.1f} s; target <= 3x); peak memory of the process tree {first.rss_mb:.0f} MB "
        f"RSS, {first.pss_mb:.0f} MB PSS (target < 1024 MB)",
        f"build, {n} reports: unchanged re-run {unchanged.seconds:.1f} s ({unchanged.seconds / first.seconds:.0%} of "
        f"the first); one report changed {changed.seconds:.1f} s, CPU {changed.cpu_seconds:.1f} s "
        f"({changed.seconds / first.seconds:.0%} of the first; "
        f"target <= 10%), peak {changed.rss_mb:.0f} MB RSS",
    ]


if __name__ == "__main__":
    main()
