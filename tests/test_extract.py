"""Extraction: gold offsets and provenance (the rule examples: test_constructions.py, over
data/constructions/).

The seeds' scores against their gold are in test_evaluate.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import envcompare

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seed_facts(corpus) -> pd.DataFrame:
    return envcompare.extract(corpus)


def test_gold_offsets_are_exact(corpus):
    gold = pd.read_csv(ROOT / "data" / "gold" / "labels.csv", dtype=str, keep_default_na=False)
    gold = gold[gold["indicator"] != ""]
    assert len(gold) == 67
    for row in gold.itertuples():
        assert corpus[row.doc].raw_text[int(row.start) : int(row.end)] == row.evidence


def test_evidence_is_the_raw_text_at_its_offsets(corpus):
    facts = envcompare.extract(corpus, unmapped=True)
    assert len(facts) > 100
    for row in facts.itertuples():
        raw = corpus[row.doc].raw_text
        assert raw[row.start : row.end] == row.evidence
        assert row.evidence in row.sentence


def test_facts_table_columns_and_dtypes(seed_facts):
    assert list(seed_facts.columns) == list(envcompare.FACT_COLUMNS)
    assert {c: str(t) for c, t in seed_facts.dtypes.items()} == envcompare.FACT_COLUMNS
    assert seed_facts["indicator"].notna().all()
    assert set(seed_facts["kind"]) <= {"actual", "target", "change"}


def test_cli_extract_writes_facts_and_documents(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "facts.csv"
    res = subprocess.run([sys.executable, "-m", "envcompare", "extract", str(ROOT / "seeds"), "-o", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    facts = pd.read_csv(out, encoding="utf-8-sig")
    docs = pd.read_csv(tmp_path / "facts.documents.csv", encoding="utf-8-sig")
    assert list(facts.columns) == list(envcompare.FACT_COLUMNS)
    assert docs.set_index("doc")["facts"].sum() == len(facts)
    for suffix in (".parquet", ".xlsx"):
        res = subprocess.run([sys.executable, "-m", "envcompare", "extract", str(ROOT / "seeds"), "-o", str(tmp_path / f"f{suffix}")],
                             capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert res.returncode == 0, res.stderr
    assert len(pd.read_parquet(tmp_path / "f.parquet")) == len(facts)


def test_clause_bounds_match_a_character_walk():
    # _clause_start/_clause_end search in windows; they must agree with the plain walk everywhere
    import random
    import sys

    ex = sys.modules["envcompare.extraction.reader"]

    def walk_start(text, s, pos):
        while pos > s and text[pos - 1] not in ex.CLAUSE_BREAK:
            pos -= 1
        return pos

    def walk_end(text, pos, e):
        while pos < e and text[pos] not in ex.CLAUSE_BREAK:
            pos += 1
        return pos

    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice("中文ab,;:" if rng.random() < 0.3 else "中文abcdefg") for _ in range(rng.randint(0, 200)))
        a, b = rng.randint(0, len(text)), rng.randint(0, len(text))
        assert ex._clause_start(text, a, b) == walk_start(text, a, b)
        assert ex._clause_end(text, a, b) == walk_end(text, a, b)


def test_gapped_aliases_found_as_by_a_full_scan(corpus):
    # the gapped-alias pattern is tried only where an alias's first part starts: same matches as finditer
    from envcompare.vocab.catalog import _aliases, _gapped_matches, _matchers, alias_rules

    m = _matchers()
    gap = alias_rules().gap_mark
    firsts = [a.split(gap)[0] for a, _, _ in _aliases() if gap in a]
    texts = [r.text for r in corpus] + ["".join(f"{f}水质达到或好于III类比例为{i}%,立案查处环境违法行为案件,行政处罚案件" for i, f in enumerate(firsts))]
    for text in texts:
        starts = {i for i in range(len(text)) if any(text.startswith(f, i) for f in firsts)}
        fast = [(x.span(), x.lastgroup) for x in _gapped_matches(text, m.gapped, starts)]
        assert fast == [(x.span(), x.lastgroup) for x in m.gapped.finditer(text)]


def test_row_dicts_are_plain_values_with_none_for_missing():
    from envcompare.extraction.tidy import row_dicts

    table = pd.DataFrame({
        "city": pd.array(["武汉", None], dtype="string"),
        "year": pd.array([2023, None], dtype="Int64"),
        "value": [35.0, float("nan")],
        "approx": pd.array([True, None], dtype="boolean"),
        "sentence": pd.Categorical(["全年PM2.5浓度为35微克/立方米。", None]),
        "start": np.array([12, 40], dtype=np.int64),
        "other": [np.int64(7), pd.NA],
    })
    rows = row_dicts(table)
    assert rows == [
        {"city": "武汉", "year": 2023, "value": 35.0, "approx": True, "sentence": "全年PM2.5浓度为35微克/立方米。",
         "start": 12, "other": 7},
        {"city": None, "year": None, "value": None, "approx": None, "sentence": None, "start": 40, "other": None},
    ]
    assert [type(v) for v in rows[0].values()] == [str, int, float, bool, str, int, int]
    assert row_dicts(table.iloc[0:0]) == []
