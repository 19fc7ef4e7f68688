"""The DUR / MTM notebook executes top to bottom on the planted-case warehouse (read-only)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "dur_prescribers_and_mtm.ipynb"


def test_notebook_executes(tmp_path, monkeypatch):
    from tests.pharmacy.scenario import RxWarehouse
    from tests.pharmacy.test_dur_rules import _plant
    from warehouse.engine import upgrade
    from warehouse.models import Provider

    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    upgrade(url)
    w = RxWarehouse(url)
    _plant(w)
    with w.engine.begin() as conn:
        conn.execute(insert(Provider.__table__), [dict(npi=n, specialty="family medicine") for n in ("P1", "P2", "P3")])
    w.dur()
    w.engine.dispose()
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("ICM_NOTEBOOK_MIN_PATIENTS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "this notebook shows 2025" in text and "high_dose_90" in text and "outliers:" in text
