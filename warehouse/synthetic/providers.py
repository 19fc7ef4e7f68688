"""Providers: NPIs, TINs, practices and their ACO / health-home entities, and each person's usual providers."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from warehouse.synthetic import codes as C


class Providers:
    """The step of `State` that builds the provider table and pools."""

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
