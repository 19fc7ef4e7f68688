"""Figures users see (issue 21 items 1 and 2): totals from the paying rows only, base years before the
performance year, and both shown in the Dagster metadata."""
from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from savings.methodology import BaseYearError, MethodologyError, parse_methodology
from savings.paying import pays, settlement_totals
from savings.population import PopulationConfig, settle_year
from tests.savings_population.test_settle import METHOD, aco_feed  # noqa: F401 - the fixture

# Settled per payer: E_SAVE medicaid 20,000 vs 18,000 (10 % savings, 50 % shared = 1,000) and mco 10,000 vs
# 9,000 (500); E_CAP 20,000 vs 10,000 (5,000 shared, capped at 10 % = 2,000); E_LOSS 20,000 vs 21,000 (two-sided,
# 50 % of 1,000 = 500 owed); E_CORR inside the 2 % corridor; E_LOSS1 one-sided. Every entity also has a
# combined row carrying the same money again, which a sum over all rows would count twice.
BY_PAYER = {**METHOD, "settlement": {**METHOD["settlement"], "settle_by": "payer"}}
PAID_EARNED, PAID_OWED = Decimal("3500.00"), Decimal("500.00")


def test_settlement_totals_count_each_entity_once(aco_feed, warehouse_url):  # noqa: F811
    rows = settle_year(aco_feed.load(warehouse_url), BY_PAYER, 2024)
    totals = settlement_totals(rows)
    assert (totals["earned"], totals["owed"], totals["net"]) == (PAID_EARNED, PAID_OWED, Decimal("3000.00"))
    assert totals["paying_rows"] == 6, "E_SAVE pays on 2 payer rows, the four other entities on 1 each"
    assert all(r["payer"] != "combined" for r in rows if pays(r))
    everything = sum((r["earned"] for r in rows), Decimal(0))
    assert everything == 2 * PAID_EARNED, "all rows double-count: the total the issue saw in the UI"


def test_pays_reads_dicts_and_attribute_rows():
    class Row:
        binding = 1
    assert pays({"binding": 1}) and pays(Row()) and not pays({"binding": 0}) and not pays({"binding": None})


# --- base years ------------------------------------------------------------------------------------------


def test_base_years_as_offsets_follow_the_performance_year():
    cfg = PopulationConfig.from_any({**METHOD, "benchmark": {"base_years": [-2, -1], "base_weights": [0.4, 0.6]}})
    assert cfg.benchmark.years_for(2025) == [2023, 2024] and cfg.benchmark.years_for(2024) == [2022, 2023]


@pytest.mark.parametrize("base_years,year", [([2023, 2024], 2024), ([2023, 2024], 2023), ([2025], 2024)])
def test_benchmark_year_not_before_the_performance_year_is_refused(base_years, year):
    cfg = PopulationConfig.from_any({**METHOD, "benchmark": {"base_years": base_years,
                                                             "base_weights": [1 / len(base_years)] * len(base_years)}})
    with pytest.raises(BaseYearError, match=r"^benchmark\.base_years: base years? .*not before performance year"):
        cfg.benchmark.years_for(year)


def test_settle_year_refuses_a_benchmark_on_its_own_year(aco_feed, warehouse_url):  # noqa: F811
    engine = aco_feed.load(warehouse_url)
    with pytest.raises(BaseYearError, match="benchmark.base_years: base year 2024 not before performance year 2024"):
        settle_year(engine, METHOD | {"benchmark": {"base_years": [2024], "base_weights": [1.0]}}, 2024)


@pytest.mark.parametrize("years", [[-1, 2023], [0], [-1, -1]])
def test_mixed_zero_or_repeated_base_years_name_the_field(years):
    with pytest.raises(ValueError, match="base_years"):
        PopulationConfig.from_any({"benchmark": {"base_years": years, "base_weights": [1 / len(years)] * len(years)}})
    with pytest.raises(MethodologyError, match="benchmark.base_years"):
        parse_methodology({"name": "m", "provenance": {"source": ["t"]}, "msr": {"type": "none"},
                           "settlement": {"max_share_rate": "0.5"},
                           "benchmark": {"base_years": years}})


def test_engine_methodology_with_a_fixed_performance_year_validates_its_base_years():
    with pytest.raises(MethodologyError, match="benchmark.base_years: base year 2021 not before performance year 2021"):
        parse_methodology({"name": "m", "performance_year": 2021, "provenance": {"source": ["t"]},
                           "msr": {"type": "none"}, "settlement": {"max_share_rate": "0.5"},
                           "benchmark": {"base_years": [2019, 2021], "base_weights": ["0.5", "0.5"]}})


def test_shipped_methodologies_define_base_years_before_every_year_they_settle():
    from pathlib import Path

    import savings.population
    folder = Path(savings.population.__file__).parent / "methodologies"
    for path in folder.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        years = (data.get("methodology", data).get("benchmark") or {}).get("base_years")
        assert years and all(y < 0 for y in years), f"{path.name}: base years relative to the performance year"


# --- Dagster metadata ----------------------------------------------------------------------------------


def test_dagster_settlement_metadata_shows_paying_totals_base_years_and_methodology(aco_feed, tmp_path):  # noqa: F811
    import dagster as dg

    from orchestration.assets.savings import KEY, settlement
    from orchestration.resources import WarehouseResource
    from warehouse.engine import upgrade

    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    upgrade(url)
    aco_feed.load(url).dispose()
    method = tmp_path / "by_payer.yaml"
    method.write_text(yaml.safe_dump({**BY_PAYER, "benchmark": {"base_years": [-1], "base_weights": [1.0],
                                                                "trend": {"value": 0.0}}}))
    with dg.instance_for_test() as instance:
        result = dg.materialize([settlement], partition_key="2024", instance=instance, selection=[KEY],
                                resources={"warehouse": WarehouseResource(url=url)},
                                run_config={"ops": {"savings__settlement": {"config": {
                                    "methodology": str(method), "population": None}}}})
        (record,) = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(KEY, "settlement_consistent"), limit=5)
        assert record.event.dagster_event.event_specific_data.partition == "2024", "check result of its year"
    meta = result.asset_materializations_for_node("savings__settlement")[0].metadata
    assert meta["earned_total"] == dg.FloatMetadataValue(float(PAID_EARNED))
    assert meta["owed_total"] == dg.FloatMetadataValue(float(PAID_OWED))
    assert meta["base_years"].value == "2023"
    assert meta["methodology"].value == "test_m" and str(tmp_path) not in str(meta["methodology"].value)
    assert meta["methodology_version"].value.startswith("sha256:")
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks) and checks[0].asset_key == KEY
