"""Attribution: which entity of a program each person-month belongs to, rebuilt per year inside the warehouse.

Methods (config.attribution.method):
  enrollment / enrollment_assignment  the program roster on member_month (icm_program_id or
                                      health_home_program_id = program, icm_entity_id = entity)
  plurality_primary_care / hierarchy  plurality of primary-care E/M services in a lookback window, step-wise by
                                      provider type (PCPs first, then specialists: a person with any step-1
                                      service is decided at step 1); providers map to entities via
                                      provider.icm_entity_id; non-participant providers compete by TIN (or NPI)
                                      and, when they win, the person is not attributed; ties go to the most
                                      recent visit, then the lowest unit id
  geographic                          residents (member_month.county_fips) of each entity's counties
  roster                              a CSV of person_id, entity_id, start, end supplied by the state

Timing: retrospective windows end on 31 Dec of the year; prospective windows end on 31 Dec of the prior year.
Eligible months: member-months of in-scope payers in the year without an excluded attribute (dual, limited-benefit
eligibility group, hospice, long-term institutional), of persons with at least min_enrollment_months such months
for that payer. A person-month gets at most one entity per program; every in-scope payer month of it gets a row.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import (
    Column, Date, Engine, Integer, and_, case, delete, distinct, func, insert, literal, or_, select,
)

from savings.population.common import CheckOutcome, is_dual, month_add, temp_table, year_bounds
from savings.population.config import AttributionConfig, PopulationConfig
from savings.work_tables import attribution
from warehouse import models

mm = models.MemberMonth.__table__
entity_t = models.IcmEntity.__table__
program_t = models.IcmProgram.__table__
provider_t = models.Provider.__table__
claim_t = models.MedicalClaimFinal.__table__
line_t = models.MedicalClaimLineFinal.__table__


def programs_for(conn, cfg: PopulationConfig) -> list[str]:
    if cfg.program_id:
        return [cfg.program_id]
    ids = set(conn.execute(select(program_t.c.program_id)).scalars())
    ids |= set(conn.execute(select(distinct(entity_t.c.program_id))).scalars())
    if cfg.attribution.method in ("enrollment", "enrollment_assignment"):
        ids |= {p for p in conn.execute(select(distinct(mm.c.icm_program_id))).scalars() if p}
        ids |= {p for p in conn.execute(select(distinct(mm.c.health_home_program_id))).scalars() if p}
    return sorted(ids)


def _eligible_months(cfg: PopulationConfig, year: int):
    """(person_id, month_start, payer) eligible for attribution in the year."""
    a = cfg.attribution
    first, last = year_bounds(year)
    excluded = []
    if "dual_eligible" in a.exclusions:
        excluded.append(is_dual(mm.c.dual_status_code))
    if "limited_benefit" in a.exclusions:
        excluded.append(func.coalesce(mm.c.eligibility_group, "").in_(a.limited_benefit_groups))
    if "hospice" in a.exclusions:
        excluded.append(func.coalesce(mm.c.hospice_flag, False))
    if "long_term_institutional" in a.exclusions:
        excluded.append(func.coalesce(mm.c.long_term_institutional_flag, False))
    flag = case((or_(*excluded), 1), else_=0) if excluded else literal(0)
    where = [mm.c.month_start >= first, mm.c.month_start <= last]
    if cfg.payer_scope:
        where.append(mm.c.payer.in_(cfg.payer_scope))
    months = (select(mm.c.person_id, mm.c.month_start, mm.c.payer, func.max(flag).label("excluded"))
              .where(*where).group_by(mm.c.person_id, mm.c.month_start, mm.c.payer).subquery("pm"))
    counted = (select(months.c.person_id, months.c.month_start, months.c.payer,
                      func.count().over(partition_by=[months.c.person_id, months.c.payer]).label("n"))
               .where(months.c.excluded == 0).subquery("pmc"))
    return (select(counted.c.person_id, counted.c.month_start, counted.c.payer)
            .where(counted.c.n >= a.min_enrollment_months).subquery("eligible"))


def _enrollment_entities(program: str, year: int):
    """Person-month -> entity from the program roster on member_month (most enrolled days wins, then entity id)."""
    first, last = year_bounds(year)
    ranked = (select(mm.c.person_id, mm.c.month_start, mm.c.icm_entity_id.label("entity_id"),
                     func.row_number().over(partition_by=[mm.c.person_id, mm.c.month_start],
                                            order_by=[mm.c.days_enrolled.desc(), mm.c.icm_entity_id]).label("rk"))
              .where(mm.c.month_start >= first, mm.c.month_start <= last, mm.c.icm_entity_id.is_not(None),
                     or_(mm.c.icm_program_id == program, mm.c.health_home_program_id == program))
              .subquery("enr"))
    return (select(ranked.c.person_id, ranked.c.month_start, ranked.c.entity_id,
                   literal("enrollment_roster").label("reason"))
            .where(ranked.c.rk == 1).subquery("pme"))


def _plurality_entities(cfg: PopulationConfig, program: str, year: int):
    """Person -> entity by step-wise plurality of primary-care services (person level, all months of the year)."""
    a = cfg.attribution
    window_end = dt.date(year if a.timing == "retrospective" else year - 1, 12, 31)
    window_start = month_add(dt.date(window_end.year, 12, 1), -(a.lookback_months - 1))
    svc_date = func.coalesce(line_t.c.claim_line_start_date, claim_t.c.claim_start_date)
    npi = func.coalesce(line_t.c.rendering_npi, claim_t.c.billing_npi)
    step_cases = []
    for i, step in enumerate(a.hierarchy_steps, 1):
        step_cases.append((provider_t.c.provider_type.in_(step.provider_types), i))
    step = case(*step_cases, else_=None)
    ent = entity_t.alias("ent")
    unit = func.coalesce(ent.c.entity_id, literal("non-participant:") + func.coalesce(provider_t.c.tin, provider_t.c.npi))
    amount = (func.coalesce(line_t.c.allowed_amount, line_t.c.paid_amount, 0) if a.plurality_basis == "allowed"
              else literal(1))
    where = [line_t.c.hcpcs_code.in_(a.em_codes), svc_date >= window_start, svc_date <= window_end,
             provider_t.c.provider_type.in_([t for s in a.hierarchy_steps for t in s.provider_types])]
    if cfg.payer_scope:
        where.append(claim_t.c.payer.in_(cfg.payer_scope))
    services = (select(claim_t.c.person_id, step.label("step"), unit.label("unit"), ent.c.entity_id,
                       amount.label("amount"), svc_date.label("svc_date"))
                .select_from(line_t.join(claim_t, and_(line_t.c.claim_id == claim_t.c.claim_id,
                                                       line_t.c.data_source == claim_t.c.data_source))
                             .join(provider_t, provider_t.c.npi == npi)
                             .outerjoin(ent, and_(ent.c.entity_id == provider_t.c.icm_entity_id,
                                                  ent.c.program_id == program)))
                .where(*where).subquery("svc"))
    per_unit = (select(services.c.person_id, services.c.step, services.c.unit,
                       func.max(services.c.entity_id).label("entity_id"),
                       func.sum(services.c.amount).label("score"), func.max(services.c.svc_date).label("last_visit"),
                       func.min(services.c.step).over(partition_by=services.c.person_id).label("first_step"))
                .group_by(services.c.person_id, services.c.step, services.c.unit).subquery("per_unit"))
    ranked = (select(per_unit.c.person_id, per_unit.c.entity_id, per_unit.c.step,
                     func.row_number().over(partition_by=per_unit.c.person_id,
                                            order_by=[per_unit.c.score.desc(), per_unit.c.last_visit.desc(),
                                                      per_unit.c.unit]).label("rk"))
              .where(per_unit.c.step == per_unit.c.first_step).subquery("ranked"))
    reason = case(*[(ranked.c.step == i, literal(s.name)) for i, s in enumerate(a.hierarchy_steps, 1)],
                  else_=literal("plurality"))
    return (select(ranked.c.person_id, ranked.c.entity_id, reason.label("reason"))
            .where(ranked.c.rk == 1, ranked.c.entity_id.is_not(None)).subquery("pe"))


def _geographic_entities(conn, a: AttributionConfig, year: int):
    first, last = year_bounds(year)
    rows = [{"entity_id": e, "county_fips": c} for e, counties in sorted(a.counties.items()) for c in counties]
    geo = temp_table(conn, "geo", [Column("entity_id", mm.c.icm_entity_id.type), Column("county_fips", mm.c.county_fips.type)],
                     rows)
    ranked = (select(mm.c.person_id, mm.c.month_start, geo.c.entity_id,
                     func.row_number().over(partition_by=[mm.c.person_id, mm.c.month_start],
                                            order_by=[mm.c.days_enrolled.desc(), geo.c.entity_id]).label("rk"))
              .select_from(mm.join(geo, geo.c.county_fips == mm.c.county_fips))
              .where(mm.c.month_start >= first, mm.c.month_start <= last).subquery("geo_ranked"))
    sel = (select(ranked.c.person_id, ranked.c.month_start, ranked.c.entity_id, literal("geographic").label("reason"))
           .where(ranked.c.rk == 1).subquery("pme"))
    return sel, geo


def read_roster(path: str | Path) -> list[dict]:
    """Roster CSV: person_id, entity_id, start, end (ISO dates; blank end = open)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"attribution.roster_file: no such file {path}")
    rows = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"person_id", "entity_id", "start"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"attribution.roster_file: missing column(s) {sorted(missing)}")
        for n, r in enumerate(reader, 2):
            try:
                start = dt.date.fromisoformat(r["start"].strip())
                end = dt.date.fromisoformat(r["end"].strip()) if (r.get("end") or "").strip() else dt.date(9999, 12, 31)
            except ValueError as exc:
                raise ValueError(f"attribution.roster_file line {n}: bad date ({exc})") from exc
            rows.append({"person_id": r["person_id"].strip(), "entity_id": r["entity_id"].strip(),
                         "start_date": start, "end_date": end})
    return rows


def _roster_entities(conn, a: AttributionConfig, year: int):
    first, last = year_bounds(year)
    roster = temp_table(conn, "roster", [Column("person_id", mm.c.person_id.type),
                                         Column("entity_id", mm.c.icm_entity_id.type),
                                         Column("start_date", Date), Column("end_date", Date)],
                        read_roster(a.roster_file))
    months = select(distinct(mm.c.month_start).label("month_start")).where(
        mm.c.month_start >= first, mm.c.month_start <= last).subquery("months")
    ranked = (select(roster.c.person_id, months.c.month_start, roster.c.entity_id,
                     func.row_number().over(partition_by=[roster.c.person_id, months.c.month_start],
                                            order_by=[roster.c.start_date.desc(), roster.c.entity_id]).label("rk"))
              .select_from(roster.join(months, and_(roster.c.start_date <= months.c.month_start,
                                                     roster.c.end_date >= months.c.month_start)))
              .subquery("roster_ranked"))
    sel = (select(ranked.c.person_id, ranked.c.month_start, ranked.c.entity_id, literal("roster").label("reason"))
           .where(ranked.c.rk == 1).subquery("pme"))
    return sel, roster


def attribute(engine: Engine, config, year: int) -> dict:
    """Rebuild the `attribution` rows of `year` for the configured program(s). Returns counts per program."""
    cfg = PopulationConfig.from_any(config)
    a = cfg.attribution
    method = {"enrollment_assignment": "enrollment", "hierarchy": "plurality_primary_care",
              "voluntary": "roster"}.get(a.method, a.method)
    out: dict = {"year": year, "method": method, "programs": {}}
    with engine.begin() as conn:
        for program in programs_for(conn, cfg):
            conn.execute(delete(attribution).where(attribution.c.year == year, attribution.c.program_id == program))
            eligible = _eligible_months(cfg, year)
            temp = None
            if method == "enrollment":
                pme = _enrollment_entities(program, year)
                on = and_(pme.c.person_id == eligible.c.person_id, pme.c.month_start == eligible.c.month_start)
            elif method == "plurality_primary_care":
                pme = _plurality_entities(cfg, program, year)
                on = pme.c.person_id == eligible.c.person_id
            elif method == "geographic":
                pme, temp = _geographic_entities(conn, a, year)
                on = and_(pme.c.person_id == eligible.c.person_id, pme.c.month_start == eligible.c.month_start)
            elif method == "roster":
                pme, temp = _roster_entities(conn, a, year)
                on = and_(pme.c.person_id == eligible.c.person_id, pme.c.month_start == eligible.c.month_start)
            else:  # pragma: no cover - the config validator lists the methods
                raise ValueError(f"attribution.method: unsupported {a.method!r}")
            sel = select(literal(year, Integer), literal(program), eligible.c.person_id, eligible.c.month_start,
                         eligible.c.payer, pme.c.entity_id, literal(method), pme.c.reason
                         ).select_from(eligible.join(pme, on))
            conn.execute(insert(attribution).from_select(
                ["year", "program_id", "person_id", "month_start", "payer", "entity_id", "method", "reason"], sel))
            if temp is not None:
                temp.drop(conn)
            counts = conn.execute(
                select(attribution.c.reason, func.count(), func.count(distinct(attribution.c.person_id)))
                .where(attribution.c.year == year, attribution.c.program_id == program)
                .group_by(attribution.c.reason)).all()
            out["programs"][program] = {"rows": sum(c[1] for c in counts),
                                        "by_reason": {r: {"rows": n, "persons": p} for r, n, p in counts}}
    return out


def check_attribution(engine: Engine, year: int | None = None) -> CheckOutcome:
    """A person-month belongs to at most one entity per program."""
    q = (select(attribution.c.year, attribution.c.program_id, attribution.c.person_id, attribution.c.month_start)
         .group_by(attribution.c.year, attribution.c.program_id, attribution.c.person_id, attribution.c.month_start)
         .having(func.count(distinct(attribution.c.entity_id)) > 1))
    if year is not None:
        q = q.where(attribution.c.year == year)
    with engine.connect() as conn:
        bad = conn.execute(q.limit(20)).all()
    return CheckOutcome("one_entity_per_person_month", not bad,
                        "each person-month is attributed to at most one entity per program" if not bad
                        else f"{len(bad)}+ person-months attributed to several entities of one program",
                        [tuple(r) for r in bad])
