"""Public API: registry, compute statuses, checks, CLI, bench, value-set registry, coding era, migration."""
from __future__ import annotations

import json

from measures import checks
from measures.registry import all_measures
from measures.valuesets import default_registry
from tests.measures.scenario import D

Y = 2024
REQUIRED = {"FUH-HH", "FUM-HH", "FUA-HH", "IET-HH", "PCR-HH", "OUD-HH", "AIF-HH", "IU-HH", "AMB-HH", "PQI92-HH",
            "COL-HH", "CBP-HH", "CDF-HH", "PQI01-AD", "PQI05-AD", "PQI08-AD", "PQI15-AD", "OHD-AD", "COB-AD",
            "AMM-AD", "SAA-AD", "PDC-STA", "PDC-RASA", "PDC-DR"}


def _scenario(wh):
    wh.provider("1111111111", mh=True)
    for pid in ("a", "b", "c"):
        wh.person(pid, birth=D(1975, 1, 1))
        wh.enroll(pid, D(2022, 1, 1), D(2025, 12, 31))
        wh.inpatient(pid, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
        wh.ed(pid, D(Y, 6, 1), ["F1120"])
    wh.visit("a", D(Y, 3, 8), npi="1111111111")


def test_registry_lists_every_measure_with_title():
    ms = all_measures()
    assert REQUIRED <= {m.id for m in ms}
    assert all(m.title and m.rates and m.card for m in ms)


def test_generator_codes_are_in_the_value_sets():
    reg = default_registry()
    has = lambda vs, *codes: set(codes) <= set(reg.codes(vs))  # noqa: E731
    assert has("mental_illness", "F200", "F209", "F250", "F311", "F319", "F320", "F329", "F331", "F339", "F411",
               "F431", "F4310", "R45851")
    assert has("intentional_self_harm", "T1491XA")
    assert has("sud", "F1010", "F1020", "F10239", "F1110", "F1120", "F1123", "F1210", "F1420", "F1520")
    assert has("drug_overdose", "T400X1A", "T401X1A", "T402X1A", "T404X1A")
    assert has("pqi_05__chronic_obstructive_pulmonary_disorder", "J441", "J449")
    assert has("pqi_15__asthma_diagnosis_codes", "J4541", "J4551", "J45901")
    # AHRQ PQI v2023 counts only asthma with exacerbation/status asthmaticus: uncomplicated J45909 stays out
    assert not has("pqi_15__asthma_diagnosis_codes", "J45909")
    assert has("pqi_08__heart_failure_diagnosis_codes", "I110", "I509", "I5020", "I5030")
    assert has("colonoscopy", "G0121", "G0105", "45378") and has("fobt", "G0328", "82270")
    assert has("oud_med_buprenorphine_hcpcs", "J0571", "J0575", "Q9991", "Q9992")
    assert has("ndc_opioid", "00406036001", "00406852301", "00406853201", "00406832601")
    assert has("ed_rev", "0450") and has("bh_rev", "0900", "0919") and has("hospice_rev", "0651")


def test_compute_returns_rows_with_contract_keys_and_all_statuses(wh):
    _scenario(wh)
    rows = wh.compute(Y)
    keys = {"measure", "rate_id", "stratum", "numerator", "denominator", "exclusions", "rate", "small_cell", "status",
            "core_set_status", "lookback_status"}
    assert all(keys <= set(r) for r in rows)
    total = {(r["measure"], r["rate_id"]): r for r in rows if r["stratum"]["type"] == "total"}
    from measures.catalog import missing_rows
    registered = {m.id for m in all_measures()}
    assert {m for m, _ in total} == registered | {r["measure_id"] for r in missing_rows(Y, registered)}
    # the whole suite lists every FFY2025 Core Set measure (MY 2024) with a result or a stated reason
    assert total[("CPC-CH", "all")]["status"].startswith("not computable from claims: survey")
    assert total[("FUH-CH", "7_day")]["status"] == "ok" and total[("FUH-CH", "7_day")]["denominator"] == 0
    assert total[("FUH-HH", "7_day")]["numerator"] == 1 and total[("FUH-HH", "7_day")]["denominator"] == 3
    assert total[("PCR-HH", "oe_ratio")]["status"].startswith("not computable")   # licensed weights absent
    assert total[("SAA-AD", "adherent")]["status"] == "ok"


def test_checks_pass_on_computed_measures(wh):
    _scenario(wh)
    wh.compute(Y, "FUH-HH", "PCR-HH", "IU-HH")
    for mid in ("FUH-HH", "PCR-HH", "IU-HH"):
        outs = {o.name: o for o in checks.run_checks(wh.engine, Y, mid)}
        assert {"numerator_bounds", "proportion_range", "detail_aggregate_agree", "detail_unique", "enrollment_rule",
                "plausibility_core_set_quartiles"} <= set(outs)
        assert all(o.passed for o in outs.values() if o.blocking), outs
    fuh = {o.name: o for o in checks.run_checks(wh.engine, Y, "FUH-HH")}
    assert "FUH-AD" in fuh["plausibility_core_set_quartiles"].detail


def test_checks_detect_tampered_aggregate(wh):
    from sqlalchemy import update

    from measures.tables import measure_result
    _scenario(wh)
    wh.compute(Y, "FUH-HH")
    with wh.engine.begin() as conn:
        conn.execute(update(measure_result).where(measure_result.c.measure_id == "FUH-HH",
                                                  measure_result.c.rate_id == "7_day",
                                                  measure_result.c.stratum_type == "total").values(numerator=5))
    outs = {o.name: o for o in checks.run_checks(wh.engine, Y, "FUH-HH")}
    assert not outs["detail_aggregate_agree"].passed
    assert not outs["numerator_bounds"].passed


def test_checks_detect_a_duplicated_detail_unit(wh):
    """measure_detail has no primary key (migration 0004); the blocking check catches a duplicate unit."""
    from sqlalchemy import insert, select

    from measures.tables import measure_detail
    _scenario(wh)
    wh.compute(Y, "FUH-HH")
    with wh.engine.begin() as conn:
        row = conn.execute(select(measure_detail).where(measure_detail.c.measure_id == "FUH-HH").limit(1)).one()
        conn.execute(insert(measure_detail).values(**row._mapping))
    outs = {o.name: o for o in checks.run_checks(wh.engine, Y, "FUH-HH")}
    assert not outs["detail_unique"].passed and outs["detail_unique"].blocking
    assert outs["detail_unique"].detail.startswith("1 (rate, unit) keys")


def test_icd9_era_reports_not_computable(wh):
    wh.person("p", birth=D(1950, 1, 1))
    wh.enroll("p", D(2009, 1, 1), D(2010, 12, 31))
    wh.inpatient("p", D(2010, 3, 1), D(2010, 3, 5), ["29620"], dx_type="icd-9-cm")
    rows = wh.compute(2010, "FUH-HH")
    assert all(r["status"].startswith("not computable for this coding era") for r in rows)


def test_cli_json_output(wh, capsys):
    from icm.cli import main
    _scenario(wh)
    assert main(["measures", "--year", str(Y), "--measure", "FUH-HH", "--warehouse", wh.url]) == 0
    data = json.loads(capsys.readouterr().out)
    tot = [r for r in data if r["rate_id"] == "30_day" and r["stratum"] == {"type": "total", "value": "total"}]
    assert tot and tot[0]["denominator"] == 3 and tot[0]["measure"] == "FUH-HH"
    # the rate in its reported unit, as the QMR export shows it: 1 of 3 followed up = 33.3 percent (half-up, 1 d.p.)
    assert tot[0]["numerator"] == 1 and tot[0]["rate"] == 33.3 and tot[0]["rate_unit"] == "percent"



def test_cli_warns_on_a_measure_outside_that_ffys_core_set(wh, capsys):
    """AMB-HH left the Health Home Core Set after FFY2024; measurement year 2024 reports to FFY2025, so the CLI
    still computes it, says so on stderr and carries the status in every row."""
    from icm.cli import main
    _scenario(wh)
    assert main(["measures", "--year", str(Y), "--measure", "AMB-HH", "FUH-HH", "--warehouse", wh.url]) == 0
    captured = capsys.readouterr()
    warning_lines = [line for line in captured.err.splitlines() if line.startswith("icm: warning:")]
    assert [line.split(":")[2].strip() for line in warning_lines] == ["AMB-HH"]
    assert "not in the FFY2025" in warning_lines[0]
    data = json.loads(captured.out)
    assert {r["measure"] for r in data} == {"AMB-HH", "FUH-HH"}
    assert all(r["core_set_status"].startswith("not in the FFY2025") for r in data if r["measure"] == "AMB-HH")
    assert all(r["core_set_status"].startswith("in the FFY2025") for r in data if r["measure"] == "FUH-HH")
    assert all("lookback_status" in r for r in data)

def test_bench_reports_seconds_and_ratio(wh):
    from measures.bench import run
    _scenario(wh)
    res = run(wh.engine, Y, ["FUH-HH", "IU-HH"])
    assert set(res["measures"]) == {"FUH-HH", "IU-HH"} and res["floor_seconds"] > 0
    assert all(v["seconds"] > 0 and v["ratio_to_floor"] > 0 for v in res["measures"].values())


def test_readme_cards_are_generated_from_the_definitions():
    from pathlib import Path

    from measures.docs import render
    readme = (Path(__file__).resolve().parents[2] / "measures" / "README.md").read_text()
    assert readme == render(), "regenerate with: python -m measures.docs > measures/README.md"
    assert all(f"### {m.id} " in readme for m in all_measures())
