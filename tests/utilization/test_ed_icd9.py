"""NYU/Johnston ED classification of ICD-9-CM principal diagnoses (DE-SynPUF and other claims before October 2015):
the table is chosen by the claim's diagnosis_code_type."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.conftest import backends, new_pg_database
from tests.utilization.scenario import Builder
from utilization.metrics import build_person_months, load_ed_reference
from utilization.tables import utilization_person_month as UPM
from warehouse.engine import make_engine, upgrade

COLUMNS = ("ed_visits", "ed_nonemergent", "ed_primary_care_treatable", "ed_preventable", "ed_not_preventable",
           "ed_injury", "ed_behavioral", "ed_unclassified")


@pytest.fixture(scope="module", params=backends())
def classified(request, tmp_path_factory):
    warehouse_url = (f"duckdb:///{tmp_path_factory.mktemp('ed9') / 'warehouse.duckdb'}" if request.param == "duckdb"
                     else new_pg_database())
    upgrade(warehouse_url)
    b = Builder()
    b.provider("1000000001")
    visits = {   # person: (principal dx, code type); the Johnston rows are quoted in each test
        "icd9-gastro": ("0030", "icd-9-cm"),
        "icd9-uri": ("4659", "icd-9-cm"),
        "icd9-injury": ("8830", "icd-9-cm"),
        "icd9-alcohol": ("30500", "icd-9-cm"),
        "icd10-abdominal": ("R109", "icd-10-cm"),
        "icd9-code-labelled-icd10": ("4659", "icd-10-cm"),
        "icd10-code-labelled-icd9": ("R109", "icd-9-cm"),
    }
    for pid, (dx, dx_type) in visits.items():
        b.member(pid)
        b.score(pid, 1.0)
        b.ed(pid, dt.date(2025, 4, 7), dx=dx, dx_type=dx_type)
    b.write(warehouse_url).dispose()
    engine = make_engine(warehouse_url)
    build_person_months(engine, 2025)
    with engine.connect() as conn:
        rows = conn.execute(select(UPM.c.person_id, *[func.sum(UPM.c[c]).label(c) for c in COLUMNS])
                            .group_by(UPM.c.person_id)).all()
    loaded = load_ed_reference(engine)
    engine.dispose()
    return {r.person_id: {c: float(getattr(r, c)) for c in COLUMNS} for r in rows}, loaded


def test_both_johnston_tables_are_loaded(classified):
    assert classified[1] == 47_132 + 7_443


def test_icd9_visit_takes_the_icd9_probabilities(classified):
    by_person = classified[0]
    # 0030 salmonella gastroenteritis: epct 1
    assert by_person["icd9-gastro"]["ed_primary_care_treatable"] == pytest.approx(1.0)
    # 4659 acute URI: edcnpa 0.1774193548, epct 0.8225806452
    assert by_person["icd9-uri"]["ed_preventable"] == pytest.approx(0.1774193548, abs=1e-6)
    assert by_person["icd9-uri"]["ed_primary_care_treatable"] == pytest.approx(0.8225806452, abs=1e-6)
    assert by_person["icd9-injury"]["ed_injury"] == 1      # 8830 open wound of finger: injury
    assert by_person["icd9-alcohol"]["ed_behavioral"] == 1  # 30500 alcohol abuse: alcohol
    for pid in ("icd9-gastro", "icd9-uri", "icd9-injury", "icd9-alcohol"):
        assert by_person[pid]["ed_unclassified"] == 0, pid


def test_icd10_visit_still_takes_the_icd10_probabilities(classified):
    # R109 abdominal pain: edcnnpa 0.3302752294, epct 0.6697247706
    m = classified[0]["icd10-abdominal"]
    assert m["ed_not_preventable"] == pytest.approx(0.3302752294, abs=1e-6)
    assert m["ed_unclassified"] == 0


def test_code_looked_up_only_in_its_own_code_system(classified):
    # a code found only in the other system's table is unclassified, not borrowed from the wrong table
    for pid in ("icd9-code-labelled-icd10", "icd10-code-labelled-icd9"):
        m = classified[0][pid]
        assert (m["ed_visits"], m["ed_unclassified"], m["ed_primary_care_treatable"]) == (1, 1, 0), pid
