"""Pharmacy courses: chronic maintenance fills with adherence, antidepressant courses, opioids and benzodiazepines."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C
from warehouse.synthetic.calibration import CHRONIC_OPIOID_PRODUCT_P, SAA_ADHERENCE_BANDS, SAA_BAND_P


class PharmacyCourses:
    """The pharmacy-pattern steps of `State`."""

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
