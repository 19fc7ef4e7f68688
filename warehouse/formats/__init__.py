"""Input formats: each turns a folder of landing files into `SourceFile`s mapped to the canonical layout.

- tuva:      the Tuva Project input layer (canonical; CSV or Parquet), files named after the table.
- layout:    a payer's own layout described by a YAML file (warehouse/layouts/*.yaml or a user path).
- desynpuf:  CMS DE-SynPUF (beneficiary summary, inpatient, outpatient, carrier, PDE).
- synthea:   Synthea CSV export (patients, payers, payer_transitions, claims, claims_transactions, ...).
"""
from __future__ import annotations

import re
from pathlib import Path

from warehouse.staging import LoadError, SourceFile

FORMATS = ("tuva", "desynpuf", "synthea", "layout")
_DATA_SUFFIXES = (".csv", ".parquet", ".txt")
_TUVA_TABLES = ("eligibility", "medical_claim", "pharmacy_claim", "icm_program", "icm_entity", "provider")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "source"


def discover_tuva(folder: Path, payer: str | None = None, data_source: str | None = None) -> list[SourceFile]:
    """Files whose name starts with a Tuva input-layer table name (e.g. medical_claim.csv, medical_claim_seed.csv)."""
    sources = []
    ds = data_source or _slug(payer or folder.name)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in _DATA_SUFFIXES):
        stem = path.stem.lower()
        target = next((t for t in _TUVA_TABLES if stem == t or stem.startswith(t + "_") or stem.startswith(t + "-")), None)
        if target is None:
            continue
        if target in ("icm_program", "icm_entity", "provider"):
            sources.append(SourceFile(path=path, target=target, file_format="reference", data_source=ds, payer=payer))
            continue
        from warehouse.formats.tuva import column_notes, legacy_select_sql, payer_from_enrollment, read_header

        header = read_header(path)   # the release of the input layer the file follows, and its legacy columns
        sources.append(SourceFile(path=path, target=target, file_format="tuva", data_source=ds, payer=payer,
                                  payer_from_enrollment=payer_from_enrollment(target, header, payer),
                                  select_sql=legacy_select_sql(header),
                                  notes=column_notes(target, header, payer) if header else {}))
    return sources


def discover(folder: str | Path, fmt: str, payer: str | None = None, layout: str | None = None) -> list[SourceFile]:
    folder = Path(folder)
    if not folder.exists():
        raise LoadError(f"{folder}: no such file or folder")
    if folder.is_file():
        candidates = discover(folder.parent, fmt, payer, layout)
        chosen = [s for s in candidates if s.path == folder]
        if not chosen:
            raise LoadError(f"{folder}: not recognised as a {fmt} input file")
        return chosen
    if fmt == "tuva":
        sources = discover_tuva(folder, payer)
    elif fmt == "layout" or fmt.startswith("layout:"):
        from warehouse.formats.layout import discover_layout

        sources = discover_layout(folder, layout or fmt.partition(":")[2], payer)
    elif fmt == "desynpuf":
        from warehouse.formats.desynpuf import discover_desynpuf

        sources = discover_desynpuf(folder, payer)
    elif fmt == "synthea":
        from warehouse.formats.synthea import discover_synthea

        sources = discover_synthea(folder, payer)
    else:
        raise LoadError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if not sources:
        raise LoadError(f"{folder}: no {fmt} input files found")
    return sources
