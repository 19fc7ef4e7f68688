"""Dagster definitions: the only place the project imports Dagster (with the rest of orchestration/)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import dagster as dg

from orchestration.assets import exports as export_assets, ingest, measures as measure_assets, savings as savings_assets
from orchestration.assets import pharmacy as pharmacy_assets
from orchestration.assets import utilization as utilization_assets
from orchestration.resources import LandingResource, WarehouseResource

# Great Expectations logs its own progress at INFO; run steps (also in subprocesses) keep it at WARNING.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

ASSETS = list(ingest.ASSETS)
CHECKS = list(ingest.CHECKS)
JOBS = []

ingest_job = dg.define_asset_job(
    "ingest_job", selection=dg.AssetSelection.assets(*ingest.ASSETS),
    description="Landing files -> staged -> warehouse -> final-action claims -> member-months, with GX checks.")
JOBS.append(ingest_job)

for module in (measure_assets, savings_assets, export_assets, pharmacy_assets, utilization_assets):
    ASSETS += module.ASSETS
    CHECKS += module.CHECKS
    JOBS += module.JOBS


@dg.sensor(job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Starts the ingest job when files in the landing folder change (new, replaced or removed).")
def landing_folder_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    root = landing.landing
    if not root.exists():
        return dg.SkipReason(f"landing folder {root} does not exist")
    listing = sorted((str(p.relative_to(root)), p.stat().st_size, int(p.stat().st_mtime))
                     for p in root.rglob("*") if p.is_file())
    fingerprint = hashlib.sha256(json.dumps(listing).encode()).hexdigest()
    if fingerprint == context.cursor:
        return dg.SkipReason("no change in the landing folder")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)


monthly_refresh = dg.ScheduleDefinition(
    name="monthly_refresh", job=ingest_job, cron_schedule="0 6 5 * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Monthly refresh on the 5th: picks up the month's payer files and late claims (run-out).")


def resources(warehouse_url: str | None = None, landing_path: str | None = None,
              staging_path: str | None = None) -> dict:
    url = warehouse_url or os.environ.get("WAREHOUSE_URL")
    from_env = url and (not warehouse_url or warehouse_url == os.environ.get("WAREHOUSE_URL"))  # keeps a password
    warehouse = WarehouseResource(url=dg.EnvVar("WAREHOUSE_URL")) if from_env else \
        WarehouseResource(url=url) if url else WarehouseResource()
    landing = LandingResource(path=landing_path or os.environ.get("ICM_LANDING", ".icm/landing"),
                              staging_path=staging_path or str(Path(os.environ.get("ICM_HOME", ".icm")) / "staging.duckdb"))
    return {"warehouse": warehouse, "landing": landing}


def build_definitions(warehouse_url: str | None = None, landing_path: str | None = None,
                      staging_path: str | None = None) -> dg.Definitions:
    return dg.Definitions(assets=ASSETS, asset_checks=CHECKS, jobs=JOBS, sensors=[landing_folder_sensor],
                          schedules=[monthly_refresh],
                          resources=resources(warehouse_url, landing_path, staging_path))


defs = build_definitions()
