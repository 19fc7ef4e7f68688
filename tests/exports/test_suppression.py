"""CMS small-cell suppression rules (exports.suppression) and QMR rate conventions (exports.qmr)."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings, strategies as st

from measures.units import reported_rate as qmr_rate
from exports.suppression import COMPLEMENTARY, PRIMARY, is_small, suppress, unsuppressed_small_counts


def _cells(*pairs, group="sex"):
    return [{"stratum": s, "group": group, "numerator": n, "denominator": d, "rate": (n / d if d else None)}
            for s, n, d in pairs]


def _run(rows):
    return suppress(rows, count_fields=("numerator", "denominator"), blank_fields=("numerator", "denominator", "rate"),
                    group_key=lambda r: r["group"], size_field="denominator")


def test_counts_one_to_ten_are_small_zero_and_eleven_are_not():
    assert [is_small(v) for v in (0, 1, 10, 11, None, "", "7", Decimal("10.0"), 10.4, 0.2)] == \
        [False, True, True, False, False, False, True, True, True, False]


def test_primary_suppression_blanks_the_counts_and_the_rate():
    out = _run(_cells(("F", 7, 40), ("M", 30, 60), ("U", 12, 20)))
    f = out[0]
    assert f["suppressed"] and f["suppression_reason"] == PRIMARY
    assert f["numerator"] is None and f["denominator"] is None and f["rate"] is None
    assert unsuppressed_small_counts(out, ("numerator", "denominator")) == []


def test_small_denominator_is_suppressed_even_with_zero_numerator():
    out = _run(_cells(("F", 0, 9), ("M", 30, 60), ("U", 20, 30)))
    assert out[0]["suppressed"] and out[0]["denominator"] is None


def test_zero_counts_are_shown():
    out = _run(_cells(("F", 0, 0), ("M", 30, 60)))
    assert not out[0]["suppressed"] and out[0]["numerator"] == 0


def test_single_suppressed_cell_gets_a_complementary_cell_so_total_minus_others_reveals_nothing():
    out = _run(_cells(("F", 5, 40), ("M", 30, 60), ("U", 12, 20)))
    hidden = {r["stratum"]: r["suppression_reason"] for r in out if r["suppressed"]}
    # the next smallest cell by denominator (U, 20) is hidden with F
    assert hidden == {"F": PRIMARY, "U": COMPLEMENTARY}
    assert out[1]["numerator"] == 30


def test_two_suppressed_cells_protect_each_other_without_a_third():
    out = _run(_cells(("F", 5, 40), ("M", 30, 60), ("U", 3, 20)))
    assert [r["suppressed"] for r in out] == [True, False, True]
    assert all(r["suppression_reason"] == PRIMARY for r in out if r["suppressed"])


def test_complementary_suppression_stays_inside_its_group():
    rows = _cells(("F", 5, 40), ("M", 30, 60), group="sex") + _cells(("18-64", 20, 50), ("65+", 15, 50), group="age")
    out = _run(rows)
    assert [r["suppressed"] for r in out] == [True, True, False, False]


def test_rows_without_a_group_get_no_complementary_suppression():
    rows = _cells(("total", 5, 100), group=None) + _cells(("x", 40, 100), group=None)
    assert [r["suppressed"] for r in _run(rows)] == [True, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 80)), min_size=1, max_size=8))
def test_property_no_small_count_survives_and_no_group_has_exactly_one_hidden_nonzero_cell(cells):
    rows = _cells(*[(f"s{i}", min(n, d), d) for i, (n, d) in enumerate(cells)])
    out = _run(rows)
    assert unsuppressed_small_counts(out, ("numerator", "denominator")) == []
    hidden = [r for r in out if r["suppressed"]]
    visible_nonzero = [r for r in out if not r["suppressed"] and (r["denominator"] or 0) > 0]
    assert len(hidden) != 1 or not visible_nonzero


def test_qmr_rate_conventions():
    assert qmr_rate("proportion", 1, 3) == Decimal("33.3")                 # percent, 1 d.p., half-up
    assert qmr_rate("proportion", 1, 8) == Decimal("12.5")
    assert qmr_rate("proportion", 1, 16) == Decimal("6.3")                 # 6.25 -> 6.3 (half-up, not banker's)
    assert qmr_rate("per_1000_mm", 25, 12000) == Decimal("2.1")            # 2.0833 per 1,000 enrollee months
    assert qmr_rate("per_100000_mm", 3, 12000) == Decimal("25.0")
    assert qmr_rate("alos", 47, 10) == Decimal("4.7")
    assert qmr_rate("ratio", 12, 13) == Decimal("0.9231")
    assert qmr_rate("count", 14, None) == Decimal("14.0")
    assert qmr_rate("proportion", 5, 0) is None and qmr_rate("proportion", None, 5) is None
