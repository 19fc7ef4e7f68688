"""DUR scenarios: the measures' hand-built warehouse plus fills with prescriber/pharmacy, eligibility groups and
a DUR run that returns alerts and traces."""
from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from sqlalchemy import select, update

from pharmacy.engine import run_dur
from pharmacy.tables import dur_alert, dur_alert_trace, dur_mme_person
from tests.measures.scenario import Warehouse
from warehouse.models import MemberMonth, PharmacyClaimFinal

D = dt.date
PRODUCTS = Path(__file__).resolve().parent / "fixtures" / "test_products.csv"
_ids = itertools.count(1)

# shipped reference products (measures/reference/ndc_drugs.csv) and test products (fixtures/test_products.csv)
HYDROCODONE_10 = "00406036001"
OXYCODONE_10 = "00406852301"
OXYCODONE_30 = "00406853201"
ALPRAZOLAM = "00228203010"
LORAZEPAM = "00591024005"
RISPERIDONE = "00781522201"
BUPRENORPHINE = "00054017613"
SERTRALINE = "16729000101"
GABAPENTIN = "99999000001"
QUETIAPINE = "99999000002"
FENTANYL_PATCH_25 = "99999000003"
METHADONE_10 = "99999000004"
OXYBUTYNIN = "99999000005"
DIPHENHYDRAMINE = "99999000006"
ZOLPIDEM = "99999000007"
CLONAZEPAM = "99999000008"
SIMVASTATIN = "99999000009"
CLARITHROMYCIN = "99999000010"
OXYCODONE_BAD_STRENGTH = "99999000011"
ARIPIPRAZOLE = "99999000012"
FENTANYL_BUCCAL_200 = "99999000013"


class RxWarehouse(Warehouse):
    def member(self, pid, birth=D(1980, 6, 15), start=D(2024, 1, 1), end=D(2025, 12, 31), eligibility_group=None):
        self.person(pid, birth=birth)
        self.enroll(pid, start, end)
        if eligibility_group:
            with self.engine.begin() as conn:
                conn.execute(update(MemberMonth.__table__).where(MemberMonth.__table__.c.person_id == pid)
                             .values(eligibility_group=eligibility_group))
        return pid

    def members_bulk(self, people, start=D(2024, 1, 1), end=D(2025, 12, 31)):
        """Many members at once (person, one span, its member-months): (person_id, birth, eligibility_group)."""
        from warehouse.models import EnrollmentSpan, Person

        months = []
        m = start
        while m <= end:
            months.append(m)
            m = D(m.year + (m.month == 12), m.month % 12 + 1, 1)
        persons, spans, mm = [], [], []
        for pid, birth, group in people:
            persons.append(dict(person_id=pid, birth_date=birth, sex="F", state="AL"))
            spans.append(dict(span_id=f"S{pid}", person_id=pid, member_id=pid, data_source="test",
                              payer="medicaid_ffs", plan="hh", payer_type="medicaid", start_date=start, end_date=end,
                              eligibility_group=group))
            for m in months:
                age = m.year - birth.year - ((m.month, 1) < (birth.month, birth.day))
                mm.append(dict(person_id=pid, month_start=m, data_source="test", payer="medicaid_ffs", plan="hh",
                               member_id=pid, payer_type="medicaid", enrollment_span_id=f"S{pid}",
                               eligibility_group=group, age_at_month_start=age, sex="F", days_enrolled=28))
        self._ins(Person.__table__, persons)
        self._ins(EnrollmentSpan.__table__, spans)
        self._ins(MemberMonth.__table__, mm)

    def fill(self, pid, ndc, day, days_supply=30, quantity=30, prescriber="P1", pharmacy="F1", claim_id=None,
             line=1, paid=None):
        cid = claim_id or f"X{next(_ids)}"
        self._ins(PharmacyClaimFinal.__table__, dict(
            claim_id=cid, claim_line_number=line, data_source="test", claim_family_id=cid, adjustment_type="original",
            adjustment_sequence=1, person_id=pid, member_id=pid, payer="medicaid_ffs", plan="hh",
            prescribing_provider_npi=prescriber, dispensing_provider_npi=pharmacy, dispensing_date=day,
            drug_code_type="ndc", ndc_code=ndc, quantity=quantity, days_supply=days_supply, batch_id="b",
            versions_in_family=1, paid_amount=paid))
        return cid

    def dur(self, year=2025, rules=None):
        return run_dur(self.engine, year, rules, products_file=PRODUCTS)

    def alerts(self, rule_id=None, year=2025):
        q = select(dur_alert).where(dur_alert.c.year == year)
        if rule_id:
            q = q.where(dur_alert.c.rule_id == rule_id)
        with self.engine.connect() as conn:
            return [r._asdict() for r in conn.execute(q.order_by(dur_alert.c.rule_id, dur_alert.c.person_id))]

    def fired(self, rule_id, year=2025) -> set[str]:
        return {a["person_id"] for a in self.alerts(rule_id, year)}

    def trace(self, rule_id, year=2025):
        t = dur_alert_trace
        with self.engine.connect() as conn:
            return [r._asdict() for r in conn.execute(select(t).where(t.c.year == year, t.c.rule_id == rule_id)
                                                      .order_by(t.c.person_id, t.c.fill_date, t.c.claim_id))]

    def mme(self, pid, year=2025):
        t = dur_mme_person
        with self.engine.connect() as conn:
            return conn.execute(select(t).where(t.c.year == year, t.c.person_id == pid)).one()._asdict()
