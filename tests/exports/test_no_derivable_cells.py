"""Complementary suppression (issue 21 item 3): an attacker who knows every sum relation between published cells
(total = sum of its parts) tries to recompute each hidden cell from the published ones, repeatedly (a recovered
cell helps recover the next), in every export. He must recover none.

The relations are rebuilt here from the written files alone, independently of exports.suppression:
* QMR: for each measure rate, the strata of one type add up to the all-members row (numerator, denominator);
* statements: an entity's payer rows add up to its combined row (persons and every money column), and a
  program's paying rows (binding = 1) add up to the qualifier's cost savings of that program;
* qualifier: adult + child enrollees = health-home enrollees.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from exports import export_year
from exports.suppression import suppress
from tests.exports.test_exports import YEAR, populated  # noqa: F401 - the fixture

MONEY = ("benchmark", "expenditure", "savings", "generated", "earned", "owed")


def recover(cells: dict, relations: list[tuple]) -> dict:
    """cells: id -> Decimal or None (hidden); relations: (total id, [part ids]). Returns the hidden cells that
    the relations determine: a relation with exactly one unknown cell gives it, repeated until nothing changes."""
    known = dict(cells)
    found = {}
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            ids = [total, *parts]
            unknown = [i for i in ids if known.get(i) is None]
            if len(unknown) != 1 or any(i not in known for i in ids):
                continue
            (hole,) = unknown
            rest = sum(known[p] for p in parts if p != hole)
            value = rest if hole == total else known[total] - rest
            known[hole] = found[hole] = value
            changed = True
    return found


def _num(text) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


def qmr_relations(rows: list[dict]) -> tuple[dict, list]:
    cells, relations = {}, []
    by_rate = defaultdict(lambda: defaultdict(list))
    for r in rows:
        key = (r["measure"], r["rate_id"])
        for f in ("numerator", "denominator"):
            cells[(key, r["stratum_type"], r["stratum_value"], f)] = _num(r[f])
        by_rate[key][r["stratum_type"]].append(r["stratum_value"])
    for key, types in by_rate.items():
        for stype, values in types.items():
            if stype == "total":
                continue
            for f in ("numerator", "denominator"):
                relations.append(((key, "total", "total", f), [(key, stype, v, f) for v in values]))
    return cells, relations


def statement_relations(rows: list[dict], qualifier: dict) -> tuple[dict, list]:
    cells, relations = {}, []
    entities, programs = defaultdict(list), defaultdict(list)
    for r in rows:
        for f in ("persons", *MONEY):
            cells[(r["entity_id"], r["payer"], f)] = _num(r[f])
        if r["payer"] != "combined":
            entities[r["entity_id"]].append(r["payer"])
        if r["binding"] == "1":
            programs[(r["methodology_id"], r["program_id"])].append((r["entity_id"], r["payer"]))
    for entity, payers in entities.items():
        for f in ("persons", *MONEY):
            relations.append(((entity, "combined", f), [(entity, p, f) for p in payers]))
    for c in qualifier["cost_savings"]:
        for f in ("savings", "earned", "owed"):
            cells[("program", c["program_id"], f)] = _num(c[f])
            relations.append((("program", c["program_id"], f),
                              [(e, p, f) for e, p in programs[(c["methodology_id"], c["program_id"])]]))
    return cells, relations


def qualifier_relations(q: dict) -> tuple[dict, list]:
    cells = {k: _num(q[k]) for k in ("health_home_enrollees", "adult_enrollees", "child_enrollees")}
    return cells, [("health_home_enrollees", ["adult_enrollees", "child_enrollees"])]


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_no_suppressed_cell_of_any_export_can_be_recomputed(populated, tmp_path):  # noqa: F811
    export_year(populated, YEAR, tmp_path)
    qual = json.loads((tmp_path / f"qmr_qualifier_FFY{YEAR + 1}.json").read_text())
    qmr = _read(tmp_path / f"qmr_measures_FFY{YEAR + 1}.csv")
    statements = _read(tmp_path / f"settlement_statements_{YEAR}.csv")
    for name, (cells, relations) in {"qmr": qmr_relations(qmr), "statements": statement_relations(statements, qual),
                                     "qualifier": qualifier_relations(qual)}.items():
        assert any(v is None for v in cells.values()), f"{name}: the scenario hides something"
        assert recover(cells, relations) == {}, f"{name}: hidden cells recomputed from published ones"


def test_the_attacker_finds_the_leak_the_issue_reported():
    """709 enrollees, 699 adults, children hidden: 709 - 699 = 10 (the qualifier before the fix)."""
    cells = {"health_home_enrollees": Decimal(709), "adult_enrollees": Decimal(699), "child_enrollees": None}
    assert recover(cells, qualifier_relations(cells)[1]) == {"child_enrollees": Decimal(10)}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=5), min_size=1, max_size=3))
def test_suppress_leaves_no_cell_recomputable_for_any_partition(groups):
    """Any total with several stratifications (each a list of part counts): after suppress(), no relation
    gives a hidden cell back."""
    total = sum(groups[0])
    groups = [g[:-1] + [g[-1] + total - sum(g)] if sum(g) <= total else g for g in groups]
    groups = [g for g in groups if sum(g) == total]          # each stratification partitions the same total
    rows = [{"id": ("total",), "n": total, "type": None}] + [
        {"id": (i, j), "n": n, "type": i} for i, g in enumerate(groups) for j, n in enumerate(g)]
    out = suppress(rows, count_fields=("n",), blank_fields=("n",),
                   group_key=lambda r: r["type"], total_key=lambda r: list(range(len(groups))) if r["type"] is None
                   else None)
    cells = {r["id"]: None if r["n"] is None else Decimal(r["n"]) for r in out}
    relations = [(("total",), [(i, j) for j in range(len(g))]) for i, g in enumerate(groups)]
    assert recover(cells, relations) == {}
