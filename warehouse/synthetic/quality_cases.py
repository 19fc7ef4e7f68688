"""Quality-measure codes of the synthetic state (issue 19): contraceptive care (CCW, CCP: public OPA codes, so the
demo computes them) and the screening, well-child and lab codes of the HEDIS measures that compute once the user
loads the licensed value sets (BCS, CCS, W30, SSD/APM). Rates are set near the FFY2021 Core Set state medians
(measures/reference/core_set_quartiles.csv).

The codes go onto claims the generator already made (a diagnosis in the fourth header slot, or the first line's
procedure code), chosen with this module's own seeded stream: no claim is added and no amount changes, so every
later draw of the generator, the amounts and the ACO cost calibration are exactly as without it. Called from
generator.generate after the everyday and pattern claims.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SEED_OFFSET = 1919
PROF = 2  # generator.PROF
DAYS_PER_MONTH = 30.4375

# CCW-AD medians: 25 % of women 15-44 provided a most/moderately effective method in a year, 4.7 % LARC. A method
# goes on one of the woman's visits of the year, so the chance is for a woman with a visit (about 70 % of them)
METHOD_GIVEN_A_VISIT = 0.38
METHOD_SHARES = (0.17, 0.59, 0.24)  # LARC, pill, injectable
# after a delivery (CCP-AD medians, 60-day rates 42 % MMEC, 12 % LARC; within 3 days 12 % / 2.3 %); a later method
# goes on a visit 4-90 days after delivery, which about a third of the mothers have
IMMEDIATE_LARC, IMMEDIATE_STERILIZATION = 0.025, 0.09
LATER_LARC, LATER_OTHER = 0.2, 0.55
WELL_CHILD_P = 0.8  # a young child's visit is a well-child visit


def _line_ones(st) -> pd.DataFrame:
    """Every claim's first line: block, row, claim key, person, start day, claim type, principal dx."""
    parts = []
    for bi, b in enumerate(st.med.blocks):
        rows = np.nonzero(b["line"] == 1)[0]
        parts.append(pd.DataFrame({"block": bi, "row": rows, "ckey": b["ckey"][rows], "person": b["person"][rows],
                                   "day": b["start"][rows], "ctype": b["ctype"][rows], "dx1": b["dx1"][rows]}))
    return pd.concat(parts, ignore_index=True)


def _recode(st, chosen: pd.DataFrame, dx: str | None = None, hcpcs: str | None = None) -> int:
    """Put dx in the fourth diagnosis slot of the chosen claims (every line: header fields repeat on the lines)
    and/or hcpcs on their first line."""
    for bi, g in chosen.groupby("block"):
        b = st.med.blocks[bi]
        if dx is not None:
            b["dx4"][np.isin(b["ckey"], g["ckey"].to_numpy())] = st.V.id(dx)
        if hcpcs is not None:
            b["hcpcs"][g["row"].to_numpy()] = st.V.id(hcpcs)
    return len(chosen)


def _one_per_person_year(st, rng, claims: pd.DataFrame, p: float) -> pd.DataFrame:
    """One random claim per person and year, each kept with probability p."""
    if claims.empty:
        return claims
    shuffled = claims.iloc[rng.permutation(len(claims))]
    first = shuffled.assign(year=st.year_idx(shuffled["day"].to_numpy())).drop_duplicates(["person", "year"])
    return first[rng.random(len(first)) < p]


def _split(rng, chosen: pd.DataFrame, shares) -> list[pd.DataFrame]:
    """The chosen claims cut at random into parts of the given shares."""
    u = rng.random(len(chosen))
    edges = np.cumsum((0,) + tuple(shares))
    return [chosen[(u >= lo) & (u < hi)] for lo, hi in zip(edges[:-1], edges[1:])]


def _contraception(st, rng, lines: pd.DataFrame) -> dict:
    prof = lines[lines.ctype == PROF]
    women = st.female & (st.age0 >= 13) & (st.age0 <= 44)
    visits = prof[women[prof.person.to_numpy()]]
    chosen = _one_per_person_year(st, rng, visits, METHOD_GIVEN_A_VISIT)
    larc, pill, shot = _split(rng, chosen, METHOD_SHARES)
    out = {"larc": _recode(st, larc, dx="Z30430"), "pill": _recode(st, pill, dx="Z3041"),
           "injectable": _recode(st, shot, dx="Z3042", hcpcs="J1050")}
    deliveries = lines[(lines.ctype != PROF) & (lines.dx1 == st.V.id("O80"))]
    adult = st.age_at(deliveries.person.to_numpy(), deliveries.day.to_numpy()) >= 21
    u = rng.random(len(deliveries))
    # sterilization at delivery is for adults (CCP-CH's 3-day median is half the adults')
    out["immediate_larc"] = _recode(st, deliveries[u < IMMEDIATE_LARC], dx="Z30430")
    out["sterilization"] = _recode(st, deliveries[adult & (u >= IMMEDIATE_LARC)
                                                  & (u < IMMEDIATE_LARC + IMMEDIATE_STERILIZATION)], dx="Z302")
    later = deliveries[u >= IMMEDIATE_LARC + IMMEDIATE_STERILIZATION][["person", "day"]]
    after = prof.merge(later.rename(columns={"day": "delivered"}), on="person")
    after = after[(after.day >= after.delivered + 4) & (after.day <= after.delivered + 90)]
    after = after.iloc[rng.permutation(len(after))].drop_duplicates(["person", "delivered"])
    larc, other = _split(rng, after, (LATER_LARC, LATER_OTHER))
    out["postpartum_larc"], out["postpartum_other"] = _recode(st, larc, dx="Z30430"), _recode(st, other, dx="Z3042")
    return out


def _screening(st, rng, lines: pd.DataFrame) -> dict:
    prof = lines[lines.ctype == PROF]
    out = {}
    for name, cohort, p, code in (
            ("mammography", st.female & (st.age0 >= 49) & (st.age0 <= 74), 0.30, "77067"),
            ("cervical_cytology", st.female & (st.age0 >= 21) & (st.age0 <= 64), 0.20, "88142"),
            ("hpv_test", st.female & (st.age0 >= 30) & (st.age0 <= 64), 0.08, "87624"),
            ("glucose_test_smi", st.smi, 0.80, "82947")):
        out[name] = _recode(st, _one_per_person_year(st, rng, prof[cohort[prof.person.to_numpy()]], p), hcpcs=code)
    months = (prof.day.to_numpy() - st.birth[prof.person.to_numpy()]) / DAYS_PER_MONTH
    young = prof[(months >= 0) & (months <= 30) & (rng.random(len(prof)) < WELL_CHILD_P)]
    infant = (young.day.to_numpy() - st.birth[young.person.to_numpy()]) / DAYS_PER_MONTH < 12
    out["well_child"] = (_recode(st, young[infant], dx="Z00129", hcpcs="99391")
                         + _recode(st, young[~infant], dx="Z00129", hcpcs="99392"))
    return out


def plant(st) -> dict:
    """Recode existing claims; returns how many of each."""
    rng = np.random.default_rng(st.seed + SEED_OFFSET)
    lines = _line_ones(st)
    return {"contraception": _contraception(st, rng, lines), "screening": _screening(st, rng, lines)}
