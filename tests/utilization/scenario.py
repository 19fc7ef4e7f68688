"""A small warehouse with planted utilization outliers, inserted in bulk into the final-action tables.

Fourteen primary-care practices of one peer group (Family Medicine, one county), 40 members each, enrolled all of
2025, one primary-care visit each in March (so each member is assigned to their PCP). ED visits per member-year:
  low-risk members (normalized CMS-HCC score 0.8)   0.5 to 0.75 (ordinary panels differ a little)
  high-risk members (score 2.5)                     1.5   (sickness, not practice style)
  ordinary panels (P04-P14): 36 low-risk + 4 high-risk members
  OVER  (P01): 40 low-risk members at 1.5 -> true SR 2.5
  UNDER (P02): 40 low-risk members at 0.1 -> true SR 1/6
  SICK  (P03): 40 high-risk members at 1.5 -> true SR 1 (its raw rate is as high as OVER's)
Visits are spread deterministically (member j of a panel at rate r gets floor((j+1) r) - floor(j r) visits), so
every count is known exactly.
"""
from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import insert

from savings.work_tables import risk_score
from warehouse.engine import make_engine
from warehouse.models import EnrollmentSpan, MedicalClaimFinal, MedicalClaimLineFinal, MemberMonth, Person, PharmacyClaimFinal, Provider

YEAR = 2025
LOW, HIGH = 0.8, 2.5
OVER, UNDER, SICK = "1000000001", "1000000002", "1000000003"
PRACTICES = [f"10000000{i:02d}" for i in range(1, 15)]
PANEL = 40


def panel_design(npi: str) -> list[tuple[float, float]]:
    """(risk score, ED visits per year) of each member of a practice's panel."""
    if npi == OVER:
        return [(LOW, 1.5)] * PANEL
    if npi == UNDER:
        return [(LOW, 0.1)] * PANEL
    if npi == SICK:
        return [(HIGH, 1.5)] * PANEL
    spread_rate = 0.5 + 0.025 * (PRACTICES.index(npi) - 3)     # 0.5 .. 0.75 across the ordinary panels
    return [(LOW, spread_rate)] * 36 + [(HIGH, 1.5)] * 4


def spread(j: int, rate: float, offset: float = 0.0) -> int:
    return math.floor((j + 1) * rate + offset) - math.floor(j * rate + offset)


class Builder:
    def __init__(self):
        self.rows: dict = {t: [] for t in (Person, EnrollmentSpan, Provider, MemberMonth, MedicalClaimFinal, MedicalClaimLineFinal,
                                           PharmacyClaimFinal)}
        self.risk: list[dict] = []
        self._claims = 0

    def provider(self, npi, specialty="Family Medicine", county="27053", provider_type="pcp", tin=None):
        self.rows[Provider].append(dict(npi=npi, specialty=specialty, provider_type=provider_type, tin=tin or npi,
                                        county_fips=county, is_mental_health_provider=False))

    def member(self, pid, birth=dt.date(1980, 6, 15), sex="F", county="27053", months=range(1, 13), year=YEAR,
               payer="medicaid_ffs", entity="E1", eligibility="adult", dual="00"):
        self.rows[Person].append(dict(person_id=pid, birth_date=birth, sex=sex, state="MN", county_fips=county))
        first, last = dt.date(year, min(months), 1), dt.date(year + (max(months) == 12), max(months) % 12 + 1, 1)
        self.rows[EnrollmentSpan].append(dict(
            span_id=f"S{pid}", person_id=pid, member_id=f"M{pid}", data_source="test", payer=payer, plan="p",
            payer_type="medicaid", start_date=first, end_date=last - dt.timedelta(days=1), eligibility_group=eligibility,
            dual_status_code=dual, delivery_system="FFS", health_home_program_id="HH1", icm_entity_id=entity))
        for m in months:
            start = dt.date(year, m, 1)
            age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
            self.rows[MemberMonth].append(dict(
                person_id=pid, month_start=start, data_source="test", payer=payer, plan="p", member_id=f"M{pid}",
                payer_type="medicaid", enrollment_span_id=f"S{pid}", eligibility_group=eligibility,
                dual_status_code=dual, delivery_system="FFS", health_home_program_id="HH1", icm_entity_id=entity,
                hospice_flag=False, long_term_institutional_flag=False, age_at_month_start=age, sex=sex,
                county_fips=county, days_enrolled=28))

    def claim(self, pid, day, *, billing_npi=None, claim_type="professional", tob=None, dx="Z0000", lines=(),
              in_network=True, paid=100, dx_type="icd-10-cm"):
        self._claims += 1
        cid = f"C{self._claims}"
        self.rows[MedicalClaimFinal].append(dict(
            claim_id=cid, data_source="test", claim_family_id=cid, adjustment_type="original", adjustment_sequence=1,
            person_id=pid, member_id=f"M{pid}", payer="medicaid_ffs", plan="p", claim_type=claim_type,
            bill_type_code=tob, claim_start_date=day, claim_end_date=day, diagnosis_code_type=dx_type,
            diagnosis_code_1=dx, billing_npi=billing_npi, in_network_flag=in_network, line_count=len(lines) or 1,
            batch_id="b", versions_in_family=1, paid_amount=paid))
        for n, ln in enumerate(lines or [{}], 1):
            self.rows[MedicalClaimLineFinal].append(dict(
                claim_id=cid, data_source="test", claim_line_number=n, claim_line_start_date=day,
                claim_line_end_date=day, revenue_center_code=ln.get("rev"), hcpcs_code=ln.get("hcpcs"),
                place_of_service_code=ln.get("pos"), rendering_npi=billing_npi, paid_amount=paid, batch_id="b"))
        return cid

    def pcp_visit(self, pid, day, npi, hcpcs="99213"):
        return self.claim(pid, day, billing_npi=npi, lines=[dict(hcpcs=hcpcs, pos="11")])

    def ed(self, pid, day, dx="R109", dx_type="icd-10-cm"):
        return self.claim(pid, day, claim_type="institutional", tob="0131", dx=dx, dx_type=dx_type,
                          lines=[dict(rev="0450", hcpcs="99283")], paid=400)

    def rx(self, pid, day, paid=20, ndc="00000000001"):
        self._claims += 1
        cid = f"R{self._claims}"
        self.rows[PharmacyClaimFinal].append(dict(
            claim_id=cid, claim_line_number=1, data_source="test", claim_family_id=cid, adjustment_type="original",
            adjustment_sequence=1, person_id=pid, member_id=f"M{pid}", payer="medicaid_ffs", plan="p",
            dispensing_date=day, drug_code_type="ndc", ndc_code=ndc, quantity=30, days_supply=30,
            batch_id="b", versions_in_family=1, paid_amount=paid))

    def score(self, pid, value, year=YEAR):
        self.risk.append(dict(year=year, person_id=pid, model_version="BLEND", segment="ALL", demographic_score=0,
                              disease_score=0, interaction_score=0, count_score=0, raw_score=value,
                              normalized_score=value))

    def write(self, url: str):
        engine = make_engine(url)
        with engine.begin() as conn:
            for model, rows in self.rows.items():
                if rows:
                    conn.execute(insert(model.__table__), rows)
            if self.risk:
                conn.execute(insert(risk_score), self.risk)
        return engine


def planted(url: str) -> Builder:
    """The fourteen-practice warehouse of the module docstring; returns the builder (its rows are the truth)."""
    b = Builder()
    for npi in PRACTICES:
        b.provider(npi)
        for j, (score, rate) in enumerate(panel_design(npi)):
            pid = f"{npi}-{j:02d}"
            b.member(pid)
            b.score(pid, score)
            b.pcp_visit(pid, dt.date(YEAR, 3, 2 + j % 20), npi)
            # visits of the member's year, on distinct days spread over the year
            risk_rank = j if score == LOW else j + 1000
            for v in range(spread(risk_rank, rate)):
                b.ed(pid, dt.date(YEAR, 1 + (j + 5 * v) % 12, 10 + v))
            if j % 4 == 0:
                b.rx(pid, dt.date(YEAR, 5, 1 + j % 28))
    return b
