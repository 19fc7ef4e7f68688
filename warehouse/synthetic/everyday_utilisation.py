"""Everyday utilisation: office, specialist, lab, outpatient, ED, behavioral, DME visits, admissions, acute fills."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C
from warehouse.synthetic.conventions import INST, PROF


class EverydayUtilisation:
    """The background-utilisation step of `State`."""

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
