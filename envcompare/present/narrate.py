"""Sentences written from the tables, so a notebook's conclusions change when the data do.

Each function reads a table the library produced and returns plain text (Chinese names,
English sentences): what a researcher would otherwise type by hand after reading the output.
"""

from __future__ import annotations

import pandas as pd

from ..comparison.analysis import fact_statistics, statistic_name
from ..vocab.catalog import indicators
from ..vocab.resources import read_yaml
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


def _count(n: int, word: str = "city", plural: str = "cities") -> str:
    return f"{n} {word if n == 1 else plural}"


def indicator(facts: pd.DataFrame, ind_id: str, references: pd.DataFrame | None = None) -> str:
    """Who is best and worst on an indicator (latest actual per city), and against the limits.

    Counts only the cities that report the indicator ("2 of 4 cities report PM10; both meet
    ..."), and judges a limit only for figures of its statistic (annual mean, O3 8-hour 90th
    percentile, CO 24-hour 95th percentile); others are named as not comparable.
    """
    ind = indicators()[ind_id]
    everyone = facts["city"].dropna().unique()
    rows = facts[(facts["indicator"] == ind_id) & (facts["kind"] == "actual") & (facts["period"] == "annual")]
    if rows.empty:
        return f"None of {_count(len(everyone))} reports an annual actual for {_name(ind_id)}."
    latest = rows.sort_values(["city", "year", "start"], kind="stable").groupby("city").tail(1)
    order = latest.sort_values("value", ascending=ind.direction == "lower_better", kind="stable")
    parts = [f"{r.city} {fmt(r.value)} ({r.year})" for r in order.itertuples()]
    k = len(latest)
    reports = "reports" if k == 1 else "report"
    text = f"{k} of {_count(len(everyone))} {reports} {_name(ind_id)}"
    text += (": " if k == 1 else ", best first: ") + "; ".join(parts) + f" [{ind.unit}]."
    if len(set(latest["year"])) > 1:
        text += " The cities' latest figures are for different years: read them side by side, not as one ranking."
    if references is not None:
        stats = fact_statistics(latest)
        refs = references[(references["indicator"] == ind_id) & (references["kind"] == "limit")]
        for ref in refs.itertuples():
            wanted = getattr(ref, "statistic", None)
            wanted = wanted if isinstance(wanted, str) and wanted else None
            ok = latest[(stats == wanted).fillna(False).to_numpy(dtype=bool)] if wanted else latest
            odd = latest[~latest.index.isin(ok.index)]
            worse = ok[ok["value"] > ref.value] if ind.direction == "lower_better" else ok[ok["value"] < ref.value]
            limit = f"{ref.level} ({fmt(ref.value)}{', ' + statistic_name(wanted) if wanted else ''})"
            if len(ok) and worse.empty:
                subject = "it meets" if len(ok) == 1 else ("both meet" if len(ok) == 2 else f"all {len(ok)} meet")
                if len(odd):
                    subject = f"of the {len(ok)} comparable, " + subject
                text += f" {subject[0].upper() + subject[1:]} {limit}."
            elif len(ok):
                text += f" {limit} is not met by {', '.join(sorted(worse['city']))} ({len(worse)} of {len(ok)})."
            if len(odd):
                text += (f" Not comparable with {limit}: {', '.join(sorted(odd['city']))} (a different or unstated "
                         "statistic).")
    return text


def targets(judged: pd.DataFrame) -> str:
    """Met / not met counts of targets, by city and by whose targets they are."""
    rows = judged[judged["status"].isin(["met", "not met"])]
    pending = (~judged["status"].isin(["met", "not met"])).sum()
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
    """Which city, year and document type gives most words to each of the three largest themes,
    and the attention index with its definition, source and 95% interval. Never pools a city's
    documents of different years or types; says so when the types compared differ."""
    city = shares[shares["level"] == "city_year"] if "level" in shares else shares
    label = "theme_en" if "theme_en" in city else "theme"
    totals = city.groupby(label)["token_share"].mean().sort_values(ascending=False, kind="stable")
    out = []
    for theme in totals.index[:3]:
        g = city[city[label] == theme].sort_values(["token_share", "city"], ascending=[False, True], kind="stable")
        top = g.iloc[0]
        out.append(f"{theme}: most in {_unit_name(top)} ({top['token_share']:.1%})")
    text = "Largest themes — " + "; ".join(out) + "."
    if attention is not None and len(attention):
        a = attention[attention["level"] == "city_year"] if "level" in attention else attention
        a = a.sort_values(["attention", "city"], ascending=[False, True], kind="stable")
        cfg = read_yaml("text/attention.yaml")
        over = a["denominator"].iloc[0] if "denominator" in a else "all words"
        cells = []
        for r in a.itertuples():
            interval = f" ({r.ci_low:.1%}–{r.ci_high:.1%})" if hasattr(r, "ci_low") and pd.notna(r.ci_low) else ""
            cells.append(f"{_unit_name(r._asdict())} {r.attention:.1%}{interval}")
        text += (f" Environmental attention (environment words / {over}; {cfg['source']}; 95% Wilson "
                 "interval in brackets, overlapping intervals show no difference): " + ", ".join(cells) + ".")
        types = sorted(set(a["doc_type"].dropna())) if "doc_type" in a else []
        if len(types) > 1:
            text += (f" Caveat: these documents are of different types ({', '.join(types)}); the index was "
                     "defined on government work reports, so compare documents of one type.")
    return text


def _unit_name(row) -> str:
    """city year type, e.g. 成都 2022 summary."""
    year = row["year"]
    doc_type = row.get("doc_type") if hasattr(row, "get") else None
    parts = [str(row["city"]), str(int(year)) if pd.notna(year) else ""]
    if isinstance(doc_type, str):
        parts.append(doc_type)
    return " ".join(p for p in parts if p)
