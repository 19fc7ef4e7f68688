"""BCS-AD: Breast Cancer Screening and CCS-AD: Cervical Cancer Screening (HEDIS, administrative). Every value set is
the user's licensed NCQA file: without it the measures report "not computable: missing value sets".

Specification as known [K: HEDIS MY2024 BCS/CCS administrative specifications as remembered, not re-read for
issue 19]:
  * BCS: women 52-74 on 31 Dec of MY (screening from age 50 within the 27-month look-back) with >= 1 mammogram
    1 Oct two years before MY - 31 Dec MY; exclusions: bilateral mastectomy (or its history) any time through MY,
    hospice, death, palliative care, 66+ in institutional long-term care; enrollment 1 Oct two years before MY -
    31 Dec MY, <= 1 gap of <= 45 days in each year, enrolled on 31 Dec.
  * CCS: women 24-64 on 31 Dec of MY with cervical cytology in MY or the 2 years before (age >= 21 on the test
    date), or, aged 30-64, a high-risk HPV test in MY or the 4 years before (age >= 30 on the test date);
    exclusions: hysterectomy with no residual cervix, cervical agenesis or acquired absence of the cervix any time
    through MY, hospice, death, palliative care; enrollment MY, <= 1 gap of <= 45 days, enrolled on 31 Dec.
"""
from __future__ import annotations

from sqlalchemy import and_, func, literal, or_, select

from measures import blocks as B
from measures.definition import MeasureDefinition, Rate
from measures.defs.common import ADULT, code_events, is_female, rates_from_matches
from measures.defs.prevention import CE_MY, CE_MY_PRIOR
from measures.sqlfuncs import age_at

NOT_RE_READ = "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."


def _women(ctx, name):
    """Women (person sex F) with a member month in MY: unit = person."""
    P, mm = B.P, B.member_months_dedup(ctx)
    enrolled = select(mm.c.person_id).where(mm.c.month_start.between(ctx.my_start, ctx.my_end)).cte(f"{name}_mm")
    return (select(P.c.person_id, P.c.person_id.label("unit_id"), P.c.birth_date)
            .where(is_female(P.c.sex), B.in_set(P.c.person_id, enrolled)).cte(name))


def _latest(units, events, extra, name):
    """Each unit's latest event meeting `extra` (unit_id, claim_id)."""
    return B.first_match(units, events, and_(events.c.person_id == units.c.person_id, extra),
                         (events.c.event_date.desc(), events.c.claim_id), name, extra_cols=(events.c.claim_id,))


def build_bcs(ctx):
    women = _women(ctx, "bcs_women")
    mammo = code_events(ctx, "bcs_mammography", ctx.ymd(-2, 10, 1), ctx.my_end, "mammography")
    fm = _latest(women, mammo, literal(True), "bcs_num")
    mastectomy = code_events(ctx, "bcs_mastectomy", ctx.ymd(-60, 1, 1), ctx.my_end, "bilateral_mastectomy",
                             "history_of_bilateral_mastectomy")
    excluded = B.in_set(women.c.person_id, mastectomy)
    return rates_from_matches(women, women.c.unit_id, women.c.person_id, ctx.my_end, "member", {"screened": fm},
                              excluded=excluded, reason=B.case((excluded, "bilateral mastectomy"), else_=None))


def build_ccs(ctx):
    women = _women(ctx, "ccs_women")
    cytology = code_events(ctx, "ccs_cytology", ctx.ymd(-2, 1, 1), ctx.my_end, "cervical_cytology_lab_test")
    hpv = code_events(ctx, "ccs_hpv", ctx.ymd(-4, 1, 1), ctx.my_end, "high_risk_hpv_lab_test")
    matches = {
        "cytology": _latest(women, cytology, age_at(women.c.birth_date, cytology.c.event_date) >= 21, "ccs_cyt"),
        "hpv": _latest(women, hpv, age_at(women.c.birth_date, hpv.c.event_date) >= 30, "ccs_hpv_m"),
    }
    no_cervix = code_events(ctx, "ccs_no_cervix", ctx.ymd(-60, 1, 1), ctx.my_end,
                            "hysterectomy_with_no_residual_cervix", "absence_of_cervix_diagnosis")
    excluded = B.in_set(women.c.person_id, no_cervix)
    cyt, hpv_m = matches["cytology"], matches["hpv"]
    met = or_(cyt.c.unit_id.is_not(None), hpv_m.c.unit_id.is_not(None))
    return (select(*B.detail_row(women.c.unit_id, "member", women.c.person_id, ctx.my_end, "screened", met,
                                 func.coalesce(cyt.c.claim_id, hpv_m.c.claim_id), excluded=excluded,
                                 exclusion_reason=B.case((excluded, "no residual cervix"), else_=None)))
            .select_from(women.outerjoin(cyt, cyt.c.unit_id == women.c.unit_id)
                         .outerjoin(hpv_m, hpv_m.c.unit_id == women.c.unit_id)))


BCS = MeasureDefinition(
    id="BCS-AD", title="Breast Cancer Screening", steward="NCQA", core_sets=ADULT,
    measurement_period="Calendar measurement year (look-back from 1 Oct two years before)", unit="member",
    rates=(Rate("screened", "proportion"),), build=build_bcs, min_age=52, max_age=74, lookback_years=2,
    age_bands=((52, 64, "52-64"), (65, 74, "65-74")), enrollment=CE_MY_PRIOR,
    standard_exclusions=("hospice", "death", "palliative", "ltc66"),
    value_sets=("mammography", "bilateral_mastectomy", "history_of_bilateral_mastectomy", "palliative_care"),
    card=dict(measures="Share of women 52-74 with a mammogram in the 27 months ending 31 Dec of MY.",
              denominator="Women (person sex F) with a member month in MY, age 52-74 on 31 Dec.",
              numerator="A Mammography code (licensed value set; line CPT/HCPCS/revenue, diagnosis or ICD-10-PCS) "
                        "dated 1 Oct two years before MY - 31 Dec MY.",
              exclusions="Bilateral Mastectomy or History of Bilateral Mastectomy code any time through MY; "
                         "hospice, death, palliative care in MY; 66+ with a long-term institutional member month.",
              enrollment=CE_MY_PRIOR.description),
    deviations=("Every value set is the user's licensed NCQA file (names: Mammography, Bilateral Mastectomy, "
                "History of Bilateral Mastectomy); none ship.",
                "Enrollment in 1 Oct-31 Dec two years before MY is not checked (only MY and the year before).",
                "Two unilateral mastectomies (or unilateral with a bilateral modifier) and the frailty/advanced "
                "illness exclusion (66+) are not modelled.",
                "The Core Set reports ages 50-74; the HEDIS administrative denominator is 52-74 on 31 Dec "
                "(so that the look-back starts at 50) [K].", NOT_RE_READ),
)

CCS = MeasureDefinition(
    id="CCS-AD", title="Cervical Cancer Screening", steward="NCQA", core_sets=ADULT,
    measurement_period="Calendar measurement year (look-back up to 4 prior years)", unit="member",
    rates=(Rate("screened", "proportion"),), build=build_ccs, min_age=24, max_age=64, lookback_years=4,
    age_bands=((24, 29, "24-29"), (30, 64, "30-64")), enrollment=CE_MY,
    standard_exclusions=("hospice", "death", "palliative"),
    value_sets=("cervical_cytology_lab_test", "high_risk_hpv_lab_test", "hysterectomy_with_no_residual_cervix",
                "absence_of_cervix_diagnosis", "palliative_care"),
    card=dict(measures="Share of women 24-64 screened for cervical cancer: cytology within 3 years, or (30-64) "
                       "high-risk HPV testing within 5 years.",
              denominator="Women (person sex F) with a member month in MY, age 24-64 on 31 Dec.",
              numerator="A Cervical Cytology Lab Test code in MY or the 2 years before with age >= 21 on its date, "
                        "or a High Risk HPV Lab Test code in MY or the 4 years before with age >= 30 on its date.",
              exclusions="Hysterectomy With No Residual Cervix or Absence of Cervix Diagnosis any time through MY; "
                         "hospice, death, palliative care in MY.", enrollment=CE_MY.description),
    deviations=("Every value set is the user's licensed NCQA file (names: Cervical Cytology Lab Test, High Risk "
                "HPV Lab Test, Hysterectomy With No Residual Cervix, Absence of Cervix Diagnosis); none ship.",
                "LOINC-coded results are not read (claims only); the sex-assigned-at-birth rule uses person.sex.",
                "The Core Set labels the rate 'ages 21 to 64'; the HEDIS denominator is 24-64 on 31 Dec [K].",
                NOT_RE_READ),
)

MEASURES = [BCS, CCS]
