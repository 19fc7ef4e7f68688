"""Fixtures shared by the savings-population tests."""
import pytest


@pytest.fixture(scope="session")
def synthetic_engine(tmp_path_factory):
    from warehouse.derive import rebuild_final_action, rebuild_member_months
    from warehouse.engine import make_engine, upgrade
    from warehouse.loading import load_sources
    from warehouse.pipeline import discover_landing
    from warehouse.synthetic import generate

    folder = tmp_path_factory.mktemp("synthetic")
    url = f"duckdb:///{folder / 'warehouse.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    generate(folder / "landing", members=1500, seed=11)
    load_sources(engine, discover_landing(folder / "landing"))
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    yield engine
    engine.dispose()
