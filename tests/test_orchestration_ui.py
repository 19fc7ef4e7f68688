"""What the Dagster UI shows and does (issue 21 items 14-16), through Dagster's Python APIs: launchpad config
fields described, and declarative automation that carries a new load through measures -> savings -> exports."""
from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from orchestration.assets.exports import KEY as EXPORTS_KEY
from orchestration.assets.measures import MEASURE_KEYS
from orchestration.assets.savings import KEY as SETTLEMENT_KEY
from orchestration.definitions import build_definitions

# 1 June 2026: the latest complete yearly partition is "2025" (partitions end at the last complete year)
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def _requested(result) -> set[tuple]:
    return {(key, partition) for r in result.results for key in [r.key]
            for partition in (r.true_subset.expensively_compute_partition_keys() if r.true_subset.size else [])}


def _report(instance, key: dg.AssetKey, partition: str | None = None) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=partition))


def test_a_new_load_flows_through_measures_settlement_and_exports():
    defs = build_definitions(warehouse_url="duckdb:///:memory:")
    fuh = MEASURE_KEYS["FUH-HH"]
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=NOW)
        assert (fuh, "2025") not in _requested(first), "nothing loaded yet: nothing to compute"
        for key in ("final_action_claims", "member_months"):          # a load finishes
            _report(instance, dg.AssetKey(key))
        after_load = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=NOW,
                                                       cursor=first.cursor)
        requested = _requested(after_load)
        # one tick requests the whole chain of the latest year; Dagster runs it in dependency order
        assert {(k, "2025") for k in MEASURE_KEYS.values()} <= requested, "every measure of the latest year"
        assert {(SETTLEMENT_KEY, "2025"), (EXPORTS_KEY, "2025")} <= requested
        assert not {p for k, p in requested if p != "2025"}, "earlier years are backfilled by hand"
        for key in [*MEASURE_KEYS.values(), SETTLEMENT_KEY, EXPORTS_KEY]:          # the run completes
            _report(instance, key, "2025")
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=NOW,
                                                    cursor=after_load.cursor)
        assert not _requested(settled), "nothing new: nothing requested again"


@pytest.mark.parametrize("job,fields", [("savings_job", {"methodology", "population"}),
                                         ("reporting_job", {"out_root"})])
def test_launchpad_config_fields_have_descriptions(job, fields):
    defs = build_definitions(warehouse_url="duckdb:///:memory:")
    ops = defs.resolve_job_def(job).run_config_schema.config_type.fields["ops"].config_type.fields
    for op in ops.values():          # savings_job: the settlement and the evaluation take the same config
        config = op.config_type.fields["config"].config_type.fields
        assert fields <= set(config)
        assert all(config[f].description for f in fields), {f: config[f].description for f in fields}
    resources = defs.resolve_job_def(job).run_config_schema.config_type.fields["resources"].config_type.fields
    warehouse = resources["warehouse"].config_type.fields["config"].config_type.fields
    assert warehouse["url"].description and "SQLAlchemy URL" in warehouse["url"].description
