"""settle_year end to end on both backends: a spread of outcomes (savings, corridor, two-sided losses,
one-sided losses, capped savings), multi-payer rows adding up to 'combined', and the checks."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from savings.population import check_settlement, settle_year
from savings.work_tables import settlement
from tests.savings_population.scenario import Feed

# entity -> (risk arrangement, [(person, payer, base-year cost, performance-year cost)])
ENTITIES = {
    "E_SAVE": ("one_sided", [("S1", "medicaid", 10000, 9000), ("S2", "medicaid", 10000, 9000),
                             ("S3", "mco", 10000, 9000)]),
    "E_CORR": ("one_sided", [("C1", "medicaid", 10000, 9900), ("C2", "medicaid", 10000, 9900)]),
    "E_LOSS": ("two_sided", [("L1", "medicaid", 10000, 10500), ("L2", "medicaid", 10000, 10500)]),
    "E_LOSS1": ("one_sided", [("O1", "medicaid", 10000, 12000), ("O2", "medicaid", 10000, 12000)]),
    "E_CAP": ("one_sided", [("K1", "medicaid", 10000, 5000), ("K2", "medicaid", 10000, 5000)]),
}

METHOD = {
    "id": "test_m", "program_id": "ACO1",
    "attribution": {"method": "enrollment"},
    "cost": {"runout_months": 3},
    "benchmark": {"base_years": [2023], "base_weights": [1.0], "trend": {"value": 0.0}},
    "settlement": {"msr": 0.02, "max_share_rate": 0.5, "loss_share_rate": 0.5, "savings_cap_pct": 0.10,
                   "loss_cap_pct": 0.05, "settle_by": "combined"},
}


@pytest.fixture
def aco_feed(tmp_path):
    f = Feed(tmp_path / "feed")
    f.program("ACO1")
    for e, (risk, members) in ENTITIES.items():
        f.entity(e, "ACO1", risk)
        for person, payer, base, perf in members:
            f.member(person, start="2023-01-01", payer=payer, icm_program_id="ACO1", icm_entity_id=e)
            f.claim(person, "2023-03-15", f"{base}.00", payer=payer)
            f.claim(person, "2024-03-15", f"{perf}.00", payer=payer)
    return f


def _binding(rows):
    return {r["entity_id"]: r for r in rows if r["payer"] == "combined"}


def test_settle_year_spread_of_outcomes(aco_feed, warehouse_url):
    engine = aco_feed.load(warehouse_url)
    from measures.tables import measure_result
    with engine.begin() as conn:
        conn.execute(insert(measure_result), [{
            "measure_id": "FUH", "measurement_year": 2024, "rate_id": "7day", "stratum_type": "entity",
            "stratum_value": "E_SAVE", "rate_type": "proportion", "numerator": 3, "denominator": 4, "rate": 0.75,
            "status": "ok", "computed_at": dt.datetime(2025, 1, 1)}])
    rows = settle_year(engine, METHOD, 2024)
    got = _binding(rows)
    assert set(got) == set(ENTITIES)
    s = got["E_SAVE"]
    money = ("benchmark", "expenditure", "savings", "generated", "earned", "owed")
    assert all(isinstance(s[k], Decimal) and s[k].as_tuple().exponent == -2 for k in money), "cents, Decimal"
    assert s["benchmark"] == Decimal("30000.00") and s["expenditure"] == Decimal("27000.00")
    assert s["savings_rate"] == Decimal("0.1") and s["earned"] == Decimal("1500.00") and s["owed"] == 0
    assert "1 measure results" in s["breakdown"]["quality_note"]
    assert got["E_CORR"]["generated"] == 0 and got["E_CORR"]["earned"] == 0
    assert got["E_LOSS"]["owed"] == Decimal("500.00") and got["E_LOSS"]["earned"] == 0
    assert got["E_LOSS1"]["owed"] == 0 and got["E_LOSS1"]["generated"] == 0
    assert got["E_CAP"]["earned"] == Decimal("2000.00"), "capped at 10% of the benchmark"
    per_payer = [r for r in rows if r["entity_id"] == "E_SAVE" and r["payer"] != "combined"]
    assert {r["payer"] for r in per_payer} == {"medicaid", "mco"}
    assert sum(r["benchmark"] for r in per_payer) == s["benchmark"]
    assert all(r["binding"] == 0 for r in per_payer) and s["binding"] == 1
    with engine.connect() as conn:
        stored = conn.execute(select(settlement).where(settlement.c.entity_id == "E_CAP",
                                                       settlement.c.payer == "combined")).one()
    assert stored.earned == Decimal("2000.00")
    steps = [st["step"] for st in json.loads(stored.breakdown)["steps"]]
    assert steps == ["savings", "corridor", "sharing", "savings_cap", "result"]
    outcomes = check_settlement(engine, 2024)
    assert all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]
    assert {o.name for o in outcomes} >= {"payers_add_up_to_combined", "entities_add_up_to_program",
                                          "caps_respected", "no_entity_earns_and_owes",
                                          "one_entity_per_person_month", "work_tables_unique"}


def test_trend_risk_and_methodology_object(aco_feed, warehouse_url):
    engine = aco_feed.load(warehouse_url)
    method = {**METHOD, "benchmark": {"base_years": [-1], "base_weights": [1.0], "trend": {"value": 0.05}}}
    got = _binding(settle_year(engine, method, 2024))
    # 5% trend: E_CORR benchmark 21000 vs 19800 -> 5.7% savings, now beyond the MSR
    assert got["E_CORR"]["benchmark"] == Decimal("21000.00")
    assert got["E_CORR"]["earned"] == Decimal("600.00")
    pytest.importorskip("savings.methodology")
    from savings.methodology import parse_methodology
    m = parse_methodology({
        "name": "engine_m", "provenance": {"source": ["test"]}, "msr": {"type": "none"},
        "settlement": {"max_share_rate": "0.6", "two_sided": True, "performance_payment_limit": "0.2",
                       "loss_rate": {"rule": "flat", "flat_rate": "0.4"},
                       "loss_limit": {"type": "pct_benchmark", "pct_benchmark": "0.1"}},
        "benchmark": {"base_years": [2023], "base_weights": ["1"], "trend": {"value": "0"}}})
    got = _binding(settle_year(engine, m, 2024, population={"program_id": "ACO1",
                                                            "attribution": {"method": "enrollment"}}))
    assert got["E_CORR"]["earned"] == Decimal("120"), "no MSR: first-dollar sharing (60%) of 1% savings ($200)"
    assert got["E_LOSS"]["owed"] == Decimal("400"), "40% of $1,000 losses"
    assert got["E_LOSS1"]["owed"] == 0, "one-sided entity under a two-sided methodology"
    assert got["E_CORR"]["breakdown"]["engine"] == "savings.settlement.settle"
    assert all(o.passed for o in check_settlement(engine, 2024, "engine_m"))


def test_bad_methodology_names_the_field(warehouse_url):
    from pydantic import ValidationError

    from savings.population import PopulationConfig
    with pytest.raises(ValidationError, match="base_weights"):
        PopulationConfig.from_any({"benchmark": {"base_years": [2023], "base_weights": [0.5]}})


def test_settle_cli_json_csv_and_errors(aco_feed, warehouse_url, tmp_path, capsys):
    import yaml

    from icm.cli import main
    engine = aco_feed.load(warehouse_url)
    engine.dispose()
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(METHOD))
    assert main(["settle", "--methodology", str(path), "--year", "2024", "--warehouse", warehouse_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5 + 6, "one row per entity x payer plus combined (E_SAVE has two payers)"
    assert main(["settle", "--methodology", str(path), "--year", "2024", "--warehouse", warehouse_url,
                 "--format", "csv", "--no-prepare"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("year,methodology_id,program_id,entity_id,payer") and len(lines) == 12
    path.write_text(yaml.safe_dump({**METHOD, "settlement": {"max_share_rate": 2}}))
    assert main(["settle", "--methodology", str(path), "--year", "2024", "--warehouse", warehouse_url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "settlement.max_share_rate" in err[0]


def test_quality_scheme_scores_entity_measure_results(aco_feed, warehouse_url):
    pytest.importorskip("savings.quality")
    engine = aco_feed.load(warehouse_url)
    from measures.tables import measure_result
    with engine.begin() as conn:
        conn.execute(insert(measure_result), [{
            "measure_id": "FUH", "measurement_year": 2024, "rate_id": "7day", "stratum_type": "entity",
            "stratum_value": e, "rate_type": "proportion", "numerator": 0, "denominator": 1, "rate": rate,
            "status": "ok", "computed_at": dt.datetime(2025, 1, 1)} for e, rate in (("E_SAVE", 0.35), ("E_CAP", 0.6))])
    scheme = {"measures": {"FUH:7day": {"benchmarks": [{"rate": 0.3, "points": 1}, {"rate": 0.5, "points": 2}]}}}
    method = {**METHOD, "quality": {"scaling": "multiplicative", "scheme": scheme}}
    got = _binding(settle_year(engine, method, 2024))
    assert got["E_SAVE"]["quality_score"] == Decimal("0.5")       # 1 of 2 points
    assert got["E_SAVE"]["earned"] == Decimal("750.00"), "3000 x 0.5 x 0.5"
    assert got["E_CAP"]["quality_score"] == 1
    assert got["E_CORR"]["quality_score"] == 0.0, "no result reported scores zero"
    assert "score_quality" in got["E_SAVE"]["breakdown"]["quality_note"]


def test_work_tables_unique_check_catches_a_repeated_key(aco_feed, warehouse_url):
    """attribution / cost / risk rows carry no PRIMARY KEY (migration 0006): the settlement check finds a repeat."""
    from savings.population.run import check_work_tables_unique
    from savings.work_tables import cost_person_year

    engine = aco_feed.load(warehouse_url)
    settle_year(engine, METHOD, 2024)
    assert check_work_tables_unique(engine, 2024).passed
    with engine.begin() as conn:
        row = conn.execute(select(cost_person_year).where(cost_person_year.c.year == 2024).limit(1)).one()
        conn.execute(insert(cost_person_year).values(**row._mapping))
    outcome = check_work_tables_unique(engine, 2024)
    assert not outcome.passed and "cost_person_year" in outcome.detail
