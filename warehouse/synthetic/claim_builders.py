"""Building blocks that add claims to the state's buffers: office, ED and inpatient visits, pharmacy fills,
diagnoses."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic import codes as C
from warehouse.synthetic.conventions import INST, PROF


class ClaimBuilders:
    """Claim-adding helpers of `State`, used by every utilisation and pattern step."""

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
