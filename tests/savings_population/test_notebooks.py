"""Both actuary notebooks execute top to bottom against a small warehouse built here (and against none, where
they build their own sample)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _run(name: str, cwd: Path) -> "nbformat.NotebookNode":
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert nb.metadata.kernelspec.name == "python3" and nb.metadata.kernelspec.language == "python"
    assert nb.metadata.language_info.name == "python"
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", "") or str(o.get("data", {}).get("text/plain", "")))
    return "\n".join(out)


def test_notebooks_execute_on_a_small_warehouse(tmp_path, monkeypatch):
    from savings.population.sample import build_sample_warehouse

    url = build_sample_warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}", members=150, seed=3)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.chdir(tmp_path)
    sens = _run("savings_sensitivity", tmp_path)
    text = _text(sens)
    assert "re-settled 5 entities" in text and "sample warehouse" not in text
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in sens.cells for o in c.get("outputs", [])), "plots rendered"
    walk = _run("entity_settlement_walkthrough", tmp_path)
    assert "benchmark = sum(benchmark_pc x PY person-years)" in _text(walk)


def test_notebook_builds_a_sample_when_there_is_no_warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    nb = _run("entity_settlement_walkthrough", tmp_path)
    assert "generated sample warehouse" in _text(nb)
    assert (tmp_path / ".icm" / "sample_savings.duckdb").exists()
    assert not (tmp_path / ".icm" / "warehouse.duckdb").exists(), "the missing warehouse is not created"
