"""The SQL engine against the independent pandas reference (tests/pharmacy/reference_pandas.py) on a random state
of 160 persons with regimens of every drug class: every rule fires for the same persons."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pharmacy.config import load_rules
from tests.pharmacy import scenario as S
from tests.pharmacy.conftest import empty_warehouse
from tests.pharmacy.reference_pandas import reference_alerts

DRUGS = [S.HYDROCODONE_10, S.OXYCODONE_10, S.OXYCODONE_30, S.FENTANYL_PATCH_25, S.METHADONE_10, S.BUPRENORPHINE,
         S.ALPRAZOLAM, S.LORAZEPAM, S.CLONAZEPAM, S.RISPERIDONE, S.ARIPIPRAZOLE, S.QUETIAPINE, S.GABAPENTIN,
         S.OXYBUTYNIN, S.DIPHENHYDRAMINE, S.ZOLPIDEM, S.SERTRALINE, S.SIMVASTATIN, S.CLARITHROMYCIN,
         S.OXYCODONE_BAD_STRENGTH, "12345678901"]


OLDER = [S.OXYBUTYNIN, S.DIPHENHYDRAMINE, S.ZOLPIDEM, S.SERTRALINE, S.CLONAZEPAM, S.ALPRAZOLAM, S.HYDROCODONE_10]
# profile: (share, ages, drug pool, regimens, prescriber pool size); regimens of one person start close together
PROFILES = [(0.45, [8, 15, 17, 30, 45, 64, 66, 72, 80], DRUGS, (1, 5), 3),
            (0.2, [64, 65, 66, 72, 80], OLDER, (2, 5), 2),
            (0.12, [6, 12, 16, 17, 18], [S.RISPERIDONE, S.ARIPIPRAZOLE, S.QUETIAPINE], (2, 3), 2),
            (0.13, [25, 40, 55], [S.OXYCODONE_30, S.HYDROCODONE_10, S.OXYCODONE_10], (1, 3), 7),
            (0.1, [50, 70], [S.SIMVASTATIN, S.CLARITHROMYCIN, S.ALPRAZOLAM, S.LORAZEPAM], (2, 3), 2)]


def random_state(n_persons=160, seed=11):
    rng = np.random.default_rng(seed)
    persons, fills = [], []
    for i in range(n_persons):
        pid = f"r{i:04d}"
        _, ages, pool, (lo, hi), n_presc = PROFILES[int(rng.choice(len(PROFILES), p=[p[0] for p in PROFILES]))]
        age = int(rng.choice(ages))
        birth = dt.date(2025 - age, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        group = "foster_care" if age < 18 and rng.random() < 0.3 else None
        persons.append(dict(person_id=pid, birth_date=birth, group=group))
        prescribers = [f"P{k}" for k in range(1, n_presc + 1)]
        pharmacies = [f"F{k}" for k in range(1, n_presc + 1)]
        first = dt.date(2024, 9, 1) + dt.timedelta(days=int(rng.integers(0, 420)))
        for _ in range(int(rng.integers(lo, hi + 1))):  # regimens
            ndc = pool[int(rng.integers(len(pool)))]
            day = first + dt.timedelta(days=int(rng.integers(0, 40)))
            for _ in range(int(rng.integers(1, 8))):
                ds = int(rng.choice([5, 7, 14, 15, 30, 30, 30]))
                qty = float(rng.choice([0.5, 1, 2, 3, 4])) * ds
                if rng.random() < 0.03:
                    ds = None
                fills.append(dict(claim_id=f"c{len(fills):06d}", person_id=pid, fill_date=day, ndc=ndc,
                                  days_supply=ds, quantity=qty, prescriber=str(rng.choice(prescribers)),
                                  pharmacy=str(rng.choice(pharmacies))))
                day = day + dt.timedelta(days=int((ds or 30) * rng.uniform(0.6, 1.15)))
    return pd.DataFrame(persons), pd.DataFrame(fills)


@pytest.fixture(scope="module")
def state(_module_warehouse):
    empty_warehouse(_module_warehouse)
    persons, fills = random_state()
    w = S.RxWarehouse(_module_warehouse)
    w.members_bulk([(p.person_id, p.birth_date, p.group) for p in persons.itertuples()])
    rows = fills.rename(columns={"prescriber": "prescriber_npi", "pharmacy": "pharmacy_npi"})
    from warehouse.models import PharmacyClaimFinal
    w._ins(PharmacyClaimFinal.__table__, [dict(
        claim_id=r.claim_id, claim_line_number=1, data_source="test", claim_family_id=r.claim_id,
        adjustment_type="original", adjustment_sequence=1, person_id=r.person_id, member_id=r.person_id,
        payer="medicaid_ffs", plan="hh", prescribing_provider_npi=r.prescriber_npi, dispensing_provider_npi=r.pharmacy_npi,
        dispensing_date=r.fill_date, drug_code_type="ndc", ndc_code=r.ndc, quantity=r.quantity,
        days_supply=None if pd.isna(r.days_supply) else int(r.days_supply), batch_id="b", versions_in_family=1)
        for r in rows.itertuples()])
    report = w.dur()
    foster = {(p.person_id, dt.date(y, m, 1)) for p in persons.itertuples() if p.group
              for y in (2024, 2025) for m in range(1, 13)}
    expected = reference_alerts(fills, persons, foster, load_rules(), 2025, S.PRODUCTS)
    yield w, report, expected
    w.engine.dispose()


@pytest.mark.parametrize("rule_id", [r.id for r in load_rules().enabled()])
def test_engine_matches_pandas_reference(state, rule_id):
    w, report, expected = state
    assert w.fired(rule_id) == expected[rule_id]
    assert report["alerts"][rule_id] == len(expected[rule_id])


def test_random_state_exercises_every_rule(state):
    """Guards the comparison above against passing vacuously: every rule fires for someone here."""
    _, report, expected = state
    silent = [r for r, persons in expected.items() if not persons]
    assert not silent, silent
