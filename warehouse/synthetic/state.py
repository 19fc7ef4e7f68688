"""The synthetic state: its window, random generator, buffers and shared helpers; the generation steps come from one
mixin per thing generated (people_and_enrollment, providers, claim_builders, everyday_utilisation, measure_events,
pharmacy_courses, pricing)."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic.claim_buffers import MedicalBuffer, Vocab
from warehouse.synthetic.claim_builders import ClaimBuilders
from warehouse.synthetic.conventions import MCR
from warehouse.synthetic.everyday_utilisation import EverydayUtilisation
from warehouse.synthetic.measure_events import MeasureEvents
from warehouse.synthetic.people_and_enrollment import PeopleAndEnrollment
from warehouse.synthetic.pharmacy_courses import PharmacyCourses
from warehouse.synthetic.pricing import Pricing
from warehouse.synthetic.providers import Providers


class State(PeopleAndEnrollment, Providers, ClaimBuilders, EverydayUtilisation, MeasureEvents, PharmacyCourses,
            Pricing):
    """The whole synthetic state, built step by step from one random generator."""

    def __init__(self, members: int, seed: int, first_year: int, years: int):
        self.N, self.seed, self.first_year, self.years = members, seed, first_year, years
        self.rng = np.random.default_rng(seed)
        self.V = Vocab()
        self.M = 12 * years
        m0 = np.datetime64(f"{first_year}-01", "M")
        months = m0 + np.arange(self.M + 1)
        days = months.astype("datetime64[D]").astype(np.int64)
        self.mstart = days[:-1].astype(np.int32)
        self.mlen = np.diff(days).astype(np.int32)
        self.win_start = int(days[0])
        self.win_end = int(days[-1]) - 1
        self.med = MedicalBuffer()
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
