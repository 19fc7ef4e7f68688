"""Settlement statements and the Health Home "core set qualifier" pre-fill, with small-cell suppression.

Statements: one row per program x entity x payer (and `combined`) of the `settlement` table for a performance
year, with the number of attributed persons counted in the warehouse. A row that covers 1-10 persons shows its
identifiers and the reason only: with so few people, per-capita amounts, totals and the settlement itself
would disclose individual claims.

Qualifier (spec quality-measures §C.1): health-home enrollees (adults 18+ / children under 18, by age at the
last health-home month of the year), their minimum and maximum ages, the number of health-home providers, the
share of health-home member-months per delivery system (FFS, PCCM, MCO/PIHP, ICM, other) and the annual cost
savings of the settled programs with the methodology used. Counts go through the same suppression.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, Engine, and_, case, distinct, func, literal, select

from exports.suppression import suppress
from savings.population import uncertainty
from savings.population.common import CENT, money
from savings.paying import COMBINED, pays, settlement_totals
from savings.work_tables import attribution, settlement
from warehouse.models import IcmEntity, IcmProgram, MemberMonth

# the settlement's uncertainty (savings.population.uncertainty, kept in the breakdown), shown on paying rows
UNCERTAINTY_COLUMNS = ("rate_low_analytic", "rate_high_analytic", "chance_probability", "msr_protects")
STATEMENT_COLUMNS = ["year", "methodology_id", "program_id", "entity_id", "payer", "binding", "risk_arrangement",
                     "persons", "person_years", "benchmark_pc", "benchmark", "expenditure_pc", "expenditure",
                     "savings", "savings_rate", "msr", "mlr", "generated", "quality_score", "sharing_rate",
                     "earned", "owed", *UNCERTAINTY_COLUMNS, "suppressed", "suppression_reason"]
AMOUNT_FIELDS = ("persons", "person_years", "benchmark_pc", "benchmark", "expenditure_pc", "expenditure", "savings",
                 "savings_rate", "msr", "mlr", "generated", "quality_score", "sharing_rate", "earned", "owed",
                 *UNCERTAINTY_COLUMNS)     # a suppressed row hides its uncertainty too
DELIVERY_SYSTEMS = ("FFS", "PCCM", "MCO", "ICM")
# What produced the qualifier's cost-savings figure (issue 22: benchmark savings are not causal savings)
COST_SAVINGS_METHOD = ("benchmark settlement: trended base-year benchmark minus performance-year expenditure of the "
                       "paying settlement rows (savings.population, methodology_id); not a causal estimate - the "
                       "comparison-group difference-in-differences is `icm evaluate` (evaluation.icm)")


def _persons_by_entity(conn, year: int) -> dict[tuple, int]:
    a = attribution
    per_payer = conn.execute(select(a.c.program_id, a.c.entity_id, a.c.payer, func.count(distinct(a.c.person_id)))
                             .where(a.c.year == year).group_by(a.c.program_id, a.c.entity_id, a.c.payer)).all()
    combined = conn.execute(select(a.c.program_id, a.c.entity_id, func.count(distinct(a.c.person_id)))
                            .where(a.c.year == year).group_by(a.c.program_id, a.c.entity_id)).all()
    out = {(p, e, pay): n for p, e, pay, n in per_payer}
    out.update({(p, e, COMBINED): n for p, e, n in combined})
    return out


def _uncertainty(breakdown: str | None) -> dict:
    """The paying row's analytic interval of the savings rate, chance probability and MSR protection."""
    record = (json.loads(breakdown) if breakdown else {}).get("uncertainty") or {}
    flat = uncertainty.flat(record)
    return {c: flat.get(c) for c in UNCERTAINTY_COLUMNS}


PROGRAM_TOTAL = "program_total"     # relation key of a program's paying total (published in the qualifier)


def statement_rows(engine: Engine, year: int) -> list[dict]:
    """The suppressed statement rows of `year` (see statements_and_program_totals)."""
    return statements_and_program_totals(engine, year)[0]


def statements_and_program_totals(engine: Engine, year: int) -> tuple[list[dict], list[dict]]:
    """Suppressed statement rows, and each program x methodology total of the paying rows (savings, earned,
    owed: what the qualifier publishes), suppressed together.

    Sum relations protected (exports.suppression): an entity's payer rows add up to its combined row, and a
    program's paying rows add up to the program total in the qualifier; a small row hidden in either is never
    the only hidden cell of its relation."""
    s = settlement
    with engine.connect() as conn:
        rows = conn.execute(select(s).where(s.c.year == year)
                            .order_by(s.c.methodology_id, s.c.program_id, s.c.entity_id, s.c.payer)).all()
        persons = _persons_by_entity(conn, year)
    out = []
    for r in rows:
        d = {c: getattr(r, c) for c in STATEMENT_COLUMNS
             if c not in ("persons", "suppressed", "suppression_reason", *UNCERTAINTY_COLUMNS)}
        d["persons"] = persons.get((r.program_id, r.entity_id, r.payer), 0)
        d.update(_uncertainty(r.breakdown) if pays(d) else dict.fromkeys(UNCERTAINTY_COLUMNS))
        out.append(d)
    programs: dict[tuple, list[dict]] = {}
    for d in out:
        programs.setdefault((d["methodology_id"], d["program_id"]), []).append(d)
    totals = []
    for (mid, pid), members in programs.items():
        t = settlement_totals(members)
        totals.append({"methodology_id": mid, "program_id": pid, "payer": PROGRAM_TOTAL, "savings": t["savings"],
                       "earned": t["earned"], "owed": t["owed"], "settled_rows": t["paying_rows"]})

    def part_of(d):
        keys = [] if d["payer"] == COMBINED else [("entity", d["methodology_id"], d["program_id"], d["entity_id"])]
        return keys + ([(PROGRAM_TOTAL, d["methodology_id"], d["program_id"])] if pays(d) else [])

    def total_of(d):
        if d["payer"] == PROGRAM_TOTAL:
            return (PROGRAM_TOTAL, d["methodology_id"], d["program_id"])
        return ("entity", d["methodology_id"], d["program_id"], d["entity_id"]) if d["payer"] == COMBINED else None

    done = suppress(out + totals, count_fields=("persons",), blank_fields=AMOUNT_FIELDS, group_key=lambda d: (
        None if d["payer"] == PROGRAM_TOTAL else part_of(d)), total_key=total_of)
    return ([d for d in done if d["payer"] != PROGRAM_TOTAL], [d for d in done if d["payer"] == PROGRAM_TOTAL])


def qualifier(engine: Engine, year: int, program_totals: list[dict] | None = None) -> dict:
    """The Health Home core-set qualifier figures for measurement year `year` (counts suppressed at 1-10).

    Enrollees = adults + children is a sum relation, suppressed complementarily; the cost savings per program are
    the paying rows' totals suppressed together with the statements (`statements_and_program_totals`)."""
    if program_totals is None:
        program_totals = statements_and_program_totals(engine, year)[1]
    mm, prog, ent = MemberMonth.__table__, IcmProgram.__table__, IcmEntity.__table__
    in_year = and_(mm.c.month_start >= literal(dt.date(year, 1, 1), Date),
                   mm.c.month_start <= literal(dt.date(year, 12, 1), Date),
                   mm.c.health_home_program_id.is_not(None))
    last = (select(mm.c.person_id, func.max(mm.c.age_at_month_start).label("age"))
            .where(in_year).group_by(mm.c.person_id).subquery())
    ds = func.upper(func.coalesce(mm.c.delivery_system, "OTHER"))
    ds_bucket = case(*[(ds == d, d) for d in DELIVERY_SYSTEMS], else_="OTHER")
    with engine.connect() as conn:
        ages = conn.execute(select(
            func.sum(case((last.c.age >= 18, 1), else_=0)), func.sum(case((last.c.age < 18, 1), else_=0)),
            func.min(last.c.age), func.max(last.c.age), func.count())).one()
        by_ds = conn.execute(select(ds_bucket, func.count()).where(in_year).group_by(ds_bucket)).all()
        providers = conn.execute(select(func.count(distinct(ent.c.entity_id)))
                                 .select_from(ent.join(prog, prog.c.program_id == ent.c.program_id))
                                 .where(prog.c.program_type.like("health_home%"))).scalar_one()
    adults, children, min_age, max_age, enrollees = ages
    total_mm = sum(n for _, n in by_ds)
    shares = {d: (Decimal(n) * 100 / Decimal(total_mm)).quantize(CENT, ROUND_HALF_UP) if total_mm else None
              for d, n in by_ds}
    # enrollees = adults + children: one sum relation, suppressed complementarily (709 = 699 + a hidden 10)
    enrollees, adults, children = (c["n"] for c in suppress(
        [{"n": int(n or 0), "role": role} for n, role in ((enrollees, "total"), (adults, "part"), (children, "part"))],
        count_fields=("n",), blank_fields=("n",), group_key=lambda c: "age" if c["role"] == "part" else None,
        total_key=lambda c: "age" if c["role"] == "total" else None))
    small_population = enrollees is None
    return {
        "measurement_year": year, "ffy": year + 1,
        "health_home_enrollees": enrollees, "adult_enrollees": adults, "child_enrollees": children,
        # the extremes of a small population identify people
        "minimum_age": None if small_population else min_age, "maximum_age": None if small_population else max_age,
        "health_home_providers": int(providers or 0),
        "delivery_system_percent_of_member_months": {d: shares.get(d) for d in (*DELIVERY_SYSTEMS, "OTHER")},
        "cost_savings": [{"program_id": t["program_id"], "methodology_id": t["methodology_id"],
                          "method": COST_SAVINGS_METHOD, "settled_rows": t["settled_rows"],
                          "suppressed": t["suppressed"],
                          **{k: None if t[k] is None else money(t[k]) for k in ("savings", "earned", "owed")}}
                         for t in program_totals],
        "suppression": "counts of 1-10 are shown as null (CMS cell-size suppression)",
    }
