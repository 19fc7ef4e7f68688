"""Measure engine: compiles each measure to one INSERT ... SELECT into measure_detail, then aggregates the detail
into measure_result by rate and stratum — all inside the database (DuckDB or PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import json
import logging
import time

from sqlalchemy import (Engine, Double as Float, Integer, String, and_, case, cast, delete, func, insert, literal, null, or_,
                        select, union_all)

from measures import blocks as B
from measures import status as S
from measures.definition import RATE_SCALE, BuildContext, MeasureDefinition
from measures.progress import measure_finished, measure_started
from measures.scratch import Scratch
from measures.sqlfuncs import age_at, month_start
from measures.tables import measure_detail, measure_result
from measures.valuesets import Registry, default_registry, gem_configured

log = logging.getLogger(__name__)

STRATA = ("total", "age_band", "sex", "race", "ethnicity", "payer", "delivery_system", "program", "entity", "county")
DETAIL_COLS = [c.name for c in measure_detail.columns]


def coding_era(conn, year: int) -> str:
    H = B.H
    rows = conn.execute(select(func.lower(H.c.diagnosis_code_type), func.count())
                        .where(H.c.claim_start_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
                        .group_by(func.lower(H.c.diagnosis_code_type))).all()
    counts = {k or "": n for k, n in rows}
    nine = counts.get("icd-9-cm", 0) + counts.get("icd-9", 0)
    ten = counts.get("icd-10-cm", 0) + counts.get("icd-10", 0)
    return "icd-9" if nine > ten else "icd-10"


def _age_band_expr(m: MeasureDefinition, age):
    if not m.age_bands:
        return case((age.is_(None), "unknown"), else_="all")
    whens = [(age.is_(None), "unknown")]
    for lo, hi, label in m.age_bands:
        cond = age >= lo if hi is None else and_(age >= lo, age <= hi)
        whens.append((cond, label))
    return case(*whens, else_="other")


def build_detail_select(ctx: BuildContext):
    """The full detail SELECT for one measure (CE filter, age filter, standard exclusions, strata attributes)."""
    m = ctx.measure
    u = m.build(ctx).cte("units")
    P = B.P
    if m.provides_strata:
        age = u.c.age
        attrs = dict(sex=u.c.sex, payer=u.c.payer, delivery_system=u.c.delivery_system, program_id=u.c.program_id,
                     entity_id=u.c.entity_id, county_fips=u.c.county_fips)
        mmj = None
    else:
        du = select(u.c.unit_id, u.c.person_id, u.c.anchor_date).distinct().cte("units_distinct")
        key = ("member_months_dedup",)
        if key in ctx.cache or (ctx.scratch is not None and ctx.scratch.has(key)):
            mm = B.member_months_dedup(ctx)  # the measure already ranks all member months, or the run has them
        else:  # only the units' persons' member months (cheaper than ranking the whole population's)
            mm = B.member_months_dedup_for(ctx, du, "unit_mm")
        um = (select(du.c.unit_id, func.max(mm.c.month_start).label("month_start"))
              .select_from(du.join(mm, and_(mm.c.person_id == du.c.person_id,
                                            mm.c.month_start <= month_start(du.c.anchor_date),
                                            mm.c.month_start >= ctx.date(dt.date(ctx.year - 1, 1, 1)))))
              .group_by(du.c.unit_id)).cte("unit_month")
        mmj = (um, mm)
        on = u.c.anchor_date if m.age_on == "anchor" else ctx.ymd(0, *m.age_on)
        age = u.c.age if "age" in u.c else age_at(P.c.birth_date, on)
        attrs = dict(sex=func.coalesce(mm.c.sex, P.c.sex), payer=mm.c.payer, delivery_system=mm.c.delivery_system,
                     program_id=func.coalesce(mm.c.health_home_program_id, mm.c.icm_program_id),
                     entity_id=mm.c.icm_entity_id, county_fips=func.coalesce(mm.c.county_fips, P.c.county_fips))
    age = cast(age, Integer)

    race, ethnicity = P.c.race, P.c.ethnicity
    conds = []
    if mmj is None and "race" in u.c and "ethnicity" in u.c:
        # the units carry every person attribute (member-month measures): no join to person per detail row
        race, ethnicity = u.c.race, u.c.ethnicity
        frm = u
    else:
        frm = u.outerjoin(P, P.c.person_id == u.c.person_id)
    if mmj is not None:
        um, mm = mmj
        frm = frm.outerjoin(um, um.c.unit_id == u.c.unit_id).outerjoin(
            mm, and_(mm.c.person_id == u.c.person_id, mm.c.month_start == um.c.month_start))
    if m.enrollment is not None:
        own_window = [u.c[c] for c in ("ce_start", "ce_end") if c in u.c]  # CEWindow(ref="unit")
        du2 = select(u.c.unit_id, u.c.person_id, u.c.anchor_date, *own_window).distinct().cte("ce_units")
        for i, w in enumerate(m.enrollment.windows):
            ok = B.ce_window_ok(ctx, du2, w, i)
            frm = frm.outerjoin(ok, ok.c.unit_id == u.c.unit_id)
            rate_ids = w.rate_ids if w.rate_ids is not None else m.ce_rate_ids
            if rate_ids is None:
                conds.append(ok.c.ok == 1)
            else:
                conds.append(or_(u.c.rate_id.not_in(rate_ids), ok.c.ok == 1))
    if m.min_age is not None:
        conds.append(age >= m.min_age)
    if m.max_age is not None:
        conds.append(age <= m.max_age)

    reasons = [(u.c.excluded, u.c.exclusion_reason)]
    for ex in m.standard_exclusions:
        if ex == "hospice":
            reasons.append((B.in_set(u.c.person_id, B.hospice_persons(ctx)), literal("hospice")))
        elif ex == "death":
            reasons.append((B.in_set(u.c.person_id, B.deceased_persons(ctx)), literal("death")))
        elif ex == "palliative":
            reasons.append((B.in_set(u.c.person_id, B.persons_with_dx(ctx, "palliative_care", 0, 0)),
                            literal("palliative care")))
        elif ex == "ltc66":
            reasons.append((and_(age >= 66, B.in_set(u.c.person_id, B.ltc_persons(ctx))),
                            literal("66+ in institutional long-term care")))
        else:
            raise ValueError(f"unknown standard exclusion {ex}")
    excluded = func.coalesce(or_(*[c for c, _ in reasons]), False)
    reason = case(*[(c, r) for c, r in reasons], else_=null())

    cols = dict(
        measure_id=literal(m.id), measurement_year=literal(ctx.year), rate_id=u.c.rate_id, unit_id=u.c.unit_id,
        unit_type=u.c.unit_type, person_id=u.c.person_id, anchor_date=u.c.anchor_date, age=age,
        age_band=_age_band_expr(m, age), sex=attrs["sex"], race=race, ethnicity=ethnicity,
        payer=attrs["payer"], delivery_system=attrs["delivery_system"], program_id=attrs["program_id"],
        entity_id=attrs["entity_id"], county_fips=attrs["county_fips"], excluded=excluded,
        exclusion_reason=cast(reason, String), numerator_met=func.coalesce(and_(u.c.numerator_met, ~excluded), False),
        numerator_value=func.coalesce(u.c.numerator_value, 0), denominator_value=func.coalesce(u.c.denominator_value, 0),
        numerator_claim_id=u.c.numerator_claim_id)
    q = select(*[cols[c].label(c) for c in DETAIL_COLS]).select_from(frm)
    if conds:
        q = q.where(and_(*conds))
    return q


def aggregate_select(m: MeasureDefinition, year: int, versions: str, now: dt.datetime, flags: dict):
    d = measure_detail
    strata_cols = {"total": literal("total"), "age_band": d.c.age_band, "sex": d.c.sex, "race": d.c.race,
                   "ethnicity": d.c.ethnicity, "payer": d.c.payer, "delivery_system": d.c.delivery_system,
                   "program": d.c.program_id, "entity": d.c.entity_id, "county": d.c.county_fips}
    parts = []
    for st in STRATA:
        val = func.coalesce(cast(strata_cols[st], String), "unknown")
        parts.append(select(d.c.rate_id, literal(st).label("stratum_type"), val.label("stratum_value"),
                            func.sum(case((d.c.excluded, 0), else_=d.c.numerator_value)).label("num"),
                            func.sum(case((d.c.excluded, 0), else_=d.c.denominator_value)).label("den"),
                            func.sum(case((d.c.excluded, 1), else_=0)).label("exc"))
                     .where(d.c.measure_id == m.id, d.c.measurement_year == year)
                     .group_by(d.c.rate_id, val))
    a = union_all(*parts).cte("agg")
    kinds = {r.rate_id: r.kind for r in m.rates}
    kind = case(*[(a.c.rate_id == rid, k) for rid, k in kinds.items()], else_="proportion")
    scale = case(*[(a.c.rate_id == rid, RATE_SCALE[k] or 1) for rid, k in kinds.items()], else_=1)
    is_count = or_(*[a.c.rate_id == rid for rid, k in kinds.items() if k == "count"]) if any(
        k == "count" for k in kinds.values()) else literal(False)
    small_den = or_(*[a.c.rate_id == rid for rid, k in kinds.items() if k in ("proportion", "alos", "ratio")]) if any(
        k in ("proportion", "alos", "ratio") for k in kinds.values()) else literal(False)
    rate = case((is_count, cast(a.c.num, Float)),
                (a.c.den > 0, cast(a.c.num, Float) * scale / cast(a.c.den, Float)), else_=null())
    small = or_(a.c.num.between(1, 10), and_(small_den, a.c.den.between(1, 10)))
    return select(literal(m.id), literal(year), a.c.rate_id, a.c.stratum_type, a.c.stratum_value, kind, a.c.num,
                  a.c.den, cast(a.c.exc, Integer), rate, small, literal("ok"), literal(versions), literal(now),
                  literal(flags["core_set_status"]), literal(flags["lookback_status"]))


RESULT_COLS = ["measure_id", "measurement_year", "rate_id", "stratum_type", "stratum_value", "rate_type",
               "numerator", "denominator", "exclusions", "rate", "small_cell", "status", "value_set_versions",
               "computed_at", "core_set_status", "lookback_status"]


def _status(m: MeasureDefinition, reg: Registry, era: str) -> str:
    missing = reg.missing(m.value_sets)
    if missing:
        return "not computable: missing value sets " + ", ".join(missing)
    if m.needs_icd10 and era == "icd-9" and not gem_configured():
        return ("not computable for this coding era: ICD-9-CM claims in this year; configure a GEM crosswalk "
                "(ICM_GEM_CROSSWALK) to map the ICD-10-CM value sets")
    return "ok"


def derived_detail_select(m: MeasureDefinition, year: int):
    """A counterpart's detail: its parent's detail rows of the year within the counterpart's ages, re-banded."""
    d = measure_detail
    cols = {c: d.c[c] for c in DETAIL_COLS}
    cols.update(measure_id=literal(m.id), age_band=_age_band_expr(m, d.c.age))
    conds = [d.c.measure_id == m.derived_from, d.c.measurement_year == year]
    if m.min_age is not None:
        conds.append(d.c.age >= m.min_age)
    if m.max_age is not None:
        conds.append(d.c.age <= m.max_age)
    return select(*[cols[c].label(c) for c in DETAIL_COLS]).where(*conds)


def compute_measure(conn, m: MeasureDefinition, year: int, reg: Registry, era: str, scratch=None,
                    options=None, first_enrolled=None, parent_done: bool = False) -> None:
    """Replace one measure's detail and result rows for the year. scratch: a measures.scratch.Scratch on this
    connection whose shared blocks (temporary tables) the measure reads and extends; None inlines every block.
    parent_done: m is a counterpart whose parent was computed earlier in this run (its detail is copied)."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    versions = json.dumps(reg.versions(m.value_sets), sort_keys=True)
    conn.execute(delete(measure_detail).where(measure_detail.c.measure_id == m.id,
                                              measure_detail.c.measurement_year == year))
    conn.execute(delete(measure_result).where(measure_result.c.measure_id == m.id,
                                              measure_result.c.measurement_year == year))
    status = _status(m, reg, era)
    flags = dict(core_set_status=S.core_set_status(m, year),
                 lookback_status=S.lookback_status(m, year, first_enrolled))
    rows = []
    if status == "ok":
        if parent_done:
            detail = derived_detail_select(m, year)
        else:
            detail = build_detail_select(BuildContext(year, reg, m, conn.dialect.name, scratch, options))
        conn.execute(insert(measure_detail).from_select(DETAIL_COLS, detail))
        conn.execute(insert(measure_result).from_select(RESULT_COLS, aggregate_select(m, year, versions, now, flags)))
        t = measure_result
        present = set(conn.execute(select(t.c.rate_id, t.c.stratum_type, t.c.stratum_value).where(
            t.c.measure_id == m.id, t.c.measurement_year == year)).all())
        # a rate with no units still gets its total row and a row for every age stratum the measure reports
        # (IU-HH reports an "unknown" age stratum, as QMR asks, even when every birth date is known)
        strata = [("total", "total")] + [("age_band", b[2]) for b in m.age_bands]
        strata += [("age_band", "unknown")] if m.report_unknown_age else []
        for r in m.rates:
            if r.rate_id in m.not_computable_rates:
                continue
            for st, sv in strata:
                if (r.rate_id, st, sv) not in present:
                    rows.append(dict(rate_id=r.rate_id, rate_type=r.kind, numerator=0, denominator=0, exclusions=0,
                                     rate=0.0 if r.kind == "count" else None, small_cell=False, status="ok",
                                     stratum_type=st, stratum_value=sv))
        for rid, reason in m.not_computable_rates.items():
            kind = next((r.kind for r in m.rates if r.rate_id == rid), "ratio")
            rows.append(dict(rate_id=rid, rate_type=kind, numerator=None, denominator=None, exclusions=None,
                             rate=None, small_cell=None, status=f"not computable: {reason}"))
    else:
        for r in m.rates:
            rows.append(dict(rate_id=r.rate_id, rate_type=r.kind, numerator=None, denominator=None, exclusions=None,
                             rate=None, small_cell=None, status=status))
    for r in rows:
        r.setdefault("stratum_type", "total")
        r.setdefault("stratum_value", "total")
        r.update(measure_id=m.id, measurement_year=year, value_set_versions=versions, computed_at=now, **flags)
    if rows:
        conn.execute(insert(measure_result), rows)


def shared_keys(ms: list[MeasureDefinition], year: int, reg: Registry, era: str, dialect: str,
                options=None) -> set:
    """Keys of the shared blocks that two or more of the measures use (building the statements, not running them)."""
    if len(ms) < 2:
        return set()
    uses: dict = {}
    ids = {m.id for m in ms}
    for m in ms:
        if _status(m, reg, era) != "ok" or m.derived_from in ids:  # a counterpart copies its parent's detail
            continue
        ctx = BuildContext(year, reg, m, dialect, options=options)
        build_detail_select(ctx)
        for key in ctx.shared_used:
            uses[key] = uses.get(key, 0) + 1
    return {k for k, n in uses.items() if n >= 2}


def _to_dict(r) -> dict:
    def num(v):
        if v is None:
            return None
        f = float(v)
        return int(f) if f.is_integer() else f
    return dict(measure=r.measure_id, rate_id=r.rate_id, stratum={"type": r.stratum_type, "value": r.stratum_value},
                numerator=num(r.numerator), denominator=num(r.denominator), exclusions=r.exclusions,
                rate=None if r.rate is None else float(r.rate), small_cell=r.small_cell, status=r.status, rate_type=r.rate_type,
                value_set_versions=json.loads(r.value_set_versions) if r.value_set_versions else {},
                core_set_status=r.core_set_status, lookback_status=r.lookback_status)


def results(conn, year: int, measure_ids: list[str]) -> list[dict]:
    t = measure_result
    q = (select(t).where(t.c.measurement_year == year, t.c.measure_id.in_(measure_ids))
         .order_by(t.c.measure_id, t.c.rate_id, t.c.stratum_type, t.c.stratum_value))
    return [_to_dict(r) for r in conn.execute(q)]


def compute(engine: Engine, year: int, measure_ids: list[str] | None = None, *, licensed_dir=None,
            timings: dict | None = None, options=None) -> list[dict]:
    """Compute measures for one measurement year; replaces that year's rows for those measures (idempotent).
    timings: when given, receives measure id -> seconds (a measure's time includes the shared blocks it builds
    first) and "_run" -> seconds of the whole call. options: measures.options.MeasureOptions (None: the defaults)."""
    from measures.registry import all_measures, get_measures

    started = time.perf_counter()
    reg = default_registry(licensed_dir)
    ms = all_measures() if not measure_ids else get_measures(measure_ids)
    ms = [m for m in ms if not m.derived_from] + [m for m in ms if m.derived_from]  # parents first
    with engine.connect() as conn:
        era = coding_era(conn, year)
        first = S.first_enrolled(conn)
        conn.commit()
        # one connection for the run: the shared blocks are temporary tables on it, built when a measure first
        # needs them and read by every later measure of the run (see measures/scratch.py)
        scratch = Scratch(conn, year, shared_keys(ms, year, reg, era, conn.dialect.name, options))
        done: set[str] = set()
        try:
            for index, m in enumerate(ms):
                log.info("computing %s for %s", m.id, year)
                measure_started(m.id, index, len(ms))
                t0 = time.perf_counter()
                with conn.begin():
                    compute_measure(conn, m, year, reg, era, scratch, options, first,
                                    parent_done=m.derived_from in done)
                done.add(m.id)
                seconds = time.perf_counter() - t0
                measure_finished(m.id, seconds)
                if timings is not None:
                    timings[m.id] = seconds
        finally:
            if conn.in_transaction():
                conn.rollback()
            scratch.drop()
            conn.commit()
        ids = [m.id for m in ms]
        if not measure_ids:  # the whole suite: every Core Set measure gets a row, computed or with its reason
            from measures.catalog import missing_rows

            extra = missing_rows(year, {m.id for m in all_measures()})
            with conn.begin():
                conn.execute(delete(measure_result).where(measure_result.c.measurement_year == year,
                                                          measure_result.c.measure_id.in_([r["measure_id"]
                                                                                           for r in extra])))
                now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
                if extra:
                    conn.execute(insert(measure_result), [dict(r, computed_at=now) for r in extra])
            ids += [r["measure_id"] for r in extra]
        out = results(conn, year, ids)
    if timings is not None:
        timings["_run"] = time.perf_counter() - started
    return out
