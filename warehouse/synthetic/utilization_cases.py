"""Planted utilization cases for the synthetic state (issue 17): providers whose panels over-use the ED by a
known amount, and a high-risk panel whose higher use is explained by its members' risk, not by practice style.

Called from generator.generate in two steps: `plant_panels` after the providers are built (it only reassigns
primary-care physicians, drawing nothing from the generator's random stream) and `plant_events` after the
everyday and pattern claims (it draws from its own seeded stream, so every other claim of the state is the same as
without the plant). The high-risk panel is drawn from the members of its PCP's own ACO entity (or the non-ACO
members), so nobody changes entity; the over-utilizers' extra ED claims are priced like any other and then go
through the ACO cost calibration like the rest.

  high_risk_panel  the members (of the PCP's entity group) with the highest generator risk (as many as an average panel) get one PCP
                   as their primary-care physician; their utilization follows their risk like everyone else's.
  over_utilizers   two other PCPs: every member of their panels gets extra ED visits at
                   `EXTRA_ED_PER_YEAR` per year of the window (on days they are enrolled), on top of the usual.
Not planted: under-utilizing providers (removing claims from the generator's stream would change every later
draw); the tests plant them in small warehouses (tests/utilization/scenario.py).
"""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C

EXTRA_ED_PER_YEAR = 1.0
SEED_OFFSET = 1717


def plant_panels(st) -> None:
    """Reassign the high-risk panel; remember the chosen providers on the state for plant_events."""
    rng = np.random.default_rng(st.seed + SEED_OFFSET)
    pcps = st.pool["pcp"]
    st.utilization_plant = {}
    if len(pcps) < 3:
        return
    chosen = rng.choice(pcps, size=3, replace=False)
    sick_pcp, over = int(chosen[0]), [int(x) for x in chosen[1:]]
    # the sickest members of the sick PCP's own ACO entity (or of the non-ACO members), so no member changes entity
    entity_ids = [e[0] for e in C.ACO_ENTITIES]
    entity = st.provider_table.column("icm_entity_id").to_pylist()[sick_pcp]
    group = entity_ids.index(entity) if entity in entity_ids else -1
    pool = np.nonzero(st.aco == group)[0]
    panel = max(1, st.N // len(pcps))
    sickest = pool[np.argsort(-st.risk[pool], kind="stable")[:panel]]
    st.pcp_of[sickest] = sick_pcp
    npi = st.provider_table.column("npi").to_pylist()
    st.utilization_plant = {"high_risk_panel": {"npi": npi[sick_pcp], "members": int(len(sickest)),
                                                "mean_generator_risk": round(float(st.risk[sickest].mean()), 3),
                                                "population_mean_risk": round(float(st.risk.mean()), 3)},
                            "over_utilizers": [{"npi": npi[i], "extra_ed_visits_per_member_year": EXTRA_ED_PER_YEAR}
                                               for i in over],
                            "_rng_state": rng.bit_generator.state, "_over_idx": over}


def plant_events(st) -> dict:
    """Add the over-utilizers' extra ED visits; returns what was planted (npis, members, effect sizes)."""
    planted = st.utilization_plant
    if not planted:
        return {}
    own = np.random.default_rng()
    own.bit_generator.state = planted.pop("_rng_state")
    over_idx = planted.pop("_over_idx")
    saved, st.rng = st.rng, own   # the generator's helpers draw from st.rng: give them our stream
    try:
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
