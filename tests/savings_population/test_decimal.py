"""Money in Decimal on the warehouse settlement path (savings/README.md, "Warehouse path rounding").

Each case below is one where the previous float arithmetic was off (a cent, or the MSR decision): the exact
Decimal results are computed by hand in the comments. Also: the types are Decimal end to end, configured rates
stay exactly the decimals written, and money is rounded to cents half-up only when stored / paid.
"""
from __future__ import annotations

import json
from decimal import Decimal as D

import pandas as pd
import pytest
import yaml
from sqlalchemy import insert, select

from savings.population import PopulationConfig, check_settlement, compute_benchmarks, load_inputs, settle_amounts
from savings.population import settle_from_inputs
from savings.population.common import decimal_json, money
from savings.population.config import SettlementConfig
from savings.population.explore import as_float, inputs_from_persons, resettle
from savings.population.run import stored_row, write_settlement
from savings.work_tables import savings_input, settlement

MONEY = ("benchmark", "expenditure", "savings", "generated", "earned", "owed")
RATES = ("person_years", "benchmark_pc", "expenditure_pc", "savings_rate", "msr", "quality_score", "sharing_rate")

# one base year (PY - 1), 10% trend, no MSR, 50% sharing, no caps
METHOD = {"id": "dec", "program_id": "P1",
          "benchmark": {"base_years": [-1], "base_weights": [1.0], "trend": {"value": 0.1}},
          "settlement": {"msr": 0.0, "max_share_rate": 0.5, "loss_share_rate": 0.5, "savings_cap_pct": None,
                         "loss_cap_pct": None}}


def _input(year, expenditure, person_years="1", entity="E1", payer="medicaid", etype="adult", risk=None):
    py = D(person_years)
    return {"year": year, "program_id": "P1", "entity_id": entity, "payer": payer, "enrollment_type": etype,
            "persons": 1, "member_months": int(py * 12), "person_years": py, "expenditure": D(expenditure),
            "expenditure_untruncated": D(expenditure), "risk_score": None if risk is None else D(risk)}


def _settlement(**kw) -> SettlementConfig:
    return SettlementConfig.model_validate({"msr": 0, "max_share_rate": 0.5, "savings_cap_pct": None,
                                            "loss_cap_pct": None, **kw})


# --- benchmark ------------------------------------------------------------------------------------------------


def test_benchmark_exact_where_float_rounds_a_cent_low():
    # 1,234,567.15 x 1.1 = 1,358,023.865 exactly -> 1,358,023.87 half-up; in float the product is just below
    # the half cent and rounded to ...86
    assert round(1234567.15 * (1.0 + 0.1) ** 1, 2) == 1358023.86
    cfg = PopulationConfig.from_any(METHOD)
    bench = compute_benchmarks([_input(2023, "1234567.15"), _input(2024, "1000000.00")], cfg, 2024)
    b = bench[("P1", "E1", "medicaid")]
    assert b["benchmark"] == D("1358023.865") and isinstance(b["benchmark"], D)
    part = b["by_type"][0]["base_years"][0]
    assert part["trend_factor"] == D("1.1") and part["per_capita"] == D("1234567.15")
    assert all(isinstance(v, D) for v in (part["trend_factor"], part["risk_ratio"], part["weight"], part["restated"]))
    row = next(r for r in settle_from_inputs([_input(2023, "1234567.15"), _input(2024, "1000000.00")], cfg, 2024)
               if r["payer"] == "combined")
    assert row["benchmark"] == D("1358023.865"), "unrounded until written"
    assert row["savings"] == D("358023.865") and row["generated"] == D("358023.865")
    assert row["earned"] == D("179011.93"), "358,023.865 x 0.5 = 179,011.9325 -> cents"
    stored = stored_row(row)
    assert stored["benchmark"] == D("1358023.87") and stored["savings"] == D("358023.87")


def test_weighted_trended_benchmark_is_exact():
    # weights 0.1/0.3/0.6, trend 0.2: 0.1 x 1000 x 1.2^3 + 0.3 x 2000 x 1.2^2 + 0.6 x 3000 x 1.2
    #   = 172.8 + 864 + 2160 = 3196.8 per person-year; x 2.5 PY person-years = 7992
    cfg = PopulationConfig.from_any({**METHOD, "benchmark": {"base_years": [2021, 2022, 2023],
                                                             "base_weights": [0.1, 0.3, 0.6],
                                                             "trend": {"value": 0.2}}})
    inputs = [_input(2021, "1000.00"), _input(2022, "4000.00", "2"), _input(2023, "3000.00"),
              _input(2024, "7000.00", "2.5")]
    b = compute_benchmarks(inputs, cfg, 2024)[("P1", "E1", "medicaid")]
    t = b["by_type"][0]
    assert [p["trend_factor"] for p in t["base_years"]] == [D("1.728"), D("1.44"), D("1.2")]
    assert [p["weight"] for p in t["base_years"]] == [D("0.1"), D("0.3"), D("0.6")]
    assert t["benchmark_pc"] == D("3196.8") and b["benchmark"] == D("7992")
    assert b["expenditure"] == D("7000.00") and b["person_years"] == D("2.5")


def test_risk_ratio_cap_and_trend_override_are_exact():
    # PY risk 0.99 / base 0.90 = 1.1, capped at 1 + 0.03; trend override 0.035: 1000 x 1.035 x 1.03 = 1066.05
    cfg = PopulationConfig.from_any({**METHOD, "cost": {"risk_adjustment": {"model": "CMS-HCC", "cap_growth": 0.03}}})
    inputs = [_input(2023, "1000.00", risk="0.90"), _input(2024, "900.00", risk="0.99")]
    b = compute_benchmarks(inputs, cfg, 2024, trend=0.035)[("P1", "E1", "medicaid")]
    part = b["by_type"][0]["base_years"][0]
    assert part["risk_ratio"] == D("1.03") and part["trend_factor"] == D("1.035")
    assert b["benchmark"] == D("1066.05")


# --- settlement arithmetic -------------------------------------------------------------------------------------


def test_savings_rate_exactly_at_msr_generates():
    # (100,007.00 - 98,006.86) / 100,007.00 = 0.02 exactly (">=": at the MSR generates); float says 0.0199999...
    assert (100007.00 - 98006.86) / 100007.00 < 0.02
    r = settle_amounts(D("100007.00"), D("98006.86"), _settlement(msr=0.02), risk_arrangement="one_sided",
                       quality=1)
    assert r["savings_rate"] == D("0.02") and r["msr"] == D("0.02")
    assert r["generated"] == D("2000.14") and r["earned"] == D("1000.07") and r["owed"] == D("0.00")


def test_half_cent_shares_round_half_up():
    # savings 100,000.03 x 50% = 50,000.015 -> 50,000.02 (float gave 50,000.01)
    assert round((200000.03 - 100000.00) * 0.5, 2) == 50000.01
    r = settle_amounts(D("200000.03"), D("100000.00"), _settlement(), risk_arrangement="one_sided", quality=1)
    assert r["earned"] == D("50000.02") and r["steps"][-1] == {"step": "result", "earned": D("50000.02"),
                                                               "owed": D("0.00")}
    # savings 1,000.01 at 50% = 500.005 -> 500.01 (float: 1000.0099999999948 x 0.5 -> 500.00)
    assert round((101000.01 - 100000.00) * 0.5, 2) == 500.0
    r = settle_amounts(D("101000.01"), D("100000.00"), _settlement(), risk_arrangement="one_sided", quality=1)
    assert r["earned"] == D("500.01")
    # losses: 100,000.03 x 50% = 50,000.015 owed -> 50,000.02
    r = settle_amounts(D("100000.00"), D("200000.03"), _settlement(), risk_arrangement="two_sided", quality=1)
    assert r["owed"] == D("50000.02") and r["earned"] == D("0.00") and r["generated"] == D("-100000.03")


def test_quality_withhold_and_cap_exact():
    # 30,000.10 savings x (0.6 x 0.85 = 0.51) = 15,300.051; withhold 0.1 -> 13,770.0459 -> 13,770.05;
    # cap 0.1 x 130,000.10 = 13,000.01 binds
    s = _settlement(max_share_rate=0.6, withhold=0.1)
    r = settle_amounts(D("130000.10"), D("100000.00"), s, risk_arrangement="one_sided", quality=0.85)
    assert r["sharing_rate"] == D("0.51") and r["earned"] == D("13770.05")
    r = settle_amounts(D("130000.10"), D("100000.00"), s.model_copy(update={"savings_cap_pct": D("0.1")}),
                       risk_arrangement="one_sided", quality=0.85)
    cap = next(st for st in r["steps"] if st["step"] == "savings_cap")
    assert cap["cap"] == D("13000.010") and cap["capped"] and r["earned"] == D("13000.01")


def test_variable_msr_interpolation_is_exact():
    s = SettlementConfig.model_validate({"msr_type": "variable_table", "msr_table": [
        {"min_n": 500, "max_n": 1000, "low": 0.039, "high": 0.036}, {"min_n": 1001, "max_n": None, "low": 0.02}]})
    assert s.msr_for(750) == D("0.0375") and s.msr_for(400) == D("0.039") and s.msr_for(5000) == D("0.02")
    assert all(isinstance(b["low"], D) for b in s.msr_table)


# --- configuration -------------------------------------------------------------------------------------------


def test_configured_rates_are_exact_decimals(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({**METHOD, "benchmark": {"base_years": [-3, -2, -1], "base_weights": [0.1, 0.3, 0.6],
                                                            "trend": {"value": 0.1}},
                                    "cost": {"completion_factor": 0.97,
                                             "truncation": {"type": "per_member_annual", "threshold_usd": 100000.1}},
                                    "settlement": {"msr": 0.02, "max_share_rate": 0.3, "withhold": 0.015}}))
    cfg = PopulationConfig.from_any(str(path))
    assert str(cfg.benchmark.trend.value) == "0.1", "read through its decimal text, not the binary float 0.1"
    assert cfg.benchmark.base_weights == [D("0.1"), D("0.3"), D("0.6")] and sum(cfg.benchmark.base_weights) == 1
    assert cfg.cost.completion_factor == D("0.97") and cfg.cost.truncation.threshold_usd == D("100000.1")
    s = cfg.settlement
    assert (s.msr, s.max_share_rate, s.withhold, s.savings_cap_pct) == (D("0.02"), D("0.3"), D("0.015"), D("0.10"))
    assert all(isinstance(v, D) for v in (s.msr, s.max_share_rate, s.loss_share_rate, s.loss_min_rate,
                                          s.loss_max_rate, s.loss_cap_pct, s.withhold))
    # the methodology stored in a settlement breakdown reloads to the same decimals
    again = PopulationConfig.model_validate(json.loads(json.dumps(cfg.model_dump(mode="json"))))
    assert again.settlement == s and again.benchmark == cfg.benchmark


def test_engine_methodology_maps_to_decimals():
    pytest.importorskip("savings.methodology")
    from savings.methodology import parse_methodology
    m = parse_methodology({
        "name": "engine_m", "provenance": {"source": ["test"]}, "msr": {"type": "fixed", "value": "0.02"},
        "settlement": {"max_share_rate": "0.6", "two_sided": True, "performance_payment_limit": "0.2",
                       "loss_rate": {"rule": "flat", "flat_rate": "0.4"},
                       "loss_limit": {"type": "pct_benchmark", "pct_benchmark": "0.1"}},
        "benchmark": {"base_years": [2022, 2023, 2024], "base_weights": [], "trend": {"value": "0.035"}}})
    cfg = PopulationConfig.from_any(m)
    s = cfg.settlement
    assert (s.msr, s.max_share_rate, s.savings_cap_pct, s.loss_share_rate, s.loss_cap_pct) == (
        D("0.02"), D("0.6"), D("0.2"), D("0.4"), D("0.1"))
    assert cfg.benchmark.trend.value == D("0.035")
    assert all(isinstance(w, D) for w in cfg.benchmark.base_weights)


# --- rows, storage and types ----------------------------------------------------------------------------------


def test_rows_are_decimal_and_breakdown_json_is_exact_text():
    cfg = PopulationConfig.from_any(METHOD)
    inputs = [_input(2023, "1234567.15"), _input(2024, "1000000.00"),
              _input(2023, "500.00", payer="mco"), _input(2024, "600.01", payer="mco")]
    rows = settle_from_inputs(inputs, cfg, 2024)
    assert len(rows) == 3
    for r in rows:
        assert all(isinstance(r[k], D) for k in (*MONEY, *RATES)), r
        assert r["earned"].as_tuple().exponent == -2 and r["owed"].as_tuple().exponent == -2
        text = json.dumps(r["breakdown"], default=decimal_json)
        assert "E+" not in text and "E-" not in text
        back = json.loads(text)
        assert D(back["steps"][0]["benchmark"]) == r["benchmark"], "the breakdown keeps the unrounded amount"
        assert back["settlement"]["max_share_rate"] == "0.5" and back["trend"] == "0.1"
    comb = next(r for r in rows if r["payer"] == "combined")
    payers = [r for r in rows if r["payer"] != "combined"]
    assert comb["benchmark"] == sum(r["benchmark"] for r in payers) == D("1358023.865") + D("550.00")
    stored = [stored_row(r) for r in rows]
    assert all(s[k].as_tuple().exponent == -2 for s in stored for k in MONEY)
    assert all(s[k].as_tuple().exponent == -8 for s in stored for k in RATES)
    assert money(D("-0.004")) == 0 and str(money(D("-0.004"))) == "0.00", "no negative zero"


def test_stored_settlement_and_inputs_are_exact(warehouse_url):
    from warehouse.engine import make_engine

    engine = make_engine(warehouse_url)
    rows = [_input(2023, "1234567.15"), _input(2024, "1000000.00")]
    with engine.begin() as conn:
        conn.execute(insert(savings_input), rows)
    loaded = load_inputs(engine, [2023, 2024], "P1")
    assert all(isinstance(r[k], D) for r in loaded for k in ("expenditure", "person_years"))
    assert {r["year"]: r["expenditure"] for r in loaded} == {2023: D("1234567.15"), 2024: D("1000000.00")}
    cfg = PopulationConfig.from_any(METHOD)
    written = write_settlement(engine, settle_from_inputs(loaded, cfg, 2024), 2024, cfg.id)
    with engine.connect() as conn:
        got = conn.execute(select(settlement).where(settlement.c.payer == "combined")).one()
    assert (got.benchmark, got.savings, got.generated, got.earned, got.owed) == (
        D("1358023.87"), D("358023.87"), D("358023.87"), D("179011.93"), D("0.00"))
    assert got.savings_rate == D("0.26363592"), "358,023.865 / 1,358,023.865 = 0.2636359155... -> 8 d.p."
    assert next(r for r in written if r["payer"] == "combined")["benchmark"] == D("1358023.87")
    assert json.loads(got.breakdown)["steps"][0]["benchmark"] == "1358023.865"
    outcomes = check_settlement(engine, 2024, cfg.id)
    assert all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]
    engine.dispose()


def test_notebook_resettle_in_decimal():
    persons = pd.DataFrame([
        {"year": 2023, "program_id": "P1", "entity_id": "E1", "payer": "medicaid", "enrollment_type": "adult",
         "person_id": "A", "member_months": 12, "cost": D("1234567.15"), "risk": None},
        {"year": 2024, "program_id": "P1", "entity_id": "E1", "payer": "medicaid", "enrollment_type": "adult",
         "person_id": "A", "member_months": 12, "cost": D("1000000.00"), "risk": None},
        {"year": 2024, "program_id": "P1", "entity_id": "E1", "payer": "medicaid", "enrollment_type": "adult",
         "person_id": "B", "member_months": 7, "cost": D("1000.00"), "risk": None}])
    inputs = inputs_from_persons(persons, {"type": "per_member_annual", "threshold_usd": 1000})
    py = next(r for r in inputs if r["year"] == 2024)
    # A: 1,000,000 annual > 1,000 -> 1,000.00; B: 1,714.29 annual -> 1,000 x 7 / 12 = 583.33
    assert py["expenditure"] == D("1583.33") and py["expenditure_untruncated"] == D("1001000.00")
    assert py["person_years"] == D("1.58333333") and py["risk_score"] is None
    ctx = {"cfg": PopulationConfig.from_any(METHOD), "year": 2024, "arrangements": {}, "quality": {},
           "persons": persons[persons.person_id == "A"]}
    frame = resettle(ctx, msr=0.0, sharing_rate=0.3, trend=0.1, truncation={"type": "none"})
    comb = frame[frame.payer == "combined"].iloc[0]
    assert comb["benchmark"] == D("1358023.865") and comb["msr"] == 0 and isinstance(comb["msr"], D)
    assert comb["earned"] == D("107407.16"), "(1,358,023.865 - 1,000,000.00) x 0.3 = 107,407.1595"
    assert as_float(frame)["earned"].tolist() == [float(v) for v in frame["earned"]]   # same values, for plots


def test_inputs_with_completion_factor_and_truncation_in_numeric(tmp_path, warehouse_url):
    from savings.population.run import prepare_year
    from tests.savings_population.scenario import Feed

    f = Feed(tmp_path / "feed")
    f.program("P1")
    f.entity("E1", "P1")
    for person in ("A", "B"):
        f.member(person, icm_program_id="P1", icm_entity_id="E1")
    for date, paid in (("2024-03-15", "6000.00"), ("2024-05-15", "1000.00"), ("2024-09-15", "1000.00")):
        f.claim("A", date, paid)
    f.claim("B", "2024-04-01", "1000.01")
    engine = f.load(warehouse_url)
    method = {**METHOD, "attribution": {"method": "enrollment"},
              "cost": {"completion_factor": 0.8, "truncation": {"type": "per_member_annual", "threshold_usd": 3000}}}
    prepare_year(engine, method, 2024)
    (row,) = load_inputs(engine, [2024], "P1")
    # A: 8,000 / 0.8 = 10,000 truncated to 3,000 (each month x 3,000 / 10,000); B: 1,000.01 / 0.8 = 1,250.0125
    assert row["expenditure"] == D("4250.01"), "3,000 + 1,250.0125 -> cents"
    assert row["expenditure_untruncated"] == D("11250.01"), "10,000 + 1,250.0125 -> cents"
    assert row["person_years"] == D("2") and isinstance(row["person_years"], D)
    method["cost"]["completion_factor"] = 1                 # A: 8,000 truncated to 3,000; B: 1,000.01
    prepare_year(engine, method, 2024)
    (row,) = load_inputs(engine, [2024], "P1")
    assert (row["expenditure"], row["expenditure_untruncated"]) == (D("4000.01"), D("9000.01"))
    engine.dispose()
