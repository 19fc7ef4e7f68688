"""Tuva input-layer versions: which release a file's header matches, how its columns map to the canonical layout,
and what the load report says about them.

Version history (`tuva-health/tuva` seed headers at each tag; shared/spec/medicaid-feeds.md section 4):
  v0.4-v0.5   claims carry `patient_id`, `ms_drg_code`/`apr_drg_code`, no `payer`/`plan`
  v0.6        `payer`, `plan` on medical and pharmacy claims
  v0.8        eligibility `subscriber_id`
  v0.9        `in_network_flag`, `file_name`, `ingest_datetime`
  v0.13       `patient_id` renamed `person_id`
  v0.14       `ms_drg_code`/`apr_drg_code` replaced by `drg_code_type`/`drg_code`; `file_date`
  v0.15       eligibility `name_suffix`, `middle_name`, `email`, `ethnicity`
  v0.17       eligibility `enrollment_status`, `hospice_flag`, ...
Legacy columns are mapped, never dropped: `patient_id` -> person_id; `ms_drg_code` -> drg_code with drg_code_type
'ms-drg', else `apr_drg_code` -> drg_code with 'apr-drg' (Tuva's own drg_code_type values).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.canonical import NOT_STORED
from warehouse.staging import (LoadError, _canonical_columns, _header_columns, _header_delimiter,
                               inspect_text_file)

# (targets, column, first version with it, first version without it); versions as (major, minor)
_MARKERS = (
    (("medical_claim", "pharmacy_claim", "eligibility"), "patient_id", None, (0, 13)),
    (("medical_claim", "pharmacy_claim", "eligibility"), "person_id", (0, 13), None),
    (("medical_claim", "pharmacy_claim"), "payer", (0, 6), None),
    (("eligibility",), "subscriber_id", (0, 8), None),
    (("medical_claim", "pharmacy_claim", "eligibility"), "ingest_datetime", (0, 9), None),
    (("medical_claim",), "ms_drg_code", None, (0, 14)),
    (("medical_claim",), "drg_code_type", (0, 14), None),
    (("medical_claim", "pharmacy_claim", "eligibility"), "file_date", (0, 14), None),
    (("eligibility",), "name_suffix", (0, 15), None),
    (("eligibility",), "enrollment_status", (0, 17), None),
)
_OLDEST, _NEWEST = (0, 4), (0, 18)

LEGACY_MAPPING = {"patient_id": "person_id", "ms_drg_code": "drg_code (drg_code_type ms-drg)",
                  "apr_drg_code": "drg_code (drg_code_type apr-drg)"}


def _v(version: tuple[int, int]) -> str:
    return f"v{version[0]}.{version[1]}"


def detect_version(target: str, header: list[str]) -> str:
    """The Tuva input-layer releases whose columns this header matches, e.g. 'v0.6-v0.12' or 'v0.17+'.
    A column present narrows the range to the releases that have it; a column absent to those before it."""
    present = set(header)
    low, high = _OLDEST, None   # high: first release that does not match
    for targets, column, since, until in _MARKERS:
        if target not in targets:
            continue
        if column in present:
            low = max(low, since or _OLDEST)
            high = min(high, until) if high and until else (high or until)
        elif since and column != "person_id":   # absent: the file predates the column (person_id: see patient_id)
            high = min(high, since) if high else since
    if high is not None and high <= low:
        return "mixed (columns of several releases)"
    if high is None:
        return f"{_v(low)}+"
    last = (high[0], high[1] - 1)
    return _v(low) if last == low else f"{_v(low)}-{_v(last)}"


def read_header(path: Path) -> list[str]:
    """The file's column names; [] when it cannot be read (staging then names the problem in its own words)."""
    try:
        return _read_header(path)
    except (LoadError, OSError, ValueError):
        return []


def _read_header(path: Path) -> list[str]:
    if path.suffix.lower() == ".parquet":
        con = duckdb.connect()
        try:
            return [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        except duckdb.Error:
            raise LoadError(f"{path}: cannot be parsed as Parquet") from None
        finally:
            con.close()
    text = inspect_text_file(path)
    return _header_columns(text.header, _header_delimiter(text.header))


def legacy_select_sql(header: list[str]) -> dict[str, str] | None:
    """Canonical drg_code_type/drg_code from the pre-v0.14 DRG columns (None when the file has none)."""
    ms = 'NULLIF(trim(raw."ms_drg_code"), \'\')' if "ms_drg_code" in header else "NULL"
    apr = 'NULLIF(trim(raw."apr_drg_code"), \'\')' if "apr_drg_code" in header else "NULL"
    if ms == apr == "NULL" or "drg_code" in header:
        return None
    return {"drg_code_type": f"CASE WHEN {ms} IS NOT NULL THEN 'ms-drg' WHEN {apr} IS NOT NULL THEN 'apr-drg' END",
            "drg_code": f"coalesce({ms}, {apr})"}


def column_notes(target: str, header: list[str], payer: str | None) -> dict:
    """The load report's account of a file's columns: version, mapped (file column -> canonical), ignored, and
    the canonical columns the file leaves empty."""
    kept = [c for c in _canonical_columns(target) if c not in NOT_STORED.get(target, ())]
    canonical = [c for c in kept if c not in ("patient_id", "gender_code")]   # the canonical spellings
    mapped = {c: c for c in header if c in canonical}
    mapped.update({c: LEGACY_MAPPING[c] for c in header if c in LEGACY_MAPPING})
    filled = {c for c in mapped if c in canonical} | {"person_id" for c in header if c == "patient_id"} | (
        {"drg_code", "drg_code_type"} if legacy_select_sql(header) else set())
    notes = {
        "format_version": f"Tuva input layer {detect_version(target, header)}",
        "columns_mapped": mapped,
        "columns_ignored": [c for c in header if c not in mapped],
        "canonical_columns_empty": [c for c in canonical if c not in filled],
    }
    if target in ("medical_claim", "pharmacy_claim") and "payer" not in header:
        notes["payer_source"] = ("--payer" if payer else
                                 "enrollment (the file has no payer column, a Tuva layout before v0.6: each claim takes "
                                 "the primary payer of the enrollment covering its service date)")
    return notes


def payer_from_enrollment(target: str, header: list[str], payer: str | None) -> bool:
    """Claims of a file without a payer column, loaded without --payer, take their payer from enrollment."""
    return target in ("medical_claim", "pharmacy_claim") and bool(header) and "payer" not in header and not payer
