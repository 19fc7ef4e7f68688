"""Hand-built member scenarios inserted with SQLAlchemy Core into the final-action tables."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import insert, select

from measures.engine import compute
from measures.tables import measure_detail, measure_result
from warehouse.engine import make_engine
from warehouse.models import (EnrollmentSpan, MedicalClaimFinal, MedicalClaimLineFinal, MemberMonth, Person,
                              PharmacyClaimFinal, Provider)

D = dt.date
_ids = itertools.count(1)


def add_days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=n)


def licensed_folder(tmp_path_factory, vsd_text: str) -> str:
    """A folder holding one licensed value-set file in the published VSD layout (the tests' made-up lists)."""
    folder = tmp_path_factory.mktemp("vsd")
    (folder / "vsd.csv").write_text(vsd_text)
    return str(folder)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class Warehouse:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.births: dict[str, dt.date] = {}
        self._mm: set = set()

    def _ins(self, table, rows):
        with self.engine.begin() as conn:
            conn.execute(insert(table), rows if isinstance(rows, list) else [rows])

    # --- reference ---------------------------------------------------------------------------------
    def person(self, pid, birth=D(1980, 6, 15), sex="F", death=None, race="white", ethnicity="not_hispanic",
               county="01001"):
        self.births[pid] = birth
        self._ins(Person.__table__, dict(person_id=pid, birth_date=birth, death_date=death, sex=sex, race=race,
                                         ethnicity=ethnicity, state="AL", county_fips=county, zip_code="00000"))
        return pid

    def provider(self, npi, mh=False, provider_type=None):
        self._ins(Provider.__table__, dict(npi=npi, is_mental_health_provider=mh,
                                           provider_type=provider_type or ("behavioral_health" if mh else "pcp")))

    def enroll(self, pid, start, end, payer="medicaid_ffs", plan="hh", delivery_system="FFS", program="HH1",
               entity="E1", hospice=False, ltc=False, payer_type="medicaid"):
        span = f"S{next(_ids)}"
        self._ins(EnrollmentSpan.__table__, dict(
            span_id=span, person_id=pid, member_id=pid, data_source="test", payer=payer, plan=plan,
            payer_type=payer_type, start_date=start, end_date=end, delivery_system=delivery_system,
            health_home_program_id=program, icm_entity_id=entity, hospice_flag=hospice,
            long_term_institutional_flag=ltc))
        rows = []
        m = D(start.year, start.month, 1)
        birth = self.births.get(pid)
        while m <= end:
            nxt = D(m.year + (m.month == 12), m.month % 12 + 1, 1)
            s, e = max(m, start), min(nxt - dt.timedelta(days=1), end)
            key = (pid, m, payer, plan)
            if key in self._mm:
                m = nxt
                continue
            self._mm.add(key)
            rows.append(dict(person_id=pid, month_start=m, data_source="test", payer=payer, plan=plan, member_id=pid,
                             payer_type=payer_type, enrollment_span_id=span, delivery_system=delivery_system,
                             health_home_program_id=program, icm_entity_id=entity, hospice_flag=hospice,
                             long_term_institutional_flag=ltc, age_at_month_start=_age(birth, m) if birth else None,
                             sex="F", county_fips="01001", days_enrolled=(e - s).days + 1))
            m = nxt
        if rows:
            self._ins(MemberMonth.__table__, rows)

    # --- claims --------------------------------------------------------------------------------------
    def claim(self, pid, start, end=None, *, claim_type="professional", tob=None, dx=(), px=(), lines=(),
              admit=None, discharge=None, drg=None, disposition=None, billing_npi=None, dx_type="icd-10-cm",
              admit_source=None, claim_id=None, payer="medicaid_ffs"):
        cid = claim_id or f"C{next(_ids)}"
        end = end or start
        h = dict(claim_id=cid, data_source="test", claim_family_id=cid, adjustment_type="original",
                 adjustment_sequence=1, person_id=pid, member_id=pid, payer=payer, plan="hh",
                 claim_type=claim_type, bill_type_code=tob, claim_start_date=start, claim_end_date=end,
                 admission_date=admit, discharge_date=discharge, discharge_disposition_code=disposition,
                 drg_code=drg, drg_code_type="ms-drg" if drg else None, diagnosis_code_type=dx_type,
                 admit_source_code=admit_source, billing_npi=billing_npi, line_count=max(len(lines), 1),
                 batch_id="b", versions_in_family=1)
        for i, code in enumerate(dx, 1):
            h[f"diagnosis_code_{i}"] = code
        for i, code in enumerate(px, 1):
            h[f"procedure_code_{i}"] = code
        self._ins(MedicalClaimFinal.__table__, h)
        lrows = []
        for n, ln in enumerate(lines or [{}], 1):
            lrows.append(dict(claim_id=cid, data_source="test", claim_line_number=n,
                              claim_line_start_date=ln.get("date", start), claim_line_end_date=ln.get("date", end),
                              revenue_center_code=ln.get("rev"), hcpcs_code=ln.get("hcpcs"),
                              place_of_service_code=ln.get("pos"), rendering_npi=ln.get("npi"), batch_id="b"))
        self._ins(MedicalClaimLineFinal.__table__, lrows)
        return cid

    def inpatient(self, pid, admit, discharge, dx, tob="0111", rev="0100", **kw):
        return self.claim(pid, admit, discharge, claim_type="institutional", tob=tob, dx=dx, admit=admit,
                          discharge=discharge, lines=[dict(rev=rev)], **kw)

    def visit(self, pid, day, hcpcs="90834", dx=("F329",), npi=None, pos="11", rev=None, **kw):
        return self.claim(pid, day, dx=dx, lines=[dict(hcpcs=hcpcs, pos=pos, npi=npi, rev=rev)], **kw)

    def ed(self, pid, day, dx, hcpcs="99283"):
        return self.claim(pid, day, claim_type="institutional", tob="0131", dx=dx,
                          lines=[dict(rev="0450", hcpcs=hcpcs)])

    def rx(self, pid, ndc, day, days_supply=30, quantity=30):
        cid = f"R{next(_ids)}"
        self._ins(PharmacyClaimFinal.__table__, dict(
            claim_id=cid, claim_line_number=1, data_source="test", claim_family_id=cid, adjustment_type="original",
            adjustment_sequence=1, person_id=pid, member_id=pid, payer="medicaid_ffs", plan="hh",
            dispensing_date=day, drug_code_type="ndc", ndc_code=ndc, quantity=quantity, days_supply=days_supply,
            batch_id="b", versions_in_family=1))
        return cid

    # --- results -------------------------------------------------------------------------------------
    def compute(self, year, *ids, **kw):
        return compute(self.engine, year, list(ids), **kw)

    def total(self, year, measure, rate_id, recompute=True):
        rows = self.compute(year, measure) if recompute else None
        for r in rows:
            if r["rate_id"] == rate_id and r["stratum"] == {"type": "total", "value": "total"}:
                return r
        raise AssertionError(f"no total row for {measure} {rate_id}: {rows}")

    def detail(self, measure, year, rate_id=None):
        t = measure_detail
        q = select(t).where(t.c.measure_id == measure, t.c.measurement_year == year)
        if rate_id:
            q = q.where(t.c.rate_id == rate_id)
        with self.engine.connect() as conn:
            return [r._asdict() for r in conn.execute(q.order_by(t.c.rate_id, t.c.unit_id))]

    def per_person(self, year, rate_id=None) -> dict:
        """(measure, rate, person) -> (numerator, denominator) summed over the person's non-excluded detail rows."""
        from sqlalchemy import func

        t = measure_detail
        q = (select(t.c.measure_id, t.c.rate_id, t.c.person_id, func.sum(t.c.numerator_value),
                    func.sum(t.c.denominator_value))
             .where(t.c.measurement_year == year, ~t.c.excluded)
             .group_by(t.c.measure_id, t.c.rate_id, t.c.person_id))
        if rate_id:
            q = q.where(t.c.rate_id == rate_id)
        with self.engine.connect() as conn:
            return {(m, r, p): (int(n), int(d)) for m, r, p, n, d in conn.execute(q)}

    def results(self, measure, year):
        t = measure_result
        with self.engine.connect() as conn:
            return [r._asdict() for r in conn.execute(select(t).where(t.c.measure_id == measure,
                                                                        t.c.measurement_year == year))]
