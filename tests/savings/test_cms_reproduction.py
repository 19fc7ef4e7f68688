"""Reproduce CMS's published MSSP settlements from the PUF fixtures (and, when given, further PUF files).

Expected values come from the CMS files (MinSavPerc, GenSaveLoss, EarnSaveLoss); the computed values come
from ``settle_table`` with the per-year preset ``mssp-<year>`` on input tables built from the PUF columns.

Extra PUF files (e.g. acceptance years): set ``MSSP_PUF_FILES`` to a ``os.pathsep``-separated list of CSV
paths; the same assertions run on them. Tests that need them skip when unset.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SHARED_DATA
from savings.reproduce import EARNED_REL_TOL, format_report, load_inputs, reproduce_frame, summary

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mssp"
FIXTURE_FILES = sorted(FIXTURES.glob("*.csv"))

# Rows of the development data that CMS settled differently from the published rules, by name.
ALLOW_LIST = {
    (2017, "PY2017#0394"): "n=152 assigned beneficiaries (<500): CMS-supplied MSR override 25.419 %, not on "
                           "the variable-table bands (the engine uses 12.2 %); earned 0 either way",
    (2019, "A1498"): "PY2019 two-sided loss: owed differs from 30 % x loss - DisAdj by exactly DisAdj/2 "
                     "(6-month PY2019 pro-rating of the extreme & uncontrollable adjustment, 425.609 [K])",
    (2019, "A2392"): "Track 1+ revenue-based loss limit binding (RevLossLimit=1): owed $2.07 M < 30 % of loss; "
                     "ACO participant revenue is not published, so the limit cannot be computed",
}

# Rule-based categories (for years not in the development data): an outlier must match one of them.
def _category(row) -> str | None:
    if row.assigned_beneficiaries < 500:
        return "n<500: CMS-supplied MSR override"
    if row.earned_checked and row.exp_earned < 0 and row.earned < row.exp_earned and row.rev_loss_limit == 1:
        return "revenue-based loss limit binding; revenue not published"
    if (row.performance_year == 2019 and row.earned_checked and row.disaster_adjustment
            and abs(abs(row.earned_diff) - row.disaster_adjustment / 2) <= 1.0):
        return "PY2019 6-month pro-rating of the disaster adjustment"
    return None


@pytest.fixture(scope="module")
def repro() -> pd.DataFrame:
    assert FIXTURE_FILES, "MSSP PUF fixtures missing"
    return reproduce_frame(load_inputs(FIXTURE_FILES))


def _check(r: pd.DataFrame, allow: dict) -> list[str]:
    problems = []
    bad = r[~(r.msr_ok & r.gen_ok & r.earned_ok)]
    for _, row in bad.iterrows():
        key = (int(row.performance_year), str(row.entity_id))
        if key not in allow and _category(row) is None:
            problems.append(f"PY{key[0]} {key[1]}: msr {row.msr} vs {row.exp_msr}, generated {row.generated} vs "
                            f"{row.exp_generated}, earned {row.earned} vs {row.exp_earned}")
    return problems


def test_fixture_years_present(repro):
    assert set(repro.performance_year.unique()) >= {2013, 2014, 2015, 2016, 2017, 2019}
    assert len(repro) >= 2300


def test_msr_of_every_one_sided_aco(repro):
    chk = repro[repro.msr_checked]
    assert len(chk) > 2000
    bad = chk[~chk.msr_ok]
    unexplained = [e for y, e in zip(bad.performance_year, bad.entity_id) if (int(y), e) not in ALLOW_LIST]
    assert unexplained == [], bad[["performance_year", "entity_id", "assigned_beneficiaries", "msr", "exp_msr"]]


def test_generated_savings_and_losses_exact(repro):
    chk = repro[repro.gen_checked]
    assert len(chk) > 2000
    assert chk.gen_ok.all(), chk[~chk.gen_ok][["performance_year", "entity_id", "generated", "exp_generated"]]


def test_earned_within_tolerance(repro):
    chk = repro[repro.earned_checked]
    share = chk.earned_ok.mean()
    assert share >= 0.995, f"only {share:.4%} of earned/owed within {EARNED_REL_TOL:.2%}"
    assert _check(repro, ALLOW_LIST) == []


def test_allow_list_rows_are_real_outliers(repro):
    """Each allow-listed row exists and is still an outlier (so the list cannot go stale silently)."""
    for (y, e), reason in ALLOW_LIST.items():
        row = repro[(repro.performance_year == y) & (repro.entity_id == e)]
        assert len(row) == 1, (y, e)
        assert not bool((row.msr_ok & row.gen_ok & row.earned_ok).iloc[0]), (y, e, reason)
        assert _category(row.iloc[0]) is not None, (y, e)


def test_earned_rules_by_year(repro):
    """Spot the regime per year: sequestration 2 % except PY2019, multiplicative quality, caps, losses."""
    ok = repro[repro.earned_checked & (repro.earned > 0)]
    ratio = ok.earned / (ok.generated * ok.final_sharing_rate)
    uncapped = ok.caps_applied.isna()
    by_year = ratio[uncapped].groupby(ok.performance_year[uncapped]).median()
    assert abs(by_year[2019] - 1.0) < 1e-6
    for y in (2013, 2014, 2015, 2016, 2017):
        assert abs(by_year[y] - 0.98) < 1e-6
    losses = repro[repro.earned_checked & (repro.exp_earned < 0)]
    assert len(losses) >= 5 and (losses.earned < 0).all()


def test_report_table(repro):
    s = summary(repro)
    text = format_report(s)
    assert "2019" in text and "outliers" in text
    assert int(s.rows.sum()) == len(repro)


EXTRA = [p for p in os.environ.get("MSSP_PUF_FILES", "").split(os.pathsep) if p]


@pytest.mark.skipif(not EXTRA, reason="MSSP_PUF_FILES not set (acceptance PUF files)")
def test_extra_puf_files():
    missing = [p for p in EXTRA if not Path(p).exists()]
    if missing:
        pytest.skip(f"PUF files absent: {missing}")
    r = reproduce_frame(load_inputs(EXTRA))
    print(format_report(summary(r)))
    assert r[r.msr_checked].msr_ok.mean() == 1.0 or _check(r, ALLOW_LIST) == []
    assert r[r.gen_checked].gen_ok.all()
    assert r[r.earned_checked].earned_ok.mean() >= 0.995
    assert _check(r, ALLOW_LIST) == []


SHARED = Path(os.environ.get("ICM_SHARED_DATA", SHARED_DATA)) / "mssp_aco_puf"


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED.exists(), reason=f"MSSP PUF directory {SHARED} absent (set ICM_SHARED_DATA)")
def test_full_shared_files_if_present():
    files = [p for p in SHARED.glob("*.csv") if "County" not in p.name and "crosswalk" not in p.name]
    if not files:
        pytest.skip("no PUF files")
    r = reproduce_frame(load_inputs(files))
    assert r[r.gen_checked].gen_ok.all()
    assert r[r.earned_checked].earned_ok.mean() >= 0.995
    assert _check(r, ALLOW_LIST) == []
    assert np.isfinite(r.msr).all()
