"""Staging: read one landing file, map it to the canonical layout, type it, and split good rows from bad.

Staging runs in DuckDB whatever the warehouse is: in the warehouse's own connection (temporary tables only) for
a DuckDB warehouse, else in a private in-memory DuckDB. DuckDB parses CSV and Parquet fast, keeps malformed CSV
lines aside (`store_rejects`) instead of failing or dropping them, and has TRY_CAST/TRY_STRPTIME so every bad
value becomes a quarantine reason, not an exception.

A file mapped column by column is read in place: one query parses it, maps it to the canonical columns, types
every value and names each row's first failing rule (the file is never copied as text first). Files a format
reshapes (DE-SynPUF, Synthea) are read into tables for their transform, then go through the same query.

Output of `stage_file`: a `StagedFile` whose DuckDB connection holds
  staged_<target>   typed canonical rows that passed row-level rules (+ _row, the file's data-row number)
  quarantined       rows that failed: _row, reason, _raw (the row as read, JSON, or the line for malformed CSV;
                    for a row that failed only a cross-row rule, its typed canonical values as JSON)
Row-level rules here need only the file itself; rules that need the warehouse (enrollment exists,
key already loaded) run at load time, inside the target database (warehouse.loading).
"""
from __future__ import annotations

import csv
import hashlib
import mmap
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.models import N_DIAGNOSES, N_MODIFIERS, N_PROCEDURES


class LoadError(Exception):
    """A file that cannot be loaded at all. The message names the file and the problem, in one line."""


# --- code formats (documented in README "Quarantine reasons") -------------------------------------
# ICD-10-CM (CDC/NCHS): a letter (U included: U07.1 COVID-19, U09.9), a digit, then up to 5 alphanumerics
ICD10CM = r"^[A-Z][0-9][0-9A-Z]([0-9A-Z]{0,4})$"
ICD9CM = r"^([0-9]{3,5}|V[0-9]{2,4}|E[0-9]{3,4})$"
ICD10PCS = r"^[0-9A-HJ-NP-Z]{7}$"
HCPCS = r"^[0-9A-Z][0-9]{3}[0-9A-Z]$"
NDC11 = r"^[0-9]{11}$"
NPI = r"^[0-9]{10}$"
REVENUE = r"^[0-9]{4}$"
# NUBC type of bill: optional leading 0, facility type 1-9, bill classification 0-9, frequency code 0-9 or an
# alphanumeric code (e.g. 13I, 13G, 11I, 0131)
BILL_TYPE = r"^0?[1-9][0-9][0-9A-Z]$"
POS = r"^[0-9]{2}$"

DATE_FORMATS_ISO = ("%Y-%m-%d",)
# Plausible dates: a value outside this range (a typo such as 0204-03-01, or -0044-03-15) is an invalid date and
# quarantines its row like an unparseable one. Documented in README "Quarantine reasons".
MIN_DATE, MAX_DATE = "1900-01-01", "2099-12-31"

# User-supplied strings that name things (layout YAML, sources.yaml, --payer) are validated here, whatever route
# they come by, and reach SQL only as bound values (DuckDB variables, see _bind_source) or quoted identifiers.
DATA_SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# strftime directives DuckDB's strptime understands, and separators; nothing else (no quote, no backslash)
DATE_FORMAT_PATTERN = r"^(%[YymdbBjHMSIpeaAfz]|[-/ .,:T_])+$"
DELIMITER_CANDIDATES = (",", "|", "\t", ";")
MAX_HEADER_BYTES = 16 << 20

TARGETS = ("eligibility", "medical_claim", "pharmacy_claim", "icm_program", "icm_entity", "provider")

DX_COLS = [f"diagnosis_code_{i}" for i in range(1, N_DIAGNOSES + 1)]
POA_COLS = [f"diagnosis_poa_{i}" for i in range(1, N_DIAGNOSES + 1)]
PX_COLS = [f"procedure_code_{i}" for i in range(1, N_PROCEDURES + 1)]
PXDATE_COLS = [f"procedure_date_{i}" for i in range(1, N_PROCEDURES + 1)]
MOD_COLS = [f"hcpcs_modifier_{i}" for i in range(1, N_MODIFIERS + 1)]

REQUIRED = {
    "medical_claim": ["claim_id", "claim_line_number", "claim_type", "claim_start_date", "claim_end_date"],
    "pharmacy_claim": ["claim_id", "claim_line_number", "dispensing_date", "ndc_code"],
    "eligibility": ["enrollment_start_date", "enrollment_end_date"],
    "icm_program": ["program_id", "program_name", "program_type"],
    "icm_entity": ["entity_id", "program_id", "entity_name"],
    "provider": ["npi"],
}
# person_id or member_id must be present in claim/eligibility files (Tuva's older layout has patient_id)
PERSON_KEYS = ("person_id", "member_id", "patient_id")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_field_problem(name: str, value) -> str | None:
    """Why `value` is not acceptable for the SourceFile field `name` (None when it is). Shared with the layout
    and sources.yaml models so that every route validates the same way."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{name} must be text"
    if name == "data_source" and not re.fullmatch(DATA_SOURCE_PATTERN, value):
        return f"invalid {name} {value[:40]!r} (letters, digits, _ . - only, at most 64)"
    if name == "date_format" and not (re.fullmatch(DATE_FORMAT_PATTERN, value) and re.search("%[Yy]", value)):
        return f"invalid {name} {value[:40]!r} (strftime directives with a year, such as %m/%d/%Y; separators - / . , : only)"
    if name == "delimiter" and not (len(value) == 1 and value not in "\"'\r\n\x00"):
        return f"invalid {name} {value[:10]!r} (one character, not a quote or line end)"
    if name == "payer" and (len(value) > 200 or any(ord(ch) < 32 for ch in value)):
        return f"invalid {name} (at most 200 characters, no control characters)"
    return None


@dataclass
class SourceFile:
    """A landing file and how to read it."""

    path: Path
    target: str                      # one of TARGETS
    file_format: str                 # tuva | layout:<name> | desynpuf | synthea | reference
    data_source: str
    payer: str | None = None         # default payer/plan when the file has none
    # claims without payer/plan columns and no `payer`: the loader takes the primary payer of the enrollment
    # covering the service date (warehouse.enrollment_match); the staged payer is a placeholder until then
    payer_from_enrollment: bool = False
    delimiter: str | None = None     # None = sniff
    date_format: str = "%Y-%m-%d"
    # canonical column -> SQL expression over the raw table `raw` (all VARCHAR); None = identity mapping
    select_sql: dict[str, str] | None = None
    extra_sources: dict[str, Path] = field(default_factory=dict)  # more raw files, read as raw_<name>
    # Optional SQL over `raw` (and raw_<name>) that reshapes rows before mapping (e.g. unpivoting 13 carrier
    # line groups). It must return `_row` numbered 1..N and `_raw`-worthy columns; N is then the row count.
    transform_sql: str | None = None
    # What the load report says about the file beyond row counts (format version, columns mapped/ignored, ...).
    # count_sql: note name -> a count query over `raw` (the file as read, before the transform), e.g. rows a
    # format's transform leaves out because they are not data rows; the count is added to `notes`.
    notes: dict = field(default_factory=dict)
    count_sql: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.target not in TARGETS:
            raise LoadError(f"{self.path}: unknown target table {str(self.target)[:40]!r}")
        problem = source_field_problem("data_source", self.data_source) or \
            source_field_problem("date_format", self.date_format) or \
            source_field_problem("delimiter", self.delimiter) or source_field_problem("payer", self.payer)
        if problem:
            raise LoadError(f"{self.path}: {problem}")

    @property
    def checksum(self) -> str:
        if not hasattr(self, "_checksum"):
            self._checksum = sha256_file(self.path)
        return self._checksum


@dataclass
class StagedFile:
    source: SourceFile
    con: duckdb.DuckDBPyConnection
    rows_read: int
    rows_staged: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int]
    paid_amount_read: float | None
    table: str = ""   # the relation holding the staged rows in `con`
    quarantine_table: str = "quarantined"   # the relation holding the rows that failed staging
    # True when `con` is the target DuckDB warehouse's own connection (staged there in temp tables)
    in_target: bool = False

    def __post_init__(self):
        self.table = self.table or f"staged_{self.source.target}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_raw(con: duckdb.DuckDBPyConnection, source: SourceFile, table: str = "raw", path: Path | None = None,
             *, materialise: bool = True) -> int | None:
    """Read a CSV/Parquet file as `table` (all VARCHAR for CSV; row order = file order, so a rowid gives the
    ordinal: _rowid_ordinal).

    materialise=True creates a temporary table and returns the data-row count (accepted + rejected).
    materialise=False creates a temporary view over the file instead (binding it reads the header), and the one
    query that scans it parses the file while it types the rows (see stage_file); `collect_rejects` must follow
    that scan. Returns None.

    Malformed CSV lines go to `<table>_rejects` (_row = 1-based data row, reason, raw_line). Accepted rows
    are identified by their ordinal; `renumber_to_data_rows` turns ordinals back into the file's data-row numbers.
    """
    path = Path(path or source.path)
    if not path.exists():
        raise LoadError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: file is empty (0 bytes)")
    suffix = path.suffix.lower()
    _check_identifier(table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_rejects (_row BIGINT, reason VARCHAR, raw_line VARCHAR, idx BIGINT)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_blank (_row BIGINT)")
    kind = "TABLE" if materialise else "VIEW"
    try:
        if suffix == ".parquet":
            scan = f"read_parquet({_sql_str(str(path))})"
            if materialise:
                con.execute(f"CREATE OR REPLACE TEMP TABLE _parsed AS SELECT * FROM {scan}")
                cols = [r[0] for r in con.execute("DESCRIBE _parsed").fetchall()]
                casts = ", ".join(f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in cols)
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {casts} FROM _parsed")
                con.execute("DROP TABLE _parsed")
            else:  # the canonical projection casts every column to VARCHAR
                con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {scan}")
        else:
            text = inspect_text_file(path)
            readable = _normalised_copy(source, path) if text.mixed_line_ends else path
            blanks = blank_data_rows(readable, text.cr_only)
            if blanks:
                con.execute(f"INSERT INTO {table}_blank SELECT unnest(?::BIGINT[])", [blanks])   # one statement
            opts = [_dialect(con, readable, text, source.delimiter), "store_rejects=true",
                    f"rejects_table='{table}_rej'", f"rejects_scan='{table}_scan'", "parallel=true"]
            con.execute(f"CREATE OR REPLACE TEMP {kind} {table} AS "
                        f"SELECT * FROM read_csv({_sql_str(str(readable))}, {', '.join(opts)})")
            if materialise:
                collect_rejects(con, table)
    except LoadError:
        raise
    except duckdb.Error as exc:
        raise _unparseable(path, exc) from None
    if not materialise:
        return None
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] + \
        con.execute(f"SELECT count(*) FROM {table}_rejects").fetchone()[0]


def _check_identifier(name: str) -> None:
    """Temp-table names built in code (raw, raw_<extra source>, staged_<target>) are validated identifiers."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise LoadError(f"invalid internal table name {name[:40]!r}")


@dataclass
class TextFile:
    """What the first pass over a text file found: its header line (decoded, BOM removed), whether line ends are
    CR only, and whether LF and CRLF (or a lone CR) are mixed (then the file is read from a normalised copy)."""
    header: str
    cr_only: bool
    mixed_line_ends: bool


_NOT_SPACE = re.compile(rb"\S")
_LF_WITHOUT_CR = re.compile(rb"(?<!\r)\n")
_CR_WITHOUT_LF = re.compile(rb"\r(?!\n)")


def inspect_text_file(path: Path) -> TextFile:
    """Header, data presence, NUL bytes and line ends of a text file, or a LoadError naming the problem. Runs at
    memchr/regex speed over a memory map (no copy of the file): ~1-2 % of a load's time, only CR-bearing files
    take the second pass."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        nul = mm.find(b"\x00")
        if nul >= 0:
            line = _line_of(mm, nul)
            what = "binary content (NUL bytes)" if nul < 65536 else f"NUL byte (binary content) on line {line}"
            raise LoadError(f"{path}: {what}; expected a delimited text file")
        ends = [i for i in (mm.find(b"\n", 0, MAX_HEADER_BYTES), mm.find(b"\r", 0, MAX_HEADER_BYTES)) if i >= 0]
        if not ends:
            if len(mm) >= MAX_HEADER_BYTES:
                raise LoadError(f"{path}: header line longer than {MAX_HEADER_BYTES >> 20} MB")
            raise LoadError(f"{path}: has a header but no data rows")
        end = min(ends)
        try:
            header = mm[:end].decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise LoadError(f"{path}: header line is not UTF-8 text; re-encode the file as UTF-8") from None
        if _NOT_SPACE.search(mm, end) is None:
            raise LoadError(f"{path}: has a header but no data rows")
        mixed = cr_only = False
        if mm.find(b"\r") >= 0:
            has_lone_lf = _LF_WITHOUT_CR.search(mm) is not None
            has_lone_cr = _CR_WITHOUT_LF.search(mm) is not None
            has_crlf = mm.find(b"\r\n") >= 0
            cr_only = has_lone_cr and not has_lone_lf and not has_crlf
            mixed = sum((has_lone_lf, has_lone_cr, has_crlf)) > 1
    return TextFile(header, cr_only, mixed)


def blank_data_rows(path: Path, cr_only: bool = False) -> list[int]:
    """Data-row numbers (line number - 1: the header is line 1) of the empty lines of a text file. The CSV reader
    skips them without a trace, and they must still count: a later line's row number is its own whatever lines
    come before it. memchr-speed search over a memory map; blank lines are rare, so counting line ends up to each
    one costs nothing in the usual file. (A line break inside a quoted value counts as a line for the reader's
    own numbering of rejects as well; an empty line inside a quoted value is the one case counted wrongly.)"""
    end = b"\r" if cr_only else b"\n"
    rows: list[int] = []
    with open(path, "rb") as fh:
        if fh.seek(0, 2) == 0:
            return rows
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            line, counted_to = 1, 0
            for pattern in ((end + end,) if cr_only else (b"\n\n", b"\n\r\n")):
                pos = mm.find(pattern)
                while pos >= 0:
                    rows.append(pos)
                    pos = mm.find(pattern, pos + 1)
            offsets, rows = sorted(rows), []
            for pos in offsets:   # the empty line starts right after the line end at `pos`
                line += mm[counted_to:pos + 1].count(end)
                counted_to = pos + 1
                rows.append(line - 1)
    return rows


def _line_of(mm, offset: int) -> int:
    line, pos = 1, mm.find(b"\n", 0, offset)
    while pos >= 0:
        line += 1
        pos = mm.find(b"\n", pos + 1, offset)
    return line


def _normalised_copy(source: SourceFile, path: Path) -> Path:
    """A copy of a file that mixes LF and CRLF (or lone CR) line ends with every line end as LF: DuckDB's strict
    CSV reader stops at the first change of line end. Line numbers stay those of the file (a CRLF is one line end;
    a lone CR is counted as one, as a CR-only file would be). Removed with the staging (release_copies)."""
    folder = Path(tempfile.mkdtemp(prefix="icm-normalised-"))
    copy = folder / path.name
    with open(path, "rb") as src, open(copy, "wb") as dst:
        carry = b""
        while chunk := src.read(1 << 24):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            dst.write(re.sub(rb"\r\n?", b"\n", chunk[:len(chunk) - len(carry)]))
        dst.write(carry.replace(b"\r", b"\n"))
    source.__dict__.setdefault("_copies", []).append(folder)
    return copy


def release_copies(source: SourceFile) -> None:
    """Remove the normalised copies made while reading `source` (and its extra sources)."""
    import shutil

    for folder in source.__dict__.pop("_copies", []):
        shutil.rmtree(folder, ignore_errors=True)


def _header_columns(header: str, delimiter: str, quote: str = '"') -> list[str]:
    """Column names of the header line: blank names get the position's name, repeated names a suffix."""
    names = next(csv.reader([header], delimiter=delimiter, quotechar=quote or None), [])
    out: list[str] = []
    for i, name in enumerate(names):
        name = name.strip() or f"column{i}"
        base, n = name, 1
        while name in out:
            n += 1
            name = f"{base}_{n}"
        out.append(name)
    return out


def _header_delimiter(header: str) -> str:
    """The delimiter is the candidate the header line uses most: the header is written by the file's producer and
    carries no data, so one malformed data line can no longer turn a file into one column."""
    counts = {d: header.count(d) for d in DELIMITER_CANDIDATES}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _dialect(con, path: Path, text: TextFile, delimiter: str | None) -> str:
    """read_csv options that spell out the file's dialect and columns (all VARCHAR, header row, strict) with
    detection off. The delimiter comes from the header line (or the layout); quoting is RFC 4180 (") unless DuckDB's
    sniffer, told that delimiter, finds another quote character (it reports "no quote" for a sample with a single
    quoted value, which would split that value); no comment lines (a line starting with # is data), no skipped rows. Spelled out once: left
    to detect, every bind of the view over the file (DESCRIBE, the canonical view, the staging query) sniffs it
    again, ~0.2 s each."""
    delim = delimiter or _header_delimiter(text.header)
    base = "all_varchar=true, header=true, strict_mode=true, null_padding=false"
    quote = escape = '"'
    try:
        sniffed = con.execute(f"SELECT Quote, Escape FROM sniff_csv(?, {base}, delim=?, comment='', skip=0)",
                              [str(path), delim]).fetchone()
        if sniffed[0] not in ("(empty)", '"'):   # another quote character, e.g. '
            quote, escape = ("" if v == "(empty)" else v for v in sniffed)
    except duckdb.Error:
        pass
    names = ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in _header_columns(text.header, delim, quote))
    options = [base, "auto_detect=false", f"delim={_sql_str(delim)}", f"quote={_sql_str(quote)}",
               f"escape={_sql_str(escape)}", "comment=''", "skip=0", f"columns={{{names}}}"]
    if text.cr_only:  # LF and CRLF need no option (read_csv splits at both)
        options.append("new_line='\\r'")
    return ", ".join(options)


# Phrases of DuckDB's CSV/Parquet errors and the sentence shown instead (the raw text can quote a data line)
_PARSE_PROBLEMS = (
    ("maximum line size", "a line is longer than the reader's maximum line size"),
    ("unicode", "invalid UTF-8 text"),
    ("encoding", "invalid UTF-8 text"),
    ("quote", "an unterminated quoted value"),
    ("invalid state", "inconsistent quoting or line ends"),
    ("magic", "not a Parquet file"),
    ("footer", "the Parquet footer is missing or damaged"),
)


def _unparseable(path: Path, exc: Exception) -> LoadError:
    """One line naming the file and the problem; never DuckDB's own text (it can quote a member's data)."""
    text = str(exc).lower()
    kind = "Parquet" if path.suffix.lower() == ".parquet" else "CSV"
    problem = next((sentence for phrase, sentence in _PARSE_PROBLEMS if phrase in text), "the reader stopped")
    line = re.search(r"line:? (\d+)", text)
    where = f" at line {line.group(1)}" if line else ""
    return LoadError(f"{path}: cannot be parsed as {kind}: {problem}{where}")


def collect_rejects(con: duckdb.DuckDBPyConnection, table: str = "raw") -> None:
    """Move the malformed lines DuckDB kept aside during the last scan of `table` into `<table>_rejects`."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [f"{table}_rej"]).fetchone()[0]:
        return  # Parquet: no line-level rejects
    rejects = con.execute(f"SELECT line, error_type, csv_line FROM {table}_rej ORDER BY line").fetchall()
    first_error: dict[int, tuple] = {}
    for line, etype, raw in rejects:  # DuckDB may report several errors for one line
        first_error.setdefault(int(line) - 1, (f"malformed CSV row: {etype.lower()}", raw))
    if first_error:
        con.executemany(f"INSERT INTO {table}_rejects VALUES (?, ?, ?, ?)",
                        [(row, reason, raw, i + 1) for i, (row, (reason, raw)) in
                         enumerate(sorted(first_error.items()))])
    con.execute(f"DROP TABLE {table}_rej")   # a later scan in this connection starts a fresh rejects table


def _rowid_ordinal(con, table: str) -> str:
    """SQL for the 1-based ordinal of a row of `table`, counted from the table's first rowid: rowids are contiguous
    and in file order, but do not always start at 0 (a temp table created inside an open transaction numbers its
    rows from a large offset)."""
    _check_identifier(table)
    first = con.execute(f"SELECT coalesce(min(rowid), 0) FROM {table}").fetchone()[0]
    return f"({table}.rowid - {int(first)} + 1)"


def renumber_to_data_rows(con, tables: list[str], table: str = "raw") -> None:
    """Turn the ordinals in `_row` of `tables` (k = k-th accepted row) into the file's data-row numbers, given the
    data rows of `table`'s file that yield no accepted row (rejected and blank lines). With s_i the i-th such
    row, the k-th accepted row comes after every s_i with s_i - i < k; s_i - i never decreases, so one ASOF join
    on it finds that count per row (linear: a correlated count took 23 s for 10,000 rows of a double-spaced file)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {table}_skipped AS
        SELECT _row - idx AS accepted_before, max(idx) AS skipped
        FROM (SELECT _row, row_number() OVER (ORDER BY _row) AS idx
              FROM (SELECT _row FROM {table}_rejects UNION ALL SELECT _row FROM {table}_blank))
        GROUP BY ALL""")
    if not con.execute(f"SELECT count(*) FROM {table}_skipped").fetchone()[0]:
        return
    for t in tables:
        _check_identifier(t)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t} AS
            SELECT {t}.* REPLACE ({t}._row + coalesce(sk.skipped, 0) AS _row)
            FROM {t} ASOF LEFT JOIN {table}_skipped sk ON {t}._row > sk.accepted_before ORDER BY {t}._row""")


def raw_columns(con: duckdb.DuckDBPyConnection, table: str = "raw") -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] != "_row"]


# --- canonical projection ------------------------------------------------------------------------

def _canonical_columns(target: str) -> list[str]:
    from warehouse import canonical as c

    if target == "medical_claim":
        return c.TUVA_MEDICAL_CLAIM + list(c.EXTRA_MEDICAL_COLUMNS) + ["patient_id"]
    if target == "pharmacy_claim":
        return c.TUVA_PHARMACY_CLAIM + list(c.EXTRA_PHARMACY_COLUMNS) + ["patient_id"]
    if target == "eligibility":
        return c.TUVA_ELIGIBILITY + list(c.EXTRA_ELIGIBILITY_COLUMNS) + ["patient_id", "gender_code"]
    from warehouse.models import metadata

    return [col.name for col in metadata.tables[target].columns if col.name != "batch_id"]


def reads_in_place(source: SourceFile) -> bool:
    """Files mapped column by column are typed straight from the file scan; files reshaped by a transform
    (and their extra sources) are read into tables first."""
    return not source.transform_sql and not source.extra_sources


def _project_canonical(con, source: SourceFile) -> None:
    """Create `canon` (all VARCHAR, blanks as NULL) with every canonical column of the target, plus `_source`:
    the row as read (a struct), serialised for the rows that end in quarantine."""
    raw_cols = raw_columns(con)
    present = set(raw_cols)
    mapping = source.select_sql or {}
    exprs = []
    for col in _canonical_columns(source.target):
        if col in mapping:
            expr = mapping[col]
        elif col in present:
            expr = f"raw.{_q(col)}"
        else:
            expr = "NULL"
        exprs.append(f"NULLIF(trim(CAST({expr} AS VARCHAR)), '') AS {_q(col)}")
    missing = [c for c in REQUIRED[source.target]
               if c not in mapping and c not in present]
    if source.target in ("medical_claim", "pharmacy_claim", "eligibility") and not any(
            k in mapping or k in present for k in PERSON_KEYS):
        missing.append("person_id|member_id")
    if missing:
        raise LoadError(f"{source.path}: missing required column(s) for {source.target}: {', '.join(missing)}")
    if source.transform_sql:
        ordinal = "raw._row"
    elif reads_in_place(source):
        ordinal = "NULL::BIGINT"   # set from the staged table's rowids once the scan has run (_create_staged)
    else:
        ordinal = _rowid_ordinal(con, "raw")
    as_read = ", ".join(f"{_q(c)} := raw.{_q(c)}" for c in raw_cols)
    try:
        con.execute(f"""CREATE OR REPLACE TEMP VIEW canon AS
            SELECT {ordinal} AS _row, struct_pack({as_read}) AS _source, {', '.join(exprs)} FROM raw""")
    except duckdb.BinderException as exc:   # a layout names a column the file does not have
        missing = re.search(r'column "?([^"\n]{1,80})"? not found', str(exc))
        name = f" {missing.group(1)!r}" if missing else ""
        raise LoadError(f"{source.path}: the layout names a column{name} that is not in the file's header") from None


def _date(col: str, fmt: str) -> str:
    """A date column typed with the file's format (bound as the variable icm_date_format), NULL when it does not
    parse or lies outside MIN_DATE..MAX_DATE."""
    parsed = (f"TRY_CAST({col} AS DATE)" if fmt == "%Y-%m-%d"
              else f"CAST(TRY_STRPTIME({col}, getvariable('icm_date_format')) AS DATE)")
    return f"(CASE WHEN {parsed} BETWEEN DATE '{MIN_DATE}' AND DATE '{MAX_DATE}' THEN {parsed} END)"


def _bind_source(con, source: SourceFile) -> None:
    """The file's user-supplied values, bound as DuckDB variables that the staging SQL reads (getvariable):
    they never become SQL text."""
    values = (source.data_source, source.payer, source.date_format)
    for name, value in zip(_SOURCE_VARIABLES, values):
        con.execute(f"SET VARIABLE {name} = CAST(? AS VARCHAR)", [value])


_SOURCE_VARIABLES = ("icm_data_source", "icm_payer", "icm_date_format")


def _bad_date(col: str, fmt: str) -> str:
    return f"({col} IS NOT NULL AND {_date(col, fmt)} IS NULL)"


def _money(col: str) -> str:
    return f"TRY_CAST(replace(replace({col}, '$', ''), ',', '') AS DECIMAL(14,2))"


def _bad_money(col: str) -> str:
    return f"({col} IS NOT NULL AND {_money(col)} IS NULL)"


def _one_of(expr: str, values) -> str:
    """`expr IN (values)` written as list_contains: DuckDB plans an IN list of more than a few constants as a join,
    and a join in the staging query breaks the file order of its rows (the row numbers; see _create_staged)."""
    return f"list_contains([{', '.join(_sql_str(v) for v in values)}], {expr})"


def _bool(col: str) -> str:
    return (f"CASE WHEN {_one_of(f'lower({col})', ('1', 'true', 't', 'y', 'yes'))} THEN TRUE "
            f"WHEN {_one_of(f'lower({col})', ('0', 'false', 'f', 'n', 'no'))} THEN FALSE END")


def _dx(col: str) -> str:
    return f"upper(replace({col}, '.', ''))"


def _ndc(col: str) -> str:
    c = col
    return (f"CASE WHEN regexp_matches({c}, '^[0-9]{{4}}-[0-9]{{4}}-[0-9]{{2}}$') THEN '0' || replace({c}, '-', '') "
            f"WHEN regexp_matches({c}, '^[0-9]{{5}}-[0-9]{{3}}-[0-9]{{2}}$') THEN substr({c},1,5) || '0' || substr({c},7,3) || substr({c},11,2) "
            f"WHEN regexp_matches({c}, '^[0-9]{{5}}-[0-9]{{4}}-[0-9]$') THEN substr({c},1,5) || substr({c},7,4) || '0' || substr({c},12,1) "
            f"ELSE replace({c}, '-', '') END")


def _lpad_digits(col: str, width: int) -> str:
    return f"CASE WHEN regexp_matches({col}, '^[0-9]+$') AND length({col}) < {width} THEN lpad({col}, {width}, '0') ELSE {col} END"


def _fmt_violation(expr: str, pattern: str) -> str:
    return f"({expr} IS NOT NULL AND NOT regexp_matches({expr}, '{pattern}'))"


def _dx_pattern_case(code_expr: str) -> str:
    return (f"(CASE WHEN coalesce(lower(diagnosis_code_type), 'icd-10-cm') = 'icd-9-cm' THEN NOT regexp_matches({code_expr}, '{ICD9CM}') "
            f"WHEN lower(diagnosis_code_type) IN ('snomed-ct', 'snomed') THEN NOT regexp_matches({code_expr}, '^[0-9]{{6,18}}$') "
            f"ELSE NOT regexp_matches({code_expr}, '{ICD10CM}') END)")


def _create_staged(con, source: SourceFile, rules: list[tuple[str, str]], typed_columns: str) -> None:
    """One pass over the canonical text: every typed column, the row's first failing rule as `_reason` and, for
    the rows that fail, the row as read (JSON) as `_raw`. For a file read in place this pass is also the parse.
    Rules that look across rows then mark `_reason` in place; stage_file moves the marked rows to `quarantined`.
    (A rules pass plus a typed pass over the good rows cost ~40 % more; serialising every row doubles the cost.)"""
    table = f"staged_{source.target}"
    query = f"""SELECT _row, CASE WHEN _reason IS NOT NULL THEN CAST(to_json(_source) AS VARCHAR) END AS _raw,
                   * EXCLUDE (_row, _source, _reason), _reason
            FROM (SELECT _row, _source, {typed_columns}, {_reason_case(rules)} AS _reason FROM canon)"""
    # A file read in place numbers its rows by their order in the staged table, which a parallel plan keeps only
    # if it has no join (DuckDB turns e.g. a long IN list into one). Such a plan runs on one thread instead.
    one_thread = reads_in_place(source) and "JOIN" in "".join(
        str(r[-1]) for r in con.execute(f"EXPLAIN {query}").fetchall())
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    try:
        if one_thread:
            con.execute("SET threads = 1")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {query}")
    except (duckdb.InvalidInputException, duckdb.IOException) as exc:  # the file, not this SQL
        if not reads_in_place(source):
            raise
        raise _unparseable(source.path, exc) from None
    finally:
        if one_thread:
            con.execute(f"SET threads = {int(threads)}")
    if reads_in_place(source):
        collect_rejects(con)
        con.execute(f"UPDATE {table} SET _row = {_rowid_ordinal(con, table)}")


def _reason_case(rules: list[tuple[str, str]]) -> str:
    whens = " ".join(f"WHEN {cond} THEN {_sql_str(reason)}" for cond, reason in rules)
    return f"CASE {whens} END"


def _adjustment_rules() -> list[tuple[str, str]]:
    return [
        (f"claim_adjustment_type IS NOT NULL AND NOT {_one_of('lower(claim_adjustment_type)', ('original', 'replacement', 'void'))}",
         "unknown claim_adjustment_type (expected original, replacement or void)"),
        ("adjustment_sequence IS NOT NULL AND TRY_CAST(adjustment_sequence AS INTEGER) IS NULL",
         "adjustment_sequence is not an integer"),
    ]


NEGATIVE_PAID = "negative paid_amount on a claim that is not a void"


def _stage_medical(con, source: SourceFile) -> None:
    f = source.date_format
    dx_rules = [(f"({_q(c)} IS NOT NULL AND {_dx_pattern_case(_dx(_q(c)))})", f"malformed {c}") for c in DX_COLS]
    px_rules = [(f"({_q(c)} IS NOT NULL AND coalesce(lower(procedure_code_type), 'icd-10-pcs') = 'icd-10-pcs' "
                 f"AND NOT regexp_matches(upper(replace({_q(c)}, '.', '')), '{ICD10PCS}'))", f"malformed {c}") for c in PX_COLS]
    money = ["paid_amount", "allowed_amount", "charge_amount", "coinsurance_amount", "copayment_amount",
             "deductible_amount"]
    rules = [
        ("claim_id IS NULL", "missing claim_id"),
        ("claim_line_number IS NULL OR TRY_CAST(claim_line_number AS INTEGER) IS NULL", "missing or non-integer claim_line_number"),
        ("coalesce(person_id, patient_id, member_id) IS NULL", "missing person_id and member_id"),
        ("claim_type IS NULL OR NOT " + _one_of("lower(claim_type)", ("institutional", "professional", "undetermined")),
         "unknown claim_type (expected institutional, professional or undetermined)"),
        (f"{_date('claim_start_date', f)} IS NULL", "missing or invalid claim_start_date"),
        (f"{_date('claim_end_date', f)} IS NULL", "missing or invalid claim_end_date"),
        (f"{_date('claim_end_date', f)} < {_date('claim_start_date', f)}", "claim_end_date before claim_start_date"),
        (_bad_date("claim_line_start_date", f), "invalid claim_line_start_date"),
        (_bad_date("claim_line_end_date", f), "invalid claim_line_end_date"),
        (_bad_date("admission_date", f), "invalid admission_date"),
        (_bad_date("discharge_date", f), "invalid discharge_date"),
        (f"{_date('discharge_date', f)} < {_date('admission_date', f)}", "discharge_date before admission_date"),
        (_bad_date("paid_date", f), "invalid paid_date"),
        *[(_bad_money(m), f"non-numeric {m}") for m in money],
        ("service_unit_quantity IS NOT NULL AND TRY_CAST(service_unit_quantity AS DECIMAL(12,3)) IS NULL", "non-numeric service_unit_quantity"),
        *_adjustment_rules(),
        (_fmt_violation(f"CASE WHEN coalesce(lower(service_code_type), 'hcpcs') = 'hcpcs' THEN upper(hcpcs_code) END", HCPCS),
         "malformed hcpcs_code"),
        (_fmt_violation(_lpad_digits("revenue_center_code", 4), REVENUE), "malformed revenue_center_code"),
        (_fmt_violation(_lpad_digits("bill_type_code", 3), BILL_TYPE), "malformed bill_type_code"),
        (_fmt_violation(_lpad_digits("place_of_service_code", 2), POS), "malformed place_of_service_code"),
        (_fmt_violation("rendering_npi", NPI), "malformed rendering_npi"),
        (_fmt_violation("billing_npi", NPI), "malformed billing_npi"),
        (_fmt_violation("facility_npi", NPI), "malformed facility_npi"),
        *dx_rules, *px_rules,
    ]
    header_fields = ["claim_type", "person_id", "member_id", "payer", "plan", "claim_start_date", "claim_end_date",
                     "admission_date", "discharge_date", "bill_type_code", "drg_code", "diagnosis_code_1",
                     "adjustment_type", "claim_family_id"]
    mods = ", ".join(f"upper({_q(m)}) AS {_q(m)}" for m in MOD_COLS)
    dx = ", ".join(f"{_dx(_q(c))} AS {_q(c)}" for c in DX_COLS)
    poa = ", ".join(f"upper({_q(c)}) AS {_q(c)}" for c in POA_COLS)
    px = ", ".join(f"upper(replace({_q(c)}, '.', '')) AS {_q(c)}" for c in PX_COLS)
    pxd = ", ".join(f"{_date(_q(c), f)} AS {_q(c)}" for c in PXDATE_COLS)
    _create_staged(con, source, rules, f"""
        claim_id,
        TRY_CAST(claim_line_number AS INTEGER) AS claim_line_number,
        coalesce(data_source, getvariable('icm_data_source')) AS data_source,
        coalesce(original_claim_id, claim_id) AS claim_family_id,
        coalesce(lower(claim_adjustment_type), 'original') AS adjustment_type,
        coalesce(TRY_CAST(adjustment_sequence AS INTEGER),
                 CASE WHEN coalesce(lower(claim_adjustment_type), 'original') = 'original' THEN 0 ELSE 1 END) AS adjustment_sequence,
        coalesce(person_id, patient_id, member_id) AS person_id,
        coalesce(member_id, person_id, patient_id) AS member_id,
        coalesce(payer, getvariable('icm_payer'), coalesce(data_source, getvariable('icm_data_source'))) AS payer,
        coalesce(plan, payer, getvariable('icm_payer'), coalesce(data_source, getvariable('icm_data_source'))) AS plan,
        lower(claim_type) AS claim_type,
        {_lpad_digits('bill_type_code', 4)} AS bill_type_code,
        {_date('claim_start_date', f)} AS claim_start_date,
        {_date('claim_end_date', f)} AS claim_end_date,
        {_date('admission_date', f)} AS admission_date,
        {_date('discharge_date', f)} AS discharge_date,
        admit_source_code, admit_type_code,
        {_lpad_digits('discharge_disposition_code', 2)} AS discharge_disposition_code,
        drg_code_type, {_lpad_digits('drg_code', 3)} AS drg_code,
        coalesce(lower(diagnosis_code_type), 'icd-10-cm') AS diagnosis_code_type,
        {dx}, {poa},
        coalesce(lower(procedure_code_type), CASE WHEN procedure_code_1 IS NOT NULL THEN 'icd-10-pcs' END) AS procedure_code_type,
        {px}, {pxd},
        billing_npi, billing_tin, facility_npi,
        {_date('paid_date', f)} AS paid_date,
        {_bool('in_network_flag')} AS in_network_flag,
        {_date('claim_line_start_date', f)} AS claim_line_start_date,
        {_date('claim_line_end_date', f)} AS claim_line_end_date,
        {_lpad_digits('revenue_center_code', 4)} AS revenue_center_code,
        coalesce(lower(service_code_type), 'hcpcs') AS service_code_type,
        upper(hcpcs_code) AS hcpcs_code, {mods},
        {_lpad_digits('place_of_service_code', 2)} AS place_of_service_code,
        TRY_CAST(service_unit_quantity AS DECIMAL(12,3)) AS service_unit_quantity,
        rendering_npi, rendering_tin,
        {_money('paid_amount')} AS paid_amount, {_money('allowed_amount')} AS allowed_amount,
        {_money('charge_amount')} AS charge_amount, {_money('coinsurance_amount')} AS coinsurance_amount,
        {_money('copayment_amount')} AS copayment_amount, {_money('deductible_amount')} AS deductible_amount""")
    # A negative line of a claim that is not a void is a credit line (CMS claim files carry them): it is part of
    # the claim's net paid amount. Only a claim whose lines net below zero is quarantined.
    con.execute(f"""
      UPDATE staged_medical_claim SET _reason = {_sql_str(NEGATIVE_PAID)}
      FROM (SELECT claim_id AS c, data_source AS d FROM staged_medical_claim WHERE _reason IS NULL
            GROUP BY 1, 2 HAVING sum(paid_amount) < 0 AND bool_and(adjustment_type <> 'void')) n
      WHERE claim_id = n.c AND data_source = n.d AND _reason IS NULL""")
    # claim-level verdicts first, so an exact duplicate line does not quarantine the claim it duplicates
    _spread_to_group(con, "staged_medical_claim", "claim_id", header_fields,
                     "another line of this claim was quarantined",
                     "header fields differ between lines of this claim")
    _mark_duplicates(con, "staged_medical_claim", ["claim_id", "claim_line_number", "data_source"])


def _stage_pharmacy(con, source: SourceFile) -> None:
    f = source.date_format
    money = ["paid_amount", "allowed_amount", "charge_amount", "coinsurance_amount", "copayment_amount",
             "deductible_amount"]
    rules = [
        ("claim_id IS NULL", "missing claim_id"),
        ("claim_line_number IS NULL OR TRY_CAST(claim_line_number AS INTEGER) IS NULL", "missing or non-integer claim_line_number"),
        ("coalesce(person_id, patient_id, member_id) IS NULL", "missing person_id and member_id"),
        (f"{_date('dispensing_date', f)} IS NULL", "missing or invalid dispensing_date"),
        (_bad_date("paid_date", f), "invalid paid_date"),
        ("ndc_code IS NULL", "missing ndc_code"),
        (f"coalesce(lower(drug_code_type), 'ndc') = 'ndc' AND NOT regexp_matches({_ndc('ndc_code')}, '{NDC11}')",
         "malformed ndc_code (expected NDC-11)"),
        ("days_supply IS NOT NULL AND (TRY_CAST(days_supply AS INTEGER) IS NULL OR TRY_CAST(days_supply AS INTEGER) < 0)",
         "days_supply is not a non-negative integer"),
        ("quantity IS NOT NULL AND TRY_CAST(quantity AS DECIMAL(12,3)) IS NULL", "non-numeric quantity"),
        ("refills IS NOT NULL AND TRY_CAST(refills AS INTEGER) IS NULL", "non-integer refills"),
        *[(_bad_money(m), f"non-numeric {m}") for m in money],
        *_adjustment_rules(),
        (f"{_money('paid_amount')} < 0 AND coalesce(lower(claim_adjustment_type), 'original') <> 'void'",
         NEGATIVE_PAID),
        (_fmt_violation("prescribing_provider_npi", NPI), "malformed prescribing_provider_npi"),
    ]
    _create_staged(con, source, rules, f"""
        claim_id, TRY_CAST(claim_line_number AS INTEGER) AS claim_line_number,
        coalesce(data_source, getvariable('icm_data_source')) AS data_source,
        coalesce(original_claim_id, claim_id) AS claim_family_id,
        coalesce(lower(claim_adjustment_type), 'original') AS adjustment_type,
        coalesce(TRY_CAST(adjustment_sequence AS INTEGER),
                 CASE WHEN coalesce(lower(claim_adjustment_type), 'original') = 'original' THEN 0 ELSE 1 END) AS adjustment_sequence,
        coalesce(person_id, patient_id, member_id) AS person_id,
        coalesce(member_id, person_id, patient_id) AS member_id,
        coalesce(payer, getvariable('icm_payer'), coalesce(data_source, getvariable('icm_data_source'))) AS payer,
        coalesce(plan, payer, getvariable('icm_payer'), coalesce(data_source, getvariable('icm_data_source'))) AS plan,
        prescribing_provider_npi, dispensing_provider_npi,
        {_date('dispensing_date', f)} AS dispensing_date,
        coalesce(lower(drug_code_type), 'ndc') AS drug_code_type,
        CASE WHEN coalesce(lower(drug_code_type), 'ndc') = 'ndc' THEN {_ndc('ndc_code')} ELSE ndc_code END AS ndc_code,
        TRY_CAST(quantity AS DECIMAL(12,3)) AS quantity,
        TRY_CAST(days_supply AS INTEGER) AS days_supply, TRY_CAST(refills AS INTEGER) AS refills,
        {_date('paid_date', f)} AS paid_date,
        {_money('paid_amount')} AS paid_amount, {_money('allowed_amount')} AS allowed_amount,
        {_money('charge_amount')} AS charge_amount, {_money('coinsurance_amount')} AS coinsurance_amount,
        {_money('copayment_amount')} AS copayment_amount, {_money('deductible_amount')} AS deductible_amount,
        {_bool('in_network_flag')} AS in_network_flag""")
    _mark_duplicates(con, "staged_pharmacy_claim", ["claim_id", "claim_line_number", "data_source"])


PAYER_TYPES = ("medicaid", "medicare", "commercial", "self-insured", "dual", "uninsured", "other")


def _stage_eligibility(con, source: SourceFile) -> None:
    f = source.date_format
    rules = [
        ("coalesce(person_id, patient_id, member_id) IS NULL", "missing person_id and member_id"),
        (f"{_date('enrollment_start_date', f)} IS NULL", "missing or invalid enrollment_start_date"),
        (f"{_date('enrollment_end_date', f)} IS NULL", "missing or invalid enrollment_end_date"),
        (f"{_date('enrollment_end_date', f)} < {_date('enrollment_start_date', f)}",
         "enrollment_end_date before enrollment_start_date"),
        (_bad_date("birth_date", f), "invalid birth_date"),
        (_bad_date("death_date", f), "invalid death_date"),
        (f"{_date('death_date', f)} < {_date('birth_date', f)}", "death_date before birth_date"),
        (f"payer_type IS NOT NULL AND NOT {_one_of('lower(payer_type)', PAYER_TYPES)}", "unknown payer_type"),
        ("delivery_system IS NOT NULL AND NOT " + _one_of("upper(delivery_system)", ("FFS", "MCO", "PCCM", "ICM")),
         "unknown delivery_system (expected FFS, MCO, PCCM or ICM)"),
        ("county_fips IS NOT NULL AND NOT regexp_matches(county_fips, '^[0-9]{5}$')", "malformed county_fips"),
    ]
    sex = ("CASE WHEN lower(coalesce(gender, gender_code)) IN ('m','male','1') THEN 'male' "
           "WHEN lower(coalesce(gender, gender_code)) IN ('f','female','2') THEN 'female' "
           "WHEN coalesce(gender, gender_code) IS NULL THEN NULL ELSE 'unknown' END")
    _create_staged(con, source, rules, f"""
        coalesce(person_id, patient_id, member_id) AS person_id,
        coalesce(member_id, person_id, patient_id) AS member_id,
        coalesce(data_source, getvariable('icm_data_source')) AS data_source,
        coalesce(payer, getvariable('icm_payer'), coalesce(data_source, getvariable('icm_data_source'))) AS payer,
        coalesce(plan, payer, getvariable('icm_payer'), coalesce(data_source, getvariable('icm_data_source'))) AS plan,
        coalesce(lower(payer_type), 'medicaid') AS payer_type,
        {_date('enrollment_start_date', f)} AS start_date,
        {_date('enrollment_end_date', f)} AS end_date,
        eligibility_group, dual_status_code, medicare_status_code,
        upper(delivery_system) AS delivery_system, health_home_program_id, icm_program_id, icm_entity_id,
        {_bool('hospice_flag')} AS hospice_flag,
        {_bool('long_term_institutional_flag')} AS long_term_institutional_flag,
        {_date('birth_date', f)} AS birth_date, {_date('death_date', f)} AS death_date,
        {sex} AS sex, race, ethnicity, state, county_fips, zip_code""")
    _mark_duplicates(con, "staged_eligibility", ["person_id", "data_source", "payer", "plan", "start_date"])
    # the span's key in the warehouse (loading._span_id_expr) uses member_id: two persons sharing a member id
    # and a start date would collide there (found by the fault-injection tests: swapped header names)
    _mark_duplicates(con, "staged_eligibility", ["member_id", "data_source", "payer", "plan", "start_date"])
    # Spans of one person with one payer must not overlap: keep the earliest, quarantine the overlapping one.
    con.execute("""
      UPDATE staged_eligibility SET _reason = 'overlaps an earlier enrollment span of the same payer'
      FROM (
        SELECT _row AS r FROM (
          SELECT _row, start_date,
                 max(end_date) OVER (PARTITION BY person_id, data_source, payer ORDER BY start_date, _row
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
          FROM staged_eligibility WHERE _reason IS NULL) w
        WHERE start_date <= prev_end) o
      WHERE staged_eligibility._row = o.r""")


def _stage_reference(con, source: SourceFile) -> None:
    from warehouse.models import metadata

    table = metadata.tables[source.target]
    pk = [c.name for c in table.primary_key.columns]
    rules = [(f"{_q(c)} IS NULL", f"missing {c}") for c in REQUIRED[source.target]]
    if source.target == "provider":
        rules.append((f"NOT regexp_matches(npi, '{NPI}')", "malformed npi"))
    exprs = []
    for col in table.columns:
        if col.name == "batch_id":
            continue
        if isinstance(col.type, __import__("sqlalchemy").Boolean):
            exprs.append(f"{_bool(_q(col.name))} AS {_q(col.name)}")
        else:
            exprs.append(_q(col.name))
    _create_staged(con, source, rules, ", ".join(exprs))
    _mark_duplicates(con, f"staged_{source.target}", pk)


def _sql_str(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _mark_duplicates(con, table: str, key_columns: list[str]) -> None:
    con.execute(f"""
      UPDATE {table} SET _reason = 'duplicate of an earlier row in this file (same key)'
      FROM (SELECT _row AS r, row_number() OVER (PARTITION BY {', '.join(map(_q, key_columns))} ORDER BY _row) AS k
            FROM {table} WHERE _reason IS NULL) d
      WHERE {table}._row = d.r AND d.k > 1""")


def _spread_to_group(con, table: str, group_col: str, header_fields: list[str], reason_bad_member: str,
                     reason_inconsistent: str) -> None:
    """Claims are all-or-nothing: one bad line, or header fields that disagree, quarantine the claim. A header
    field left blank on some lines of a claim is not a disagreement; those lines get the value the other lines
    carry (the header is built from the first line, so a value given only on a later line still reaches it)."""
    # min <> max is count(DISTINCT) > 1 (both ignore NULLs) without a hash set per group (~40 % less time).
    # Text fields compare by their 64-bit hash (NULL stays NULL): half the time of min/max over strings; two
    # different values of one claim's field would have to share a hash (chance ~1e-19) to pass unnoticed.
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())

    def comparable(col: str) -> str:
        if types[col] != "VARCHAR":
            return _q(col)
        return f"CASE WHEN {_q(col)} IS NOT NULL THEN hash({_q(col)}) END"
    distinct = " OR ".join(f"min({comparable(h)}) <> max({comparable(h)})" for h in header_fields)
    partly_blank = " OR ".join(f"count({_q(h)}) BETWEEN 1 AND count(*) - 1" for h in header_fields)
    con.execute(f"""
      CREATE OR REPLACE TEMP TABLE _group_verdict AS
      SELECT gid, gds, why, why IS NULL AND partly_blank AS fill
      FROM (SELECT {group_col} AS gid, data_source AS gds,
                   CASE WHEN bool_or(_reason IS NOT NULL) THEN {_sql_str(reason_bad_member)}
                        WHEN {distinct} THEN {_sql_str(reason_inconsistent)} END AS why,
                   {partly_blank} AS partly_blank
            FROM {table} WHERE {group_col} IS NOT NULL GROUP BY {group_col}, data_source)
      WHERE why IS NOT NULL OR partly_blank""")
    con.execute(f"""
      UPDATE {table} SET _reason = g.why FROM _group_verdict g
      WHERE {table}.{group_col} = g.gid AND {table}.data_source = g.gds
        AND {table}._reason IS NULL AND g.why IS NOT NULL""")
    # the claim's fields agree wherever they are filled, so max() is that one value
    fills = ", ".join(f"{_q(h)} = coalesce({table}.{_q(h)}, f.{_q(h)})" for h in header_fields)
    values = ", ".join(f"max(t.{_q(h)}) AS {_q(h)}" for h in header_fields)
    con.execute(f"""
      UPDATE {table} SET {fills}
      FROM (SELECT t.{group_col} AS gid, t.data_source AS gds, {values}
            FROM {table} t JOIN _group_verdict g ON t.{group_col} = g.gid AND t.data_source = g.gds AND g.fill
            GROUP BY t.{group_col}, t.data_source) f
      WHERE {table}.{group_col} = f.gid AND {table}.data_source = f.gds""")
    con.execute("DROP TABLE _group_verdict")


_STAGERS = {
    "medical_claim": _stage_medical,
    "pharmacy_claim": _stage_pharmacy,
    "eligibility": _stage_eligibility,
    "icm_program": _stage_reference,
    "icm_entity": _stage_reference,
    "provider": _stage_reference,
}


def read_source(con, source: SourceFile, *, in_place: bool = False) -> int | None:
    """Read the file (and any extra sources) into `raw` and apply the format's transform; returns rows read.
    in_place (only for files without a transform): `raw` is a view over the file, rows are counted after the scan."""
    if in_place:
        return read_raw(con, source, materialise=False)
    rows_read = read_raw(con, source)
    for name, path in source.extra_sources.items():
        read_raw(con, source, table=f"raw_{name}", path=path)
    for name, query in source.count_sql.items():
        source.notes[name] = con.execute(query).fetchone()[0]
    if source.transform_sql:
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE raw_transformed AS {source.transform_sql}")
        except duckdb.Error as exc:   # never DuckDB's own text: it can quote a data value
            why = ("a column the format needs is missing or misnamed in the header"
                   if isinstance(exc, (duckdb.BinderException, duckdb.ParserException))
                   else "its values do not fit the format's columns")
            raise LoadError(f"{source.path}: cannot be read as {source.file_format}: {why}") from None
        con.execute("DROP TABLE raw")
        con.execute("ALTER TABLE raw_transformed RENAME TO raw")
        # transformed rows are numbered 1..N; malformed source lines are numbered after them (unique keys)
        con.execute("UPDATE raw_rejects SET _row = _row + (SELECT coalesce(max(_row), 0) FROM raw)")
        rows_read = con.execute("SELECT count(*) FROM raw").fetchone()[0] + \
            con.execute("SELECT count(*) FROM raw_rejects").fetchone()[0]
    return rows_read


def stage_file(source: SourceFile, threads: int | None = None,
               con: duckdb.DuckDBPyConnection | None = None) -> StagedFile:
    """Parse, map, type and check one file. Raises LoadError for files that cannot be read at all.

    By default staging runs in a private in-memory DuckDB. With `con` (the connection of a DuckDB warehouse)
    it runs there instead, in temporary tables only: the staged rows then reach the warehouse's tables without
    crossing from one DuckDB instance into another; `drop_staging` removes them.
    """
    from warehouse.engine import duckdb_config, no_progress_bar

    in_target = con is not None
    if con is None:
        con = duckdb.connect(config=duckdb_config())
        no_progress_bar(con)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    in_place = reads_in_place(source)
    _bind_source(con, source)
    try:
        rows_read = read_source(con, source, in_place=in_place)
        _project_canonical(con, source)
        _STAGERS[source.target](con, source)
    finally:
        release_copies(source)   # a normalised copy is read by now (in place: by the staging query)
    table = f"staged_{source.target}"
    if in_place:
        rows_read = con.execute(f"SELECT (SELECT count(*) FROM {table}) + (SELECT count(*) FROM raw_rejects)").fetchone()[0]
    paid = None
    if source.target in ("medical_claim", "pharmacy_claim"):  # what the file says was paid, quarantined rows too
        paid = con.execute(f"SELECT sum(paid_amount) FROM {table}").fetchone()[0]
    # Rows failing a cross-row rule (duplicate, claim-level verdict) passed every row rule, so their typed
    # canonical values stand in for the text as read (the row number points at the line in the file).
    typed = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in ("_row", "_raw", "_reason")]
    as_typed = f"CAST(to_json(struct_pack({', '.join(f'{_q(c)} := {_q(c)}' for c in typed)})) AS VARCHAR)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE quarantined AS
        SELECT _row, _reason AS reason, coalesce(_raw, {as_typed}) AS _raw FROM {table} WHERE _reason IS NOT NULL""")
    con.execute(f"DELETE FROM {table} WHERE _reason IS NOT NULL")
    con.execute(f"ALTER TABLE {table} DROP COLUMN _reason")
    if not source.transform_sql:  # ordinals -> file data-row numbers
        renumber_to_data_rows(con, [table, "quarantined"])
    con.execute("INSERT INTO quarantined SELECT _row, reason, raw_line FROM raw_rejects")
    staged = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    reasons = dict(con.execute("SELECT reason, count(*) FROM quarantined GROUP BY reason ORDER BY 2 DESC").fetchall())
    quarantined = sum(reasons.values())
    if staged + quarantined != rows_read:  # the invariant every load report states
        raise AssertionError(f"{source.path}: staged {staged} + quarantined {quarantined} != read {rows_read}")
    con.execute("DROP VIEW IF EXISTS temp.canon")
    con.execute(f"DROP {'VIEW' if in_place else 'TABLE'} IF EXISTS temp.raw")
    return StagedFile(source, con, rows_read, staged, quarantined, reasons, paid, in_target=in_target)


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary tables and views staging leaves in `con` (for staging in the warehouse connection,
    which outlives the load: pooled connections keep temp tables until they close)."""
    for name, kind in con.execute(
            "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary UNION ALL "
            "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND NOT internal").fetchall():
        if name in _STAGING_OBJECTS or name.startswith(("raw_", "staged_", "quarantined_")):
            con.execute(f"DROP {kind} IF EXISTS temp.main.{_q(name)}")
    for name in _SOURCE_VARIABLES:
        con.execute(f"RESET VARIABLE {name}")


_STAGING_OBJECTS = {"raw", "_parsed", "canon", "quarantined", *(f"staged_{t}" for t in TARGETS)}
