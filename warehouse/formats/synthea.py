"""Synthea CSV export (SNOMED CT / RxNorm coded, multi-payer through payer_transitions).

Mapping (approximations are documented in the README):
* eligibility <- payer_transitions (+ patients, payers): one span per transition, payer = payers.NAME, payer_type
  from the name (Medicare, Medicaid, Dual Eligible -> dual, NO_INSURANCE -> uninsured, others commercial).
  Synthea's spans share their boundary day (one ends the day the next starts), so each span ends the day before
  its END date (spans of one payer then never overlap). Every published shape is read: START_YEAR/END_YEAR as
  integer years (<= 2.7: 1 January of START_YEAR to 31 December of END_YEAR) or as timestamps (3.0), and
  START_DATE/END_DATE (>= 3.1); MEMBERID (3.0+) defaults to the patient id. SECONDARY_PAYER is not modelled.
* medical_claim <- claims (+ claims_transactions, encounters, payers), Synthea 3.x only (<= 2.7 has no claims
  file: costs sit on encounters, and such an export loads enrollment and pharmacy only). One claim per claim Id.
  With claims_transactions.csv: one line per CHARGE transaction (SNOMED/RxNorm/CVX procedure codes kept with
  service_code_type 'snomed-ct'); the claim's paid amount (insurer PAYMENT transactions, i.e. not the patient's
  own) sits on line 1. Without it (a trimmed export): one line per claim, the claim's own service - the
  encounter's CODE, START/STOP, TOTAL_CLAIM_COST as charge and PAYER_COVERAGE as paid - with the claim's
  DIAGNOSIS1-8 on the header (claims.csv has no procedure columns in any version). The payer is the encounter's
  payer, or the claim's PRIMARYPATIENTINSURANCEID when encounters.csv has no PAYER column, so each claim matches
  its own payer's enrollment; claim type from HEALTHCARECLAIMTYPEID1 (1 professional, 2 institutional); place of
  service from ENCOUNTERCLASS; inpatient encounters carry admission/discharge dates and bill type 0111.
  Diagnoses DIAGNOSIS1-8 are SNOMED CT (diagnosis_code_type 'snomed-ct').
* pharmacy_claim <- medications (+ payers): one fill per medication row, drug_code_type 'rxnorm', claim id
  `<encounter>-<row>`; days supply = STOP - START capped at 365 (30 when open-ended).
"""
from __future__ import annotations

from pathlib import Path

from warehouse.staging import LoadError, SourceFile

DATA_SOURCE = "synthea"

PAYER_TYPE = ("CASE WHEN upper(p.\"NAME\") = 'MEDICARE' THEN 'medicare' WHEN upper(p.\"NAME\") = 'MEDICAID' THEN 'medicaid' "
              "WHEN upper(p.\"NAME\") = 'DUAL ELIGIBLE' THEN 'dual' WHEN upper(p.\"NAME\") = 'NO_INSURANCE' THEN 'uninsured' "
              "ELSE 'commercial' END")
POS = ("CASE lower(e.\"ENCOUNTERCLASS\") WHEN 'emergency' THEN '23' WHEN 'inpatient' THEN '21' WHEN 'urgentcare' THEN '20' "
       "WHEN 'outpatient' THEN '22' WHEN 'snf' THEN '31' WHEN 'home' THEN '12' WHEN 'hospice' THEN '34' ELSE '11' END")


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return [c.strip().strip('"') for c in fh.readline().rstrip("\r\n").split(",")]


def _day(expr: str) -> str:
    return f"substr(CAST({expr} AS VARCHAR), 1, 10)"


def _col(alias: str, columns: list[str], name: str) -> str:
    """`alias."name"` when the file's header has the column, else a typed NULL: Synthea versions add columns."""
    return f'{alias}."{name}"' if name in columns else "NULL::VARCHAR"


def _span_bound(expr: str, *, end: bool) -> str:
    """A payer_transitions bound as YYYY-MM-DD: an integer year (<= 2.7) covers the whole year; a date or timestamp
    (3.x) is a day, and an END day is also the next span's start, so the span ends the day before."""
    day = f"TRY_CAST({_day(expr)} AS DATE)"
    year = f"regexp_matches(trim(CAST({expr} AS VARCHAR)), '^[0-9]{{4}}$')"
    whole_year = f"trim(CAST({expr} AS VARCHAR)) || '{'-12-31' if end else '-01-01'}'"
    as_day = f"strftime(CAST({day} - INTERVAL 1 DAY AS DATE), '%Y-%m-%d')" if end else _day(expr)
    return f"CASE WHEN {year} THEN {whole_year} ELSE {as_day} END"


def _eligibility(folder: Path) -> SourceFile:
    cols = _header(folder / "payer_transitions.csv")
    start, end = ('"START_DATE"', '"END_DATE"') if "START_DATE" in cols else ('"START_YEAR"', '"END_YEAR"')
    if start.strip('"') not in cols or end.strip('"') not in cols:
        raise LoadError(f"{folder / 'payer_transitions.csv'}: Synthea payer_transitions needs START_DATE/END_DATE "
                        "(3.1+) or START_YEAR/END_YEAR (up to 3.0)")
    pcols = _header(folder / "patients.csv")
    fips, state, zip_code = (_col("pt", pcols, c) for c in ("FIPS", "STATE", "ZIP"))
    transform = f"""
      SELECT row_number() OVER (ORDER BY t.rowid) AS _row, t.*, p."NAME" AS _payer_name, {PAYER_TYPE} AS _payer_type,
             pt."BIRTHDATE" AS _birth, pt."DEATHDATE" AS _death, pt."GENDER" AS _gender, pt."RACE" AS _race,
             pt."ETHNICITY" AS _ethnicity, {state} AS _state, {fips} AS _fips, {zip_code} AS _zip,
             {_span_bound('t.' + start, end=False)} AS _start, {_span_bound('t.' + end, end=True)} AS _end,
             {_col('t', cols, 'MEMBERID')} AS _member
      FROM raw t LEFT JOIN raw_payers p ON p."Id" = t."PAYER" LEFT JOIN raw_patients pt ON pt."Id" = t."PATIENT" """
    mapping = {
        "person_id": 'raw."PATIENT"', "member_id": 'coalesce(raw._member, raw."PATIENT")',
        "payer": "coalesce(raw._payer_name, 'unknown payer')", "plan": "coalesce(raw._payer_name, 'unknown payer')",
        "payer_type": "raw._payer_type", "enrollment_start_date": "raw._start", "enrollment_end_date": "raw._end",
        "birth_date": "raw._birth", "death_date": "raw._death", "gender": "raw._gender", "race": "raw._race",
        "ethnicity": "raw._ethnicity", "state": "NULL", "zip_code": "raw._zip",
        "county_fips": "CASE WHEN regexp_matches(raw._fips, '^[0-9]{5}$') THEN raw._fips END",
        "data_source": f"'{DATA_SOURCE}'",
    }
    return SourceFile(path=folder / "payer_transitions.csv", target="eligibility", file_format="synthea",
                      data_source=DATA_SOURCE, extra_sources={"payers": folder / "payers.csv",
                                                              "patients": folder / "patients.csv"},
                      transform_sql=transform, select_sql=mapping)


def _medical(folder: Path) -> SourceFile:
    extra = {"payers": folder / "payers.csv", "encounters": folder / "encounters.csv"}
    ecols = _header(folder / "encounters.csv")
    ccols = _header(folder / "claims.csv")
    if (folder / "claims_transactions.csv").exists():
        extra["tx"] = folder / "claims_transactions.csv"
        lines = """
          charges AS (SELECT "CLAIMID" AS claim, "CHARGEID" AS charge, min("PROCEDURECODE") AS code,
                             min("FROMDATE") AS from_dt, min("TODATE") AS to_dt, min("UNITS") AS units,
                             sum(TRY_CAST("AMOUNT" AS DOUBLE)) AS charge_amount
                      FROM raw_tx WHERE "TYPE" = 'CHARGE' GROUP BY 1, 2),
          payments AS (SELECT "CLAIMID" AS claim, sum(TRY_CAST("PAYMENTS" AS DOUBLE)) AS paid
                       FROM raw_tx WHERE "TYPE" = 'PAYMENT' AND "PATIENTINSURANCEID" IS DISTINCT FROM "PATIENTID"
                       GROUP BY 1),
          lines AS (SELECT c.*, pm.paid AS claim_paid FROM charges c LEFT JOIN payments pm ON pm.claim = c.claim)"""
    else:  # claims.csv only: the claim's own service is its encounter (one line)
        lines = f"""
          lines AS (SELECT c."Id" AS claim, '1' AS charge, {_col('e', ecols, 'CODE')} AS code,
                           coalesce(e."START", c."SERVICEDATE") AS from_dt, coalesce(e."STOP", c."SERVICEDATE") AS to_dt,
                           '1' AS units, TRY_CAST({_col('e', ecols, 'TOTAL_CLAIM_COST')} AS DOUBLE) AS charge_amount,
                           TRY_CAST({_col('e', ecols, 'PAYER_COVERAGE')} AS DOUBLE) AS claim_paid
                    FROM raw c LEFT JOIN raw_encounters e ON e."Id" = c."APPOINTMENTID")"""
    # the encounter's payer (2.x/3.x encounters carry PAYER); else the claim's primary insurance (a payer Id)
    payer_id = ", ".join((_col("e", ecols, "PAYER"), _col("cl", ccols, "PRIMARYPATIENTINSURANCEID")))
    transform = f"""
      WITH {lines.strip()},
      claim_lines AS (
        SELECT c.rowid AS _src, c.*, l.code AS _code, l.from_dt AS _from, l.to_dt AS _to, l.units AS _units,
               l.charge_amount AS _charge, l.claim_paid AS _claim_paid,
               row_number() OVER (PARTITION BY c."Id" ORDER BY TRY_CAST(l.charge AS INTEGER), l.charge) AS _line
        FROM raw c LEFT JOIN lines l ON l.claim = c."Id")
      SELECT row_number() OVER (ORDER BY cl._src, cl._line) AS _row, cl.*,
             p."NAME" AS _payer_name, lower(e."ENCOUNTERCLASS") AS _class, {POS} AS _pos,
             {_day('e."START"')} AS _enc_start, {_day('e."STOP"')} AS _enc_stop
      FROM claim_lines cl
      LEFT JOIN raw_encounters e ON e."Id" = cl."APPOINTMENTID"
      LEFT JOIN raw_payers p ON p."Id" = coalesce({payer_id}) """
    inpatient = "raw._class = 'inpatient'"
    service_day = _day('raw."SERVICEDATE"')
    mapping = {
        "claim_id": 'raw."Id"', "claim_line_number": "raw._line",
        "claim_type": "CASE raw.\"HEALTHCARECLAIMTYPEID1\" WHEN '2' THEN 'institutional' ELSE 'professional' END",
        "person_id": 'raw."PATIENTID"', "member_id": 'raw."PATIENTID"',
        "payer": "coalesce(raw._payer_name, 'unknown payer')", "plan": "coalesce(raw._payer_name, 'unknown payer')",
        "claim_start_date": f"CASE WHEN {inpatient} THEN raw._enc_start ELSE {service_day} END",
        "claim_end_date": f"CASE WHEN {inpatient} THEN raw._enc_stop ELSE {service_day} END",
        "claim_line_start_date": _day("raw._from"), "claim_line_end_date": _day("raw._to"),
        "admission_date": f"CASE WHEN {inpatient} THEN raw._enc_start END",
        "discharge_date": f"CASE WHEN {inpatient} THEN raw._enc_stop END",
        "bill_type_code": f"CASE WHEN {inpatient} THEN '0111' END",
        "place_of_service_code": "raw._pos", "service_code_type": "'snomed-ct'", "hcpcs_code": "raw._code",
        "service_unit_quantity": "raw._units", "paid_amount": "CASE WHEN raw._line = 1 THEN CAST(round(coalesce(raw._claim_paid, 0), 2) AS VARCHAR) ELSE '0' END",
        "charge_amount": "CAST(round(raw._charge, 2) AS VARCHAR)",
        "diagnosis_code_type": "'snomed-ct'",
        **{f"diagnosis_code_{i}": f'raw."DIAGNOSIS{i}"' for i in range(1, 9)},
        "data_source": f"'{DATA_SOURCE}'",
    }
    return SourceFile(path=folder / "claims.csv", target="medical_claim", file_format="synthea",
                      data_source=DATA_SOURCE, extra_sources=extra, transform_sql=transform, select_sql=mapping)


def _pharmacy(folder: Path) -> SourceFile:
    transform = """
      SELECT row_number() OVER (ORDER BY m.rowid) AS _row, m.*, p."NAME" AS _payer_name,
             least(greatest(coalesce(date_diff('day', TRY_CAST(substr(m."START", 1, 10) AS DATE),
                                                TRY_CAST(substr(m."STOP", 1, 10) AS DATE)), 30), 1), 365) AS _days
      FROM raw m LEFT JOIN raw_payers p ON p."Id" = m."PAYER" """
    mapping = {
        "claim_id": "coalesce(raw.\"ENCOUNTER\", 'med') || '-' || CAST(raw._row AS VARCHAR)",
        "claim_line_number": "'1'", "person_id": 'raw."PATIENT"', "member_id": 'raw."PATIENT"',
        "payer": "coalesce(raw._payer_name, 'unknown payer')", "plan": "coalesce(raw._payer_name, 'unknown payer')",
        "dispensing_date": _day('raw."START"'), "drug_code_type": "'rxnorm'", "ndc_code": 'raw."CODE"',
        "days_supply": "CAST(raw._days AS VARCHAR)", "quantity": 'raw."DISPENSES"',
        "paid_amount": 'raw."PAYER_COVERAGE"', "allowed_amount": 'raw."TOTALCOST"', "charge_amount": 'raw."TOTALCOST"',
        "data_source": f"'{DATA_SOURCE}'",
    }
    return SourceFile(path=folder / "medications.csv", target="pharmacy_claim", file_format="synthea",
                      data_source=DATA_SOURCE, extra_sources={"payers": folder / "payers.csv"},
                      transform_sql=transform, select_sql=mapping)


def detect_version(folder: Path) -> str:
    """The Synthea release an export's shape matches, for the load report: payer_transitions START_DATE/END_DATE
    (3.1+), MEMBERID with START_YEAR/END_YEAR (3.0), START_YEAR/END_YEAR alone (up to 2.7); then how claims come."""
    cols = _header(folder / "payer_transitions.csv")
    if "START_DATE" in cols:
        release = "3.1+"
    elif "MEMBERID" in cols or (folder / "claims.csv").exists():   # claims.csv first appears in 3.0
        release = "3.0"
    else:
        release = "up to 2.7"
    if (folder / "claims_transactions.csv").exists():
        claims = "claims.csv with claims_transactions.csv (one line per charge)"
    elif (folder / "claims.csv").exists():
        claims = "claims.csv without claims_transactions.csv (one line per claim, from its encounter)"
    else:
        claims = "no claims.csv (no medical claims)"
    return f"Synthea {release}; {claims}"


def discover_synthea(folder: Path, payer: str | None = None) -> list[SourceFile]:
    required = ("patients.csv", "payers.csv", "payer_transitions.csv")
    if not (folder / "payer_transitions.csv").exists():
        return []
    missing = [f for f in required if not (folder / f).exists()]
    if missing:
        raise LoadError(f"{folder}: Synthea export is missing {', '.join(missing)}")
    sources = [_eligibility(folder)]
    if (folder / "claims.csv").exists():
        if not (folder / "encounters.csv").exists():
            raise LoadError(f"{folder}: Synthea claims.csv needs encounters.csv (the claim's payer and setting)")
        sources.append(_medical(folder))
    if (folder / "medications.csv").exists():
        sources.append(_pharmacy(folder))
    version = detect_version(folder)
    for source in sources:
        source.notes["format_version"] = version
    return sources
