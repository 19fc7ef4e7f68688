"""Utilization counted in the database: per person-month, then per unit with expected values by indirect
standardisation. One set-based statement each, written once in SQLAlchemy Core (DuckDB and PostgreSQL).

Events (final-action claims, each dated and put in the person-month of its date; events in months without
enrollment are not counted, as in IU-HH):
  ip_admissions, ip_days   acute inpatient stays of measures/blocks.stays (TOB 11x, transfers merged), in the month
                           of admission; days = length of stay (min 1)
  bh_ip_admissions         those stays with a mental/behavioral MS-DRG or principal dx (IU-HH's value sets)
  readmissions             acute stays admitted within `readmission_days` after the discharge of an earlier stay
                           (all-cause, unplanned and planned alike: not PCR-HH's risk-adjusted definition)
  discharges_without_followup  acute discharges alive (disposition not 20) with no outpatient E&M visit on days
                           1..followup_days after discharge (under-use)
  ed_visits                ED visits of measures/blocks.ed_visits_all (one per person-date)
  ed_<class>               NYU/Johnston classification of each ED visit by the principal diagnosis of its first
                           claim (utilization/reference): sums of the probabilities non-emergent, primary-care
                           treatable, preventable, not preventable; injury; behavioral (psych, alcohol or drug);
                           unclassified (code not in the table, or blank). The table is the claim's code system's:
                           ICD-9-CM when its diagnosis_code_type says so (DE-SynPUF, claims before October 2015),
                           else ICD-10-CM
  outpatient_visits        person-dates with an office/outpatient E&M or preventive code (CPT 99202-99215,
                           99241-99245, 99381-99397, G0438/G0439)
  primary_care_visits      those billed by a provider whose provider_type is pcp
  preventive_visits        person-dates with a preventive code (99381-99397, G0438/G0439)
  bh_op_visits             person-dates with a non-inpatient service line from a mental-health provider or with a
                           chapter-F principal diagnosis (measures/blocks.services)
  lab/imaging/dme_services service lines: CPT 80047-89398 or revenue 030x-031x (lab); CPT 70010-79999 or revenue
                           032x/035x/040x/061x (imaging); HCPCS E/K/L codes or revenue 029x (DME)
  rx_fills                 pharmacy_claim_final lines
  out_of_network_claims    medical claims and fills with in_network_flag false (NULL = unknown, not counted)
  out_of_area_claims       medical claims whose billing provider's county (or state: `region`) differs from the
                           member's; unknown when either county is missing (not counted)
  paid_<category>          line paid amounts by the savings engine's service categories (savings/population/cost:
                           same claims, same run-out rule), in the month of service
Person metrics, on the person's last enrolled month of the year when enrolled >= min_months_for_person_measures
months of it: persons_without_primary_care, persons_without_preventive.

What the data cannot say: diversionary behavioral-health services (no state service codes in the warehouse),
out-of-area for members or providers without a county, and whether an in_network_flag left blank means in network.
"""
from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import (
    Double, Engine, Integer, and_, case, cast, delete, distinct, exists, func, insert, literal, or_, select,
    union_all,
)

from measures import blocks as B
from measures.definition import BuildContext, MeasureDefinition
from measures.sqlfuncs import add_days, days_between, month_start
from measures.valuesets import default_registry
from savings.population.common import is_dual
from savings.population.config import PopulationConfig
from savings.population.cost import _claim_amounts
from savings.work_tables import risk_score
from utilization.config import UtilizationConfig
from utilization.tables import (
    COUNT_METRICS, ED_CLASS_METRICS, MONEY, PAID_METRICS, PERSON_METRICS, VALUE, ref_ed_classification as EDC,
    ref_ed_classification_icd9 as EDC9,
    utilization_person_month as UPM, utilization_unit_metric as UUM,
)
from warehouse.engine import is_duckdb
from warehouse.models import IcmEntity

EVENT_METRICS = COUNT_METRICS + ED_CLASS_METRICS + PAID_METRICS
ALL_METRICS = EVENT_METRICS + PERSON_METRICS
ED_REFERENCE = Path(__file__).parent / "reference" / "ed_classification_johnston_icd10.csv"
ED_REFERENCE_ICD9 = Path(__file__).parent / "reference" / "ed_classification_johnston_icd9.csv"
ICD9_CODE_TYPES = ("icd-9-cm", "icd-9", "icd9cm", "icd9")   # diagnosis_code_type values read as ICD-9-CM
EM_OUTPATIENT = tuple(str(c) for c in [*range(99202, 99206), *range(99211, 99216), *range(99241, 99246)])
PREVENTIVE = tuple(str(c) for c in [*range(99381, 99388), *range(99391, 99398)]) + ("G0438", "G0439")
UNIT_KEYS = {"billing_npi": UPM.c.billing_npi, "practice": UPM.c.practice_id, "icm_entity": UPM.c.icm_entity_id,
             "payer": UPM.c.payer}

# The blocks of measures/blocks.py take a BuildContext; utilization is not a measure but reads the same blocks.
_UTILIZATION = MeasureDefinition(id="utilization", title="Utilization management", steward="ICM", core_sets={},
                                 measurement_period="calendar year", unit="member_month", rates=(),
                                 build=lambda ctx: None, value_sets=())


def build_context(conn, year: int) -> BuildContext:
    return BuildContext(year, default_registry(), _UTILIZATION, conn.dialect.name)


def metric_kind(metric: str) -> str:
    """count (per 1,000 member-months), paid (PMPM dollars) or person (share of eligible persons)."""
    return "paid" if metric in PAID_METRICS else "person" if metric in PERSON_METRICS else "count"


def _event(person_id, event_date, **values):
    """Select list of one event source: every count and paid column, zero where the source has none."""
    unknown = set(values) - set(EVENT_METRICS)
    assert not unknown, unknown
    return [person_id.label("person_id"), cast(event_date, B.H.c.claim_start_date.type).label("event_date"),
            *[cast(values.get(m, 0), Integer).label(m) for m in COUNT_METRICS],
            *[cast(values.get(m, 0), VALUE).label(m) for m in ED_CLASS_METRICS],
            *[cast(values.get(m, 0), MONEY).label(m) for m in PAID_METRICS]]


def _code_between(col, lo: str, hi: str):
    return and_(func.length(col) == 5, col >= lo, col <= hi)


def _rev_prefix(col, *prefixes: str):
    rev = func.lpad(func.coalesce(col, ""), 4, "0")
    return or_(*[func.substr(rev, 1, 3) == p for p in prefixes])


def _visits(ctx: BuildContext):
    """Person-dates with an outpatient E&M or preventive line: billing NPI, primary-care and preventive flags."""
    H, L, PROV = B.H, B.L, B.PROV
    day = func.coalesce(L.c.claim_line_start_date, H.c.claim_start_date)
    code = func.upper(L.c.hcpcs_code)
    lines = (select(H.c.person_id, day.label("visit_date"), H.c.billing_npi,
                    B.flag(PROV.c.provider_type == "pcp").label("pcp"), B.flag(code.in_(PREVENTIVE)).label("prev"))
             .select_from(L.join(H, and_(L.c.claim_id == H.c.claim_id, L.c.data_source == H.c.data_source))
                          .outerjoin(PROV, PROV.c.npi == H.c.billing_npi))
             .where(code.in_(EM_OUTPATIENT + PREVENTIVE))).cte("util_visit_lines")
    return lines


def _events(ctx: BuildContext, cfg: UtilizationConfig):
    """Every utilization event of the year as one UNION ALL (person_id, event_date, metric columns)."""
    year_first, year_last = ctx.my_start, ctx.my_end
    stays = B.stays(ctx, 1)
    mh = B.flag(or_(B.isin(stays.c.last_drg, ctx.codes("mh_drg")),
                    B.isin(stays.c.last_pdx, ctx.codes("mental_health_any"))))
    admissions = select(*_event(stays.c.person_id, stays.c.admit_date, ip_admissions=1, ip_days=stays.c.los,
                                bh_ip_admissions=mh))
    prev = (select(stays.c.person_id, stays.c.admit_date,
                   func.lag(stays.c.discharge_date).over(partition_by=stays.c.person_id,
                                                         order_by=(stays.c.admit_date, stays.c.stay_id))
                   .label("prev_discharge")).cte("util_prev_stay"))
    readmissions = (select(*_event(prev.c.person_id, prev.c.admit_date, readmissions=1))
                    .where(days_between(prev.c.prev_discharge, prev.c.admit_date) <= cfg.readmission_days))
    visits = _visits(ctx)
    followed = exists().where(visits.c.person_id == stays.c.person_id,
                              visits.c.visit_date.between(add_days(stays.c.discharge_date, 1),
                                                          add_days(stays.c.discharge_date, cfg.followup_days)))
    no_followup = (select(*_event(stays.c.person_id, stays.c.discharge_date, discharges_without_followup=1))
                   .where(func.coalesce(stays.c.last_disposition, "") != "20", ~followed))
    per_day = (select(visits.c.person_id, visits.c.visit_date, func.max(visits.c.pcp).label("pcp"),
                      func.max(visits.c.prev).label("prev"))
               .group_by(visits.c.person_id, visits.c.visit_date).cte("util_visit_days"))
    visit_ev = select(*_event(per_day.c.person_id, per_day.c.visit_date, outpatient_visits=1,
                              primary_care_visits=per_day.c.pcp, preventive_visits=per_day.c.prev))
    ed = B.ed_visits_all(ctx)
    ed_claim = B.ed_claims(ctx)
    head = B.H.alias("ed_head")
    icd9 = func.lower(func.coalesce(head.c.diagnosis_code_type, "")).in_(ICD9_CODE_TYPES)
    e10, e9 = EDC.alias("edc"), EDC9.alias("edc9")
    zero = literal(0)

    def share(col: str):   # the probability from the table of the claim's code system; 0 when unclassified
        return func.coalesce(e9.c[col], e10.c[col], zero)
    ed_ev = select(*_event(
        ed.c.person_id, ed.c.visit_date, ed_visits=1, ed_nonemergent=share("noner"),
        ed_primary_care_treatable=share("epct"), ed_preventable=share("edcnpa"), ed_not_preventable=share("edcnnpa"),
        ed_injury=share("injury"), ed_behavioral=func.greatest(share("psych"), share("alcohol"), share("drug")),
        ed_unclassified=B.flag(and_(e10.c.icd10.is_(None), e9.c.icd9.is_(None))))
    ).select_from(
        ed.join(ed_claim, ed_claim.c.claim_id == ed.c.claim_id)
        .join(head, and_(head.c.claim_id == ed_claim.c.claim_id, head.c.data_source == ed_claim.c.data_source))
        .outerjoin(e10, and_(~icd9, e10.c.icd10 == ed_claim.c.pdx))
        .outerjoin(e9, and_(icd9, e9.c.icd9 == ed_claim.c.pdx)))
    sv = B.services(ctx)
    code = func.coalesce(sv.c.hcpcs, "")
    lab = or_(_code_between(code, "80047", "89398"), _rev_prefix(sv.c.rev, "030", "031"))
    imaging = or_(_code_between(code, "70010", "79999"), _rev_prefix(sv.c.rev, "032", "035", "040", "061"))
    dme = or_(func.substr(code, 1, 1).in_(("E", "K", "L")), _rev_prefix(sv.c.rev, "029"))
    ancillary = (select(*_event(sv.c.person_id, sv.c.service_date, lab_services=B.flag(lab),
                                imaging_services=B.flag(imaging), dme_services=B.flag(dme)))
                 .where(or_(lab, imaging, dme)))
    bh_days = (select(sv.c.person_id, sv.c.service_date)
               .where(or_(sv.c.mh_provider == 1, func.coalesce(sv.c.pdx, "").like("F%")),
                      func.coalesce(sv.c.tob2, "").notin_(("11", "12")))
               .distinct().cte("util_bh_days"))
    bh_ev = select(*_event(bh_days.c.person_id, bh_days.c.service_date, bh_op_visits=1))
    RX, H, PROV, P = B.RX, B.H, B.PROV, B.P
    rx_ev = select(*_event(RX.c.person_id, RX.c.dispensing_date, rx_fills=1,
                           out_of_network_claims=B.flag(RX.c.in_network_flag.is_(False))))

    def region(col):
        return col if cfg.region == "county" else func.substr(col, 1, 2)
    away = and_(PROV.c.county_fips.is_not(None), P.c.county_fips.is_not(None),
                region(PROV.c.county_fips) != region(P.c.county_fips))
    claim_ev = (select(*_event(H.c.person_id, H.c.claim_start_date,
                               out_of_network_claims=B.flag(H.c.in_network_flag.is_(False)),
                               out_of_area_claims=B.flag(away)))
                .select_from(H.outerjoin(PROV, PROV.c.npi == H.c.billing_npi).outerjoin(P, P.c.person_id == H.c.person_id))
                .where(or_(H.c.in_network_flag.is_(False), away)))
    amounts = _claim_amounts(PopulationConfig(), ctx.year)
    paid_ev = select(*_event(amounts.c.person_id, amounts.c.month_start,
                             **{f"paid_{c}": case((amounts.c.category == c, amounts.c.amount), else_=0)
                                for c in (m.removeprefix("paid_") for m in PAID_METRICS)}))
    ev = union_all(admissions, readmissions, no_followup, visit_ev, ed_ev, ancillary, bh_ev, rx_ev, claim_ev,
                   paid_ev).subquery("util_events")
    m = month_start(ev.c.event_date)
    return (select(ev.c.person_id, m.label("month_start"),
                   *[func.sum(ev.c[c]).label(c) for c in EVENT_METRICS])
            .where(ev.c.event_date.between(year_first, year_last))
            .group_by(ev.c.person_id, m).cte("util_month_events")), visits


def band(value, cuts, labels):
    whens = [(value < cut, literal(label)) for cut, label in zip(cuts[1:], labels)]
    return case(*whens, else_=literal(labels[-1])) if whens else literal(labels[-1])


def band_labels(cuts, fmt) -> list[str]:
    return [f"{fmt(a)}-{fmt(b)}" for a, b in zip(cuts, cuts[1:])] + [f"{fmt(cuts[-1])}+"]


def stratum_expression(cfg: UtilizationConfig, mm, risk):
    """The stratum of a person-month: age band | sex | eligibility group | dual | risk band (as configured)."""
    s = cfg.standardisation
    parts = [band(mm.c.age_at_month_start, s.age_bands, band_labels(s.age_bands, str))]
    if s.by_sex:
        parts.append(func.coalesce(mm.c.sex, "U"))
    if s.by_eligibility_group:
        parts.append(func.coalesce(mm.c.eligibility_group, "unknown"))
    if s.by_dual_status:
        parts.append(case((is_dual(mm.c.dual_status_code), literal("dual")), else_=literal("non-dual")))
    if s.risk_model:
        cuts = [0.0, *s.risk_bands]
        parts.append(case((risk.c.normalized_score.is_(None), literal("unscored")),
                          else_=band(risk.c.normalized_score, cuts, band_labels(cuts, lambda x: f"{x:g}"))))
    out = parts[0]
    for p in parts[1:]:
        out = out + literal("|") + p
    return out


def ensure_risk_scores(engine: Engine, cfg: UtilizationConfig, year: int) -> str:
    """The risk scores of the year come from the savings engine (savings/population/risk.py); when the year has
    no scores at all and the configuration allows, score it there with the CMS-HCC blend. Returns what was done."""
    s = cfg.standardisation
    if not s.risk_model:
        return "no risk band"
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(risk_score)
                            .where(risk_score.c.year == year, risk_score.c.model_version == s.risk_model)).scalar_one()
        any_model = conn.execute(select(func.count()).select_from(risk_score)
                                 .where(risk_score.c.year == year)).scalar_one()
    # score_year replaces every score of the year: never run it over another model's scores (e.g. a custom one)
    if have or any_model or not s.score_missing_risk:
        return f"{have} existing {s.risk_model} scores"
    from savings.population.risk import score_year

    score_year(engine, {"cost": {"risk_adjustment": {"model": "CMS-HCC"}}}, year)
    return f"scored {year} with the savings engine's CMS-HCC blend"


def load_ed_reference(engine: Engine) -> int:
    """Load the shipped NYU/Johnston tables (ICD-10-CM and ICD-9-CM) into ref_ed_classification and
    ref_ed_classification_icd9 once (utilization/reference/PROVENANCE.md); returns the rows of both."""
    total = 0
    with engine.begin() as conn:
        for table, path in ((EDC, ED_REFERENCE), (EDC9, ED_REFERENCE_ICD9)):
            have = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if not have:
                _load_csv(conn, table, path)
            total += conn.execute(select(func.count()).select_from(table)).scalar_one()
    return total


def _load_csv(conn, table, path: Path) -> None:
    code_col = table.columns[0].name
    if is_duckdb(conn.engine):   # DuckDB's executemany takes 12 s for 47,132 rows; its CSV reader, 0.1 s
        cols = ", ".join(c.name for c in table.columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM read_csv('{path}', header=true, "
                             f"types={{'{code_col}': 'VARCHAR'}})")
        return
    with open(path, newline="") as fh:
        rows = [{k: (v if k == code_col else float(v)) for k, v in r.items()} for r in csv.DictReader(fh)]
    for i in range(0, len(rows), 10000):
        conn.execute(insert(table), rows[i:i + 10000])


def build_person_months(engine: Engine, year: int, config=None) -> dict:
    """Rebuild utilization_person_month for `year` (one statement)."""
    cfg = UtilizationConfig.load(config)
    risk_note = ensure_risk_scores(engine, cfg, year)
    load_ed_reference(engine)
    with engine.begin() as conn:
        ctx = build_context(conn, year)
        conn.execute(delete(UPM).where(UPM.c.year == year))
        mm0 = B.member_months_dedup_with(ctx, ("eligibility_group", "dual_status_code"))
        mm = select(mm0).where(mm0.c.month_start.between(ctx.my_start, ctx.my_end)).cte("util_mm")
        ev, visits = _events(ctx, cfg)
        pc = (select(visits.c.person_id, visits.c.billing_npi, func.count(distinct(visits.c.visit_date)).label("n"),
                     func.max(visits.c.visit_date).label("last_visit"))
              .where(visits.c.pcp == 1, visits.c.billing_npi.is_not(None),
                     visits.c.visit_date.between(ctx.my_start, ctx.my_end))
              .group_by(visits.c.person_id, visits.c.billing_npi).cte("util_pc_npi"))
        ranked = select(pc, func.row_number().over(partition_by=pc.c.person_id,
                                                   order_by=(pc.c.n.desc(), pc.c.last_visit.desc(),
                                                             pc.c.billing_npi)).label("rn")).cte("util_pc_rank")
        assigned = select(ranked.c.person_id, ranked.c.billing_npi).where(ranked.c.rn == 1).cte("util_assigned")
        risk = (select(risk_score.c.person_id, risk_score.c.normalized_score)
                .where(risk_score.c.year == year,
                       risk_score.c.model_version == (cfg.standardisation.risk_model or "")).cte("util_risk"))
        PROV = B.PROV
        counts = {m: func.coalesce(ev.c[m], 0) for m in EVENT_METRICS}
        months = func.count().over(partition_by=mm.c.person_id)
        last = func.row_number().over(partition_by=mm.c.person_id, order_by=mm.c.month_start.desc()) == 1
        anchor = and_(last, months >= cfg.min_months_for_person_measures)
        year_pc = func.sum(counts["primary_care_visits"]).over(partition_by=mm.c.person_id)
        year_prev = func.sum(counts["preventive_visits"]).over(partition_by=mm.c.person_id)
        rows = select(
            literal(year, Integer).label("year"), mm.c.person_id, mm.c.month_start, mm.c.payer, mm.c.icm_entity_id,
            func.coalesce(mm.c.health_home_program_id, mm.c.icm_program_id).label("program_id"),
            assigned.c.billing_npi, func.coalesce(PROV.c.tin, assigned.c.billing_npi).label("practice_id"),
            stratum_expression(cfg, mm, risk).label("stratum"), B.flag(anchor).label("person_anchor"),
            *[counts[m].label(m) for m in EVENT_METRICS],
            B.flag(and_(anchor, year_pc == 0)).label("persons_without_primary_care"),
            B.flag(and_(anchor, year_prev == 0)).label("persons_without_preventive"),
        ).select_from(
            mm.outerjoin(ev, and_(ev.c.person_id == mm.c.person_id, ev.c.month_start == mm.c.month_start))
            .outerjoin(assigned, assigned.c.person_id == mm.c.person_id)
            .outerjoin(PROV, PROV.c.npi == assigned.c.billing_npi)
            .outerjoin(risk, risk.c.person_id == mm.c.person_id))
        cols = [c.name for c in rows.selected_columns]   # insert by name: the select lists metrics in its own order
        conn.execute(insert(UPM).from_select(cols, rows))
        n = conn.execute(select(func.count()).select_from(UPM).where(UPM.c.year == year)).scalar_one()
    return {"year": year, "person_months": n, "risk": risk_note}


def _unit_attributes(year: int, cfg: UtilizationConfig):
    """(unit_type, unit_id, peer_group) for every unit of the year; peer attributes joined with '|'."""
    PROV = B.PROV
    rows = select(UPM).where(UPM.c.year == year).subquery("util_rows")
    practice_size = (select(rows.c.practice_id, func.count(distinct(rows.c.billing_npi)).label("npis"))
                     .where(rows.c.practice_id.is_not(None)).group_by(rows.c.practice_id).cte("util_practice_size"))
    bands = cfg.practice_size_bands
    size_band = band(practice_size.c.npis, bands, band_labels(bands, str))

    def region(col):
        return func.coalesce(col if cfg.region == "county" else func.substr(col, 1, 2), "unknown")

    def peer(unit_type: str, **attrs):
        chosen = [attrs.get(a, literal("all")) for a in cfg.peer_groups.get(unit_type, ["all"])]
        out = literal(f"{unit_type}:")
        for i, c in enumerate(chosen):
            out = out + (literal("|") if i else literal("")) + func.coalesce(c, "unknown")
        return out

    npi = (select(literal("billing_npi").label("unit_type"), PROV.c.npi.label("unit_id"),
                  peer("billing_npi", specialty=PROV.c.specialty, region=region(PROV.c.county_fips),
                       practice_size=size_band).label("peer_group"))
           .select_from(PROV.outerjoin(practice_size, practice_size.c.practice_id == func.coalesce(PROV.c.tin,
                                                                                                   PROV.c.npi)))
           .where(PROV.c.npi.in_(select(rows.c.billing_npi))))
    practice_region = (select(func.coalesce(PROV.c.tin, PROV.c.npi).label("practice_id"),
                              func.min(PROV.c.county_fips).label("county_fips"))
                       .group_by(func.coalesce(PROV.c.tin, PROV.c.npi)).cte("util_practice_region"))
    practice = (select(literal("practice"), practice_size.c.practice_id,
                       peer("practice", practice_size=size_band, region=region(practice_region.c.county_fips)))
                .select_from(practice_size.outerjoin(practice_region,
                                                     practice_region.c.practice_id == practice_size.c.practice_id)))
    ent = IcmEntity.__table__
    entities = select(rows.c.icm_entity_id.label("entity_id")).where(rows.c.icm_entity_id.is_not(None)).distinct() \
        .cte("util_entities")
    entity = (select(literal("icm_entity"), entities.c.entity_id, peer("icm_entity", program=ent.c.program_id))
              .select_from(entities.outerjoin(ent, ent.c.entity_id == entities.c.entity_id)))
    payer = select(literal("payer"), rows.c.payer, peer("payer")).distinct()
    return union_all(npi, practice, entity, payer).cte("util_units")


def build_unit_metrics(engine: Engine, year: int, config=None) -> dict:
    """Rebuild utilization_unit_metric for `year` from utilization_person_month: observed, exposure and expected
    by indirect standardisation (expected = sum over strata of the unit's exposure x the stratum's rate in the
    whole population of the year)."""
    cfg = UtilizationConfig.load(config)
    sums = [func.sum(UPM.c[m]).label(m) for m in ALL_METRICS]
    per_unit_stratum = union_all(*[
        select(literal(u).label("unit_type"), UNIT_KEYS[u].label("unit_id"), UPM.c.stratum,
               func.count().label("mm"), func.sum(UPM.c.person_anchor).label("anchors"), *sums)
        .where(UPM.c.year == year, UNIT_KEYS[u].is_not(None)).group_by(UNIT_KEYS[u], UPM.c.stratum)
        for u in cfg.unit_types]).cte("util_us")
    pop = (select(UPM.c.stratum, func.count().label("mm"), func.sum(UPM.c.person_anchor).label("anchors"), *sums)
           .where(UPM.c.year == year).group_by(UPM.c.stratum).cte("util_pop"))
    persons = union_all(*[
        select(literal(u).label("unit_type"), UNIT_KEYS[u].label("unit_id"),
               func.count(distinct(UPM.c.person_id)).label("persons"))
        .where(UPM.c.year == year, UNIT_KEYS[u].is_not(None)).group_by(UNIT_KEYS[u])
        for u in cfg.unit_types]).cte("util_persons")

    def dbl(x):
        return cast(x, Double)

    def exposure_of(t, metric):
        return t.c.anchors if metric_kind(metric) == "person" else t.c.mm

    us = per_unit_stratum
    expected = {m: func.sum(dbl(exposure_of(us, m)) * dbl(pop.c[m]) / func.nullif(dbl(exposure_of(pop, m)), 0))
                for m in ALL_METRICS}
    per_unit = (select(us.c.unit_type, us.c.unit_id, func.sum(us.c.mm).label("mm"),
                       func.sum(us.c.anchors).label("anchors"),
                       *[func.sum(us.c[m]).label(f"o_{m}") for m in ALL_METRICS],
                       *[func.coalesce(expected[m], 0).label(f"e_{m}") for m in ALL_METRICS])
                .select_from(us.join(pop, pop.c.stratum == us.c.stratum))
                .group_by(us.c.unit_type, us.c.unit_id).cte("util_per_unit"))
    units = _unit_attributes(year, cfg)
    scale = {"count": 1000.0, "paid": 1.0, "person": 1.0}
    parts = []
    for m in ALL_METRICS:
        exposure = dbl(per_unit.c.anchors if metric_kind(m) == "person" else per_unit.c.mm)
        rate = scale[metric_kind(m)] * dbl(per_unit.c[f"o_{m}"]) / func.nullif(exposure, 0)
        e_rate = scale[metric_kind(m)] * dbl(per_unit.c[f"e_{m}"]) / func.nullif(exposure, 0)
        parts.append(select(literal(year, Integer), per_unit.c.unit_type, per_unit.c.unit_id, literal(m),
                            func.coalesce(units.c.peer_group, per_unit.c.unit_type + literal(":unknown")),
                            persons.c.persons, per_unit.c.mm, exposure, dbl(per_unit.c[f"o_{m}"]),
                            dbl(per_unit.c[f"e_{m}"]), rate, e_rate)
                     .select_from(per_unit.join(persons, and_(persons.c.unit_type == per_unit.c.unit_type,
                                                              persons.c.unit_id == per_unit.c.unit_id))
                                  .outerjoin(units, and_(units.c.unit_type == per_unit.c.unit_type,
                                                         units.c.unit_id == per_unit.c.unit_id))))
    cols = ["year", "unit_type", "unit_id", "metric", "peer_group", "persons", "member_months", "exposure",
            "observed", "expected", "rate", "expected_rate"]
    with engine.begin() as conn:
        conn.execute(delete(UUM).where(UUM.c.year == year))
        conn.execute(insert(UUM).from_select(cols, union_all(*parts)))
        n = conn.execute(select(func.count()).select_from(UUM).where(UUM.c.year == year)).scalar_one()
    return {"year": year, "unit_metrics": n}
