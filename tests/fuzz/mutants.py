"""Fault injection for the loader: mutation operators over landing files, and a runner that loads each mutant
through the command line (in process) and classifies what happened. Every format the loader reads is fuzzed
(FEEDS: Tuva, Synthea CSV, DE-SynPUF, a payer YAML layout), on DuckDB and on PostgreSQL.

A mutant passes when the load either succeeds with every row accounted for (rows read = loaded + quarantined, in
the report and in the warehouse) or fails with exit code 2 and ONE line naming the problem, with the warehouse
unchanged; in both cases no traceback, no raw database text and no member id reaches the output."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import FIXTURES

RAW_DATABASE_TEXT = ("Traceback", "Exception", "Error:", "duckdb", "psycopg", "sqlalchemy", "IntegrityError",
                     "Binder", "Parser", "Conversion")
BASE_LINES = {"eligibility.csv": None, "medical_claim.csv": 240, "pharmacy_claim.csv": 80}
CORE = ("person", "enrollment_span", "medical_claim", "medical_claim_line", "pharmacy_claim", "load_batch",
        "quarantine")


def base_feed(folder: Path) -> Path:
    """The Tuva fixture, cut to a few hundred lines so that a mutant loads in well under a second."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in BASE_LINES.items():
        lines = (FIXTURES / "tuva" / name).read_bytes().splitlines(keepends=True)
        (folder / name).write_bytes(b"".join(lines[: (n or len(lines)) + 1]))
    return folder


# columns holding a person, member or claim identifier, in every format's own spelling (upper case)
ID_COLUMNS = frozenset({"PERSON_ID", "MEMBER_ID", "CLAIM_ID", "ID", "PATIENT", "PATIENTID", "CLAIMID", "MEMBERID",
                        "SSN", "DESYNPUF_ID", "CLM_ID", "PDE_ID", "MPI", "MEMBER_NO", "SUBSCRIBER_NO", "ENC_ID",
                        "RX_ID"})


@dataclass(frozen=True)
class Feed:
    """A format the loader reads, as fuzz material: the files a mutant may mutate (a mutant changes one of them;
    the folder holds the others unchanged, or only that file when `single_file`), how `icm load` is told the
    format, and the delimiter the operators' commas stand for."""
    format: str
    files: tuple[str, ...]
    load_args: tuple[str, ...] = ()
    delimiter: bytes = b","
    single_file: bool = False


FEEDS = {
    "tuva": Feed("tuva", tuple(BASE_LINES), single_file=True),
    "synthea": Feed("synthea", ("claims.csv", "claims_transactions.csv", "encounters.csv", "medications.csv",
                                "patients.csv", "payer_transitions.csv", "payers.csv")),
    "desynpuf": Feed("desynpuf", tuple(sorted(p.name for p in (FIXTURES / "desynpuf").glob("*.csv")))),
    "layout": Feed("layout", ("members_20251231.txt", "encounters_20251231.txt", "rx_20251231.txt"),
                   load_args=("--layout", "bluestem_mco"), delimiter=b"|"),
}


def base_folder(feed: Feed, work: Path) -> Path:
    """The unmutated files of `feed`: the Tuva fixture cut short, the Synthea and DE-SynPUF fixtures, and a
    small generated payer feed in the bluestem_mco layout (pipe-delimited, MM/DD/YYYY)."""
    folder = work / f"base_{feed.format}"
    if feed.format == "tuva":
        return base_feed(folder)
    if feed.format == "layout":
        from warehouse.synthetic.generator import generate

        with contextlib.redirect_stdout(io.StringIO()):
            generate(work / "generated", members=150, seed=24)
        shutil.copytree(work / "generated" / "mco_b", folder)
        shutil.rmtree(work / "generated", ignore_errors=True)
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in feed.files:
        shutil.copyfile(FIXTURES / feed.format / name, folder / name)
    return folder


def member_ids(folder: Path, feed: Feed | None = None) -> set[str]:
    """Identifiers that must never appear in a message (those long enough not to match a line number)."""
    feed = feed or FEEDS["tuva"]
    ids = set()
    for name in feed.files:
        if name == "payers.csv":   # payer ids identify no one
            continue
        with open(folder / name, newline="", encoding="utf-8", errors="replace") as fh:
            for row in csv.DictReader(fh, delimiter=feed.delimiter.decode()):
                ids |= {v for k, v in row.items() if k and k.upper() in ID_COLUMNS and v}
    return {i for i in ids if len(i) >= 5}


# --- operators: (data, rng) -> data ---------------------------------------------------------------------

def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _on_line(fn):
    """An operator that edits one random data line (never the header)."""
    def op(data: bytes, rng: random.Random) -> bytes:
        lines = _lines(data)
        candidates = [i for i in range(1, len(lines)) if lines[i].strip()]
        if not candidates:
            return data
        i = rng.choice(candidates)
        lines[i] = fn(lines[i], rng)
        return b"\n".join(lines)
    return op


def _at(line: bytes, rng: random.Random, insert: bytes) -> bytes:
    pos = rng.randrange(len(line) + 1)
    return line[:pos] + insert + line[pos:]


def _cut_comma(line: bytes, rng: random.Random) -> bytes:
    commas = [m.start() for m in re.finditer(b",", line)]
    if not commas:
        return line
    pos = rng.choice(commas)
    return line[:pos] + line[pos + 1:]


def _field_edit(fn):
    def edit(line: bytes, rng: random.Random) -> bytes:
        fields = line.split(b",")
        i = rng.randrange(len(fields))  # split always gives at least one field
        fields[i] = fn(fields[i], rng)
        return b",".join(fields)
    return edit


def _dates(data: bytes, rng: random.Random) -> bytes:
    bad = rng.choice([b"-0044-03-15", b"2024-02-31", b"0000-00-00", b"99999-01-01", b"1066-10-14", b"2024/03/01",
                      b"20240301", b"2200-01-01"])
    matches = list(re.finditer(rb"\b(19|20)\d\d-\d\d-\d\d\b", data))
    if not matches:
        return data
    m = rng.choice(matches[1:] or matches)
    return data[:m.start()] + bad + data[m.end():]


def _negative_amount(data: bytes, rng: random.Random) -> bytes:
    matches = list(re.finditer(rb",(\d+\.\d\d),", data))
    if not matches:
        return data
    m = rng.choice(matches)
    return data[:m.start(1)] + b"-" + data[m.start(1):]


def _line_ends(kind: bytes):
    def op(data: bytes, rng: random.Random) -> bytes:
        lines = _lines(data)
        if len(lines) < 2:
            return data
        for i in rng.sample(range(len(lines) - 1), k=max(1, (len(lines) - 1) // rng.choice([1, 3, 50]))):
            lines[i] = lines[i] + kind
        return b"\n".join(lines).replace(b"\r\n", b"\r") if kind == b"\r" and rng.random() < 0.3 else b"\n".join(lines)
    return op


def _header(fn):
    def op(data: bytes, rng: random.Random) -> bytes:
        header, _, rest = data.partition(b"\n")
        return fn(header, rng) + b"\n" + rest
    return op


def _swap_header_names(header: bytes, rng: random.Random) -> bytes:
    names = header.split(b",")
    if len(names) < 2:
        return header
    i, j = rng.sample(range(len(names)), 2)
    names[i], names[j] = names[j], names[i]
    return b",".join(names)


def _insert_lines(make):
    def op(data: bytes, rng: random.Random) -> bytes:
        lines = _lines(data)
        pos = rng.randrange(1, len(lines) + 1)
        return b"\n".join(lines[:pos] + [make(lines, rng)] + lines[pos:])
    return op


OPERATORS = {
    "extra_delimiter": _on_line(lambda ln, r: _at(ln, r, b",")),
    "missing_delimiter": _on_line(_cut_comma),
    "truncated_line": _on_line(lambda ln, r: ln[: r.randrange(len(ln) + 1)]),
    "short_row": _on_line(lambda ln, r: b",".join(ln.split(b",")[: r.randrange(1, 8)])),
    "long_row": _on_line(lambda ln, r: ln + b",x" * r.randrange(1, 6)),
    "mixed_delimiters": _on_line(lambda ln, r: ln.replace(b",", r.choice([b"|", b";", b"\t"]))),
    "crlf_some_lines": _line_ends(b"\r"),
    "cr_only_file": lambda d, r: d.replace(b"\n", b"\r"),
    "crlf_file": lambda d, r: d.replace(b"\n", b"\r\n"),
    "invalid_utf8": _on_line(lambda ln, r: _at(ln, r, r.choice([b"\xff", b"\xc3", b"\xe9\xfe", b"\xed\xa0\x80"]))),
    "latin1_text": _on_line(lambda ln, r: _at(ln, r, "Müller é".encode("latin-1"))),
    "unterminated_quote": _on_line(_field_edit(lambda f, r: b'"' + f)),
    "quote_inside_field": _on_line(_field_edit(lambda f, r: f + b'"x')),
    "quoted_field_with_newline": _on_line(_field_edit(lambda f, r: b'"' + f + b'\nmore"')),
    "huge_field": _on_line(_field_edit(lambda f, r: f + b"9" * r.choice([70_000, 2_200_000]))),
    "long_header": _header(lambda h, r: h + b"".join(b",extra_column_%06d" % i for i in range(4000))),
    "bom": lambda d, r: b"\xef\xbb\xbf" + d,
    "nul_byte": _on_line(lambda ln, r: _at(ln, r, b"\x00")),
    "empty_lines": _insert_lines(lambda lines, r: b""),
    "whitespace_line": _insert_lines(lambda lines, r: b"   \t "),
    "duplicated_header": _insert_lines(lambda lines, r: lines[0]),
    "duplicated_line": _insert_lines(lambda lines, r: r.choice(lines[1:] or lines)),
    "hash_line": _on_line(lambda ln, r: b"#" + ln),
    "garbage_line": _insert_lines(lambda lines, r: bytes(r.randrange(32, 127) for _ in range(r.randrange(1, 200)))),
    "binary_line": _insert_lines(lambda lines, r: bytes(r.randrange(1, 256) for _ in range(r.randrange(1, 100)))),
    "bad_date": _dates,
    "negative_amount": _negative_amount,
    "sql_in_field": _on_line(_field_edit(lambda f, r: r.choice([b"'); DROP TABLE person; --", b"' OR 1=1 --",
                                                                   b"read_text('/etc/passwd')"]))),
    "unicode_field": _on_line(_field_edit(lambda f, r: f + "\u202e\U0001F600ñ".encode())),
    "swap_header_names": _header(_swap_header_names),
    "drop_header_name": _header(lambda h, r: _cut_comma(h, r)),
    "blank_header_name": _header(lambda h, r: h.replace(b"claim_type", b"", 1)),
    "header_tabs": _header(lambda h, r: h.replace(b",", b"\t")),
    "trailing_delimiter": lambda d, r: b"\n".join(ln + b"," if ln else ln for ln in _lines(d)),
    "truncate_file": lambda d, r: d[: r.randrange(len(d) + 1)],
    "header_only": lambda d, r: d.split(b"\n", 1)[0] + b"\n",
    "empty_file": lambda d, r: b"",
    "spaces_around_fields": _on_line(lambda ln, r: ln.replace(b",", b" , ")),
}


@dataclass
class Outcome:
    mutant: str
    exit_code: int
    problems: list[str] = field(default_factory=list)


@dataclass
class Tally:
    mutants: int = 0
    loaded: int = 0
    rejected: int = 0
    tracebacks: int = 0
    raw_errors: int = 0
    member_ids: int = 0
    partial_loads: int = 0
    messages_not_one_line: int = 0
    accounting_breaks: int = 0
    seconds: int = 0
    failures: list[Outcome] = field(default_factory=list)

    def figures(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "failures"}


def make_mutant(base: Path, out: Path, rng: random.Random, feed: Feed | None = None) -> str:
    """One file of `base`, copied to the folder `out` with 1-3 operators applied; returns the mutant's name. For
    Tuva the folder holds that file only (loaded with --no-enrollment-check): one batch per mutant keeps a mutant
    at about a second; the other formats read their files together, so the others are copied unchanged. In a
    file with another delimiter the operators' commas are that delimiter (swapped before and after)."""
    feed = feed or FEEDS["tuva"]
    out.mkdir(parents=True)
    name = rng.choice(sorted(feed.files))
    for other in ([] if feed.single_file else feed.files):
        shutil.copyfile(base / other, out / other)
    path = out / name
    shutil.copyfile(base / name, path)
    swap = bytes.maketrans(b"," + feed.delimiter, feed.delimiter + b",")
    data = path.read_bytes().translate(swap)
    ops = rng.sample(sorted(OPERATORS), k=rng.choice([1, 1, 1, 2, 3]))
    for op in ops:
        data = OPERATORS[op](data, rng)
    path.write_bytes(data.translate(swap))
    return f"{feed.format}/{name}:{'+'.join(ops)}"


def run_mutant(folder: Path, url: str, ids: set[str], mutant: str, derive: bool, feed: Feed | None = None) -> Outcome:
    from sqlalchemy import text

    from icm.cli import main
    from warehouse.engine import make_engine

    feed = feed or FEEDS["tuva"]
    out, err = io.StringIO(), io.StringIO()
    args = ["load", "--format", feed.format, str(folder), "--warehouse", url, "--no-enrollment-check",
            *feed.load_args] + ([] if derive else ["--no-derive"])
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except BaseException as exc:  # noqa: BLE001 - anything escaping main is a traceback
            code, _ = -1, err.write(f"Traceback: {type(exc).__name__}")
    outcome = Outcome(mutant, code)
    message = err.getvalue()
    if code not in (0, 2) or "Traceback" in message:
        outcome.problems.append(f"traceback/exit {code}: {message.strip()[:300]}")
    if any(t in message for t in RAW_DATABASE_TEXT):
        outcome.problems.append(f"raw error: {message.strip()[:300]}")
    if any(re.search(rf"\b{re.escape(i)}\b", message) for i in ids):
        outcome.problems.append("member id in message")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            n = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in CORE}
            if code == 2:
                lines = [ln for ln in message.strip().splitlines() if ln.strip()]
                if len(lines) != 1:
                    outcome.problems.append(f"not one line: {message.strip()[:300]}")
                if any(n.values()):
                    outcome.problems.append(f"partial load: {n}")
            elif code == 0:
                report = json.loads(out.getvalue())
                for f in report["files"]:
                    q = conn.execute(text("SELECT count(*) FROM quarantine WHERE batch_id = :b"),
                                     {"b": f["batch_id"]}).scalar_one()
                    if f["rows_read"] != f["rows_loaded"] + f["rows_quarantined"] or q != f["rows_quarantined"]:
                        outcome.problems.append(f"accounting: {f['file']} {f['rows_read']} != "
                                                f"{f['rows_loaded']} + {f['rows_quarantined']} (quarantine {q})")
                in_table = {"medical_claim": n["medical_claim_line"], "pharmacy_claim": n["pharmacy_claim"],
                            "eligibility": n["enrollment_span"]}
                reported: dict[str, int] = {}
                for f in report["files"]:   # several files may feed one table (DE-SynPUF)
                    reported[f["target_table"]] = reported.get(f["target_table"], 0) + f["rows_loaded"]
                for target, rows in reported.items():
                    if target in in_table and in_table[target] != rows:
                        outcome.problems.append(f"accounting: {target} has {in_table[target]} rows, report says "
                                                f"{rows} loaded")
    finally:
        engine.dispose()
    return outcome


class DuckDBCopies:
    """Fresh warehouses for mutants: copies of one empty migrated DuckDB file."""

    def __init__(self, work: Path):
        from warehouse.engine import upgrade

        self.work, self.template = work, work / "template.duckdb"
        upgrade(f"duckdb:///{self.template}")

    def fresh(self, k: int) -> str:
        db = self.work / f"m{k}.duckdb"
        shutil.copyfile(self.template, db)
        return f"duckdb:///{db}"

    def discard(self, url: str) -> None:
        db = Path(url.removeprefix("duckdb:///"))
        db.unlink(missing_ok=True)
        Path(str(db) + ".wal").unlink(missing_ok=True)


class PostgresCopies:
    """Fresh warehouses for mutants on the test server: databases made from one migrated template database
    (CREATE DATABASE ... TEMPLATE copies it in a fraction of a second; a migration takes seconds)."""

    def __init__(self):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from tests.conftest import new_pg_database
        from warehouse.engine import upgrade

        self.template = new_pg_database()
        upgrade(self.template)
        self.name = make_url(self.template).database
        self.admin = create_engine(make_url(self.template).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def _run(self, sql: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def fresh(self, k: int) -> str:
        from sqlalchemy.engine import make_url

        name = f"{self.name}_m{k}"
        self._run(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return make_url(self.template).set(database=name).render_as_string(hide_password=False)

    def discard(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self._run(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def run_campaign(work: Path, n: int, seed: int, derive_every: int = 10, feeds: tuple[str, ...] = ("tuva",),
                 backend: str = "duckdb") -> Tally:
    """Load `n` seeded mutants of the named formats (taken in turn), each into a fresh empty migrated warehouse
    on `backend` (duckdb or postgres)."""
    import time

    started = time.time()
    bases = {name: base_folder(FEEDS[name], work) for name in feeds}
    ids = {name: member_ids(bases[name], FEEDS[name]) for name in feeds}
    warehouses = PostgresCopies() if backend == "postgres" else DuckDBCopies(work)
    rng = random.Random(seed)
    tally = Tally()
    for k in range(n):
        name = feeds[k % len(feeds)]
        folder = work / f"m{k}"
        mutant = make_mutant(bases[name], folder, rng, FEEDS[name])
        url = warehouses.fresh(k)
        outcome = run_mutant(folder, url, ids[name], mutant, derive=k % derive_every == 0, feed=FEEDS[name])
        tally.mutants += 1
        tally.loaded += outcome.exit_code == 0
        tally.rejected += outcome.exit_code == 2
        for problem in outcome.problems:
            kind = problem.split(":")[0]
            if kind.startswith("traceback"):
                tally.tracebacks += 1
            elif kind == "raw error":
                tally.raw_errors += 1
            elif kind == "member id in message":
                tally.member_ids += 1
            elif kind == "partial load":
                tally.partial_loads += 1
            elif kind == "not one line":
                tally.messages_not_one_line += 1
            elif kind == "accounting":
                tally.accounting_breaks += 1
        if outcome.problems:
            tally.failures.append(outcome)
            print("fuzz failure:", outcome.mutant, outcome.problems, flush=True)
        if (k + 1) % 50 == 0:
            print(f"fuzz progress: {tally.figures()}", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        warehouses.discard(url)
    tally.seconds = round(time.time() - started)
    return tally
