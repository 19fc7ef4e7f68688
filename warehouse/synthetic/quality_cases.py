"""Quality-measure events of the synthetic state (issue 19): contraceptive care (CCW, CCP: public OPA codes, so the
demo computes them) and the screening, well-child and lab events of the HEDIS measures that compute once the user
loads the licensed value sets (BCS, CCS, W30, SSD/APM). Rates are set near the FFY2021 Core Set state medians
(measures/reference/core_set_quartiles.csv).

Called from generator.generate after the everyday and pattern claims; it draws from its own seeded stream, so every
other claim of the state is the same as without it.
"""
from __future__ import annotations

import numpy as np

SEED_OFFSET = 1919
DAYS_PER_MONTH = 30.4375

# yearly rates of women 15-44 (CCW-AD median: 25% most/moderately effective, 4.7% LARC)
LARC_PER_YEAR, OTHER_METHOD_PER_YEAR = 0.05, 0.24
# after a delivery (CCP-AD medians, 60-day rates: 42% MMEC, 12% LARC; within 3 days 12% / 2.3%)
IMMEDIATE_LARC, IMMEDIATE_STERILIZATION = 0.025, 0.09
LATER_LARC, LATER_OTHER = 0.11, 0.28
# well-child visit months (HEDIS W30 schedule) and the chance each happens (W30 medians: 57% >= 6 by 15 months)
WELL_CHILD_MONTHS, WELL_CHILD_P = (0, 1, 2, 4, 6, 9, 12, 15, 18, 24, 30), 0.72


def _deliveries(st):
    """(person, delivery day) of the generator's deliveries (inpatient claims with principal dx O80)."""
    o80 = st.V.id("O80")
    people, days = [], []
    for block in st.med.blocks:
        first = (block["line"] == 1) & (block["dx1"] == o80)
        people.append(block["person"][first])
        days.append(block["start"][first])
    return np.concatenate(people).astype(np.int32), np.concatenate(days).astype(np.int32)


def _visit(st, p, day, hcpcs, dx, base=9000, pool="pcp"):
    p, day, payer = st.keep_enrolled(np.asarray(p, np.int32), np.asarray(day, np.int32), 0.0)
    n = len(p)
    if n:
        st.prof_simple(p, day, payer, st.choose_prov(st.pool[pool], n), st.pick(hcpcs, n), st.pick(dx, n),
                       st.V.id("11"), np.full(n, base))
    return n


def _contraception(st, rng) -> dict:
    women = np.nonzero(st.female & (st.age0 >= 13) & (st.age0 <= 44))[0].astype(np.int32)
    p, d = st.events(women, LARC_PER_YEAR)
    n_larc = _visit(st, p, d, ["J7307", "J7300", "J7298"], ["Z30017", "Z30430"], 60000)
    p, d = st.events(women, OTHER_METHOD_PER_YEAR)
    n_other = _visit(st, p, d, ["J1050", "99213", "99213"], ["Z3042", "Z3041", "Z30011"])
    mom, delivered = _deliveries(st)
    u = rng.random(len(mom))
    larc_now = u < IMMEDIATE_LARC
    # sterilization at delivery is for adults (CCP-CH's 3-day median is half the adults')
    adult = st.age_at(mom, delivered) >= 21
    sterilized = adult & (u >= IMMEDIATE_LARC) & (u < IMMEDIATE_LARC + IMMEDIATE_STERILIZATION)
    _visit(st, mom[larc_now], delivered[larc_now] + rng.integers(0, 3, larc_now.sum()), ["J7307"], ["Z30017"], 60000)
    _visit(st, mom[sterilized], delivered[sterilized], ["58611"], ["Z302"], 80000, pool="spec")
    rest = ~(larc_now | sterilized)
    v = rng.random(len(mom))
    later_larc = rest & (v < LATER_LARC)
    later_other = rest & (v >= LATER_LARC) & (v < LATER_LARC + LATER_OTHER)
    _visit(st, mom[later_larc], delivered[later_larc] + rng.integers(21, 90, later_larc.sum()), ["J7300", "J7307"],
           ["Z30430", "Z30017"], 60000)
    _visit(st, mom[later_other], delivered[later_other] + rng.integers(4, 90, later_other.sum()), ["J1050", "S4993"],
           ["Z3042", "Z30011"])
    return {"larc_visits": n_larc, "other_method_visits": n_other, "deliveries": int(len(mom)),
            "postpartum_immediate": int(larc_now.sum() + sterilized.sum()),
            "postpartum_later": int(later_larc.sum() + later_other.sum())}


def _screening(st, rng) -> dict:
    out = {}
    for name, lo, hi, rate, codes, dx in (("mammography", 49, 74, 0.30, ["77067"], ["Z1231"]),
                                          ("cervical_cytology", 21, 64, 0.20, ["88142", "88175"], ["Z124"]),
                                          ("hpv_test", 30, 64, 0.08, ["87624"], ["Z1159"])):
        cohort = np.nonzero(st.female & (st.age0 >= lo) & (st.age0 <= hi))[0].astype(np.int32)
        p, d = st.events(cohort, rate)
        out[name] = _visit(st, p, d, codes, dx, 12000, pool="lab")
    # blood glucose tests of people with serious mental illness (SSD/APM numerators)
    p, d = st.events(np.nonzero(st.smi)[0].astype(np.int32), 0.8)
    out["glucose_tests_smi"] = _visit(st, p, d, ["82947", "83036"], ["Z1389"], 1500, pool="lab")
    # well-child visits of the children born in (or just before) the window
    young = np.nonzero(st.birth >= st.win_start - 31 * DAYS_PER_MONTH)[0].astype(np.int32)
    for month in WELL_CHILD_MONTHS:
        took = young[rng.random(len(young)) < WELL_CHILD_P]
        day = st.birth[took] + int(month * DAYS_PER_MONTH) + rng.integers(0, 10, len(took))
        inside = day <= st.win_end
        out[f"well_child_month_{month}"] = _visit(st, took[inside], day[inside],
                                                  ["99391"] if month < 12 else ["99392"], ["Z00129"], 11000)
    return out


def plant(st) -> dict:
    """Add the events; returns their counts."""
    own = np.random.default_rng(st.seed + SEED_OFFSET)
    saved, st.rng = st.rng, own  # the generator's helpers draw from st.rng: give them our stream
    try:
        return {"contraception": _contraception(st, own), "screening": _screening(st, own)}
    finally:
        st.rng = saved
