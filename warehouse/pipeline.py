"""The ingest pipeline as plain functions (Dagster assets in orchestration/ are thin wrappers around these).

landing folder --discover_landing--> SourceFiles --stage_landing--> staging.duckdb --load_staged--> warehouse
  --rebuild_final_action / rebuild_member_months--> derived tables

Landing layout: one sub-folder per feed. A sub-folder whose files carry Tuva input-layer names is read as
`tuva` (reference files icm_program/icm_entity/provider included); otherwise the first layout in
warehouse/layouts whose file patterns match is used. A `sources.yaml` at the landing root can pin
folder -> {format, layout, payer} explicitly.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from warehouse import duck
import yaml
from sqlalchemy import Engine

from warehouse.formats import discover, discover_tuva
from warehouse.formats.layout import LAYOUT_DIR, load_layout
from warehouse.loading import TARGET_ORDER, FileReport, already_loaded, batch_id_for, load_staged
from warehouse.staging import LoadError, SourceFile, StagedFile, stage_file

log = logging.getLogger(__name__)


def discover_landing(landing: str | Path) -> list[SourceFile]:
    landing = Path(landing)
    if not landing.is_dir():
        raise LoadError(f"{landing}: landing folder not found")
    pinned = {}
    if (landing / "sources.yaml").exists():
        pinned = yaml.safe_load((landing / "sources.yaml").read_text()) or {}
    sources: list[SourceFile] = []
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        spec = pinned.get(folder.name)
        if spec:
            fmt = spec["format"] if not spec.get("layout") else f"layout:{spec['layout']}"
            sources += discover(folder, fmt, payer=spec.get("payer"))
            continue
        found = discover_tuva(folder)
        if not found:
            for layout_file in sorted(LAYOUT_DIR.glob("*.yaml")):
                layout = load_layout(str(layout_file))
                if any(any(folder.glob(f.pattern)) for f in layout.files.values()):
                    found = discover(folder, f"layout:{layout_file.stem}")
                    break
        if not found:
            log.warning("landing folder %s: no recognised files, skipped", folder.name)
        sources += found
    return sorted(sources, key=lambda s: (TARGET_ORDER[s.target], str(s.path)))


# --- staging database: staged rows of files not yet loaded, one batch per file -----------------------

_BATCHES_DDL = """CREATE TABLE IF NOT EXISTS staged_batch (
    batch_id VARCHAR PRIMARY KEY, source_file VARCHAR, target VARCHAR, file_format VARCHAR, data_source VARCHAR,
    payer VARCHAR, checksum VARCHAR, rows_read BIGINT, rows_staged BIGINT, rows_quarantined BIGINT,
    paid_amount_read DECIMAL(18,2))"""


def stage_landing(engine: Engine, sources: list[SourceFile], staging_db: str | Path) -> list[dict]:
    """Stage every file not yet in the warehouse into `staging_db` (replacing earlier staging of that file)."""
    staging_db = Path(staging_db)
    staging_db.parent.mkdir(parents=True, exist_ok=True)
    summaries = []
    with duck.connect(staging_db) as db:
        db.execute(_BATCHES_DDL)
        for source in sources:
            if already_loaded(engine, source):
                continue
            staged = stage_file(source)
            try:
                bid = batch_id_for(source)
                for name, sql in ((f"staged_{source.target}", f"SELECT * FROM staged_{source.target}"),
                                  ("staged_quarantine", "SELECT _row, reason, _raw FROM quarantined")):
                    arrow = staged.con.execute(sql).fetch_arrow_table()
                    db.register("_arrow", arrow)
                    exists = db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                        [name]).fetchone()[0]
                    if not exists:
                        db.execute(f"CREATE TABLE {name} AS SELECT ''::VARCHAR AS _batch_id, * FROM _arrow LIMIT 0")
                    db.execute(f"DELETE FROM {name} WHERE _batch_id = ?", [bid])
                    db.execute(f"INSERT INTO {name} SELECT ? AS _batch_id, * FROM _arrow", [bid])
                    db.unregister("_arrow")
                db.execute("DELETE FROM staged_batch WHERE batch_id = ?", [bid])
                db.execute("INSERT INTO staged_batch VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           [bid, str(source.path), source.target, source.file_format, source.data_source,
                            source.payer, source.checksum, staged.rows_read, staged.rows_staged,
                            staged.rows_quarantined, staged.paid_amount_read])
                summaries.append({"file": str(source.path), "target": source.target, "batch_id": bid,
                                  "rows_read": staged.rows_read, "rows_staged": staged.rows_staged,
                                  "rows_quarantined": staged.rows_quarantined,
                                  "quarantine_reasons": staged.quarantine_reasons})
            finally:
                staged.con.close()
    return summaries


def load_staged_batches(engine: Engine, sources: list[SourceFile], staging_db: str | Path,
                        *, require_enrollment: bool = True) -> list[FileReport]:
    """Load every staged batch of `sources` into the warehouse, in dependency order, one transaction each."""
    reports = []
    staging_db = Path(staging_db)
    for source in sorted(sources, key=lambda s: (TARGET_ORDER[s.target], str(s.path))):
        bid = batch_id_for(source)
        if already_loaded(engine, source):
            reports.append(_existing_report(engine, source))
            continue
        con = duck.connect(staging_db)
        try:
            row = con.execute("SELECT rows_read, rows_staged, rows_quarantined, paid_amount_read FROM staged_batch "
                              "WHERE batch_id = ?", [bid]).fetchone()
            if row is None:
                raise LoadError(f"{source.path}: not staged yet (run the staging step first)")
            con.execute(f"CREATE TEMP VIEW batch_rows AS SELECT * EXCLUDE (_batch_id) "
                        f"FROM main.staged_{source.target} WHERE _batch_id = '{bid}'")
            con.execute(f"CREATE TEMP VIEW quarantined AS SELECT * EXCLUDE (_batch_id) FROM main.staged_quarantine "
                        f"WHERE _batch_id = '{bid}'")
            staged = StagedFile(source, con, row[0], row[1], row[2], {}, row[3], table="batch_rows")
            reports.append(load_staged(engine, staged, require_enrollment=require_enrollment))
        finally:
            con.close()
    return reports


def _existing_report(engine: Engine, source: SourceFile) -> FileReport:
    from sqlalchemy import select

    from warehouse.models import LoadBatch

    lb = LoadBatch.__table__
    with engine.connect() as conn:
        row = conn.execute(select(lb.c.rows_read, lb.c.rows_loaded, lb.c.rows_quarantined)
                           .where(lb.c.batch_id == batch_id_for(source))).one()
    return FileReport(str(source.path), source.target, batch_id_for(source), "already_loaded", *row)


def clear_staging(staging_db: str | Path) -> None:
    Path(staging_db).unlink(missing_ok=True)
    Path(str(staging_db) + ".wal").unlink(missing_ok=True)


__all__ = ["discover_landing", "stage_landing", "load_staged_batches", "clear_staging", "replace"]
