"""Generate a large, realistic corpus from the seeds: deterministic for a given seed.

Each document recombines paragraphs of the five seed reports under a real city name and year
(cities from data/places.csv), with its figures perturbed, and is written in a mix of encodings
and formats: UTF-8 text, GB18030 text, Big5 traditional text, UTF-16 text, and scraped-looking
HTML. About 15 kB per document, so 10,000 documents are about 150 MB.

    python benchmarks/generate.py OUT_DIR --docs 10000 --seed 7
"""

from __future__ import annotations

import argparse
import html
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envcompare.vocab.places import CITY_LEVELS, find_places, places  # noqa: E402

NUMBER = re.compile(r"(?<![\d.A-Za-z〔-])(\d+(?:\.\d+)?)(?=%|个|项|件|天|微克|家|次|万|座|条|处)")
YEAR = re.compile(r"20\d{2}(?=年)")
KINDS = ("工作总结", "工作要点", "工作情况报告", "重点工作任务", "工作总结和下一年工作安排")


def seed_paragraphs() -> list[str]:
    paras = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if len(line) >= 30 and "。" in line and not line.startswith(("索", "发布", "- ·")):
                paras.append(line)
    return list(dict.fromkeys(paras))


def _perturb(text: str, rng: random.Random) -> str:
    def number(m: re.Match[str]) -> str:
        raw = m.group(1)
        value = float(raw) * rng.uniform(0.8, 1.2)
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        return f"{value:.{decimals}f}" if decimals else str(max(1, round(value)))

    return NUMBER.sub(number, text)


def _relocate(text: str, city: str) -> str:
    out, pos = [], 0
    for m in find_places(text):
        if m.place.level in CITY_LEVELS:
            out.append(text[pos : m.start])
            out.append(city + ("市" if m.full else ""))
            pos = m.end
    out.append(text[pos:])
    return "".join(out)


def document(i: int, seed: int, paras: list[str], cities: list[str]) -> tuple[str, bytes]:
    """(file name, bytes) of document i."""
    rng = random.Random(seed * 1_000_003 + i)
    city = rng.choice(cities)
    year = rng.randint(2015, 2024)
    kind = rng.choice(KINDS)
    title = f"{city}市生态环境局{year}年{kind}"
    body = []
    for p in rng.sample(paras, k=min(len(paras), rng.randint(18, 30))):
        p = YEAR.sub(lambda m, y=year: str(y - rng.choice((0, 0, 0, 1))), p)
        body.append(_perturb(_relocate(p, city), rng))
    header = f"发布时间:{year + 1}-01-{rng.randint(10, 28):02d} 10:00 来源:{city}市生态环境局"
    text = "\n".join([title, header, *body, "【 打印 】 【 关闭 】"]) + "\n"
    style = rng.random()
    name = f"doc_{i:05d}"
    if style < 0.60:
        return f"{name}.txt", text.encode("utf-8")
    if style < 0.75:
        return f"{name}.txt", text.encode("gb18030")
    if style < 0.85:
        page = (
            f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title><script>var x=1;</script></head><body>"
            "<ul class='nav'><li><a href='/'>首页</a></li><li><a href='/x'>政务公开</a></li></ul>"
            + "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines())
            + "</body></html>"
        )
        return f"{name}.html", page.encode("utf-8")
    if style < 0.95:
        import opencc

        trad = opencc.OpenCC("s2tw").convert(text)
        return f"{name}.txt", trad.encode("big5hkscs", errors="replace")
    return f"{name}.txt", text.encode("utf-16")


def generate(out: Path, docs: int, seed: int = 7) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paras = seed_paragraphs()
    cities = sorted({p.short for p in places() if p.level == "prefecture"})
    paths = []
    for i in range(docs):
        name, data = document(i, seed, paras, cities)
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    paths = generate(args.out, args.docs, args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} documents, {size / 1e6:.1f} MB, to {args.out}")


if __name__ == "__main__":
    main()
