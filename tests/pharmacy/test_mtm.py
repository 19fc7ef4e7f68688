"""MTM: eligibility presets by contract year (boundaries on drugs, diseases, cost), the monthly eligible list, the
CMR completion rate from the service record, and the difference-in-differences evaluation of a targeting rule."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from pharmacy.mtm.eligibility import PresetError, load_preset, reasons, run_eligibility
from pharmacy.mtm.evaluation import evaluate_targeting
from pharmacy.mtm.services import ServiceFileError, cmr_rate, load_services
from pharmacy.tables import mtm_eligible
from tests.pharmacy.scenario import ALPRAZOLAM, SERTRALINE, D
from warehouse.models import MemberMonth

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LISINOPRIL, METFORMIN, ATORVASTATIN = "00093111101", "00093104801", "00071015523"
FOUR = (LISINOPRIL, METFORMIN, ATORVASTATIN, SERTRALINE)


def _regimen(wh, pid, drugs, dx=("E119", "I10"), day=D(2025, 1, 15), paid=100):
    wh.claim(pid, D(2025, 1, 10), dx=dx)
    for ndc in drugs:
        wh.fill(pid, ndc, day, 30, 30, paid=paid)


def test_presets_by_contract_year():
    assert load_preset("part_d_2024").annual_cost_threshold == Decimal("5330")
    assert load_preset("part_d_2025").annual_cost_threshold == Decimal("1623")
    assert "hiv_aids" in load_preset("part_d_2025").diseases and "hiv_aids" not in load_preset("part_d_2024").diseases
    assert load_preset("minnesota_medicaid").annual_cost_threshold is None
    with pytest.raises(PresetError, match="part_d_2026"):
        load_preset("part_d_2026")


def test_minnesota_4_drugs_2_conditions_boundaries(wh):
    wh.member("four_two")
    _regimen(wh, "four_two", FOUR)
    wh.member("three_drugs")
    _regimen(wh, "three_drugs", FOUR[:3])
    wh.member("one_condition")
    _regimen(wh, "one_condition", FOUR, dx=("E119", "E109"))  # two diabetes codes = one condition
    result = run_eligibility(wh.engine, 2025, "minnesota_medicaid")
    with wh.engine.connect() as conn:
        rows = [r._mapping for r in conn.execute(select(mtm_eligible).where(mtm_eligible.c.year == 2025))]
    assert {r["person_id"] for r in rows} == {"four_two"}
    months = sorted(r["month_start"] for r in rows)
    assert months == [D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)]  # drugs filled 15 Jan count 90 days
    assert result["eligible_persons"] == 1
    assert "2 core chronic diseases" in reasons(rows[0]) and "4 drugs" in reasons(rows[0])


def test_part_d_cost_threshold_boundary(wh):
    eight = FOUR + (ALPRAZOLAM, "00093719856", "00173068220", "00173071920")
    for pid, paid in (("at_threshold", Decimal("55.50")), ("below", Decimal("55.49"))):
        wh.member(pid)
        _regimen(wh, pid, eight, dx=("E119", "I10", "E785"), paid=paid)
    # 8 fills in January: annualised = 8 x paid x 12 / 1 month; 8 x 55.50 x 12 = 5,328 -> threshold set to 5328
    run_eligibility(wh.engine, 2025, "part_d_2024", threshold=Decimal("5328"))
    with wh.engine.connect() as conn:
        jan = {r.person_id for r in conn.execute(select(mtm_eligible.c.person_id).where(
            mtm_eligible.c.month_start == D(2025, 1, 1)))}
    assert jan == {"at_threshold"}


def test_cmr_completion_rate_from_service_record(wh):
    for i in range(40):
        wh.member(f"m{i:02d}", birth=D(2015, 1, 1) if i == 36 else D(1950, 1, 1))
    with wh.engine.begin() as conn:
        conn.execute(update(MemberMonth.__table__).where(MemberMonth.__table__.c.person_id == "m37")
                     .values(hospice_flag=True))
    assert load_services(wh.engine, FIXTURES / "mtm_services.csv") == 67
    r = cmr_rate(wh.engine, 2025)
    assert (r["denominator"], r["numerator"], r["rate"]) == (37, 26, round(26 / 37, 4))


def test_cmr_rate_not_reported_below_31(wh, tmp_path):
    f = tmp_path / "few.csv"
    f.write_text("record_id,person_id,record_type,start_date,end_date,provider_npi\n"
                 "E1,a,enrollment,2025-01-01,,\nC1,a,cmr,2025-03-01,,\n")
    wh.member("a")
    load_services(wh.engine, f)
    r = cmr_rate(wh.engine, 2025)
    assert r["rate"] is None and r["status"].startswith("not reportable")


def test_bad_service_row_names_line_and_field(wh, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("record_id,person_id,record_type,start_date,end_date,provider_npi\nE1,a,visit,2025-01-01,,\n")
    with pytest.raises(ServiceFileError, match="line 2: invalid record_type"):
        load_services(wh.engine, f)


def _did_state(wh, effect):
    services = ["record_id,person_id,record_type,start_date,end_date,provider_npi"]
    for i in range(24):
        pid = f"d{i:02d}"
        treated = i < 12
        wh.member(pid, start=D(2024, 1, 1))
        noise = Decimal((i * 37) % 11)
        pre = Decimal(500) + noise
        post = pre - (effect if treated else 0) + Decimal((i * 53) % 7) - 3
        _regimen(wh, pid, FOUR, paid=post / 4)
        for ndc in FOUR:
            wh.fill(pid, ndc, D(2024, 6, 1), 30, 30, paid=pre / 4)
        if treated:
            services.append(f"E{i},{pid},enrollment,2025-02-01,,")
    return "\n".join(services) + "\n"


@pytest.mark.parametrize("effect,significant", [(Decimal(200), True), (Decimal(0), False)])
def test_did_reports_effect_or_plainly_none(wh, tmp_path, effect, significant):
    f = tmp_path / "svc.csv"
    f.write_text(_did_state(wh, effect))
    load_services(wh.engine, f)
    run_eligibility(wh.engine, 2025, "minnesota_medicaid")
    r = evaluate_targeting(wh.engine, 2025, "minnesota_medicaid")
    assert (r["treated"], r["comparison"]) == (12, 12)
    total = r["outcomes"]["total_paid"]
    assert total["significant"] is significant
    if significant:
        assert total["estimate"] == pytest.approx(-200, abs=5)
        assert total["ci_low"] < total["estimate"] < total["ci_high"] < 0
        assert "total_paid" in r["verdict"]
    else:
        assert r["verdict"].startswith("no statistically significant effect")
