"""Benchmark: segmenting the whole seed corpus after start-up, and jieba initialised once.

    python benchmarks/segment_seeds.py [PATH ...] [--repeat N]

Start-up (the segmenter's dictionary, the user dictionary, theme and attention words) is timed
apart from segmentation; segmentation of every report's cleaned text is timed `--repeat` times
(best and median printed). Exits non-zero when jieba's dictionary was loaded more often than the
configured segmenter needs (once for jieba, never for jieba-rs), when the global default
tokenizer was initialised, or when segmentation takes a second or more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jieba

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import envcompare  # noqa: E402
from envcompare.policytext import text  # noqa: E402
from envcompare.vocab.resources import read_yaml  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "seeds")])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    loads = 0
    original = jieba.Tokenizer.initialize

    def counting(self, dictionary=None):  # measurement only: count real dictionary loads
        nonlocal loads
        loads += not self.initialized
        return original(self, dictionary)

    jieba.Tokenizer.initialize = counting
    try:
        corpus = envcompare.load_reports(args.paths)
        texts = [r.text for r in corpus]
        chars = sum(map(len, texts))
        global_before = jieba.dt.initialized

        t = time.perf_counter()
        text.segment("启动")
        startup = time.perf_counter() - t

        runs, tokens = [], 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            tokens = sum(len(text.segment(s)) for s in texts)
            runs.append(time.perf_counter() - t)

        t = time.perf_counter()
        text.theme_shares(corpus), text.attention(corpus), text.keywords(corpus), text.plan_vs_summary(corpus)
        tables = time.perf_counter() - t
    finally:
        jieba.Tokenizer.initialize = original

    info = text._segmenter_cached.cache_info()
    best = min(runs)
    print(f"corpus: {len(texts)} reports, {chars:,} characters, {tokens:,} tokens")
    print(f"start-up (dictionary + user dictionary, once): {startup:.3f} s")
    print(
        f"segmentation of the corpus after start-up: best {best:.3f} s, median {statistics.median(runs):.3f} s "
        f"over {len(runs)} runs ({chars / best / 1000:,.0f} k chars/s)"
    )
    print(f"all four tables (theme shares, attention, keywords, plan vs summary) from scratch: {tables:.3f} s")
    segmenter = read_yaml("text/segment.yaml")["segmenter"]
    print(f"jieba dictionary loads: {loads} (segmenter {segmenter}); segmenter builds: {info.misses}, reuses: {info.hits}")
    print(f"jieba global default tokenizer initialised by us: {jieba.dt.initialized and not global_before}")
    expected_loads = 1 if segmenter == "jieba" else 0
    ok = loads == expected_loads and info.misses == 1 and not (jieba.dt.initialized and not global_before) and best < 1.0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
