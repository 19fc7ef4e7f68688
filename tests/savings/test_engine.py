"""Named edge cases of the settlement engine, presets, table settlement, CLI and quality scoring."""
from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from icm.cli import main
from savings.methodology import (MethodologyError, TrackSelector, canonical_track, load_methodology,
                                 parse_methodology, preset_names)
from savings.quality import MeasureResult, score_quality
from savings.settlement import SettlementInput, settle, settle_pooled, variable_msr
from savings.settle_csv import TableError, settle_table

D = Decimal


def inp(**kw) -> SettlementInput:
    base = dict(entity_id="E1", performance_year=2018, track="track1", assigned_beneficiaries=60000,
                total_benchmark=D(100_000_000), total_expenditure=D(95_000_000), quality_score=D("0.9"),
                met_quality_standard=True)
    base.update(kw)
    return SettlementInput(**base)


def meth(**settlement):
    base = {"name": "t", "provenance": {"source": ["test"]}, "msr": {"type": "fixed", "value": "0.02"},
            "settlement": {"max_share_rate": "0.5", **settlement}, "quality": {"regime": "multiplicative"}}
    return parse_methodology(base)


# ---------------------------------------------------------------- MSR table -------------------------

def test_msr_band_boundaries():
    m = load_methodology("mssp-2018-track1")
    t = m.msr.table
    assert variable_msr(t, 4999) == D("0.039")
    assert variable_msr(t, 5000) == D("0.039")
    assert variable_msr(t, 5999) == D("0.036") == variable_msr(t, 6000)
    assert variable_msr(t, 9999) == D("0.030") == variable_msr(t, 10000)
    assert variable_msr(t, 60000) == D("0.02") == variable_msr(t, 250000)
    assert variable_msr(t, 500) == D("0.122") and variable_msr(t, 999) == D("0.087")
    # spec example: n = 9,139 -> 3.0861 % (PUF A1002: 0.030860861)
    assert abs(variable_msr(t, 9139) - D("0.030860861")) < D("1e-9")
    # below the table: first band's low end
    assert variable_msr(t, 152) == D("0.122")


def test_exactly_at_msr_generates():
    m = load_methodology("mssp-2018-track1")
    at = settle(m, inp(total_benchmark=D(1_000_000), total_expenditure=D(980_000)))   # 2.0 % at n=60,000
    assert at.savings_rate == at.msr == D("0.02")
    assert at.generated == D(20_000)
    below = settle(m, inp(total_benchmark=D(1_000_000), total_expenditure=D(980_001)))
    assert below.generated == 0 and below.earned == 0


def test_two_sided_msr_choices():
    m = load_methodology("mssp-2018-track3")
    r = settle(m, inp(track="track3", msr_choice="0.005", assigned_beneficiaries=8000,
                      total_expenditure=D(99_400_000)))
    assert r.msr == D("0.005") and r.msr_source == "elected_fixed" and r.generated == D(600_000)
    r = settle(m, inp(track="track3", msr_choice="variable", assigned_beneficiaries=8000))
    assert r.msr == D("0.032")
    assert settle(m, inp(track="track3", msr_choice="fixed_1.5")).msr == D("0.015")
    assert settle(m, inp(track="track3", msr_choice="2%")).msr == D("0.02")
    with pytest.raises(ValueError, match="msr_choice"):
        settle(m, inp(track="track3", msr_choice="0.03"))


def test_confidence_interval_msr_falls_with_size():
    m = load_methodology("medicaid-ci-msr")
    small = settle(m, inp(assigned_beneficiaries=2000)).msr
    big = settle(m, inp(assigned_beneficiaries=20000)).msr
    assert small > big >= D("0.01")
    # z(0.90) * 1.0 / sqrt(2000) = 0.02866
    assert abs(small - D("0.028656")) < D("0.00001")


# ------------------------------------------------------------- savings side ------------------------

def test_sequestration_before_cap():
    # gross 5.5 M (11 % of benchmark x 50 %), net 5.39 M, cap 5.4 M -> cap not binding after sequestration
    m = meth(performance_payment_limit="0.054", sequestration_rate="0.02")
    r = settle(m, inp(total_benchmark=D(100_000_000), total_expenditure=D(89_000_000), quality_score=D(1)))
    assert r.gross_shared_savings == D(5_500_000)
    assert r.sequestration == D(110_000)
    assert r.earned == D(5_390_000) and r.caps_applied == ""
    # the opposite order would have capped first: 5.4 M x 0.98 = 5.292 M
    m2 = meth(performance_payment_limit="0.054", sequestration_rate="0.02", sequestration_before_cap=False)
    r2 = settle(m2, inp(total_benchmark=D(100_000_000), total_expenditure=D(89_000_000), quality_score=D(1)))
    assert r2.earned == D(5_292_000) and r2.caps_applied == "performance_payment_limit"


def test_cap_binds_after_sequestration():
    m = load_methodology("mssp-2018-track1")   # 10 % cap, 2 % sequestration
    r = settle(m, inp(total_expenditure=D(40_000_000), quality_score=D(1)))   # 60 % savings
    assert r.caps_applied == "performance_payment_limit" and r.earned == D(10_000_000)


def test_quality_gate_failed():
    for name in ("mssp-2018-track1", "mssp-2021-basic-a", "mssp-2021-enhanced"):
        m = load_methodology(name)
        r = settle(m, inp(met_quality_standard=False))
        assert r.generated > 0 and r.earned == 0 and not r.quality_eligible, name
    # 2021 gate: met -> full max rate regardless of the score
    r = settle(load_methodology("mssp-2021-basic-a"), inp(quality_score=D("0.3")))
    assert r.final_sharing_rate == D("0.40")


def test_sliding_scale_2023():
    m = load_methodology("mssp-2023-enhanced")
    thr = m.quality.sliding_scale.threshold_score
    r = settle(m, inp(met_quality_standard=False, quality_score=thr / 2))
    assert r.quality_factor == D("0.5") and r.final_sharing_rate == D("0.375")


def test_first_dollar_vs_beyond_threshold():
    fd = settle(meth(first_dollar=True), inp(quality_score=D(1)))     # 5 % savings, MSR 2 %
    bt = settle(meth(first_dollar=False), inp(quality_score=D(1)))
    assert fd.gross_shared_savings == D(2_500_000)
    assert bt.gross_shared_savings == D(1_500_000)


def test_corridors_piecewise():
    m = meth(corridors=[{"from_rate": "0", "to_rate": "0.02", "provider_share": "0"},
                        {"from_rate": "0.02", "to_rate": "0.04", "provider_share": "0.5"},
                        {"from_rate": "0.04", "to_rate": None, "provider_share": "0.25"}])
    r = settle(m, inp(quality_score=D(1)))          # 5 % savings on 100 M
    assert r.gross_shared_savings == D(1_000_000 + 250_000)


# --------------------------------------------------------------- loss side -------------------------

def test_enhanced_loss_rate_and_quality_failure():
    m = load_methodology("mssp-2018-track3")
    loss = dict(track="track3", msr_choice="0.02", total_expenditure=D(105_000_000))
    r = settle(m, inp(**loss, quality_score=D("0.9")))
    assert r.loss_rate == D("0.40")                     # 1 - 0.75 x 0.9 = 0.325 -> floor 40 %
    assert r.earned == D(-2_000_000)
    r = settle(m, inp(**loss, quality_score=D("0.2")))
    assert r.loss_rate == D("0.75")                     # 1 - 0.15 = 0.85 -> cap 75 %
    r = settle(m, inp(**loss, met_quality_standard=False))
    assert r.loss_rate == D("0.75") and r.earned == D(-3_750_000)


def test_loss_limits_and_disaster_adjustment():
    m = load_methodology("mssp-2018-track2")
    big = dict(track="track2", msr_choice="0", total_expenditure=D(130_000_000), quality_score=D("0.5"))
    assert settle(m, inp(**big, agreement_year=1)).earned == D(-5_000_000)      # 5 % of benchmark
    assert settle(m, inp(**big, agreement_year=2)).earned == D(-7_500_000)
    r = settle(m, inp(**big, agreement_year=3, disaster_adjustment=D(1_000_000)))
    assert r.caps_applied == "loss_limit" and r.earned == D(-9_000_000) and r.disaster_adjustment == D(1_000_000)
    t1p = load_methodology("mssp-2019-track1plus")
    r = settle(t1p, inp(track="track1plus", msr_choice="0", total_expenditure=D(130_000_000),
                        revenue=D(20_000_000)))
    assert r.loss_rate == D("0.30") and r.loss_limit == D(1_600_000) and r.earned == D(-1_600_000)


def test_phe_mitigation():
    loss = dict(track="enhanced", msr_choice="0", total_expenditure=D(105_000_000))
    r = settle(load_methodology("mssp-2020-enhanced"), inp(**loss))
    assert r.generated == D(-5_000_000) and r.earned == 0 and r.phe_mitigation == D(2_000_000)
    r23 = settle(load_methodology("mssp-2023-enhanced"), inp(**loss))
    assert D(-2_000_000) < r23.earned < 0
    r24 = settle(load_methodology("mssp-2024-enhanced"), inp(**loss))
    assert r24.earned == D(-2_000_000) and r24.phe_mitigation == 0


def test_one_sided_losses_not_owed():
    r = settle(load_methodology("mssp-2018-track1"), inp(total_expenditure=D(110_000_000)))
    assert r.generated == D(-10_000_000) and r.earned == 0
    r = settle(load_methodology("mssp-2016-track1"), inp(total_expenditure=D(110_000_000)))
    assert r.generated == 0                               # PY2014-2017 PUFs report 0


# ------------------------------------------------------------- Medicaid regimes --------------------

def test_gate_and_ladder_steps():
    m = load_methodology("vt-vmssp-gate-ladder")
    got = {q: settle(m, inp(quality_score=D(q))).quality_factor
           for q in ("0.34", "0.35", "0.5499", "0.55", "0.7499", "0.75", "1")}
    assert got == {"0.34": 0, "0.35": D("0.75"), "0.5499": D("0.75"), "0.55": D("0.85"),
                   "0.7499": D("0.85"), "0.75": D(1), "1": D(1)}
    r = settle(m, inp(quality_score=D("0.6")))       # beyond threshold: (5 % - 2 %) x 100 M x 50 % x 0.85
    assert r.earned == D("1275000.00")


def test_quality_pool_and_withhold():
    pool = settle(load_methodology("or-cco-quality-pool"), inp(quality_score=D("0.8"), revenue=D(10_000_000)))
    assert pool.quality_pool_payment == D("200000.00") and pool.earned == 0
    wh = settle(load_methodology("vt-vmng-withhold"), inp(quality_score=D("0.8"), revenue=D(10_000_000),
                                                          total_expenditure=D(96_000_000)))
    assert wh.withhold_amount == D("500000.00") and wh.withhold_returned == D("400000.00")
    assert wh.earned == D("3000000.00")              # corridor: ACO keeps the first 3 % only


def test_masshealth_quality_moves_both_sides():
    m = load_methodology("masshealth-aco")
    lo, hi = (settle(m, inp(quality_score=D(q), total_expenditure=D(104_000_000))) for q in ("0.2", "0.9"))
    assert hi.earned > lo.earned                     # better quality -> smaller deficit share
    s_lo, s_hi = (settle(m, inp(quality_score=D(q))) for q in ("0.2", "0.9"))
    assert s_hi.earned > s_lo.earned
    assert settle(m, inp(quality_score=D("0.2"), agreement_year=1)).quality_factor == 1   # P4R year


def test_multi_payer():
    m = load_methodology("mn-ihp-track2")
    rows = [inp(payer="medicaid_ffs", total_benchmark=D(60_000_000), total_expenditure=D(56_000_000)),
            inp(payer="medicaid_mco", total_benchmark=D(40_000_000), total_expenditure=D(39_000_000))]
    res, alloc = settle_pooled(m, rows)
    assert sum(alloc.values()) == res.earned and set(alloc) == {"medicaid_ffs", "medicaid_mco"}
    per = [settle(m, r) for r in rows]
    assert per[1].savings_rate == D("0.025") and per[1].generated == D(1_000_000)   # above the 2 % MSR
    # pooled: 5 M savings on 100 M; 50 % x (0.5 + 0.5 x 0.9) = 47.5 %
    assert res.earned == D("2375000.00")
    assert alloc["medicaid_ffs"] == D("1425000.00")


# ------------------------------------------------------------- methodology validation ---------------

def _yaml(tmp_path, text):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return p


BASE = """
name: bad
provenance: {source: [x]}
msr: {type: none}
settlement: {max_share_rate: %s}
"""


def test_invalid_yaml_names_the_field(tmp_path):
    with pytest.raises(MethodologyError, match=r"settlement\.max_share_rate"):
        load_methodology(_yaml(tmp_path, BASE % "1.5"))
    with pytest.raises(MethodologyError, match=r"benchmark\.base_weights"):
        load_methodology(_yaml(tmp_path, BASE % "0.5" + "benchmark: {base_years: [1,2], base_weights: [0.5, 0.4]}\n"))
    with pytest.raises(MethodologyError, match=r"settlement\.sharing_rate"):
        load_methodology(_yaml(tmp_path, BASE % "0.5" + "settlement: {max_share_rate: 0.5, sharing_rate: 1}\n"))
    with pytest.raises(MethodologyError, match=r"quality"):
        load_methodology(_yaml(tmp_path, BASE % "0.5" + "quality: {regime: gate_and_ladder}\n"))
    with pytest.raises(MethodologyError, match=r"preset"):
        load_methodology("mssp-2031-track9")
    with pytest.raises(MethodologyError, match="not valid YAML"):
        load_methodology(_yaml(tmp_path, "name: [unclosed"))


def test_presets_load_and_cover_years():
    names = set(preset_names())
    for y in range(2013, 2025):
        assert f"mssp-{y}" in names
        assert isinstance(load_methodology(f"mssp-{y}"), TrackSelector)
    for n in ("mssp-2018-track1", "mssp-2018-track1plus", "mssp-2021-basic-c", "mssp-2019-enhanced",
              "mssp-2015-track2", "mssp-2024-basic-e", "mn-ihp-track1", "vt-vmssp-gate-ladder",
              "or-cco-quality-pool", "masshealth-aco"):
        m = load_methodology(n)
        assert m.provenance.source and (m.provenance.documented or m.provenance.assumptions), n
    assert "mssp-2013-basic-a" not in names and "mssp-2022-track1" not in names


def test_track_aliases():
    assert canonical_track("Track 1+") == "track1plus"
    assert canonical_track("BASIC", "C") == "basic_c"
    assert canonical_track("basic-e") == "basic_e"
    sel = load_methodology("mssp-2019")
    assert sel.resolve("Track 3").name == "mssp-2019-track3"
    assert load_methodology("mssp-2021").resolve("track3").name == "mssp-2021-enhanced"
    with pytest.raises(ValueError, match="track"):
        load_methodology("mssp-2018").resolve("basic_c")


# ------------------------------------------------------------- table and CLI ------------------------

HEADER = ["entity_id", "performance_year", "track", "assigned_beneficiaries", "total_benchmark",
          "total_expenditure", "quality_score", "met_quality_standard", "msr_choice"]


def _csv(path, rows, header=HEADER):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_settle_table_roundtrip(tmp_path):
    src = _csv(tmp_path / "in.csv", [["A1", 2018, "Track 1", 9139, 100000000, 90000000, 0.9, 1, ""],
                                     ["A2", 2018, "track3", 20000, 100000000, 104000000, 0.8, 1, "0.01"]])
    out = tmp_path / "out.csv"
    res = settle_table("mssp-2018", src, out)
    rows = list(csv.DictReader(open(out)))
    assert [r["entity_id"] for r in rows] == ["A1", "A2"]
    assert abs(D(rows[0]["msr"]) - D("0.030860861")) < D("1e-9")
    assert D(rows[0]["earned"]) == res[0].earned == D(10_000_000) * D("0.45") * D("0.98")
    assert D(rows[1]["earned"]) < 0
    for col in ("savings_rate", "generated", "final_sharing_rate", "sequestration", "caps_applied"):
        assert col in rows[0]


@pytest.mark.parametrize("rows,header,msg", [
    ([["A1", 2018, "track1", 100, 1000, 900, 0.9, 1, ""]], [h for h in HEADER if h != "total_benchmark"],
     "missing required column"),
    ([["A1", 2018, "track1", 100, "lots", 900, 0.9, 1, ""]], HEADER, "row 2: column 'total_benchmark'"),
    ([["A1", 2018, "track1", 100, 1000, 900, 0.9, 1, ""], ["A2", 2018, "track9", 100, 1000, 900, 0.9, 1, ""]],
     HEADER, "row 3"),
    ([["A1", 2018, "track1", 100, 1000, 900, 0.9, "maybe", ""]], HEADER, "column 'met_quality_standard'"),
    ([["A1", 2019, "track1", 100, 1000, 900, 0.9, 1, ""]], HEADER, "performance_year"),
    ([["A1", 2018, "track1", 100, 1000, 900, 1.9, 1, ""]], HEADER, "quality_score"),
])
def test_settle_table_errors(tmp_path, rows, header, msg):
    src = _csv(tmp_path / "in.csv", [[str(c) for c in r][:len(header)] for r in rows], header)
    with pytest.raises(TableError, match=msg) as ei:
        settle_table("mssp-2018", src, tmp_path / "out.csv")
    assert "\n" not in str(ei.value)


def test_cli_exit_codes(tmp_path, capsys):
    src = _csv(tmp_path / "in.csv", [["A1", 2018, "track1", 9139, 100000000, 90000000, 0.9, 1, ""]])
    assert main(["settle-table", "--preset", "mssp-2018", str(src), str(tmp_path / "o.csv")]) == 0
    assert (tmp_path / "o.csv").exists()
    bad = _csv(tmp_path / "bad.csv", [["A1", 2018, "track7", 9139, 100000000, 90000000, 0.9, 1, ""]])
    assert main(["settle-table", "--preset", "mssp-2018", str(bad), str(tmp_path / "o2.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("icm: error: row 2") and "Traceback" not in err and err.count("\n") == 1
    assert main(["settle-table", "--preset", "nope", str(src), str(tmp_path / "o3.csv")]) == 2
    assert "unknown preset" in capsys.readouterr().err


# ------------------------------------------------------------- quality scoring ----------------------

SCHEME = {
    "name": "demo",
    "measures": {
        "FUH": {"benchmarks": [{"rate": "0.30", "points": "1.1"}, {"rate": "0.50", "points": "1.55"},
                               {"rate": "0.70", "points": "2"}]},
        "PCR": {"benchmarks": [{"rate": "0.20", "points": "1"}, {"rate": "0.15", "points": "2"}],
                "higher_is_better": False},
    },
    "improvement": {"method": "gap_closure", "gap_fraction": "0.10", "min_improvement": "0.01"},
}


def test_quality_score_points_and_improvement():
    r = score_quality([MeasureResult("FUH", D("0.55")), MeasureResult("PCR", D("0.18"))], SCHEME)
    pts = {m.measure_id: m.points for m in r.measures}
    assert pts == {"FUH": D("1.55"), "PCR": D(1)}
    assert r.score == D("0.6375")                       # 2.55 / 4
    # gap closure: prior 0.20 -> target 0.20 + 10 % x (0.70 - 0.20) = 0.25; 0.26 meets it -> full points
    r = score_quality([MeasureResult("FUH", D("0.26"), prior_rate=D("0.20")), MeasureResult("PCR", None)], SCHEME)
    assert r.measures[0].basis == "improvement" and r.measures[0].points == 2
    assert r.measures[1].basis == "not_reported" and r.score == D("0.5")
    p4r = score_quality([MeasureResult("FUH", D("0.01")), MeasureResult("PCR", D("0.9"))],
                        {**SCHEME, "pay_for_reporting": True})
    assert p4r.score == 1
    with pytest.raises(ValueError, match="measures"):
        score_quality([MeasureResult("XYZ", D("0.5"))], SCHEME)


def test_shipped_mssp_presets_are_what_make_presets_generates():
    """The YAMLs are the authority at run time; the generator must still reproduce every one of them byte for
    byte (so an edit to either shows up here), and every generated preset must load."""
    from savings.make_presets import generated_presets
    from savings.methodology import PRESET_DIR

    generated = generated_presets()
    assert len(generated) == 75, "75 MSSP presets (savings/README.md)"
    for name, text in generated.items():
        assert (PRESET_DIR / name).read_text() == text, f"{name} differs from python -m savings.make_presets"
        load_methodology(name.removesuffix(".yaml"))
