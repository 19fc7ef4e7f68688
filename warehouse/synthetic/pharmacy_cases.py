"""Planted DUR cases for the synthetic state: known persons whose fills must fire a DUR rule, and near misses that
must not (pharmacy/rules/dur_rules.yaml). Called once from generator.generate after the utilisation patterns.

Background rates come from the generator's own patterns (chronic opioid users 2.5-5 % of adults with a
benzodiazepine for a quarter of them, short acute opioid fills, antipsychotics for SMI). The planted persons are
chosen among members who have no other fill and are enrolled with Medicaid for the whole last year, so nothing
else they take can change the outcome. Only the generator's NDC products exist here: cases that need other drugs
(gabapentinoids, anticholinergics, interaction pairs, fentanyl, methadone) are covered by the tests' own small
warehouses instead. The planting draws from its own random stream, so the rest of the state is unchanged.

Foster care: about 2 % of the children whose Medicaid is fee-for-service in every enrolled month are placed in
foster care (`st.foster_care`); `eligibility_groups` gives their FFS eligibility rows the group `foster_care`
(which the SUPPORT Act foster-care antipsychotic review reads), and planted cases put an antipsychotic on a foster
child (fires), on a child not in foster care (fires the under-18 rule only) and on a foster youth of 18 (quiet).

MTM service record: `write_mtm_services` writes the program's enrollment, CMR and TMR records (the input of
`icm mtm --services`, pharmacy/mtm/services.py) for the demo: persons with >= 4 distinct drugs in the last year are
enrolled at 45 %, 70 % of enrollees get a CMR within 60 days, 30 % a TMR.

Returns the manifest: one dict per planted person with the rules that must fire (`fires`) and must not (`quiet`)
in the last year. Claims of a planted person can still be voided or dirtied by the generator's adjustment step
(about 2 %); a check of the manifest must skip persons whose planted fills are not all in the final-action table.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from warehouse.synthetic import codes as C

PRIME = 2147483647  # as generator._id_sql: the person id is 'MPI' + ((index + 1) * 16807) % PRIME
FFS_PAYER = 1  # generator.FFS: the state's fee-for-service Medicaid
FOSTER_SHARE = 0.02  # of FFS children; about 2-3 % of Medicaid children are in foster care [S: MACPAC]
MTM_MIN_DRUGS, MTM_ENROLL, MTM_CMR, MTM_TMR = 4, 0.45, 0.70, 0.30


def person_id(index: int) -> str:
    return "MPI" + str(((index + 1) * 16807) % PRIME).zfill(10)


def plant(st) -> list[dict]:
    saved, st.rng = st.rng, np.random.default_rng(st.seed + 1004)  # own stream: the state's draws stay the same
    try:
        return _plant(st)
    finally:
        st.rng = saved


def eligibility_groups(st, p, payer_code: int) -> np.ndarray:
    """Eligibility group names of persons p on their rows of one payer: foster care on the FFS rows of foster
    children, the generator's group otherwise."""
    groups = np.array(C.ELIG_GROUPS, dtype=object)[st.group[p]]
    foster = getattr(st, "foster_care", None)
    if foster is not None and payer_code == FFS_PAYER:
        groups = np.where(foster[p], "foster_care", groups)
    return groups


def _plant(st) -> list[dict]:
    year = st.first_year + st.years - 1
    y0 = int(np.datetime64(f"{year}-01-01", "D").astype(np.int64))
    months = slice(12 * (st.years - 1), 12 * st.years)
    has_rx = np.zeros(st.N, bool)
    for buf in st.rx:
        has_rx[buf["person"]] = True
    enrolled = (st.S[:, months] > 0).all(axis=1) & (st.death > st.win_end)  # Medicaid pays (medicare_share=0)
    free = ~has_rx & enrolled
    age_mid = (y0 + 180 - st.birth) / 365.25
    manifest: list[dict] = []
    used: set[int] = set()

    def take(mask, n=1):
        idx = [int(i) for i in np.nonzero(mask & free)[0] if int(i) not in used][:n]
        if len(idx) < n:
            return None
        used.update(idx)
        return idx if n > 1 else idx[0]

    adults = (age_mid >= 25) & (age_mid < 60)
    pcp, pharm = st.pool["pcp"], st.pool["pharm"]

    def fill(p, day, drug, ds=None, qty=None, prescriber=None, pharmacy=None):
        ds = C.NDC[drug][1] if ds is None else ds
        qty = C.NDC[drug][2] if qty is None else qty
        st.rx_add(np.array([p]), np.array([y0 + day]), drug, days_supply=ds, qty=qty, refills=0, medicare_share=0.0,
                  prescriber=np.array([pcp[0] if prescriber is None else prescriber]))
        if pharmacy is not None:
            st.rx[-1]["pharm"][:] = pharmacy

    def case(name, p, fires=(), quiet=()):
        manifest.append(dict(case=name, person_id=person_id(p), fires=list(fires), quiet=list(quiet)))

    # 90.0 vs 89.67 MME/day (hydrocodone 10 mg x 270 or 269 tablets / 30 days; quantities are whole tablets)
    p = take(adults)
    if p is not None:
        fill(p, 60, "hydrocodone_apap_10_325", 30, 270)
        case("mme_90", p, fires=["high_dose_90", "high_dose_50"])
    p = take(adults)
    if p is not None:
        fill(p, 60, "hydrocodone_apap_10_325", 30, 269)
        case("mme_89_67", p, fires=["high_dose_50"], quiet=["high_dose_90"])
    # 15 vs 14 days' supply in 30 days
    for name, ds, fires, quiet in (("long_term_15_days", 15, ["long_term_opioid"], []),
                                   ("long_term_14_days", 14, [], ["long_term_opioid"])):
        p = take(adults)
        if p is not None:
            fill(p, 100, "hydrocodone_apap_10_325", ds, 2 * ds)
            case(name, p, fires, quiet)
    # antipsychotic at 17 (birthday more than 30 days after the fill) vs at 18
    day = 150
    age_fill = (y0 + day - st.birth) / 365.25
    for name, lo, hi, fires, quiet in (("antipsychotic_age_17", 17.0, 17.9, ["antipsychotic_child"], []),
                                       ("antipsychotic_age_18", 18.1, 18.9, [], ["antipsychotic_child"])):
        p = take((age_fill >= lo) & (age_fill <= hi))
        if p is not None:
            fill(p, day, "risperidone", 30, 60)
            case(name, p, fires, quiet)
    # 4 vs 3 prescribers, 4 pharmacies, oxycodone 30 mg q6h = 180 MME/day
    for name, n_presc, fires, quiet in (("prescribers_4", 4, ["multiple_prescribers_pharmacies"], []),
                                        ("prescribers_3", 3, [], ["multiple_prescribers_pharmacies"])):
        p = take(adults)
        if p is not None and len(pcp) >= 4 and len(pharm) >= 4:
            for i in range(4):
                fill(p, 30 + 30 * i, "oxycodone_30", prescriber=pcp[min(i, n_presc - 1)], pharmacy=pharm[i])
            case(name, p, fires, quiet)
    # concurrent use, and the near miss that starts the day after the opioid's last day
    for name, second, offset, fires, quiet in (
            ("opioid_benzodiazepine", "alprazolam", 20, ["opioid_benzodiazepine"], []),
            ("opioid_benzodiazepine_next_day", "alprazolam", 30, [], ["opioid_benzodiazepine"]),
            ("opioid_antipsychotic", "risperidone", 10, ["opioid_antipsychotic"], []),
            ("buprenorphine_opioid", "buprenorphine", -10, ["buprenorphine_opioid"], [])):
        p = take(adults)
        if p is not None:
            fill(p, 200, "hydrocodone_apap_10_325", 30, 60)
            fill(p, 200 + offset, second)
            case(name, p, fires, quiet)
    # early refill after 19 of 30 days (63 %) vs 24 of 30 (80 %; threshold 75 %)
    for name, gap, fires, quiet in (("early_refill", 19, ["early_refill"], []),
                                    ("refill_on_time", 24, [], ["early_refill"])):
        p = take(adults)
        if p is not None:
            fill(p, 220, "hydrocodone_apap_10_325", 30, 60)
            fill(p, 220 + gap, "hydrocodone_apap_10_325", 30, 60)
            case(name, p, fires, quiet)
    # two benzodiazepines together for 30 days
    p = take(adults)
    if p is not None:
        fill(p, 250, "alprazolam")
        fill(p, 250, "lorazepam")
        case("benzodiazepine_duplication", p, ["therapeutic_duplication"], [])
    # three CNS-active drugs, each filled twice, 60 days together, at 66+
    p = take(age_mid >= 66)
    if p is not None:
        for drug in ("sertraline", "alprazolam", "hydrocodone_apap_10_325"):
            fill(p, 270, drug, 30, 30)
            fill(p, 300, drug, 30, 30)
        case("poly_cns_older_adult", p, ["poly_cns"], [])
    # foster care (SUPPORT Act 1902(oo)(1)(B)): FFS-only children, 2 % of them in foster care in the background;
    # never members of an ACO or health home entity, so the entities' eligibility cells (and settlements) keep theirs
    no_entity = (st.aco < 0) & (st.hh_entity < 0)
    ffs_only = (((st.S == 0) | (st.S == FFS_PAYER)).all(axis=1) & (st.S[:, months] == FFS_PAYER).all(axis=1)
                & no_entity)
    st.foster_care = ffs_only & (age_mid < 18) & (st.rng.random(st.N) < FOSTER_SHARE)
    day = 120
    age_fill = (y0 + day - st.birth) / 365.25
    for name, lo, hi, foster, fires, quiet in (
            ("foster_child_antipsychotic", 8.0, 16.5, True, ["antipsychotic_foster_child", "antipsychotic_child"], []),
            ("child_antipsychotic_not_in_foster_care", 8.0, 16.5, False, ["antipsychotic_child"],
             ["antipsychotic_foster_child"]),
            ("foster_youth_18_antipsychotic", 18.1, 18.9, True, [],
             ["antipsychotic_foster_child", "antipsychotic_child"])):
        p = take(ffs_only & (age_fill >= lo) & (age_fill <= hi))
        if p is not None:
            st.foster_care[p] = foster
            fill(p, day, "risperidone", 30, 60)
            fill(p, day + 30, "risperidone", 30, 60)
            case(name, p, fires, quiet)
    return manifest


def write_mtm_services(st, folder: Path) -> dict:
    """The demo's MTM service record (CSV for `icm mtm --services`) from the state's fills; returns counts."""
    rng = np.random.default_rng(st.seed + 1005)  # own stream: nothing else of the state changes
    year = st.first_year + st.years - 1
    y0 = int(np.datetime64(f"{year}-01-01", "D").astype(np.int64))
    pairs = np.unique(np.concatenate([np.stack([b["person"].astype(np.int64), b["ndc"].astype(np.int64)], axis=1)
                                      [(b["day"] >= y0) & (b["day"] < y0 + 365)] for b in st.rx] or
                                     [np.zeros((0, 2), np.int64)]), axis=0)
    persons, n_drugs = np.unique(pairs[:, 0], return_counts=True)
    months = slice(12 * (st.years - 1), 12 * st.years)
    enrolled_all_year = (st.S[persons, months] > 0).all(axis=1)
    targeted = persons[(n_drugs >= MTM_MIN_DRUGS) & enrolled_all_year]
    members = np.sort(targeted[rng.random(len(targeted)) < MTM_ENROLL])
    start = y0 + rng.integers(0, 181, len(members))
    cmr = rng.random(len(members)) < MTM_CMR
    tmr = rng.random(len(members)) < MTM_TMR
    day = lambda d: str(np.datetime64(int(d), "D"))  # noqa: E731
    rows = []
    for i, (p, s0) in enumerate(zip(members, start)):
        pid = person_id(int(p))
        rows.append((f"MTM-E{i:06d}", pid, "enrollment", day(s0), ""))
        if cmr[i]:
            rows.append((f"MTM-C{i:06d}", pid, "cmr", day(s0 + int(rng.integers(7, 60))), ""))
        if tmr[i]:
            rows.append((f"MTM-T{i:06d}", pid, "tmr", day(s0 + int(rng.integers(60, 150))), ""))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "mtm_services.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["record_id", "person_id", "record_type", "start_date", "end_date", "provider_npi"])
        w.writerows(r + ("",) for r in rows)
    return {"file": str(folder / "mtm_services.csv"), "enrolled": int(len(members)), "cmr": int(cmr.sum()),
            "tmr": int(tmr.sum()), "targeted": int(len(targeted))}
