"""CMS-facing exports: the last step of the data flow (measures -> savings -> exports). No Dagster import.

`export_year(engine, year, out_dir)` writes, for measurement/performance year `year`:

* `qmr_measures_FFY<ffy>.csv`   - QMR-shaped measure rates by stratum (exports.qmr)
* `settlement_statements_<year>.csv` - settlement statements per program x entity x payer (exports.settlement)
* `qmr_qualifier_FFY<ffy>.json` - Health Home core-set qualifier pre-fill (enrollees, delivery systems, savings)
* `manifest.json`               - what was written, row and suppression counts, sha256 of each file
* `README.md`                   - data dictionary: each file, column, unit, suppression marker, measure version

Every count of 1-10 is suppressed (exports.suppression), and the files are re-read by `verify_export` so a
leak fails loudly. Files are written to a temporary name and renamed, so a failed export leaves the previous
one in place.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from exports.dictionary import data_dictionary
from exports.qmr import COUNT_FIELDS as QMR_COUNT_FIELDS, QMR_COLUMNS, qmr_rows
from exports.settlement import STATEMENT_COLUMNS, qualifier, statements_and_program_totals
from exports.suppression import is_small, unsuppressed_small_counts

__all__ = ["NothingToExport", "export_year", "verify_export"]


class NothingToExport(ValueError):
    """The warehouse holds no measure results and no settlement for the year."""


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return format(v, "f")   # keeps the quantum: 20.0 %, 22500.00 dollars
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
    os.replace(tmp, path)


def _write_json(path: Path, data) -> None:
    _write_text(path, json.dumps(data, indent=2, default=_cell) + "\n")


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_year(engine: Engine, year: int, out_dir: str | Path) -> dict:
    """Write the year's exports to out_dir; returns the manifest (also written as manifest.json)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ffy = year + 1
    qmr = qmr_rows(engine, year)
    statements, program_totals = statements_and_program_totals(engine, year)
    if not qmr and not statements:
        raise NothingToExport(f"no measure results and no settlement for {year} in the warehouse: run "
                              f"`icm measures --year {year}` and/or `icm settle --year {year}` first")
    qual = qualifier(engine, year, program_totals)
    files = {
        "qmr_measures": (out / f"qmr_measures_FFY{ffy}.csv", len(qmr), sum(r["suppressed"] for r in qmr)),
        "settlement_statements": (out / f"settlement_statements_{year}.csv", len(statements),
                                  sum(r["suppressed"] for r in statements)),
        "qmr_qualifier": (out / f"qmr_qualifier_FFY{ffy}.json", 1, None),
    }
    _write_csv(files["qmr_measures"][0], QMR_COLUMNS, qmr)
    _write_csv(files["settlement_statements"][0], STATEMENT_COLUMNS, statements)
    _write_json(files["qmr_qualifier"][0], qual)
    manifest = {
        "year": year, "ffy": ffy, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "suppression_rule": "CMS cell-size suppression: counts 1-10 hidden, with complementary suppression",
        "data_dictionary": "README.md",
        "files": {name: {"path": path.name, "rows": rows, "suppressed_rows": sup, "sha256": _sha256(path)}
                  for name, (path, rows, sup) in files.items()},
    }
    _write_json(out / "manifest.json", manifest)
    _write_text(out / "README.md", data_dictionary(year, qmr))
    return manifest


def verify_export(out_dir: str | Path, year: int) -> list[str]:
    """Problems found by re-reading the written files (empty list = safe to release)."""
    out = Path(out_dir)
    ffy = year + 1
    problems = []
    with open(out / f"qmr_measures_FFY{ffy}.csv", newline="", encoding="utf-8") as fh:
        leaks = unsuppressed_small_counts(csv.DictReader(fh), QMR_COUNT_FIELDS)
    problems += [f"qmr_measures: {r['measure']} {r['rate_id']} {r['stratum_type']} shows a count of 1-10"
                 for r in leaks]
    with open(out / f"settlement_statements_{year}.csv", newline="", encoding="utf-8") as fh:
        leaks = unsuppressed_small_counts(csv.DictReader(fh), ("persons",))
    problems += [f"settlement_statements: {r['entity_id']} {r['payer']} shows 1-10 persons" for r in leaks]
    qual = json.loads((out / f"qmr_qualifier_FFY{ffy}.json").read_text(encoding="utf-8"))
    problems += [f"qmr_qualifier: {k} is a count of 1-10" for k in
                 ("health_home_enrollees", "adult_enrollees", "child_enrollees") if is_small(qual.get(k))]
    return problems
