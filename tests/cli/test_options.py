"""The shared argparse value types of icm/options.py at their boundaries (in process, no warehouse)."""
from __future__ import annotations

import argparse
from decimal import Decimal

import pytest

from icm.options import dollars, runout_months


def test_runout_0_and_24_months_accepted():
    assert runout_months("0") == 0
    assert runout_months("24") == 24


@pytest.mark.parametrize("text", ["25", "-1", "soon", "1.5"])
def test_runout_outside_0_to_24_whole_months_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="0"):
        runout_months(text)


def test_dollars_exact_decimal_and_zero_accepted():
    assert dollars("0") == Decimal("0")
    assert dollars("1234.56") == Decimal("1234.56")   # exact, not the float 1234.5599999...


@pytest.mark.parametrize("text", ["-0.01", "lots", "NaN", "Infinity"])
def test_dollars_negative_or_not_finite_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="dollars"):
        dollars(text)
