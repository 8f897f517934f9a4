"""How well the review flags point at wrong facts, on a hand-labelled corpus.

    python benchmarks/review_flags.py                       # ../shared/corpus (docs/, labels.csv)
    python benchmarks/review_flags.py --corpus DIR --domains air,water

A fact is wrong when it matches no label of its document, by the corpus scorer's rule
(../shared/tools/score.py: same indicator, kind, unit, place without 市/省, year, period class,
value within 0.5%; optional labels count). Labels are exhaustive only for the scored domains, so
only facts of those domains are judged. For each flag: how many facts carry it, how many of those
are judged, and the share of judged ones that are wrong (the flag's precision); then the share of
all wrong facts that some flag catches (its recall).

`kind_default` is judged on the kind alone: of its judged facts, how many match a label (the kind
is right), how many match a label only with another kind (the year and unit may differ too, as a
target is often of another year: a real kind error), and how many match no label even so.

    python benchmarks/review_flags.py --corpus data/gold --docs seeds    # the seeds' own labels
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envcompare.review import FLAGS, flag_codes, review  # noqa: E402

UNITS = {"微克/立方米": "ug/m3", "毫克/立方米": "mg/m3", "百分点": "pp", "个百分点": "pp", "天": "day"}


def _place(s: object) -> str:
    s = "" if s is None or (isinstance(s, float) and math.isnan(s)) else str(s).strip()
    return s[:-1] if len(s) > 2 and s[-1] in "\u5e02\u7701" else s  # the scorer's 市/省 ending


def _annual(p: object) -> bool:
    return ("" if p is None or p != p else str(p)).strip().lower() in ("", "annual", "nan", "\u5168\u5e74", "year")


def read_labels(path: Path) -> dict[str, list[dict]]:
    by_doc: dict[str, list[dict]] = defaultdict(list)
    with open(path, encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            ind = (r.get("indicator") or "").strip()
            doc = os.path.basename(r["doc"])
            by_doc[doc]  # a labelled document, even with no catalog figure
            if not ind or ind.startswith("other:"):
                continue
            by_doc[doc].append(dict(ind=ind, kind=r["kind"].strip(), unit=UNITS.get(r["unit"].strip(), r["unit"].strip()),
                                    year=str(r["year"]).strip(), area=_place(r.get("area")),
                                    annual=_annual(r.get("period")), value=float(r["value"])))
    return by_doc


def matches(fact: dict, lab: dict) -> bool:
    year = "" if fact["year"] is None or fact["year"] != fact["year"] else str(int(fact["year"]))
    return (fact["indicator"] == lab["ind"] and fact["kind"] == lab["kind"] and (fact["unit"] or "") == lab["unit"]
            and year == lab["year"] and _place(fact["city"]) == lab["area"] and _annual(fact["period"]) == lab["annual"]
            and math.isclose(fact["value"], lab["value"], rel_tol=0.005, abs_tol=1e-6))


def differing(fact: dict, lab: dict) -> set[str] | None:
    """The fields in which a fact differs from a label of its indicator and value (None: another
    indicator or value)."""
    if fact["indicator"] != lab["ind"] or not math.isclose(fact["value"], lab["value"], rel_tol=0.005, abs_tol=1e-6):
        return None
    year = "" if fact["year"] is None or fact["year"] != fact["year"] else str(int(fact["year"]))
    fields = {"kind": fact["kind"] == lab["kind"], "unit": (fact["unit"] or "") == lab["unit"], "year": year == lab["year"],
              "place": _place(fact["city"]) == lab["area"], "period": _annual(fact["period"]) == lab["annual"]}
    return {name for name, same in fields.items() if not same}


def kind_verdict(fact: dict, labels: list[dict]) -> str:
    """`same kind`: it matches a label; `other kind`: only with another kind (and maybe another
    year or unit); `unmatched`: neither."""
    found = [d for d in (differing(fact, lab) for lab in labels) if d is not None]
    if any(not d for d in found):
        return "same kind"
    if any("kind" in d and d <= {"kind", "year", "unit"} for d in found):
        return "other kind"
    return "unmatched"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--docs", help="the reports (default: the corpus's docs/)")
    ap.add_argument("--domains", default="air,water")
    a = ap.parse_args()
    corpus = Path(a.corpus)
    labels = read_labels(corpus / "labels.csv")
    domains = tuple(d + "." for d in a.domains.split(","))
    facts = review(Path(a.docs) if a.docs else corpus / "docs", corrections=False).facts
    rows = facts.astype(object).where(facts.notna(), None).to_dict("records")
    judged = [r for r in rows if r["doc"] in labels and str(r["indicator"]).startswith(domains)]
    for r in judged:
        r["wrong"] = not any(matches(r, lab) for lab in labels[r["doc"]])
    print(f"{len(facts)} facts in {facts['doc'].nunique()} documents; {len(judged)} judged ({a.domains}), "
          f"{sum(r['wrong'] for r in judged)} of them wrong")
    print(f"{'flag':<14}{'facts':>7}{'judged':>8}{'wrong':>7}{'precision':>11}")
    flagged_any = [r for r in judged if r["flags"]]
    for code in (*FLAGS, "any"):
        having = [r for r in rows if r["flags"] and (code == "any" or code in flag_codes(r["flags"]))]
        j = [r for r in having if "wrong" in r]
        wrong = sum(r["wrong"] for r in j)
        share = f"{wrong / len(j):.2f}" if j else "-"
        print(f"{code:<14}{len(having):>7}{len(j):>8}{wrong:>7}{share:>11}")
    unflagged = [r for r in judged if not r["flags"]]
    all_wrong = sum(r["wrong"] for r in judged)
    caught = sum(r["wrong"] for r in flagged_any)
    print(f"unflagged judged facts: {len(unflagged)}, wrong {sum(r['wrong'] for r in unflagged)}")
    if all_wrong:
        print(f"wrong facts caught by some flag: {caught} of {all_wrong} ({caught / all_wrong:.2f})")
    defaults = [r for r in judged if "kind_default" in flag_codes(r["flags"])]
    verdicts = Counter(kind_verdict(r, labels[r["doc"]]) for r in defaults)
    by_kind = Counter(r["kind"] for r in defaults)
    print(f"kind_default, {len(defaults)} judged facts ({', '.join(f'{k} {n}' for k, n in sorted(by_kind.items()))}): "
          + ", ".join(f"{v} {verdicts[v]}" for v in ("same kind", "other kind", "unmatched")))


if __name__ == "__main__":
    main()
