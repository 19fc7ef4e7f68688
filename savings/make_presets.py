"""Generate the MSSP preset YAML files in savings/presets/ (``python -m savings.make_presets``).

The YAML files are the authority (they are what ``load_methodology`` reads and what reviewers check);
this script only keeps the 12 years x 10 tracks consistent. Medicaid presets are hand-written YAML and
are not touched. Every value is tagged in ``provenance``: [V] verified (regulation text or reproduced
from a CMS public use file), [S] secondary source, [K] background knowledge -> configurable default.
"""
from __future__ import annotations

from pathlib import Path

import yaml

PRESET_DIR = Path(__file__).with_name("presets")
YEARS = range(2013, 2025)

CFR = "42 CFR Part 425 Subpart G (https://www.ecfr.gov/current/title-42/chapter-IV/subchapter-B/part-425/subpart-G)"
SPEC = "ICM calculator spec savings-methodology.md §A.9-A.12"
PUF = "CMS MSSP ACO Performance Year Financial and Quality Results PUF (data.cms.gov; copies in tests/fixtures/mssp)"

TRACK_YEARS = {
    "track1": range(2013, 2022),
    "track2": range(2013, 2022),
    "track3": range(2016, 2020),
    "track1plus": range(2018, 2022),
    "enhanced": range(2019, 2025),
    "basic_a": range(2019, 2025),
    "basic_b": range(2019, 2025),
    "basic_c": range(2019, 2025),
    "basic_d": range(2019, 2025),
    "basic_e": range(2019, 2025),
}
LABEL = {"track1": "Track 1", "track2": "Track 2", "track3": "Track 3", "track1plus": "Track 1+ Model",
         "enhanced": "ENHANCED track", "basic_a": "BASIC Level A", "basic_b": "BASIC Level B",
         "basic_c": "BASIC Level C", "basic_d": "BASIC Level D", "basic_e": "BASIC Level E"}
FILE_KEY = {"track1": "track1", "track2": "track2", "track3": "track3", "track1plus": "track1plus",
            "enhanced": "enhanced", "basic_a": "basic-a", "basic_b": "basic-b", "basic_c": "basic-c",
            "basic_d": "basic-d", "basic_e": "basic-e"}
FIXED_CHOICES = [0.0, 0.005, 0.01, 0.015, 0.02]


def sequestration(year: int) -> tuple[float, str]:
    if year in (2019, 2020):
        return 0.0, "[V] sequestration 0%% for PY%d (CARES Act suspension from May 2020; reproduced from PUF)" % year
    if year in (2014, 2015, 2016, 2017, 2018, 2021):
        return 0.02, "[V] sequestration 2%% for PY%d (reproduced from PUF earned savings)" % year
    if year == 2013:
        return 0.02, "[V] sequestration 2% for PY2013 (PY2013 PUF shared savings = 0.49 x generated at QS 1.0)"
    return 0.02, "[K] sequestration 2%% assumed for PY%d (keyed by payment date; verify)" % year


def phe(year: int) -> tuple[float, str | None]:
    if year in (2020, 2021):
        return 1.0, "[V data / K rule] 425.611 PHE loss mitigation: all 12 months of PY%d in the PHE -> owed losses zeroed (no ACO owed losses in the PUF)" % year
    if year == 2022:
        return 1.0, "[K] PHE covered all of 2022 -> loss mitigation fraction 1.0"
    if year == 2023:
        return 0.416667, "[K] PHE ended 11 May 2023 -> 5 of 12 months -> loss mitigation fraction 5/12"
    return 0.0, None


def quality(year: int, track: str) -> tuple[dict, list[str], list[str]]:
    doc, ass = [], []
    if year <= 2020:
        doc.append("[V] quality regime PY2012-2020 (425.502): final sharing rate = max sharing rate x quality score "
                   "(4 d.p.); failing the quality standard (Met_QPS=0) -> no shared savings; first PY of first "
                   "agreement pay-for-reporting (the PUF quality score is 1.0)")
        return {"regime": "multiplicative", "require_quality_standard": True}, doc, ass
    if year <= 2022:
        doc.append("[V] PY2021-2022 quality performance standard gate (425.512): meeting the QPS earns the full "
                   "max sharing rate (PY2021 PUF FinalShareRate == MaxShareRate for all ACOs)")
        return {"regime": "gate", "require_quality_standard": True}, doc, ass
    thr = 0.70 if year == 2023 else 0.767
    ass.append("[K] PY2023+ sliding scale (425.512(a)(4)-(5)): ACOs missing the QPS get max x (score / QPS "
               f"threshold score); threshold_score {thr} (0-1 scale) is a configurable default, not verified; "
               "the 10th-percentile outcome-measure eligibility test is not modelled (floor_score 0) -- pass "
               "met_quality_standard and a quality_score of 0 for ACOs failing it")
    return {"regime": "sliding_scale", "require_quality_standard": True,
            "sliding_scale": {"threshold_score": thr, "floor_score": 0.0}}, doc, ass


def methodology(year: int, track: str) -> dict:
    doc: list[str] = []
    ass: list[str] = []
    one_sided = track in ("track1", "basic_a", "basic_b")
    max_rate = {"track1": 0.5, "track1plus": 0.5, "track2": 0.6, "track3": 0.75, "enhanced": 0.75,
                "basic_a": 0.4, "basic_b": 0.4, "basic_c": 0.5, "basic_d": 0.5, "basic_e": 0.5}[track]
    limit = {"track1": 0.10, "track1plus": 0.10, "track2": 0.15, "track3": 0.20, "enhanced": 0.20}.get(track, 0.10)
    doc.append(f"[V] max sharing rate {max_rate} (PUF QualPerfShare / MaxShareRate)")
    if track in ("track1", "basic_a", "basic_b", "basic_c", "basic_d", "basic_e", "enhanced", "track3"):
        doc.append(f"[V] performance payment limit {limit:.0%} of updated benchmark, applied after sequestration "
                   "(PY2018 A1409 capped exactly)" if track == "track1" else
                   f"[V] performance payment limit {limit:.0%} of benchmark (harmonised PUF reproduction)")
    else:
        ass.append(f"[K] performance payment limit {limit:.0%} of benchmark")
    # MSR
    if one_sided:
        msr = {"type": "variable_table", "below_table": "first_band_low"}
        doc.append("[V] MSR by assigned beneficiaries, 425.604(b) table with linear interpolation (band upper "
                   "bound as end point); sub-5,000 bands 500-999 / 1,000-2,999 / 3,000-4,999 reproduced from PUFs")
        ass.append("[K] n < 500: CMS supplies an override (PY2017 n=152 -> 25.419%); the engine uses the first "
                   "band's low end (12.2%)")
    elif track == "track2" and year <= 2015:
        msr = {"type": "fixed", "value": 0.02}
        doc.append("[V] Track 2 before 2016: flat 2% MSR/MLR (PY2014 PUF: all Track 2 ACOs 2.0%)")
    else:
        msr = {"type": "variable_table", "allowed_fixed_choices": FIXED_CHOICES, "allow_variable_choice": True}
        doc.append("[S/K] two-sided: symmetric MSR/MLR elected at agreement start: 0, 0.5, 1.0, 1.5, 2.0% or the "
                   "variable table (row column msr_choice; blank = variable)")
        ass.append("[K] an elected fixed MSR reverting to the variable table below 5,000 beneficiaries is NOT "
                   "applied by default (msr.elected_fixed_min_n null); CMS publishes the MSR actually used")
    # losses
    settlement = {"first_dollar": True, "max_share_rate": max_rate, "performance_payment_limit": limit,
                  "two_sided": not one_sided, "money_quantum": 1}
    seq, seq_note = sequestration(year)
    settlement["sequestration_rate"] = seq
    settlement["sequestration_before_cap"] = True
    (doc if seq_note.startswith("[V") else ass).append(seq_note)
    if track == "track2":
        settlement["loss_rate"] = {"rule": "one_minus_fsr_bounded", "min_rate": 0.40, "max_rate": 0.60,
                                   "rate_if_quality_failed": 0.60}
        settlement["loss_limit"] = {"type": "pct_benchmark",
                                    "pct_benchmark_by_agreement_year": {1: 0.05, 2: 0.075, 3: 0.10}}
        doc.append("[V] Track 2 loss rate 1 - final sharing rate bounded 40-60% (within rounding)")
        ass.append("[K] Track 2 loss limit 5% / 7.5% / 10% of benchmark in agreement PY1 / PY2 / PY3+ "
                   "(row column agreement_year; blank = 10%)")
    elif track in ("track3", "enhanced"):
        settlement["loss_rate"] = {"rule": "one_minus_fsr_bounded", "min_rate": 0.40, "max_rate": 0.75,
                                   "rate_if_quality_failed": 0.75}
        settlement["loss_limit"] = {"type": "pct_benchmark", "pct_benchmark": 0.15}
        doc.append("[V] Track 3/ENHANCED loss rate 1 - 0.75 x quality score bounded 40-75%; 75% if the quality "
                   "standard is not met (PY2018 A3743)")
        ass.append("[K] Track 3/ENHANCED loss limit 15% of benchmark")
    elif track in ("track1plus", "basic_c", "basic_d", "basic_e"):
        rev, bench = {"track1plus": (0.08, 0.04), "basic_c": (0.02, 0.01), "basic_d": (0.04, 0.02),
                      "basic_e": (0.08, 0.04)}[track]
        settlement["loss_rate"] = {"rule": "flat", "flat_rate": 0.30}
        settlement["loss_limit"] = {"type": "pct_revenue_capped", "pct_revenue": rev, "pct_benchmark": bench}
        (doc if track == "track1plus" else ass).append(
            "[V] loss rate 30% flat (PY2019 Track 1+ losses)" if track == "track1plus" else
            "[K] BASIC C-E loss rate 30% flat (no BASIC ACO owed losses in public data)")
        ass.append(f"[K] loss limit min({rev:.0%} of ACO participant FFS revenue, {bench:.0%} of benchmark); "
                   "without a revenue column the benchmark-based amount applies")
    if not one_sided:
        f, note = phe(year)
        settlement["phe_loss_mitigation"] = f
        if note:
            (doc if note.startswith("[V") else ass).append(note)
        doc.append("[V] extreme & uncontrollable circumstances: owed losses reduced by the row's "
                   "disaster_adjustment (PUF DisAdj), after the loss limit")
    q, qd, qa = quality(year, track)
    doc += qd
    ass += qa
    if one_sided:
        doc.append("[V] generated losses of one-sided ACOs are reported as 0 up to PY2017 and as the loss from "
                   "PY2018 (PUF GenSaveLoss); they are never owed")
    return {
        "kind": "methodology",
        "name": f"mssp-{year}-{FILE_KEY[track]}",
        "description": f"Medicare Shared Savings Program, performance year {year}, {LABEL[track]}",
        "program": "mssp", "performance_year": year, "track": track,
        "level": track[-1].upper() if track.startswith("basic") else None,
        "provenance": {"source": [CFR, SPEC, PUF], "documented": doc, "assumptions": ass},
        "msr": msr,
        "settlement": {**settlement, "report_one_sided_generated_losses": year >= 2018},
        "quality": q,
    }


def by_track(year: int) -> dict:
    tracks = {t: f"mssp-{year}-{FILE_KEY[t]}" for t, yrs in TRACK_YEARS.items() if year in yrs}
    aliases = {}
    if "track3" in tracks and "enhanced" not in tracks:
        aliases["enhanced"] = "track3"
    if "enhanced" in tracks and "track3" not in tracks:
        aliases["track3"] = "enhanced"
    return {"kind": "by_track", "name": f"mssp-{year}", "program": "mssp", "performance_year": year,
            "description": f"MSSP PY{year}: picks each row's track methodology from its track/level column",
            "provenance": {"source": [CFR, SPEC, PUF],
                           "documented": [f"tracks available in PY{year}: {', '.join(tracks)}"],
                           "assumptions": ["[K] 'track3' and 'enhanced' are treated as the same track"]},
            "tracks": tracks, "aliases": aliases}


HEADER = "# Generated by `python -m savings.make_presets`; edit the generator, then regenerate.\n"


def generated_presets() -> dict[str, str]:
    """file name -> YAML text of every MSSP preset this generator writes."""
    docs = []
    for year in YEARS:
        docs += [methodology(year, track) for track, yrs in TRACK_YEARS.items() if year in yrs]
        docs.append(by_track(year))
    docs.append({"kind": "by_year", "name": "mssp", "program": "mssp",
                 "description": "MSSP, any performance year 2013-2024: picks mssp-<year> by the row's "
                                "performance_year, then the track methodology by its track/level column",
                 "provenance": {"source": [CFR, SPEC, PUF], "documented": ["see the per-year presets"],
                                "assumptions": []},
                 "years": {y: f"mssp-{y}" for y in YEARS}})
    return {f"{d['name']}.yaml": HEADER + yaml.safe_dump(d, sort_keys=False, width=110, allow_unicode=True)
            for d in docs}


def main(out_dir: Path = PRESET_DIR) -> None:
    out_dir.mkdir(exist_ok=True)
    for name, text in generated_presets().items():
        (out_dir / name).write_text(text)


if __name__ == "__main__":
    main()
