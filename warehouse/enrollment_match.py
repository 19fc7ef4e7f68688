"""Claims against enrollment: the primary-payer rule for claims that name no payer, the `enrollment_match` flag
every loaded claim carries (load, then flag), the death rule, and re-matching when later eligibility arrives.

All of it is set-based SQL (SQLAlchemy Core) run on the loader's temporary `_incoming` table or on the claim
tables themselves; nothing loops over claims or members in Python.

Service date: a medical claim's `claim_start_date` (on every line of the claim, so all lines agree), a pharmacy
fill's `dispensing_date`.

Primary payer (claims without `payer`/`plan`, e.g. Tuva input layer before v0.6, when no `--payer` is given):
the claim takes the payer and plan of the enrollment span of its person (same data source) that covers the
service date. When spans of several payers cover it, the payer types rank (PAYER_PRIMACY, lowest first):
  1 medicare      Medicare pays before Medicaid for dual eligibles: Medicaid is the payer of last resort
                  (Social Security Act 1902(a)(25), 42 U.S.C. 1396a(a)(25); 42 CFR 433.138-433.148).
  2 dual          an integrated dual plan (D-SNP/MMP) carrying the Medicare-primary liability.
  3 commercial, self-insured
                  a group health plan is primary to Medicare only for the working aged (employer of 20 or more,
                  42 CFR 411 subpart G), the disabled (100 or more, subpart H) and ESRD's first 30 months; an
                  eligibility file does not say whether the coverage comes from current employment, so the rule
                  assumes the common retiree/Medigap case (Medicare first). A feed that knows better passes --payer.
                  Commercial coverage still pays before Medicaid (payer of last resort, as above).
  4 other
  5 medicaid      payer of last resort (as above).
  6 uninsured
  Ties (two spans of one payer type): the span that started latest, then payer and plan in text order, so the
  choice is deterministic. Spans of one payer never overlap (the loader quarantines overlaps), so the number of
  covering spans is the number of covering payers; the load report counts rows by how their payer was found.

enrollment_match (first rule that applies):
  after death        the service date is after the person's date of death (`person.death_date`); member-months
                     end at death (warehouse.derive), so such a claim never counts in cost or measures
  matched            a span of the claim's person, data source and payer covers the service date
  other payer        a span of the person covers the date, but of another payer
  no enrollment, payer unknown
                     the claim named no payer and no span covers the date (its payer is the data source until a
                     later eligibility file covers it; then re-matching assigns the primary payer)
  no enrollment      no span of the person covers the date
  not checked        loaded with --no-enrollment-check (kept in cost and measures, as before)
Only matched and not-checked claims reach the final-action tables (warehouse.derive.USABLE_MATCH); the others
stay in medical_claim/pharmacy_claim, counted in the load report, until an enrollment load re-matches them.
"""
from __future__ import annotations

from sqlalchemy import Connection, Table, and_, case, exists, func, literal, select, update

from warehouse import models

MATCHED = "matched"
OTHER_PAYER = "other payer"
NO_ENROLLMENT = "no enrollment"
PAYER_UNKNOWN = "no enrollment, payer unknown"
AFTER_DEATH = "after death"
NOT_CHECKED = "not checked"
# values a later enrollment load may change (after death is final: a later eligibility file does not revive)
REMATCHABLE = (OTHER_PAYER, NO_ENROLLMENT, PAYER_UNKNOWN)
# the claims cost, measures, attribution and savings use (NULL: loaded before migration 0010 recorded the flag)
USABLE = (MATCHED, NOT_CHECKED)

PAYER_PRIMACY = {"medicare": 1, "dual": 2, "commercial": 3, "self-insured": 3, "other": 4, "medicaid": 5,
                 "uninsured": 6}

SERVICE_DATE = {"medical_claim": "claim_start_date", "pharmacy_claim": "dispensing_date"}
CLAIM_KEY = {"medical_claim": ("claim_id", "data_source"),
             "pharmacy_claim": ("claim_id", "claim_line_number", "data_source")}


def _primacy_rank(payer_type):
    return case(*[(payer_type == name, rank) for name, rank in PAYER_PRIMACY.items()], else_=len(PAYER_PRIMACY) + 1)


def _covering(claim, service_date, *, same_payer: bool):
    es = models.EnrollmentSpan.__table__
    cond = [es.c.person_id == claim.c.person_id, es.c.data_source == claim.c.data_source,
            es.c.start_date <= service_date, es.c.end_date >= service_date]
    if same_payer:
        cond.append(es.c.payer == claim.c.payer)
    return exists().where(*cond)


def assign_primary_payer(conn: Connection, table: Table, service_date: str, key: tuple[str, ...],
                         only=None) -> dict[str, int]:
    """Set payer/plan of the rows of `table` (restricted by `only`, a condition on `table`) to the primary payer
    of the spans covering each row's service date. Returns the rows counted by how their payer was found."""
    es = models.EnrollmentSpan.__table__
    claim = table.alias("claim")
    day = claim.c[service_date]
    part = [claim.c[k] for k in key]
    where = [] if only is None else [only(claim)]
    ranked = (select(*part, es.c.payer, es.c.plan,
                     func.row_number().over(partition_by=part, order_by=[
                         _primacy_rank(func.lower(es.c.payer_type)), es.c.start_date.desc(), es.c.payer, es.c.plan,
                     ]).label("pick"),
                     func.count().over(partition_by=part).label("covering"))
              .join_from(claim, es, and_(es.c.person_id == claim.c.person_id, es.c.data_source == claim.c.data_source,
                                         es.c.start_date <= day, es.c.end_date >= day))
              .where(*where)
              .subquery("primary_span"))
    one, several = conn.execute(select(func.count(case((ranked.c.covering == 1, 1))),
                                       func.count(case((ranked.c.covering > 1, 1))))
                                .where(ranked.c.pick == 1)).one()
    total = conn.execute(select(func.count()).select_from(claim).where(*where)).scalar_one()
    conn.execute(update(table).where(*[table.c[k] == ranked.c[k] for k in key], ranked.c.pick == 1)
                 .values(payer=ranked.c.payer, plan=ranked.c.plan))
    return {"one covering payer": one, "several covering payers, primary by payer type": several,
            "no covering span": total - one - several}


def match_status(table: Table, service_date: str, payer_unknown):
    """The enrollment_match value of each row of `table` (a CASE over correlated EXISTS); `payer_unknown`: a
    condition true for rows whose payer was not in the file."""
    person = models.Person.__table__
    day = table.c[service_date]
    died_before = exists().where(person.c.person_id == table.c.person_id, person.c.death_date < day)
    return case((died_before, AFTER_DEATH),
                (_covering(table, day, same_payer=True), MATCHED),
                (_covering(table, day, same_payer=False), OTHER_PAYER),
                (payer_unknown, PAYER_UNKNOWN),
                else_=NO_ENROLLMENT)


def mark_incoming(conn: Connection, inc: Table, target: str, *, check: bool, payer_from_enrollment: bool) -> dict:
    """Flag the good rows of the loader's `_incoming` table; their payer first, when the file named none.
    Returns the load report's notes (how the payer was found)."""
    notes = {}
    good = inc.c._reason.is_(None)
    if payer_from_enrollment:
        notes["payer_from_enrollment"] = assign_primary_payer(
            conn, inc, SERVICE_DATE[target], ("_row",), only=lambda t: t.c._reason.is_(None))
    status = match_status(inc, SERVICE_DATE[target], literal(payer_from_enrollment)) if check else literal(NOT_CHECKED)
    conn.execute(update(inc).where(good).values(enrollment_match=status))
    return notes


def match_counts(conn: Connection, inc: Table) -> dict[str, int]:
    """Loaded rows by enrollment_match, for the load report."""
    rows = conn.execute(select(inc.c.enrollment_match, func.count()).where(inc.c._reason.is_(None))
                        .group_by(inc.c.enrollment_match)).all()
    return dict(sorted(rows, key=lambda kv: (-kv[1], kv[0] or "")))


def rematch(conn: Connection) -> dict[str, int]:
    """Re-examine loaded claims that did not match (no enrollment, other payer, payer unknown) against the
    enrollment now in the warehouse: claims without a payer first take their primary payer, then every such
    claim gets its enrollment_match again. Returns the claims (pharmacy: fills) now matched, per table."""
    rematched = {}
    for target in ("medical_claim", "pharmacy_claim"):
        table = models.metadata.tables[target]
        waiting = table.c.enrollment_match.in_(REMATCHABLE)
        if conn.execute(select(exists().where(waiting))).scalar_one() is not True:
            rematched[target] = 0
            continue
        before = conn.execute(select(func.count()).where(table.c.enrollment_match == MATCHED)).scalar_one()
        assign_primary_payer(conn, table, SERVICE_DATE[target], CLAIM_KEY[target],
                             only=lambda t: t.c.enrollment_match == PAYER_UNKNOWN)
        status = match_status(table, SERVICE_DATE[target], table.c.enrollment_match == PAYER_UNKNOWN)
        conn.execute(update(table).where(waiting).values(enrollment_match=status))
        after = conn.execute(select(func.count()).where(table.c.enrollment_match == MATCHED)).scalar_one()
        rematched[target] = after - before
    return rematched
