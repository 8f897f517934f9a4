"""Sentences written from the tables, so a notebook's conclusions change when the data do.

Each function reads a table the library produced and returns plain text (Chinese names,
English sentences): what a researcher would otherwise type by hand after reading the output.
"""

from __future__ import annotations

import pandas as pd

from ..vocab.catalog import indicators
from .evidence import fmt


def _name(ind_id: str) -> str:
    ind = indicators().get(ind_id)
    return f"{ind.name_en} ({ind.name_zh})" if ind else ind_id


def corpus(documents: pd.DataFrame, facts: pd.DataFrame) -> str:
    ok = documents[documents["error"].isna()]
    cities = sorted(ok["city"].dropna().unique())
    years = ok["report_year"].dropna()
    kinds = facts["kind"].value_counts()
    failed = documents["error"].notna().sum()
    text = (
        f"{len(ok)} reports from {len(cities)} cities ({', '.join(cities)}), report years "
        f"{int(years.min())}–{int(years.max())}; {len(facts)} catalog facts: "
        + ", ".join(f"{kinds.get(k, 0)} {k}" for k in ("actual", "target", "change"))
        + "."
    )
    if failed:
        text += f" {failed} file(s) could not be read (see the error column)."
    return text


def indicator(facts: pd.DataFrame, ind_id: str, references: pd.DataFrame | None = None) -> str:
    """Who is best and worst on an indicator (latest actual per city), and against the limits."""
    ind = indicators()[ind_id]
    rows = facts[(facts["indicator"] == ind_id) & (facts["kind"] == "actual") & (facts["period"] == "annual")]
    if rows.empty:
        return f"No city reports an annual actual for {_name(ind_id)}."
    latest = rows.sort_values(["city", "year", "start"], kind="stable").groupby("city").tail(1)
    order = latest.sort_values("value", ascending=ind.direction == "lower_better", kind="stable")
    parts = [f"{r.city} {fmt(r.value)} ({r.year})" for r in order.itertuples()]
    text = f"{_name(ind_id)}, best first: " + "; ".join(parts) + f" [{ind.unit}]."
    if len(set(latest["year"])) > 1:
        text += " The cities' latest figures are for different years: read them side by side, not as one ranking."
    if references is not None:
        refs = references[(references["indicator"] == ind_id) & (references["kind"] == "limit")]
        for ref in refs.itertuples():
            worse = latest[latest["value"] > ref.value] if ind.direction == "lower_better" else latest[latest["value"] < ref.value]
            if worse.empty:
                text += f" Every city meets {ref.level} ({fmt(ref.value)})."
            else:
                text += f" {ref.level} ({fmt(ref.value)}) is not met by {', '.join(sorted(worse['city']))}."
    return text


def targets(judged: pd.DataFrame) -> str:
    """Met / not met counts of targets, by city and by whose targets they are."""
    rows = judged[judged["status"].isin(["met", "not met"])]
    pending = (judged["status"] == "no actual yet").sum()
    if rows.empty:
        return f"No target can be judged yet: {pending} target(s) have no actual for the same city, year and indicator."
    out = []
    key = "target_city" if "target_city" in rows else "city"
    for (city, owner), g in rows.groupby(["city", key], sort=True):
        met = int((g["status"] == "met").sum())
        whose = "its own" if owner == city else f"{owner}'s"
        out.append(f"{city} meets {met} of {len(g)} of {whose} targets")
    return "; ".join(out) + f". {pending} target(s) await an actual."


def themes(shares: pd.DataFrame, attention: pd.DataFrame | None = None) -> str:
    """Which city gives most words to each of the three largest themes, and the attention index."""
    city = shares[shares["level"] == "city_year"] if "level" in shares else shares
    label = "theme_en" if "theme_en" in city else "theme"
    totals = city.groupby(label)["token_share"].mean().sort_values(ascending=False, kind="stable")
    out = []
    for theme in totals.index[:3]:
        g = city[city[label] == theme].sort_values(["token_share", "city"], ascending=[False, True], kind="stable")
        top = g.iloc[0]
        out.append(f"{theme}: most in {top['city']} {int(top['year'])} ({top['token_share']:.1%})")
    text = "Largest themes — " + "; ".join(out) + "."
    if attention is not None and len(attention):
        a = attention[attention["level"] == "city_year"] if "level" in attention else attention
        a = a.sort_values(["attention", "city"], ascending=[False, True], kind="stable")
        text += " Environmental attention (environment words / content words): " + ", ".join(
            f"{r.city} {int(r.year)} {r.attention:.1%}" for r in a.itertuples()) + "."
    return text
