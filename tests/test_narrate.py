"""Rates, theme grouping of unmapped figures, and text written from tables."""

from __future__ import annotations

import pandas as pd
import pytest

import envcompare
from envcompare.comparison.analysis import governance_rates, load_references
from envcompare.policytext.text import label_themes
from envcompare.present import narrate


def test_rectification_rates_pair_each_part_with_its_total(corpus):
    rates = governance_rates(envcompare.extract(corpus)).set_index(["city", "total"])
    # by hand: 276 / 302 = 91.39 %, 86 / 106 = 81.13 %, 71 / 95 = 74.74 %
    assert rates.loc[("济南", 302.0), "value"] == pytest.approx(91.39, abs=0.01)
    assert rates.loc[("武汉", 106.0), "value"] == pytest.approx(81.13, abs=0.01)
    assert rates.loc[("武汉", 95.0), "value"] == pytest.approx(74.74, abs=0.01)
    assert len(rates) == 3


def test_unmapped_labels_get_themes():
    got = label_themes(["长江入河排污口整治任务", "危险废物经营单位", "召开新闻发布会了"])
    assert list(got["theme"]) == ["water", "waste_chemicals", "publicity_education"]


def _facts(rows):
    cols = envcompare.FACT_COLUMNS
    return pd.DataFrame([{**{c: None for c in cols}, **r} for r in rows], columns=list(cols)).astype(cols)


def test_indicator_sentence_orders_by_direction_and_checks_limits():
    facts = _facts([
        {"city": "甲", "year": 2023, "period": "annual", "indicator": "air.pm25", "value": 40.0, "kind": "actual", "start": 0},
        {"city": "乙", "year": 2023, "period": "annual", "indicator": "air.pm25", "value": 30.0, "kind": "actual", "start": 0},
    ])
    text = narrate.indicator(facts, "air.pm25", load_references())
    assert text.startswith("2 of 2 cities report PM2.5 concentration (细颗粒物(PM2.5)浓度), best first: 乙 30 (2023); 甲 40 (2023)")
    assert "GB 3095-2012 Grade II (35, annual mean) is not met by 甲 (1 of 2)." in text
    assert "different years" not in text
