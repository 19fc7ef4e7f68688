"""Property tests over random methodologies and inputs (hypothesis)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from savings.methodology import parse_methodology
from savings.settlement import SettlementInput, settle

D = Decimal
rates = st.decimals(min_value=0, max_value=1, places=3)
small = st.decimals(min_value=0, max_value=D("0.3"), places=3)


@st.composite
def methodologies(draw):
    two = draw(st.booleans())
    msr_type = draw(st.sampled_from(["variable_table", "fixed", "none", "confidence_interval"]))
    msr = {"type": msr_type}
    if msr_type == "fixed":
        msr["value"] = str(draw(st.decimals(min_value=0, max_value=D("0.05"), places=4)))
    if msr_type == "confidence_interval":
        msr.update(cost_cv=str(draw(st.decimals(min_value=D("0.2"), max_value=3, places=2))), floor="0.005")
    if two and draw(st.booleans()):
        msr["allowed_fixed_choices"] = ["0", "0.005", "0.01", "0.015", "0.02"]
    stl = {
        "first_dollar": draw(st.booleans()),
        "max_share_rate": str(draw(rates)),
        "performance_payment_limit": (str(draw(small)) if draw(st.booleans()) else None),
        "sequestration_rate": str(draw(st.decimals(min_value=0, max_value=D("0.05"), places=3))),
        "sequestration_before_cap": draw(st.booleans()),
        "two_sided": two,
        "money_quantum": draw(st.sampled_from(["1", "0.01"])),
    }
    if draw(st.integers(0, 3)) == 0:
        a = draw(st.decimals(min_value=D("0.005"), max_value=D("0.05"), places=3))
        stl["corridors"] = [{"from_rate": "0", "to_rate": str(a), "provider_share": str(draw(rates))},
                            {"from_rate": str(a), "to_rate": None, "provider_share": str(draw(rates))}]
    if two:
        if draw(st.booleans()):
            stl["loss_rate"] = {"rule": "flat", "flat_rate": str(draw(rates))}
        else:
            lo = draw(st.decimals(min_value=0, max_value=D("0.5"), places=2))
            stl["loss_rate"] = {"rule": "one_minus_fsr_bounded", "min_rate": str(lo),
                                "max_rate": str(lo + draw(st.decimals(min_value=0, max_value=D("0.5"), places=2))),
                                "rate_if_quality_failed": str(draw(rates))}
        kind = draw(st.sampled_from(["pct_benchmark", "pct_revenue_capped", "dollar", "none", "by_year"]))
        if kind == "pct_benchmark":
            stl["loss_limit"] = {"type": kind, "pct_benchmark": str(draw(small))}
        elif kind == "by_year":
            stl["loss_limit"] = {"type": "pct_benchmark",
                                 "pct_benchmark_by_agreement_year": {1: "0.05", 2: "0.075", 3: "0.1"}}
        elif kind == "pct_revenue_capped":
            stl["loss_limit"] = {"type": kind, "pct_revenue": str(draw(small)), "pct_benchmark": str(draw(small))}
        elif kind == "dollar":
            stl["loss_limit"] = {"type": kind, "dollar": draw(st.integers(0, 10_000_000))}
        stl["phe_loss_mitigation"] = str(draw(rates))
    regime = draw(st.sampled_from(["none", "multiplicative", "gate", "sliding_scale", "gate_and_ladder"]))
    q = {"regime": regime, "require_quality_standard": draw(st.booleans())}
    if regime == "sliding_scale":
        q["sliding_scale"] = {"threshold_score": "0.7", "floor_score": "0.3"}
    if regime == "gate_and_ladder":
        q.update(gate_min_score="0.35", ladder=[{"min_score": "0.35", "share": "0.75"},
                                                 {"min_score": "0.55", "share": "0.85"},
                                                 {"min_score": "0.75", "share": "1"}])
    return parse_methodology({"name": "random", "provenance": {"source": ["hypothesis"]},
                              "msr": msr, "settlement": stl, "quality": q})


@st.composite
def inputs(draw):
    bench = draw(st.integers(100_000, 2_000_000_000))
    exp = draw(st.integers(0, 2 * bench))
    return SettlementInput(
        entity_id="E", performance_year=2020, track="x",
        assigned_beneficiaries=draw(st.integers(0, 150_000)),
        total_benchmark=D(bench), total_expenditure=D(exp),
        quality_score=draw(st.decimals(min_value=0, max_value=1, places=4)),
        met_quality_standard=draw(st.booleans()),
        disaster_adjustment=D(draw(st.integers(0, 2_000_000))),
        revenue=(D(draw(st.integers(1, 500_000_000))) if draw(st.booleans()) else None),
        agreement_year=draw(st.one_of(st.none(), st.integers(1, 5))),
    )


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HALF = D("0.5")


@SETTINGS
@given(methodologies(), inputs())
def test_earned_never_exceeds_cap(m, inp):
    r = settle(m, inp)
    if m.settlement.performance_payment_limit is not None:
        assert r.earned <= m.settlement.performance_payment_limit * inp.total_benchmark + HALF
    assert r.earned <= max(r.generated, D(0)) + HALF      # never more than the savings generated


@SETTINGS
@given(methodologies(), inputs())
def test_one_sided_never_negative(m, inp):
    r = settle(m, inp)
    if not m.settlement.two_sided:
        assert r.earned >= 0


@SETTINGS
@given(methodologies(), inputs(), st.integers(0, 200_000_000))
def test_earned_monotone_in_spending(m, inp, cut):
    lower = replace(inp, total_expenditure=max(D(0), inp.total_expenditure - D(cut)))
    assert settle(m, lower).earned >= settle(m, inp).earned


@SETTINGS
@given(methodologies(), inputs())
def test_inside_corridor_earns_nothing(m, inp):
    r = settle(m, inp)
    if -r.mlr < r.savings_rate < r.msr:
        assert r.generated == 0 and r.earned == 0


@SETTINGS
@given(methodologies(), inputs())
def test_owed_losses_never_exceed_limit(m, inp):
    r = settle(m, inp)
    assert -r.earned <= max(-r.generated, D(0)) + HALF       # never more than the loss generated
    if r.earned < 0 and r.loss_limit is not None:
        assert -r.earned <= r.loss_limit + HALF


@SETTINGS
@given(methodologies(), inputs())
def test_breakdown_is_consistent(m, inp):
    r = settle(m, inp)
    assert r.savings == (inp.total_benchmark - inp.total_expenditure).quantize(m.settlement.money_quantum)
    assert D(0) <= r.quality_factor <= D(1)
    if r.earned > 0 and m.settlement.sequestration_before_cap and not r.caps_applied:
        assert abs(r.earned - (r.gross_shared_savings - r.sequestration)) <= 2 * m.settlement.money_quantum
