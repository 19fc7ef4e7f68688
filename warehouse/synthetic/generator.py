"""Deterministic synthetic multi-payer state: landing files for `make demo`, tests and benchmarks.

`generate(out_dir, members, seed, first_year, years)` writes

    reference/icm_program.csv, icm_entity.csv, provider.csv
    medicaid_ffs/  eligibility.csv, medical_claim.csv, pharmacy_claim.csv    (canonical layout)
    mco_a/         same, canonical (Aurora Health Plan encounters)
    mco_b/         members_<date>.txt, encounters_<date>.txt, rx_<date>.txt   (Bluestem's own layout,
                   pipe-delimited, MM/DD/YYYY, gender 1/2; see warehouse/layouts/bluestem_mco.yaml)
    medicare/      canonical (Medicare FFS for dual eligibles)
    commercial/    canonical (Acme, people churning between commercial coverage and Medicaid)

Everything is drawn with one `numpy.random.Generator(seed)` in a fixed order over whole arrays (no
per-member Python loops) and written with DuckDB `COPY ... TO` in insertion order, so the same
(members, seed, first_year, years) gives byte-identical files.

Conventions
-----------
* `person_id` ("MPI" + 10 digits) is the statewide master person index, the same for a person under every
  payer; `member_id` is payer-specific (MCD…, AUR…, BLS…, MBI…, ACM…).
* Enrollment spans never overlap within one payer. A span that is open at the start of the window starts
  before it (up to ~4 years earlier) so look-back continuous-enrollment rules can be met.
* `icm_program_id`/`icm_entity_id` on eligibility name the ACO (ACO-1) entity for attributed members; a
  health-home member who is not in the ACO carries the health-home entity in `icm_entity_id`.
  `health_home_program_id` is HH-SMI/HH-SUD/HH-CC. ACO entities differ in cost efficiency: after claims
  are priced, each ACO entity's paid amounts per member-month are calibrated, per payer x eligibility group x dual
  status, to equal the non-ACO PMPM of that cell (first-year PMPM x 1.035^year; the non-ACO population is
  calibrated to it too) in every year except the last, where they differ by the entity's
  `ACO_ENTITIES[*][3]` (codes.py): E01 -11 %, E02 -7 %, E05 -3.5 % (well below any benchmark), E03 -0.5 % and
  E04 +1 % (inside +-2 %), and the two-sided E06 +9 % (clearly above). Statewide unit-cost trend is 3.5 %/year.

Adjustments and voids (~2 % of claims; EXTRA columns of warehouse/canonical.py)
* An original has `claim_adjustment_type = original`, `adjustment_sequence = 0`, blank `original_claim_id`.
* A replacement is a full copy of the claim's lines under a NEW claim_id with `original_claim_id` = the
  original's claim_id, `claim_adjustment_type = replacement`, `adjustment_sequence` 1, 2, … (later versions
  have higher numbers), a changed paid_amount (never above allowed) and a later paid_date.
* A void is a full copy under a NEW claim_id, `claim_adjustment_type = void`, the next sequence number, and
  **amounts equal to the negative of the version it cancels** (paid, allowed, charge and cost sharing).
  Families: original→replacement, original→replacement→replacement, original→void, and
  original→void→replacement (the replacement after a void is the final action).
  Final action = the highest-sequence non-void version, unless the highest-sequence version is a void.

Dirty rows (~0.5 % of claim lines, a few eligibility rows; counted in the summary's `dirty`)
All dirty rows are EXTRA rows (copies of a clean line or span, altered one way), so clean data stays
complete and every dirty row is expected to be quarantined:
  bad_date (claim_start_date / dispensing_date / enrollment_start_date `2024-02-30`), end_before_start,
  bad_icd (`XYZ12` / `F3` in diagnosis_code_1), bad_hcpcs (`99X13` / `9921`), bad_ndc (9 digits),
  duplicate (same claim_id + claim_line_number as an existing line, byte-identical), no_enrollment (claim
  for a person never enrolled with that payer), negative_paid (negative paid on an original),
  blank_claim_id, blank_person_id (person_id and member_id both blank), death_before_birth (eligibility).
  Non-duplicate dirty claim lines are one-line claims with their own claim_id (prefix + "9…").
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from warehouse import canonical
from warehouse.synthetic import codes as C
from warehouse.synthetic.paid_lag import planted_paid_dates
from warehouse.synthetic.calibration import (CHRONIC_OPIOID_PRODUCT_P, FOLLOWUP_CATEGORY_P,
                                           PQI_ASTHMA_ADMISSIONS_PER_YEAR, SAA_ADHERENCE_BANDS, SAA_BAND_P)
from warehouse.synthetic import pharmacy_cases
from warehouse.synthetic import utilization_cases
from warehouse.synthetic import quality_cases

DEFAULT_FIRST_YEAR = 2023
DEFAULT_YEARS = 3
TREND = 1.035   # statewide Medicaid PMPM trend per year (calibrated exactly)

# payer codes
FFS, AUR, BLS, COM, MCR = 1, 2, 3, 4, 5
PAYERS = {
    FFS: dict(folder="medicaid_ffs", data_source="medicaid_ffs", payer="medicaid", plan="medicaid_ffs",
              payer_type="medicaid", mid_prefix="MCD", mid_mult=48271, claim_prefix="MF", price=1.00),
    AUR: dict(folder="mco_a", data_source="mco_aurora", payer="aurora_health_plan", plan="aurora_medicaid",
              payer_type="medicaid", mid_prefix="AUR", mid_mult=69621, claim_prefix="AU", price=1.08),
    BLS: dict(folder="mco_b", data_source="mco_bluestem", payer="bluestem", plan="bluestem_medicaid",
              payer_type="medicaid", mid_prefix="BLS", mid_mult=39373, claim_prefix="BL", price=1.03),
    COM: dict(folder="commercial", data_source="commercial_acme", payer="acme_health", plan="acme_ppo",
              payer_type="commercial", mid_prefix="ACM", mid_mult=40692, claim_prefix="AC", price=1.90),
    MCR: dict(folder="medicare", data_source="medicare_ffs", payer="medicare", plan="medicare_ffs",
              payer_type="medicare", mid_prefix="MBI", mid_mult=950706376, claim_prefix="MC", price=1.35),
}
PRIME = 2147483647
INST, PROF = 1, 2
ADJ_ORIGINAL, ADJ_REPLACEMENT, ADJ_VOID = 0, 1, 2
DIRTY_MEDICAL = ["bad_date", "end_before_start", "bad_icd", "bad_hcpcs", "duplicate", "no_enrollment",
                 "negative_paid", "blank_claim_id", "blank_person_id"]
DIRTY_PHARMACY = ["bad_date", "bad_ndc", "duplicate", "no_enrollment", "negative_paid", "blank_claim_id",
                  "blank_person_id"]
DIRTY_ELIGIBILITY = ["bad_date", "end_before_start", "death_before_birth"]
DIRTY_CODE = {k: i + 1 for i, k in enumerate(dict.fromkeys(DIRTY_MEDICAL + DIRTY_PHARMACY + DIRTY_ELIGIBILITY))}
EXTRACT_TAG = "extract"

NULL_DAY = int(np.iinfo(np.int32).min)   # a blank date (days since 1970 are negative before 1970)
MED_HDR = dict(person=-1, payer=0, ctype=0, start=NULL_DAY, end=NULL_DAY, admit=NULL_DAY, disch=NULL_DAY, adm_src=0, adm_type=0, disp=0,
               tob=0, drg=0, dx1=0, dx2=0, dx3=0, dx4=0, bill=-1, fac=-1)
MED_LINE = dict(line_start=NULL_DAY, line_end=NULL_DAY, rev=0, hcpcs=0, mod1=0, pos=0, units=1, rend=-1, base=0)
INT64_COLS = {"base"}


class _Vocab:
    """All code strings in one table; code columns hold int32 indexes (0 = blank)."""

    def __init__(self):
        self.items: list[str | None] = [None]
        self.index: dict[str, int] = {}

    def id(self, s: str) -> int:
        if s not in self.index:
            self.index[s] = len(self.items)
            self.items.append(s)
        return self.index[s]

    def ids(self, seq) -> np.ndarray:
        return np.array([self.id(s) for s in seq], dtype=np.int32)


class _MedicalBuffer:
    def __init__(self):
        self.blocks: list[dict[str, np.ndarray]] = []
        self.n_claims = 0

    def add(self, person, payer, start, end, ctype, lines: list[dict], **hdr):
        person = np.asarray(person, dtype=np.int32)
        n = len(person)
        if n == 0:
            return
        K = len(lines)
        mask = np.ones((n, K), dtype=bool)
        for k, ln in enumerate(lines):
            if "present" in ln and k > 0:
                mask[:, k] = ln["present"]
        ci, ki = np.nonzero(mask)
        lnum = np.cumsum(mask, axis=1)[ci, ki]
        out = {"ckey": (ci + self.n_claims).astype(np.int64), "line": lnum.astype(np.int16)}
        claim_vals = dict(hdr, person=person, payer=payer, start=start, end=end, ctype=ctype)
        for col, default in MED_HDR.items():
            v = claim_vals.get(col, default)
            out[col] = _col(v, n, col)[ci]
        for col, default in MED_LINE.items():
            mat = np.empty((n, K), dtype=np.int64 if col in INT64_COLS else np.int32)
            for k, ln in enumerate(lines):
                if col in ln:
                    v = ln[col]
                elif col == "line_start":
                    v = start
                elif col == "line_end":
                    v = end
                else:
                    v = default
                mat[:, k] = _col(v, n, col)
            out[col] = mat[ci, ki]
        self.blocks.append(out)
        self.n_claims += n

    def concat(self) -> dict[str, np.ndarray]:
        cols = self.blocks[0].keys()
        return {c: np.concatenate([b[c] for b in self.blocks]) for c in cols}


def _col(v, n, col):
    dtype = np.int64 if col in INT64_COLS else np.int32
    if np.isscalar(v):
        return np.full(n, v, dtype=dtype)
    return np.asarray(v).astype(dtype, copy=False)


class _State:
    """The whole synthetic state, built step by step from one random generator."""

    def __init__(self, members: int, seed: int, first_year: int, years: int):
        self.N, self.seed, self.first_year, self.years = members, seed, first_year, years
        self.rng = np.random.default_rng(seed)
        self.V = _Vocab()
        self.M = 12 * years
        m0 = np.datetime64(f"{first_year}-01", "M")
        months = m0 + np.arange(self.M + 1)
        days = months.astype("datetime64[D]").astype(np.int64)
        self.mstart = days[:-1].astype(np.int32)
        self.mlen = np.diff(days).astype(np.int32)
        self.win_start = int(days[0])
        self.win_end = int(days[-1]) - 1
        self.med = _MedicalBuffer()
        self.rx: list[dict[str, np.ndarray]] = []

    # ------------------------------------------------------------------ helpers
    def month_of(self, day):
        d = np.asarray(day).astype("datetime64[D]")
        return (d.astype("datetime64[M]").astype(np.int64) -
                np.datetime64(f"{self.first_year}-01", "M").astype(np.int64)).astype(np.int32)

    def year_idx(self, day):
        return np.clip(self.month_of(day) // 12, 0, self.years - 1)

    def age_at(self, p, day):
        return ((np.asarray(day) - self.birth[p]) / 365.25).astype(np.int32)

    def pick(self, options, n, p=None):
        ids = self.V.ids(options)
        if p is not None:
            p = np.asarray(p, float) / np.sum(p)
        return ids[self.rng.choice(len(ids), size=n, p=p)]

    def payer_at(self, p, day, medicare_share=0.85):
        """The payer that pays a service for person p on day (0 = not enrolled). Duals: Medicare first."""
        p = np.asarray(p)
        day = np.asarray(day)
        m = self.month_of(day)
        ok = (m >= 0) & (m < self.M) & (day <= self.death[p]) & (day >= self.birth[p])
        mc = np.clip(m, 0, self.M - 1)
        st = self.S[p, mc].astype(np.int8)
        mcare = self.MC[p, mc]
        use_m = mcare & ((st == 0) | (self.rng.random(len(p)) < medicare_share))
        payer = np.where(use_m, MCR, st).astype(np.int8)
        payer[~ok] = 0
        return payer

    def events(self, persons, rate_per_year):
        """Poisson events for persons at a yearly rate; returns (person, day) inside the window."""
        persons = np.asarray(persons, dtype=np.int32)
        rate = np.broadcast_to(np.asarray(rate_per_year, float), persons.shape)
        n = self.rng.poisson(rate * self.years)
        p = np.repeat(persons, n)
        day = self.rng.integers(self.win_start, self.win_end + 1, size=len(p)).astype(np.int32)
        return p, day

    def choose_prov(self, pool, n):
        return pool[self.rng.integers(0, len(pool), size=n)]

    # ------------------------------------------------------------------ population
    def build_persons(self):
        N, rng = self.N, self.rng
        g = rng.choice(len(C.ELIG_GROUPS), size=N, p=C.ELIG_GROUP_P)
        self.group = g.astype(np.int8)
        u = rng.random(N)
        age = np.select(
            [g == 0, g == 1, g == 2, g == 3, g == 4],
            [u * 19, 19 + rng.gamma(4, 3.5, N), 19 + u * 46, 65 + rng.gamma(2, 6, N), 19 + rng.beta(2, 1.6, N) * 56])
        age = np.clip(age, 0, 95.9)
        self.birth = (self.win_start - age * 365.25 - rng.integers(0, 365, N)).astype(np.int32)
        fem_p = np.where(g == 1, 0.85, np.where(g == 0, 0.49, 0.56))
        self.female = rng.random(N) < fem_p
        self.race = rng.choice(len(C.RACES), size=N, p=C.RACE_P).astype(np.int8)
        self.eth = rng.choice(len(C.ETHNICITIES), size=N, p=C.ETHNICITY_P).astype(np.int8)
        w = np.array([c[1] for c in C.COUNTIES], float)
        self.county = rng.choice(len(C.COUNTIES), size=N, p=w / w.sum()).astype(np.int8)
        death_rate = np.array([0.0005, 0.002, 0.004, 0.05, 0.02])[g]
        dies = rng.random(N) < 1 - (1 - death_rate) ** self.years
        dday = rng.integers(self.win_start + 30, self.win_end, N)
        self.death = np.where(dies, dday, 10 ** 7).astype(np.int32)
        self.risk = rng.lognormal(-0.3, 0.75, N)
        self.fill_day = rng.integers(0, 28, N).astype(np.int32)
        age_start = ((self.win_start - self.birth) / 365.25)
        self.age0 = age_start
        adult = age_start >= 18
        # conditions
        r = rng.random((N, 12))
        self.schizo = adult & (r[:, 0] < np.where(g == 4, 0.06, 0.008))
        self.bipolar = (age_start >= 12) & (r[:, 1] < np.where(g == 4, 0.05, 0.012)) & ~self.schizo
        self.depression = (age_start >= 12) & (r[:, 2] < np.where(adult, 0.10, 0.04))
        self.anxiety = (age_start >= 6) & (r[:, 3] < 0.07)
        self.smi = self.schizo | self.bipolar
        self.mh = self.smi | self.depression | self.anxiety
        self.sud = (age_start >= 13) & (r[:, 4] < np.where(adult, np.where(g == 2, 0.09, 0.05), 0.015))
        self.oud = self.sud & (r[:, 5] < 0.40)
        self.aud = self.sud & ~self.oud & (r[:, 5] < 0.75)
        old = age_start >= 45
        self.diabetes = adult & (r[:, 6] < np.where(g == 3, 0.22, np.where(old, 0.13, 0.04)))
        self.htn = adult & (r[:, 7] < np.where(g == 3, 0.55, np.where(old, 0.30, 0.08)))
        self.copd = (age_start >= 40) & (r[:, 8] < np.where(g >= 3, 0.12, 0.05))
        self.asthma = r[:, 9] < np.where(age_start < 18, 0.08, 0.06)
        self.hf = adult & (r[:, 10] < np.where(g == 3, 0.09, np.where(old, 0.025, 0.004)))
        self.chronic_opioid = adult & (r[:, 11] < np.where(g >= 3, 0.05, 0.025)) & ~self.oud
        self.risk *= 1 + 0.6 * (self.smi + self.sud + self.hf + self.copd) + 0.3 * (self.diabetes + self.htn)
        # duals, commercial churners
        u = rng.random(N)
        self.dual = (g == 3) | ((g == 4) & (u < 0.40))
        self.churner = np.isin(g, [0, 1, 2]) & (rng.random(N) < 0.15)
        # programs
        u = rng.random((N, 4))
        chronic_n = self.diabetes.astype(int) + self.htn + self.copd + self.hf + self.asthma
        self.hh = np.full(N, -1, np.int8)  # 0 SMI, 1 SUD, 2 CC
        self.hh[(chronic_n >= 2) & (u[:, 2] < 0.30)] = 2
        self.hh[self.sud & (u[:, 1] < 0.35)] = 1
        self.hh[self.smi & (u[:, 0] < 0.45)] = 0
        self.hh_entity = np.where(self.hh >= 0, self.hh * 2 + rng.integers(0, 2, N), -1).astype(np.int8)
        aco_w = np.array(C.ACO_WEIGHTS) / np.sum(C.ACO_WEIGHTS)
        in_aco = ~self.dual & (u[:, 3] < 0.32)
        self.aco = np.where(in_aco, rng.choice(len(aco_w), size=N, p=aco_w), -1).astype(np.int8)

    def build_enrollment(self):
        N, M, rng = self.N, self.M, self.rng
        S = np.zeros((N, M), dtype=np.int8)
        g = self.group
        plan_p = np.array([0.36, 0.34, 0.30])

        def draw_plan(n, ffs_bias):
            u = rng.random(n)
            pf = np.where(ffs_bias, 0.80, plan_p[0])
            rest = (1 - pf) / (plan_p[1] + plan_p[2])
            return np.where(u < pf, FFS, np.where(u < pf + rest * plan_p[1], AUR, BLS)).astype(np.int8)

        ffs_bias = (self.aco >= 0) | self.dual
        init = draw_plan(N, ffs_bias)
        u = rng.random(N)
        init = np.where(u < 0.12, 0, init)
        init = np.where(self.churner & (rng.random(N) < 0.35), COM, init).astype(np.int8)
        S[:, 0] = init
        p_dis = np.array([0.008, 0.014, 0.016, 0.003, 0.004])[g]
        for m in range(1, M):
            prev = S[:, m - 1]
            u = rng.random(N)
            new = prev.copy()
            mcd = (prev >= FFS) & (prev <= BLS)
            leave = mcd & (u < p_dis)
            new[leave] = 0
            to_com = leave & self.churner & (rng.random(N) < 0.6)
            new[to_com] = COM
            switch = mcd & (u >= p_dis) & (u < p_dis + 0.007)
            new[switch] = ((prev[switch] - 1 + rng.integers(1, 3, switch.sum())) % 3 + 1).astype(np.int8)
            com = prev == COM
            back = com & (u < 0.035)
            new[back] = draw_plan(back.sum(), ffs_bias[back])
            new[com & (u >= 0.035) & (u < 0.045)] = 0
            none = prev == 0
            join = none & (u < 0.07)
            new[join] = draw_plan(join.sum(), ffs_bias[join])
            new[none & self.churner & (u >= 0.07) & (u < 0.09)] = COM
            S[:, m] = new
        # everyone is enrolled somewhere at least once
        never = ~(S > 0).any(axis=1)
        S[never, :] = draw_plan(never.sum(), ffs_bias[never])[:, None]
        # born during the window: not enrolled before birth month; dead: not after death month
        month_idx = np.arange(M)[None, :]
        bm = self.month_of(np.maximum(self.birth, self.win_start))[:, None]
        dm = self.month_of(np.minimum(self.death, self.win_end))[:, None]
        alive = (month_idx >= bm) & (month_idx <= dm)
        S[~alive] = 0
        self.S = S
        self.MC = alive & self.dual[:, None]
        # dual / medicare codes
        aged = g == 3
        u = rng.random(N)
        self.dual_code = np.where(u < 0.70, "02", np.where(u < 0.85, "04", "08"))
        u = rng.random(N)
        self.mstatus = np.where(aged, np.where(u < 0.96, "10", "11"), np.where(u < 0.93, "20", np.where(u < 0.98, "21", "31")))
        self.orec = np.where(aged, "0", np.where(self.mstatus == "31", "2", "1"))
        self.pccm = rng.random(N) < 0.25

    def spans(self, mat: np.ndarray, code):
        """Runs of `mat == code` along months -> (person, start_day, end_day)."""
        B = mat == code if code is not True else mat
        prev = np.zeros_like(B)
        prev[:, 1:] = B[:, :-1]
        nxt = np.zeros_like(B)
        nxt[:, :-1] = B[:, 1:]
        sp, sm = np.nonzero(B & ~prev)
        ep, em = np.nonzero(B & ~nxt)
        assert np.array_equal(sp, ep)
        start = self.mstart[sm].astype(np.int64)
        early = sm == 0
        start[early] -= self.rng.integers(0, 1500, early.sum())
        start = np.maximum(start, self.birth[sp])
        end = (self.mstart[em] + self.mlen[em] - 1).astype(np.int64)
        end = np.minimum(end, self.death[sp])
        return sp.astype(np.int32), start.astype(np.int32), end.astype(np.int32)

    # ------------------------------------------------------------------ providers
    def build_providers(self):
        rng, N = self.rng, self.N
        n_pcp = max(60, N // 250)
        n_spec = max(30, N // 600)
        n_bh = max(40, N // 400)
        n_hosp = max(4, N // 40000)
        n_psych = max(2, N // 150000)
        n_snf = max(4, N // 15000)
        n_cmhc = max(3, N // 40000)
        n_lab = max(3, N // 60000)
        n_hospice = max(2, N // 100000)
        n_sudc = max(3, N // 50000)
        n_pharm = max(10, N // 3000)
        kinds = ([("pcp", n_pcp), ("specialist", n_spec), ("behavioral_health", n_bh)]
                 + [("facility:" + str(i), n) for i, n in enumerate([n_hosp, n_psych, n_snf, n_cmhc, n_lab, n_hospice, n_sudc])]
                 + [("pharmacy", n_pharm)])
        ptype, tax_i, sub = [], [], []
        for kind, n in kinds:
            base = kind.split(":")[0]
            ptype += [base] * n
            if base == "facility":
                tax_i += [int(kind.split(":")[1])] * n
            else:
                tax_i += list(rng.integers(0, len(C.TAXONOMY[base]), n))
            sub.append(n)
        P = len(ptype)
        self.P = P
        ptype = np.array(ptype)
        tax_i = np.array(tax_i)
        # NPIs: 9 digits starting with 1, Luhn check digit with the 80840 prefix (as CMS does)
        base9 = 100000000 + rng.choice(199999999, size=P, replace=False)
        digits = (base9[:, None] // 10 ** np.arange(8, -1, -1)) % 10
        dbl = digits[:, 8::-2] * 2   # from the right, every other digit starting with the rightmost
        total = 24 + (dbl // 10 + dbl % 10).sum(1) + digits[:, 7::-2].sum(1)
        check = (10 - total % 10) % 10
        npi = base9 * 10 + check
        self.npi = pa.array([None] + [str(x) for x in npi])  # index 0 = blank (provider idx -1 -> 0)
        # organisations: PCPs in practices of ~8 with their own TIN; 40 % of practices join an ACO entity
        n_prac = max(6, n_pcp // 8)
        prac = rng.integers(0, n_prac, P)
        prac_aco = np.where(rng.random(n_prac) < 0.45, rng.integers(0, len(C.ACO_ENTITIES), n_prac), -1)
        prac_aco[:len(C.ACO_ENTITIES)] = np.arange(len(C.ACO_ENTITIES))   # every entity has a practice
        is_pcp = ptype == "pcp"
        is_bh = ptype == "behavioral_health"
        entity = np.full(P, "", dtype=object)
        aco_of = np.where(is_pcp, prac_aco[prac], -1)
        # pediatric PCPs do not serve adults as first choice, but keep it simple: any PCP
        for e, (eid, *_rest) in enumerate(C.ACO_ENTITIES):
            entity[aco_of == e] = eid
        hh_of = np.where(is_bh | (ptype == "facility") & (tax_i == 3), rng.integers(-3, len(C.HH_ENTITIES), P), -1)
        hh_of[is_bh & (np.cumsum(is_bh) <= len(C.HH_ENTITIES))] = np.arange(len(C.HH_ENTITIES))[:min(len(C.HH_ENTITIES), is_bh.sum())]
        for e, (eid, *_r) in enumerate(C.HH_ENTITIES):
            entity[hh_of == e] = eid
        tin_base = 410000000 + rng.choice(9999999, size=n_prac + P, replace=False)
        tin = np.where(is_pcp, tin_base[prac], tin_base[n_prac + np.arange(P)])
        county = rng.integers(0, len(C.COUNTIES), P)
        tax = []
        spec = []
        mhp = []
        for t, i in zip(ptype, tax_i):
            code, sp, mh = C.TAXONOMY[t][i]
            tax.append(code)
            spec.append(sp)
            mhp.append(mh)
        fac_names = ["General Hospital", "Behavioral Hospital", "Care Center", "Community Mental Health Center",
                     "Laboratories", "Hospice", "Recovery Clinic"]
        town = ["Minneapolis", "Saint Paul", "Eagan", "Anoka", "Stillwater", "Shakopee", "Chaska", "Duluth", "Rochester",
                "St. Cloud", "Buffalo", "Elk River", "Moorhead", "Mankato", "Faribault", "Red Wing", "Brainerd",
                "Bemidji", "Fergus Falls", "Winona"]
        org = []
        hh_names = {e[0]: e[2] for e in C.HH_ENTITIES}
        for k, (t, i) in enumerate(zip(ptype, tax_i)):
            tw = town[county[k]]
            if t == "pcp":
                org.append(f"{town[prac[k] % len(town)]} Family Clinic {prac[k]}")
            elif t == "specialist":
                org.append(f"{tw} Specialty Physicians")
            elif t == "behavioral_health":
                org.append(hh_names.get(entity[k], f"{tw} Counseling"))
            elif t == "facility":
                org.append(f"{tw} {fac_names[i]}")
            else:
                org.append(f"{tw} Pharmacy #{k}")
        self.prov_tin = pa.array([None] + [str(x) for x in tin])
        self.provider_table = pa.table({
            "npi": pa.array([str(x) for x in npi]), "taxonomy_code": pa.array(tax), "specialty": pa.array(spec),
            "provider_type": pa.array(list(ptype)), "is_mental_health_provider": pa.array(mhp),
            "tin": pa.array([str(x) for x in tin]), "organization_name": pa.array(org),
            "icm_entity_id": pa.array([e or None for e in entity]),
            "county_fips": pa.array([C.COUNTIES[c][0] for c in county]),
        })
        idx = np.arange(P)
        self.pool = {
            "pcp": idx[is_pcp], "spec": idx[ptype == "specialist"], "bh": idx[is_bh],
            "hosp": idx[(ptype == "facility") & (tax_i == 0)], "psych": idx[(ptype == "facility") & (tax_i == 1)],
            "snf": idx[(ptype == "facility") & (tax_i == 2)], "cmhc": idx[(ptype == "facility") & (tax_i == 3)],
            "lab": idx[(ptype == "facility") & (tax_i == 4)], "hospice": idx[(ptype == "facility") & (tax_i == 5)],
            "sudc": idx[(ptype == "facility") & (tax_i == 6)], "pharm": idx[ptype == "pharmacy"],
        }
        spec_tax = np.array([C.TAXONOMY["specialist"][i][0] for i in range(len(C.TAXONOMY["specialist"]))])
        self.pool["gi"] = idx[(ptype == "specialist") & (tax_i == list(spec_tax).index("207RG0100X"))]
        if len(self.pool["gi"]) == 0:
            self.pool["gi"] = self.pool["spec"]
        self.pool["ed_doc"] = idx[(ptype == "specialist") & (tax_i == list(spec_tax).index("207P00000X"))]
        if len(self.pool["ed_doc"]) == 0:
            self.pool["ed_doc"] = self.pool["spec"]
        self.pool["counselor"] = idx[is_bh & (tax_i == 3)]
        if len(self.pool["counselor"]) == 0:
            self.pool["counselor"] = self.pool["bh"]
        # person assignments: PCP (ACO members: a PCP of their entity), BH provider, hospital, pharmacy
        pcp = self.pool["pcp"]
        self.pcp_of = self.choose_prov(pcp, N)
        for e in range(len(C.ACO_ENTITIES)):
            sel = self.aco == e
            epool = idx[aco_of == e]
            self.pcp_of[sel] = self.choose_prov(epool, sel.sum())
        nonaco_pool = idx[is_pcp & (aco_of < 0)]
        sel = self.aco < 0
        if len(nonaco_pool):
            self.pcp_of[sel] = self.choose_prov(nonaco_pool, sel.sum())
        self.bh_of = self.choose_prov(self.pool["bh"], N)
        for e in range(len(C.HH_ENTITIES)):
            sel = self.hh_entity == e
            epool = idx[is_bh & (hh_of == e)]
            if len(epool):
                self.bh_of[sel] = self.choose_prov(epool, sel.sum())
        self.hosp_of = self.choose_prov(self.pool["hosp"], N)
        self.pharm_of = self.choose_prov(self.pool["pharm"], N)

    # ------------------------------------------------------------------ claims: building blocks
    def dx_for(self, p):
        """A plausible principal dx for an office visit of person p (chronic condition or general)."""
        n = len(p)
        V = self.V
        gen = self.pick(C.DX_GENERAL, n)
        kid = self.pick(C.DX_CHILD, n)
        dx = np.where(self.age0[p] < 18, kid, gen)
        u = self.rng.random(n)
        opts = [(self.htn, C.DX_HTN), (self.diabetes, C.DX_DIABETES), (self.copd, C.DX_COPD),
                (self.asthma, C.DX_ASTHMA), (self.hf, ["I509", "I5020", "I5030"]), (self.depression, C.DX_DEPRESSION),
                (self.anxiety, ["F411"])]
        for flag, codes in opts:
            take = flag[p] & (u < 0.45)
            dx = np.where(take, self.pick(codes, n), dx)
            u = np.where(take, 1.0, self.rng.random(n))
        del V
        return dx

    def office_visits(self, p, day, payer, rend=None, dx1=None, em=None, pos=None, extra_lines=True):
        n = len(p)
        rng = self.rng
        if rend is None:
            rend = np.where(rng.random(n) < 0.8, self.pcp_of[p], self.choose_prov(self.pool["pcp"], n))
        if dx1 is None:
            dx1 = self.dx_for(p)
        if em is None:
            em = self.pick(C.EM_OFFICE, n, C.EM_OFFICE_P)
        if pos is None:
            pos = np.where(rng.random(n) < 0.06, self.V.id("02"), self.V.id("11"))
        em_cost = {"99211": 2500, "99212": 4500, "99213": 7500, "99214": 11000, "99215": 15000,
                   "99203": 11000, "99204": 17000}
        base = np.zeros(n, np.int64)
        for k, c in em_cost.items():
            base[em == self.V.id(k)] = c
        base[base == 0] = 9000
        lines = [dict(hcpcs=em, pos=pos, rend=rend, base=base)]
        if extra_lines:
            htn = self.htn[p] & (rng.random(n) < 0.55)
            sbp = self.pick(C.BP_SYSTOLIC, n, [0.35, 0.30, 0.35])
            dbp = self.pick(C.BP_DIASTOLIC, n, [0.5, 0.3, 0.2])
            adult = self.age_at(p, day) >= 12
            scr = adult & (rng.random(n) < 0.12)
            scode = self.pick(C.DEPRESSION_SCREEN, n, [0.25, 0.75])
            veni = rng.random(n) < 0.15
            lines += [dict(hcpcs=sbp, pos=pos, rend=rend, base=0, present=htn),
                      dict(hcpcs=dbp, pos=pos, rend=rend, base=0, present=htn),
                      dict(hcpcs=scode, pos=pos, rend=rend, base=0, present=scr),
                      dict(hcpcs=self.V.id("36415"), pos=pos, rend=rend, base=300, present=veni)]
            dx2 = np.where(htn & (dx1 != self.V.id("I10")), self.V.id("I10"), 0)
        else:
            dx2 = 0
        self.med.add(p, payer, day, day, PROF, lines, dx1=dx1, dx2=dx2, bill=rend)

    def prof_simple(self, p, day, payer, rend, hcpcs, dx1, pos, base, units=1, dx2=0, mod1=0):
        self.med.add(p, payer, day, day, PROF, [dict(hcpcs=hcpcs, pos=pos, rend=rend, base=base, units=units, mod1=mod1)],
                     dx1=dx1, dx2=dx2, bill=rend)

    def ed_visit(self, p, day, payer, dx1, dx2=0):
        n = len(p)
        V = self.V
        em = self.pick(C.ED_EM, n, C.ED_EM_P)
        lvl = np.searchsorted(self.V.ids(C.ED_EM), em)  # ids are consecutive-ish; fine for cost scaling
        lvl = np.clip(lvl, 0, 4)
        fac = self.hosp_of[p]
        lab = self.rng.random(n) < 0.5
        self.med.add(p, payer, day, day, INST, [
            dict(rev=V.id("0450"), hcpcs=em, base=40000 + 20000 * lvl, rend=fac),
            dict(rev=V.id("0300"), hcpcs=V.id("80053"), base=8000, rend=fac, present=lab)],
            tob=V.id(C.TOB_OUTPATIENT), dx1=dx1, dx2=dx2, bill=fac, fac=fac)
        doc = self.choose_prov(self.pool["ed_doc"], n)
        self.med.add(p, payer, day, day, PROF, [dict(hcpcs=em, pos=V.id("23"), rend=doc, base=6000 + 5000 * lvl)],
                     dx1=dx1, dx2=dx2, bill=doc)

    def inpatient(self, p, admit, los, payer, dx1, drg, room_rev, per_diem, disp=None, dx2=0, fac=None,
                  adm_type=None, adm_src=None, ed=False):
        n = len(p)
        V = self.V
        disch = (admit + los).astype(np.int32)
        if fac is None:
            fac = self.hosp_of[p]
        if disp is None:
            disp = np.full(n, V.id("01"), np.int32)
        if adm_type is None:
            adm_type = np.where(ed, V.id("1"), self.pick(["1", "2", "3"], n, [0.6, 0.2, 0.2]))
        if adm_src is None:
            adm_src = np.full(n, V.id("1"), np.int32)
        days = np.maximum(los, 1)
        lines = [dict(rev=room_rev, units=days, base=per_diem * days),
                 dict(rev=V.id("0250"), base=30000 + 8000 * days),
                 dict(rev=V.id("0300"), base=20000 + 3000 * days),
                 dict(rev=V.id("0450"), hcpcs=V.id("99285"), base=90000, present=np.full(n, ed))]
        self.med.add(p, payer, admit, disch, INST, lines, admit=admit, disch=disch, disp=disp, drg=drg, dx1=dx1, dx2=dx2,
                     tob=V.id(C.TOB_INPATIENT), bill=fac, fac=fac, adm_type=adm_type, adm_src=adm_src)
        return disch

    def rx_add(self, p, day, drug_names, days_supply=None, qty=None, refills=None, medicare_share=0.10, prescriber=None):
        p = np.asarray(p, np.int32)
        day = np.asarray(day, np.int32)
        n = len(p)
        if n == 0:
            return
        names = np.asarray(drug_names)
        if names.ndim == 0:
            names = np.full(n, names.item())
        uniq, inv = np.unique(names, return_inverse=True)
        ndc = self.V.ids([C.NDC[u][0] for u in uniq])[inv]
        ds = np.array([C.NDC[u][1] for u in uniq])[inv] if days_supply is None else np.broadcast_to(days_supply, (n,))
        q = np.array([C.NDC[u][2] for u in uniq])[inv] if qty is None else np.broadcast_to(qty, (n,))
        price = np.array([C.NDC[u][3] for u in uniq])[inv] * ds // 30
        payer = self.payer_at(p, day, medicare_share)
        keep = payer > 0
        if prescriber is None:
            prescriber = np.where(self.rng.random(n) < 0.8, self.pcp_of[p], self.choose_prov(self.pool["pcp"], n))
        prescriber = np.broadcast_to(prescriber, (n,))
        refills = np.broadcast_to(self.rng.integers(0, 6, n) if refills is None else refills, (n,))
        self.rx.append(dict(person=p[keep], payer=payer[keep], day=day[keep], ndc=ndc[keep].astype(np.int32),
                            days=np.asarray(ds)[keep].astype(np.int32), qty=np.asarray(q)[keep].astype(np.int32),
                            refills=np.asarray(refills)[keep].astype(np.int32),
                            presc=np.asarray(prescriber)[keep].astype(np.int32),
                            pharm=self.pharm_of[p[keep]].astype(np.int32), base=price[keep].astype(np.int64)))

    def keep_enrolled(self, p, day, medicare_share=0.85, *others):
        payer = self.payer_at(p, day, medicare_share)
        k = payer > 0
        return (p[k], day[k], payer[k]) + tuple(np.asarray(o)[k] for o in others)

    # ------------------------------------------------------------------ claims: everyday utilisation
    def everyday(self):
        rng, V = self.rng, self.V
        enrolled = (self.S > 0) | self.MC
        pp, mm = np.nonzero(enrolled)
        base_rate = np.array([0.24, 0.38, 0.36, 0.62, 0.58])[self.group[pp]]
        lam = base_rate * np.minimum(self.risk[pp], 6.0)
        n = rng.poisson(lam)
        p = np.repeat(pp, n).astype(np.int32)
        m = np.repeat(mm, n)
        day = (self.mstart[m] + (rng.random(len(p)) * self.mlen[m]).astype(np.int32)).astype(np.int32)
        del pp, mm, m, lam, base_rate
        p, day, payer = self.keep_enrolled(p, day)
        cat = rng.choice(7, size=len(p), p=[0.56, 0.10, 0.14, 0.07, 0.05, 0.06, 0.02])
        cat = np.where((cat == 5) & ~self.mh[p], 0, cat)
        # 0 office
        s = cat == 0
        self.office_visits(p[s], day[s], payer[s])
        # 1 specialist
        s = cat == 1
        k = s.sum()
        rend = self.choose_prov(self.pool["spec"], k)
        self.prof_simple(p[s], day[s], payer[s], rend, self.pick(["99203", "99204", "99213", "99214"], k), self.dx_for(p[s]),
                         V.id("11"), rng.integers(9000, 20000, k))
        # 2 lab
        s = cat == 2
        k = s.sum()
        lab = self.choose_prov(self.pool["lab"], k)
        codes = [self.pick(C.LABS[:-1], k) for _ in range(3)]
        self.med.add(p[s], payer[s], day[s], day[s], PROF, [
            dict(hcpcs=codes[0], pos=V.id("81"), rend=lab, base=rng.integers(1200, 4000, k)),
            dict(hcpcs=codes[1], pos=V.id("81"), rend=lab, base=rng.integers(1200, 4000, k), present=rng.random(k) < 0.5),
            dict(hcpcs=codes[2], pos=V.id("81"), rend=lab, base=rng.integers(1200, 4000, k), present=rng.random(k) < 0.25)],
            dx1=self.dx_for(p[s]), bill=lab)
        # 3 outpatient hospital
        s = cat == 3
        k = s.sum()
        fac = self.hosp_of[p[s]]
        self.med.add(p[s], payer[s], day[s], day[s], INST, [
            dict(rev=V.id("0320"), hcpcs=self.pick(C.IMAGING, k), base=rng.integers(15000, 60000, k), rend=fac),
            dict(rev=V.id("0300"), hcpcs=self.pick(C.LABS[:-1], k), base=rng.integers(2000, 6000, k), rend=fac,
                 present=rng.random(k) < 0.4)],
            tob=V.id(C.TOB_OUTPATIENT), dx1=self.dx_for(p[s]), bill=fac, fac=fac)
        # 4 ED (medical)
        s = cat == 4
        k = s.sum()
        self.ed_visit(p[s], day[s], payer[s], self.pick(["R109", "J069", "S61411A", "R0789", "S93401A", "N390", "R51"], k))
        # 5 behavioral outpatient
        s = cat == 5
        k = s.sum()
        dx = self.mh_dx(p[s])
        self.prof_simple(p[s], day[s], payer[s], self.bh_of[p[s]], self.pick(C.BH_VISIT, k, C.BH_VISIT_P), dx,
                         self.pick(["11", "53", "02"], k, [0.6, 0.25, 0.15]), rng.integers(8000, 15000, k))
        # 6 DME
        s = cat == 6
        k = s.sum()
        rend = self.choose_prov(self.pool["spec"], k)
        self.prof_simple(p[s], day[s], payer[s], rend, self.pick(C.DME, k), self.dx_for(p[s]), V.id("12"),
                         rng.integers(5000, 30000, k))
        # medical admissions (+ all-cause readmissions)
        enrolled_p = np.nonzero(enrolled.any(axis=1))[0]
        rate = np.array([0.01, 0.03, 0.04, 0.12, 0.12])[self.group[enrolled_p]] * np.minimum(self.risk[enrolled_p], 4)
        p, day = self.events(enrolled_p, rate)
        self.medical_admissions(p, day)
        # acute pharmacy fills
        pp, mm = np.nonzero(enrolled)
        n = rng.poisson(0.16 * np.minimum(self.risk[pp], 3))
        p = np.repeat(pp, n).astype(np.int32)
        m = np.repeat(mm, n)
        day = (self.mstart[m] + (rng.random(len(p)) * self.mlen[m]).astype(np.int32)).astype(np.int32)
        self.rx_add(p, day, np.array(C.FILLER_DRUGS)[rng.integers(0, len(C.FILLER_DRUGS), len(p))])

    def mh_dx(self, p):
        n = len(p)
        dx = self.pick(C.DX_DEPRESSION, n)
        dx = np.where(self.anxiety[p], self.pick(C.DX_MH_OTHER, n), dx)
        dx = np.where(self.depression[p], self.pick(C.DX_DEPRESSION, n), dx)
        dx = np.where(self.bipolar[p], self.pick(C.DX_BIPOLAR, n), dx)
        dx = np.where(self.schizo[p], self.pick(C.DX_SCHIZO, n), dx)
        return dx

    def sud_dx(self, p):
        n = len(p)
        dx = self.pick(C.DX_SUD_OTHER, n)
        dx = np.where(self.aud[p], self.pick(C.DX_SUD_ALCOHOL, n), dx)
        dx = np.where(self.oud[p], self.pick(C.DX_SUD_OPIOID, n, [0.2, 0.7, 0.1]), dx)
        return dx

    def medical_admissions(self, p, day, dx1=None, drg=None, readmit_p=0.13, depth=0):
        rng, V = self.rng, self.V
        p, day, payer = self.keep_enrolled(p, day)
        n = len(p)
        if n == 0:
            return
        if dx1 is None:
            i = rng.integers(0, len(C.DX_MEDICAL_ADMIT), n)
            dx1 = V.ids(C.DX_MEDICAL_ADMIT)[i]
            drg = V.ids(C.DRG_MEDICAL)[i]
        los = np.minimum(rng.geometric(0.28, n), 30).astype(np.int32)
        disp = self.pick(["01", "06", "03", "62"], n, [0.78, 0.12, 0.07, 0.03])
        disch = self.inpatient(p, day, los, payer, dx1, drg, self.pick(C.REV_MED_ROOM, n), 180000, disp=disp,
                               ed=rng.random(n) < 0.6)
        if depth < 2:
            r = rng.random(n) < readmit_p
            self.medical_admissions(p[r], disch[r] + rng.integers(1, 31, r.sum()).astype(np.int32), readmit_p=readmit_p,
                                    depth=depth + 1)

    # ------------------------------------------------------------------ clinical patterns
    def followups(self, p, anchor, kind):
        """Follow-up visits after an anchor date (MH discharge/ED visit or SUD ED visit), some at the edges."""
        rng, V = self.rng, self.V
        n = len(p)
        cat = rng.choice(7, size=n, p=FOLLOWUP_CATEGORY_P[kind])
        off = np.select([cat == 1, cat == 2, cat == 3, cat == 4, cat == 5, cat == 6],
                        [0, rng.integers(1, 7, n), 7, 8, rng.integers(9, 31, n), rng.integers(31, 41, n)], -1)
        s = off >= 0
        p, day = p[s], (anchor[s] + off[s]).astype(np.int32)
        p, day, payer = self.keep_enrolled(p, day)
        k = len(p)
        if kind == "mh":
            non_mh_provider = rng.random(k) < 0.08
            rend = np.where(non_mh_provider, self.pcp_of[p], self.bh_of[p])
            hc = np.where(non_mh_provider, V.id("99213"), self.pick(C.BH_VISIT, k, C.BH_VISIT_P))
            self.prof_simple(p, day, payer, rend, hc, self.mh_dx(p), self.pick(["11", "53", "02"], k, [0.6, 0.3, 0.1]),
                             rng.integers(8000, 15000, k))
        else:
            bup = self.oud[p] & (rng.random(k) < 0.3)
            self.rx_add(p[bup], day[bup], "buprenorphine_naloxone", prescriber=self.bh_of[p[bup]])
            v = ~bup
            rend = np.where(rng.random(v.sum()) < 0.5, self.choose_prov(self.pool["counselor"], v.sum()), self.bh_of[p[v]])
            self.prof_simple(p[v], day[v], payer[v], rend, self.pick(["H0004", "H0005", "H0001", "99213"], v.sum()),
                             self.sud_dx(p[v]), self.pick(["11", "57", "02"], v.sum(), [0.6, 0.3, 0.1]),
                             rng.integers(6000, 15000, v.sum()))

    def mh_stays(self, p, admit, ed=False, depth=0):
        rng, V = self.rng, self.V
        p, admit, payer = self.keep_enrolled(p, admit, 0.85)
        n = len(p)
        if n == 0:
            return
        los = rng.integers(2, 21, n).astype(np.int32)
        transfer = rng.random(n) < 0.06
        disp = np.where(transfer, V.id("02"), self.pick(["01", "01", "06", "65"], n))
        dx = self.mh_dx(p)
        selfharm = rng.random(n) < 0.08
        dx = np.where(selfharm, self.pick(C.DX_SELF_HARM, n), dx)
        fac = np.where(rng.random(n) < 0.4, self.choose_prov(self.pool["psych"], n), self.hosp_of[p])
        disch = self.inpatient(p, admit, los, payer, dx, V.id(C.DRG_MH), self.pick(C.REV_MH_ROOM, n), 110000,
                               disp=disp, fac=fac, ed=ed)
        # acute-to-acute transfers: second stay starts on the discharge day at a psychiatric hospital
        t = transfer
        if t.any():
            pt, at = p[t], disch[t]
            at_keep = self.payer_at(pt, at, 0.85)
            ok = at_keep > 0
            pt, at, pay_t = pt[ok], at[ok], at_keep[ok]
            los2 = rng.integers(3, 11, len(pt)).astype(np.int32)
            d2 = self.inpatient(pt, at, los2, pay_t, dx[t][ok], V.id(C.DRG_MH), V.id("0114"), 110000,
                                fac=self.choose_prov(self.pool["psych"], len(pt)), adm_src=np.full(len(pt), V.id("4")))
            final_p = np.concatenate([p[~t], pt])
            final_d = np.concatenate([disch[~t], d2])
        else:
            final_p, final_d = p, disch
        self.followups(final_p, final_d, "mh")
        if depth < 1:
            r = rng.random(len(final_p)) < 0.12
            self.mh_stays(final_p[r], final_d[r] + rng.integers(2, 31, r.sum()).astype(np.int32), depth=depth + 1)

    def patterns(self):
        rng, V = self.rng, self.V
        age6 = self.age0 >= 6
        # mental-health inpatient stays
        cohort = np.nonzero(self.mh & age6)[0]
        rate = np.where(self.smi[cohort], 0.22, 0.035)
        p, d = self.events(cohort, rate)
        self.mh_stays(p, d)
        # ED visits with principal MH dx
        rate = np.where(self.smi[cohort], 0.45, 0.12)
        p, d = self.events(cohort, rate)
        p, d, payer = self.keep_enrolled(p, d)
        dx = np.where(rng.random(len(p)) < 0.07, self.pick(C.DX_SELF_HARM, len(p)), self.mh_dx(p))
        self.ed_visit(p, d, payer, dx)
        adm = rng.random(len(p)) < 0.12
        self.mh_stays(p[adm], d[adm] + (rng.random(adm.sum()) < 0.3), ed=True)
        nadm = ~adm
        self.followups(p[nadm], d[nadm], "mh")
        # ED visits for SUD / overdose
        cohort = np.nonzero(self.sud & (self.age0 >= 13))[0]
        p, d = self.events(cohort, np.where(self.oud[cohort], 0.45, 0.25))
        p, d, payer = self.keep_enrolled(p, d)
        k = len(p)
        od = rng.random(k) < 0.3
        sdx = self.sud_dx(p)
        self.ed_visit(p, d, payer, np.where(od, self.pick(C.DX_OVERDOSE, k), sdx), np.where(od, sdx, 0))
        adm = rng.random(k) < 0.10
        self.medical_admissions(p[adm], d[adm], dx1=sdx[adm], drg=np.full(adm.sum(), V.id("897")), readmit_p=0.1)
        self.followups(p[~adm], d[~adm], "sud")
        # IET: new SUD episodes with initiation (<=14 days) and engagement (>=2 within 34 days after)
        p, d = self.events(cohort, 0.3)
        p, d, payer = self.keep_enrolled(p, d)
        k = len(p)
        sdx = self.sud_dx(p)
        self.prof_simple(p, d, payer, self.pcp_of[p], self.pick(["99213", "99214"], k), sdx, V.id("11"),
                         rng.integers(7500, 11000, k))
        init = rng.random(k) < 0.55
        late = ~init & (rng.random(k) < 0.15)
        ioff = np.where(init, rng.integers(0, 15, k), rng.integers(15, 25, k))
        s = init | late
        ip, iday, ipay, idx = self.keep_enrolled(p[s], d[s] + ioff[s].astype(np.int32), 0.5, sdx[s])
        self.prof_simple(ip, iday, ipay, self.bh_of[ip], self.pick(C.SUD_INIT, len(ip)), idx, self.pick(["11", "57"], len(ip)),
                         rng.integers(6000, 15000, len(ip)))
        eng = rng.random(len(ip)) < 0.5
        for _ in range(2):
            ep, eday, epay, edx = self.keep_enrolled(ip[eng], iday[eng] + rng.integers(1, 35, eng.sum()).astype(np.int32), 0.5,
                                                     idx[eng])
            self.prof_simple(ep, eday, epay, self.bh_of[ep], self.pick(C.SUD_ENGAGE, len(ep)), edx,
                             self.pick(["11", "57", "02"], len(ep)), rng.integers(5000, 15000, len(ep)))
        self.oud_treatment()
        self.pharmacy_patterns()
        self.pqi()
        self.facility_stays()
        self.screening_and_misc()

    def monthly_course(self, p, start_month, n_months, adherence, jitter=3):
        """Monthly fill dates for each person from start_month for n_months, skipping months with prob 1-adherence."""
        n_months = np.maximum(n_months, 1)
        rep = np.repeat(np.arange(len(p)), n_months)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(n_months) - n_months, n_months)
        m = start_month[rep] + k
        ok = m < self.M
        filled = self.rng.random(len(rep)) < np.asarray(adherence)[rep]
        s = ok & filled
        fill_day = self.fill_day[p[rep[s]]]
        mm = m[s]
        day = self.mstart[mm] + np.minimum(fill_day, self.mlen[mm] - 1) + self.rng.integers(-jitter, jitter + 1, s.sum())
        return rep[s], day.astype(np.int32)

    def pharmacy_patterns(self):
        rng = self.rng
        N, M = self.N, self.M
        adherence = rng.beta(4, 1.5, N)

        def chronic(flag, drug, share=1.0, adh=None):
            p = np.nonzero(flag & (rng.random(N) < share))[0].astype(np.int32)
            start = np.where(rng.random(len(p)) < 0.7, 0, rng.integers(0, max(1, M // 2), len(p)))
            i, day = self.monthly_course(p, start, M - start, (adherence if adh is None else adh)[p])
            self.rx_add(p[i], day, drug)

        chronic(self.htn, "lisinopril", 0.7)
        chronic(self.diabetes & ~self.htn, "lisinopril", 0.4)
        chronic(self.diabetes, "metformin", 0.8)
        chronic((self.diabetes | self.htn) & (self.age0 >= 40), "atorvastatin", 0.55)
        chronic(self.htn & (rng.random(N) < 0.3), "amlodipine", 1.0)
        chronic(self.asthma, "fluticasone", 0.5)
        chronic(self.asthma, "albuterol", 0.8, adh=np.full(N, 0.3))
        chronic(self.copd, "albuterol", 0.8, adh=np.full(N, 0.5))
        # schizophrenia: antipsychotic adherence bands (SAA)
        saa = np.array(SAA_ADHERENCE_BANDS)[rng.choice(4, N, p=SAA_BAND_P)]
        chronic(self.schizo, "risperidone", 0.9, adh=saa)
        chronic(self.bipolar, "risperidone", 0.4, adh=saa)
        # antidepressant courses of varying length (AMM), each with a depression visit on the start date
        p = np.nonzero(self.depression & (self.age0 >= 18) & (rng.random(N) < 0.6))[0].astype(np.int32)
        start_day = rng.integers(self.win_start, self.win_end - 30, len(p)).astype(np.int32)
        p, start_day, payer = self.keep_enrolled(p, start_day)
        k = len(p)
        self.prof_simple(p, start_day, payer, np.where(rng.random(k) < 0.5, self.pcp_of[p], self.bh_of[p]),
                         self.pick(["99213", "99214", "90834"], k), self.pick(C.DX_DEPRESSION, k), self.V.id("11"),
                         rng.integers(7500, 12000, k))
        length = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 10, 12], size=k, p=[.15, .1, .12, .08, .08, .12, .1, .1, .08, .07])
        rep = np.repeat(np.arange(k), length)
        j = np.arange(len(rep)) - np.repeat(np.cumsum(length) - length, length)
        gap = rng.integers(27, 34, len(rep))
        day = start_day[rep] + j * 30 + np.where(j > 0, gap - 30, 0)
        drug = np.where(rng.random(k) < 0.6, "sertraline", "fluoxetine")[rep]
        self.rx_add(p[rep], day.astype(np.int32), drug, prescriber=np.where(rng.random(k) < 0.5, self.pcp_of[p], self.bh_of[p])[rep])
        # opioids: chronic users incl. high dose (>= 90 MME) and overlapping benzodiazepines
        p = np.nonzero(self.chronic_opioid)[0].astype(np.int32)
        drug = np.array(["hydrocodone_apap_10_325", "oxycodone_10", "oxycodone_30", "morphine_er_60"])[
            rng.choice(4, len(p), p=CHRONIC_OPIOID_PRODUCT_P)]
        start = rng.integers(0, M - 2, len(p))
        nmon = rng.integers(3, M + 1, len(p))
        i, day = self.monthly_course(p, start, np.minimum(nmon, M - start), np.full(len(p), 0.85))
        self.rx_add(p[i], day, drug[i], medicare_share=0.0)
        benzo = rng.random(len(p)) < 0.25
        bdrug = np.where(rng.random(len(p)) < 0.6, "alprazolam", "lorazepam")
        i, day = self.monthly_course(p[benzo], start[benzo], np.minimum(nmon, M - start)[benzo], np.full(benzo.sum(), 0.8))
        self.rx_add(p[benzo][i], day + 2, bdrug[benzo][i], medicare_share=0.0)
        # short acute opioid fills
        q = np.nonzero((self.age0 >= 12) & (rng.random(N) < 0.05))[0].astype(np.int32)
        day = rng.integers(self.win_start, self.win_end, len(q)).astype(np.int32)
        self.rx_add(q, day, "hydrocodone_apap_10_325", days_supply=5, qty=20, refills=0, medicare_share=0.0)

    def oud_treatment(self):
        rng, V, M = self.rng, self.V, self.M
        p = np.nonzero(self.oud & (self.age0 >= 16))[0].astype(np.int32)
        n = len(p)
        mat = rng.choice(6, size=n, p=[0.30, 0.22, 0.06, 0.06, 0.06, 0.30])  # 0 bup NDC, 1 bup/nal NDC, 2 inj bup, 3 naltrexone oral, 4 naltrexone inj / methadone, 5 none
        mat = np.where((mat == 4) & (rng.random(n) < 0.5), 6, mat)  # 6 methadone OTP
        start = rng.integers(0, M - 1, n)
        nmon = rng.integers(2, M + 1, n)
        nmon = np.minimum(nmon, M - start)
        adh = rng.beta(3, 1.2, n)
        # OUD visits: monthly office visits with F11 dx for everyone with OUD (treated or not), sparser if untreated
        i, day = self.monthly_course(p, start, nmon, np.where(mat == 5, 0.25, 0.7))
        pp, dd, pay = self.keep_enrolled(p[i], day, 0.5)
        self.prof_simple(pp, dd, pay, self.bh_of[pp], self.pick(["99213", "99214", "H0004"], len(pp)), self.pick(C.DX_SUD_OPIOID, len(pp), [0.15, 0.8, 0.05]),
                         V.id("11"), rng.integers(7000, 12000, len(pp)))
        for code, drug in ((0, "buprenorphine"), (1, "buprenorphine_naloxone"), (3, "naltrexone")):
            s = mat == code
            i, day = self.monthly_course(p[s], start[s], nmon[s], adh[s])
            self.rx_add(p[s][i], day, drug, medicare_share=0.0, prescriber=self.bh_of[p[s][i]])
        for code, hcpcs, base, units in ((2, C.MAT_HCPCS_BUP, 180000, 1), (4, C.MAT_HCPCS_NALTREXONE, 130000, 1),
                                         (6, C.MAT_HCPCS_METHADONE, 2200, 28)):
            s = mat == code
            i, day = self.monthly_course(p[s], start[s], nmon[s], adh[s])
            pp, dd, pay = self.keep_enrolled(p[s][i], day, 0.3)
            k = len(pp)
            hc = self.pick(hcpcs, k)
            rend = self.choose_prov(self.pool["sudc"], k) if code == 6 else self.bh_of[pp]
            uu = np.where(hc == V.id("G2067"), 4, units)
            self.med.add(pp, pay, dd, dd + (27 if code == 6 else 0), PROF,
                         [dict(hcpcs=hc, pos=V.id("57") if code == 6 else V.id("11"), rend=rend, base=base * uu, units=uu)],
                         dx1=self.pick(["F1120", "F1121"], k), bill=rend)

    def pqi(self):
        rng, V = self.rng, self.V
        for flag, rate, codes, drg, agemin, agemax in (
                (self.diabetes, 0.03, C.DX_DIABETES_ACUTE, C.DRG_PQI["diabetes"], 18, 200),
                (self.copd, 0.09, ["J441", "J449"], C.DRG_PQI["copd"], 40, 200),
                (self.asthma, PQI_ASTHMA_ADMISSIONS_PER_YEAR, ["J4551", "J45901"], C.DRG_PQI["asthma"], 18, 39),
                (self.hf, 0.14, ["I509", "I5020"], C.DRG_PQI["hf"], 18, 200)):
            cohort = np.nonzero(flag)[0]
            p, d = self.events(cohort, rate)
            a = self.age_at(p, d)
            s = (a >= agemin) & (a <= agemax)
            p, d = p[s], d[s]
            self.medical_admissions(p, d, dx1=self.pick(codes, len(p)), drg=np.full(len(p), V.id(drg)), readmit_p=0.15)
        # deliveries (pregnancy: excluded from PCR)
        cohort = np.nonzero(self.female & (self.age0 >= 15) & (self.age0 <= 42))[0]
        p, d = self.events(cohort, 0.06)
        p, d, payer = self.keep_enrolled(p, d, 0.0)
        self.inpatient(p, d, np.full(len(p), 2, np.int32), payer, np.full(len(p), V.id("O80")), V.id(C.DRG_DELIVERY),
                       V.id("0120"), 150000, dx2=np.full(len(p), V.id("Z3A39")), adm_type=np.full(len(p), V.id("3")))

    def facility_stays(self):
        rng, V = self.rng, self.V
        # SNF / nursing facility admissions (AIF): short 1-20, medium 21-100, long >=101 days
        cohort = np.nonzero((self.group >= 3) | (self.age0 >= 65))[0]
        p, d = self.events(cohort, np.where(self.group[cohort] == 3, 0.10, 0.05))
        p, d, payer = self.keep_enrolled(p, d, 0.7)
        n = len(p)
        band = rng.choice(3, size=n, p=[0.55, 0.33, 0.12])
        los = np.select([band == 0, band == 1], [rng.integers(1, 21, n), rng.integers(21, 101, n)], rng.integers(101, 400, n))
        disch = np.minimum(d + los, self.death[p])
        open_ = disch > self.win_end
        end = np.minimum(disch, self.win_end).astype(np.int32)
        los = np.maximum(end - d, 1)
        fac = self.choose_prov(self.pool["snf"], n)
        disp = np.where(open_, V.id("30"), self.pick(["01", "06", "02", "20"], n, [0.5, 0.3, 0.1, 0.1]))
        self.med.add(p, payer, d, end, INST, [
            dict(rev=self.pick(C.REV_SNF, n), units=los, base=25000 * los),
            dict(rev=V.id("0250"), base=300 * los, present=rng.random(n) < 0.7)],
            tob=self.pick(C.TOB_SNF, n, [0.7, 0.3]), admit=d, disch=np.where(open_, NULL_DAY, end), disp=disp,
            adm_src=np.full(n, V.id("1")), adm_type=np.full(n, V.id("3")), dx1=self.dx_for(p), bill=fac, fac=fac)
        # nursing-facility physician visits during the stay (POS 31/32)
        vd = (d + (rng.random(n) * np.maximum(los - 1, 1)).astype(np.int32)).astype(np.int32)
        pp, dd, pay = self.keep_enrolled(p, vd, 0.7)
        k = len(pp)
        self.prof_simple(pp, dd, pay, self.pcp_of[pp], self.pick(C.NF_VISIT, k), self.dx_for(pp),
                         self.pick(["31", "32"], k), rng.integers(8000, 16000, k))
        # hospice at end of life (rev 0651)
        dec = np.nonzero((self.death <= self.win_end) & ((self.group >= 3) | self.hf | self.copd) & (rng.random(self.N) < 0.45))[0]
        los = rng.integers(3, 90, len(dec)).astype(np.int32)
        start = (self.death[dec] - los).astype(np.int32)
        p, start, payer, los = self.keep_enrolled(dec.astype(np.int32), start, 0.95, los)
        end = np.minimum(start + los, self.death[p]).astype(np.int32)
        fac = self.choose_prov(self.pool["hospice"], len(p))
        self.med.add(p, payer, start, end, INST, [dict(rev=V.id("0651"), units=np.maximum(end - start, 1),
                                                       base=20000 * np.maximum(end - start, 1))],
                     tob=V.id(C.TOB_HOSPICE), admit=start, disch=end, disp=V.id("40"), dx1=self.pick(["C349", "I509", "J449", "G309"], len(p)),
                     bill=fac, fac=fac)

    def screening_and_misc(self):
        rng, V = self.rng, self.V
        N = self.N
        # colorectal screening for people 45-75 in different years of the window
        cohort = np.nonzero((self.age0 >= 44) & (self.age0 <= 76) & (rng.random(N) < 0.5))[0].astype(np.int32)
        d = rng.integers(self.win_start, self.win_end, len(cohort)).astype(np.int32)
        p, d, payer = self.keep_enrolled(cohort, d)
        k = len(p)
        mod = rng.choice(6, size=k, p=[0.45, 0.08, 0.05, 0.15, 0.14, 0.13])
        code = V.ids(["45378", "G0121", "G0105", "82270", "G0328", "81528"])[mod]
        stool = mod >= 3
        rend = np.where(stool, self.choose_prov(self.pool["lab"], k), self.choose_prov(self.pool["gi"], k))
        pos = np.where(stool, V.id("81"), self.pick(["22", "24"], k))
        base = np.array([60000, 60000, 60000, 2500, 2500, 50000])[mod]
        self.prof_simple(p, d, payer, rend, code, np.where(stool, V.id("Z1211"), self.pick(["Z1211", "Z8601", "K635"], k)),
                         pos, base)
        # colorectal cancer (exclusion)
        c = np.nonzero((self.age0 >= 45) & (self.age0 <= 75) & (rng.random(N) < 0.006))[0].astype(np.int32)
        p, d = self.events(c, 3.0)
        p, d, payer = self.keep_enrolled(p, d)
        self.prof_simple(p, d, payer, self.choose_prov(self.pool["spec"], len(p)), self.pick(["99214", "99215"], len(p)),
                         np.full(len(p), V.id("C189")), V.id("11"), rng.integers(11000, 16000, len(p)))
        # extra hypertension visits so that >=2 outpatient I10 visits with BP CPT II codes are common
        cohort = np.nonzero(self.htn)[0]
        p, d = self.events(cohort, 1.0)
        p, d, payer = self.keep_enrolled(p, d)
        self.office_visits(p, d, payer, dx1=np.full(len(p), V.id("I10")))

    # ------------------------------------------------------------------ amounts, adjustments, dirty rows
    def calibrate_aco(self, med: dict, rx: dict) -> dict:
        """Scale paid amounts so each ACO entity's PMPM tracks the non-ACO PMPM (see module doc).

        Calibrated per cell = (ACO entity or none) x payer (Medicaid FFS, the MCOs, commercial) x eligibility group
        x dual status x year, so an entity's settlement lines (one per payer, benchmarked per enrollment type) see
        the designed drift rather than the noise of its payer and eligibility mix."""
        Y, G = self.years, len(C.ACO_ENTITIES) + 1
        payers = (FFS, AUR, BLS, COM)
        P, K = len(payers), 2 * len(C.ELIG_GROUPS)
        grp = self.aco.astype(np.int64) + 1                          # 0 = not in the ACO
        kind = 2 * self.group.astype(np.int64) + self.dual.astype(np.int64)
        ncell = G * P * K * Y

        def cell(person, pay_idx, yi):
            return ((grp[person] * P + pay_idx) * K + kind[person]) * Y + yi

        everyone = np.arange(self.N)
        mm = np.zeros(ncell)
        for y in range(Y):
            for pi, code in enumerate(payers):
                months = (self.S[:, 12 * y:12 * y + 12] == code).sum(1)
                mm += np.bincount(cell(everyone, pi, y), weights=months, minlength=ncell)
        pay_idx = np.full(max(FFS, AUR, BLS, COM, MCR) + 1, -1, np.int64)
        pay_idx[list(payers)] = np.arange(P)
        paid = np.zeros(ncell)
        sels = []
        for d, daycol in ((med, "start"), (rx, "day")):
            pi = pay_idx[d["payer"]]
            sel = pi >= 0
            c = cell(d["person"], np.maximum(pi, 0), self.year_idx(d[daycol]))
            paid += np.bincount(c[sel], weights=d["paid"][sel], minlength=ncell)
            sels.append((d, sel, c))
        shape = (G, P, K, Y)
        mm, paid = mm.reshape(shape), paid.reshape(shape)
        pmpm = paid / np.maximum(mm, 1)
        drift = np.array([0.0] + [e[3] for e in C.ACO_ENTITIES])
        target = np.broadcast_to(pmpm[0:1, :, :, 0:1] * TREND ** np.arange(Y), shape).copy()
        target[..., -1] *= (1 + drift)[:, None, None]
        factor = np.where((pmpm > 0) & (target > 0), target / np.maximum(pmpm, 1e-9), 1.0).reshape(-1)
        for d, sel, c in sels:
            f = np.where(sel, factor[c], 1.0)
            for m in ("paid", "allowed", "charge", "coins", "copay", "ded"):
                d[m] = np.round(d[m] * f).astype(np.int64)
        # summary over the Medicaid payers: an entity's PMPM before and after, and after relative to the non-ACO
        # PMPM of the same payer x eligibility mix (1 in every year but the last, 1 + drift then)
        mcd = list(range(payers.index(BLS) + 1))
        mm_m, paid_m, tgt_m = mm[:, mcd], paid[:, mcd], (target * mm)[:, mcd]
        state = (np.broadcast_to(target[0:1], shape) * mm)[:, mcd]

        def per_year(x):
            return x.sum(axis=(1, 2))

        before = per_year(paid_m) / np.maximum(per_year(mm_m), 1)
        after = per_year(tgt_m) / np.maximum(per_year(mm_m), 1)
        relative = per_year(tgt_m) / np.maximum(per_year(state), 1e-9)
        return {e[0]: {"pmpm_by_year_before": [round(x / 100, 2) for x in before[i + 1]],
                       "target_pmpm_by_year": [round(x / 100, 2) for x in after[i + 1]],
                       "relative_to_state_by_year": [round(x, 4) for x in relative[i + 1]]}
                for i, e in enumerate(C.ACO_ENTITIES)} | {
            "non_aco_medicaid_pmpm_before": [round(x / 100, 2) for x in before[0]],
            "medicaid_pmpm_target": [round(x / 100, 2) for x in after[0]]}

    def amounts(self, payer, ctype, line, base, person, day, adj_entity=False):
        rng = self.rng
        n = len(base)
        price = np.array([0, 1.0, 1.08, 1.03, 1.90, 1.35])[payer]
        trend = 1.035 ** self.year_idx(day)
        f = np.ones(n)
        if adj_entity:
            e = self.aco[person]
            drift = np.array([x[3] for x in C.ACO_ENTITIES] + [0.0])[e]
            f = 1 + drift * (self.year_idx(day) / max(self.years - 1, 1))
        allowed = np.round(base * price * trend * f * rng.lognormal(0, 0.08, n)).astype(np.int64)
        charge = np.round(allowed * rng.uniform(1.6, 3.2, n)).astype(np.int64)
        charge = np.where(allowed == 0, 0, charge)
        coins = np.zeros(n, np.int64)
        copay = np.zeros(n, np.int64)
        ded = np.zeros(n, np.int64)
        first = line == 1
        if ctype is None:  # pharmacy
            copay[payer == COM] = 1000
            copay[payer == FFS] = 100
            coins[payer == MCR] = allowed[payer == MCR] // 5
        else:
            prof1 = (ctype == PROF) & first & (allowed > 0)
            copay[prof1 & (payer == COM)] = 2500
            copay[prof1 & (payer == FFS) & (rng.random(n) < 0.3)] = 300
            s = (payer == MCR) & (ctype == PROF)
            coins[s] = allowed[s] // 5
            s = (payer == COM) & (ctype == INST)
            coins[s] = allowed[s] // 5
            s = (payer == COM) & (ctype == INST) & first & (rng.random(n) < 0.2)
            ded[s] = np.minimum(allowed[s] // 2, 150000)
            s = (payer == MCR) & (ctype == INST) & first & (rng.random(n) < 0.3)
            ded[s] = np.minimum(allowed[s] // 2, 163200)
        copay = np.minimum(copay, allowed)
        coins = np.minimum(coins, allowed - copay)
        ded = np.minimum(ded, allowed - copay - coins)
        paid = allowed - copay - coins - ded
        return dict(paid=paid, allowed=allowed, charge=charge, coins=coins, copay=copay, ded=ded)


def _rows_where_never_enrolled(st: _State, payer_code, n, rng):
    """n persons never enrolled with payer_code (for 'claims with no enrollment')."""
    cand = rng.integers(0, st.N, max(64, n * 8))
    if payer_code == MCR:
        never = ~st.MC[cand].any(axis=1)
    else:
        never = ~(st.S[cand] == payer_code).any(axis=1)
    out = cand[never][:n]
    if len(out) < n:
        out = np.concatenate([out, np.full(n - len(out), cand[0])])
    return out.astype(np.int32)


def _adjust_and_dirty(st: _State, cols: dict, kinds: list[str], payer_code: int, is_rx: bool, summary_dirty: dict,
                      summary_adj: dict):
    """Sort a payer's lines, number claims, append adjustment versions and dirty rows (in place on `cols`)."""
    rng = st.rng
    start = cols["day"] if is_rx else cols["start"]
    order = np.lexsort((cols["line"], cols["ckey"], start))
    for k in list(cols):
        cols[k] = cols[k][order]
    n = len(cols["ckey"])
    new_claim = np.ones(n, bool)
    new_claim[1:] = cols["ckey"][1:] != cols["ckey"][:-1]
    claim_no = np.cumsum(new_claim).astype(np.int64)   # 1..n_claims
    n_claims = int(claim_no[-1]) if n else 0
    cols["claim_no"] = claim_no
    cols["orig_no"] = np.full(n, -1, np.int64)
    cols["adj"] = np.zeros(n, np.int8)
    cols["seq"] = np.zeros(n, np.int8)
    cols["dirty"] = np.zeros(n, np.int8)
    end = cols["day"] if is_rx else cols["end"]
    rng.integers(10, 60, n)   # the former uniform lag, still drawn: the main random stream of later steps is unchanged
    cols["paid_date"] = planted_paid_dates(st.seed, PAYERS[payer_code]["payer"], is_rx, end)   # paid_lag.py
    next_no = n_claims + 1
    # --- adjustments: ~2 % of claims
    fam = np.nonzero(rng.random(n_claims) < 0.02)[0] + 1
    kind = rng.choice(4, size=len(fam), p=[0.55, 0.15, 0.22, 0.08])  # R, RR, V, VR
    fam_kind = np.zeros(n_claims + 2, np.int8) - 1
    fam_kind[fam] = kind
    sel = fam_kind[claim_no] >= 0
    base_rows = {k: v[sel] for k, v in cols.items()}
    fk = fam_kind[base_rows["claim_no"]]
    pieces = []
    fam_new_no = np.zeros(n_claims + 2, np.int64)

    def version(mask, seq, adj, prev_paid, prev_date, factor=None):
        nonlocal next_no
        rows = {k: v[mask].copy() for k, v in base_rows.items()}
        fams = rows["claim_no"]
        uniq = np.unique(fams)
        fam_new_no[uniq] = next_no + np.arange(len(uniq))
        next_no += len(uniq)
        rows["orig_no"] = fams.copy()
        rows["claim_no"] = fam_new_no[fams]
        rows["adj"][:] = adj
        rows["seq"][:] = seq
        rows["paid_date"] = (prev_date[mask] + rng.integers(20, 60, mask.sum())).astype(np.int32)
        money = ("paid", "allowed", "charge", "coins", "copay", "ded")
        if adj == ADJ_VOID:
            for mcol in money:
                rows[mcol] = -prev_paid[mcol][mask]
        else:
            for mcol in money:
                rows[mcol] = prev_paid[mcol][mask].copy()
            f = factor[mask]
            rows["paid"] = np.minimum(np.round(rows["paid"] * f).astype(np.int64), rows["allowed"])
        pieces.append(rows)
        return rows

    money0 = {m: base_rows[m] for m in ("paid", "allowed", "charge", "coins", "copay", "ded")}
    f1 = rng.uniform(0.7, 1.05, len(fk))
    f2 = rng.uniform(0.8, 1.05, len(fk))
    date0 = base_rows["paid_date"]
    # R and RR: replacement seq 1
    m_r = np.isin(fk, [0, 1])
    r1 = version(m_r, 1, ADJ_REPLACEMENT, money0, date0, f1)
    # RR: second replacement from the first
    full_r1 = {m: np.zeros_like(money0[m]) for m in money0}
    full_d1 = np.zeros_like(date0)
    for m in money0:
        full_r1[m][m_r] = r1[m]
    full_d1[m_r] = r1["paid_date"]
    m_rr = fk == 1
    version(m_rr, 2, ADJ_REPLACEMENT, full_r1, full_d1, f2)
    # V and VR: void of the original (seq 1)
    m_v = np.isin(fk, [2, 3])
    v1 = version(m_v, 1, ADJ_VOID, money0, date0)
    full_dv = np.zeros_like(date0)
    full_dv[m_v] = v1["paid_date"]
    version(fk == 3, 2, ADJ_REPLACEMENT, money0, full_dv, f1)
    summary_adj["families"] += int(len(fam))
    for pc_ in pieces:
        if len(pc_["adj"]):
            key = "replacement_versions" if pc_["adj"][0] == ADJ_REPLACEMENT else "void_versions"
            summary_adj[key] += int(len(np.unique(pc_["claim_no"])))
    # --- dirty rows: ~0.5 % of lines, every kind at least once
    n_dirty = max(len(kinds), int(round(n * 0.005)))
    per_kind = np.full(len(kinds), n_dirty // len(kinds))
    per_kind[: n_dirty % len(kinds)] += 1
    clean_idx = np.nonzero(cols["line"] == 1)[0] if n else np.zeros(0, np.int64)
    for kname, cnt in zip(kinds, per_kind):
        if len(clean_idx) == 0:
            break
        pick = clean_idx[rng.integers(0, len(clean_idx), cnt)]
        rows = {k: v[pick].copy() for k, v in cols.items()}
        rows["dirty"][:] = DIRTY_CODE[kname]
        if kname != "duplicate":
            rows["claim_no"] = 9_000_000_000 + next_no + np.arange(cnt)
            next_no += cnt
            rows["line"][:] = 1
        if kname == "end_before_start":
            rows["end"] = (rows["start"] - rng.integers(1, 10, cnt)).astype(np.int32)
            rows["line_end"] = rows["end"]
        elif kname == "bad_icd":
            rows["dx1"] = np.where(np.arange(cnt) % 2 == 0, st.V.id("XYZ12"), st.V.id("F3")).astype(np.int32)
        elif kname == "bad_hcpcs":
            rows["hcpcs"] = np.where(np.arange(cnt) % 2 == 0, st.V.id("99X13"), st.V.id("9921")).astype(np.int32)
        elif kname == "bad_ndc":
            rows["ndc"] = np.full(cnt, st.V.id("004060360"), np.int32)
        elif kname == "no_enrollment":
            rows["person"] = _rows_where_never_enrolled(st, payer_code, cnt, rng)
        elif kname == "negative_paid":
            rows["paid"] = -np.maximum(rows["paid"], 100)
        pieces.append(rows)
        summary_dirty[kname] = summary_dirty.get(kname, 0) + int(cnt)
    for k in list(cols):
        cols[k] = np.concatenate([cols[k]] + [pc_[k] for pc_ in pieces])


# ---------------------------------------------------------------------- writing
def _take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    return pc.take(arr, pa.array(idx, type=pa.int32()))


def _date(days: np.ndarray) -> pa.Array:
    d = np.asarray(days, np.int32)
    return pa.array(d, type=pa.int32(), mask=d == NULL_DAY).cast(pa.date32())


def _copy(con, table: pa.Table, select_sql: str, path: Path, delim: str = ",") -> int:
    """Project `table` with DuckDB SQL and stream the result to CSV with Arrow's writer (fast, in order)."""
    con.register("t", table)
    reader = con.execute(f"SELECT {select_sql} FROM t").fetch_record_batch(500_000)
    opts = pcsv.WriteOptions(include_header=False, delimiter=delim, quoting_style="none")
    n = 0
    with open(path, "wb") as fh:
        fh.write((delim.join(reader.schema.names) + "\n").encode())
        with pcsv.CSVWriter(fh, reader.schema, write_options=opts) as writer:
            for batch in reader:
                writer.write_batch(batch)
                n += batch.num_rows
    con.unregister("t")
    return n


def _id_sql(prefix: str, col: str, mult: int | None = None, width: int = 10) -> str:
    inner = f"((CAST({col} AS BIGINT) + 1) * {mult}) % {PRIME}" if mult else col
    return f"'{prefix}' || lpad(CAST({inner} AS VARCHAR), {width}, '0')"


def _money_sql(col: str) -> str:
    return f"CAST({col} / 100 AS DECIMAL(14,2))"


def generate(out_dir: str | Path, members: int = 20_000, seed: int = 42, first_year: int = DEFAULT_FIRST_YEAR,
             years: int = DEFAULT_YEARS) -> dict:
    """Write a synthetic state's landing folder under out_dir and return a JSON-able summary."""
    t0 = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("reference", "medicaid_ffs", "mco_a", "mco_b", "medicare", "commercial"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
        (out / sub).mkdir()
    st = _State(members, seed, first_year, years)
    st.build_persons()
    st.build_enrollment()
    st.build_providers()
    utilization_cases.plant_panels(st)
    st.everyday()
    st.patterns()
    summary = {"params": dict(members=members, seed=seed, first_year=first_year, years=years), "files": {},
               "members_per_payer": {}, "dirty": {}, "adjustments": dict(families=0, replacement_versions=0, void_versions=0)}
    summary["pharmacy_cases"] = pharmacy_cases.plant(st)  # planted DUR cases and near misses (their manifest)
    summary["mtm_services"] = pharmacy_cases.write_mtm_services(st, out / "mtm")  # MTM program's service record
    summary["utilization_cases"] = utilization_cases.plant_events(st)
    summary["quality_cases"] = quality_cases.plant(st)  # contraception, screening, well-child events (issue 19)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    vocab = pa.array(st.V.items, type=pa.string())
    _write_reference(st, con, out, summary)
    _write_eligibility(st, con, out, summary)
    med = st.med.concat()
    st.med = None
    rx = {k: np.concatenate([b[k] for b in st.rx]) for k in st.rx[0]}
    st.rx = None
    # amounts (before adjustments so versions share them)
    med.update(st.amounts(med["payer"], med["ctype"], med["line"], med["base"], med["person"], med["start"]))
    rx["line"] = np.ones(len(rx["person"]), np.int16)
    rx["ckey"] = np.arange(len(rx["person"]), dtype=np.int64)
    rx.update(st.amounts(rx["payer"], None, rx["line"], rx["base"], rx["person"], rx["day"]))
    summary["aco_calibration"] = st.calibrate_aco(med, rx)
    for code, meta in PAYERS.items():
        sel = med["payer"] == code
        cols = {k: v[sel] for k, v in med.items()}
        _adjust_and_dirty(st, cols, DIRTY_MEDICAL, code, False, summary["dirty"], summary["adjustments"])
        _write_medical(st, con, out, code, meta, cols, vocab, summary)
        del cols
        sel = rx["payer"] == code
        cols = {k: v[sel] for k, v in rx.items()}
        _adjust_and_dirty(st, cols, DIRTY_PHARMACY, code, True, summary["dirty"], summary["adjustments"])
        _write_pharmacy(st, con, out, code, meta, cols, vocab, summary)
        del cols
    con.close()
    summary["seconds"] = round(time.time() - t0, 2)
    summary["rows"] = {"medical_claim": sum(v for k, v in summary["files"].items() if "medical_claim" in k or "encounters_" in k),
                       "pharmacy_claim": sum(v for k, v in summary["files"].items() if "pharmacy_claim" in k or "rx_" in k),
                       "eligibility": sum(v for k, v in summary["files"].items() if "eligibility" in k or "members_" in k)}
    return json.loads(json.dumps(summary))


def _write_reference(st: _State, con, out: Path, summary: dict):
    prog = pa.table({"program_id": [p[0] for p in C.PROGRAMS], "program_name": [p[1] for p in C.PROGRAMS],
                     "program_type": [p[2] for p in C.PROGRAMS], "state": [C.STATE] * len(C.PROGRAMS)})
    summary["files"]["reference/icm_program.csv"] = _copy(con, prog, "*", out / "reference" / "icm_program.csv")
    prov = st.provider_table
    ent_ids, ent_prog, ent_name, ent_tin, ent_risk = [], [], [], [], []
    tins = prov.column("tin").to_pylist()
    eids = prov.column("icm_entity_id").to_pylist()
    first_tin = {}
    for e, t in zip(eids, tins):
        if e and e not in first_tin:
            first_tin[e] = t
    for eid, name, risk, _d in C.ACO_ENTITIES:
        ent_ids.append(eid), ent_prog.append("ACO-1"), ent_name.append(name), ent_tin.append(first_tin.get(eid)), ent_risk.append(risk)
    for eid, prog_id, name in C.HH_ENTITIES:
        ent_ids.append(eid), ent_prog.append(prog_id), ent_name.append(name), ent_tin.append(first_tin.get(eid)), ent_risk.append(None)
    ent = pa.table({"entity_id": ent_ids, "program_id": ent_prog, "entity_name": ent_name,
                    "tin": pa.array(ent_tin, pa.string()), "risk_arrangement": pa.array(ent_risk, pa.string())})
    summary["files"]["reference/icm_entity.csv"] = _copy(con, ent, "*", out / "reference" / "icm_entity.csv")
    summary["files"]["reference/provider.csv"] = _copy(con, prov, "*", out / "reference" / "provider.csv")


def _elig_table(st: _State, code) -> tuple[pa.Table, int]:
    rng = st.rng
    if code == MCR:
        p, s, e = st.spans(st.MC, True)
    else:
        p, s, e = st.spans(st.S, code)
    n = len(p)
    n_clean = n
    dirty = np.zeros(n, np.int8)
    # dirty eligibility rows: extra copies, altered
    kinds = DIRTY_ELIGIBILITY
    per = max(1, n // 4000)
    idx = rng.integers(0, n, per * len(kinds))
    dk = np.repeat([DIRTY_CODE[k] for k in kinds], per).astype(np.int8)
    p = np.concatenate([p, p[idx]])
    s = np.concatenate([s, s[idx]])
    e = np.concatenate([e, e[idx]])
    dirty = np.concatenate([dirty, dk])
    e = np.where(dirty == DIRTY_CODE["end_before_start"], s - 15, e).astype(np.int32)
    death = np.where(st.death[p] <= st.win_end, st.death[p], NULL_DAY).astype(np.int32)
    death = np.where(dirty == DIRTY_CODE["death_before_birth"], st.birth[p] - 400, death).astype(np.int32)
    is_mcd = code in (FFS, AUR, BLS)
    deliv = np.where(code == FFS, np.where(st.aco[p] >= 0, "ICM", np.where(st.pccm[p], "PCCM", "FFS")), "MCO")
    hh_ids = np.array([e_[0] for e_ in C.HH_ENTITIES] + [None], dtype=object)
    hh_prog = np.array(["HH-SMI", "HH-SUD", "HH-CC", None], dtype=object)
    aco_ids = np.array([e_[0] for e_ in C.ACO_ENTITIES] + [None], dtype=object)
    ent = np.where(st.aco[p] >= 0, aco_ids[st.aco[p]], hh_ids[st.hh_entity[p]])
    t = pa.table({
        "person": pa.array(p), "start": _date(s), "end": _date(e), "birth": _date(st.birth[p]), "death": _date(death),
        "female": pa.array(st.female[p]), "race": pa.array(np.array(C.RACES)[st.race[p]]),
        "eth": pa.array(np.array(C.ETHNICITIES)[st.eth[p]]),
        "county": pa.array(np.array([c[0] for c in C.COUNTIES])[st.county[p]]),
        "zip": pa.array(np.array([C.COUNTY_ZIP[c[0]] for c in C.COUNTIES])[st.county[p]]),
        "grp": pa.array(pharmacy_cases.eligibility_groups(st, p, code), pa.string()) if code != COM else pa.nulls(len(p), pa.string()),
        "deliv": pa.array(deliv) if is_mcd else pa.nulls(len(p), pa.string()),
        "hh": pa.array(hh_prog[st.hh[p]] if is_mcd else [None] * len(p), pa.string()),
        "icm_prog": pa.array(np.where(st.aco[p] >= 0, "ACO-1", None) if is_mcd else [None] * len(p), pa.string()),
        "icm_ent": pa.array(ent if is_mcd else [None] * len(p), pa.string()),
        "dual": pa.array(np.where(st.dual[p], st.dual_code[p], None) if code in (FFS, AUR, BLS, MCR) else [None] * len(p), pa.string()),
        "mstatus": pa.array(np.where(st.dual[p], st.mstatus[p], None) if code in (FFS, AUR, BLS, MCR) else [None] * len(p), pa.string()),
        "orec": pa.array(st.orec[p] if code == MCR else [None] * len(p), pa.string()),
        "grp_id": pa.array((10000 + (p * 7) % 89) if code == COM else np.zeros(len(p), int)),
        "dirty": pa.array(dirty),
    })
    return t, n_clean


def _write_eligibility(st: _State, con, out: Path, summary: dict):
    for code, meta in PAYERS.items():
        t, n_clean = _elig_table(st, code)
        summary["members_per_payer"][meta["data_source"]] = int(len(np.unique(t.column("person").to_numpy()[:n_clean])))
        d = t.column("dirty").to_numpy()
        for k in DIRTY_ELIGIBILITY:
            summary["dirty"]["eligibility_" + k] = summary["dirty"].get("eligibility_" + k, 0) + int((d == DIRTY_CODE[k]).sum())
        bad = DIRTY_CODE["bad_date"]
        pid = _id_sql("MPI", "person", 16807)
        mid = _id_sql(meta["mid_prefix"], "person", meta["mid_mult"])
        if code == BLS:
            f = "'%m/%d/%Y'"
            sel = f"""{pid} AS MPI, {mid} AS MEMBER_NO, {mid} AS SUBSCRIBER_NO, CASE WHEN female THEN '2' ELSE '1' END AS SEX,
                strftime(birth, {f}) AS DOB, strftime(death, {f}) AS DOD, race AS RACE_DESC, eth AS ETHNICITY_DESC,
                CASE WHEN dirty = {bad} THEN '02/30/2024' ELSE strftime(start, {f}) END AS ELIG_EFF_DT,
                strftime("end", {f}) AS ELIG_TERM_DT, 'BLUESTEM MEDICAID' AS PLAN_CD,
                CASE grp WHEN 'child' THEN 'CHD' WHEN 'parent_caretaker' THEN 'PCR' WHEN 'adult_expansion' THEN 'EXP'
                         WHEN 'aged' THEN 'AGD' WHEN 'blind_disabled' THEN 'BD' END AS AID_CAT,
                dual AS DUAL_CD, county AS COUNTY_FIPS, zip AS ZIP5, hh AS HH_PROGRAM, icm_prog AS ICM_PROGRAM,
                icm_ent AS ICM_ENTITY"""
            name = f"mco_b/members_{st.first_year + st.years - 1}1231.txt"
            summary["files"][name] = _copy(con, t, sel, out / name, "|")
            continue
        cols = []
        for c in canonical.TUVA_ELIGIBILITY + list(canonical.EXTRA_ELIGIBILITY_COLUMNS):
            expr = {
                "person_id": pid, "member_id": mid, "subscriber_id": mid,
                "gender": "CASE WHEN female THEN 'female' ELSE 'male' END", "race": "race", "birth_date": "birth",
                "death_date": "death", "death_flag": "CASE WHEN death IS NULL THEN 0 ELSE 1 END",
                "enrollment_start_date": f"CASE WHEN dirty = {bad} THEN '2024-02-30' ELSE CAST(start AS VARCHAR) END",
                "enrollment_end_date": '"end"', "payer": f"'{meta['payer']}'", "payer_type": f"'{meta['payer_type']}'",
                "plan": f"'{meta['plan']}'", "original_reason_entitlement_code": "orec", "dual_status_code": "dual",
                "medicare_status_code": "mstatus", "state": f"'{C.STATE}'", "zip_code": "zip", "ethnicity": "eth",
                "data_source": f"'{meta['data_source']}'", "subscriber_relation": "'self'",
                "eligibility_group": "grp", "delivery_system": "deliv", "health_home_program_id": "hh",
                "icm_program_id": "icm_prog", "icm_entity_id": "icm_ent", "county_fips": "county",
            }.get(c)
            if code == COM and c == "group_id":
                expr = "CAST(grp_id AS VARCHAR)"
            if code == COM and c == "group_name":
                expr = "'Employer Group ' || CAST(grp_id AS VARCHAR)"
            cols.append(f"{expr or 'NULL'} AS {c}")
        name = f"{meta['folder']}/eligibility.csv"
        summary["files"][name] = _copy(con, t, ", ".join(cols), out / name)


def _claim_arrow(st: _State, cols: dict, vocab: pa.Array, is_rx: bool) -> pa.Table:
    vocab = pa.array(st.V.items, type=pa.string())   # dirty rows may have added codes
    d = {}
    for k, v in cols.items():
        if k in ("tob", "drg", "adm_src", "adm_type", "disp", "pos", "rev", "hcpcs", "mod1", "dx1", "dx2", "dx3", "dx4", "ndc"):
            d[k] = _take(vocab, v)
        elif k in ("rend", "bill", "fac", "presc", "pharm"):
            d[k] = _take(st.npi, v + 1)
            if k in ("rend", "bill"):
                d[k + "_tin"] = _take(st.prov_tin, v + 1)
        elif k in ("start", "end", "admit", "disch", "line_start", "line_end", "paid_date", "day"):
            d[k] = _date(v)
        elif k in ("person", "claim_no", "orig_no", "adj", "seq", "dirty", "line", "units", "paid", "allowed", "charge",
                   "coins", "copay", "ded", "ctype", "days", "qty", "refills"):
            d[k] = pa.array(v)
    return pa.table(d)


def _write_medical(st, con, out, code, meta, cols, vocab, summary):
    t = _claim_arrow(st, cols, vocab, False)
    D = DIRTY_CODE
    cid = f"CASE WHEN dirty = {D['blank_claim_id']} THEN NULL ELSE {_id_sql(meta['claim_prefix'], 'claim_no', None, 11)} END"
    oid = f"CASE WHEN orig_no < 0 THEN NULL ELSE {_id_sql(meta['claim_prefix'], 'orig_no', None, 11)} END"
    pid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql('MPI', 'person', 16807)} END"
    mid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql(meta['mid_prefix'], 'person', meta['mid_mult'])} END"
    adj = "CASE adj WHEN 0 THEN 'original' WHEN 1 THEN 'replacement' ELSE 'void' END"
    if code == BLS:
        f = "'%m/%d/%Y'"
        sd = f"CASE WHEN dirty = {D['bad_date']} THEN '02/30/2024' ELSE strftime(start, {f}) END"
        sel = f"""{cid} AS ENC_ID, line AS LINE_NO, CASE ctype WHEN 1 THEN 'I' ELSE 'P' END AS ENC_TYPE,
            {pid} AS MPI, {mid} AS MEMBER_NO, {sd} AS FROM_DT, strftime("end", {f}) AS THRU_DT,
            strftime(line_start, {f}) AS SVC_FROM_DT, strftime(line_end, {f}) AS SVC_THRU_DT,
            strftime(admit, {f}) AS ADMIT_DT, strftime(disch, {f}) AS DISCH_DT, adm_src AS ADMIT_SRC, adm_type AS ADMIT_TYPE,
            disp AS DISCH_STATUS, tob AS TOB, drg AS MS_DRG, rev AS REV_CD, hcpcs AS PROC_CD, mod1 AS MOD1, pos AS POS,
            units AS UNITS,
            CASE WHEN length(dx1) > 3 THEN substr(dx1, 1, 3) || '.' || substr(dx1, 4) ELSE dx1 END AS DX1,
            CASE WHEN length(dx2) > 3 THEN substr(dx2, 1, 3) || '.' || substr(dx2, 4) ELSE dx2 END AS DX2,
            CASE WHEN length(dx3) > 3 THEN substr(dx3, 1, 3) || '.' || substr(dx3, 4) ELSE dx3 END AS DX3,
            rend AS RENDERING_NPI, rend_tin AS RENDERING_TIN, bill AS BILLING_NPI, bill_tin AS BILLING_TIN, fac AS FACILITY_NPI,
            strftime(paid_date, {f}) AS PAID_DT, CAST(paid AS VARCHAR) AS PAID_CENTS,
            '$' || CAST({_money_sql('allowed')} AS VARCHAR) AS ALLOWED_AMT, '$' || CAST({_money_sql('charge')} AS VARCHAR) AS BILLED_AMT,
            '$' || CAST({_money_sql('copay')} AS VARCHAR) AS COPAY_AMT, '$' || CAST({_money_sql('coins')} AS VARCHAR) AS COINS_AMT,
            '$' || CAST({_money_sql('ded')} AS VARCHAR) AS DEDUCT_AMT,
            CASE adj WHEN 0 THEN 'O' WHEN 1 THEN 'R' ELSE 'V' END AS ADJ_CD, {oid} AS ORIG_ENC_ID, seq AS ADJ_SEQ"""
        name = f"mco_b/encounters_{st.first_year + st.years - 1}1231.txt"
        summary["files"][name] = _copy(con, t, sel, out / name, "|")
        return
    expr = {
        "claim_id": cid, "claim_line_number": "line", "claim_type": "CASE ctype WHEN 1 THEN 'institutional' ELSE 'professional' END",
        "person_id": pid, "member_id": mid, "payer": f"'{meta['payer']}'", "plan": f"'{meta['plan']}'",
        "claim_start_date": f"CASE WHEN dirty = {D['bad_date']} THEN '2024-02-30' ELSE CAST(start AS VARCHAR) END",
        "claim_end_date": '"end"', "claim_line_start_date": "line_start", "claim_line_end_date": "line_end",
        "admission_date": "admit", "discharge_date": "disch", "admit_source_code": "adm_src", "admit_type_code": "adm_type",
        "discharge_disposition_code": "disp", "place_of_service_code": "pos", "bill_type_code": "tob",
        "drg_code_type": "CASE WHEN drg IS NULL THEN NULL ELSE 'ms-drg' END", "drg_code": "drg",
        "revenue_center_code": "rev", "service_unit_quantity": "units", "hcpcs_code": "hcpcs", "hcpcs_modifier_1": "mod1",
        "rendering_npi": "rend", "rendering_tin": "rend_tin", "billing_npi": "bill", "billing_tin": "bill_tin",
        "facility_npi": "fac", "paid_date": "paid_date", "paid_amount": _money_sql("paid"),
        "allowed_amount": _money_sql("allowed"), "charge_amount": _money_sql("charge"),
        "coinsurance_amount": _money_sql("coins"), "copayment_amount": _money_sql("copay"),
        "deductible_amount": _money_sql("ded"), "total_cost_amount": _money_sql("allowed"),
        "diagnosis_code_type": "'icd-10-cm'", "diagnosis_code_1": "dx1", "diagnosis_code_2": "dx2",
        "diagnosis_code_3": "dx3", "diagnosis_code_4": "dx4",
        "diagnosis_poa_1": "CASE WHEN ctype = 1 AND admit IS NOT NULL THEN 'Y' END",
        "in_network_flag": "1", "data_source": f"'{meta['data_source']}'",
        "claim_adjustment_type": adj, "original_claim_id": oid, "adjustment_sequence": "seq", "service_code_type": "'hcpcs'",
    }
    cols_sql = [f"{expr.get(c, 'NULL')} AS {c}" for c in canonical.TUVA_MEDICAL_CLAIM + list(canonical.EXTRA_MEDICAL_COLUMNS)]
    name = f"{meta['folder']}/medical_claim.csv"
    summary["files"][name] = _copy(con, t, ", ".join(cols_sql), out / name)


def _write_pharmacy(st, con, out, code, meta, cols, vocab, summary):
    t = _claim_arrow(st, cols, vocab, True)
    D = DIRTY_CODE
    cid = f"CASE WHEN dirty = {D['blank_claim_id']} THEN NULL ELSE {_id_sql(meta['claim_prefix'] + 'RX', 'claim_no', None, 11)} END"
    oid = f"CASE WHEN orig_no < 0 THEN NULL ELSE {_id_sql(meta['claim_prefix'] + 'RX', 'orig_no', None, 11)} END"
    pid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql('MPI', 'person', 16807)} END"
    mid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql(meta['mid_prefix'], 'person', meta['mid_mult'])} END"
    adj = "CASE adj WHEN 0 THEN 'original' WHEN 1 THEN 'replacement' ELSE 'void' END"
    if code == BLS:
        f = "'%m/%d/%Y'"
        sel = f"""{cid} AS RX_ID, line AS FILL_LINE, {pid} AS MPI, {mid} AS MEMBER_NO,
            CASE WHEN dirty = {D['bad_date']} THEN '02/30/2024' ELSE strftime(day, {f}) END AS FILL_DT,
            CASE WHEN length(ndc) = 11 THEN substr(ndc, 1, 5) || '-' || substr(ndc, 6, 4) || '-' || substr(ndc, 10, 2) ELSE ndc END AS NDC,
            qty AS QTY, days AS DAYS_SUPPLY, refills AS REFILLS, presc AS PRESCRIBER_NPI, pharm AS PHARMACY_NPI,
            strftime(paid_date, {f}) AS PAID_DT, CAST(paid AS VARCHAR) AS PAID_CENTS,
            '$' || CAST({_money_sql('allowed')} AS VARCHAR) AS ALLOWED_AMT, '$' || CAST({_money_sql('charge')} AS VARCHAR) AS BILLED_AMT,
            '$' || CAST({_money_sql('copay')} AS VARCHAR) AS COPAY_AMT,
            CASE adj WHEN 0 THEN 'O' WHEN 1 THEN 'R' ELSE 'V' END AS ADJ_CD, {oid} AS ORIG_RX_ID, seq AS ADJ_SEQ"""
        name = f"mco_b/rx_{st.first_year + st.years - 1}1231.txt"
        summary["files"][name] = _copy(con, t, sel, out / name, "|")
        return
    expr = {
        "claim_id": cid, "claim_line_number": "line", "person_id": pid, "member_id": mid, "payer": f"'{meta['payer']}'",
        "plan": f"'{meta['plan']}'", "prescribing_provider_npi": "presc", "dispensing_provider_npi": "pharm",
        "dispensing_date": f"CASE WHEN dirty = {D['bad_date']} THEN '2024-02-30' ELSE CAST(day AS VARCHAR) END",
        "ndc_code": "ndc", "quantity": "qty", "days_supply": "days", "refills": "refills", "paid_date": "paid_date",
        "paid_amount": _money_sql("paid"), "allowed_amount": _money_sql("allowed"), "charge_amount": _money_sql("charge"),
        "coinsurance_amount": _money_sql("coins"), "copayment_amount": _money_sql("copay"),
        "deductible_amount": _money_sql("ded"), "in_network_flag": "1", "data_source": f"'{meta['data_source']}'",
        "claim_adjustment_type": adj, "original_claim_id": oid, "adjustment_sequence": "seq", "drug_code_type": "'ndc'",
    }
    cols_sql = [f"{expr.get(c, 'NULL')} AS {c}" for c in canonical.TUVA_PHARMACY_CLAIM + list(canonical.EXTRA_PHARMACY_COLUMNS)]
    name = f"{meta['folder']}/pharmacy_claim.csv"
    summary["files"][name] = _copy(con, t, ", ".join(cols_sql), out / name)


def bench(members: int = 100_000, seed: int = 42) -> dict:
    """Generate into a temporary folder and report seconds and rows (the folder is removed)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="icm_synth_") as tmp:
        t0 = time.time()
        s = generate(tmp, members=members, seed=seed)
        secs = time.time() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    return {"members": members, "seconds": round(secs, 2), "rows": s["rows"], "bytes": size,
            "rows_per_second": round(sum(s["rows"].values()) / max(secs, 1e-9))}
