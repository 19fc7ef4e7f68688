"""Which settlement rows pay, and the totals a user sees (Dagster metadata, statements, notebooks, demo summary).

A settlement holds, per program x entity, one row per payer AND a `combined` row; the methodology's `settle_by`
(`payer` or `combined`) decides which of them is the settlement that pays, and `settle_from_inputs` marks those
rows `binding = 1`. The others are informational: an entity's payer rows partition its combined row, so a sum
over every row counts each entity twice. Every total shown anywhere is therefore computed here, once, from the
paying rows only.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

PAYING_FLAG = "binding"      # the settlement table's column: 1 = the row that pays (per settle_by)
COMBINED = "combined"        # the payer value of an entity's all-payer row


def row_pays(payer: str, settle_by: str) -> bool:
    """The rule: with settle_by 'combined' the entity's combined row pays, with 'payer' each payer row does."""
    return (payer == COMBINED) == (settle_by == "combined")


def pays(row) -> bool:
    """True for a row that pays: a dict, a SQLAlchemy row or a pandas row with a `binding` value of 1."""
    value = row[PAYING_FLAG] if isinstance(row, Mapping) else getattr(row, PAYING_FLAG)
    return value is not None and int(value) == 1


def paying_rows(rows: Iterable) -> list:
    """The rows that pay, in their order."""
    return [r for r in rows if pays(r)]


def paying_clause(table):
    """The same rule as a SQLAlchemy condition on a table with a `binding` column (for set-based totals)."""
    return table.c[PAYING_FLAG] == 1


def paying_frame(frame):
    """The paying rows of a pandas DataFrame of settlement rows (notebooks)."""
    return frame[frame[PAYING_FLAG].astype(int) == 1]


def settlement_totals(rows: Iterable) -> dict[str, Decimal | int]:
    """Totals of the paying rows, exact Decimal: rows paid, earned, owed, net (earned - owed), savings, benchmark
    and expenditure. Money in the rows is already rounded to cents, so the totals are exact sums of cents."""
    paid = paying_rows(rows)

    def total(column: str) -> Decimal:
        return sum((Decimal(str(_get(r, column) or 0)) for r in paid), Decimal(0))

    earned, owed = total("earned"), total("owed")
    return {"paying_rows": len(paid), "earned": earned, "owed": owed, "net": earned - owed,
            "savings": total("savings"), "benchmark": total("benchmark"), "expenditure": total("expenditure")}


def _get(row, column):
    return row[column] if isinstance(row, Mapping) else getattr(row, column)
