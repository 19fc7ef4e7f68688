"""Both actuary notebooks execute top to bottom (nbclient, the project's kernel) against a small warehouse built
here and settled with the demo's methodology, with their own assertions (the sensitivity notebook reproduces the
settlement to the cent before any change); their plots are saved. Without a warehouse they stop with a message
and write nothing; the sample warehouse is used only when asked for."""
from __future__ import annotations

import base64
import os
from decimal import Decimal
from pathlib import Path

import pytest

from savings.population.explore import NoWarehouse, open_warehouse, quality_scores

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
DEMO = REPO / "savings" / "population" / "methodologies"
# the sample state's population (program ACO1, percentile truncation) under the demo's settlement methodology
POPULATION = {"program_id": "ACO1", "attribution": {"method": "plurality_primary_care", "lookback_months": 12,
                                                    "min_enrollment_months": 3},
              "cost": {"truncation": {"type": "percentile", "percentile": 0.99}, "runout_months": 3}}


@pytest.fixture(scope="module")
def settled_warehouse(tmp_path_factory) -> str:
    from savings.population import settle_year
    from savings.population.sample import PERFORMANCE_YEAR, build_sample_warehouse
    from warehouse.engine import make_engine

    url = build_sample_warehouse(f"duckdb:///{tmp_path_factory.mktemp('nb') / 'wh.duckdb'}", members=150, seed=3)
    engine = make_engine(url)
    settle_year(engine, str(DEMO / "aco-demo.yaml"), PERFORMANCE_YEAR, population=POPULATION)   # the latest
    engine.dispose()
    return url


def _run(name: str, cwd: Path, out: Path) -> "nbformat.NotebookNode":
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert nb.metadata.kernelspec.name == "python3" and nb.metadata.language_info.name == "python"
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": str(cwd)}}).execute()
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / f"{name}.ipynb")
    plots = [o["data"]["image/png"] for c in nb.cells for o in c.get("outputs", [])
             if o.get("output_type") == "display_data" and "image/png" in o.get("data", {})]
    for i, png in enumerate(plots, 1):
        (out / f"{name}_{i}.png").write_bytes(base64.b64decode(png))
    return nb


def _text(nb) -> str:
    return "\n".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
                     for cell in nb.cells for o in cell.get("outputs", []))


def test_notebooks_execute_reproduce_the_settlement_and_save_their_plots(settled_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", settled_warehouse)
    out = Path(os.environ.get("ICM_NOTEBOOK_OUTPUT", tmp_path / "executed"))
    sens = _run("savings_sensitivity", NOTEBOOKS, out)
    text = _text(sens)
    assert "methodology aco-demo, performance year 2024, base years [2022, 2023]" in text
    assert "reproduced 15 settlement rows to the cent; paying rows: 5" in text, "5 entities x (2 payers + combined)"
    assert len(list(out.glob("savings_sensitivity_*.png"))) == 6, ("MSR grid, corridor, tornado, intervals, "
                                                                   "completion development, evaluation")
    assert "year factors (blend):" in text and "evaluated 5 entities; method: comparison-group" in text
    walk = _run("entity_settlement_walkthrough", NOTEBOOKS, out)
    assert "benchmark = sum(benchmark_pc x PY person-years)" in _text(walk)
    assert len(list(out.glob("entity_settlement_walkthrough_*.png"))) == 2
    assert not list(NOTEBOOKS.glob(".icm*")) and not (NOTEBOOKS / ".icm").exists(), "nothing written beside them"


def test_without_a_warehouse_the_notebook_stops_with_a_message_and_writes_nothing(tmp_path, monkeypatch):
    import savings.population.explore as explore

    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(explore, "PROJECT_ROOT", tmp_path)      # not the checkout's own .icm/ (a demo may be there)
    with pytest.raises(NoWarehouse, match=r"no warehouse at .*warehouse\.duckdb: run `make demo`.*USE_SAMPLE"):
        open_warehouse()
    assert list(tmp_path.iterdir()) == [], "no warehouse, no sample, no folder created"


def test_measure_mean_refuses_to_average_rates_in_different_units():
    ctx = {"arrangements": {"E1": "one_sided"}, "quality": {"E1": [
        {"measure_id": "FUH", "rate_id": "7day", "rate": 0.5, "rate_type": "proportion"},
        {"measure_id": "AMB", "rate_id": "ed", "rate": 42.0, "rate_type": "per_1000_mm"}]}}
    with pytest.raises(ValueError, match="different units.*per_1000_mm, proportion"):
        quality_scores(ctx, "measure_mean")
    assert quality_scores(ctx, "proportion_mean") == {"E1": Decimal("0.5")}
    assert quality_scores(ctx, "pay_for_reporting") == {"E1": Decimal(1)}


def test_a_kernel_started_in_notebooks_finds_the_demo_warehouse_at_the_project_root(tmp_path, monkeypatch):
    import savings.population.explore as explore
    from warehouse.engine import DEFAULT_WAREHOUSE_PATH

    if DEFAULT_WAREHOUSE_PATH.is_absolute():
        pytest.skip("ICM_HOME is absolute: the default warehouse path does not depend on the working directory")
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / DEFAULT_WAREHOUSE_PATH).parent.mkdir(parents=True)
    (tmp_path / DEFAULT_WAREHOUSE_PATH).touch()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setattr(explore, "PROJECT_ROOT", tmp_path)
    assert explore.warehouse_url() == f"duckdb:///{tmp_path / DEFAULT_WAREHOUSE_PATH}"
