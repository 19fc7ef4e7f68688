"""An independent plain-pandas reference for fourteen measures, written from the measure cards and the published
specifications (AHRQ PQI software logic, the Core Set cards in measures/README.md), not from the engine's SQL.

Input: the warehouse's final-action claim tables, person, enrollment and member months read into pandas (the same
inputs the engine reads); value-set codes from the registry. Output per measure: {unit: (numerator, denominator)}
with unit = person (member and member-month measures; excluded units dropped).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text

from measures.valuesets import default_registry

ICD_DX = [f"diagnosis_code_{i}" for i in range(1, 26)]
ICD_PX = [f"procedure_code_{i}" for i in range(1, 26)]


def _norm(s: pd.Series) -> pd.Series:
    return s.astype("string").str.replace(".", "", regex=False).str.upper()


def age(birth, on: dt.date):
    if birth is None or pd.isna(birth):
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class Data:
    def __init__(self, engine):
        self.vs = default_registry()
        with engine.connect() as conn:
            q = lambda sql: pd.read_sql(text(sql), conn)  # noqa: E731
            self.person = q("SELECT person_id, birth_date, death_date, sex FROM person")
            self.spans = q("SELECT person_id, start_date, end_date FROM enrollment_span")
            self.mm = q("SELECT person_id, month_start, payer, plan, data_source, days_enrolled, hospice_flag "
                        "FROM member_month")
            self.h = q("SELECT * FROM medical_claim_final")
            self.lines = q("SELECT claim_id, data_source, claim_line_start_date, revenue_center_code, hcpcs_code "
                           "FROM medical_claim_line_final")
            self.rx = q("SELECT person_id, claim_id, dispensing_date, days_supply, ndc_code FROM pharmacy_claim_final")
        for df, cols in ((self.person, ("birth_date", "death_date")), (self.mm, ("month_start",)),
                         (self.spans, ("start_date", "end_date")),
                         (self.h, ("claim_start_date", "claim_end_date", "admission_date", "discharge_date")),
                         (self.lines, ("claim_line_start_date",)), (self.rx, ("dispensing_date",))):
            for c in cols:
                df[c] = pd.to_datetime(df[c]).dt.date
        self.birth = dict(zip(self.person.person_id, self.person.birth_date))
        # one member month per person and month: most enrolled days, then payer, plan, data source
        self.mm1 = (self.mm.sort_values(["person_id", "month_start", "days_enrolled", "payer", "plan", "data_source"],
                                        ascending=[True, True, False, True, True, True])
                    .drop_duplicates(["person_id", "month_start"]))
        self.h["pdx"] = _norm(self.h["diagnosis_code_1"])
        self.h["tob2"] = self.h["bill_type_code"].fillna("").map(lambda t: t[1:3] if len(t) == 4 else t[:2])
        self.h["admit"] = self.h["admission_date"].fillna(self.h["claim_start_date"])
        self.h["disch"] = self.h["discharge_date"].fillna(self.h["claim_end_date"])
        ln = self.lines.merge(self.h[["claim_id", "data_source", "person_id", "claim_start_date"]],
                              on=["claim_id", "data_source"])
        ln["date"] = ln["claim_line_start_date"].fillna(ln["claim_start_date"])
        ln["hcpcs"] = ln["hcpcs_code"].astype("string").str.upper()
        self.ln = ln
        dx = self.h.melt(id_vars=["claim_id", "data_source", "person_id", "claim_start_date"], value_vars=ICD_DX,
                         value_name="code").dropna(subset=["code"])
        dx["code"] = _norm(dx["code"])
        self.dx = dx
        px = self.h.melt(id_vars=["claim_id", "data_source"], value_vars=ICD_PX, value_name="code").dropna(
            subset=["code"])
        px["code"] = _norm(px["code"])
        self.px = px

    def codes(self, *names) -> set:
        return {c for n in names for c in self.vs.codes(n)}

    # --- helpers ---------------------------------------------------------------------------------------------
    def months_in(self, year, lo=None, hi=None) -> pd.Series:
        """Member months of the year per person whose age at the month start is within [lo, hi]."""
        m = self.mm1[(self.mm1.month_start >= dt.date(year, 1, 1)) & (self.mm1.month_start <= dt.date(year, 12, 31))]
        if lo is not None or hi is not None:
            ages = [age(self.birth.get(p), ms) for p, ms in zip(m.person_id, m.month_start)]
            keep = [a is not None and (lo is None or a >= lo) and (hi is None or a <= hi) for a in ages]
            m = m[keep]
        return m.groupby("person_id").size()

    def enrolled_month(self, person, day) -> bool:
        return (person, dt.date(day.year, day.month, 1)) in self._mm_keys

    @property
    def _mm_keys(self):
        if not hasattr(self, "_keys"):
            self._keys = set(zip(self.mm1.person_id, self.mm1.month_start))
        return self._keys

    def acute_stays(self) -> pd.DataFrame:
        """Acute inpatient stays: TOB 11x claims without a nonacute revenue line; a claim admitted within one day
        of the stay's latest discharge joins it (transfer)."""
        nonacute = set(self.ln[self.ln.revenue_center_code.isin(self.codes("nonacute_rev"))].claim_id)
        c = self.h[self.h.tob2.isin(self.codes("acute_inpatient_tob")) & ~self.h.claim_id.isin(nonacute)]
        c = c.sort_values(["person_id", "admit", "disch", "claim_id"])
        stays, cur = [], None
        for r in c.itertuples():
            if cur is not None and cur["person_id"] == r.person_id and r.admit <= cur["disch"] + dt.timedelta(days=1):
                cur["claims"].append(r)
                cur["disch"] = max(cur["disch"], r.disch)
            else:
                cur = dict(person_id=r.person_id, admit=r.admit, disch=r.disch, claims=[r])
                stays.append(cur)
        for s in stays:
            first = s["claims"][0]
            last = sorted(s["claims"], key=lambda r: (r.disch, r.admit, r.claim_id))[-1]
            s.update(first_pdx=first.pdx, last_pdx=last.pdx, last_drg=last.drg_code, admit_source=first.admit_source_code,
                     ids={(x.claim_id, x.data_source) for x in s["claims"]}, los=max((s["disch"] - s["admit"]).days, 1))
        return stays

    def _codes_by_claim(self, df) -> dict:
        out: dict = {}
        for a, b, code in zip(df.claim_id, df.data_source, df.code):
            out.setdefault((a, b), set()).add(code)
        return out

    def stay_dx(self, s) -> set:
        if not hasattr(self, "_dx_by_claim"):
            self._dx_by_claim = self._codes_by_claim(self.dx)
        return set().union(*[self._dx_by_claim.get(k, set()) for k in s["ids"]])

    def stay_px(self, s) -> set:
        if not hasattr(self, "_px_by_claim"):
            self._px_by_claim = self._codes_by_claim(self.px)
        return set().union(*[self._px_by_claim.get(k, set()) for k in s["ids"]])

    def hospice(self, year) -> set:
        s, e = dt.date(year, 1, 1), dt.date(year, 12, 31)
        ln = self.ln[(self.ln.revenue_center_code.isin(self.codes("hospice_rev")) |
                      self.ln.hcpcs.isin(self.codes("hospice_hcpcs"))) & (self.ln.date >= s) & (self.ln.date <= e)]
        tob = self.h[self.h.tob2.isin(self.codes("hospice_tob")) & (self.h.claim_start_date <= e)
                     & (self.h.claim_end_date >= s)]
        flag = self.mm[(self.mm.hospice_flag == True) & (self.mm.month_start >= s) & (self.mm.month_start <= e)]  # noqa: E712
        return set(ln.person_id) | set(tob.person_id) | set(flag.person_id)


def _per_mm(events: dict, months: pd.Series) -> dict:
    """Member-month measure per person: (events, member months); persons with either."""
    out = {p: (0, int(n)) for p, n in months.items()}
    for p, n in events.items():
        out[p] = (out.get(p, (0, 0))[0] + n, out.get(p, (0, 0))[1])
    return out


# --- utilization (per person) ----------------------------------------------------------------------------------

def iu_total_discharges(d: Data, year) -> dict:
    newborn, newborn_drg = d.codes("newborn"), d.codes("newborn_drg")
    ev: dict = {}
    for s in d.acute_stays():
        if s["last_pdx"] in newborn or s["first_pdx"] in newborn or (s["last_drg"] or "") in newborn_drg:
            continue
        if s["disch"].year == year and d.enrolled_month(s["person_id"], s["disch"]):
            ev[s["person_id"]] = ev.get(s["person_id"], 0) + 1
    return _per_mm(ev, d.months_in(year))


def amb_ed_visits(d: Data, year) -> dict:
    ed_lines = d.ln[d.ln.revenue_center_code.isin(d.codes("ed_rev")) | d.ln.hcpcs.isin(d.codes("ed_visit_cpt"))]
    claims = ed_lines.groupby(["person_id", "claim_id", "data_source"])["date"].min().reset_index()
    claims = claims.merge(d.h[["claim_id", "data_source", "pdx"]], on=["claim_id", "data_source"])
    psych_claims = set(d.ln[d.ln.hcpcs.isin(d.codes("psychiatry"))].claim_id)
    ip = d.h[d.h.tob2.isin(d.codes("acute_inpatient_tob", "nonacute_inpatient_tob"))]
    admits = set(zip(ip.person_id, ip.admit))
    ev: dict = {}
    for (p, day), g in claims.groupby(["person_id", "date"]):
        if day.year != year or not d.enrolled_month(p, day):
            continue
        if (p, day) in admits or (p, day + dt.timedelta(days=1)) in admits:
            continue
        if g.pdx.fillna("").str.startswith("F").any() or g.claim_id.isin(psych_claims).any():
            continue
        ev[p] = ev.get(p, 0) + 1
    return _per_mm(ev, d.months_in(year))


PQI = {"PQI01-AD": (("01",), 18, None), "PQI05-AD": (("05",), 40, None), "PQI08-AD": (("08",), 18, None),
       "PQI15-AD": (("15",), 18, 39), "PQI92-HH": (("01", "03", "05", "07", "08", "14", "15", "16"), 18, None)}


def pqi(d: Data, year, measure) -> dict:
    """AHRQ PQI_AREA_MEASURES logic on merged acute stays; per enrollee month (Core Set)."""
    numbers, lo, hi = PQI[measure]
    c = d.codes
    ev: dict = {}
    for s in d.acute_stays():
        if s["disch"].year != year or (s["admit_source"] or "") in ("4", "5", "6"):
            continue
        a = age(d.birth.get(s["person_id"]), s["admit"])
        if a is None or a < lo or (hi is not None and a > hi):
            continue
        if not d.enrolled_month(s["person_id"], s["admit"]):
            continue
        pdx, dxs, pxs = s["first_pdx"], d.stay_dx(s), d.stay_px(s)
        cardiac = bool(pxs & c("pqi_appendix_b__cardiac_procedure_codes"))
        hit = {
            "01": pdx in c("pqi_01__diabetes_with_short-term_complications_diagnosis_codes"),
            "03": pdx in c("pqi_03__diabetes_with_long-term_complications_diagnosis_codes"),
            "05": a >= 40 and pdx in c("pqi_05__chronic_obstructive_pulmonary_disorder", "pqi_05__asthma")
                  and not dxs & c("pqi_05__cystic_fibrosis_and_anomalies_of_the_respiratory_system"),
            "07": pdx in c("pqi_07__hypertension_diagnosis_codes") and not cardiac
                  and not (dxs & c("pqi_07__exclusion_kidney_disease_diagnosis_codes")
                           and pxs & c("pqi_07__exclusion_dialysis_access_procedure_codes")),
            "08": pdx in c("pqi_08__heart_failure_diagnosis_codes") and not cardiac,
            "14": pdx in c("pqi_14__uncontrolled_diabetes_diagnosis_codes"),
            "15": a < 40 and pdx in c("pqi_15__asthma_diagnosis_codes")
                  and not dxs & c("pqi_15__cystic_fibrosis_and_anomalies_of_the_respiratory_system_diagnosis_codes"),
            "16": bool(dxs & c("pqi_16__diabetes_diagnosis_codes"))
                  and bool(pxs & c("pqi_16__lower-extremity_amputation_procedure_codes"))
                  and not dxs & c("pqi_16__traumatic_amputation_of_the_lower_extremity_diagnosis_codes")
                  and pdx not in c("pqi_appendix_f__mdc_14_principal_diagnosis_codes"),
        }
        if any(hit[n] for n in numbers):
            ev[s["person_id"]] = ev.get(s["person_id"], 0) + 1
    return _per_mm(ev, d.months_in(year, lo, hi))


# --- member measures ---------------------------------------------------------------------------------------------

def oud_total(d: Data, year) -> dict:
    s, e = dt.date(year, 1, 1), dt.date(year, 12, 31)
    dx = d.dx[d.dx.code.isin(d.codes("sud_opioid")) & (d.dx.claim_start_date >= s) & (d.dx.claim_start_date <= e)]
    den = {p for p in set(dx.person_id) if (a := age(d.birth.get(p), e)) is not None and a >= 18}
    ln = d.ln[d.ln.hcpcs.isin(d.codes("oud_med_buprenorphine_hcpcs", "oud_med_naltrexone_lai_hcpcs",
                                      "oud_med_methadone_hcpcs")) & (d.ln.date >= s) & (d.ln.date <= e)]
    rx = d.rx[d.rx.ndc_code.isin(d.codes("ndc_oud_buprenorphine", "ndc_oud_naltrexone_oral"))
              & (d.rx.dispensing_date >= s) & (d.rx.dispensing_date <= e)]
    treated = set(ln.person_id) | set(rx.person_id)
    return {p: (int(p in treated), 1) for p in den}


def pdc(d: Data, year, vs, esrd=False) -> dict:
    """PQA PDC: age >= 18 on 1 Jan; >= 2 fill dates in MY; first fill on or before 2 Oct; covered days from the
    first fill through 31 Dec / days in that period >= 0.8; hospice (and ESRD) excluded."""
    s, e = dt.date(year, 1, 1), dt.date(year, 12, 31)
    f = d.rx[d.rx.ndc_code.isin(d.codes(vs)) & (d.rx.dispensing_date >= s) & (d.rx.dispensing_date <= e)]
    excluded = d.hospice(year)
    if esrd:
        dx = d.dx[d.dx.code.isin(d.codes("esrd")) & (d.dx.claim_start_date >= s) & (d.dx.claim_start_date <= e)]
        excluded |= set(dx.person_id)
    out = {}
    for p, g in f.groupby("person_id"):
        a = age(d.birth.get(p), s)
        ipsd = g.dispensing_date.min()
        if a is None or a < 18 or g.dispensing_date.nunique() < 2 or ipsd > dt.date(year, 10, 2) or p in excluded:
            continue
        covered = set()
        for r in g.itertuples():
            ds = int(r.days_supply) if not pd.isna(r.days_supply) else 1
            covered |= {r.dispensing_date + dt.timedelta(days=i) for i in range(ds)}
        days = (e - ipsd).days + 1
        n = len({x for x in covered if ipsd <= x <= e})
        out[p] = (int(n / days >= 0.8), 1)
    return out


def cdf(d: Data, year) -> dict:
    s, e = dt.date(year, 1, 1), dt.date(year, 12, 31)
    ln = d.ln[(d.ln.date >= s) & (d.ln.date <= e)]
    enc = set(ln[ln.hcpcs.isin(d.codes("cdf_encounter"))].person_id)
    met = set(ln[ln.hcpcs.isin(d.codes("depression_screen_met"))].person_id)
    exc = set(ln[ln.hcpcs.isin(d.codes("depression_screen_exception"))].person_id)
    prior = set(d.dx[d.dx.code.isin(d.codes("depression_or_bipolar")) & (d.dx.claim_start_date < s)].person_id)
    out = {}
    for p in enc:
        a = age(d.birth.get(p), e)
        if a is None or a < 12 or p in prior or (p in exc and p not in met):
            continue
        out[p] = (int(p in met), 1)
    return out


# --- contraceptive care (OPA) -----------------------------------------------------------------------------------

def enrolled_through(d: Data, person, start: dt.date, end: dt.date, max_gaps: int, max_gap_days: int) -> bool:
    """Enrollment (spans of any plan merged) covers [start, end] with at most max_gaps gaps of at most
    max_gap_days days each; a gap at either end counts."""
    spans = sorted((s, e) for s, e in zip(d.spans.start_date[d.spans.person_id == person],
                                          d.spans.end_date[d.spans.person_id == person]) if s <= end and e >= start)
    gaps, cursor = [], start
    for s, e in spans:
        if s > cursor:
            gaps.append((s - cursor).days)
        cursor = max(cursor, e + dt.timedelta(days=1))
    if cursor <= end:
        gaps.append((end - cursor).days + 1)
    return len(gaps) <= max_gaps and all(g <= max_gap_days for g in gaps)


def code_dates(d: Data, value_sets, start: dt.date, end: dt.date) -> dict:
    """person -> set of dates with a code of the value sets: a line's CPT/HCPCS or revenue code (line date), a claim
    diagnosis or ICD-10-PCS procedure (claim start date)."""
    codes = d.codes(*value_sets)
    ln = d.ln[(d.ln.hcpcs.isin(codes) | d.ln.revenue_center_code.isin(codes)) & (d.ln.date >= start)
              & (d.ln.date <= end)]
    dx = d.dx[d.dx.code.isin(codes) & (d.dx.claim_start_date >= start) & (d.dx.claim_start_date <= end)]
    px = d.px[d.px.code.isin(codes)].merge(d.h[["claim_id", "data_source", "person_id", "claim_start_date"]],
                                          on=["claim_id", "data_source"])
    px = px[(px.claim_start_date >= start) & (px.claim_start_date <= end)]
    out: dict = {}
    for p, day in [*zip(ln.person_id, ln.date), *zip(dx.person_id, dx.claim_start_date),
                   *zip(px.person_id, px.claim_start_date)]:
        out.setdefault(p, set()).add(day)
    return out


LARC = ("contraception_larc_hcpcs", "contraception_larc_dx", "contraception_larc_pcs")
MMEC = LARC + ("contraception_mmec_hcpcs", "contraception_mmec_dx", "contraception_mmec_pcs")


def _women(d: Data) -> set:
    return set(d.person.person_id[d.person.sex.fillna("").str.upper().isin(["F", "FEMALE"])])


def ccw(d: Data, year, lo, hi, larc_only: bool) -> dict:
    """OPA CCW (card): women lo-hi on 31 Dec enrolled in MY (<= 1 gap of <= 45 days, enrolled on 31 Dec), not
    infecund (code in MY) nor pregnant at year end (pregnancy dx 1 Nov-31 Dec); method code in MY."""
    s, e = dt.date(year, 1, 1), dt.date(year, 12, 31)
    infecund = code_dates(d, ("infecund_dx", "infecund_hcpcs", "infecund_pcs"), s, e)
    pregnant = code_dates(d, ("pregnancy",), dt.date(year, 11, 1), e)
    methods = code_dates(d, LARC if larc_only else MMEC, s, e)
    members = set(d.mm1.person_id[(d.mm1.month_start >= s) & (d.mm1.month_start <= e)])
    out = {}
    for p in members & _women(d):
        a = age(d.birth.get(p), e)
        if a is None or not lo <= a <= hi or p in infecund or p in pregnant:
            continue
        if not enrolled_through(d, p, s, e, 1, 45) or not enrolled_through(d, p, e, e, 0, 0):
            continue
        out[p] = (int(p in methods), 1)
    return out


def ccp(d: Data, year, lo, hi, larc_only: bool, days: int) -> dict:
    """OPA CCP (card): each woman's first live birth dated 1 Jan-30 Sep, age lo-hi on that date, enrolled from it
    through 90 days after without a gap; a method code on the delivery date through `days` days after."""
    births = code_dates(d, ("live_birth",), dt.date(year, 1, 1), dt.date(year, 9, 30))
    methods = code_dates(d, LARC if larc_only else MMEC, dt.date(year, 1, 1), dt.date(year, 12, 31))
    women = _women(d)
    out = {}
    for p, dates in births.items():
        delivery = min(dates)
        a = age(d.birth.get(p), delivery)
        if p not in women or a is None or not lo <= a <= hi:
            continue
        if not enrolled_through(d, p, delivery, delivery + dt.timedelta(days=90), 0, 0):
            continue
        met = any(delivery <= m <= delivery + dt.timedelta(days=days) for m in methods.get(p, ()))
        out[p] = (int(met), 1)
    return out
