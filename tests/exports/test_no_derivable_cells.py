"""Complementary suppression (issue 21 item 3): an attacker who knows every sum relation between published cells
(total = sum of its parts) tries to recompute each hidden cell from the published ones, repeatedly (a recovered
cell helps recover the next), in every export. He must recover none.

The relations are rebuilt here from the written files alone, independently of exports.suppression:
* QMR: for each measure rate, the strata of one type add up to the all-members row (numerator, denominator);
* statements: an entity's payer rows add up to its combined row (persons and every money column), and a
  program's paying rows (binding = 1) add up to the qualifier's cost savings of that program;
* qualifier: adult + child enrollees = health-home enrollees;
* DUR survey (pharmacy/survey.py): persons = per-1,000 rate x enrollees / 1,000 on every item row;
* practice feedback pages (utilization/feedback.py): O/E = rate / expected and rate = numerator / denominator on
  every table row, and the practice's O/E of the page's year is shown again in the trend table and as the
  practice's own point on the funnel plot (the y = 1 line is drawn, so the point's height gives O/E; the attacker
  needs only to know it is there).
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from exports import export_year
from exports.suppression import suppress
from tests.exports.test_exports import YEAR, populated  # noqa: F401 - the fixture

MONEY = ("benchmark", "expenditure", "savings", "generated", "earned", "owed")


def recover(cells: dict, relations: list[tuple], ratios: list[tuple] = ()) -> dict:
    """cells: id -> Decimal or None (hidden); relations: (total id, [part ids]); ratios: (ratio id, numerator id,
    denominator id, scale) with ratio = scale x numerator / denominator. Returns the hidden cells that the relations
    determine: a relation with exactly one unknown cell gives it, repeated until nothing changes."""
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
        for ratio, numerator, denominator, scale in ratios:
            ids = [ratio, numerator, denominator]
            unknown = [i for i in ids if known.get(i) is None]
            if len(unknown) != 1 or any(i not in known for i in ids):
                continue
            (hole,) = unknown
            if hole == ratio and known[denominator]:
                value = scale * known[numerator] / known[denominator]
            elif hole == numerator:
                value = known[ratio] * known[denominator] / scale
            elif hole == denominator and known[ratio]:
                value = scale * known[numerator] / known[ratio]
            else:
                continue
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


def survey_relations(rows: list[dict]) -> tuple[dict, list]:
    cells, ratios = {}, []
    for r in rows:
        for f in ("persons", "enrollees", "per_1000_enrollees"):
            cells[(r["item"], f)] = _num(r[f])
        ratios.append(((r["item"], "per_1000_enrollees"), (r["item"], "persons"), (r["item"], "enrollees"), 1000))
    return cells, ratios


def test_no_suppressed_cell_of_the_dur_survey_can_be_recomputed(tmp_path):
    from pharmacy.survey import write_survey
    from tests.pharmacy.scenario import HYDROCODONE_10, OXYCODONE_30, RxWarehouse
    from warehouse.engine import upgrade

    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    upgrade(url)
    wh = RxWarehouse(url)
    for j in range(12):                                  # 12 persons at 180 MME/day: shown
        wh.fill(wh.member(f"h{j}"), OXYCODONE_30, dt.date(2025, 3, 1), 30, 120)
    for j in range(3):                                   # 3 persons with an opioid and a benzodiazepine: hidden
        wh.fill(wh.member(f"b{j}"), HYDROCODONE_10, dt.date(2025, 3, 1), 30, 60)
        wh.fill(f"b{j}", "00228203010", dt.date(2025, 3, 5), 30, 60)
    wh.dur()
    rows = _read(write_survey(wh.engine, 2025, tmp_path))
    wh.engine.dispose()
    cells, ratios = survey_relations(rows)
    assert any(v is None for v in cells.values()), "the scenario hides something"
    assert recover(cells, [], ratios) == {}, "hidden survey cells recomputed from published ones"


_CELL = r"<td>([^<]*)</td>"


def _page_value(text: str) -> Decimal | None | str:
    """A table cell: None when suppressed, "missing" for a dash (no value, not a hidden one), else the number."""
    text = html.unescape(text).strip()
    if text == "suppressed":
        return None
    if text in ("\u2013", ""):
        return "missing"
    return Decimal(text.replace(",", ""))


def feedback_relations(page: str, year: int) -> tuple[dict, list, list]:
    """The cells of one practice page and the relations between them (see the module docstring)."""
    practice = re.search(r"<h1>Practice (\S+):", page).group(1)
    cells, relations, ratios = {}, [], []
    util = page.split("<h2>Utilization</h2>")[1].split("</table>")[0]
    for metric, *values in re.findall(r"<tr><td class='l'>([a-z_]+)</td><td class='l'>[^<]*</td>" + _CELL * 3, util):
        for f, v in zip(("rate", "expected", "oe"), values):
            cells[(practice, metric, f)] = _page_value(v)
        ratios.append(((practice, metric, "oe"), (practice, metric, "rate"), (practice, metric, "expected"), 1))
    quality = page.split("<h2>Quality measures</h2>")[1].split("</table>")[0]
    for measure, *values in re.findall(r"<tr><td class='l'>([^<]+)</td>" + _CELL * 3, quality):
        for f, v in zip(("denominator", "numerator", "rate"), values):
            cells[(practice, measure, f)] = _page_value(v)
        ratios.append(((practice, measure, "rate"), (practice, measure, "numerator"),
                       (practice, measure, "denominator"), 100))
    trend = page.split("<h2>Trend (O/E by year)</h2>")[1].split("</table>")[0]
    years = [int(y) for y in re.findall(r"<th>(\d{4})</th>", trend)]
    for metric, row in re.findall(r"<tr><td class='l'>([a-z_]+)</td>((?:<td>[^<]*</td>)*)</tr>", trend):
        shown = dict(zip(years, re.findall(_CELL, row)))
        if year in shown:
            cells[(practice, metric, "trend")] = _page_value(shown[year])
            relations.append(((practice, metric, "oe"), [(practice, metric, "trend")]))
    for metric, svg in re.findall(r'aria-label="funnel plot ([a-z_]+)"(.*?)</svg>', page):
        if 'class="own"' in svg:
            cells[(practice, metric, "own point")] = Decimal(1)   # its height gives O/E; that it is there suffices
            relations.append(((practice, metric, "oe"), [(practice, metric, "own point")]))
    cells = {k: v for k, v in cells.items() if v != "missing"}
    return cells, relations, ratios


SMALL_PRACTICE = "1000000099"


@pytest.fixture(scope="module")
def feedback_pages(tmp_path_factory):
    """The utilization tests' fourteen planted practices plus a small one: 8 persons with 2 ED visits each, so its
    ED row is hidden for its 8 persons although its 16 visits are not a small count."""
    from sqlalchemy import insert

    from measures.tables import measure_detail, measure_result
    from tests.utilization.scenario import PRACTICES, YEAR, planted
    from utilization.feedback import write_feedback
    from utilization.run import run_year
    from warehouse.engine import upgrade

    folder = tmp_path_factory.mktemp("feedback")
    url = f"duckdb:///{folder / 'warehouse.duckdb'}"
    upgrade(url)
    builder = planted(url)
    builder.provider(SMALL_PRACTICE)
    for j in range(8):
        pid = f"{SMALL_PRACTICE}-{j:02d}"
        builder.member(pid)
        builder.score(pid, 0.8)
        builder.pcp_visit(pid, dt.date(YEAR, 3, 2 + j), SMALL_PRACTICE)
        for v in range(2):
            builder.ed(pid, dt.date(YEAR, 4 + 5 * v, 10 + j))
    engine = builder.write(url)
    run_year(engine, YEAR)
    with engine.begin() as conn:     # a quality rate per practice: 12 of 15 shown, 3 of 8 hidden
        conn.execute(insert(measure_detail), [
            dict(measure_id="FUH-HH", measurement_year=YEAR, rate_id="30_day", unit_id=f"u{npi}{j}",
                 unit_type="discharge", person_id=f"{npi}-{j:02d}", excluded=False, numerator_met=j < met,
                 numerator_value=int(j < met), denominator_value=1)
            for npi, persons, met in ((PRACTICES[3], 15, 12), (SMALL_PRACTICE, 8, 3)) for j in range(persons)])
        conn.execute(insert(measure_result), [dict(
            measure_id="FUH-HH", measurement_year=YEAR, rate_id="30_day", stratum_type="total", stratum_value="total",
            rate_type="proportion", status="computed", computed_at=dt.datetime(2026, 1, 1))])
    write_feedback(engine, YEAR, folder / "pages")
    engine.dispose()
    return folder / "pages", YEAR


def test_no_suppressed_cell_of_any_feedback_page_can_be_recomputed(feedback_pages):
    folder, year = feedback_pages
    pages = {p.name: p.read_text() for p in sorted(folder.glob("practice_*.html"))}
    small = next(text for text in pages.values() if f"Practice {SMALL_PRACTICE}:" in text)
    assert "<td class='l'>ed_visits</td><td class='l'>per 1,000 member-months</td><td>suppressed</td>" in small
    small_cells = feedback_relations(small, year)[0]                     # the parser sees the hidden cells
    assert small_cells[(SMALL_PRACTICE, "ed_visits", "oe")] is None
    assert small_cells[(SMALL_PRACTICE, "FUH-HH 30_day", "numerator")] is None
    for name, text in pages.items():
        cells, relations, ratios = feedback_relations(text, year)
        assert recover(cells, relations, ratios) == {}, f"{name}: hidden cells recomputed from published ones"


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
