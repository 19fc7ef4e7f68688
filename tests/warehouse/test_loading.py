"""Loader: rows in = rows loaded + rows quarantined, idempotency, multi-payer matching, quarantine reasons."""
from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.conftest import FIXTURES
from tests.warehouse.helpers import eligibility_row, medical_row, pharmacy_row, write_feed
from warehouse import models
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(models.metadata.tables[table])).scalar_one()


def _load(engine, folder, fmt="tuva", **kw):
    return load_sources(engine, discover(folder, fmt), **kw)


def test_tuva_seed_rows_in_equal_loaded_plus_quarantined(warehouse_url, tmp_path):
    folder = shutil.copytree(FIXTURES / "tuva", tmp_path / "tuva")
    engine = make_engine(warehouse_url)
    reports = _load(engine, folder)
    by_target = {r.target_table: r for r in reports}
    assert set(by_target) == {"eligibility", "medical_claim", "pharmacy_claim"}
    source_rows = {"eligibility": 31, "medical_claim": 2075, "pharmacy_claim": 291}
    for target, report in by_target.items():
        assert report.rows_read == source_rows[target]
        assert report.rows_loaded + report.rows_quarantined == report.rows_read
        assert sum(report.quarantine_reasons.values()) == report.rows_quarantined
    assert _count(engine, "medical_claim_line") == by_target["medical_claim"].rows_loaded
    assert _count(engine, "quarantine") == sum(r.rows_quarantined for r in reports)
    # the seed's bill types like "13I" carry NUBC alphanumeric frequency codes: valid, none quarantined
    assert "malformed bill_type_code" not in by_target["medical_claim"].quarantine_reasons
    with engine.connect() as conn:
        persons = conn.execute(text("SELECT count(DISTINCT person_id) FROM enrollment_span")).scalar_one()
    assert _count(engine, "person") == persons == 10


def test_loading_the_same_file_twice_changes_nothing(warehouse_url, tmp_path):
    folder = shutil.copytree(FIXTURES / "tuva", tmp_path / "tuva")
    engine = make_engine(warehouse_url)
    _load(engine, folder)
    before = {t: _count(engine, t) for t in ("medical_claim", "medical_claim_line", "quarantine", "load_batch", "person")}
    again = _load(engine, folder)
    assert [r.status for r in again] == ["already_loaded"] * 3
    assert {t: _count(engine, t) for t in before} == before


def test_same_person_from_two_payers_is_one_person_with_two_enrollment_streams(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed",
               eligibility=[eligibility_row("P1", "medicaid", "2024-01-01", "2024-12-31"),
                            eligibility_row("P1", "medicare", "2024-01-01", "2024-12-31", payer_type="medicare")],
               medical=[medical_row("C1", 1, "P1", "medicaid", "2024-02-01"),
                        medical_row("C2", 1, "P1", "medicare", "2024-02-01")])
    engine = make_engine(warehouse_url)
    _load(engine, tmp_path / "feed")
    rebuild_final_action(engine)
    assert _count(engine, "person") == 1
    assert _count(engine, "enrollment_span") == 2
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.claim_id, c.payer, s.payer FROM medical_claim_final c "
            "JOIN enrollment_span s ON s.span_id = c.enrollment_span_id ORDER BY c.claim_id")).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [("C1", "medicaid", "medicaid"), ("C2", "medicare", "medicare")]


def test_claim_without_enrollment_of_its_own_payer_is_loaded_flagged_and_left_out_of_final(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed",
               eligibility=[eligibility_row("P1", "medicaid", "2024-01-01", "2024-06-30")],
               medical=[medical_row("C1", 1, "P1", "medicaid", "2024-03-01"),
                        medical_row("C2", 1, "P1", "medicaid", "2024-08-01"),      # after the span ends
                        medical_row("C3", 1, "P1", "commercial", "2024-03-01"),    # payer without enrollment
                        medical_row("C4", 1, "P9", "medicaid", "2024-03-01")])     # unknown person
    engine = make_engine(warehouse_url)
    reports = {r.target_table: r for r in _load(engine, tmp_path / "feed")}
    assert (reports["medical_claim"].rows_loaded, reports["medical_claim"].rows_quarantined) == (4, 0)
    assert reports["medical_claim"].enrollment_match == {"no enrollment": 2, "matched": 1, "other payer": 1}
    rebuild_final_action(engine)
    with engine.connect() as conn:
        flags = dict(conn.execute(text("SELECT claim_id, enrollment_match FROM medical_claim")).all())
        final = conn.execute(text("SELECT claim_id FROM medical_claim_final")).scalars().all()
    assert flags == {"C1": "matched", "C2": "no enrollment", "C3": "other payer", "C4": "no enrollment"}
    assert final == ["C1"]


@pytest.mark.parametrize("field,value,reason", [
    ("claim_start_date", "2024-02-30", "missing or invalid claim_start_date"),
    ("claim_line_number", "1a", "missing or non-integer claim_line_number"),
    ("claim_end_date", "2024-01-01", "claim_end_date before claim_start_date"),
    ("diagnosis_code_1", "XYZ12", "malformed diagnosis_code_1"),
    ("diagnosis_code_2", "F3", "malformed diagnosis_code_2"),
    ("hcpcs_code", "9921", "malformed hcpcs_code"),
    ("revenue_center_code", "45A", "malformed revenue_center_code"),
    ("claim_type", "dental", "unknown claim_type (expected institutional, professional or undetermined)"),
    ("claim_id", "", "missing claim_id"),
    ("paid_amount", "12,3x", "non-numeric paid_amount"),
    ("claim_adjustment_type", "reversal", "unknown claim_adjustment_type (expected original, replacement or void)"),
    ("rendering_npi", "12345", "malformed rendering_npi"),
    ("admission_date", "2024-13-01", "invalid admission_date"),
])
def test_each_row_rule_quarantines_with_its_reason(warehouse_url, tmp_path, field, value, reason):
    bad = medical_row("BAD", 1, "P1", "medicaid", "2024-03-01")
    bad[field] = value
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1", "medicaid")],
               medical=[medical_row("GOOD", 1, "P1", "medicaid", "2024-03-01"), bad])
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, tmp_path / "feed")}["medical_claim"]
    assert report.rows_loaded == 1
    assert report.quarantine_reasons == {reason: 1}
    with engine.connect() as conn:
        q = conn.execute(text("SELECT row_number, reason, raw_row FROM quarantine")).one()
    assert q.row_number == 2 and q.reason == reason
    if value:
        assert value in q.raw_row  # the raw text is kept as read


def test_one_bad_line_quarantines_the_whole_claim(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1), medical_row("C1", 2, hcpcs_code="BAD!!"), medical_row("C2", 1)])
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, tmp_path / "feed")}["medical_claim"]
    assert report.rows_loaded == 1
    assert report.quarantine_reasons == {"malformed hcpcs_code": 1, "another line of this claim was quarantined": 1}


@pytest.mark.parametrize("field, first, second", [
    ("diagnosis_code_1", "I10", "E119"),           # text fields compare by hash
    ("plan", "medicaid", "medicaid-2"),
    ("original_claim_id", "C0", "C9"),
    ("admission_date", "2024-03-01", "2024-03-02"),  # dates compare as they are
])
def test_header_fields_that_differ_between_lines_quarantine_the_claim(warehouse_url, tmp_path, field, first,
                                                                       second):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1, **{field: first}), medical_row("C1", 2, **{field: second}),
                        medical_row("C2", 1, **{field: first}), medical_row("C2", 2, **{field: first})])
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, tmp_path / "feed")}["medical_claim"]
    assert report.rows_loaded == 2
    assert report.quarantine_reasons == {"header fields differ between lines of this claim": 2}


def test_header_field_blank_on_some_lines_is_not_a_disagreement(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1, drg_code="470"), medical_row("C1", 2, drg_code=""),
                        medical_row("C1", 3, drg_code="470")])
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, tmp_path / "feed")}["medical_claim"]
    assert (report.rows_loaded, report.rows_quarantined) == (3, 0)


def test_header_field_given_only_on_a_later_line_reaches_the_claim_header(warehouse_url, tmp_path):
    """The header is built from the claim's first line; a field blank there but filled on another line (and never
    contradicted) is the claim's value, not a blank."""
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1, claim_type="institutional", drg_code="", admission_date=""),
                        medical_row("C1", 2, claim_type="institutional", drg_code="470", admission_date=""),
                        medical_row("C1", 3, claim_type="institutional", drg_code="470",
                                    admission_date="2024-02-28"),
                        medical_row("C2", 1, drg_code=""), medical_row("C2", 2, drg_code="")])
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, tmp_path / "feed")}["medical_claim"]
    assert (report.rows_loaded, report.rows_quarantined) == (5, 0)
    mc = models.MedicalClaim.__table__
    with engine.connect() as conn:
        headers = {r.claim_id: (r.drg_code, r.admission_date, r.line_count) for r in conn.execute(
            select(mc.c.claim_id, mc.c.drg_code, mc.c.admission_date, mc.c.line_count))}
    assert headers == {"C1": ("470", dt.date(2024, 2, 28), 3), "C2": (None, None, 2)}


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_lf_crlf_and_cr_line_endings_load_the_same_rows(warehouse_url, tmp_path, newline):
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
                        medical=[medical_row(f"C{i}", 1, paid=f"{i}.25") for i in range(4)] +
                                [medical_row("C9", 1, hcpcs_code="BAD!!")])
    for path in folder.glob("*.csv"):
        lines = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
        path.write_bytes(newline.join(lines))
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, folder)}["medical_claim"]
    assert (report.rows_read, report.rows_loaded) == (5, 4)
    assert report.quarantine_reasons == {"malformed hcpcs_code": 1}
    with engine.connect() as conn:
        paid = conn.execute(select(func.sum(models.MedicalClaim.__table__.c.paid_amount))).scalar_one()
    assert str(paid) == "7.00"


def test_duplicate_line_in_file_and_claim_already_loaded_are_quarantined(warehouse_url, tmp_path):
    write_feed(tmp_path / "a", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1), medical_row("C1", 1)])
    engine = make_engine(warehouse_url)
    first = {r.target_table: r for r in _load(engine, tmp_path / "a")}["medical_claim"]
    assert first.rows_loaded == 1
    assert first.quarantine_reasons == {"duplicate of an earlier row in this file (same key)": 1}
    # a different file carrying a claim that is already in the warehouse
    write_feed(tmp_path / "b", medical=[medical_row("C1", 1, paid="99.00"), medical_row("C5", 1)])
    second = {r.target_table: r for r in _load(engine, tmp_path / "b")}["medical_claim"]
    assert second.rows_loaded == 1
    assert second.quarantine_reasons == {"claim already loaded in an earlier batch": 1}


def test_quarantine_text_of_row_rule_and_cross_row_rejects(warehouse_url, tmp_path):
    """A row failing a row rule keeps its text as read; a duplicate (it passed every row rule) keeps its typed
    canonical values as JSON; both point at their line in the file."""
    import json

    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1, paid="12.50"), medical_row("C1", 1, paid="12.50"),
                        medical_row("C2", 1, hcpcs_code="BAD!!")])
    engine = make_engine(warehouse_url)
    _load(engine, tmp_path / "feed")
    with engine.connect() as conn:
        rows = {r.reason: r for r in conn.execute(text(
            "SELECT row_number, reason, raw_row FROM quarantine WHERE target_table = 'medical_claim'"))}
    dup = rows["duplicate of an earlier row in this file (same key)"]
    bad = rows["malformed hcpcs_code"]
    assert (dup.row_number, bad.row_number) == (2, 3)
    assert json.loads(bad.raw_row)["hcpcs_code"] == "BAD!!"
    typed = json.loads(dup.raw_row)
    assert typed["claim_id"] == "C1" and typed["claim_line_number"] == 1 and float(typed["paid_amount"]) == 12.5


def test_non_integer_pharmacy_line_number_is_quarantined_not_an_error(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               pharmacy=[pharmacy_row("R1", 1), pharmacy_row("R2", "one")])
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, tmp_path / "feed")}["pharmacy_claim"]
    assert (report.rows_loaded, report.quarantine_reasons) == (1, {"missing or non-integer claim_line_number": 1})


def _as_parquet(folder: Path, typed: bool, data_source: str) -> Path:
    """The feed's CSV files rewritten as Parquet under another data source: all text, or with DuckDB's detected
    types (dates, numbers)."""
    import duckdb

    out = folder.parent / f"{folder.name}_parquet"
    out.mkdir()
    con = duckdb.connect()
    for csv in folder.glob("*.csv"):
        target = str(out / (csv.stem + ".parquet")).replace("'", "''")
        con.execute(f"COPY (SELECT * REPLACE ('{data_source}' AS data_source) FROM read_csv('{csv}', header=true, "
                    f"all_varchar={str(not typed).lower()})) TO '{target}' (FORMAT parquet)")
    con.close()
    return out


@pytest.mark.parametrize("typed", [False, True], ids=["text_columns", "typed_columns"])
def test_parquet_feed_loads_like_the_same_feed_as_csv(warehouse_url, tmp_path, typed):
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1"), eligibility_row("P2")],
                        medical=[medical_row("C1", 1, paid="10.25"), medical_row("C1", 2, paid="5.00"),
                                 medical_row("C2", 1, person="P2", dx="E119"), medical_row("C2", 1, person="P2", dx="E119"),
                                 medical_row("C3", 1, hcpcs_code="BAD!!"), medical_row("C4", 1, person="P9")],
                        pharmacy=[pharmacy_row("R1", 1), pharmacy_row("R2", 1, ndc="12-34")])
    parquet = _as_parquet(folder, typed, "parquet_feed")
    engine = make_engine(warehouse_url)
    results = []
    for feed, data_source in ((folder, "test_feed"), (parquet, "parquet_feed")):
        reports = _load(engine, feed)
        with engine.connect() as conn:
            paid = conn.execute(text("SELECT sum(paid_amount), count(*) FROM medical_claim_line "
                                     "WHERE data_source = :ds"), {"ds": data_source}).one()
            quarantined = sorted(tuple(r) for r in conn.execute(text(
                "SELECT target_table, row_number, reason FROM quarantine WHERE source_file LIKE :folder"),
                {"folder": f"{feed}/%"}).all())
        results.append(({r.target_table: (r.rows_read, r.rows_loaded, r.quarantine_reasons) for r in reports},
                        (float(paid[0]), paid[1]), quarantined))
    csv_result, parquet_result = results
    assert parquet_result == csv_result
    # C4 (person without enrollment) is loaded and flagged, not quarantined
    assert csv_result[0]["medical_claim"][:2] == (6, 4) and csv_result[1] == (215.25, 4)
    assert csv_result[0]["pharmacy_claim"][2] == {"malformed ndc_code (expected NDC-11)": 1}
    assert [r[2] for r in csv_result[2]].count("duplicate of an earlier row in this file (same key)") == 1
    assert len(csv_result[2]) == 3   # duplicate, malformed HCPCS, malformed NDC


def test_overlapping_enrollment_spans_of_one_payer_are_quarantined(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[
        eligibility_row("P1", "medicaid", "2024-01-01", "2024-06-30", plan="ffs"),
        eligibility_row("P1", "medicaid", "2024-06-01", "2024-12-31", plan="mco"),   # overlaps in June
        eligibility_row("P1", "medicaid", "2025-01-01", "2025-12-31", plan="mco"),
        eligibility_row("P1", "commercial", "2024-03-01", "2024-12-31", payer_type="commercial")])
    engine = make_engine(warehouse_url)
    report = _load(engine, tmp_path / "feed")[0]
    assert report.rows_loaded == 3
    assert report.quarantine_reasons == {"overlaps an earlier enrollment span of the same payer": 1}


def test_adjustments_and_voids_resolve_to_final_action_and_net_paid(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")], medical=[
        # family A: original 100, replaced by 80, then by 90 -> final 90
        medical_row("A0", 1, paid="100.00"),
        medical_row("A1", 1, paid="80.00", claim_adjustment_type="replacement", original_claim_id="A0",
                    adjustment_sequence="1"),
        medical_row("A2", 1, paid="90.00", claim_adjustment_type="replacement", original_claim_id="A0",
                    adjustment_sequence="2"),
        # family B: original then void -> no final claim
        medical_row("B0", 1, paid="50.00"),
        medical_row("B1", 1, paid="-50.00", claim_adjustment_type="void", original_claim_id="B0"),
        # family C: original only
        medical_row("C0", 1, paid="25.00"), medical_row("C0", 2, paid="5.00"),
    ])
    engine = make_engine(warehouse_url)
    _load(engine, tmp_path / "feed")
    rebuild_final_action(engine)
    with engine.connect() as conn:
        finals = dict(conn.execute(text("SELECT claim_family_id, claim_id FROM medical_claim_final")).all())
        paid = conn.execute(text("SELECT sum(paid_amount) FROM medical_claim_line_final")).scalar_one()
        versions = conn.execute(text("SELECT versions_in_family FROM medical_claim_final WHERE claim_family_id = 'A0'")).scalar_one()
    assert finals == {"A0": "A2", "C0": "C0"}
    assert str(paid) == "120.00"
    assert versions == 3


def test_pharmacy_ndc_normalised_and_malformed_ndc_quarantined(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")], pharmacy=[
        pharmacy_row("R1", ndc="0093-1048-01"),   # 4-4-2 -> 00093104801
        pharmacy_row("R2", ndc="12345678"),        # too short
        pharmacy_row("R3", ndc="00093104801", days_supply="-3"),
    ])
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in _load(engine, tmp_path / "feed")}["pharmacy_claim"]
    assert report.rows_loaded == 1
    assert report.quarantine_reasons == {"malformed ndc_code (expected NDC-11)": 1,
                                         "days_supply is not a non-negative integer": 1}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT ndc_code FROM pharmacy_claim")).scalar_one() == "00093104801"


def test_member_months_split_spans_death_and_age(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[
        eligibility_row("P1", "medicaid", "2024-01-15", "2024-02-10", birth_date="1980-02-05", plan="a"),
        eligibility_row("P1", "medicaid", "2024-02-11", "2024-04-30", birth_date="1980-02-05", plan="a"),
        eligibility_row("P2", "medicaid", "2024-01-01", "2024-12-31", death_date="2024-03-10"),
        eligibility_row("P3", "medicaid", "2024-03-15", "2024-04-30", birth_date="2024-03-15"),   # newborn
    ])
    engine = make_engine(warehouse_url)
    _load(engine, tmp_path / "feed")
    rebuild_member_months(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT person_id, month_start, days_enrolled, age_at_month_start FROM member_month "
                                 "ORDER BY person_id, month_start")).all()
    p1 = [(str(r.month_start), r.days_enrolled, r.age_at_month_start) for r in rows if r.person_id == "P1"]
    assert p1 == [("2024-01-01", 17, 43), ("2024-02-01", 29, 43), ("2024-03-01", 31, 44), ("2024-04-01", 30, 44)]
    p2 = [(str(r.month_start), r.days_enrolled) for r in rows if r.person_id == "P2"]
    assert p2 == [("2024-01-01", 31), ("2024-02-01", 29), ("2024-03-01", 10)]
    p3 = [(str(r.month_start), r.days_enrolled, r.age_at_month_start) for r in rows if r.person_id == "P3"]
    assert p3 == [("2024-03-01", 17, 0), ("2024-04-01", 30, 0)]


def test_member_month_shared_by_spans_of_one_plan_takes_the_longest_then_the_latest(warehouse_url, tmp_path):
    """A month two or more spans of one plan share: days add up; the span with most days in it gives the
    attributes, on a tie the later span. A month of one span only is that span's. Another payer is its own row."""
    def span(person, start, end, group, payer="medicaid"):
        return eligibility_row(person, payer, start, end, plan="a", eligibility_group=group)

    write_feed(tmp_path / "feed", eligibility=[
        span("P1", "2024-01-01", "2024-01-20", "adult"), span("P1", "2024-01-21", "2024-02-29", "disabled"),
        span("P2", "2024-03-01", "2024-03-05", "g1"), span("P2", "2024-03-11", "2024-03-15", "g2"),
        span("P2", "2024-03-21", "2024-03-25", "g3"),                       # three 5-day spans: a tie, latest wins
        span("P3", "2024-05-01", "2024-05-16", "g1"), span("P3", "2024-05-17", "2024-06-30", "g2"),
        span("P3", "2024-05-10", "2024-05-31", "g9", payer="commercial"),   # another payer: its own row
    ])
    engine = make_engine(warehouse_url)
    reports = _load(engine, tmp_path / "feed")
    assert reports[0].rows_loaded == 8
    rebuild_member_months(engine)
    with engine.connect() as conn:
        rows = {(r.person_id, str(r.month_start), r.payer): (r.days_enrolled, r.eligibility_group)
                for r in conn.execute(text("SELECT * FROM member_month"))}
    assert rows[("P1", "2024-01-01", "medicaid")] == (31, "adult")        # 20 days against 11
    assert rows[("P1", "2024-02-01", "medicaid")] == (29, "disabled")     # the second span's alone
    assert rows[("P2", "2024-03-01", "medicaid")] == (15, "g3")
    assert rows[("P3", "2024-05-01", "medicaid")] == (31, "g1")           # 16 days against 15
    assert rows[("P3", "2024-06-01", "medicaid")] == (30, "g2")
    assert rows[("P3", "2024-05-01", "commercial")] == (22, "g9")
    assert len(rows) == 6


def test_no_member_identifiers_in_logs_above_debug(warehouse_url, tmp_path, caplog):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("PERSON-SECRET-77")],
               medical=[medical_row("CLAIM-SECRET-1", 1, "PERSON-SECRET-77", dx="F329")])
    engine = make_engine(warehouse_url)
    with caplog.at_level(logging.INFO):
        _load(engine, tmp_path / "feed")
    assert caplog.records, "the loader logs progress at INFO"
    text_logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG)
    assert "PERSON-SECRET" not in text_logged and "CLAIM-SECRET" not in text_logged and "F329" not in text_logged


def test_every_duckdb_instance_gets_a_memory_limit_and_a_spill_folder(tmp_path, monkeypatch):
    """Two default DuckDB instances in one load could each claim 80 % of RAM; ours are capped and spill."""
    import os

    import duckdb

    from warehouse.engine import duckdb_config, make_engine

    monkeypatch.setenv("ICM_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("ICM_DUCKDB_SPILL_DIR", str(tmp_path / "spill"))
    cfg = duckdb_config()
    assert cfg == {"memory_limit": "1GB", "temp_directory": str(tmp_path / "spill")}
    assert (tmp_path / "spill").is_dir()
    con = duckdb.connect(config=cfg)
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.close()
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with engine.connect() as conn:
        warehouse_limit = conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar_one()
    engine.dispose()
    # DuckDB reports the limit in its own units (e.g. '953.6 MiB' for 1GB)
    assert limit == warehouse_limit and ("MiB" in limit or "GiB" in limit) and not limit.startswith(("18", "19"))
    monkeypatch.delenv("ICM_DUCKDB_MEMORY_LIMIT")
    total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    assert int(duckdb_config()["memory_limit"].removesuffix("GB")) <= 0.3 * total_gb + 1


def test_warehouse_connections_draw_no_progress_bar(tmp_path):
    """stdout carries the JSON reports of icm load / bench: DuckDB's progress bar must stay off."""
    from warehouse.engine import make_engine

    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with engine.connect() as conn:
        enabled = conn.exec_driver_sql("SELECT current_setting('enable_progress_bar')").scalar_one()
    engine.dispose()
    assert enabled is False


def test_duckdb_warehouse_rebuilds_reuse_the_space_of_deleted_rows_without_vacuum(tmp_path):
    """The warehouse turns DuckDB's vacuum at checkpoint off (engine.no_vacuum_at_checkpoint); derived tables are
    rebuilt by DELETE + INSERT, and their wholly deleted row groups must still be dropped, not pile up."""
    from warehouse.engine import upgrade
    from warehouse.pipeline import discover_landing
    from warehouse.synthetic import generate

    path = tmp_path / "warehouse.duckdb"
    url = f"duckdb:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_setting('max_vacuum_tasks')").scalar_one() == 0
    generate(tmp_path / "landing", members=1500, seed=11)
    load_sources(engine, discover_landing(tmp_path / "landing"))
    sizes = []
    for _ in range(5):
        rebuild_final_action(engine)
        rebuild_member_months(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")
        sizes.append(path.stat().st_size)
    with engine.connect() as conn:
        derived = conn.exec_driver_sql(
            "SELECT count(DISTINCT block_id) * 262144 FROM pragma_storage_info('member_month')").scalar_one()
    assert _count(engine, "member_month") > 50_000
    # a leak would add the derived tables' blocks at every rebuild
    assert sizes[4] - sizes[1] < derived


def test_new_duckdb_warehouse_files_use_the_1_5_storage_format_and_old_files_keep_theirs(tmp_path):
    """engine.create_duckdb_file: a warehouse file made by upgrade / make_engine is in DuckDB 1.5's format (its
    DICT_FSST string compression writes the claim tables faster); an existing file is opened as it is."""
    import duckdb

    from warehouse import duck
    from warehouse.engine import DUCKDB_STORAGE_VERSION, upgrade

    def storage_of(engine, table):
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {table} AS SELECT 'E11.' || (i % 97) AS code FROM range(5000) r(i)")
        with engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")
            version = conn.exec_driver_sql(
                "SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL"
            ).scalar_one()
            methods = {r[0] for r in conn.exec_driver_sql(
                f"SELECT compression FROM pragma_storage_info('{table}') WHERE segment_type = 'VARCHAR'")}
        return version, methods

    new = tmp_path / "new" / "warehouse.duckdb"
    upgrade(f"duckdb:///{new}")
    assert storage_of(make_engine(f"duckdb:///{new}"), "codes") == (f"{DUCKDB_STORAGE_VERSION}+", {"DICT_FSST"})
    assert storage_of(make_engine(f"duckdb:///{tmp_path / 'direct.duckdb'}"), "codes")[0] == f"{DUCKDB_STORAGE_VERSION}+"
    with duck.connect(tmp_path / "staging.duckdb") as con:
        assert con.execute("SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal "
                           "AND path IS NOT NULL").fetchone()[0] == f"{DUCKDB_STORAGE_VERSION}+"
    old = tmp_path / "old.duckdb"
    duckdb.connect(str(old)).close()   # DuckDB's default format (tagged v1.0.0+, serialised for v0.10.2)
    assert storage_of(make_engine(f"duckdb:///{old}"), "codes") == ("v1.0.0+", {"Dictionary"})


def test_odd_column_names_and_a_single_quote_quote_character_load(warehouse_url, tmp_path):
    """The dialect sniffed once is spelled out for read_csv (staging._sniffed_dialect): column names with quotes
    or the delimiter in them, and a file quoting with ' instead of ", must survive that round trip."""
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
                        medical=[medical_row("C1", 1), medical_row("C2", 1, paid="7.50")])
    path = folder / "medical_claim.csv"
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header + ',it\'s,"a,b"', *[r + ",x,'y'" for r in rows]]) + "\n")
    elig = folder / "eligibility.csv"
    header, *rows = elig.read_text().splitlines()
    elig.write_text("\n".join([header, *[r.replace("1980-05-17", "'1980-05-17'") for r in rows]]) + "\n")
    engine = make_engine(warehouse_url)
    reports = {r.target_table: r for r in _load(engine, folder)}
    assert (reports["eligibility"].rows_loaded, reports["medical_claim"].rows_loaded) == (1, 2)
    with engine.connect() as conn:
        born = conn.execute(select(models.Person.__table__.c.birth_date)).scalar_one()
    assert str(born) == "1980-05-17"
