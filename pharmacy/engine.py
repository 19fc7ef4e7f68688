"""Retrospective DUR engine: set-based SQL (SQLAlchemy Core) on the final-action pharmacy claims, DuckDB and PostgreSQL.

Order of operations for one year Y (every step is one INSERT/CREATE ... SELECT; no loop over members):
1. `fills`: pharmacy_claim_final rows dispensed from 1 Jan Y minus `lookback_days` to 31 Dec Y, joined to the
   product reference (pharmacy.reference). Each fill gets one `quality_flag` (first that applies):
   duplicate_claim_id (a second row with the same claim id and data source: only line 1 is used),
   ndc_not_in_reference, no_days_supply (missing or <= 0), no_quantity, and for opioids the MME status
   (strength_missing, strength_unparsable, strength_unit_mismatch, no_factor_for_dose_form, no_mme_factor).
   Nothing is guessed: a fill without days supply covers no day; an opioid fill without computable MME covers its
   days (it counts for overlap rules) but adds no MME. All are counted in the coverage report and appear on the
   trace of alerts of their drug classes with role `not_counted`.
2. `fill_day`: one row per fill of a drug some rule looks at (a classed ingredient or one of an interaction pair)
   and covered day (fill date .. fill date + days supply - 1, cut at 31 Dec Y), with
   the fill's daily MME = strength x quantity / days supply x factor (CDC analytic-file formula; fentanyl patches
   use mcg/hr per patch-day, see reference/PROVENANCE.md). Overlapping refills of one drug are NOT shifted forward.
3. `class_day`: fill_day x drug classes of the ingredient (`cns` = union of the rule set's CNS classes).
4. `person_day`: summed daily MME per person and day (definition B/D of Dasgupta et al. 2021: concurrent fills add).
5. `dur_mme_person`: per person the three labelled averages side by side (episode, daily sum on covered days,
   calendar year) and the maximum daily sum.
6. One query per enabled rule (pharmacy.rules): qualifying (person, day) rows in Y -> `dur_alert` (first day,
   number of qualifying days, value) and `dur_alert_trace` (the fills that made the days qualify, plus
   `not_counted` fills of the rule's classes with a quality flag).
Results for Y are replaced (idempotent).
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import (Float, Integer, String, and_, case, cast, column, delete, func, insert, literal, null,
                        select, values)
from sqlalchemy.engine import Engine

from measures.blocks import RX, flag, in_list
from measures.scratch import Scratch
from measures.sqlfuncs import add_days
from pharmacy import reference as ref
from pharmacy.config import RuleSet, load_rules
from pharmacy.tables import dur_alert, dur_alert_trace, dur_mme_person, dur_run

log = logging.getLogger(__name__)


def inline_values(name: str, cols: list[tuple[str, object]], rows: list[tuple]):
    """A small inline reference table (VALUES) with literal, validated reference data."""
    v = values(*[column(n, t) for n, t in cols], name=name, literal_binds=True)
    return v.data(rows or [tuple(None for _ in cols)])


@dataclass
class RunContext:
    """What the rule builders read: the year's bounds, the rule set and the run's temporary tables."""
    year: int
    rules: RuleSet
    conn: object
    scratch: Scratch
    fills: object = None
    fill_day: object = None
    class_day: object = None
    person_day: object = None

    @property
    def start(self):
        return literal(dt.date(self.year, 1, 1))

    @property
    def end(self):
        return literal(dt.date(self.year, 12, 31))

    def temp(self, key: str, query):
        return self.scratch.table(("dur", key), lambda: query)

    def in_year(self, col):
        return col.between(self.start, self.end)


def _reference_tables(rules: RuleSet, products_file, claim_ndcs: set[str]):
    # only the products the window's claims dispense: the shipped reference holds ~45,000 NDCs
    products = {k: p for k, p in ref.load_products(products_file).items() if p.ndc in claim_ndcs}
    classes = ref.load_classes()
    opioids = {i for i, c in classes if c == "opioid"}
    cns = {i for i, c in classes if c in rules.cns_classes}
    prod_rows = [(n, ing, s, f, st if ing in opioids else "not_opioid", first)
                 for n, ing, s, f, st, first in ref.product_rows(products)]
    class_rows = sorted(set(classes) | {(i, "cns") for i in cns})
    return (inline_values("dur_ndc_ref", [("ndc", String), ("ingredient", String), ("strength", Float),
                                          ("factor", Float), ("mme_status", String), ("first_of_ndc", Integer)],
                          prod_rows),
            inline_values("dur_class_ref", [("ingredient", String), ("drug_class", String)], class_rows),
            opioids)


def build_base(rc: RunContext, products_file=None) -> None:
    """Steps 1-4 of the module docstring, as temporary tables on the run's connection."""
    window_start = literal(dt.date(rc.year, 1, 1) - dt.timedelta(days=rc.rules.lookback_days))
    in_window = RX.c.dispensing_date.between(window_start, rc.end)
    claim_ndcs = set(rc.conn.execute(select(RX.c.ndc_code).where(in_window).distinct()).scalars())
    ndc_ref, class_ref, opioids = _reference_tables(rc.rules, products_file, claim_ndcs)
    rn = func.row_number().over(partition_by=(RX.c.claim_id, RX.c.data_source), order_by=RX.c.claim_line_number)
    src = (select(RX.c.claim_id, RX.c.data_source, RX.c.person_id, RX.c.dispensing_date.label("fill_date"),
                  RX.c.ndc_code.label("ndc"), RX.c.days_supply, cast(RX.c.quantity, Float).label("quantity"),
                  RX.c.prescribing_provider_npi.label("prescriber_npi"),
                  RX.c.dispensing_provider_npi.label("pharmacy_npi"), rn.label("line_rank"))
           .where(in_window).cte("dur_src"))
    is_opioid = ndc_ref.c.ingredient.in_(sorted(opioids)) if opioids else literal(False)
    has_days = func.coalesce(src.c.days_supply, 0) > 0
    has_qty = func.coalesce(src.c.quantity, 0) > 0
    quality = case((src.c.line_rank > 1, "duplicate_claim_id"), (ndc_ref.c.ndc.is_(None), "ndc_not_in_reference"),
                   (~has_days, "no_days_supply"), (~has_qty, "no_quantity"),
                   (ndc_ref.c.mme_status.notin_(["ok", "not_opioid"]), ndc_ref.c.mme_status), else_=null())
    usable = and_(src.c.line_rank == 1, ndc_ref.c.ndc.is_not(None), has_days)
    daily_mme = case((and_(usable, has_qty, ndc_ref.c.mme_status == "ok"),
                      ndc_ref.c.strength * src.c.quantity / cast(src.c.days_supply, Float) * ndc_ref.c.factor),
                     else_=null())
    rc.fills = rc.temp("fills", select(
        src.c.claim_id, src.c.data_source, src.c.person_id, src.c.fill_date, src.c.ndc, src.c.days_supply,
        src.c.quantity, src.c.prescriber_npi, src.c.pharmacy_npi, ndc_ref.c.ingredient,
        quality.label("quality_flag"), flag(usable).label("usable"), flag(is_opioid).label("is_opioid"),
        cast(daily_mme, Float).label("daily_mme"),
        func.coalesce(ndc_ref.c.first_of_ndc, 1).label("first_of_ndc"))
        .select_from(src.outerjoin(ndc_ref, ndc_ref.c.ndc == src.c.ndc)))
    span = (dt.date(rc.year, 12, 31) - (dt.date(rc.year, 1, 1) - dt.timedelta(days=rc.rules.lookback_days))).days
    offsets = inline_values("dur_offsets", [("n", Integer)], [(i,) for i in range(span + 1)])
    f = rc.fills
    day = add_days(f.c.fill_date, offsets.c.n)
    # only drugs some rule looks at are expanded to days (classes and interaction pairs): most fills are not
    needed = {i for i, _ in ref.load_classes()} | {i for _, a, b in ref.load_ddi_ingredient_pairs() for i in (a, b)}
    rc.fill_day = rc.temp("fill_day", select(
        f.c.person_id, day.label("day"), f.c.claim_id, f.c.data_source, f.c.ingredient, f.c.is_opioid, f.c.daily_mme)
        .select_from(f.join(offsets, offsets.c.n < f.c.days_supply))
        .where(f.c.usable == 1, day <= rc.end, in_list(f.c.ingredient, needed)))
    fd = rc.fill_day
    rc.class_day = rc.temp("class_day", select(
        fd.c.person_id, fd.c.day, class_ref.c.drug_class, fd.c.ingredient, fd.c.claim_id, fd.c.data_source)
        .select_from(fd.join(class_ref, class_ref.c.ingredient == fd.c.ingredient)))
    rc.person_day = rc.temp("person_day", select(
        fd.c.person_id, fd.c.day, func.coalesce(func.sum(fd.c.daily_mme), 0.0).label("mme"),
        func.max(fd.c.is_opioid).label("opioid")).group_by(fd.c.person_id, fd.c.day))


def mme_person_select(rc: RunContext):
    """Step 5: the three labelled daily-MME definitions per person with an opioid fill in the year."""
    f, pd = rc.fills, rc.person_day
    days_in_year = (dt.date(rc.year, 12, 31) - dt.date(rc.year, 1, 1)).days + 1
    fy = (select(f.c.person_id, func.count().label("opioid_fills"),
                 func.sum(flag(f.c.daily_mme.is_(None))).label("not_computable"),
                 func.sum(f.c.daily_mme * f.c.days_supply).label("total_mme"),
                 func.sum(case((f.c.daily_mme.is_not(None), f.c.days_supply), else_=0)).label("total_days"))
          .where(f.c.is_opioid == 1, rc.in_year(f.c.fill_date))
          .group_by(f.c.person_id)).cte("dur_mme_fills")
    dy = (select(pd.c.person_id, func.sum(flag(pd.c.mme > 0)).label("covered"), func.sum(pd.c.mme).label("sum_mme"),
                 func.max(pd.c.mme).label("max_mme"))
          .where(rc.in_year(pd.c.day), pd.c.opioid == 1).group_by(pd.c.person_id)).cte("dur_mme_days")
    covered = func.coalesce(dy.c.covered, 0)
    return select(
        literal(rc.year).label("year"), fy.c.person_id, literal(ref.FACTOR_SET_VERSION).label("factor_set"),
        case((fy.c.total_days > 0, fy.c.total_mme / cast(fy.c.total_days, Float)), else_=null()).label("mme_episode"),
        case((covered > 0, dy.c.sum_mme / cast(covered, Float)), else_=null()).label("mme_daily_sum"),
        (func.coalesce(dy.c.sum_mme, 0.0) / float(days_in_year)).label("mme_calendar"),
        dy.c.max_mme.label("max_daily_mme"), covered.label("covered_days"), fy.c.opioid_fills,
        fy.c.not_computable.label("fills_not_computable"),
    ).select_from(fy.outerjoin(dy, dy.c.person_id == fy.c.person_id))


def coverage_report(conn, rc: RunContext) -> dict:
    """Counts of fills in the year by quality flag, and the share of opioid fills whose MME could be computed."""
    f = rc.fills
    rows = conn.execute(select(func.coalesce(f.c.quality_flag, "ok"), f.c.is_opioid, func.count())
                        .where(rc.in_year(f.c.fill_date), f.c.first_of_ndc == 1)
                        .group_by(f.c.quality_flag, f.c.is_opioid)).all()
    by_flag: dict[str, int] = {}
    opioid_total = opioid_ok = 0
    for flag_, is_op, n in rows:
        by_flag[flag_] = by_flag.get(flag_, 0) + n
        if is_op:
            opioid_total += n
            opioid_ok += n if flag_ == "ok" else 0
    unknown_ndcs = conn.execute(select(func.count(func.distinct(f.c.ndc))).where(
        rc.in_year(f.c.fill_date), f.c.quality_flag == "ndc_not_in_reference")).scalar_one()
    total = sum(by_flag.values())
    return {"year": rc.year, "fills": total, "fills_by_quality_flag": dict(sorted(by_flag.items())),
            "distinct_ndcs_not_in_reference": unknown_ndcs, "opioid_fills": opioid_total,
            "opioid_fills_mme_computable": opioid_ok,
            "opioid_mme_coverage": round(opioid_ok / opioid_total, 4) if opioid_total else None,
            "note": "opioid fills are those whose NDC maps to an opioid ingredient; fills of NDCs not in the "
                    "reference cannot be classified and are counted under ndc_not_in_reference"}


def run_dur(engine: Engine, year: int, rules: RuleSet | str | None = None, products_file=None) -> dict:
    """Compute the year's DUR alerts, traces and MME table; return the coverage report and alert counts."""
    from pharmacy.rules import BUILDERS, write_rule

    rs = rules if isinstance(rules, RuleSet) else load_rules(rules)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    with engine.connect() as conn:
        scratch = Scratch(conn, year)
        try:
            with conn.begin():
                rc = RunContext(year, rs, conn, scratch)
                build_base(rc, products_file)
                for t in (dur_alert, dur_alert_trace, dur_mme_person):
                    conn.execute(delete(t).where(t.c.year == year))
                q = mme_person_select(rc)
                conn.execute(insert(dur_mme_person).from_select([c.name for c in q.selected_columns], q))
                counts = {}
                for rule in rs.enabled():
                    log.info("DUR rule %s for %s", rule.id, year)
                    counts[rule.id] = write_rule(conn, rc, rule, BUILDERS[rule.kind], now)
                report = coverage_report(conn, rc)
                conn.execute(delete(dur_run).where(dur_run.c.year == year))
                conn.execute(insert(dur_run).values(year=year, rule_set_version=rs.version,
                                                    factor_set=ref.FACTOR_SET_VERSION, fills=report["fills"],
                                                    opioid_mme_coverage=report["opioid_mme_coverage"], computed_at=now))
        finally:
            if conn.in_transaction():
                conn.rollback()
            scratch.drop()
            conn.commit()
    return {"year": year, "rule_set_version": rs.version, "factor_set": ref.FACTOR_SET_VERSION,
            "alerts": counts, "coverage": report,
            "mme_definition_note": "high_dose rules use the definition named on each rule (daily_sum = any day "
                                   "whose summed MME of overlapping fills reaches the threshold); dur_mme_person "
                                   "holds the episode, daily-sum and calendar averages side by side"}
