"""CMS-facing exports asset: QMR measure rates, settlement statements and the Health Home qualifier of a year,
written with small-cell suppression; a blocking check re-reads the files for leaked counts of 1-10."""
import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.assets.ingest import DUCKDB_POOL
from orchestration.assets.measures import MEASURE_KEYS
from orchestration.assets.savings import KEY as SETTLEMENT_KEY
from orchestration.partitions import FOLLOWS_NEW_DATA, yearly, yearly_check
from orchestration.resources import WarehouseResource

KEY = dg.AssetKey(["exports", "cms_reporting"])
SUPPRESSION_CHECK = "small_cells_suppressed"


class ExportConfig(dg.Config):
    out_root: str = Field(str(Path(os.environ.get("ICM_HOME", ".icm")) / "exports"),
                          description="Folder that receives one sub-folder per year (<out_root>/<year>/) with the "
                                      "QMR CSV, statements, qualifier JSON, manifest and data dictionary.")


@dg.asset(key=KEY, group_name="exports", partitions_def=yearly, automation_condition=FOLLOWS_NEW_DATA,
          deps=[*MEASURE_KEYS.values(), SETTLEMENT_KEY], kinds={"csv", "json"},
          pool=DUCKDB_POOL,  # reads the DuckDB file, which a writer in another process would hold locked
          description="QMR-shaped measure rates (FFY = year + 1), settlement statements and the Health Home "
                      "core-set qualifier, with CMS small-cell suppression (counts 1-10).",
          check_specs=[yearly_check(SUPPRESSION_CHECK, asset=KEY, blocking=True,
                                    description="no count of 1-10 appears in any exported file")])
def cms_reporting(context: dg.AssetExecutionContext, config: ExportConfig, warehouse: WarehouseResource):
    from exports import export_year, verify_export

    year = int(context.partition_key)
    out_dir = Path(config.out_root) / str(year)
    manifest = export_year(warehouse.get_engine(read_only=True), year, out_dir)
    problems = verify_export(out_dir, year)
    yield dg.MaterializeResult(metadata={
        "year": year, "folder": dg.MetadataValue.path(str(out_dir.resolve())),
        **{f"{name}_rows": f["rows"] for name, f in manifest["files"].items()},
        **{f"{name}_suppressed_rows": f["suppressed_rows"] for name, f in manifest["files"].items()
           if f["suppressed_rows"] is not None}})
    yield dg.AssetCheckResult(check_name=SUPPRESSION_CHECK, passed=not problems,
                              severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"problems": len(problems), "first": problems[0] if problems else "none"})


ASSETS = [cms_reporting]
CHECKS: list = []
reporting_job = dg.define_asset_job("reporting_job", selection=dg.AssetSelection.groups("exports"),
                                    partitions_def=yearly, description="CMS-facing exports for one year.")
JOBS = [reporting_job]
