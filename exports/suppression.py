"""CMS small-cell suppression for every count that leaves the warehouse.

Rule (CMS cell-size suppression policy for Medicaid/Medicare data releases): a cell whose count is between 1
and 10 is not shown, nor is any value from which it could be recomputed.

* Primary suppression: a row is suppressed when any of its count fields is in 1..10. Its counts *and* its
  derived values (rate, person-years, ...) are blanked, because rate x denominator would give the numerator back.
* Complementary suppression: strata of one type (sex, age band, payer, ...) partition the total, so a single
  suppressed cell in a group could be recovered as total - sum(other cells). When a group has exactly one
  suppressed cell, the next smallest non-zero cell of the group is suppressed too.
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
             size_field: str | None = None) -> list[dict]:
    """Apply primary and complementary suppression.

    count_fields: the fields that are counts of people or events (tested against 1..10).
    blank_fields: every field to blank on a suppressed row (the counts and whatever is derived from them).
    group_key:    rows with the same key partition one total (None = no complementary suppression);
                  a key of None means the row belongs to no group.
    size_field:   the field that orders candidates for complementary suppression (default: first count field).
    """
    out = [dict(r, suppressed=False, suppression_reason=None) for r in rows]
    for r in out:
        if any(is_small(r.get(f)) for f in count_fields):
            _blank(r, blank_fields, PRIMARY)
    if group_key is None:
        return out
    size_field = size_field or count_fields[0]
    groups: dict[object, list[dict]] = defaultdict(list)
    for r in out:
        key = group_key(r)
        if key is not None:
            groups[key].append(r)
    for members in groups.values():
        hidden = [r for r in members if r["suppressed"]]
        if len(hidden) != 1:
            continue  # none hidden, or two or more already protect each other
        candidates = [r for r in members if not r["suppressed"] and _number(r.get(size_field)) > 0]
        if candidates:
            _blank(min(candidates, key=lambda r: _number(r.get(size_field))), blank_fields, COMPLEMENTARY)
    return out


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
