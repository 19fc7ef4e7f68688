"""Loading: move a staged file into the warehouse, atomically, as one batch.

Per file (= per batch), in one transaction on the target database:
  1. bring the staged rows into a temporary table, never row by row: a DuckDB warehouse stages the file in its own
     connection and takes the staged table over as it is (renamed, or INSERT ... SELECT); PostgreSQL gets them
     by COPY from the private staging DuckDB (and the Dagster staging-file pipeline by Arrow record batches);
  2. apply the rules that need the warehouse (claim already loaded, span overlapping an already-loaded span) as
     set-based UPDATEs, and flag each good claim row with its `enrollment_match` (warehouse.enrollment_match:
     a claim without enrollment is loaded and flagged, not quarantined; a claim without a payer first takes the
     primary payer of the enrollment covering its service date); an enrollment file re-matches the claims that
     were waiting for it;
  3. insert good rows into the core tables, bad rows into `quarantine`, and the `load_batch` row.
Either all of that commits or none of it does. A file whose bytes were loaded before is skipped (checksum).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import (
    BigInteger, Column, Connection, Engine, MetaData, String, Table, and_, exists, func, insert, literal,
    select, update,
)

from warehouse import enrollment_match, models
from warehouse.staging import LoadError, SourceFile, StagedFile, _sql_str, drop_staging, stage_file

log = logging.getLogger(__name__)

ARROW_BATCH_ROWS = 122_880   # DuckDB's row-group size
HEADER_ONLY = {c.name for c in models.MedicalClaim.__table__.columns} - {"line_count", "batch_id"}
LINE_ONLY = {c.name for c in models.MedicalClaimLine.__table__.columns} - {"batch_id"}


@dataclass
class FileReport:
    file: str
    target_table: str
    batch_id: str
    status: str                      # loaded | already_loaded
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    notes: dict = field(default_factory=dict)   # the format's notes on the file (SourceFile.notes)
    enrollment_match: dict[str, int] = field(default_factory=dict)   # claim rows loaded, by enrollment_match

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def batch_id_for(source: SourceFile) -> str:
    key = f"{source.checksum}|{source.target}|{source.data_source}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _incoming_table(target: str, md: MetaData) -> Table:
    """Temporary table shaped like the staged rows: target columns + _row, _raw, _reason."""
    if target == "medical_claim":
        base = [c for c in models.MedicalClaim.__table__.columns if c.name not in ("line_count", "batch_id")]
        base += [c for c in models.MedicalClaimLine.__table__.columns if c.name in LINE_ONLY - HEADER_ONLY]
        cols = [Column(c.name, c.type) for c in base]
    elif target == "eligibility":
        span_cols = [c for c in models.EnrollmentSpan.__table__.columns if c.name not in ("span_id", "batch_id")]
        person_cols = [c for c in models.Person.__table__.columns if c.name not in ("person_id", "state", "county_fips")]
        cols = [Column(c.name, c.type) for c in span_cols + person_cols]
        cols += [Column("state", String), Column("county_fips", String)]
    else:
        table = models.metadata.tables[target]
        cols = [Column(c.name, c.type) for c in table.columns if c.name != "batch_id"]
    return Table("_incoming", md, Column("_row", BigInteger), Column("_raw", String), Column("_reason", String),
                 *cols, prefixes=["TEMPORARY"])


def _copy_into(conn: Connection, staged: StagedFile, sql_select: str, table: Table,
               names: list[str] | None = None) -> None:
    """Bulk-copy the result of a staging query into columns `names` (default: all but those the loader sets) of
    a temp table of the target database: DuckDB through Arrow, PostgreSQL through COPY."""
    names = names or [c.name for c in table.columns if c.name not in SET_BY_LOADER]
    query = f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM ({sql_select}) s"
    driver = conn.connection.driver_connection
    if staged.in_target:  # staged in this very connection: a plain INSERT ... SELECT
        staged.con.execute(f"INSERT INTO {table.name} ({', '.join(names)}) {query}")
        return
    if conn.dialect.name == "duckdb":
        # stream record batches: the file never sits in Python memory as one Arrow table
        arrow = staged.con.execute(query).fetch_record_batch(ARROW_BATCH_ROWS)
        driver.register("_incoming_arrow", arrow)
        try:
            driver.execute(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM _incoming_arrow")
        finally:
            driver.unregister("_incoming_arrow")
        return
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as tmp:
        path = tmp.name
    try:
        staged.con.execute(f"COPY ({query}) TO {_sql_str(path)} (FORMAT csv, HEADER true)")
        with driver.cursor() as cur, open(path, "rb") as fh:
            with cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
                while chunk := fh.read(1 << 20):
                    cp.write(chunk)
    finally:
        os.unlink(path)


def _adopt_staged_table(conn: Connection, staged: StagedFile, inc: Table) -> bool:
    """Staged in this very connection, with exactly the columns and types of the (just created, empty)
    `_incoming` table: rename the staged table to `_incoming` instead of copying every row into it."""
    if not staged.in_target:
        return False
    con = staged.con

    def columns(name: str) -> dict:
        return {r[0]: r[1] for r in con.execute(f'DESCRIBE temp.main."{name}"').fetchall()}

    want = columns(inc.name)
    have = columns(staged.table)
    added = {name: want.pop(name) for name in SET_BY_LOADER if name in want}
    if have != want:
        return False
    con.execute(f'DROP TABLE temp.main."{inc.name}"')
    con.execute(f'ALTER TABLE temp.main."{staged.table}" RENAME TO "{inc.name}"')
    for name, sql_type in added.items():
        con.execute(f'ALTER TABLE temp.main."{inc.name}" ADD COLUMN {name} {sql_type}')
    return True


def _fault_point(name: str) -> None:
    """Test hook: ICM_FAULT=<name> raises, ICM_FAULT=kill:<name> kills the process (atomicity tests)."""
    fault = os.environ.get("ICM_FAULT", "")
    if fault == name:
        raise RuntimeError(f"injected fault at {name}")
    if fault == f"kill:{name}":
        os.kill(os.getpid(), signal.SIGKILL)


# columns of `_incoming` the loader fills, not staging
SET_BY_LOADER = ("_reason", "enrollment_match")


def _mark(conn: Connection, inc: Table, condition, reason: str) -> None:
    conn.execute(update(inc).where(inc.c._reason.is_(None), condition).values(_reason=reason))


def _apply_warehouse_rules_medical(conn: Connection, inc: Table, source: SourceFile, require_enrollment: bool) -> dict:
    mc = models.MedicalClaim.__table__
    _mark(conn, inc, exists().where(mc.c.claim_id == inc.c.claim_id, mc.c.data_source == inc.c.data_source),
          "claim already loaded in an earlier batch")
    return enrollment_match.mark_incoming(conn, inc, source.target, check=require_enrollment,
                                          payer_from_enrollment=source.payer_from_enrollment)


def _insert_medical(conn: Connection, inc: Table, batch_id: str) -> None:
    header = models.MedicalClaim.__table__
    line = models.MedicalClaimLine.__table__
    ok = inc.c._reason.is_(None)
    money = ("paid_amount", "allowed_amount", "charge_amount")
    # Header fields are identical on every line (staging enforces it), so they come from the first line;
    # money is summed over the lines.
    totals = (select(inc.c.claim_id, inc.c.data_source, func.min(inc.c.claim_line_number).label("first_line"),
                     *[func.sum(inc.c[m]).label(m) for m in money], func.count().label("line_count"))
              .where(ok).group_by(inc.c.claim_id, inc.c.data_source).subquery("totals"))
    header_cols = [c.name for c in header.columns
                   if c.name not in ("claim_id", "data_source", "line_count", "batch_id", *money)]
    sel = (select(inc.c.claim_id, inc.c.data_source, *[inc.c[n] for n in header_cols],
                  *[totals.c[m] for m in money], totals.c.line_count, literal(batch_id).label("batch_id"))
           .join_from(inc, totals, and_(inc.c.claim_id == totals.c.claim_id, inc.c.data_source == totals.c.data_source,
                                        inc.c.claim_line_number == totals.c.first_line))
           .where(ok))
    conn.execute(insert(header).from_select(["claim_id", "data_source", *header_cols, *money, "line_count", "batch_id"], sel))
    line_cols = [c.name for c in line.columns if c.name != "batch_id"]
    conn.execute(insert(line).from_select(
        [*line_cols, "batch_id"], select(*[inc.c[n] for n in line_cols], literal(batch_id)).where(ok)))


def _apply_warehouse_rules_pharmacy(conn: Connection, inc: Table, source: SourceFile, require_enrollment: bool) -> dict:
    pc = models.PharmacyClaim.__table__
    _mark(conn, inc, exists().where(pc.c.claim_id == inc.c.claim_id, pc.c.claim_line_number == inc.c.claim_line_number,
                                    pc.c.data_source == inc.c.data_source),
          "claim line already loaded in an earlier batch")
    return enrollment_match.mark_incoming(conn, inc, source.target, check=require_enrollment,
                                          payer_from_enrollment=source.payer_from_enrollment)


def _insert_pharmacy(conn: Connection, inc: Table, batch_id: str) -> None:
    pc = models.PharmacyClaim.__table__
    cols = [c.name for c in pc.columns if c.name != "batch_id"]
    conn.execute(insert(pc).from_select([*cols, "batch_id"], select(*[inc.c[n] for n in cols], literal(batch_id))
                                        .where(inc.c._reason.is_(None))))


def _span_id_expr(inc: Table):
    return func.concat(inc.c.data_source, "|", inc.c.payer, "|", inc.c.plan, "|", inc.c.member_id, "|",
                       func.cast(inc.c.start_date, String))


def _apply_warehouse_rules_eligibility(conn: Connection, inc: Table, source: SourceFile, require_enrollment: bool) -> dict:
    es = models.EnrollmentSpan.__table__
    _mark(conn, inc, exists().where(es.c.span_id == _span_id_expr(inc)), "enrollment span already loaded")
    _mark(conn, inc, exists().where(es.c.person_id == inc.c.person_id, es.c.data_source == inc.c.data_source,
                                    es.c.payer == inc.c.payer, es.c.start_date <= inc.c.end_date,
                                    es.c.end_date >= inc.c.start_date),
          "overlaps an enrollment span of the same payer loaded earlier")
    return {}


def _insert_eligibility(conn: Connection, inc: Table, batch_id: str) -> None:
    es = models.EnrollmentSpan.__table__
    person = models.Person.__table__
    ok = inc.c._reason.is_(None)
    cols = [c.name for c in es.columns if c.name not in ("span_id", "batch_id")]
    conn.execute(insert(es).from_select(["span_id", *cols, "batch_id"],
                                        select(_span_id_expr(inc), *[inc.c[n] for n in cols], literal(batch_id)).where(ok)))
    pcols = [c.name for c in person.columns if c.name != "person_id"]
    new_people = (select(inc.c.person_id, *[func.min(inc.c[n]).label(n) for n in pcols])
                  .where(ok, ~exists().where(person.c.person_id == inc.c.person_id))
                  .group_by(inc.c.person_id))
    conn.execute(insert(person).from_select(["person_id", *pcols], new_people))


def _replace_reference(conn: Connection, inc: Table, batch_id: str, target: str) -> None:
    """Reference files are snapshots: rows replace earlier rows with the same key (latest file wins)."""
    table = models.metadata.tables[target]
    pk = [c.name for c in table.primary_key.columns]
    ok = inc.c._reason.is_(None)
    conn.execute(table.delete().where(exists().where(ok, *[table.c[k] == inc.c[k] for k in pk])))
    cols = [c.name for c in table.columns if c.name != "batch_id"]
    values = [inc.c[n] for n in cols]
    names = cols
    if "batch_id" in table.c:
        values.append(literal(batch_id))
        names = [*cols, "batch_id"]
    conn.execute(insert(table).from_select(names, select(*values).where(ok)))


_RULES = {
    "medical_claim": (_apply_warehouse_rules_medical, _insert_medical),
    "pharmacy_claim": (_apply_warehouse_rules_pharmacy, _insert_pharmacy),
    "eligibility": (_apply_warehouse_rules_eligibility, _insert_eligibility),
}


_KEY_FIELDS = ("claim_id", "claim_line_number", "person_id", "payer", "claim_start_date", "dispensing_date",
               "start_date", "end_date", "npi", "program_id", "entity_id")


def _key_text(inc: Table):
    """For rows rejected by warehouse rules, the staged key fields stand in for the raw text (the row number
    points at the full row in the source file)."""
    parts = []
    for name in _KEY_FIELDS:
        if name in inc.c:
            parts += [f"{name}=", func.coalesce(func.cast(inc.c[name], String), ""), "; "]
    return func.concat(*parts[:-1])


def load_staged(engine: Engine, staged: StagedFile, *, require_enrollment: bool = True) -> FileReport:
    with engine.begin() as conn:
        report = load_into(conn, staged, require_enrollment=require_enrollment)
    return _logged(report)


def load_into(conn: Connection, staged: StagedFile, *, require_enrollment: bool = True) -> FileReport:
    """Load one staged file as a batch inside the caller's open transaction (a batch already loaded, also earlier
    in that transaction, is reported as such). Log with _logged after the commit."""
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return _load_batch(conn, staged, started, require_enrollment=require_enrollment)


def _logged(report: FileReport) -> FileReport:
    if report.status == "loaded":  # after the commit
        log.info("loaded %s into %s: %d read, %d loaded, %d quarantined", Path(report.file).name,
                 report.target_table, report.rows_read, report.rows_loaded, report.rows_quarantined)
    return report


def _existing(conn: Connection, batch_id: str):
    lb = models.LoadBatch.__table__
    return conn.execute(select(lb.c.rows_read, lb.c.rows_loaded, lb.c.rows_quarantined)
                        .where(lb.c.batch_id == batch_id)).first()


def _load_batch(conn: Connection, staged: StagedFile, started: dt.datetime, *,
                require_enrollment: bool) -> FileReport:
    """Steps 1-3 of the module docstring on `conn`, inside the caller's transaction."""
    source = staged.source
    batch_id = batch_id_for(source)
    lb = models.LoadBatch.__table__
    q = models.QuarantineRow.__table__
    existing = _existing(conn, batch_id)
    if existing:
        return FileReport(str(source.path), source.target, batch_id, "already_loaded", *existing)
    md = MetaData()
    inc = _incoming_table(source.target, md)
    inc.create(conn)
    if not _adopt_staged_table(conn, staged, inc):
        _copy_into(conn, staged, f"SELECT * FROM {staged.table}", inc)
    # rows that failed in staging go through the same temp table, already carrying their reason
    qsel = f"SELECT _row, _raw, reason AS _reason FROM {staged.quarantine_table}"
    qinc = Table("_incoming_quarantine", md, Column("_row", BigInteger), Column("_raw", String),
                 Column("_reason", String), prefixes=["TEMPORARY"])
    qinc.create(conn)
    _copy_into(conn, staged, qsel, qinc, names=[c.name for c in qinc.columns])
    _fault_point("after_copy")
    notes = dict(source.notes)
    matches = {}
    if source.target in _RULES:
        rules, insert_rows = _RULES[source.target]
        notes.update(rules(conn, inc, source, require_enrollment))
        _fault_point("after_rules")
        if "enrollment_match" in inc.c:
            matches = enrollment_match.match_counts(conn, inc)
        insert_rows(conn, inc, batch_id)
        if source.target == "eligibility":   # claims loaded before this enrollment (spans and persons now in)
            notes["claims_rematched"] = enrollment_match.rematch(conn)
    else:
        _replace_reference(conn, inc, batch_id, source.target)
    _fault_point("after_insert")
    for src in (inc, qinc):
        raw = func.coalesce(src.c._raw, _key_text(src)) if src is inc else src.c._raw
        conn.execute(insert(q).from_select(
            ["batch_id", "row_number", "source_file", "target_table", "reason", "raw_row"],
            select(literal(batch_id), src.c._row, literal(str(source.path)), literal(source.target),
                   src.c._reason, raw).where(src.c._reason.is_not(None))))
    reasons = dict(conn.execute(select(q.c.reason, func.count()).where(q.c.batch_id == batch_id)
                                .group_by(q.c.reason)).all())
    n_quarantined = sum(reasons.values())
    n_loaded = conn.execute(select(func.count()).select_from(inc).where(inc.c._reason.is_(None))).scalar_one()
    paid_loaded = None
    if "paid_amount" in inc.c:
        paid_loaded = conn.execute(select(func.sum(inc.c.paid_amount)).where(inc.c._reason.is_(None))).scalar_one()
    if n_loaded + n_quarantined != staged.rows_read:
        raise AssertionError(f"{source.path}: loaded {n_loaded} + quarantined {n_quarantined} != read {staged.rows_read}")
    conn.execute(insert(lb).values(
        batch_id=batch_id, source_file=str(source.path), file_format=source.file_format,
        target_table=source.target, data_source=source.data_source, checksum_sha256=source.checksum,
        rows_read=staged.rows_read, rows_loaded=n_loaded, rows_quarantined=n_quarantined,
        paid_amount_read=staged.paid_amount_read, paid_amount_loaded=paid_loaded,
        started_at=started, finished_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)))
    inc.drop(conn)
    qinc.drop(conn)
    _fault_point("before_commit")
    _fault_point(f"after_file:{Path(source.path).name}")
    return FileReport(str(source.path), source.target, batch_id, "loaded", staged.rows_read, n_loaded,
                      n_quarantined, dict(sorted(reasons.items(), key=lambda kv: -kv[1])), notes, matches)


def already_loaded(engine: Engine, source: SourceFile) -> bool:
    lb = models.LoadBatch.__table__
    with engine.connect() as conn:
        return conn.execute(select(lb.c.batch_id).where(lb.c.batch_id == batch_id_for(source))).first() is not None


def _duckdb_connection(conn: Connection):
    """The DuckDBPyConnection under a duckdb-engine SQLAlchemy connection (same session, same transaction)."""
    driver = conn.connection.driver_connection
    return getattr(driver, "_ConnectionWrapper__c", driver)


def _stage_all_in_warehouse(con, sources: list[SourceFile]) -> list[StagedFile]:
    """Stage every file in the DuckDB warehouse's own connection (temporary tables only, committed as they are
    made: staging inside the open load transaction made DuckDB's transaction-local storage ~40 % slower). Each
    file's staged and quarantined rows are renamed apart so that all of a load's files wait for its one
    transaction."""
    staged_files = []
    for i, source in enumerate(sources, 1):
        staged = stage_file(source, con=con)
        for old, new in ((staged.table, f"staged_{i}_{source.target}"), (staged.quarantine_table, f"quarantined_{i}")):
            con.execute(f"ALTER TABLE temp.main.{old} RENAME TO {new}")
        staged.table, staged.quarantine_table = f"staged_{i}_{source.target}", f"quarantined_{i}"
        staged_files.append(staged)
        _fault_point(f"after_staging:{Path(source.path).name}")
    return staged_files


def load_file(engine: Engine, source: SourceFile, *, require_enrollment: bool = True) -> FileReport:
    return load_sources(engine, [source], require_enrollment=require_enrollment)[0]


TARGET_ORDER = {"icm_program": 0, "icm_entity": 1, "provider": 2, "eligibility": 3, "medical_claim": 4,
                "pharmacy_claim": 5}


def load_sources(engine: Engine, sources: list[SourceFile], *, require_enrollment: bool = True) -> list[FileReport]:
    """Load files in dependency order (reference, enrollment, then claims) as ONE unit: every file is its own batch,
    and all batches commit in one transaction or none does (a failure in any file, or a killed process, leaves
    the warehouse as it was). Files whose batch is already loaded are reported as such and not read.

    PostgreSQL: each file is staged in a private DuckDB and copied into the open transaction. DuckDB: all files are
    staged first in the warehouse's own connection (temporary tables), then loaded in one transaction that reads
    them in place; the temporary tables are dropped in every case (and vanish with the process anyway)."""
    ordered = sorted(sources, key=lambda s: (TARGET_ORDER[s.target], str(s.path)))
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with engine.connect() as conn:
        existing = {id(s): _existing(conn, batch_id_for(s)) for s in ordered}
    to_load = [s for s in ordered if not existing[id(s)]]
    loaded: dict[int, FileReport] = {}
    if to_load and engine.dialect.name == "duckdb":
        with engine.connect() as conn:
            con = _duckdb_connection(conn)   # no SQLAlchemy statement yet: autocommit, outside any transaction
            try:
                staged_files = _stage_all_in_warehouse(con, to_load)
                with conn.begin():
                    for staged in staged_files:
                        loaded[id(staged.source)] = _load_batch(conn, staged, started,
                                                                require_enrollment=require_enrollment)
            finally:
                try:
                    drop_staging(con)
                except Exception:  # noqa: BLE001 - never hide the load's own error behind a cleanup error
                    pass
    elif to_load:
        with engine.begin() as conn:
            for source in to_load:
                staged = stage_file(source)
                try:
                    loaded[id(source)] = _load_batch(conn, staged, started, require_enrollment=require_enrollment)
                finally:
                    staged.con.close()
    reports = [loaded.get(id(s)) or FileReport(str(s.path), s.target, batch_id_for(s), "already_loaded",
                                                *existing[id(s)]) for s in ordered]
    return [_logged(r) for r in reports]


__all__ = ["FileReport", "LoadError", "load_file", "load_into", "load_sources", "load_staged", "batch_id_for"]
