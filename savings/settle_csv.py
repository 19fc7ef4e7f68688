"""Settle a CSV table of entities: ``settle_table(preset, in_csv, out_csv)``.

Required columns: entity_id, performance_year, track (or level), assigned_beneficiaries,
total_benchmark, total_expenditure, quality_score, met_quality_standard.
Optional: level, msr_choice, disaster_adjustment, revenue, agreement_year, payer, cost_cv.
Output: the input columns, then the itemised settlement lines (see ``OUTPUT_COLUMNS``).
Bad input raises :class:`TableError` with a one-line message naming the row and column.
"""
from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .methodology import Methodology, MethodologyError, TrackSelector, load_methodology
from .settlement import SettlementError, SettlementInput, SettlementResult, settle

REQUIRED = ["entity_id", "performance_year", "assigned_beneficiaries", "total_benchmark",
            "total_expenditure", "quality_score", "met_quality_standard"]
OPTIONAL = ["track", "level", "msr_choice", "disaster_adjustment", "revenue", "agreement_year", "payer", "cost_cv"]
OUTPUT_COLUMNS = [
    "methodology", "savings", "savings_rate", "msr", "mlr", "msr_source", "generated", "shareable",
    "quality_factor", "quality_eligible", "max_share_rate", "final_sharing_rate", "gross_shared_savings",
    "sequestration", "net_shared_savings", "performance_payment_limit", "loss_rate", "gross_shared_losses",
    "loss_limit", "phe_mitigation", "disaster_adjustment_applied", "caps_applied", "earned",
    "quality_pool_payment", "withhold_amount", "withhold_returned", "notes",
]
TRUE = {"1", "true", "t", "yes", "y", "1.0"}
FALSE = {"0", "false", "f", "no", "n", "0.0"}


class TableError(ValueError):
    """One-line, user-facing input error."""


def _blank(v) -> bool:
    return v is None or str(v).strip() == "" or str(v).strip().lower() in ("nan", "na", "null")


def _dec(row: dict, col: str, rowno: int, required: bool = True) -> Decimal | None:
    v = row.get(col)
    if _blank(v):
        if required:
            raise TableError(f"row {rowno}: column '{col}' is empty")
        return None
    s = str(v).strip().replace(",", "").replace("$", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise TableError(f"row {rowno}: column '{col}': not a number: {v!r}") from None
    if not d.is_finite():
        raise TableError(f"row {rowno}: column '{col}': not a finite number: {v!r}")
    return d


def _int(row: dict, col: str, rowno: int, required: bool = True) -> int | None:
    d = _dec(row, col, rowno, required)
    if d is None:
        return None
    if d != d.to_integral_value():
        raise TableError(f"row {rowno}: column '{col}': not a whole number: {row.get(col)!r}")
    return int(d)


def _bool(row: dict, col: str, rowno: int) -> bool:
    v = row.get(col)
    if _blank(v):
        raise TableError(f"row {rowno}: column '{col}' is empty (expected 1/0 or true/false)")
    s = str(v).strip().lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise TableError(f"row {rowno}: column '{col}': expected 1/0 or true/false, got {v!r}")


def row_to_input(row: dict, rowno: int) -> SettlementInput:
    track = row.get("track")
    level = row.get("level")
    if _blank(track) and _blank(level):
        raise TableError(f"row {rowno}: columns 'track' and 'level' are both empty")
    q = _dec(row, "quality_score", rowno, required=False)
    return SettlementInput(
        entity_id=str(row.get("entity_id") or "").strip() or f"row{rowno}",
        performance_year=_int(row, "performance_year", rowno),
        track=str(track).strip() if not _blank(track) else "basic",
        level=str(level).strip() if not _blank(level) else None,
        assigned_beneficiaries=_int(row, "assigned_beneficiaries", rowno),
        total_benchmark=_dec(row, "total_benchmark", rowno),
        total_expenditure=_dec(row, "total_expenditure", rowno),
        quality_score=q,
        met_quality_standard=_bool(row, "met_quality_standard", rowno),
        msr_choice=None if _blank(row.get("msr_choice")) else str(row["msr_choice"]).strip(),
        disaster_adjustment=_dec(row, "disaster_adjustment", rowno, required=False) or Decimal(0),
        revenue=_dec(row, "revenue", rowno, required=False),
        agreement_year=_int(row, "agreement_year", rowno, required=False),
        payer=None if _blank(row.get("payer")) else str(row["payer"]).strip(),
        cost_cv=_dec(row, "cost_cv", rowno, required=False),
    )


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, Decimal):
        return format(v.normalize() if v == v.to_integral_value() else v, "f") if v != 0 else "0"
    return str(v)


def result_row(res: SettlementResult) -> dict[str, str]:
    d = res.as_dict()
    d["disaster_adjustment_applied"] = d.pop("disaster_adjustment")
    out = {}
    for c in OUTPUT_COLUMNS:
        v = d.get(c)
        if c in ("savings_rate", "msr", "mlr", "quality_factor", "final_sharing_rate", "loss_rate") and v is not None:
            v = v.quantize(Decimal("1e-12"))
        out[c] = _fmt(v)
    return out


def resolve(preset, inp: SettlementInput) -> Methodology:
    if isinstance(preset, TrackSelector):
        return preset.resolve(inp.track, inp.level, inp.performance_year)
    return preset


def settle_rows(preset: Methodology | TrackSelector, rows: list[dict], start_row: int = 2
                ) -> list[tuple[dict, SettlementResult]]:
    """Settle already-read CSV rows (dicts). Row numbers in errors count the header as row 1."""
    out = []
    for k, row in enumerate(rows):
        rowno = start_row + k
        inp = row_to_input(row, rowno)
        try:
            m = resolve(preset, inp)
            res = settle(m, inp)
        except (SettlementError, ValueError) as exc:
            if isinstance(exc, TableError):
                raise
            col = str(exc).split(":", 1)[0] if ":" in str(exc) else ""
            where = f"column '{col}'" if col in REQUIRED + OPTIONAL else ""
            msg = str(exc) if not where else str(exc).split(":", 1)[1].strip()
            raise TableError(f"row {rowno} (entity {inp.entity_id}): {where + ': ' if where else ''}{msg}") from None
        out.append((row, res))
    return out


def read_rows(in_csv: str | Path) -> tuple[list[str], list[dict]]:
    p = Path(in_csv)
    if not p.exists():
        raise TableError(f"input file not found: {p}")
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        if not header:
            raise TableError(f"{p}: empty file (no header row)")
        reader.fieldnames = header
        missing = [c for c in REQUIRED if c not in header]
        if "track" not in header and "level" not in header:
            missing.append("track")
        if missing:
            raise TableError(f"{p}: missing required column(s): {', '.join(missing)}")
        rows = list(reader)
    return header, rows


def settle_table(preset: str | Path | Methodology | TrackSelector, in_csv: str | Path,
                 out_csv: str | Path) -> list[SettlementResult]:
    """Read ``in_csv``, settle every row with ``preset`` (name, YAML path or object), write ``out_csv``."""
    if isinstance(preset, (str, Path)):
        try:
            preset = load_methodology(preset)
        except MethodologyError as exc:
            raise TableError(str(exc)) from None
    header, rows = read_rows(in_csv)
    settled = settle_rows(preset, rows)
    cols = header + [c for c in OUTPUT_COLUMNS if c not in header]
    with Path(out_csv).open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for row, res in settled:
            w.writerow({**row, **result_row(res)})
    return [r for _, r in settled]
