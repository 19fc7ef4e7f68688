"""Monthly service-verification sample: size rule, reproducibility across runs and backends, results import."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import func, select

from tests.utilization.scenario import planted
from utilization.sample import draw_sample, export_mailing, import_results, monthly_report, sample_fingerprint
from utilization.tables import verification_result, verification_sample
from warehouse.engine import upgrade

MARCH, MAY = dt.date(2025, 3, 1), dt.date(2025, 5, 1)


def test_sample_is_500_when_more_enrollees_had_services(planted_engine):
    out = draw_sample(planted_engine, MARCH)
    assert out["population"] >= 560 and out["sampled"] == 500
    assert sum(s["sampled"] for s in out["by_stratum"].values()) == 500
    for s in out["by_stratum"].values():   # proportional allocation, within one of the exact quota
        assert abs(s["sampled"] - 500 * s["population"] / out["population"]) < 1


def test_sample_is_everyone_when_fewer_than_500(planted_engine):
    out = draw_sample(planted_engine, MAY)
    assert out["population"] < 500
    assert out["sampled"] == out["population"]


def test_sample_size_499_500_501(planted_engine):
    for size, expected in ((499, 499), (500, 500), (501, 501)):
        assert draw_sample(planted_engine, MARCH, {"sample": {"size": size}})["sampled"] == expected


def test_same_seed_same_sample_other_seed_other_sample(planted_engine):
    draw_sample(planted_engine, MARCH)
    first = sample_fingerprint(planted_engine, MARCH)
    draw_sample(planted_engine, MARCH)
    assert sample_fingerprint(planted_engine, MARCH) == first
    draw_sample(planted_engine, MARCH, {"sample": {"seed": 456}})
    assert sample_fingerprint(planted_engine, MARCH) != first
    with planted_engine.connect() as conn:
        seed, method = conn.execute(select(verification_sample.c.seed, verification_sample.c.method).where(
            verification_sample.c.sample_month == MARCH).limit(1)).one()
    assert seed == 456 and "md5" in method


@pytest.mark.skipif(os.environ.get("ICM_SKIP_PG") == "1" or not os.environ.get("PG_URL"), reason="needs PostgreSQL")
def test_sample_identical_on_duckdb_and_postgresql(tmp_path):
    from tests.conftest import new_pg_database

    prints = []
    for url in (f"duckdb:///{tmp_path / 'w.duckdb'}", new_pg_database()):
        upgrade(url)
        engine = planted(url).write(url)
        draw_sample(engine, MARCH)
        prints.append(sample_fingerprint(engine, MARCH))
        engine.dispose()
    assert prints[0] == prints[1]


def _sampled(engine, month, n):
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(verification_sample.c.person_id).where(
            verification_sample.c.sample_month == month).order_by(verification_sample.c.person_id).limit(n))]


def test_import_accepts_or_rejects_every_row_and_reimport_changes_nothing(planted_engine, tmp_path):
    draw_sample(planted_engine, MARCH)
    a, b, c, d, e, f = _sampled(planted_engine, MARCH, 6)
    csv = tmp_path / "results.csv"
    csv.write_text(
        "sample_month,person_id,contact_date,contact_method,response,service_received\n"
        f"2025-03,{a},2025-04-10,letter,confirmed,yes\n"
        f"2025-03,{b},2025-04-11,phone,not_confirmed,no\n"
        f"2025-03,{c},2025-04-12,letter,no_response,\n"
        f"2025-03,{d},2025-04-12,phone,referred,no\n"
        "2025-03,NOT-A-MEMBER,2025-04-12,letter,confirmed,yes\n"
        f"2024-07,{a},2025-04-12,letter,confirmed,yes\n"
        f"2025-03,{e},2025-04-31,letter,confirmed,yes\n"
        f"2025-03,{b},2025-04-11,phone,not_confirmed,no\n"
        f"2025-03,{f},2025-04-12,letter,maybe,yes\n")
    out = import_results(planted_engine, csv)
    assert out["rows_read"] == 9 and out["accepted"] == 4 and out["rejected"] == 5
    assert out["accepted"] + out["rejected"] == out["rows_read"]
    reasons = out["rejected_by_reason"]
    assert reasons["enrollee not in the sample of 2025-03"] == 1
    assert reasons["no sample was drawn for 2024-07"] == 1
    assert reasons["contact_date '2025-04-31' is not a date (YYYY-MM-DD)"] == 1
    assert reasons["duplicate of row 2"] == 1
    assert any(r.startswith("response 'maybe'") for r in reasons)
    again = import_results(planted_engine, csv)
    assert again["already_imported"] and again["accepted"] == 4 and again["rejected"] == 5
    with planted_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(verification_result)).scalar_one() == 4
    report = monthly_report(planted_engine, MARCH)
    assert (report["confirmed"], report["not_confirmed"], report["no_response"], report["referred"]) == (1, 1, 1, 1)
    assert report["awaiting_result"] == report["sampled"] - 4 and report["service_not_received"] == 2


def test_import_without_a_column_names_the_file_and_column(planted_engine, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sample_month,person_id\n2025-03,x\n")
    with pytest.raises(ValueError, match="bad.csv: missing column 'contact_date'"):
        import_results(planted_engine, bad)


def test_mailing_export_lists_every_sampled_enrollee_with_services(planted_engine, tmp_path):
    draw_sample(planted_engine, MAY)
    out = export_mailing(planted_engine, MAY, tmp_path / "mail.csv")
    lines = (tmp_path / "mail.csv").read_text().splitlines()
    assert out["rows"] == len(lines) - 1 > 0
    assert '"date": "2025-05-' in lines[1].replace('""', '"')
