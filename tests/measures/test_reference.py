"""The engine against the independent pandas reference (tests/measures/reference.py), unit by unit (person), on a
small generated state and on the public Tuva sample (tests/fixtures/tuva). DuckDB only: the engine's SQL is
compiled for PostgreSQL too and tested there by the scenario tests."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from measures.engine import compute
from measures.tables import measure_detail
from tests.conftest import FIXTURES
from tests.measures import reference as R
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine, upgrade
from warehouse.loading import load_sources

MEASURES = ("IU-HH", "AMB-HH", "PQI01-AD", "PQI05-AD", "PQI08-AD", "PQI15-AD", "PQI92-HH", "OUD-HH", "PDC-STA",
            "PDC-RASA", "CDF-HH", "CCW-AD", "CCW-CH", "CCP-AD")
GENERATED_YEAR, TUVA_YEAR = 2024, 2017


def _warehouse(tmp_path_factory, name, sources_of):
    url = f"duckdb:///{tmp_path_factory.mktemp(name) / 'wh.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    load_sources(engine, sources_of())
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    return engine


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from warehouse.pipeline import discover_landing
    from warehouse.synthetic import generate

    landing = tmp_path_factory.mktemp("landing")
    generate(landing, members=400, seed=11)
    engine = _warehouse(tmp_path_factory, "gen", lambda: discover_landing(landing))
    compute(engine, GENERATED_YEAR, list(MEASURES))
    yield engine, R.Data(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def tuva(tmp_path_factory):
    from warehouse.formats import discover

    engine = _warehouse(tmp_path_factory, "tuva", lambda: discover(FIXTURES / "tuva", "tuva"))
    compute(engine, TUVA_YEAR, list(MEASURES))
    yield engine, R.Data(engine)
    engine.dispose()


def engine_units(engine, measure, year, rate_id) -> dict:
    d = measure_detail
    q = (select(d.c.person_id, func.sum(d.c.numerator_value), func.sum(d.c.denominator_value))
         .where(d.c.measure_id == measure, d.c.measurement_year == year, d.c.rate_id == rate_id, ~d.c.excluded)
         .group_by(d.c.person_id))
    with engine.connect() as conn:
        out = {p: (int(n), int(m)) for p, n, m in conn.execute(q)}
    return {p: v for p, v in out.items() if v != (0, 0)}


REFERENCES = {
    "IU-HH": ("total_discharges", R.iu_total_discharges),
    "AMB-HH": ("ed_visits", R.amb_ed_visits),
    **{m: ("admissions", (lambda mm: lambda d, y: R.pqi(d, y, mm))(m)) for m in R.PQI},
    "OUD-HH": ("total", R.oud_total),
    "PDC-STA": ("adherent", lambda d, y: R.pdc(d, y, "ndc_statin")),
    "PDC-RASA": ("adherent", lambda d, y: R.pdc(d, y, "ndc_ras_antagonist", esrd=True)),
    "CDF-HH": ("screened", R.cdf),
    "CCW-AD": ("mmec", lambda d, y: R.ccw(d, y, 21, 44, larc_only=False)),
    "CCW-CH": ("larc", lambda d, y: R.ccw(d, y, 15, 20, larc_only=True)),
    "CCP-AD": ("mmec_90_day", lambda d, y: R.ccp(d, y, 21, 44, larc_only=False, days=90)),
}


def _compare(state, year, measure):
    engine, data = state
    rate_id, ref = REFERENCES[measure]
    want = {p: v for p, v in ref(data, year).items() if v != (0, 0)}
    got = engine_units(engine, measure, year, rate_id)
    diff = {p: (want.get(p), got.get(p)) for p in set(want) | set(got) if want.get(p) != got.get(p)}
    assert not diff, f"{measure}: {len(diff)} units differ (reference, engine): {dict(list(diff.items())[:5])}"
    return want


@pytest.mark.parametrize("measure", sorted(REFERENCES))
def test_engine_matches_reference_on_generated_state(generated, measure):
    want = _compare(generated, GENERATED_YEAR, measure)
    assert want, f"{measure}: the generated state has no units"


@pytest.mark.parametrize("measure", sorted(REFERENCES))
def test_engine_matches_reference_on_tuva_sample(tuva, measure):
    _compare(tuva, TUVA_YEAR, measure)
