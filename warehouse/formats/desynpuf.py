"""CMS DE-SynPUF (Data Entrepreneurs' Synthetic Public Use File; ICD-9 era, Medicare FFS, 2008-2010).

Files are recognised by their CMS names (`DE1_0_<years>_<kind>_Sample_<n>.csv`) or the short OHDSI names
(`beneficiary_summary.csv`, `inpatient_claims.csv`, `outpatient_claims.csv`, `carrier_claims.csv`,
`prescription_drug_events.csv`). All dates are YYYYMMDD. Approximations (documented in the README):

* Enrollment: the beneficiary summary gives coverage-month totals per year, not dates. Each bene-year becomes
  one span from 1 January lasting max(Part A, Part B) months (truncated at death). A bene-year with 0 Part A
  and 0 Part B months (death, loss of entitlement) has no coverage: it gives no span, is not a row of the load
  (neither loaded nor quarantined) and is counted in the load report's notes as `no_coverage` (file rows =
  rows_read + no_coverage). Dual status is not in the
  files. medicare_status_code is derived: 10 aged, 20 disabled (<65), 11/21 with ESRD. county_fips holds the
  SSA state + county code (5 digits), not a FIPS code.
* Inpatient/outpatient: one claim per CLM_ID; each SEGMENT and each outpatient HCPCS_CD_n is a line. Header
  fields come from the first segment so segments never disagree; CLM_PMT_AMT is the paid amount of line 1.
  Bill type 0111 (inpatient) / 0131 (outpatient) is assumed: the files carry none.
* Carrier: the 13 line groups are unpivoted into lines; a claim with no line group keeps one line so no
  source row disappears. PDE: PROD_SRVC_ID is taken as the NDC-11 (malformed ones are quarantined).
* NPIs: the synthetic NPIs are often not 10 digits; those are blanked (not quarantined).
"""
from __future__ import annotations

import re
from pathlib import Path

from warehouse.staging import LoadError, SourceFile, _header_columns, _q

DATA_SOURCE = "desynpuf"
PAYER = "medicare"
DATE_FMT = "%Y%m%d"

_KINDS = {
    "beneficiary": ("eligibility", re.compile(r"beneficiary", re.I)),
    "inpatient": ("medical_claim", re.compile(r"inpatient", re.I)),
    "outpatient": ("medical_claim", re.compile(r"outpatient", re.I)),
    "carrier": ("medical_claim", re.compile(r"carrier", re.I)),
    "pde": ("pharmacy_claim", re.compile(r"prescription_drug|_pde|^pde", re.I)),
}


def _kind(path: Path) -> str | None:
    for kind, (_target, pattern) in _KINDS.items():
        if pattern.search(path.name):
            return kind
    return None


def _year(path: Path) -> str | None:
    m = re.search(r"(19|20)\d\d", path.name)
    return m.group(0) if m else None


def _c(name: str) -> str:
    return f'raw."{name}"'


def _npi(expr: str) -> str:
    # DE-SynPUF NPIs are synthetic and often not 10 digits; blank them rather than quarantine the claim
    return f"CASE WHEN regexp_matches({expr}, '^[0-9]{{10}}$') THEN {expr} END"


def _coverage_months(table: str) -> str:
    """Months of Part A or Part B coverage in the bene-year (the larger of the two totals)."""
    return (f"greatest(TRY_CAST({table}.\"BENE_HI_CVRAGE_TOT_MONS\" AS INTEGER), "
            f"TRY_CAST({table}.\"BENE_SMI_CVRAGE_TOT_MONS\" AS INTEGER), 0)")


# A bene-year whose coverage totals are 0 (one may be blank, not both) is no enrollment: left out before staging
# and counted (see docstring). Totals that do not parse stay in and fail staging as before.
_NO_COVERAGE = ("coalesce(TRY_CAST(\"BENE_HI_CVRAGE_TOT_MONS\" AS INTEGER), 0) = 0 "
                "AND coalesce(TRY_CAST(\"BENE_SMI_CVRAGE_TOT_MONS\" AS INTEGER), 0) = 0 "
                "AND (TRY_CAST(\"BENE_HI_CVRAGE_TOT_MONS\" AS INTEGER) IS NOT NULL "
                "OR TRY_CAST(\"BENE_SMI_CVRAGE_TOT_MONS\" AS INTEGER) IS NOT NULL)")
BENEFICIARY_TRANSFORM = f"SELECT row_number() OVER (ORDER BY rowid) AS _row, * FROM raw WHERE NOT ({_NO_COVERAGE})"
BENEFICIARY_COUNTS = {"no_coverage": f"SELECT count(*) FROM raw WHERE {_NO_COVERAGE}"}


def _beneficiary(path: Path, payer: str) -> dict[str, str]:
    year = _year(path)
    # the OHDSI "input" variant carries the year in a YEAR column instead of the file name
    year_sql = f"'{year}'" if year else 'raw."YEAR"'
    start = f"CAST(strptime({year_sql} || '0101', '%Y%m%d') AS DATE)"
    months = _coverage_months("raw")
    end = f"CAST({start} + to_months({months}) - INTERVAL 1 DAY AS DATE)"
    death = f"CAST(TRY_STRPTIME({_c('BENE_DEATH_DT')}, '%Y%m%d') AS DATE)"
    birth = f"CAST(TRY_STRPTIME({_c('BENE_BIRTH_DT')}, '%Y%m%d') AS DATE)"
    esrd = f"coalesce({_c('BENE_ESRD_IND')}, '0') IN ('Y', '1')"
    aged = f"date_diff('year', {birth}, {start}) >= 65"
    return {
        "person_id": _c("DESYNPUF_ID"), "member_id": _c("DESYNPUF_ID"),
        "gender_code": _c("BENE_SEX_IDENT_CD"),
        "race": (f"CASE {_c('BENE_RACE_CD')} WHEN '1' THEN 'white' WHEN '2' THEN 'black' WHEN '3' THEN 'other' "
                 f"WHEN '5' THEN 'hispanic' END"),
        "birth_date": _c("BENE_BIRTH_DT"), "death_date": _c("BENE_DEATH_DT"),
        "enrollment_start_date": f"strftime({start}, '%Y%m%d')",
        "enrollment_end_date": f"strftime(CASE WHEN {death} < {end} THEN {death} ELSE {end} END, '%Y%m%d')",
        "payer": f"'{payer}'", "plan": "'medicare_ffs'", "payer_type": "'medicare'",
        "medicare_status_code": (f"CASE WHEN {aged} THEN CASE WHEN {esrd} THEN '11' ELSE '10' END "
                                 f"ELSE CASE WHEN {esrd} THEN '21' ELSE '20' END END"),
        "state": None, "county_fips": (f"lpad({_c('SP_STATE_CODE')}, 2, '0') || lpad({_c('BENE_COUNTY_CD')}, 3, '0')"),
        "data_source": f"'{DATA_SOURCE}'",
    }


def _institutional_transform(columns: list[str], outpatient: bool) -> str:
    """One line per segment, plus (outpatient) one line per HCPCS_CD_n; header fields from segment 1."""
    hcpcs = [c for c in columns if re.fullmatch(r"HCPCS_CD_\d+", c)]
    base = ("SELECT *, first_value(\"SEGMENT\") OVER (PARTITION BY \"CLM_ID\" ORDER BY TRY_CAST(\"SEGMENT\" AS INTEGER)) AS _first_seg, "
            "rowid AS _src FROM raw")
    if outpatient and hcpcs:
        unions = " UNION ALL ".join(f"SELECT _src, {i} AS _k, {_q(c)} AS _hcpcs FROM r WHERE {_q(c)} IS NOT NULL AND {_q(c)} <> ''"
                                    for i, c in enumerate(hcpcs, 1))
        lines = (f"lines AS (SELECT _src, _k, _hcpcs FROM ({unions}) "
                 f"UNION ALL SELECT _src, 0, NULL FROM r WHERE NOT EXISTS (SELECT 1 FROM ({unions}) u WHERE u._src = r._src))")
    else:
        lines = "lines AS (SELECT _src, 0 AS _k, NULL AS _hcpcs FROM r)"
    header_cols = [c for c in columns if c not in ("SEGMENT",) and not re.fullmatch(r"HCPCS_CD_\d+", c)]
    header = ", ".join(f"h.{_q(c)}" for c in header_cols)   # names from the file's header: quoted identifiers
    return f"""
      WITH r AS ({base}), {lines},
      h AS (SELECT * FROM r WHERE "SEGMENT" = _first_seg)
      SELECT row_number() OVER (ORDER BY r._src, l._k) AS _row, {header}, r."SEGMENT" AS "SEGMENT",
             row_number() OVER (PARTITION BY r."CLM_ID" ORDER BY TRY_CAST(r."SEGMENT" AS INTEGER), l._k) AS _line,
             l._hcpcs AS _hcpcs, (r._src = h._src AND l._k <= 1) AS _first
      FROM r JOIN lines l ON l._src = r._src JOIN h ON h."CLM_ID" = r."CLM_ID"
      QUALIFY row_number() OVER (PARTITION BY r._src, l._k ORDER BY h._src) = 1"""


def _institutional(columns: list[str], outpatient: bool, payer: str) -> dict[str, str]:
    dx = [c for c in columns if re.fullmatch(r"ICD9_DGNS_CD_\d+", c)]
    px = [c for c in columns if re.fullmatch(r"ICD9_PRCDR_CD_\d+", c)]
    m = {
        "claim_id": _c("CLM_ID"), "claim_line_number": "raw._line", "claim_type": "'institutional'",
        "person_id": _c("DESYNPUF_ID"), "member_id": _c("DESYNPUF_ID"), "payer": f"'{payer}'", "plan": "'medicare_ffs'",
        "claim_start_date": _c("CLM_FROM_DT"), "claim_end_date": _c("CLM_THRU_DT"),
        "bill_type_code": "'0131'" if outpatient else "'0111'",
        "rendering_npi": _npi(_c("AT_PHYSN_NPI")), "hcpcs_code": "raw._hcpcs",
        "paid_amount": f"CASE WHEN raw._first THEN {_c('CLM_PMT_AMT')} ELSE '0' END",
        "diagnosis_code_type": "'icd-9-cm'", "procedure_code_type": "'icd-9-pcs'",
        "data_source": f"'{DATA_SOURCE}'",
    }
    if not outpatient:
        m.update({"admission_date": _c("CLM_ADMSN_DT"), "discharge_date": _c("NCH_BENE_DSCHRG_DT"),
                  "drg_code_type": "'ms-drg'", "drg_code": _c("CLM_DRG_CD")})
    for i, c in enumerate(dx, 1):
        m[f"diagnosis_code_{i}"] = _c(c)
    for i, c in enumerate(px, 1):
        m[f"procedure_code_{i}"] = _c(c)
    return m


def _carrier_transform(columns: list[str]) -> str:
    groups = sorted({int(m.group(1)) for c in columns if (m := re.fullmatch(r"HCPCS_CD_(\d+)", c))})
    header_cols = [c for c in columns if not re.search(r"_\d+$", c) or re.fullmatch(r"ICD9_DGNS_CD_\d+", c)]
    header = ", ".join(_q(c) for c in header_cols)   # names from the file's header: quoted identifiers
    parts = []
    for n in groups:
        cond = "TRUE" if n == groups[0] else f'"HCPCS_CD_{n}" IS NOT NULL AND "HCPCS_CD_{n}" <> \'\''
        parts.append(f"""SELECT rowid AS _src, {n} AS _k, {header}, "HCPCS_CD_{n}" AS _hcpcs,
                 "PRF_PHYSN_NPI_{n}" AS _npi, "LINE_NCH_PMT_AMT_{n}" AS _paid, "LINE_ALOWD_CHRG_AMT_{n}" AS _allowed
                 FROM raw WHERE {cond}""")
    return (f"SELECT row_number() OVER (ORDER BY _src, _k) AS _row, "
            f"row_number() OVER (PARTITION BY \"CLM_ID\" ORDER BY _src, _k) AS _line, * EXCLUDE (_src, _k) "
            f"FROM ({' UNION ALL '.join(parts)})")


def _carrier(columns: list[str], payer: str) -> dict[str, str]:
    dx = [c for c in columns if re.fullmatch(r"ICD9_DGNS_CD_\d+", c)]
    m = {
        "claim_id": _c("CLM_ID"), "claim_line_number": "raw._line", "claim_type": "'professional'",
        "person_id": _c("DESYNPUF_ID"), "member_id": _c("DESYNPUF_ID"), "payer": f"'{payer}'", "plan": "'medicare_ffs'",
        "claim_start_date": _c("CLM_FROM_DT"), "claim_end_date": _c("CLM_THRU_DT"),
        "hcpcs_code": "raw._hcpcs", "rendering_npi": _npi("raw._npi"), "paid_amount": "raw._paid",
        "allowed_amount": "raw._allowed", "diagnosis_code_type": "'icd-9-cm'", "data_source": f"'{DATA_SOURCE}'",
    }
    for i, c in enumerate(dx, 1):
        m[f"diagnosis_code_{i}"] = _c(c)
    return m


def _pde(payer: str) -> dict[str, str]:
    return {
        "claim_id": _c("PDE_ID"), "claim_line_number": "'1'", "person_id": _c("DESYNPUF_ID"),
        "member_id": _c("DESYNPUF_ID"), "payer": f"'{payer}'", "plan": "'medicare_part_d'",
        "dispensing_date": _c("SRVC_DT"), "ndc_code": _c("PROD_SRVC_ID"), "quantity": _c("QTY_DSPNSD_NUM"),
        "days_supply": f"CAST(TRY_CAST({_c('DAYS_SUPLY_NUM')} AS DOUBLE) AS INTEGER)",
        "paid_amount": _c("TOT_RX_CST_AMT"), "copayment_amount": _c("PTNT_PAY_AMT"), "data_source": f"'{DATA_SOURCE}'",
    }


def _header(path: Path) -> list[str]:
    """The column names as the reader names them (staging._header_columns: CSV quoting, BOM removed)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    return _header_columns(first.rstrip("\r\n").lstrip("\ufeff"), ",")


def detect_version(path: Path) -> str:
    """The DE-SynPUF release, years and sample a file belongs to, from its CMS name (DE1_0_<years>_..._Sample_<n>);
    DE 1.0 (2008-2010) is the only release CMS published. OHDSI's short names carry neither year nor sample."""
    m = re.match(r"DE(\d+)_(\d+)_((?:19|20)\d\d(?:_to_(?:19|20)\d\d)?)_.*_Sample_(\w+)\.csv$", path.name, re.I)
    if not m:
        return "CMS DE-SynPUF DE1.0 (short file name: years and sample not in the name)"
    years = m.group(3).replace("_to_", "-")
    return f"CMS DE-SynPUF DE{m.group(1)}.{m.group(2)}, {years}, sample {m.group(4)}"


def _require_columns(path: Path, columns: list[str], sql: list[str | None]) -> None:
    """Every file column the mapping and transform name (as "NAME") must be in the header: a missing one is one
    line naming the file and the columns, not the database's binder error."""
    # quoted identifiers as SQL writes them ("" inside is one "), so a header name holding quotes is read whole
    wanted = {name.replace('""', '"') for text in sql if text for name in re.findall(r'"((?:[^"]|"")*)"', text)}
    missing = sorted(wanted - set(columns))
    if missing:
        raise LoadError(f"{path}: missing DE-SynPUF column(s) {', '.join(missing)}: the header must name every "
                        "column of the CMS layout this file's kind uses")


def discover_desynpuf(folder: Path, payer: str | None = None) -> list[SourceFile]:
    payer = payer or PAYER
    sources = []
    for path in sorted(p for p in folder.rglob("*.csv") if p.is_file()):
        kind = _kind(path)
        if kind is None:
            continue
        target = _KINDS[kind][0]
        columns = _header(path)
        transform, counts = None, {}
        if kind == "beneficiary":
            transform, counts = BENEFICIARY_TRANSFORM, BENEFICIARY_COUNTS
            mapping = _beneficiary(path, payer)
        elif kind in ("inpatient", "outpatient"):
            transform = _institutional_transform(columns, outpatient=kind == "outpatient")
            mapping = _institutional(columns, kind == "outpatient", payer)
        elif kind == "carrier":
            transform = _carrier_transform(columns)
            mapping = _carrier(columns, payer)
        else:
            mapping = _pde(payer)
        _require_columns(path, columns, [transform, *counts.values(), *mapping.values()])
        sources.append(SourceFile(path=path, target=target, file_format="desynpuf", data_source=DATA_SOURCE,
                                  payer=payer, date_format=DATE_FMT, transform_sql=transform, count_sql=counts,
                                  select_sql={k: v for k, v in mapping.items() if v is not None},
                                  notes={"format_version": detect_version(path)}))
    return sources
