"""Planted utilization cases for the synthetic state (issue 17): providers whose panels over-use the ED by a known
amount, providers whose panels get too little preventive care, and a high-risk panel whose higher use is explained
by conditions the CMS-HCC model sees, not by practice style.

Called from generator.generate in two steps: `plant_panels` after the providers are built (it only reassigns
primary-care physicians, drawing nothing from the generator's random stream) and `plant_events` after the
everyday and pattern claims (it draws from its own seeded stream, so every claim drawn before it is the same as
without the plant). Nobody changes entity; the planted claims are priced like any other and then go through the
ACO cost calibration like the rest.

  high_risk_panel   one non-ACO PCP (the largest pool) keeps its panel size, but its members move to the group's
                    other PCPs and the non-ACO members with the most HCC_VISIBLE conditions (diagnoses that map to a
                    payment HCC in both CMS-HCC V24 and V28 and that the generator writes on their claims), drawn at
                    random within a count, move to it. Their generator risk is high only through those conditions:
                    the latent part of the risk (the lognormal factor no diagnosis reveals) is the population's.
                    Their use follows their risk like everyone else's, so risk adjustment should clear them.
  over_utilizers    two other PCPs: every member of their panels gets extra ED visits at `EXTRA_ED_PER_YEAR` per year
                    of the window (on days they are enrolled), on top of the usual; no extra risk.
  under_utilizers   two other PCPs: their panels get preventive visits (well-child / periodic preventive medicine,
                    CPT 99391-99397) at `UNDER_PREVENTIVE_SHARE` of the rate every other panel gets; the panels are
                    drawn like any other (comparable populations).
Preventive visits are planted for everyone here (the everyday stream has office E&M visits only): per member-year
`PREVENTIVE_PER_YEAR` by age at the start of the window, billed by the member's PCP, dated on enrolled days.
"""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C

EXTRA_ED_PER_YEAR = 1.0
SEED_OFFSET = 1717
# conditions whose claims' diagnoses map to a payment HCC in V24 and V28 (codes.py: E119/E1165/E1122 -> 19/18 and
# 38/37; I509/I5020/I5030 -> 85 and 226; J44x -> 111 and 280; F20x/F250 -> 57 and 151)
HCC_VISIBLE = ("diabetes", "hf", "copd", "schizo")
# (minimum age at the start of the window, preventive visits per member-year); one rate for all children, so that
# the rate is flat inside the standardisation's age bands (0-17, 18-44, 45-64, 65+)
PREVENTIVE_PER_YEAR = ((0, 0.7), (18, 0.35), (65, 0.5))
UNDER_PREVENTIVE_SHARE = 0.2
# periodic preventive medicine codes by age at the visit (established patient): <1, 1-4, 5-11, 12-17, 18-39, 40-64, 65+
PREVENTIVE_CODES = ((0, "99391"), (1, "99392"), (5, "99393"), (12, "99394"), (18, "99395"), (40, "99396"),
                    (65, "99397"))
PREVENTIVE_BASE_CENTS = 14000


def plant_panels(st) -> None:
    """Reassign the high-risk panel; remember the chosen providers on the state for plant_events."""
    rng = np.random.default_rng(st.seed + SEED_OFFSET)
    pcps = st.pool["pcp"]
    st.utilization_plant = {}
    if len(pcps) < 5:
        return
    # the sick PCP is a non-ACO one when there is any: the non-ACO members are the largest pool to draw its panel
    # from without moving anyone between entities
    entities = st.provider_table.column("icm_entity_id").to_pylist()
    non_aco = [int(p) for p in pcps if entities[p] is None]
    sick_pcp = int(rng.choice(non_aco)) if non_aco else int(rng.choice(pcps))
    others = [int(x) for x in rng.choice([p for p in pcps if p != sick_pcp], size=4, replace=False)]
    over, under = others[:2], others[2:]
    entity_ids = [e[0] for e in C.ACO_ENTITIES]
    group = entity_ids.index(entities[sick_pcp]) if entities[sick_pcp] in entity_ids else -1
    # members who may have this PCP: its entity's (or the non-ACO members); with no non-ACO PCP at all (small
    # states) the non-ACO members have PCPs of any entity
    pool = np.nonzero((st.aco == group) | ((st.aco == -1) & (not non_aco)))[0]
    # the PCP keeps its panel size but its members become the sickest: its own members move to the other PCPs of
    # its entity, and the members of the pool with the most HCC-visible conditions (random within a count) to it
    own = np.nonzero(st.pcp_of == sick_pcp)[0]
    same_entity = np.array([p for p in pcps if entities[p] == entities[sick_pcp] and p != sick_pcp], dtype=pcps.dtype)
    if len(same_entity):
        st.pcp_of[own] = same_entity[rng.integers(0, len(same_entity), len(own))]
    panel = max(1, len(own))
    visible = sum(getattr(st, c)[pool].astype(int) for c in HCC_VISIBLE)
    order = np.lexsort((rng.random(len(pool)), -visible))
    sick = np.sort(pool[order[:panel]])
    st.pcp_of[sick] = sick_pcp
    npi = st.provider_table.column("npi").to_pylist()
    st.utilization_plant = {
        "high_risk_panel": {"npi": npi[sick_pcp], "members": int(len(sick)),
                            "selected_by": "most HCC-visible conditions: " + ", ".join(HCC_VISIBLE),
                            "mean_visible_conditions": round(float(visible[order[:panel]].mean()), 3),
                            "mean_generator_risk": round(float(st.risk[sick].mean()), 3),
                            "population_mean_risk": round(float(st.risk.mean()), 3)},
        "over_utilizers": [{"npi": npi[i], "extra_ed_visits_per_member_year": EXTRA_ED_PER_YEAR} for i in over],
        "under_utilizers": [{"npi": npi[i], "service": "preventive_visits",
                             "rate_relative_to_other_panels": UNDER_PREVENTIVE_SHARE} for i in under],
        "_rng_state": rng.bit_generator.state, "_over_idx": over, "_under_idx": under}


def plant_events(st) -> dict:
    """Add everyone's preventive visits (thinned for the under-utilizers) and the over-utilizers' extra ED visits;
    returns what was planted (npis, members, effect sizes)."""
    planted = st.utilization_plant
    if not planted:
        return {}
    own = np.random.default_rng()
    own.bit_generator.state = planted.pop("_rng_state")
    over_idx, under_idx = planted.pop("_over_idx"), planted.pop("_under_idx")
    saved, st.rng = st.rng, own   # the generator's helpers draw from st.rng: give them our stream
    try:
        _preventive_visits(st, under_idx, planted["under_utilizers"])
        for case, pcp in zip(planted["over_utilizers"], over_idx):
            members = np.nonzero(st.pcp_of == pcp)[0].astype(np.int32)
            p, day = st.events(members, EXTRA_ED_PER_YEAR)
            p, day, payer = st.keep_enrolled(p, day)
            st.ed_visit(p, day, payer, st.pick(["R109", "J069", "R51", "M545"], len(p)))
            case["members"] = int(len(members))
            case["extra_ed_visits"] = int(len(p))
    finally:
        st.rng = saved
    return planted


def _preventive_visits(st, under_idx: list[int], under_cases: list[dict]) -> None:
    rate = np.zeros(st.N)
    for min_age, per_year in PREVENTIVE_PER_YEAR:
        rate[st.age0 >= min_age] = per_year
    under = np.isin(st.pcp_of, under_idx)
    rate[under] *= UNDER_PREVENTIVE_SHARE
    p, day = st.events(np.arange(st.N, dtype=np.int32), rate)
    p, day, payer = st.keep_enrolled(p, day)
    age = st.age_at(p, day)
    code = np.full(len(p), st.V.id(PREVENTIVE_CODES[0][1]), np.int32)
    for min_age, cpt in PREVENTIVE_CODES[1:]:
        code[age >= min_age] = st.V.id(cpt)
    dx = np.where(age < 18, st.V.id("Z00129"), st.V.id("Z0000")).astype(np.int32)
    st.prof_simple(p, day, payer, st.pcp_of[p], code, dx, st.V.id("11"), np.full(len(p), PREVENTIVE_BASE_CENTS))
    for case, pcp in zip(under_cases, under_idx):
        case["members"] = int((st.pcp_of == pcp).sum())
