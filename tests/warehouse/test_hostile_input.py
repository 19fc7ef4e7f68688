"""Issue 24: the loader under hostile layouts, malformed lines, crashes on data rows, partial loads, no-op re-loads
and check metadata. Each test is named after the defect it pins."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text

from icm.cli import main
from tests.conftest import FIXTURES
from tests.warehouse.helpers import eligibility_row, medical_row, write_feed
from tests.warehouse.test_reliability import counts
from warehouse.engine import make_engine, upgrade
from warehouse.formats import discover
from warehouse.loading import load_sources
from warehouse.staging import SourceFile, stage_file

RAW_DATABASE_TEXT = ("Traceback", "Exception", "Error:", "duckdb", "psycopg", "sqlalchemy", "IntegrityError")

PAYLOADS = ["'", '"', ";", "--", "'); DROP TABLE person; --", "x' || (SELECT string_agg(person_id, ',') FROM person) || '",
            "read_text('/etc/passwd')", "' || read_text('/etc/passwd') || '", "back\\slash\\' \\\"", "ünïcødé ‘’ ; --"]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_clean_line(err: str, *expected: str) -> None:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("icm: error: "), err
    assert not any(t in lines[0] for t in RAW_DATABASE_TEXT), lines[0]
    for e in expected:
        assert e in lines[0], lines[0]


# --- 1. SQL injection through a payer layout ---------------------------------------------------------------

LAYOUT = {
    "layout": "hostile_mco", "data_source": "mco_hostile", "delimiter": "|", "date_format": "%m/%d/%Y",
    "files": {"eligibility": {"pattern": "members_*.txt", "columns": {
        "person_id": "MPI", "member_id": "MBR", "enrollment_start_date": "EFF", "enrollment_end_date": "TERM",
        "birth_date": "DOB", "race": {"const": "white"}, "ethnicity": {"column": "ETH", "map": {"2": "hispanic"}}}}},
}
MEMBERS = "MPI|MBR|EFF|TERM|DOB|ETH\nP1|B1|01/01/2024|12/31/2024|05/17/1980|2\nP2|B2|01/01/2024|12/31/2024|01/02/1990|1\n"


def _layout(tmp_path: Path, **changes) -> Path:
    import copy

    import yaml

    layout = copy.deepcopy(LAYOUT)
    for dotted, value in changes.items():
        node, *path, last = [layout, *dotted.split(".")]
        for key in path:
            node = node[key]
        node[last] = value
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(layout, allow_unicode=True))
    return path


@pytest.mark.parametrize("field", ["data_source", "date_format", "layout", "delimiter",
                                   "files.eligibility.pattern", "files.eligibility.columns.member_id"])
def test_sql_payloads_in_layout_fields_are_rejected_with_one_line_naming_the_field(field, tmp_path, capsys):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "members_2024.txt").write_text(MEMBERS)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    upgrade(url)
    before = counts(url)
    for payload in PAYLOADS:
        layout = _layout(tmp_path, **{field: payload})
        code, out, err = run_cli(capsys, "load", "--format", "layout", "--layout", str(layout), str(feed),
                                 "--warehouse", url, "--no-derive")
        assert code == 2, (field, payload, err)
        assert_one_clean_line(err)
        assert counts(url) == before


def test_sql_payloads_in_layout_values_payer_and_file_name_are_stored_literally(tmp_path, capsys):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    for i, payload in enumerate(PAYLOADS):
        feed = tmp_path / f"feed{i}"
        feed.mkdir()
        safe_name = payload.replace("/", "_")
        (feed / f"members_{safe_name}.txt").write_text(MEMBERS.replace("P1|B1", f"P1{i}|B1").replace("P2|B2", f"P2{i}|B2"))
        layout = _layout(tmp_path, **{"data_source": f"mco_{i}", "files.eligibility.columns.race": {"const": payload},
                                      "files.eligibility.columns.ethnicity": {"column": "ETH", "map": {"2": payload}}})
        code, out, err = run_cli(capsys, "load", "--format", "layout", "--layout", str(layout), str(feed),
                                 f"--payer=p{payload}", "--warehouse", url, "--no-derive")
        assert code == 0, (payload, err)
        with engine.connect() as conn:
            person = conn.execute(text("SELECT race, ethnicity FROM person WHERE person_id = :p"), {"p": f"P1{i}"}).one()
            spans = conn.execute(text("SELECT DISTINCT payer FROM enrollment_span WHERE data_source = :d"),
                                 {"d": f"mco_{i}"}).scalars().all()
            files = conn.execute(text("SELECT source_file FROM load_batch WHERE data_source = :d"),
                                 {"d": f"mco_{i}"}).scalars().all()
        assert (person.race, person.ethnicity) == (payload, payload)
        assert spans == [f"p{payload}"]      # (argparse reads a bare "--" as the end of options)
        assert files == [str(feed / f"members_{safe_name}.txt")]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM person")).scalar_one() == 2 * len(PAYLOADS)
        everything = " ".join(str(v) for r in conn.execute(text("SELECT * FROM person")).all() for v in r)
    assert "root:" not in everything
    engine.dispose()


def test_sources_yaml_entries_are_validated_and_a_hostile_payer_is_stored_literally(tmp_path):
    from warehouse.pipeline import discover_landing
    from warehouse.staging import LoadError

    landing = tmp_path / "landing"
    write_feed(landing / "feed", eligibility=[eligibility_row("P1", payer="")])
    for bad in ("feed: {format: \"tuva'; --\"}", "feed: {layout: \"../../etc/x\"}", "feed: {color: red}",
                "feed: [unclosed"):
        (landing / "sources.yaml").write_text(bad)
        with pytest.raises(LoadError, match="sources.yaml"):
            discover_landing(landing)
    (landing / "sources.yaml").write_text('feed: {format: tuva, payer: "x\'); DROP TABLE person; --"}')
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    load_sources(engine, discover_landing(landing))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT payer FROM enrollment_span")).scalar_one() == "x'); DROP TABLE person; --"
    engine.dispose()


def test_desynpuf_header_name_with_quotes_stays_an_identifier(tmp_path):
    """DE-SynPUF's transforms name the file's header columns in SQL; a header name with a double quote used to
    end the identifier and add SQL of its own (found by the fault injection over DE-SynPUF)."""
    name = "DE1_0_2008_to_2010_Carrier_Claims_Sample_0A.csv"
    folder = tmp_path / "synpuf"
    shutil.copytree(FIXTURES / "desynpuf", folder)
    header, *rows = (FIXTURES / "desynpuf" / name).read_text().splitlines()
    payload = '"x"" , (SELECT count(*) FROM read_text(\'/etc/hostname\')) AS ""leak"'
    (folder / name).write_text("\n".join([f"{header},{payload}"] + [f"{r},1" for r in rows]) + "\n")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    report = next(r for r in load_sources(engine, discover(folder, "desynpuf")) if Path(r.file).name == name)
    assert (report.rows_read, report.rows_quarantined) == (report.rows_loaded, 0) and report.rows_loaded >= 1
    engine.dispose()


# --- 5. (issue item) quarantine row numbers are the file's own, on every parallel run ---------------------

def test_quarantine_row_numbers_are_the_files_data_rows_on_every_parallel_run(tmp_path):
    """> 2 row groups read on 2 threads: before, rows came back out of file order (an IN list planned as a
    join), so the stored row numbers changed from run to run."""
    n, bad = 260_000, {7, 122_881, 200_000, 259_999}
    columns = ["claim_id", "claim_line_number", "claim_type", "person_id", "claim_start_date", "claim_end_date",
               "in_network_flag"]
    lines = [",".join(columns)] + [f"C{i},1,professional,P{i % 97},2024-03-01,2024-03-0{1 if i not in bad else 0},y"
                                   for i in range(1, n + 1)]
    path = tmp_path / "medical_claim.csv"
    path.write_text("\n".join(lines) + "\n")
    for _ in range(2):
        staged = stage_file(SourceFile(path=path, target="medical_claim", file_format="tuva", data_source="t"),
                            threads=2)
        rows = staged.con.execute("SELECT _row, reason FROM quarantined ORDER BY _row").fetchall()
        good = staged.con.execute("SELECT count(*) FROM staged_medical_claim "
                                  "WHERE _row <> CAST(substr(claim_id, 2) AS BIGINT)").fetchone()[0]
        staged.con.close()
        assert [r for r, _ in rows] == sorted(bad)
        assert good == 0


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_blank_lines_do_not_shift_later_quarantine_row_numbers(tmp_path, line_end):
    """A blank line is skipped by the reader; before, every later row's number dropped by one per blank line.
    Claim Cn sits on data row n (line n + 1) whatever blank lines surround it; rows 5 (malformed) and 9 (a rule:
    end before start) are quarantined under their own numbers, every run."""
    columns = ["claim_id", "claim_line_number", "claim_type", "person_id", "claim_start_date", "claim_end_date"]
    lines = [",".join(columns)]
    for n in range(1, 13):
        if n in (2, 3, 7, 11):
            lines.append("")
        elif n == 5:
            lines.append(f"C{n},1,professional,P1,2024-03-01")            # a column short
        else:
            lines.append(f"C{n},1,professional,P1,2024-03-0{2 if n != 9 else 2},2024-03-0{3 if n != 9 else 1}")
    path = tmp_path / "medical_claim.csv"
    path.write_bytes(line_end.join(lines + [""]).encode())
    for threads in (1, 2):
        staged = stage_file(SourceFile(path=path, target="medical_claim", file_format="tuva", data_source="t"),
                            threads=threads)
        quarantined = staged.con.execute("SELECT _row FROM quarantined ORDER BY _row").fetchall()
        accepted = staged.con.execute("SELECT _row, claim_id FROM staged_medical_claim ORDER BY _row").fetchall()
        staged.con.close()
        assert [r for r, in quarantined] == [5, 9]
        assert [(row, f"C{row}") for row, _ in accepted] == accepted
        assert len(accepted) == 6 and staged.rows_read == 8


# --- 2. one bad line must not reject the whole file -------------------------------------------------------

def _feed_with_bad_line(tmp_path: Path, mutate) -> tuple[Path, int]:
    rows = [medical_row(f"C{i}", 1) for i in range(1, 801)]
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")], medical=rows)
    path = folder / "medical_claim.csv"
    lines = path.read_bytes().split(b"\r\n")
    bad_row = 600
    lines[bad_row] = mutate(lines[bad_row])
    path.write_bytes(b"\n".join(lines))
    return folder, bad_row


BAD_LINES = {
    "extra_delimiter": lambda ln: ln.replace(b",", b",,", 1),
    "missing_delimiter": lambda ln: ln.replace(b",", b"", 1),
    "truncated_line": lambda ln: ln[: len(ln) // 2],
    "short_row": lambda ln: b",".join(ln.split(b",")[:5]),
    "long_row": lambda ln: ln + b",x,y,z",
    "other_delimiter": lambda ln: ln.replace(b",", b"|"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_one_bad_line_600_rows_deep_is_quarantined_with_its_row_and_the_rest_loads(case, tmp_path):
    folder, bad_row = _feed_with_bad_line(tmp_path, BAD_LINES[case])
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    report = {r.target_table: r for r in load_sources(engine, discover(folder, "tuva"))}["medical_claim"]
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (800, 799, 1)
    with engine.connect() as conn:
        row, reason = conn.execute(text("SELECT row_number, reason FROM quarantine")).one()
    assert row == bad_row and reason   # a malformed CSV row, or (a trailing extra comma) a shifted row's rule
    engine.dispose()


def test_file_mixing_crlf_and_lf_line_ends_loads_every_row(tmp_path):
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
                        medical=[medical_row(f"C{i}", 1) for i in range(1, 51)])
    path = folder / "medical_claim.csv"
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"".join(ln + (b"\n" if i % 3 else b"\r\n") for i, ln in enumerate(lines) if ln))
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    upgrade(str(engine.url))
    report = {r.target_table: r for r in load_sources(engine, discover(folder, "tuva"))}["medical_claim"]
    assert (report.rows_read, report.rows_loaded) == (50, 50)


# --- 4. crashes on data rows ------------------------------------------------------------------------------

def _mutated_medical(tmp_path: Path, name: str, edit) -> Path:
    """300 claims; the first carries a quoted value, so the file's quote character is '"'."""
    folder = write_feed(tmp_path / name, eligibility=[eligibility_row("P1")],
                        medical=[medical_row("C1", 1, admit_source_code="a,b")] +
                                [medical_row(f"C{i}", 1) for i in range(2, 301)])
    path = folder / "medical_claim.csv"
    path.write_bytes(edit(path.read_bytes()))
    return folder


def _line(data: bytes, n: int, edit) -> bytes:
    lines = data.split(b"\r\n")
    lines[n] = edit(lines[n])
    return b"\r\n".join(lines)


DATA_ROW_CRASHES = {
    # case: (edit, expected quarantine reason prefix or None for a one-line error, the error's words)
    "invalid_utf8": (lambda d: _line(d, 250, lambda ln: ln.replace(b"I10", b"I1\xe9\xff")), "malformed CSV row"),
    "unterminated_quote": (lambda d: _line(d, 250, lambda ln: ln.replace(b"C250,", b'"C250,')), "malformed CSV row"),
    "date_before_year_1": (lambda d: _line(d, 250, lambda ln: ln.replace(b"2024-03-01", b"-0044-03-15")),
                           "missing or invalid claim_start_date"),
    "hash_line": (lambda d: _line(d, 250, lambda ln: b"#" + ln), None),
    "ten_mb_field": (lambda d: _line(d, 250, lambda ln: ln.replace(b"I10", b"I" + b"0" * (10 << 20))),
                     "malformed CSV row"),
}


@pytest.mark.parametrize("case", sorted(DATA_ROW_CRASHES))
def test_data_row_that_crashed_the_load_is_quarantined_with_a_reason(case, tmp_path, capsys):
    edit, reason = DATA_ROW_CRASHES[case]
    folder = _mutated_medical(tmp_path, case, edit)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    code, out, err = run_cli(capsys, "load", "--format", "tuva", str(folder), "--warehouse", url)
    assert code == 0, err                    # the derived rebuild ran too (the BC date broke it before)
    report = {Path(f["file"]).name: f for f in json.loads(out)["files"]}["medical_claim.csv"]
    assert report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]
    # an unterminated quote makes the rest of the file one value: one quarantined row holding all of it
    assert report["rows_read"] == (250 if case == "unterminated_quote" else 300)
    if reason is None:                       # a '#' line is data like any other: counted and loaded
        assert report["rows_loaded"] == 300
    else:
        assert report["rows_quarantined"] >= 1 and all(r.startswith(reason) for r in report["quarantine_reasons"])
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT min(row_number) FROM quarantine")).scalar_one() == 250
        engine.dispose()


def test_header_over_64_kb_is_read_not_called_empty(tmp_path):
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
                        medical=[medical_row(f"C{i}", 1) for i in range(1, 4)])
    path = folder / "medical_claim.csv"
    header, rest = path.read_bytes().split(b"\r\n", 1)
    pad = b",".join(b"extra_%05d" % i for i in range(8000))          # ~88 KB of header
    path.write_bytes(header + b"," + pad + b"\r\n" + rest.replace(b"\r\n", b"," * 8000 + b"\r\n"))
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    upgrade(str(engine.url))
    report = {r.target_table: r for r in load_sources(engine, discover(folder, "tuva"))}["medical_claim"]
    assert (report.rows_read, report.rows_loaded) == (3, 3)


def test_no_member_id_in_the_message_of_an_unreadable_file(tmp_path, capsys):
    folder = _mutated_medical(tmp_path, "nul", lambda d: _line(d, 250, lambda ln: ln.replace(b"P1", b"P1\x00")))
    code, out, err = run_cli(capsys, "load", "--format", "tuva", str(folder), "--warehouse",
                             f"duckdb:///{tmp_path / 'w.duckdb'}")
    assert code == 2
    assert_one_clean_line(err, "medical_claim.csv", "NUL")
    assert "M-medicaid-P1" not in err and "C250" not in err


# --- 3. a folder load is one unit -------------------------------------------------------------------------

@pytest.mark.parametrize("failing_file", ["eligibility.csv", "medical_claim.csv", "pharmacy_claim.csv"])
def test_failure_after_any_file_of_a_folder_leaves_the_warehouse_unchanged(failing_file, warehouse_url, tmp_path,
                                                                           monkeypatch):
    folder = shutil.copytree(FIXTURES / "tuva", tmp_path / "tuva")
    engine = make_engine(warehouse_url)
    before = counts(warehouse_url)
    monkeypatch.setenv("ICM_FAULT", f"after_file:{failing_file}")
    with pytest.raises(RuntimeError, match="injected fault"):
        load_sources(engine, discover(folder, "tuva"))
    assert counts(warehouse_url) == before
    monkeypatch.delenv("ICM_FAULT")
    assert [r.status for r in load_sources(engine, discover(folder, "tuva"))] == ["loaded"] * 3
    engine.dispose()


# --- 8 (issue item). a no-op re-load does no derived work ---------------------------------------------------

def test_reloading_unchanged_files_does_not_rebuild_derived_tables(tmp_path, capsys, monkeypatch):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    folder = str(FIXTURES / "tuva")
    code, out, _ = run_cli(capsys, "load", "--format", "tuva", folder, "--warehouse", url)
    assert code == 0 and json.loads(out)["derived_rows"]["member_month"] > 0

    def forbidden(engine):
        raise AssertionError("derived tables rebuilt on a no-op load")
    monkeypatch.setattr("warehouse.derive.rebuild_final_action", forbidden)
    monkeypatch.setattr("warehouse.derive.rebuild_member_months", forbidden)
    code, out, err = run_cli(capsys, "load", "--format", "tuva", folder, "--warehouse", url)
    assert code == 0, err
    report = json.loads(out)
    assert {f["status"] for f in report["files"]} == {"already_loaded"}
    assert report["derived_rows"] == {} and report["derived"].startswith("skipped")


# --- 9 (issue item). no member data in check metadata ---------------------------------------------------------

def test_failing_check_metadata_shows_counts_and_masked_examples_only(tmp_path):
    import great_expectations as gx

    from warehouse.quality import validate_table

    path = tmp_path / "q.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE person AS SELECT 'MBR-' || range AS member_id, 'Jane Doe' AS name FROM range(20)")
    outcome = validate_table(f"duckdb:///{path}", "person", [
        gx.expectations.ExpectColumnValuesToBeInSet(column="member_id", value_set=["1"]),
        gx.expectations.ExpectColumnValuesToBeInSet(column="name", value_set=["x"])])
    metadata = json.dumps(outcome.metadata())
    assert not outcome.passed and "unexpected_count[" in metadata
    assert "MBR-" not in metadata and "Jane" not in metadata
    assert "AAA-9" in metadata                      # the shape of a failing value still shows


def test_two_persons_sharing_a_member_id_and_start_date_are_quarantined_not_an_integrity_error(tmp_path):
    """Found by the fault-injection run (eligibility with swapped header names): the warehouse keys a span by
    member id, staging checked duplicates by person id only."""
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1", member_id="20"),
                                                        eligibility_row("P2", member_id="20")])
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    upgrade(str(engine.url))
    report = load_sources(engine, discover(folder, "tuva"))[0]
    assert (report.rows_loaded, report.quarantine_reasons) == (1, {"duplicate of an earlier row in this file (same key)": 1})
    engine.dispose()
