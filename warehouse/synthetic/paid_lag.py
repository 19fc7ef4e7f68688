"""Planted paid-lag patterns: how many calendar months after the month of service each payer pays a claim.

The generator (`_adjust_and_dirty`) dates every original claim with `planted_paid_dates`: the paid month is the
month of the claim's last service day plus a lag drawn from the payer's pattern below, the paid day uniform within
that month and never before the last service day. Adjustment versions are paid later still (generator), so a
final-action claim that was adjusted (about 2 % of claims) is paid later than its planted lag.

The patterns are invented but shaped like published Medicaid lag reports: fee-for-service pays slower and with a
longer tail than the MCOs, commercial fastest, pharmacy at the point of sale (almost all in the month of the fill).
`expected_completion(payer, age)` is the share of a month's amount paid by `age` months after it: what a chain-
ladder estimate on these data should recover (tests/savings_population/test_completion.py).
"""
from __future__ import annotations

import numpy as np

# share of a claim's amount paid 0, 1, 2, ... calendar months after its service month (each sums to 1)
MEDICAL_LAG = {
    "medicaid": (0.25, 0.40, 0.15, 0.08, 0.05, 0.03, 0.02, 0.02),   # Medicaid FFS: slowest, longest tail
    "aurora_health_plan": (0.45, 0.38, 0.10, 0.04, 0.02, 0.01),
    "bluestem": (0.35, 0.40, 0.13, 0.06, 0.03, 0.02, 0.01),
    "acme_health": (0.55, 0.35, 0.07, 0.03),                          # commercial
    "medicare": (0.40, 0.42, 0.10, 0.05, 0.02, 0.01),
}
PHARMACY_LAG = (0.92, 0.08)


def lag_pattern(payer: str, pharmacy: bool = False) -> tuple[float, ...]:
    return PHARMACY_LAG if pharmacy else MEDICAL_LAG[payer]


def expected_completion(payer: str, age: int, pharmacy: bool = False) -> float:
    """Share of a service month's amount paid by the end of the month `age` months later (planted pattern)."""
    return float(sum(lag_pattern(payer, pharmacy)[: age + 1]))


def planted_paid_dates(seed: int, payer: str, pharmacy: bool, last_service_day: np.ndarray) -> np.ndarray:
    """Paid dates (days since 1970-01-01, int32) for claims whose last service day is `last_service_day`.

    Uses its own random generator (seeded by seed, payer and claim form) so the generator's main random stream,
    and everything drawn from it after the paid dates, is unchanged."""
    pattern = lag_pattern(payer, pharmacy)
    rng = np.random.default_rng([seed, sum(map(ord, payer)), int(pharmacy)])
    n = len(last_service_day)
    lag = rng.choice(len(pattern), size=n, p=np.asarray(pattern) / sum(pattern))
    day = np.asarray(last_service_day).astype("datetime64[D]")
    paid_month = day.astype("datetime64[M]") + lag.astype("timedelta64[M]")
    month_start = paid_month.astype("datetime64[D]").astype(np.int64)
    month_len = (paid_month + 1).astype("datetime64[D]").astype(np.int64) - month_start
    paid = month_start + (rng.random(n) * month_len).astype(np.int64)
    return np.maximum(paid, day.astype(np.int64)).astype(np.int32)
