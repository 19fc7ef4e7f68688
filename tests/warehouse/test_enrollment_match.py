"""Claims against enrollment (warehouse/enrollment_match.py): the primary payer of claims without payer columns,
load-then-flag, re-matching when eligibility arrives later, and the death rule. On DuckDB and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import text

from tests.warehouse.helpers import (ELIGIBILITY_COLUMNS, MEDICAL_COLUMNS, PHARMACY_COLUMNS, eligibility_row,
                                     medical_row, pharmacy_row, write_csv, write_feed)
from tests.conftest import new_pg_database
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine, upgrade
from warehouse.formats import discover
from warehouse.loading import load_sources

NO_PAYER_MEDICAL = [c for c in MEDICAL_COLUMNS if c not in ("payer", "plan")]
NO_PAYER_PHARMACY = [c for c in PHARMACY_COLUMNS if c not in ("payer", "plan")]


def _load(engine, folder, **kw):
    return {r.target_table: r for r in load_sources(engine, discover(folder, "tuva"), **kw)}


def _rows(engine, sql):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def _payerless_feed(folder, spans, claims, fills=()):
    """Claims without payer/plan columns (the Tuva input layer before v0.6) and their eligibility."""
    if spans:
        write_csv(folder / "eligibility.csv", ELIGIBILITY_COLUMNS, spans)
    if claims:
        write_csv(folder / "medical_claim.csv", NO_PAYER_MEDICAL, claims)
    if fills:
        write_csv(folder / "pharmacy_claim.csv", NO_PAYER_PHARMACY, fills)
    return folder


DUAL_SPANS = [eligibility_row("P1", "state_medicaid", "2024-01-01", "2024-12-31", payer_type="medicaid"),
              eligibility_row("P1", "medicare_ffs", "2024-03-01", "2024-12-31", payer_type="medicare"),
              eligibility_row("P2", "acme_health", "2024-01-01", "2024-12-31", payer_type="commercial"),
              eligibility_row("P2", "state_medicaid", "2024-01-01", "2024-12-31", payer_type="medicaid")]


def test_claim_without_payer_takes_the_only_covering_payer(warehouse_url, tmp_path):
    folder = _payerless_feed(tmp_path / "feed", DUAL_SPANS, [medical_row("C1", 1, "P1", start="2024-02-10"),
                                                             medical_row("C1", 2, "P1", start="2024-02-10")])
    engine = make_engine(warehouse_url)
    medical = _load(engine, folder)["medical_claim"]
    assert medical.notes["payer_from_enrollment"] == {"one covering payer": 2,
                                                      "several covering payers, primary by payer type": 0,
                                                      "no covering span": 0}
    assert medical.enrollment_match == {"matched": 2}
    assert _rows(engine, "SELECT payer, plan, enrollment_match FROM medical_claim") == [
        ("state_medicaid", "state_medicaid", "matched")]


def test_dual_eligible_claim_takes_medicare_before_medicaid(warehouse_url, tmp_path):
    folder = _payerless_feed(tmp_path / "feed", DUAL_SPANS, [medical_row("C1", 1, "P1", start="2024-03-01")],
                             [pharmacy_row("R1", 1, "P1", date="2024-06-01")])
    engine = make_engine(warehouse_url)
    reports = _load(engine, folder)
    assert reports["medical_claim"].notes["payer_from_enrollment"][
        "several covering payers, primary by payer type"] == 1
    assert _rows(engine, "SELECT payer FROM medical_claim") == [("medicare_ffs",)]
    assert _rows(engine, "SELECT payer, enrollment_match FROM pharmacy_claim") == [("medicare_ffs", "matched")]


def test_commercial_coverage_pays_before_medicaid(warehouse_url, tmp_path):
    folder = _payerless_feed(tmp_path / "feed", DUAL_SPANS, [medical_row("C2", 1, "P2", start="2024-05-01")])
    engine = make_engine(warehouse_url)
    _load(engine, folder)
    assert _rows(engine, "SELECT payer, enrollment_match FROM medical_claim") == [("acme_health", "matched")]


def test_claim_without_payer_and_without_covering_span_is_flagged_payer_unknown(warehouse_url, tmp_path):
    folder = _payerless_feed(tmp_path / "feed", DUAL_SPANS, [medical_row("C9", 1, "P1", start="2025-02-01")])
    engine = make_engine(warehouse_url)
    medical = _load(engine, folder)["medical_claim"]
    assert (medical.rows_loaded, medical.rows_quarantined) == (1, 0)
    assert medical.notes["payer_from_enrollment"]["no covering span"] == 1
    assert medical.enrollment_match == {"no enrollment, payer unknown": 1}
    rebuild_final_action(engine)
    assert _rows(engine, "SELECT count(*) FROM medical_claim_final") == [(0,)]


def test_payerless_claims_loaded_before_eligibility_take_their_payer_when_it_arrives(warehouse_url, tmp_path):
    _payerless_feed(tmp_path / "claims", [], [medical_row("C1", 1, "P1", start="2024-04-01")],
                    [pharmacy_row("R1", 1, "P2", date="2024-04-02")])
    _payerless_feed(tmp_path / "eligibility", DUAL_SPANS, [])
    engine = make_engine(warehouse_url)
    first = _load(engine, tmp_path / "claims")
    assert first["medical_claim"].enrollment_match == {"no enrollment, payer unknown": 1}
    later = _load(engine, tmp_path / "eligibility")["eligibility"]
    assert later.notes["claims_rematched"] == {"medical_claim": 1, "pharmacy_claim": 1}
    assert _rows(engine, "SELECT payer, enrollment_match FROM medical_claim") == [("medicare_ffs", "matched")]
    assert _rows(engine, "SELECT payer, enrollment_match FROM pharmacy_claim") == [("acme_health", "matched")]


def _two_payer_feed(folder, *, eligibility=True, claims=True):
    return write_feed(
        folder,
        eligibility=[eligibility_row("P1", "medicaid", "2024-01-01", "2024-06-30"),
                     eligibility_row("P2", "medicaid", "2024-01-01", "2024-12-31"),
                     eligibility_row("P3", "medicaid", "2024-01-01", "2024-12-31", death_date="2024-05-15")]
        if eligibility else (),
        medical=[medical_row("C1", 1, "P1", start="2024-03-01", paid="100.00"),
                 medical_row("C1", 2, "P1", start="2024-03-01", paid="-20.00"),
                 medical_row("C2", 1, "P1", start="2024-08-01", paid="50.00"),          # after the span
                 medical_row("C3", 1, "P2", "commercial", start="2024-03-01", paid="70.00"),  # other payer
                 medical_row("C4", 1, "P2", start="2024-09-30", paid="30.00"),
                 medical_row("C5", 1, "P3", start="2024-05-15", paid="40.00"),          # day of death
                 medical_row("C6", 1, "P3", start="2024-05-16", paid="60.00")] if claims else (),  # after death
        pharmacy=[pharmacy_row("R1", 1, "P1", date="2024-02-01"), pharmacy_row("R2", 1, "P2", date="2024-11-01"),
                  pharmacy_row("R3", 1, "P3", date="2024-06-01")] if claims else ())


def _outputs(engine):
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    return (_rows(engine, "SELECT claim_id, payer, paid_amount FROM medical_claim_final ORDER BY claim_id"),
            _rows(engine, "SELECT claim_id, paid_amount FROM pharmacy_claim_final ORDER BY claim_id"),
            _rows(engine, "SELECT person_id, month_start, days_enrolled FROM member_month ORDER BY 1, 2"))


def _second_warehouse(warehouse_url, tmp_path) -> str:
    url = f"duckdb:///{tmp_path / 'later.duckdb'}" if warehouse_url.startswith("duckdb") else new_pg_database()
    upgrade(url)
    return url


def test_claims_loaded_before_their_eligibility_equal_loading_both_at_once(warehouse_url, tmp_path):
    engine = make_engine(warehouse_url)
    _load(engine, _two_payer_feed(tmp_path / "together"))
    together = _outputs(engine)

    later = make_engine(_second_warehouse(warehouse_url, tmp_path))
    first = _load(later, _two_payer_feed(tmp_path / "claims", eligibility=False))
    assert {t: r.enrollment_match for t, r in first.items()} == {
        "medical_claim": {"no enrollment": 7}, "pharmacy_claim": {"no enrollment": 3}}
    assert _outputs(later)[0] == []
    report = _load(later, _two_payer_feed(tmp_path / "spans", claims=False))["eligibility"]
    assert report.notes["claims_rematched"] == {"medical_claim": 3, "pharmacy_claim": 2}
    assert _outputs(later) == together
    assert [r[0] for r in together[0]] == ["C1", "C4", "C5"]
    assert [str(r[2]) for r in together[0]] == ["80.00", "30.00", "40.00"]   # the credit line is in C1's net


def test_service_after_the_date_of_death_is_flagged_after_death(warehouse_url, tmp_path):
    engine = make_engine(warehouse_url)
    reports = _load(engine, _two_payer_feed(tmp_path / "feed"))
    assert reports["medical_claim"].enrollment_match == {
        "matched": 4, "no enrollment": 1, "after death": 1, "other payer": 1}
    assert reports["pharmacy_claim"].enrollment_match == {"matched": 2, "after death": 1}
    assert _rows(engine, "SELECT claim_id, enrollment_match FROM medical_claim WHERE person_id = 'P3' "
                         "ORDER BY claim_id") == [("C5", "matched"), ("C6", "after death")]
    medical, pharmacy, months = _outputs(engine)
    assert "C6" not in [r[0] for r in medical] and "R3" not in [r[0] for r in pharmacy]
    assert max(r[1] for r in months if r[0] == "P3").isoformat() == "2024-05-01"   # member-months end at death


def test_no_enrollment_check_loads_claims_as_not_checked_and_keeps_them(warehouse_url, tmp_path):
    engine = make_engine(warehouse_url)
    reports = _load(engine, _two_payer_feed(tmp_path / "feed"), require_enrollment=False)
    assert reports["medical_claim"].enrollment_match == {"not checked": 7}
    medical, _, _ = _outputs(engine)
    assert [r[0] for r in medical] == ["C1", "C2", "C3", "C4", "C5", "C6"]


def _derived_snapshot(engine):
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    return {
        "medical_claim_final": _rows(engine, "SELECT claim_id, data_source, payer, enrollment_span_id, paid_amount "
                                             "FROM medical_claim_final ORDER BY 1, 2"),
        "medical_claim_line_final": _rows(engine, "SELECT claim_id, data_source, claim_line_number, paid_amount "
                                                  "FROM medical_claim_line_final ORDER BY 1, 2, 3"),
        "pharmacy_claim_final": _rows(engine, "SELECT claim_id, claim_line_number, data_source, paid_amount "
                                              "FROM pharmacy_claim_final ORDER BY 1, 2, 3"),
        "member_month": _rows(engine, "SELECT person_id, month_start, data_source, payer, plan, days_enrolled "
                                      "FROM member_month ORDER BY 1, 2, 3, 4, 5"),
    }


def test_flagged_claims_of_the_synthetic_state_change_no_derived_table(tmp_path):
    """The demo's state: the claims it plants without enrollment are loaded and flagged (they used to be
    quarantined), and the tables every measure, attribution and savings figure is computed from (final-action
    claims and member-months) are exactly those of a warehouse without them."""
    from warehouse.pipeline import discover_landing
    from warehouse.synthetic import generate

    summary = generate(tmp_path / "landing", members=800, seed=11)
    url = f"duckdb:///{tmp_path / 'state.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    reports = load_sources(engine, discover_landing(tmp_path / "landing"))
    flagged = {}
    for r in reports:
        for flag, n in r.enrollment_match.items():
            if flag != "matched":
                flagged[flag] = flagged.get(flag, 0) + n
    planted = summary["dirty"]["no_enrollment"]   # medical lines and pharmacy fills of never-enrolled persons
    assert sum(flagged.values()) == planted and planted > 0, (flagged, summary["dirty"])
    with_flagged = _derived_snapshot(engine)
    with engine.begin() as conn:   # the warehouse as the quarantine left it
        conn.execute(text("DELETE FROM medical_claim_line WHERE EXISTS (SELECT 1 FROM medical_claim h WHERE "
                          "h.claim_id = medical_claim_line.claim_id AND h.data_source = medical_claim_line.data_source "
                          "AND h.enrollment_match <> 'matched')"))
        conn.execute(text("DELETE FROM medical_claim WHERE enrollment_match <> 'matched'"))
        conn.execute(text("DELETE FROM pharmacy_claim WHERE enrollment_match <> 'matched'"))
    assert _derived_snapshot(engine) == with_flagged
