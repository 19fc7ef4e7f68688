"""The warehouse against The Tuva Project's own models run on the same public files (Tuva's CI seed, 10 persons;
tests/fixtures/tuva_outputs/SOURCE.md says how Tuva was run offline with dbt-duckdb). Member-months and every
loaded claim line, claim and paid amount agree per year; the one documented difference is that claims outside
enrollment (here: service dates in no enrollment span) are loaded and flagged but left out of the final-action
tables that cost uses, where Tuva's core tables keep them (warehouse/enrollment_match.py)."""
from __future__ import annotations

import csv
from decimal import Decimal

from sqlalchemy import text

from tests.conftest import FIXTURES
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources

TUVA = {int(r["year"]): r for r in csv.DictReader(open(FIXTURES / "tuva_outputs" / "ci_seed_10pt_core_by_year.csv"))}


def _by_year(engine, sql):
    with engine.connect() as conn:
        return {int(r[0]): tuple(r[1:]) for r in conn.execute(text(sql)).all()}


def test_member_months_claims_and_paid_per_year_agree_with_tuva(warehouse_url):
    engine = make_engine(warehouse_url)
    load_sources(engine, discover(FIXTURES / "tuva", "tuva"))
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    months = _by_year(engine, "SELECT extract(year FROM month_start), count(*) FROM member_month GROUP BY 1")
    medical = _by_year(engine, "SELECT extract(year FROM h.claim_start_date), count(*), count(DISTINCT h.claim_id), "
                               "sum(l.paid_amount) FROM medical_claim_line l JOIN medical_claim h "
                               "ON h.claim_id = l.claim_id AND h.data_source = l.data_source GROUP BY 1")
    pharmacy = _by_year(engine, "SELECT extract(year FROM dispensing_date), count(*), sum(paid_amount) "
                                "FROM pharmacy_claim GROUP BY 1")
    for year, tuva in TUVA.items():
        assert months.get(year, (0,))[0] == int(tuva["member_months"]), year
        assert medical.get(year, (0, 0, Decimal(0))) == (int(tuva["medical_claim_lines"]), int(tuva["medical_claims"]),
                                                         Decimal(tuva["medical_paid"])), year
        assert pharmacy.get(year, (0, Decimal(0))) == (int(tuva["pharmacy_fills"]), Decimal(tuva["pharmacy_paid"])), year
    # the documented difference: final-action (cost) paid = Tuva's paid - the paid of claims flagged outside enrollment
    final = _by_year(engine, "SELECT extract(year FROM claim_start_date), sum(paid_amount) FROM medical_claim_final "
                             "GROUP BY 1")
    flagged = _by_year(engine, "SELECT extract(year FROM claim_start_date), sum(paid_amount) FROM medical_claim "
                               "WHERE enrollment_match <> 'matched' GROUP BY 1")
    for year in (2016, 2017, 2018):
        assert final[year][0] + flagged[year][0] == Decimal(TUVA[year]["medical_paid"]), year
