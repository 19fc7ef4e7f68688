"""Code tables used by the synthetic state generator (public code systems only: ICD-10-CM, CPT/HCPCS
level I/II as used in public value sets, UB-04 revenue / type-of-bill, CMS place of service, NDC-11).

The NDC table below is the single place the generator takes drug codes from; measure authors can use it
to check which NDCs a synthetic population can contain.
"""
from __future__ import annotations

STATE = "MN"
# ~20 counties of one state (Minnesota, state FIPS 27) with rough population weights.
COUNTIES = [
    ("27053", 22), ("27123", 10), ("27037", 7), ("27003", 6), ("27163", 5), ("27139", 3), ("27019", 2),
    ("27137", 4), ("27109", 3), ("27145", 3), ("27171", 2), ("27141", 2), ("27027", 1.2), ("27013", 1.3),
    ("27131", 1.2), ("27049", 1), ("27035", 1.3), ("27007", 1.1), ("27111", 1), ("27169", 1),
]
COUNTY_ZIP = {  # one representative ZIP per county
    "27053": "55404", "27123": "55101", "27037": "55124", "27003": "55303", "27163": "55125", "27139": "55379",
    "27019": "55318", "27137": "55802", "27109": "55901", "27145": "56301", "27171": "55313", "27141": "55330",
    "27027": "56560", "27013": "56001", "27131": "55021", "27049": "55066", "27035": "56401", "27007": "56601",
    "27111": "56537", "27169": "55987",
}

ELIG_GROUPS = ["child", "parent_caretaker", "adult_expansion", "aged", "blind_disabled"]
ELIG_GROUP_P = [0.40, 0.15, 0.27, 0.08, 0.10]

RACES = ["white", "black or african american", "asian", "american indian or alaska native",
         "native hawaiian or other pacific islander", "other race", "unknown"]
RACE_P = [0.55, 0.20, 0.06, 0.04, 0.01, 0.05, 0.09]
ETHNICITIES = ["not hispanic or latino", "hispanic or latino", "unknown"]
ETHNICITY_P = [0.80, 0.12, 0.08]

# --- diagnoses (ICD-10-CM, no dots) ------------------------------------------------------------
DX_SCHIZO = ["F200", "F209", "F250"]
DX_BIPOLAR = ["F311", "F319"]
DX_DEPRESSION = ["F320", "F321", "F322", "F323", "F329", "F331", "F332", "F339"]
DX_MH_OTHER = ["F411", "F4310"]
DX_SELF_HARM = ["R45851", "T1491XA"]
DX_MH = DX_SCHIZO + DX_BIPOLAR + DX_DEPRESSION + DX_MH_OTHER + DX_SELF_HARM
DX_SUD_ALCOHOL = ["F1010", "F1020", "F10239"]
DX_SUD_OPIOID = ["F1110", "F1120", "F1123"]
DX_SUD_OTHER = ["F1210", "F1420", "F1520"]
DX_SUD = DX_SUD_ALCOHOL + DX_SUD_OPIOID + DX_SUD_OTHER
DX_OVERDOSE = ["T400X1A", "T401X1A", "T402X1A", "T404X1A"]
DX_DIABETES = ["E119", "E1165", "E1122"]
DX_DIABETES_ACUTE = ["E1010", "E1011", "E1100", "E1065"]       # PQI 01 principal dx
DX_COPD = ["J441", "J449", "J440"]
DX_ASTHMA = ["J4541", "J4551", "J45901", "J45909"]
DX_HTN = ["I10"]
DX_HF = ["I509", "I5020", "I5030", "I110"]
DX_COLORECTAL_CA = ["C189"]
DX_PREGNANCY = ["O80", "Z3A39"]
DX_GENERAL = ["Z0000", "Z0001", "J069", "M545", "R109", "Z23", "K219", "E785", "R51", "J019", "N390",
              "M25561", "R05", "L309", "H6690", "Z00129", "E669", "R0600", "K5900", "M791"]
DX_CHILD = ["Z00129", "J069", "H6690", "J029", "Z23", "R509", "L209", "J3089"]
DX_MEDICAL_ADMIT = ["A419", "J189", "N390", "K5720", "I214", "I639", "K8000", "L03116", "E871", "J9601"]

# --- procedures (CPT / HCPCS) ---------------------------------------------------------------------
EM_OFFICE = ["99211", "99212", "99213", "99214", "99215"]
EM_OFFICE_P = [0.03, 0.17, 0.45, 0.30, 0.05]
EM_NEW = ["99203", "99204"]
ED_EM = ["99281", "99282", "99283", "99284", "99285"]
ED_EM_P = [0.05, 0.15, 0.35, 0.30, 0.15]
LABS = ["80053", "85025", "83036", "80061", "84443", "81001", "87880", "36415"]
IMAGING = ["71046", "73030", "72100", "74177", "76700"]
BH_VISIT = ["90834", "90837", "90832", "90791", "99213"]
BH_VISIT_P = [0.40, 0.20, 0.15, 0.10, 0.15]
SUD_INIT = ["H0001", "H0004", "90834", "H0015"]
SUD_ENGAGE = ["H0004", "H0005", "H0015", "H2035", "T1006", "90834"]
MAT_HCPCS_BUP = ["J0571", "J0572", "J0573", "J0574", "J0575", "Q9991", "Q9992"]
MAT_HCPCS_NALTREXONE = ["J2315"]
MAT_HCPCS_METHADONE = ["H0020", "G2067"]
COLORECTAL = {"colonoscopy": "45378", "colonoscopy_g": "G0121", "colonoscopy_hr": "G0105",
              "fobt": "82270", "fit": "G0328", "sdna": "81528"}
BP_SYSTOLIC = ["3074F", "3075F", "3077F"]
BP_DIASTOLIC = ["3078F", "3079F", "3080F"]
DEPRESSION_SCREEN = ["G8431", "G8510"]
NF_VISIT = ["99307", "99308", "99309", "99310"]
INPATIENT_PROF = ["99222", "99223", "99232", "99233"]
DME = ["E0601", "A4253", "E0114", "A7030"]

# --- institutional codes ----------------------------------------------------------------------------
TOB_INPATIENT = "0111"
TOB_OUTPATIENT = "0131"
TOB_SNF = ["0211", "0221"]
TOB_HOSPICE = "0811"
REV_MH_ROOM = ["0100", "0114", "0124"]
REV_MED_ROOM = ["0110", "0120"]
REV_SNF = ["0022", "0191"]
DRG_MH = "885"
DRG_MEDICAL = ["871", "193", "690", "392", "281", "065", "603", "641", "378", "189"]
DRG_PQI = {"diabetes": "638", "copd": "190", "asthma": "202", "hf": "291"}
DRG_DELIVERY = "807"

# --- NDC-11 (the generator's drug table) -------------------------------------------------------------
# name: (ndc, days_supply, quantity, unit price in cents per 30 days, class)
NDC = {
    "buprenorphine_naloxone": ("12496120203", 30, 60, 32000, "oud_bup"),
    "buprenorphine": ("00054017613", 30, 60, 21000, "oud_bup"),
    "naltrexone": ("00406117001", 30, 30, 6000, "oud_naltrexone"),
    "hydrocodone_apap_10_325": ("00406036001", 30, 120, 2500, "opioid"),   # 10 mg q6h = 40 MME/day
    "oxycodone_10": ("00406852301", 30, 120, 3200, "opioid"),              # 10 mg q6h = 60 MME/day
    "oxycodone_30": ("00406853201", 30, 120, 7800, "opioid"),              # 30 mg q6h = 180 MME/day
    "morphine_er_60": ("00406832601", 30, 60, 9000, "opioid"),             # 60 mg q12h = 120 MME/day
    "alprazolam": ("00228203010", 30, 60, 900, "benzodiazepine"),
    "lorazepam": ("00591024005", 30, 60, 1100, "benzodiazepine"),
    "sertraline": ("16729000101", 30, 30, 800, "antidepressant"),
    "fluoxetine": ("00093719856", 30, 30, 700, "antidepressant"),
    "atorvastatin": ("00071015523", 30, 30, 1200, "statin"),
    "lisinopril": ("00093111101", 30, 30, 600, "ras"),
    "metformin": ("00093104801", 30, 60, 700, "diabetes"),
    "albuterol": ("00173068220", 30, 1, 4500, "asthma_reliever"),
    "fluticasone": ("00173071920", 30, 1, 19000, "asthma_controller"),
    "risperidone": ("00781522201", 30, 60, 1500, "antipsychotic"),
    # generic filler (acute fills)
    "amoxicillin": ("00093310905", 10, 30, 900, "filler"),
    "ibuprofen": ("00904585360", 10, 30, 500, "filler"),
    "azithromycin": ("59762314001", 5, 6, 1400, "filler"),
    "cetirizine": ("00904673161", 30, 30, 600, "filler"),
    "omeprazole": ("62175011843", 30, 30, 1000, "filler"),
    "cephalexin": ("00093314701", 10, 40, 1200, "filler"),
    "prednisone": ("00591544301", 5, 10, 400, "filler"),
    "ondansetron": ("68462010530", 5, 10, 800, "filler"),
    "levothyroxine": ("00378180001", 30, 30, 1100, "filler"),
    "amlodipine": ("00093716798", 30, 30, 700, "filler"),
}
FILLER_DRUGS = [k for k, v in NDC.items() if v[4] == "filler"]

# --- providers: (provider_type, taxonomy, specialty, is_mental_health_provider) --------------------
TAXONOMY = {
    "pcp": [("207Q00000X", "family medicine", False), ("207R00000X", "internal medicine", False),
            ("208000000X", "pediatrics", False), ("363LF0000X", "nurse practitioner - family", False)],
    "specialist": [("207RC0000X", "cardiovascular disease", False), ("207RE0101X", "endocrinology", False),
                   ("207RP1001X", "pulmonary disease", False), ("207RG0100X", "gastroenterology", False),
                   ("208600000X", "surgery", False), ("207V00000X", "obstetrics & gynecology", False),
                   ("207X00000X", "orthopaedic surgery", False), ("207P00000X", "emergency medicine", False)],
    "behavioral_health": [("2084P0800X", "psychiatry", True), ("103T00000X", "psychologist", True),
                          ("1041C0700X", "clinical social worker", True), ("101YA0400X", "addiction counselor", True),
                          ("101YM0800X", "mental health counselor", True)],
    "facility": [("282N00000X", "general acute care hospital", False), ("283Q00000X", "psychiatric hospital", True),
                 ("314000000X", "skilled nursing facility", False), ("261QM0801X", "community mental health center", True),
                 ("291U00000X", "clinical medical laboratory", False), ("251G00000X", "hospice", False),
                 ("261QR0405X", "substance use disorder clinic", True)],
    "pharmacy": [("3336C0003X", "community/retail pharmacy", False)],
}

PROGRAMS = [
    ("HH-SMI", "Health Home for Serious Mental Illness", "health_home_smi"),
    ("HH-SUD", "Health Home for Substance Use Disorder", "health_home_sud"),
    ("HH-CC", "Health Home for Chronic Conditions", "health_home_chronic"),
    ("ACO-1", "Integrated Health Partnership (ACO-like)", "aco"),
]
# ACO entities: id, name, risk arrangement, cost drift reached by the last generated year (relative to
# the first year, on top of the statewide trend): some well below benchmark, some within +-2%, one
# two-sided entity clearly above.
ACO_ENTITIES = [
    ("ACO-1-E01", "North Star Community Health Partners", "two_sided", -0.11),
    ("ACO-1-E02", "Lakes Region Care Collaborative", "one_sided", -0.07),
    ("ACO-1-E03", "Prairie Family Medicine Network", "one_sided", -0.005),
    ("ACO-1-E04", "Twin Rivers Accountable Care", "two_sided", 0.01),
    ("ACO-1-E05", "Iron Range Health Alliance", "one_sided", -0.035),
    ("ACO-1-E06", "Metro Integrated Care Partners", "two_sided", 0.09),
]
ACO_WEIGHTS = [0.22, 0.18, 0.17, 0.15, 0.10, 0.18]
HH_ENTITIES = [
    ("HH-SMI-E01", "HH-SMI", "Northland Behavioral Health Home"),
    ("HH-SMI-E02", "HH-SMI", "Metro Community Mental Health Center"),
    ("HH-SUD-E01", "HH-SUD", "Recovery Pathways Health Home"),
    ("HH-SUD-E02", "HH-SUD", "Riverbend Addiction Services"),
    ("HH-CC-E01", "HH-CC", "Chronic Care Connect Health Home"),
    ("HH-CC-E02", "HH-CC", "Southern Minnesota Care Coordination"),
]
