"""Every age limit of every event/member measure, on the date its card's Age rule names (table-driven; each
boundary is a named case). PQI and PDC boundaries are in test_fidelity.py; AIF/IU/AMB have no age limit on
events beyond the month's age (AIF >= 18 at month start, tested in test_utilization.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.measures.scenario import D

Y = 2024
ONE = dt.timedelta(days=1)


def _years_before(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year - years)


def _enroll(wh, pid, birth, start=D(Y - 1, 1, 1)):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, D(Y + 1, 12, 31))


def fuh(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.inpatient(pid, D(Y, 3, 1), D(Y, 3, 5), ["F329"])


def fum(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.ed(pid, D(Y, 6, 1), ["F329"])


def fua(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.ed(pid, D(Y, 6, 1), ["F1120"])


def iet(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.visit(pid, D(Y, 6, 1), hcpcs="99213", dx=("F1020",))


def oud(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.visit(pid, D(Y, 6, 1), hcpcs="99213", dx=("F1120",))


def cdf(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.visit(pid, D(Y, 6, 1), hcpcs="90834", dx=("Z0000",))


def member_only(wh, pid, birth):
    _enroll(wh, pid, birth)


def cbp(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.visit(pid, D(Y, 2, 1), hcpcs="99213", dx=("I10",))
    wh.visit(pid, D(Y, 3, 1), hcpcs="99213", dx=("I10",))


def pcr(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.inpatient(pid, D(Y, 3, 1), D(Y, 3, 5), ["I214"])


def amm(wh, pid, birth):
    _enroll(wh, pid, birth, start=D(Y - 2, 1, 1))
    wh.visit(pid, D(Y - 1, 9, 1), hcpcs="99213", dx=["F329"])
    wh.rx(pid, "00093719856", D(Y - 1, 9, 1), days_supply=30)


def ohd(wh, pid, birth):
    _enroll(wh, pid, birth)
    wh.rx(pid, "00406036001", D(Y, 3, 1), days_supply=10)
    wh.rx(pid, "00406036001", D(Y, 3, 11), days_supply=10)


DEC31, JAN1 = D(Y, 12, 31), D(Y, 1, 1)
# measure, rate, builder, age-rule date, limit kind, age
LIMITS = [
    ("FUH-HH", "7_day", fuh, D(Y, 3, 5), "min", 6), ("FUH-AD", "7_day", fuh, D(Y, 3, 5), "min", 18),
    ("FUH-CH", "7_day", fuh, D(Y, 3, 5), "min", 6), ("FUH-CH", "7_day", fuh, D(Y, 3, 5), "max", 17),
    ("FUM-HH", "7_day", fum, D(Y, 6, 1), "min", 6), ("FUM-AD", "7_day", fum, D(Y, 6, 1), "min", 18),
    ("FUM-CH", "7_day", fum, D(Y, 6, 1), "max", 17),
    ("FUA-HH", "7_day", fua, D(Y, 6, 1), "min", 13), ("FUA-AD", "7_day", fua, D(Y, 6, 1), "min", 18),
    ("FUA-CH", "7_day", fua, D(Y, 6, 1), "min", 13), ("FUA-CH", "7_day", fua, D(Y, 6, 1), "max", 17),
    ("IET-HH", "initiation_total", iet, D(Y, 6, 1), "min", 13),
    ("IET-AD", "initiation_total", iet, D(Y, 6, 1), "min", 18),
    ("OUD-HH", "total", oud, DEC31, "min", 18), ("OUD-AD", "total", oud, DEC31, "min", 18),
    ("CDF-HH", "screened", cdf, DEC31, "min", 12), ("CDF-AD", "screened", cdf, DEC31, "min", 18),
    ("CDF-CH", "screened", cdf, DEC31, "max", 17),
    ("COL-HH", "screened", member_only, DEC31, "min", 46), ("COL-HH", "screened", member_only, DEC31, "max", 75),
    ("CBP-HH", "controlled", cbp, DEC31, "min", 18), ("CBP-HH", "controlled", cbp, DEC31, "max", 85),
    ("PCR-HH", "index_stays", pcr, D(Y, 3, 5), "min", 18), ("PCR-HH", "index_stays", pcr, D(Y, 3, 5), "max", 64),
    ("AMM-AD", "acute", amm, D(Y - 1, 9, 1), "min", 18),
    ("OHD-AD", "high_dosage", ohd, DEC31, "min", 18),
]


def _cases():
    for mid, rate, build, on, kind, age in LIMITS:
        tag = f"{mid.lower().replace('-', '_')}_{'min' if kind == 'min' else 'max'}_{age}_on_{on:%d%b}"
        if kind == "min":   # turning `age` on the rule date is in; turning it the day after is out
            yield f"{tag}_turns_{age}_that_day_in", mid, rate, build, _years_before(on, age), 1
            yield f"{tag}_turns_{age}_next_day_out", mid, rate, build, _years_before(on + ONE, age), 0
        else:               # turning age + 1 on the rule date is out; the day after is still in
            yield f"{tag}_turns_{age + 1}_that_day_out", mid, rate, build, _years_before(on, age + 1), 0
            yield f"{tag}_turns_{age + 1}_next_day_in", mid, rate, build, _years_before(on + ONE, age + 1), 1


CASES = list(_cases())


@pytest.fixture(scope="module")
def denominators(module_wh):
    for case_id, _, _, build, birth, _ in CASES:
        build(module_wh, case_id, birth)
    module_wh.compute(Y, *sorted({c[1] for c in CASES}))
    return {k: d for k, (_, d) in module_wh.per_person(Y).items()}


@pytest.mark.parametrize("case_id,measure,rate_id,in_denominator", [(c[0], c[1], c[2], c[5]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_age_limit(denominators, case_id, measure, rate_id, in_denominator):
    assert denominators.get((measure, rate_id, case_id), 0) == in_denominator
