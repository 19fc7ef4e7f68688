"""Annual no-utilization report: continuously enrolled all year, no claim of any kind, with outreach."""
from __future__ import annotations

import datetime as dt

from tests.utilization.scenario import Builder
from utilization.no_use import load_outreach, no_utilization_report
from warehouse.engine import make_engine


def test_no_utilization_report_counts_only_whole_year_enrollees_without_any_claim(warehouse_url, tmp_path):
    b = Builder()
    b.provider("1000000001")
    b.member("idle-a")                                   # whole year, nothing: counted
    b.member("idle-b", sex="M", birth=dt.date(2015, 1, 1), eligibility="child")   # counted, other group
    b.member("part-year", months=range(2, 13))           # enrolled 11 months: not counted
    b.member("rx-only")
    b.rx("rx-only", dt.date(2025, 7, 1))                 # a pharmacy fill is utilization
    b.member("encounter")
    b.pcp_visit("encounter", dt.date(2025, 12, 31), "1000000001")   # a claim on the last day counts
    b.member("last-year-claim")
    b.pcp_visit("last-year-claim", dt.date(2024, 12, 31), "1000000001")   # outside the year: still idle
    b.write(warehouse_url).dispose()
    outreach = tmp_path / "outreach.csv"
    outreach.write_text("person_id,outreach_date,outreach_method,outcome\n"
                        "idle-a,2025-06-01,letter,\nidle-a,2026-01-15,phone,reached\n"
                        "idle-b,2025-13-01,letter,\n,2025-06-01,letter,\n")
    engine = make_engine(warehouse_url)
    loaded = load_outreach(engine, outreach)
    assert (loaded["rows_read"], loaded["loaded"], loaded["rejected"]) == (4, 2, 2)
    report = no_utilization_report(engine, 2025, tmp_path / "out")
    assert report["enrollees"] == 3                       # idle-a, idle-b, last-year-claim
    assert report["with_outreach"] == 1 and report["without_outreach"] == 2
    groups = {(g["sex"], g["eligibility_group"]): g["enrollees"] for g in report["groups"]}
    assert groups == {("F", "adult"): 2, ("M", "child"): 1}
    rows = (tmp_path / "out" / "no_utilization_2025_enrollees.csv").read_text().splitlines()
    idle_a = next(r for r in rows if r.startswith("idle-a,"))
    assert idle_a.endswith(",2,2026-01-15")
    engine.dispose()
