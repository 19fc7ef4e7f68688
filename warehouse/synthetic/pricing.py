"""Claim amounts (allowed, charge, cost sharing, paid) and the calibration of ACO entities' PMPM."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C
from warehouse.synthetic.conventions import AUR, BLS, COM, FFS, INST, MCR, PROF, TREND


class Pricing:
    """The pricing steps of `State`."""

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
