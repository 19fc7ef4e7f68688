"""Annual no-utilization report: enrollees enrolled one year or more with no utilization, with the outreach made
to each (the contract asks the report to explain the outreach used to engage them).

Enrollee: a person whose merged enrollment (measures/blocks.enrollment_islands: any payer, adjacent spans joined)
covers the whole calendar year without a gap, and who has no final-action medical claim or encounter (any claim
type, any payer) and no pharmacy fill with a service date in that year. Plan, program and demographics are those of
the person's December member-month (the plan with most days). Outreach: the rows of enrollee_outreach dated in the
year or later (outreach often follows the report), counted with the last date and the methods used.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, and_, case, exists, func, insert, select

from measures import blocks as B
from utilization.config import UtilizationConfig
from utilization.metrics import band, band_labels, build_context
from utilization.tables import enrollee_outreach as OUTREACH

GROUPS = ("payer", "plan", "program_id", "age_band", "sex", "eligibility_group")
OUTREACH_COLUMNS = ("person_id", "outreach_date", "outreach_method")


def _enrollees(ctx, cfg: UtilizationConfig):
    isl = B.enrollment_islands(ctx)
    H, RX, MM = B.H, B.RX, B.MM
    whole_year = (select(isl.c.person_id).where(isl.c.s <= ctx.my_start, isl.c.e >= ctx.my_end)
                  .distinct().cte("nu_whole_year"))
    medical = exists().where(H.c.person_id == whole_year.c.person_id,
                             H.c.claim_start_date.between(ctx.my_start, ctx.my_end))
    pharmacy = exists().where(RX.c.person_id == whole_year.c.person_id,
                              RX.c.dispensing_date.between(ctx.my_start, ctx.my_end))
    december = ctx.ymd(0, 12, 1)
    last = (select(MM.c.person_id, MM.c.member_id, MM.c.payer, MM.c.plan, MM.c.eligibility_group,
                   func.coalesce(MM.c.health_home_program_id, MM.c.icm_program_id).label("program_id"),
                   MM.c.age_at_month_start, MM.c.sex,
                   func.row_number().over(partition_by=MM.c.person_id,
                                          order_by=(MM.c.days_enrolled.desc(), MM.c.payer, MM.c.plan)).label("rn"))
            .where(MM.c.month_start == december).cte("nu_december"))
    bands = cfg.standardisation.age_bands
    outreach = (select(OUTREACH.c.person_id, func.count().label("outreach_count"),
                       func.max(OUTREACH.c.outreach_date).label("last_outreach_date"),
                       func.count(func.distinct(OUTREACH.c.outreach_method)).label("outreach_methods"))
                .where(OUTREACH.c.outreach_date >= ctx.my_start).group_by(OUTREACH.c.person_id).cte("nu_outreach"))
    return (select(whole_year.c.person_id, last.c.member_id, last.c.payer, last.c.plan, last.c.program_id,
                   band(last.c.age_at_month_start, bands, band_labels(bands, str)).label("age_band"),
                   func.coalesce(last.c.sex, "U").label("sex"),
                   func.coalesce(last.c.eligibility_group, "unknown").label("eligibility_group"),
                   func.coalesce(outreach.c.outreach_count, 0).label("outreach_count"),
                   outreach.c.last_outreach_date)
            .select_from(whole_year.join(last, and_(last.c.person_id == whole_year.c.person_id, last.c.rn == 1))
                         .outerjoin(outreach, outreach.c.person_id == whole_year.c.person_id))
            .where(~medical, ~pharmacy).cte("nu_enrollees"))


def no_utilization_report(engine: Engine, year: int, out_dir: Path | None = None, config=None) -> dict:
    """Summary by plan, program and demographic group (and, with out_dir, the enrollee list and the summary as
    CSV files for the plan's outreach staff and the state)."""
    cfg = UtilizationConfig.load(config)
    with engine.connect() as conn:
        ctx = build_context(conn, year)
        enrollees = _enrollees(ctx, cfg)
        keys = [enrollees.c[g] for g in GROUPS]
        summary = [dict(r._mapping) for r in conn.execute(
            select(*keys, func.count().label("enrollees"),
                   func.sum(case((enrollees.c.outreach_count > 0, 1), else_=0)).label("with_outreach"))
            .group_by(*keys).order_by(*keys))]
        people = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            people = out_dir / f"no_utilization_{year}_enrollees.csv"
            with open(people, "w", newline="") as fh:
                w = csv.writer(fh)
                cols = ["person_id", "member_id", *GROUPS, "outreach_count", "last_outreach_date"]
                w.writerow(cols)
                for r in conn.execute(select(*[enrollees.c[c] for c in cols]).order_by(enrollees.c.person_id)):
                    w.writerow(list(r))
        conn.rollback()
    total = sum(r["enrollees"] for r in summary)
    reached = sum(r["with_outreach"] for r in summary)
    if out_dir is not None:
        with open(out_dir / f"no_utilization_{year}_summary.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=[*GROUPS, "enrollees", "with_outreach"])
            w.writeheader()
            w.writerows(summary)
    return {"year": year, "enrollees": total, "with_outreach": reached, "without_outreach": total - reached,
            "groups": summary, "enrollee_file": str(people) if people else None}


def load_outreach(engine: Engine, path: str | Path) -> dict:
    """Append outreach records from a CSV (person_id, outreach_date, outreach_method[, outcome]); rows with a
    blank person, a bad date or a blank method are rejected with their reason (counted, not loaded)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in OUTREACH_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column {missing[0]!r} (expected {', '.join(OUTREACH_COLUMNS)})")
        rows, rejected = [], {}
        for n, r in enumerate(reader, 1):
            try:
                day = dt.date.fromisoformat((r["outreach_date"] or "").strip())
            except ValueError:
                rejected[n] = f"outreach_date {r['outreach_date']!r} is not a date (YYYY-MM-DD)"
                continue
            if not (r["person_id"] or "").strip() or not (r["outreach_method"] or "").strip():
                rejected[n] = "person_id or outreach_method is blank"
                continue
            rows.append(dict(person_id=r["person_id"].strip(), outreach_date=day,
                             outreach_method=r["outreach_method"].strip(), outcome=(r.get("outcome") or None)))
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(OUTREACH), rows)
    return {"file": str(path), "rows_read": len(rows) + len(rejected), "loaded": len(rows),
            "rejected": len(rejected), "rejected_rows": rejected}

