"""Attribution methods on both backends: plurality with ties and hierarchy, roster, geographic, enrollment,
minimum enrollment and dual exclusions, one entity per person-month."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from savings.population import attribute, check_attribution
from savings.work_tables import attribution
from tests.savings_population.scenario import Feed, write_roster


def _rows(engine, year=2024):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(attribution).where(attribution.c.year == year))]


def _by_person(rows):
    out = {}
    for r in rows:
        out.setdefault(r["person_id"], set()).add((r["entity_id"], r["reason"]))
    return out


@pytest.fixture
def plurality_feed(tmp_path):
    f = Feed(tmp_path / "feed")
    f.program("ACO1")
    f.entity("E1")
    f.entity("E2")
    f.provider("N1", "pcp", "E1")
    f.provider("N2", "pcp", "E2")
    f.provider("N3", "specialist", "E2")
    f.provider("N4", "pcp", None, tin="T900")          # non-participant practice
    f.provider("N5", "specialist", "E1")
    for p in ("P1", "P2", "P3", "P4", "P8"):
        f.member(p)
    f.member("P5", start="2023-01-01")
    f.member("P6", dual_status_code="02")
    f.member("P7", start="2024-10-01", end="2024-12-31")
    # P1: plurality to E1 (2 vs 1)
    f.visit("P1", "N1", "2024-02-01"); f.visit("P1", "N1", "2024-04-01"); f.visit("P1", "N2", "2024-09-01")
    # P2: tie 1-1, most recent visit (N2, June) wins
    f.visit("P2", "N1", "2024-03-01"); f.visit("P2", "N2", "2024-06-01")
    # P3: specialists only -> step 2, E2 (2 vs 1)
    f.visit("P3", "N3", "2024-01-10"); f.visit("P3", "N3", "2024-05-10"); f.visit("P3", "N5", "2024-11-10")
    # P4: one PCP visit at a non-participant decides step 1 -> not attributed despite 3 E1 specialist visits
    f.visit("P4", "N4", "2024-02-02")
    for d in ("2024-03-03", "2024-04-04", "2024-05-05"):
        f.visit("P4", "N5", d)
    # P6 dual with E1 visits; P7 three months with E1 visits
    f.visit("P6", "N1", "2024-05-01"); f.visit("P7", "N1", "2024-11-01")
    # P8: non-primary-care code at E1 does not count
    f.visit("P8", "N1", "2024-05-01", code="80053")
    # a visit before the lookback window (retrospective, 12 months) does not count
    f.visit("P5", "N1", "2023-06-01")
    return f


PLURALITY = {"program_id": "ACO1", "attribution": {"method": "plurality_primary_care", "lookback_months": 12,
                                                   "min_enrollment_months": 6, "exclusions": ["dual_eligible"]}}


def test_plurality_ties_hierarchy_exclusions(plurality_feed, warehouse_url):
    engine = plurality_feed.load(warehouse_url)
    out = attribute(engine, PLURALITY, 2024)
    got = _by_person(_rows(engine))
    assert got["P1"] == {("E1", "pcp_em_plurality")}
    assert got["P2"] == {("E2", "pcp_em_plurality")}
    assert got["P3"] == {("E2", "specialist_em_plurality")}
    assert "P4" not in got and "P5" not in got and "P8" not in got
    assert "P6" not in got, "dual months are excluded"
    assert "P7" not in got, "three months is under the six-month minimum"
    assert out["programs"]["ACO1"]["rows"] == 36
    assert check_attribution(engine, 2024).passed


def test_plurality_without_exclusions_and_prospective(plurality_feed, warehouse_url):
    engine = plurality_feed.load(warehouse_url)
    cfg = {"program_id": "ACO1", "attribution": {"method": "plurality_primary_care", "lookback_months": 12}}
    attribute(engine, cfg, 2024)
    got = _by_person(_rows(engine))
    assert got["P6"] == {("E1", "pcp_em_plurality")}
    assert got["P7"] == {("E1", "pcp_em_plurality")}
    assert len([r for r in _rows(engine) if r["person_id"] == "P6"]) == 12
    # prospective 2024: window is 2023, where only P5 had a visit
    cfg["attribution"]["timing"] = "prospective"
    attribute(engine, cfg, 2024)
    assert set(_by_person(_rows(engine))) == {"P5"}


def test_roster_and_geographic(tmp_path, warehouse_url):
    f = Feed(tmp_path / "feed")
    f.program("HH1", "health_home_smi")
    f.entity("H1", "HH1")
    f.entity("H2", "HH1")
    f.member("A", county_fips="01001")
    f.member("B", county_fips="01003")
    f.member("C", county_fips="01005")
    engine = f.load(warehouse_url)
    roster = write_roster(tmp_path / "roster.csv", [("A", "H1", "2024-01-01", "2024-06-30"),
                                                    ("A", "H2", "2024-07-01", ""),
                                                    ("B", "H2", "2024-03-15", "2024-04-30")])
    attribute(engine, {"program_id": "HH1", "attribution": {"method": "roster", "roster_file": str(roster)}}, 2024)
    rows = _rows(engine)
    a = {r["month_start"]: r["entity_id"] for r in rows if r["person_id"] == "A"}
    assert a[dt.date(2024, 6, 1)] == "H1" and a[dt.date(2024, 7, 1)] == "H2" and len(a) == 12
    assert sorted(r["month_start"].month for r in rows if r["person_id"] == "B") == [4]
    geo = {"program_id": "HH1", "attribution": {"method": "geographic",
                                                "counties": {"H1": ["01001", "01003"], "H2": ["01005"]}}}
    attribute(engine, geo, 2024)
    got = _by_person(_rows(engine))
    assert got == {"A": {("H1", "geographic")}, "B": {("H1", "geographic")}, "C": {("H2", "geographic")}}
    assert check_attribution(engine, 2024).passed


def test_enrollment_roster_from_member_months(tmp_path, warehouse_url):
    f = Feed(tmp_path / "feed")
    f.program("HH1", "health_home_smi")
    f.entity("H1", "HH1")
    f.entity("H2", "HH1")
    f.member("A", end="2024-06-30", health_home_program_id="HH1", icm_entity_id="H1")
    f.member("A", start="2024-07-01", health_home_program_id="HH1", icm_entity_id="H2")
    f.member("B", health_home_program_id="HH1", icm_entity_id="H1", eligibility_group="limited_benefit")
    f.member("C")
    engine = f.load(warehouse_url)
    attribute(engine, {"program_id": "HH1", "attribution": {"method": "enrollment",
                                                            "exclusions": ["limited_benefit"]}}, 2024)
    rows = _rows(engine)
    a = {r["month_start"].month: r["entity_id"] for r in rows if r["person_id"] == "A"}
    assert a[6] == "H1" and a[7] == "H2"
    assert {r["person_id"] for r in rows} == {"A"}
    assert all(r["reason"] == "enrollment_roster" for r in rows)


def test_config_errors_name_the_field():
    from pydantic import ValidationError

    from savings.population import PopulationConfig

    with pytest.raises(ValidationError, match="roster_file"):
        PopulationConfig.from_any({"attribution": {"method": "roster"}})
    with pytest.raises(ValidationError, match="exclusion"):
        PopulationConfig.from_any({"attribution": {"exclusions": ["martians"]}})
