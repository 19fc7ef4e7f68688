"""Monthly service-verification sample (42 CFR 455.20(a): a method for verifying with recipients whether services
billed by providers were received; the contract: every month a random sample of no fewer than 500 enrollees).

Population: persons with a final-action medical claim line or pharmacy fill whose service date falls in the month.
Stratum of a person: the first of the configured service types (config order) among the services they had that
month; service types are the savings engine's service categories (savings/population/cost.service_category) and
pharmacy. Size: `size` (>= 500 by default) or everyone when fewer; allocated to strata in proportion to their
populations by largest remainder (ties: config order). Within a stratum the persons are ordered by
md5(seed || '|' || person_id), then person_id: md5 of the same text is the same hex string on DuckDB and PostgreSQL,
so the same seed draws the same sample on both and on every run. The seed and this method are stored on each row.

Verification results (CSV: sample_month, person_id, contact_date, contact_method, response, service_received):
each row is accepted or rejected with its reason (verification_import_row), rows read = accepted + rejected. An
accepted row replaces the result of its (month, person). A file already imported (same bytes, sha256) changes
nothing. Not modelled: exclusion of confidential services (family planning, STI, HIV, 42 CFR Part 2) from the
services listed, which is state policy.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

from sqlalchemy import Engine, String, and_, case, cast, delete, func, insert, literal, or_, select, union_all

from savings.population.cost import service_category
from utilization.config import UtilizationConfig
from utilization.tables import verification_import_row as IMPORT, verification_result as RESULT, \
    verification_sample as SAMPLE
from warehouse.models import MedicalClaimFinal, MedicalClaimLineFinal, MemberMonth, PharmacyClaimFinal

H, L, RX, MM = (MedicalClaimFinal.__table__, MedicalClaimLineFinal.__table__, PharmacyClaimFinal.__table__,
                MemberMonth.__table__)
METHOD = ("stratified by first service type in config order; proportional allocation by largest remainder; "
          "within stratum ordered by md5(seed || '|' || person_id), person_id")
RESPONSES = ("confirmed", "not_confirmed", "no_response", "referred")
RESULT_COLUMNS = ("sample_month", "person_id", "contact_date", "contact_method", "response", "service_received")


class VerificationFileError(ValueError):
    """A verification-results file that cannot be read at all (names the file and the problem)."""


def parse_month(text: str) -> dt.date:
    try:
        d = dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, got {text!r}") from None
    return d


def _month_end(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1) - dt.timedelta(days=1)


def _services(month: dt.date):
    """(person_id, service_type, service_date, provider_npi, claim_id) of the month's medical lines and fills."""
    day = func.coalesce(L.c.claim_line_start_date, H.c.claim_start_date)
    medical = (select(H.c.person_id,
                      service_category(H.c.claim_type, H.c.bill_type_code, L.c.revenue_center_code, L.c.hcpcs_code,
                                       L.c.place_of_service_code, H.c.diagnosis_code_1).label("service_type"),
                      day.label("service_date"), func.coalesce(H.c.billing_npi, L.c.rendering_npi).label("npi"),
                      H.c.claim_id)
               .select_from(L.join(H, and_(L.c.claim_id == H.c.claim_id, L.c.data_source == H.c.data_source)))
               .where(day.between(month, _month_end(month))))
    pharmacy = (select(RX.c.person_id, literal("pharmacy").label("service_type"),
                       RX.c.dispensing_date.label("service_date"), RX.c.dispensing_provider_npi.label("npi"),
                       RX.c.claim_id)
                .where(RX.c.dispensing_date.between(month, _month_end(month))))
    return union_all(medical, pharmacy).subquery("vs_services")


def _allocate(populations: dict[str, int], size: int, order: list[str]) -> dict[str, int]:
    """Proportional allocation of `size` by largest remainder; everyone when the population is not larger."""
    total = sum(populations.values())
    if total <= size:
        return dict(populations)
    quotas = {s: size * n / total for s, n in populations.items()}
    alloc = {s: int(q) for s, q in quotas.items()}
    left = size - sum(alloc.values())
    for s in sorted(populations, key=lambda s: (-(quotas[s] - alloc[s]), order.index(s)))[:left]:
        alloc[s] += 1
    return alloc


def draw_sample(engine: Engine, month: dt.date, config=None) -> dict:
    """Draw (or redraw, identically) the month's sample into verification_sample."""
    cfg = UtilizationConfig.load(config).sample
    order = list(cfg.strata)
    svc = _services(month)
    priority = case(*[(svc.c.service_type == s, i) for i, s in enumerate(order)], else_=len(order))
    per_person = (select(svc.c.person_id, func.min(priority).label("p")).group_by(svc.c.person_id)
                  .subquery("vs_person"))
    stratum = case(*[(per_person.c.p == i, s) for i, s in enumerate(order)], else_="other")
    key = func.md5(literal(str(cfg.seed)) + literal("|") + per_person.c.person_id)
    ranked = select(per_person.c.person_id, stratum.label("stratum"),
                    func.row_number().over(partition_by=stratum, order_by=(key, per_person.c.person_id))
                    .label("rank")).subquery("vs_ranked")
    with engine.begin() as conn:
        pops = dict(conn.execute(select(ranked.c.stratum, func.count()).group_by(ranked.c.stratum)).all())
        alloc = _allocate(pops, cfg.size, order + ["other"])
        conn.execute(delete(SAMPLE).where(SAMPLE.c.sample_month == month))
        chosen = [and_(ranked.c.stratum == s, ranked.c.rank <= n) for s, n in alloc.items() if n]
        picked = conn.execute(select(ranked.c.person_id, ranked.c.stratum, ranked.c.rank)
                              .where(or_(*chosen) if chosen else literal(False))
                              .order_by(ranked.c.stratum, ranked.c.rank)).all()
        services = _services_of(conn, svc, [p.person_id for p in picked], cfg.max_services_per_enrollee)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        rows = [dict(sample_month=month, person_id=p.person_id, stratum=p.stratum, sample_rank=p.rank, seed=cfg.seed,
                     method=METHOD, services=json.dumps(services.get(p.person_id, [])), created_at=now)
                for p in picked]
        if rows:
            conn.execute(insert(SAMPLE), rows)
    return {"month": month.isoformat(), "population": sum(pops.values()), "sampled": len(rows), "seed": cfg.seed,
            "by_stratum": {s: {"population": pops.get(s, 0), "sampled": alloc.get(s, 0)} for s in pops}}


def _services_of(conn, svc, persons: list[str], limit: int) -> dict[str, list[dict]]:
    """Up to `limit` services to verify per sampled person (the sample is at most a few thousand persons)."""
    if not persons:
        return {}
    distinct = (select(svc.c.person_id, svc.c.service_date, svc.c.service_type, svc.c.npi)
                .where(svc.c.person_id.in_(persons)).distinct().subquery("vs_distinct"))
    rn = func.row_number().over(partition_by=distinct.c.person_id,
                                order_by=(distinct.c.service_date, distinct.c.service_type,
                                          func.coalesce(distinct.c.npi, "")))
    q = select(distinct, rn.label("rn")).subquery("vs_list")
    out: dict[str, list[dict]] = {}
    for r in conn.execute(select(q).where(q.c.rn <= limit).order_by(q.c.person_id, q.c.rn)):
        out.setdefault(r.person_id, []).append({"date": r.service_date.isoformat(), "type": r.service_type,
                                                "provider_npi": r.npi})
    return out


def export_mailing(engine: Engine, month: dt.date, out: Path) -> dict:
    """Write the month's sample as a CSV for mailing or contact: one row per enrollee with the services to verify
    and an empty result block for the contact team to fill in and send back (import_results)."""
    member = (select(MM.c.person_id, func.min(MM.c.member_id).label("member_id"))
              .where(MM.c.month_start == month).group_by(MM.c.person_id).subquery("vs_member"))
    with engine.connect() as conn:
        rows = conn.execute(select(SAMPLE.c.sample_month, SAMPLE.c.person_id, member.c.member_id, SAMPLE.c.stratum,
                                   SAMPLE.c.services, SAMPLE.c.seed)
                            .select_from(SAMPLE.outerjoin(member, member.c.person_id == SAMPLE.c.person_id))
                            .where(SAMPLE.c.sample_month == month)
                            .order_by(SAMPLE.c.stratum, SAMPLE.c.sample_rank)).all()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample_month", "person_id", "member_id", "stratum", "services", "seed", "contact_date",
                    "contact_method", "response", "service_received"])
        for r in rows:
            w.writerow([r.sample_month.strftime("%Y-%m"), r.person_id, r.member_id, r.stratum, r.services, r.seed,
                        "", "", "", ""])
    return {"file": str(out), "rows": len(rows)}


def _reject_reason(row: dict, sampled: dict[dt.date, set], seen: dict, n: int) -> tuple[str | None, dt.date | None]:
    try:
        month = parse_month(row["sample_month"] or "")
    except ValueError:
        return f"sample_month {row['sample_month']!r} is not YYYY-MM", None
    if month not in sampled:
        return f"no sample was drawn for {month:%Y-%m}", month
    person = (row["person_id"] or "").strip()
    if person not in sampled[month]:
        return f"enrollee not in the sample of {month:%Y-%m}", month
    key = (month, person)
    if key in seen:
        return f"duplicate of row {seen[key]}", month
    try:
        contact = dt.date.fromisoformat((row["contact_date"] or "").strip())
    except ValueError:
        return f"contact_date {row['contact_date']!r} is not a date (YYYY-MM-DD)", month
    if contact < month:
        return f"contact_date {contact} is before the sample month", month
    if contact > dt.date.today():
        return f"contact_date {contact} is in the future", month
    if not (row["contact_method"] or "").strip():
        return "contact_method is blank", month
    if (row["response"] or "").strip() not in RESPONSES:
        return f"response {row['response']!r} is not one of {', '.join(RESPONSES)}", month
    if (row["service_received"] or "").strip().lower() not in ("yes", "no", ""):
        return f"service_received {row['service_received']!r} is not yes, no or blank", month
    seen[key] = n
    return None, month


def import_results(engine: Engine, path: str | Path) -> dict:
    """Import a verification-results CSV: every row accepted or rejected with its reason; idempotent."""
    path = Path(path)
    data = path.read_bytes()
    import_id = hashlib.sha256(data).hexdigest()
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        header = reader.fieldnames or []
    except UnicodeDecodeError:
        raise VerificationFileError(f"{path}: not UTF-8 text") from None
    missing = [c for c in RESULT_COLUMNS if c not in header]
    if missing:
        raise VerificationFileError(f"{path}: missing column {missing[0]!r} (expected {', '.join(RESULT_COLUMNS)})")
    with engine.begin() as conn:
        done = conn.execute(select(IMPORT.c.status, func.count()).where(IMPORT.c.import_id == import_id)
                            .group_by(IMPORT.c.status)).all()
        if done:
            counts = dict(done)
            return {"file": str(path), "import_id": import_id, "already_imported": True,
                    "rows_read": sum(counts.values()), "accepted": counts.get("accepted", 0),
                    "rejected": counts.get("rejected", 0)}
        sampled: dict[dt.date, set] = {}
        for m, p in conn.execute(select(SAMPLE.c.sample_month, SAMPLE.c.person_id)):
            sampled.setdefault(m, set()).add(p)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        log, accepted, seen = [], [], {}
        for n, row in enumerate(reader, 1):
            reason, month = _reject_reason(row, sampled, seen, n)
            log.append(dict(import_id=import_id, source_file=path.name, source_row=n, sample_month=month,
                            status="rejected" if reason else "accepted", reason=reason, imported_at=now))
            if reason is None:
                accepted.append(dict(sample_month=month, person_id=row["person_id"].strip(),
                                     contact_date=dt.date.fromisoformat(row["contact_date"].strip()),
                                     contact_method=row["contact_method"].strip(), response=row["response"].strip(),
                                     service_received=(row["service_received"] or "").strip().lower() or None,
                                     source_file=path.name, source_row=n))
        for r in accepted:
            conn.execute(delete(RESULT).where(RESULT.c.sample_month == r["sample_month"],
                                              RESULT.c.person_id == r["person_id"]))
        if accepted:
            conn.execute(insert(RESULT), accepted)
        if log:
            conn.execute(insert(IMPORT), log)
    rejected = [r for r in log if r["status"] == "rejected"]
    reasons: dict[str, int] = {}
    for r in rejected:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    return {"file": str(path), "import_id": import_id, "already_imported": False, "rows_read": len(log),
            "accepted": len(accepted), "rejected": len(rejected), "rejected_by_reason": reasons}


def monthly_report(engine: Engine, month: dt.date) -> dict:
    """The month's verification results: sampled, contacted, and counts by response."""
    with engine.connect() as conn:
        sampled = conn.execute(select(func.count()).select_from(SAMPLE).where(SAMPLE.c.sample_month == month)
                               ).scalar_one()
        by_response = dict(conn.execute(select(RESULT.c.response, func.count()).where(RESULT.c.sample_month == month)
                                        .group_by(RESULT.c.response)).all())
        not_received = conn.execute(select(func.count()).select_from(RESULT).where(
            RESULT.c.sample_month == month, RESULT.c.service_received == "no")).scalar_one()
        seed_method = conn.execute(select(SAMPLE.c.seed, SAMPLE.c.method).where(SAMPLE.c.sample_month == month)
                                   .limit(1)).first()
    results = {r: by_response.get(r, 0) for r in RESPONSES}
    return {"month": f"{month:%Y-%m}", "sampled": sampled, **results,
            "awaiting_result": sampled - sum(results.values()), "service_not_received": not_received,
            "seed": seed_method.seed if seed_method else None, "method": seed_method.method if seed_method else None}


def sample_fingerprint(engine: Engine, month: dt.date) -> str:
    """sha256 of the month's sample (person, stratum, rank, services): equal samples have equal fingerprints."""
    with engine.connect() as conn:
        rows = conn.execute(select(SAMPLE.c.person_id, SAMPLE.c.stratum, SAMPLE.c.sample_rank,
                                   cast(SAMPLE.c.seed, String), SAMPLE.c.services)
                            .where(SAMPLE.c.sample_month == month)
                            .order_by(SAMPLE.c.stratum, SAMPLE.c.sample_rank)).all()
    return hashlib.sha256(json.dumps([list(r) for r in rows]).encode()).hexdigest()
