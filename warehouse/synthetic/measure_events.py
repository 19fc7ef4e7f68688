"""Clinical patterns the quality measures look for: mental-health stays and follow-ups, SUD episodes, OUD treatment,
PQI admissions, facility stays, screenings."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C
from warehouse.synthetic.calibration import FOLLOWUP_CATEGORY_P, PQI_ASTHMA_ADMISSIONS_PER_YEAR
from warehouse.synthetic.conventions import INST, NULL_DAY, PROF


class MeasureEvents:
    """The clinical-pattern steps of `State`."""

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
