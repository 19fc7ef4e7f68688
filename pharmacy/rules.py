"""SQL builders of the DUR rule kinds (pharmacy.config) and the writer of alerts and traces.

A builder returns a RuleQuery: `qual`, the qualifying rows of the year (person_id, day, value and whatever the trace
needs), and `trace(q)`, the (person_id, claim_id, data_source) of the fills that made those rows qualify. The writer
materialises `qual` once, groups it per person into `dur_alert` (>= min_days distinct qualifying days), and writes
the trace of alerted persons. Clauses cite the rule's source in pharmacy/rules/dur_rules.yaml.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Float, String, and_, cast, exists, func, insert, literal, or_, select, union, union_all

from measures.blocks import MM, P, in_list
from measures.sqlfuncs import add_days, age_at, days_between, month_start
from pharmacy import config as C
from pharmacy.engine import inline_values
from pharmacy import reference as ref
from pharmacy.tables import dur_alert, dur_alert_trace


@dataclass
class RuleQuery:
    qual: object
    trace: Callable
    min_days: int = 1
    value_agg: str = "max"  # max | min | days (value = number of qualifying days)
    drug_classes: tuple[str, ...] = ()  # classes whose unusable fills are listed as not_counted


def members(rc, drug_classes) -> list[str]:
    wanted = set(drug_classes) | (set(rc.rules.cns_classes) if "cns" in drug_classes else set())
    return sorted({i for i, c in ref.load_classes() if c in wanted})


def _class_days(rc, drug_classes):
    cd = rc.class_day
    return cd, and_(cd.c.drug_class.in_(list(drug_classes)), rc.in_year(cd.c.day))


def _trace_class_days(rc, drug_classes, extra=lambda cd, q: True):
    def trace(q):
        cd = rc.class_day
        return (select(cd.c.person_id, cd.c.claim_id, cd.c.data_source)
                .select_from(cd.join(q, and_(q.c.person_id == cd.c.person_id, q.c.day == cd.c.day)))
                .where(cd.c.drug_class.in_(list(drug_classes)), extra(cd, q)))
    return trace


def high_dose(rc, r: C.HighDose) -> RuleQuery:
    pd = rc.person_day
    if r.mme_definition == "daily_sum":
        # any day whose MME summed over the overlapping fills reaches the threshold (>=, not >)
        qual = select(pd.c.person_id, pd.c.day, pd.c.mme.label("value")).where(rc.in_year(pd.c.day),
                                                                             pd.c.mme >= r.threshold_mme)
    else:
        from pharmacy.tables import dur_mme_person as m
        metric = m.c.mme_episode if r.mme_definition == "episode" else m.c.mme_calendar
        qual = (select(pd.c.person_id, pd.c.day, cast(metric, Float).label("value"))
                .select_from(pd.join(m, and_(m.c.person_id == pd.c.person_id, m.c.year == rc.year)))
                .where(rc.in_year(pd.c.day), pd.c.mme > 0, metric >= r.threshold_mme))
    return RuleQuery(qual, _trace_class_days(rc, ("opioid",)), r.min_days, "max", ("opioid",))


def concurrent(rc, r: C.Concurrent) -> RuleQuery:
    cd, where = _class_days(rc, (r.class_a, r.class_b))
    qual = (select(cd.c.person_id, cd.c.day, literal(1).label("value")).where(where)
            .group_by(cd.c.person_id, cd.c.day).having(func.count(func.distinct(cd.c.drug_class)) == 2))
    return RuleQuery(qual, _trace_class_days(rc, (r.class_a, r.class_b)), r.min_overlap_days, "days",
                     (r.class_a, r.class_b))


def multiple_providers(rc, r: C.MultipleProviders) -> RuleQuery:
    f, pd = rc.fills, rc.person_day
    a, g = f.alias("dur_mp_anchor"), f.alias("dur_mp_window")
    lo = add_days(a.c.fill_date, -(r.window_days - 1))
    # opioid fills from >= N prescribers and >= M pharmacies in the window_days ending at an opioid fill of the year
    counts = (select(a.c.person_id, a.c.claim_id, a.c.fill_date,
                     func.count(func.distinct(g.c.prescriber_npi)).label("prescribers"))
              .select_from(a.join(g, and_(g.c.person_id == a.c.person_id, g.c.fill_date.between(lo, a.c.fill_date))))
              .where(a.c.is_opioid == 1, a.c.usable == 1, g.c.is_opioid == 1, g.c.usable == 1,
                     rc.in_year(a.c.fill_date))
              .group_by(a.c.person_id, a.c.claim_id, a.c.fill_date)
              .having(and_(func.count(func.distinct(g.c.prescriber_npi)) >= r.min_prescribers,
                           func.count(func.distinct(g.c.pharmacy_npi)) >= r.min_pharmacies))).cte("dur_mp_counts")
    # ... and a day in that window with summed daily MME >= min_daily_mme
    qual = (select(counts.c.person_id, counts.c.fill_date.label("day"), func.max(counts.c.prescribers).label("value"))
            .select_from(counts.join(pd, and_(pd.c.person_id == counts.c.person_id,
                                              pd.c.day.between(add_days(counts.c.fill_date, -(r.window_days - 1)),
                                                               counts.c.fill_date))))
            .group_by(counts.c.person_id, counts.c.fill_date).having(func.max(pd.c.mme) >= r.min_daily_mme))

    def trace(q):
        w = f.alias("dur_mp_trace")
        return (select(w.c.person_id, w.c.claim_id, w.c.data_source)
                .select_from(w.join(q, and_(w.c.person_id == q.c.person_id,
                                            w.c.fill_date.between(add_days(q.c.day, -(r.window_days - 1)), q.c.day))))
                .where(w.c.is_opioid == 1, w.c.usable == 1))
    return RuleQuery(qual, trace, 1, "max", ("opioid",))


def long_term_opioid(rc, r: C.LongTermOpioid) -> RuleQuery:
    f, pd = rc.fills, rc.person_day
    parts = []
    for w in r.windows:
        # opioid-covered days (each day once, however many fills cover it) in the window starting at an opioid fill
        hi = add_days(f.c.fill_date, w.window_days - 1)
        parts.append(select(f.c.person_id, f.c.fill_date.label("day"), func.count(func.distinct(pd.c.day)).label("value"),
                            literal(w.window_days).label("span"))
                     .select_from(f.join(pd, and_(pd.c.person_id == f.c.person_id, pd.c.day.between(f.c.fill_date, hi),
                                                  pd.c.opioid == 1)))
                     .where(f.c.is_opioid == 1, f.c.usable == 1, rc.in_year(f.c.fill_date))
                     .group_by(f.c.person_id, f.c.fill_date)
                     .having(func.count(func.distinct(pd.c.day)) >= w.min_days))
    qual = union_all(*parts)

    def trace(q):
        cd = rc.class_day
        return (select(cd.c.person_id, cd.c.claim_id, cd.c.data_source)
                .select_from(cd.join(q, and_(q.c.person_id == cd.c.person_id,
                                             cd.c.day.between(q.c.day, add_days(q.c.day, q.c.span - 1)))))
                .where(cd.c.drug_class == "opioid"))
    return RuleQuery(qual, trace, 1, "max", ("opioid",))


def child_antipsychotic(rc, r: C.ChildAntipsychotic) -> RuleQuery:
    cd, where = _class_days(rc, ("antipsychotic",))
    conds = [where, age_at(P.c.birth_date, cd.c.day) < r.max_age_exclusive]
    if r.eligibility_groups:  # e.g. foster care: the eligibility group of the member-month of that day
        conds.append(exists().where(MM.c.person_id == cd.c.person_id, MM.c.month_start == month_start(cd.c.day),
                                    MM.c.eligibility_group.in_(list(r.eligibility_groups))))
    qual = (select(cd.c.person_id, cd.c.day, func.count(func.distinct(cd.c.ingredient)).label("value"))
            .select_from(cd.join(P, P.c.person_id == cd.c.person_id)).where(*conds)
            .group_by(cd.c.person_id, cd.c.day).having(func.count(func.distinct(cd.c.ingredient)) >= r.min_ingredients))
    return RuleQuery(qual, _trace_class_days(rc, ("antipsychotic",)), r.min_days, "days", ("antipsychotic",))


def older_polypharmacy(rc, r: C.OlderPolypharmacy) -> RuleQuery:
    f = rc.fills
    ings = members(rc, r.drug_classes)
    # PQA: each counted ingredient has >= 2 fills on different dates in the year
    qualified = (select(f.c.person_id, f.c.ingredient).where(f.c.usable == 1, rc.in_year(f.c.fill_date),
                                                             in_list(f.c.ingredient, ings))
                 .group_by(f.c.person_id, f.c.ingredient)
                 .having(func.count(func.distinct(f.c.fill_date)) >= r.min_fill_dates_per_ingredient)
                 ).cte(f"dur_{r.id}_ingredients")
    fd = rc.fill_day
    on = and_(qualified.c.person_id == fd.c.person_id, qualified.c.ingredient == fd.c.ingredient)
    qual = (select(fd.c.person_id, fd.c.day, func.count(func.distinct(fd.c.ingredient)).label("value"))
            .select_from(fd.join(qualified, on).join(P, P.c.person_id == fd.c.person_id))
            .where(rc.in_year(fd.c.day), age_at(P.c.birth_date, fd.c.day) >= r.min_age)
            .group_by(fd.c.person_id, fd.c.day).having(func.count(func.distinct(fd.c.ingredient)) >= r.min_ingredients))

    def trace(q):
        return (select(fd.c.person_id, fd.c.claim_id, fd.c.data_source)
                .select_from(fd.join(qualified, on).join(q, and_(q.c.person_id == fd.c.person_id, q.c.day == fd.c.day))))
    return RuleQuery(qual, trace, r.min_days, "days", r.drug_classes)


def early_refill(rc, r: C.EarlyRefill) -> RuleQuery:
    f = rc.fills

    def previous(col, name):  # the same person's previous fill of the same ingredient
        return func.lag(col).over(partition_by=(f.c.person_id, f.c.ingredient),
                                  order_by=(f.c.fill_date, f.c.claim_id)).label(name)
    w = (select(f.c.person_id, f.c.claim_id, f.c.data_source, f.c.fill_date, previous(f.c.fill_date, "prev_date"),
                previous(f.c.days_supply, "prev_ds"), previous(f.c.claim_id, "prev_claim_id"),
                previous(f.c.data_source, "prev_data_source"))
         .where(f.c.usable == 1, in_list(f.c.ingredient, members(rc, r.drug_classes)))).cte(f"dur_{r.id}_lag")
    elapsed = cast(days_between(w.c.prev_date, w.c.fill_date), Float) / cast(w.c.prev_ds, Float)
    # early: refilled before min_elapsed_share of the previous fill's days supply of the same ingredient elapsed
    qual = (select(w.c.person_id, w.c.fill_date.label("day"), elapsed.label("value"), w.c.claim_id, w.c.data_source,
                   w.c.prev_claim_id, w.c.prev_data_source)
            .where(rc.in_year(w.c.fill_date), w.c.prev_date.is_not(None), elapsed < r.min_elapsed_share))

    def trace(q):
        return union(select(q.c.person_id, q.c.claim_id, q.c.data_source),
                     select(q.c.person_id, q.c.prev_claim_id, q.c.prev_data_source))
    return RuleQuery(qual, trace, 1, "min", r.drug_classes)


def therapeutic_duplication(rc, r: C.TherapeuticDuplication) -> RuleQuery:
    cd, where = _class_days(rc, r.drug_classes)
    dup = (select(cd.c.person_id, cd.c.day, cd.c.drug_class).where(where)
           .group_by(cd.c.person_id, cd.c.day, cd.c.drug_class)
           .having(func.count(func.distinct(cd.c.ingredient)) >= 2)).cte(f"dur_{r.id}_days")
    # >= min_days of duplication within one class
    long_enough = (select(dup.c.person_id, dup.c.drug_class).group_by(dup.c.person_id, dup.c.drug_class)
                   .having(func.count() >= r.min_days)).cte(f"dur_{r.id}_classes")
    qual = (select(dup.c.person_id, dup.c.day, dup.c.drug_class, literal(1).label("value"))
            .select_from(dup.join(long_enough, and_(long_enough.c.person_id == dup.c.person_id,
                                                    long_enough.c.drug_class == dup.c.drug_class))))
    return RuleQuery(qual, _trace_class_days(rc, r.drug_classes, lambda c, q: c.c.drug_class == q.c.drug_class),
                     1, "days", r.drug_classes)


def interaction(rc, r: C.Interaction) -> RuleQuery:
    pairs = inline_values("dur_ddi_pairs", [("pair_id", String), ("ing_a", String), ("ing_b", String)],
                    ref.load_ddi_ingredient_pairs())
    fd = rc.fill_day
    a, b = fd.alias("dur_ddi_a"), fd.alias("dur_ddi_b")
    qual = (select(a.c.person_id, a.c.day, pairs.c.ing_a, pairs.c.ing_b, literal(1).label("value"))
            .select_from(a.join(pairs, pairs.c.ing_a == a.c.ingredient)
                         .join(b, and_(b.c.person_id == a.c.person_id, b.c.day == a.c.day,
                                       b.c.ingredient == pairs.c.ing_b)))
            .where(rc.in_year(a.c.day)).distinct())

    def trace(q):
        return (select(fd.c.person_id, fd.c.claim_id, fd.c.data_source)
                .select_from(fd.join(q, and_(q.c.person_id == fd.c.person_id, q.c.day == fd.c.day,
                                             or_(fd.c.ingredient == q.c.ing_a, fd.c.ingredient == q.c.ing_b)))))
    return RuleQuery(qual, trace, r.min_overlap_days, "days", ())


BUILDERS = {"high_dose": high_dose, "concurrent": concurrent, "multiple_providers": multiple_providers,
            "long_term_opioid": long_term_opioid, "child_antipsychotic": child_antipsychotic,
            "older_polypharmacy": older_polypharmacy, "early_refill": early_refill,
            "therapeutic_duplication": therapeutic_duplication, "interaction": interaction}


def exempt_persons(rc, exempt: tuple[str, ...]):
    """Persons exempt in the year, from the measures' exclusion blocks (one definition of hospice, cancer, ...)."""
    from types import SimpleNamespace

    from measures import blocks as B
    from measures.definition import BuildContext
    from measures.valuesets import default_registry

    ctx = BuildContext(rc.year, default_registry(), SimpleNamespace(params={}, id="DUR"), rc.conn.dialect.name)
    parts = {"hospice": lambda: B.hospice_persons(ctx),
             "palliative": lambda: B.persons_with_dx(ctx, "palliative_care", 0, 0),
             "cancer": lambda: B.persons_with_dx(ctx, "cancer", 0, 0),
             "sickle_cell": lambda: B.persons_with_dx(ctx, "sickle_cell", 0, 0),
             "long_term_care": lambda: B.ltc_persons(ctx)}
    return union(*[select(parts[e]().c.person_id) for e in sorted(set(exempt))])


def exempt_person_ids(engine, year: int, exempt: tuple[str, ...]) -> set[str]:
    """The exempt persons of a year as a set (for reports and for the tests' independent reference)."""
    from types import SimpleNamespace

    with engine.connect() as conn:
        rc = SimpleNamespace(year=year, conn=conn)
        return {r[0] for r in conn.execute(exempt_persons(rc, exempt))} if exempt else set()


def write_rule(conn, rc, rule, builder, now) -> int:
    """Insert the rule's alerts and trace for the year; returns the number of alerts."""
    rq: RuleQuery = builder(rc, rule)
    q = rc.temp(f"q_{rule.id}", rq.qual)
    if rule.exempt:
        ex = rc.temp("exempt_" + "_".join(sorted(set(rule.exempt))), exempt_persons(rc, rule.exempt))
        q = select(q).where(q.c.person_id.notin_(select(ex.c.person_id))).subquery(f"dur_{rule.id}_q")
    n_days = func.count(func.distinct(q.c.day))
    value = {"max": func.max(q.c.value), "min": func.min(q.c.value), "days": n_days}[rq.value_agg]
    alerts = (select(literal(rc.year).label("year"), literal(rule.id).label("rule_id"),
                     literal(rule.version).label("rule_version"), literal(rc.rules.version).label("rule_set_version"),
                     q.c.person_id, func.min(q.c.day).label("alert_date"), n_days.label("qualifying_days"),
                     cast(value, Float).label("value"), literal(now).label("computed_at"))
              .group_by(q.c.person_id).having(n_days >= rq.min_days))
    conn.execute(insert(dur_alert).from_select([c.name for c in alerts.selected_columns], alerts))
    alerted = (select(dur_alert.c.person_id, dur_alert.c.alert_date)
               .where(dur_alert.c.year == rc.year, dur_alert.c.rule_id == rule.id)).cte(f"dur_{rule.id}_alerted")
    src = rq.trace(q).cte(f"dur_{rule.id}_trace_src")
    f = rc.fills
    contributing = (select(*_trace_cols(rc, rule, f, "contributing"))
                    .select_from(f.join(src, and_(src.c.person_id == f.c.person_id, src.c.claim_id == f.c.claim_id,
                                                  src.c.data_source == f.c.data_source)))
                    .where(f.c.person_id.in_(select(alerted.c.person_id))).distinct())
    conn.execute(insert(dur_alert_trace).from_select(TRACE_COLS, contributing))
    # fills of the rule's drugs the engine could not use (and unclassifiable NDCs near the alert), never guessed
    t = dur_alert_trace
    already = exists().where(t.c.year == rc.year, t.c.rule_id == rule.id, t.c.claim_id == f.c.claim_id,
                             t.c.data_source == f.c.data_source, t.c.person_id == f.c.person_id)
    ings = members(rc, rq.drug_classes)
    relevant = or_(and_(f.c.ingredient.is_(None), f.c.fill_date >= add_days(alerted.c.alert_date, -30)),
                   in_list(f.c.ingredient, ings) if ings else literal(False))
    not_counted = (select(*_trace_cols(rc, rule, f, "not_counted"))
                   .select_from(f.join(alerted, alerted.c.person_id == f.c.person_id))
                   .where(f.c.quality_flag.is_not(None), relevant, f.c.fill_date <= rc.end, ~already))
    conn.execute(insert(dur_alert_trace).from_select(TRACE_COLS, not_counted))
    return conn.execute(select(func.count()).select_from(dur_alert).where(
        dur_alert.c.year == rc.year, dur_alert.c.rule_id == rule.id)).scalar_one()


TRACE_COLS = [c.name for c in dur_alert_trace.columns]


def _trace_cols(rc, rule, f, role):
    return [literal(rc.year).label("year"), literal(rule.id).label("rule_id"), f.c.person_id, f.c.claim_id,
            f.c.data_source, f.c.fill_date, f.c.ndc, f.c.ingredient, f.c.prescriber_npi, f.c.pharmacy_npi,
            literal(role).label("role"), f.c.quality_flag]
