"""People (demographics, conditions, programs) and their month-by-month enrollment with each payer."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C
from warehouse.synthetic.conventions import AUR, BLS, COM, FFS


class PeopleAndEnrollment:
    """Steps of `State` that draw the persons and their enrollment matrix."""

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
