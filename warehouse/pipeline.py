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
import re
from dataclasses import replace
from pathlib import Path

from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Engine

from warehouse import duck

from warehouse.formats import discover, discover_tuva
from warehouse.formats.layout import LAYOUT_DIR, NAME_PATTERN, load_layout
from warehouse.loading import TARGET_ORDER, FileReport, _logged, already_loaded, batch_id_for, load_into
from warehouse.staging import LoadError, SourceFile, StagedFile, _sql_str, source_field_problem, stage_file

log = logging.getLogger(__name__)


def discover_landing(landing: str | Path) -> list[SourceFile]:
    landing = Path(landing)
    if not landing.is_dir():
        raise LoadError(f"{landing}: landing folder not found")
    pinned = read_sources_yaml(landing / "sources.yaml")
    sources: list[SourceFile] = []
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        spec = pinned.get(folder.name)
        if spec:
            fmt = spec.format if not spec.layout else f"layout:{spec.layout}"
            sources += discover(folder, fmt, payer=spec.payer)
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


class PinnedFolder(BaseModel):
    """One entry of landing/sources.yaml. The landing folder is written by the people who deliver files, so its
    sources.yaml is validated like a layout: a layout is named, not given as a path (layouts live in
    warehouse/layouts or are passed with --layout by the operator)."""
    model_config = ConfigDict(extra="forbid")
    format: Literal["tuva", "desynpuf", "synthea", "layout"] = "tuva"
    layout: str | None = Field(default=None, pattern=NAME_PATTERN)
    payer: str | None = None

    @field_validator("payer")
    @classmethod
    def _payer(cls, value):
        problem = source_field_problem("payer", value)
        if problem:
            raise ValueError(problem)
        return value


def read_sources_yaml(path: Path) -> dict[str, PinnedFolder]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: not a readable YAML file ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise LoadError(f"{path}: expected a mapping of folder name -> {{format, layout, payer}}")
    out = {}
    for folder, spec in data.items():
        try:
            out[str(folder)] = PinnedFolder.model_validate(spec or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in (folder, *err["loc"]))
            raise LoadError(f"{path}: invalid entry at {where}: {err['msg']}") from None
    return out


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
    """Load every staged batch of `sources` into the warehouse, in dependency order, in ONE transaction: all
    batches commit or none does (as `icm load` of a folder)."""
    reports = []
    staging_db = Path(staging_db)
    with engine.begin() as conn:
        for source in sorted(sources, key=lambda s: (TARGET_ORDER[s.target], str(s.path))):
            bid = batch_id_for(source)
            con = duck.connect(staging_db)
            try:
                row = con.execute("SELECT rows_read, rows_staged, rows_quarantined, paid_amount_read "
                                  "FROM staged_batch WHERE batch_id = ?", [bid]).fetchone()
                if row is None and not already_loaded(engine, source):
                    raise LoadError(f"{source.path}: not staged yet (run the staging step first)")
                row = row or (0, 0, 0, None)
                # a view takes no bound parameter: the batch id is checked to be the hex digest batch_id_for made
                batch = _sql_str(bid) if re.fullmatch(r"[0-9a-f]{24}", bid) else "NULL"
                for view, table in (("batch_rows", f"staged_{source.target}"), ("quarantined", "staged_quarantine")):
                    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                                         [table]).fetchone()[0]
                    body = (f"SELECT * EXCLUDE (_batch_id) FROM main.{table} WHERE _batch_id = {batch}" if exists
                            else "SELECT NULL::BIGINT AS _row WHERE FALSE")
                    con.execute(f"CREATE TEMP VIEW {view} AS {body}")
                staged = StagedFile(source, con, row[0], row[1], row[2], {}, row[3], table="batch_rows")
                reports.append(load_into(conn, staged, require_enrollment=require_enrollment))
            finally:
                con.close()
    return [_logged(r) for r in reports]


def clear_staging(staging_db: str | Path) -> None:
    Path(staging_db).unlink(missing_ok=True)
    Path(str(staging_db) + ".wal").unlink(missing_ok=True)


__all__ = ["discover_landing", "stage_landing", "load_staged_batches", "clear_staging", "replace"]
