"""Credit lines: a negative paid line of a claim that is not a void is part of the claim's net (CMS claim files
carry them); only a claim whose lines net below zero is quarantined."""
from __future__ import annotations

from sqlalchemy import text

from tests.warehouse.helpers import eligibility_row, medical_row, write_feed
from warehouse.derive import rebuild_final_action
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources


def _load(url, folder):
    engine = make_engine(url)
    reports = {r.target_table: r for r in load_sources(engine, discover(folder, "tuva"))}
    rebuild_final_action(engine)
    return engine, reports["medical_claim"]


def test_credit_line_of_a_claim_that_is_not_a_void_is_loaded_into_its_net(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1, paid="100.00"), medical_row("C1", 2, paid="-30.00"),
                        medical_row("C2", 1, paid="40.00"), medical_row("C2", 2, paid="-40.00")])
    engine, report = _load(warehouse_url, tmp_path / "feed")
    assert (report.rows_loaded, report.rows_quarantined) == (4, 0)
    with engine.connect() as conn:
        net = dict(conn.execute(text("SELECT claim_id, sum(paid_amount) FROM medical_claim_line GROUP BY 1")).all())
        final = conn.execute(text("SELECT count(*) FROM medical_claim_final")).scalar_one()
    assert {k: float(v) for k, v in net.items()} == {"C1": 70.0, "C2": 0.0}
    assert final == 2


def test_claim_whose_lines_net_below_zero_is_quarantined(warehouse_url, tmp_path):
    write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
               medical=[medical_row("C1", 1, paid="10.00"), medical_row("C1", 2, paid="-30.00"),
                        medical_row("C2", 1, paid="40.00")])
    _, report = _load(warehouse_url, tmp_path / "feed")
    assert report.rows_loaded == 1
    assert report.quarantine_reasons == {"negative paid_amount on a claim that is not a void": 2}
