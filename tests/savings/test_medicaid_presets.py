"""Medicaid presets: where each stands on a published worked example, and illustrative settlements computed by
hand here (independently of the engine) that each preset must reproduce to the cent.

No program publishes an entity's inputs together with its settlement (searched 2026-12-07; each preset's
provenance says what was found), so these examples are illustrative, not published figures. A published example,
when found, belongs here as a test named after its source.
"""
from __future__ import annotations

import math
from functools import partial
from decimal import ROUND_HALF_UP, Decimal as D
from statistics import NormalDist

import pytest

from savings.methodology import load_methodology
from savings.settlement import settle
from tests.savings.test_engine import inp

MEDICAID_PRESETS = ("mn-ihp-track1", "mn-ihp-track2", "masshealth-aco", "vt-vmssp-gate-ladder", "vt-vmng-withhold",
                    "or-cco-quality-pool", "medicaid-ci-msr")
CENT = D("0.01")


# the engine tests' input with this file's illustrative entity: $50 M benchmark, 3 % savings, quality 0.8
_inp = partial(inp, total_benchmark=D(50_000_000), total_expenditure=D(48_500_000), quality_score=D("0.8"))


@pytest.mark.parametrize("name", MEDICAID_PRESETS)
def test_medicaid_preset_states_its_worked_example_status(name):
    notes = [a for a in load_methodology(name).provenance.assumptions if "worked example" in a]
    assert len(notes) == 1 and "searched 2026-12-07" in notes[0]


def test_mn_ihp_track1_illustrative_savings_to_the_cent():
    """3 % savings on $50 M (MSR 2 %, first dollar): 1,500,000 x 50 % x (0.5 + 0.5 x 0.8) = 675,000.00."""
    r = settle(load_methodology("mn-ihp-track1"), _inp())
    assert r.earned == D("675000.00")


def test_mn_ihp_track1_losses_are_not_shared():
    assert settle(load_methodology("mn-ihp-track1"), _inp(total_expenditure=D(51_500_000))).earned == 0


def test_mn_ihp_track2_illustrative_losses_to_the_cent():
    """3 % losses on $50 M (MLR 2 %, first dollar), flat 50 % loss share, limit 5 % ($2.5 M): owes 750,000.00."""
    r = settle(load_methodology("mn-ihp-track2"), _inp(total_expenditure=D(51_500_000)))
    assert r.earned == D("-750000.00")


def test_mn_ihp_track2_losses_inside_the_corridor_are_not_owed():
    """1.99 % losses stay inside the 2 % MLR."""
    assert settle(load_methodology("mn-ihp-track2"), _inp(total_expenditure=D(50_995_000))).earned == 0


def test_medicaid_ci_msr_illustrative_to_the_cent():
    """n = 2,000, CV 1.0: MSR = z(0.90) / sqrt(2000) (one-sided 90 %, as the preset states), kept to 12 d.p.;
    savings beyond it: (500,000 - MSR x 10,000,000) x 50 % x quality 0.9, rounded half-up to cents."""
    msr = D(repr(round(NormalDist().inv_cdf(0.90) / math.sqrt(2000), 12)))
    expected = ((D(500_000) - msr * D(10_000_000)) * D("0.5") * D("0.9")).quantize(CENT, rounding=ROUND_HALF_UP)
    r = settle(load_methodology("medicaid-ci-msr"),
               _inp(assigned_beneficiaries=2000, total_benchmark=D(10_000_000), total_expenditure=D(9_500_000),
                    quality_score=D("0.9")))
    assert r.msr == msr and r.earned == expected
    assert expected == D("96046.36")          # MSR 0.028656364172 -> 213,436.36 beyond it
