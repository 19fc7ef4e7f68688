"""CMS small-cell suppression for every count that leaves the warehouse.

Rule (CMS cell-size suppression policy for Medicaid/Medicare data releases): a cell whose count is between 1
and 10 is not shown, nor is any value from which it could be recomputed.

* Primary suppression: a row is suppressed when any of its count fields is in 1..10. Its counts *and* its
  derived values (rate, person-years, ...) are blanked, because rate x denominator would give the numerator back.
* Complementary suppression: a total and the parts that add up to it (strata of one type and the all-members
  row; an entity's payer rows and its combined row; adults + children = enrollees) form a sum relation, in which
  a single hidden cell could be recovered as total - sum(others). Whenever a relation has exactly one hidden
  cell, another is hidden: the smallest non-zero part, else the total. Hiding a cell can expose it in another
  relation it belongs to, so this repeats until no relation has exactly one hidden cell.
* Zero is a true zero and is shown; a missing value stays missing.

The functions work on small lists of dicts (aggregate rows, never claims) and return new dicts with
`suppressed` (bool) and `suppression_reason` added.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

MIN_COUNT, MAX_COUNT = 1, 10
PRIMARY = "CMS cell-size suppression: a count is between 1 and 10"
COMPLEMENTARY = "complementary suppression: protects a suppressed cell of the same group from subtraction"


def is_small(value) -> bool:
    """True for a count in 1..10 (fractional counts such as member-month sums are rounded first)."""
    if value is None or value == "":
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return MIN_COUNT <= round(number) <= MAX_COUNT and number > 0


def suppress(rows: Iterable[dict], *, count_fields: Sequence[str], blank_fields: Sequence[str],
             group_key: Callable[[dict], object] | None = None,
             total_key: Callable[[dict], object] | None = None,
             size_field: str | None = None) -> list[dict]:
    """Apply primary and complementary suppression.

    count_fields: the fields that are counts of people or events (tested against 1..10).
    blank_fields: every field to blank on a suppressed row (the counts and whatever is derived from them).
    group_key:    the relation(s) a row is a part of: a key, a list of keys, or None (a part of none).
    total_key:    the relation(s) a row is the total of (same forms); a relation without a total row is still
                  protected, as its total may be published elsewhere.
    size_field:   the field that orders candidates for complementary suppression (default: first count field).
    """
    out = [dict(r, suppressed=False, suppression_reason=None) for r in rows]
    for r in out:
        if any(is_small(r.get(f)) for f in count_fields):
            _blank(r, blank_fields, PRIMARY)
    size_field = size_field or count_fields[0]
    relations: dict[object, tuple[list[dict], list[dict]]] = defaultdict(lambda: ([], []))
    for r in out:
        for key in _keys(group_key, r):
            relations[key][1].append(r)
        for key in _keys(total_key, r):
            relations[key][0].append(r)
    changed = True
    while changed:                      # hiding a cell may leave another relation with one hidden cell
        changed = False
        for totals, parts in relations.values():
            if sum(r["suppressed"] for r in (*totals, *parts)) != 1:
                continue  # none hidden, or two or more already protect each other
            candidates = [r for r in parts if not r["suppressed"] and _number(r.get(size_field)) > 0]
            pick = (min(candidates, key=lambda r: _number(r.get(size_field))) if candidates
                    else next((r for r in totals if not r["suppressed"]), None))
            if pick is not None:
                _blank(pick, blank_fields, COMPLEMENTARY)
                changed = True
    return out


def _keys(key_of: Callable[[dict], object] | None, row: dict) -> list:
    if key_of is None:
        return []
    key = key_of(row)
    return [] if key is None else list(key) if isinstance(key, list) else [key]


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _blank(row: dict, fields: Sequence[str], reason: str) -> None:
    for f in fields:
        row[f] = None
    row["suppressed"] = True
    row["suppression_reason"] = reason


def unsuppressed_small_counts(rows: Iterable[dict], count_fields: Sequence[str]) -> list[dict]:
    """Rows that would leak a count of 1..10 (for checks on written exports); empty when the export is safe."""
    return [r for r in rows if any(is_small(r.get(f)) for f in count_fields)]
