"""export_year on DuckDB and PostgreSQL: files, suppression, qualifier figures, verification, CLI errors."""
from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import insert

from exports import NothingToExport, export_year, verify_export
from icm.cli import main
from measures.tables import measure_result
from savings.work_tables import attribution, settlement
from warehouse.engine import make_engine
from warehouse.models import IcmEntity, IcmProgram, MemberMonth

YEAR = 2025
NOW = dt.datetime(2026, 1, 1)


def _result(rate_id, stype, svalue, num, den, kind="proportion", measure="FUH-HH"):
    rate = None if not den else Decimal(num) / Decimal(den) * (1000 if kind == "per_1000_mm" else 1)
    return dict(measure_id=measure, measurement_year=YEAR, rate_id=rate_id, stratum_type=stype, stratum_value=svalue,
                rate_type=kind, numerator=num, denominator=den, exclusions=0, rate=rate,
                small_cell=1 <= num <= 10 or 1 <= den <= 10, status="ok",
                value_set_versions=json.dumps({"mental_illness": "public-2025"}), computed_at=NOW)


def _member_months(person, months, age, ds, hh="HH-SMI"):
    return [dict(person_id=person, month_start=dt.date(YEAR, m, 1), data_source="medicaid", payer="medicaid",
                 plan="ffs", member_id=person, payer_type="medicaid", enrollment_span_id=f"{person}-s",
                 delivery_system=ds, health_home_program_id=hh, age_at_month_start=age, days_enrolled=28)
            for m in months]


def _settlement(entity, payer, benchmark, expenditure, earned, binding):
    return dict(year=YEAR, methodology_id="demo", program_id="ACO-1", entity_id=entity, payer=payer,
                risk_arrangement="one_sided", person_years=Decimal("10.5"), benchmark=Decimal(benchmark),
                expenditure=Decimal(expenditure), savings=Decimal(benchmark) - Decimal(expenditure),
                savings_rate=Decimal("0.05"), msr=Decimal("0.02"), generated=Decimal(benchmark) - Decimal(expenditure),
                quality_score=Decimal("0.9"), sharing_rate=Decimal("0.45"), earned=Decimal(earned), owed=Decimal(0),
                binding=binding, breakdown="{}", computed_at=NOW)


@pytest.fixture
def populated(warehouse_url):
    engine = make_engine(warehouse_url)
    results = [_result("7_day", "total", "total", 40, 200), _result("30_day", "total", "total", 90, 200),
               _result("7_day", "sex", "F", 5, 80), _result("7_day", "sex", "M", 30, 100),
               _result("7_day", "sex", "unknown", 5, 20),
               _result("30_day", "sex", "F", 40, 80), _result("30_day", "sex", "M", 35, 100),
               _result("30_day", "sex", "unknown", 15, 20),
               _result("ed_visits", "total", "total", 25, 12000, kind="per_1000_mm", measure="AMB-HH")]
    mm = (_member_months("P1", range(1, 13), 40, "FFS") + _member_months("P2", range(1, 7), 15, "MCO")
          + [r for i in range(3, 25) for r in _member_months(f"P{i}", range(1, 4), 30 + i, "MCO")])
    persons = [(entity, payer) for entity, payer, n in (("E1", "medicaid", 40), ("E1", "mco", 4), ("E2", "medicaid", 6))
               for _ in range(n)]
    att = [dict(year=YEAR, program_id="ACO-1", person_id=f"A{k}", month_start=dt.date(YEAR, 1, 1), payer=payer,
                entity_id=entity, method="roster", reason="roster") for k, (entity, payer) in enumerate(persons)]
    with engine.begin() as conn:
        conn.execute(insert(measure_result), results)
        conn.execute(insert(MemberMonth.__table__), mm)
        conn.execute(insert(IcmProgram.__table__), [dict(program_id="HH-SMI", program_name="x",
                                                         program_type="health_home_smi", state="XX"),
                                                    dict(program_id="ACO-1", program_name="y", program_type="aco",
                                                         state="XX")])
        conn.execute(insert(IcmEntity.__table__), [dict(entity_id="HHP1", program_id="HH-SMI", entity_name="a"),
                                                   dict(entity_id="E1", program_id="ACO-1", entity_name="b")])
        conn.execute(insert(attribution), att)
        conn.execute(insert(settlement), [
            _settlement("E1", "combined", "1000000", "950000", "22500", 1),
            _settlement("E1", "medicaid", "900000", "860000", "0", 0),
            _settlement("E1", "mco", "100000", "90000", "0", 0),
            _settlement("E2", "combined", "200000", "190000", "4500", 1)])
    yield engine
    engine.dispose()


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_export_writes_qmr_statements_qualifier_and_manifest(populated, tmp_path):
    manifest = export_year(populated, YEAR, tmp_path)
    assert manifest["ffy"] == YEAR + 1
    assert set(manifest["files"]) == {"qmr_measures", "settlement_statements", "qmr_qualifier"}
    rows = _read(tmp_path / "qmr_measures_FFY2026.csv")
    assert len(rows) == 9 == manifest["files"]["qmr_measures"]["rows"]
    total7 = next(r for r in rows if r["rate_id"] == "7_day" and r["stratum_type"] == "total")
    assert (total7["numerator"], total7["denominator"], total7["rate"]) == ("40", "200", "20.0")
    assert total7["core_set"] == "Health Home" and total7["in_ffy_core_set"] == "true"
    assert total7["specification"] == "mental_illness=public-2025"
    amb = next(r for r in rows if r["measure"] == "AMB-HH")
    assert amb["rate"] == "2.1" and amb["in_ffy_core_set"] == "false"     # AMB-HH left the set after FFY 2024
    assert json.loads((tmp_path / "manifest.json").read_text())["files"]["qmr_measures"]["sha256"]


def test_export_suppresses_small_strata_and_their_complement(populated, tmp_path):
    export_year(populated, YEAR, tmp_path)
    rows = _read(tmp_path / "qmr_measures_FFY2026.csv")
    seven = {r["stratum_value"]: r for r in rows if r["rate_id"] == "7_day" and r["stratum_type"] == "sex"}
    # F (5) and unknown (5) are small; both hidden, M shown
    assert seven["F"]["suppressed"] == seven["unknown"]["suppressed"] == "true"
    assert seven["F"]["numerator"] == seven["F"]["rate"] == "" and seven["M"]["numerator"] == "30"
    thirty = {r["stratum_value"]: r for r in rows if r["rate_id"] == "30_day" and r["stratum_type"] == "sex"}
    assert all(r["suppressed"] == "false" for r in thirty.values())   # 30-day counts are all > 10
    assert verify_export(tmp_path, YEAR) == []


def test_settlement_statements_hide_entities_with_ten_or_fewer_persons(populated, tmp_path):
    export_year(populated, YEAR, tmp_path)
    rows = {(r["entity_id"], r["payer"]): r for r in _read(tmp_path / "settlement_statements_2025.csv")}
    assert rows[("E1", "mco")]["suppressed"] == "true" and rows[("E1", "mco")]["benchmark"] == ""
    assert rows[("E2", "combined")]["persons"] == "" and rows[("E2", "combined")]["earned"] == ""
    # The qualifier publishes the program's paid total (27,000 = E1 22,500 + E2 4,500): with E1's paying row
    # shown, E2's would be 27,000 - 22,500. E1's combined row is hidden too; it is then one of two hidden cells
    # of its own payer relation (combined = medicaid + mco), so the medicaid row can stay.
    assert rows[("E1", "combined")]["suppression_reason"].startswith("complementary")
    assert rows[("E1", "combined")]["earned"] == "" and rows[("E1", "medicaid")]["persons"] == "40"


def test_qualifier_counts_ages_delivery_systems_and_savings(populated, tmp_path):
    export_year(populated, YEAR, tmp_path)
    q = json.loads((tmp_path / "qmr_qualifier_FFY2026.json").read_text())
    assert q["health_home_enrollees"] == 24
    # one child: suppressed; 23 adults would give it back as 24 - 23, so adults are hidden too (issue 21 item 3)
    assert q["child_enrollees"] is None and q["adult_enrollees"] is None
    assert (q["minimum_age"], q["maximum_age"]) == (15, 54)
    assert q["health_home_providers"] == 1
    shares = q["delivery_system_percent_of_member_months"]
    # 12 FFS months, 6 + 22 x 3 = 72 MCO months
    assert shares["FFS"] == "14.29" and shares["MCO"] == "85.71" and shares["PCCM"] is None
    (saving,) = q["cost_savings"]
    assert saving["savings"] == "60000.00" and saving["earned"] == "27000.00", "the two paying (combined) rows"
    assert saving["method"].startswith("benchmark settlement") and "icm evaluate" in saving["method"]


def test_verify_export_catches_a_leaked_small_count(populated, tmp_path):
    export_year(populated, YEAR, tmp_path)
    path = tmp_path / "qmr_measures_FFY2026.csv"
    rows = _read(path)
    rows[2]["numerator"] = "5"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    problems = verify_export(tmp_path, YEAR)
    assert len(problems) == 1 and "count of 1-10" in problems[0]


def test_nothing_to_export_is_a_clear_error(warehouse_url, tmp_path, capsys):
    engine = make_engine(warehouse_url)
    with pytest.raises(NothingToExport):
        export_year(engine, YEAR, tmp_path)
    engine.dispose()
    assert main(["export", "--year", str(YEAR), "--warehouse", warehouse_url, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err   # the CLI refuses a year without enrollment before export_year runs
    assert err.startswith("icm: error: --year 2025: the warehouse holds no enrollment") and "Traceback" not in err


def test_icm_export_prints_the_manifest(populated, warehouse_url, tmp_path, capsys):
    populated.dispose()   # DuckDB: one process, but release the file before the CLI opens it
    assert main(["export", "--year", str(YEAR), "--warehouse", warehouse_url, "--out", str(tmp_path / "x")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files"]["qmr_measures"]["suppressed_rows"] == 2
    assert (tmp_path / "x" / "settlement_statements_2025.csv").exists()


def test_rates_have_one_unit_and_a_label_on_every_row(populated, tmp_path):
    """Issue 21 item 4: a proportion is a percent in the QMR CSV and in the Dagster metadata alike, the unit is
    named on every row, and no row has an empty rate_label."""
    from measures.units import RATE_UNITS
    from orchestration.assets.measures import _rate_table, _rate_values

    export_year(populated, YEAR, tmp_path)
    rows = _read(tmp_path / "qmr_measures_FFY2026.csv")
    assert all(r["rate_label"] for r in rows), [r["rate_id"] for r in rows if not r["rate_label"]]
    assert all(r["rate_unit"] == RATE_UNITS[r["rate_type"]].name for r in rows)
    total7 = next(r for r in rows if r["rate_id"] == "7_day" and r["stratum_type"] == "total")
    assert (total7["rate"], total7["rate_unit"]) == ("20.0", "percent")               # 40 / 200
    amb = next(r for r in rows if r["measure"] == "AMB-HH")
    assert (amb["rate"], amb["rate_unit"]) == ("2.1", "per 1,000 member months")      # 25 / 12,000 x 1,000
    engine_row = {"rate_id": "7_day", "rate_type": "proportion", "stratum": {"type": "total", "value": "total"},
                  "numerator": 40, "denominator": 200, "exclusions": 0, "rate": 0.2, "status": "ok"}
    meta = _rate_values([engine_row])
    assert meta["7_day (percent)"].value == 20.0 and meta["7_day denominator"].value == 200.0
    assert "| 20.0 | percent |" in _rate_table([engine_row]).value


def test_every_column_of_every_export_file_is_in_the_data_dictionary(populated, tmp_path):
    """Issue 21 item 17: README.md in the export folder describes every file, every CSV column and JSON key (nested
    keys as `parent[].key`), the rate units and each measure's specification version."""
    import re

    manifest = export_year(populated, YEAR, tmp_path)
    readme = (tmp_path / "README.md").read_text()
    described = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.M))
    files = [f["path"] for f in manifest["files"].values()] + ["manifest.json"]
    for name in files:
        assert f"## `{name}`" in readme, name
        path = tmp_path / name
        if name.endswith(".csv"):
            with open(path, newline="") as fh:
                columns = next(csv.reader(fh))
        else:
            data = json.loads(path.read_text())
            columns = list(data) + [f"{k}[].{sub}" for k, v in data.items() if isinstance(v, list)
                                    for item in v if isinstance(item, dict) for sub in item]
        missing = [c for c in columns if c not in described]
        assert not missing, f"{name}: columns without a description: {missing}"
    assert "| FUH-HH | " in readme and "mental_illness=public-2025" in readme
    assert "| `proportion` | percent |" in readme and "Blank in CSV, `null` in JSON" in readme


def test_qmr_carries_core_set_and_lookback_status_and_catalogue_reasons(populated, tmp_path):
    """A Core Set measure the calculator cannot compute (a survey measure, from measures/catalog.py) is in the QMR
    file with its reason, the set it belongs to and its title; every row carries the two status columns."""
    from measures.catalog import core_set_measures, missing_rows

    survey = next(r for r in missing_rows(YEAR, set()) if r["measure_id"] == "CPA-AD")
    amb_status = "not in the FFY2026 Core Sets (was in Health Home FFY2020-FFY2024); computed because states still use it"
    with populated.begin() as conn:
        conn.execute(insert(measure_result), [dict(survey, computed_at=NOW)])
        conn.execute(measure_result.update().where(measure_result.c.measure_id == "AMB-HH")
                     .values(core_set_status=amb_status, lookback_status="full"))
    export_year(populated, YEAR, tmp_path)
    rows = _read(tmp_path / "qmr_measures_FFY2026.csv")
    cpa = next(r for r in rows if r["measure"] == "CPA-AD")
    assert "CPA-AD" in core_set_measures(YEAR + 1)["Adult"]
    assert cpa["core_set"] == "Adult" and cpa["in_ffy_core_set"] == "true" and cpa["measure_title"]
    assert cpa["status"].startswith("not computable from claims") and cpa["rate"] == ""
    assert cpa["core_set_status"] == "in the FFY2026 Adult Core Set"
    amb = next(r for r in rows if r["measure"] == "AMB-HH")
    assert (amb["core_set_status"], amb["lookback_status"]) == (amb_status, "full")
