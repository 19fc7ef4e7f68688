"""`icm measures` works on warehouses loaded from every supported input format."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO

ICM = str(Path(sys.executable).parent / "icm")


@pytest.mark.parametrize("fmt,folder,year", [("tuva", "tuva", 2017), ("synthea", "synthea", 2023),
                                             ("desynpuf", "desynpuf", 2009)])
def test_icm_measures_prints_rows_for_each_input_format(tmp_path, fmt, folder, year):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    env = os.environ.copy()
    load = subprocess.run([ICM, "load", "--format", fmt, str(FIXTURES / folder), "--warehouse", url],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert load.returncode == 0, load.stderr
    proc = subprocess.run([ICM, "measures", "--year", str(year), "--warehouse", url, "--format", "json"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout)
    assert rows, "every measure reports at least its total rows"
    assert {"measure", "rate_id", "stratum", "numerator", "denominator", "exclusions", "rate"} <= set(rows[0])
    measures = {r["measure"] for r in rows}
    assert {"FUH-HH", "IU-HH", "PQI92-HH"} <= measures
    from measures.registry import all_measures
    assert measures == {m.id for m in all_measures()}, "every registered measure reports, none unknown"
    # each printed rate is its numerator over its denominator in its reported unit (a proportion as a percent,
    # per 1,000 / 100,000 member months, ...), rounded to one decimal: recomputed here within half a unit of 0.1
    scale = {"proportion": 100, "per_1000_mm": 1000, "per_100000_mm": 100000, "per_1000_members": 1000}
    units = {"proportion": "percent", "per_1000_mm": "per 1,000 member months",
             "per_100000_mm": "per 100,000 member months", "per_1000_members": "per 1,000 members"}
    kind = {(m.id, x.rate_id): x.kind for m in all_measures() for x in m.rates}
    computed = [(r, kind.get((r["measure"], r["rate_id"]))) for r in rows if r["rate"] is not None and r["denominator"]]
    computed = [(r, k) for r, k in computed if k in scale]
    for r, k in computed:
        assert abs(r["rate"] - r["numerator"] / r["denominator"] * scale[k]) <= 0.05 + 1e-9, r
        assert r["rate_unit"] == units[k], r
        assert k != "proportion" or 0 <= r["numerator"] <= r["denominator"], r
    if fmt != "desynpuf":
        assert computed, "some rate is computed from the sample's claims"
    if fmt == "desynpuf":   # ICD-9-era claims: ICD-10 measures say so instead of computing
        statuses = {r.get("status", "") for r in rows if r["measure"] == "FUH-HH"}
        assert all("coding era" in s for s in statuses)
