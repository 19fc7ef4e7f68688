"""Every measure of the FFY2026 Adult, Child and Health Home Core Sets, and for each one the calculator does not
compute, the reason - so that no Core Set measure is silently absent from `icm measures` or the QMR export.

Lists: QMR's measureList2026.ts (Enterprise-CMCS/macpro-mdct-qmr, commit 4317ac616e3a790f5c542483e6d83960e880d1a8),
read for issue 19; the state-specific SS-n-HH placeholders are not listed (states register them with
measures.registry.register). Two kinds of reason:
  * "not computable from claims: ..." - survey, vital-records, electronic clinical data or hybrid (medical-record)
    measures; claims can never give the official rate.
  * "not implemented: ..." - administrative measures the calculator does not compute yet, with what they need.
"""
from __future__ import annotations

FFY2026 = {
    "Adult": ("AAB-AD", "AMR-AD", "AIS-AD", "BCS-AD", "CBP-AD", "CCP-AD", "CCS-AD", "CCW-AD", "CDF-AD", "CHL-AD",
              "COB-AD", "COL-AD", "CPA-AD", "EDV-AD", "FUA-AD", "FUH-AD", "FUM-AD", "GSD-AD", "HPCMI-AD", "HVL-AD",
              "IET-AD", "LRCD-AD", "MSC-AD", "OEVP-AD", "OUD-AD", "PCR-AD", "PDS-AD", "PND-AD", "PPC2-AD",
              "PQI01-AD", "PQI05-AD", "PQI08-AD", "PQI15-AD", "PRS-AD", "SAA-AD", "SSD-AD"),
    "Child": ("AAB-CH", "ADD-CH", "AMR-CH", "APM-CH", "APP-CH", "CCP-CH", "CCW-CH", "CDF-CH", "CHL-CH", "CIS-CH",
              "CPC-CH", "DEV-CH", "FUA-CH", "FUH-CH", "FUM-CH", "IMA-CH", "LSC-CH", "LBW-CH", "LRCD-CH", "OEV-CH",
              "OEVP-CH", "PDS-CH", "PND-CH", "PPC2-CH", "PRS-CH", "SFM-CH", "TFL-CH", "W30-CH", "WCC-CH", "WCV-CH"),
    "Health Home": ("AIF-HH", "CBP-HH", "CDF-HH", "COL-HH", "FUA-HH", "FUH-HH", "FUM-HH", "IET-HH", "IU-HH",
                    "OUD-HH", "PCR-HH"),
}
# FFY2025 as listed in quality-measures.md C.1/C.2 (read from measureList2025.ts of the same repository [V])
FFY2025 = {
    "Adult": ("AAB-AD", "AIS-AD", "AMM-AD", "AMR-AD", "BCS-AD", "CBP-AD", "CCP-AD", "CCS-AD", "CCW-AD", "CDF-AD",
              "CHL-AD", "COB-AD", "COL-AD", "CPA-AD", "CPU-AD", "EDV-AD", "FUA-AD", "FUH-AD", "FUM-AD", "GSD-AD",
              "HPCMI-AD", "HVL-AD", "IET-AD", "LRCD-AD", "MSC-AD", "NCIIDD-AD", "OEVP-AD", "OHD-AD", "OUD-AD",
              "PCR-AD", "PDS-AD", "PPC2-AD", "PQI01-AD", "PQI05-AD", "PQI08-AD", "PQI15-AD", "PRS-AD", "SAA-AD",
              "SSD-AD"),
    "Child": ("AAB-CH", "ADD-CH", "AMR-CH", "APM-CH", "APP-CH", "CCP-CH", "CCW-CH", "CDF-CH", "CHL-CH", "CIS-CH",
              "CPC-CH", "DEV-CH", "FUA-CH", "FUH-CH", "FUM-CH", "IMA-CH", "LSC-CH", "LBW-CH", "LRCD-CH", "OEV-CH",
              "OEVP-CH", "PDS-CH", "PPC2-CH", "PRS-CH", "SFM-CH", "TFL-CH", "W30-CH", "WCC-CH", "WCV-CH"),
    "Health Home": FFY2026["Health Home"],
}
CORE_SET_LISTS = {2025: FFY2025, 2026: FFY2026}

_SURVEY = "not computable from claims: survey measure (CAHPS Health Plan Survey)"
_ECDS = "not computable from claims: electronic clinical data (ECDS) measure; claims hold no screening results"
_VITAL = "not computable from claims: computed from state vital records (birth certificates)"
_HYBRID = "not computable from claims: hybrid measure needing medical-record or lab result values"
_NCQA = ("not implemented: administrative HEDIS measure; needs the licensed NCQA value sets/medication lists and a "
         "measure module")
_DENTAL = "not implemented: administrative dental measure; needs CDT codes (ADA licence) loaded by the user"

REASONS = {
    "CPA-AD": ("CAHPS Health Plan Survey 5.1H, Adult Version", _SURVEY),
    "CPC-CH": ("CAHPS Health Plan Survey 5.1H, Child Version", _SURVEY),
    "MSC-AD": ("Medical Assistance with Smoking and Tobacco Use Cessation", _SURVEY),
    "NCIIDD-AD": ("National Core Indicators Survey", "not computable from claims: survey measure (National Core "
                  "Indicators In-Person Survey)"),
    "CPU-AD": ("Long-Term Services and Supports Comprehensive Care Plan and Update",
               "not computable from claims: care-plan documentation in LTSS case records"),
    "LBW-CH": ("Live Births Weighing Less Than 2,500 Grams", _VITAL),
    "LRCD-AD": ("Low-Risk Cesarean Delivery", _VITAL),
    "LRCD-CH": ("Low-Risk Cesarean Delivery", _VITAL),
    "AIS-AD": ("Adult Immunization Status", _ECDS),
    "PDS-AD": ("Postpartum Depression Screening and Follow-Up", _ECDS),
    "PDS-CH": ("Postpartum Depression Screening and Follow-Up", _ECDS),
    "PND-AD": ("Prenatal Depression Screening and Follow-Up", _ECDS),
    "PND-CH": ("Prenatal Depression Screening and Follow-Up", _ECDS),
    "PRS-AD": ("Prenatal Immunization Status", _ECDS),
    "PRS-CH": ("Prenatal Immunization Status", _ECDS),
    "GSD-AD": ("Glycemic Status Assessment for Patients with Diabetes", _HYBRID),
    "HPCMI-AD": ("Diabetes Care for People with Serious Mental Illness: Glycemic Status > 9.0%", _HYBRID),
    "HVL-AD": ("HIV Viral Load Suppression", _HYBRID),
    "WCC-CH": ("Weight Assessment and Counseling for Nutrition and Physical Activity", _HYBRID),
    "AAB-AD": ("Avoidance of Antibiotic Treatment for Acute Bronchitis/Bronchiolitis", _NCQA),
    "AAB-CH": ("Avoidance of Antibiotic Treatment for Acute Bronchitis/Bronchiolitis", _NCQA),
    "CIS-CH": ("Childhood Immunization Status", _NCQA),
    "IMA-CH": ("Immunizations for Adolescents", _NCQA),
    "LSC-CH": ("Lead Screening in Children", _NCQA),
    "DEV-CH": ("Developmental Screening in the First Three Years of Life",
               "not implemented: administrative measure (CPT 96110); needs a measure module and user-loaded CPT"),
    "EDV-AD": ("Non-traumatic Dental ED Visits", _DENTAL),
    "OEVP-AD": ("Oral Evaluation During Pregnancy", _DENTAL),
    "OEVP-CH": ("Oral Evaluation During Pregnancy", _DENTAL),
    "OEV-CH": ("Oral Evaluation, Dental Services", _DENTAL),
    "SFM-CH": ("Sealant Receipt on Permanent First Molars", _DENTAL),
    "TFL-CH": ("Topical Fluoride for Children", _DENTAL),
}


def core_set_measures(ffy: int) -> dict[str, tuple[str, ...]]:
    """The Core Set lists of an FFY (the latest known list for later FFYs)."""
    return CORE_SET_LISTS[max(y for y in CORE_SET_LISTS if y <= ffy)] if ffy >= min(CORE_SET_LISTS) else {}


def missing_rows(year: int, registered: set[str]) -> list[dict]:
    """Result rows (measure_result columns) for the Core Set measures of FFY year + 1 that are not registered:
    one total row each, no counts, status = the reason."""
    ffy = year + 1
    rows = []
    for core_set, ids in core_set_measures(ffy).items():
        for mid in ids:
            if mid in registered:
                continue
            title, reason = REASONS.get(mid, ("", "not implemented"))
            rows.append(dict(measure_id=mid, measurement_year=year, rate_id="all", stratum_type="total",
                             stratum_value="total", rate_type="none", numerator=None, denominator=None,
                             exclusions=None, rate=None, small_cell=None, status=reason,
                             core_set_status=f"in the FFY{ffy} {core_set} Core Set", lookback_status=None,
                             value_set_versions=None))
    return rows


def title_of(measure_id: str) -> str:
    return REASONS.get(measure_id, ("", ""))[0]
