"""Reproduce CMS MSSP settlements from the ACO public use files (PUF).

    python -m savings.reproduce PUF.csv [PUF.csv ...] [--details OUT.csv]

Accepts any of the PUF layouts CMS / the harmonised file use:

* harmonised multi-year file (lower-case columns, ``performance_year``; PY2013-2021);
* raw PUF with CMS column names (PY2015+ style: ``ACO_ID, Current_Track_1, ..., N_AB, MinSavPerc``;
  PY2014 style ``ACO_Num, Track1, Track2``); the performance year comes from the file name;
* raw PY2013 PUF (long English headers, several of them shifted by one column -- mapped by position).

For each ACO-year it builds a ``settle_table`` input row (track from the track flags, ``n_ab``,
``abtotbnchmk``, ``abtotexp``, ``qualscore``, ``met_qps``, ``disadj``, two-sided ``minsavperc`` as
``msr_choice``), settles it with the per-year preset (``mssp-<year>``) and compares the MSR (one-sided
ACOs), generated savings/losses and earned savings / owed losses with the published values.
When a year is present in several files, a raw PUF wins over the harmonised file (it has more columns).
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from .methodology import canonical_track, load_methodology
from .settlement import SettlementError
from .settle_csv import TableError, settle_table

ONE_SIDED = {"track1", "basic_a", "basic_b"}
MAX_RATE = {"track1": 0.5, "track1plus": 0.5, "track2": 0.6, "track3": 0.75, "enhanced": 0.75,
            "basic_a": 0.4, "basic_b": 0.4, "basic_c": 0.5, "basic_d": 0.5, "basic_e": 0.5}
FIXED_CHOICES = (0.0, 0.005, 0.01, 0.015, 0.02)
EARNED_REL_TOL = 0.0005          # 0.05 %
MONEY_ABS_TOL = 1.0              # CMS publishes whole dollars

# positional map of the raw PY2013 PUF (headers from "Total savings/losses ($)" on are shifted by one)
PY2013_POSITIONS = {"aco_id": 0, "aco_name": 1, "start_date": 2, "track2_flag": 3, "qualscore": 7,
                    "finalsharerate": 9, "minsavperc": 11, "abtotbnchmk": 12, "abtotexp": 13,
                    "bnchmkminexp": 14, "earned_savings": 15, "owed_losses": 16, "n_ab": 17}


def _num(s: pd.Series) -> pd.Series:
    if s.dtype == object:
        s = s.astype(str).str.replace(r"[$,%\s]", "", regex=True)
    return pd.to_numeric(s, errors="coerce")


def _year_from_name(path: Path) -> int | None:
    m = re.search(r"(?<!\d)(20\d\d)(?!\d)", path.name)
    return int(m.group(1)) if m else None


def read_puf(path: str | Path) -> pd.DataFrame:
    """Read one PUF file into a frame with lower-case harmonised column names + ``performance_year``."""
    path = Path(path)
    raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str, low_memory=False)
    cols = [c.strip() for c in raw.columns]
    raw.columns = cols
    if "Total benchmark expenditures ($)" in cols and "ACO Identifier" in cols:      # PY2013 raw layout
        df = pd.DataFrame({k: raw.iloc[:, i] for k, i in PY2013_POSITIONS.items()})
        df["current_track_2"] = df.pop("track2_flag")
        # "Shared Losses ($)" holds earned savings, "Total number of assigned beneficiaries" owed losses
        df["earnsaveloss"] = _num(df.pop("earned_savings")).fillna(0) + _num(df.pop("owed_losses")).fillna(0)
        df["current_track_1"] = (_num(df["current_track_2"]) == 0).astype(int)
        df["current_start_date"] = df.pop("start_date")
        df["performance_year"] = _year_from_name(path) or 2013
        df["layout"] = "raw-2013"
        return df
    df = raw.copy()
    df.columns = [c.lower() for c in cols]
    ren = {"aco_num": "aco_id", "track1": "current_track_1", "track2": "current_track_2",
           "qualperfshare": "maxsharerate", "start_date": "current_start_date"}
    df = df.rename(columns={k: v for k, v in ren.items() if k in df.columns and v not in df.columns})
    if "performance_year" not in df.columns:
        y = _year_from_name(path)
        if y is None:
            raise ValueError(f"{path}: no performance_year column and no year in the file name")
        df["performance_year"] = y
        df["layout"] = "raw"
    else:
        df["layout"] = "harmonised"
    return df


def _scale_to_fraction(s: pd.Series, lo: float, hi: float, by: pd.Series | None = None) -> pd.Series:
    """Rescale a rate column published as fraction, percent, or percent/100 so its median is in [lo, hi]
    (separately per value of ``by``, e.g. performance year: the harmonised file mixes conventions)."""
    if s.empty:
        return s
    if by is not None:
        return pd.concat([_scale_to_fraction(g, lo, hi) for _, g in s.groupby(by)]).reindex(s.index)
    med = s.abs().median()
    if not np.isfinite(med) or med == 0:
        return s
    for f in (1.0, 0.01, 100.0, 10000.0):
        if lo <= med * f <= hi:
            return s * f
    return s


def _track_of(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Canonical track from the track flags; inferred from published rates when the flags are absent."""
    track = pd.Series([None] * len(df), index=df.index, dtype=object)
    flags = [("current_basic_a", "basic_a"), ("current_basic_b", "basic_b"), ("current_basic_c", "basic_c"),
             ("current_basic_d", "basic_d"), ("current_basic_e", "basic_e"), ("current_enhanced", "enhanced"),
             ("current_track_1_plus", "track1plus"), ("current_track_3", "track3"), ("current_track_2", "track2"),
             ("current_track_1", "track1")]
    for col, name in flags:
        if col in df.columns:
            hit = (_num(df[col]) == 1) & track.isna()
            track[hit] = name
    inferred = track.isna()
    if inferred.any():
        # max sharing rate = final sharing rate / quality score (0.5 Track 1, 0.6 Track 2, 0.75 Track 3)
        mx = _num(df["finalsharerate"]) / _num(df["qualscore"]) if "finalsharerate" in df.columns \
            else pd.Series(np.nan, index=df.index)
        if "maxsharerate" in df.columns:
            mx = _num(df["maxsharerate"]).where(_num(df["maxsharerate"]).notna(), mx)
        guess = pd.Series("track1", index=df.index, dtype=object)
        guess[(mx - 0.4).abs() < 0.02] = "basic_a"        # BASIC A/B (one-sided, identical parameters)
        guess[(mx - 0.6).abs() < 0.02] = "track2"
        guess[(mx - 0.75).abs() < 0.02] = "track3"
        # no usable quality score: a flat 2 % MSR at n < 60,000 marks a pre-2016 Track 2 ACO
        # a flat 2 % MSR at n < 60,000 (variable table gives 2 % only from 60,000) marks a pre-2016 Track 2 ACO
        msr = _scale_to_fraction(_num(df["minsavperc"]), 0.01, 0.3, by=df["performance_year"])
        guess[((msr - 0.02).abs() < 1e-9) & (_num(df["n_ab"]) < 60000)
              & (_num(df["performance_year"]) <= 2015)] = "track2"
        rm = df.get("risk_model")
        if rm is not None:
            two = rm.astype(str).str.lower().str.startswith("two") & (guess == "track1")
            # two-sided at a 50 % max rate: Track 1+ (2018) or BASIC C-E (PY2019+, loss limit of Level E)
            late = _num(df["performance_year"]) >= 2019
            guess[two & late] = "basic_e"
            guess[two & ~late] = "track1plus"
        track[inferred] = guess[inferred]
    return track, inferred


def _agreement_year(df: pd.DataFrame) -> pd.Series:
    col = df.get("current_start_date")
    if col is None:
        return pd.Series([np.nan] * len(df), index=df.index)
    dt = pd.to_datetime(col.astype(str).str.split(" ").str[0], errors="coerce", format="mixed")
    py = _num(df["performance_year"])
    ay = py - dt.dt.year + np.where(dt.dt.month >= 7, 0, 1)
    return ay.clip(lower=1)


def build_inputs(df: pd.DataFrame) -> pd.DataFrame:
    """PUF frame (``read_puf``) -> ``settle_table`` input columns + ``exp_*`` published values."""
    df = df.reset_index(drop=True)
    year = _num(df["performance_year"]).astype(int)
    track, inferred = _track_of(df)
    ids = df["aco_id"] if "aco_id" in df.columns else pd.Series([None] * len(df))
    ordinal = df.groupby(year).cumcount() + 1
    entity = [i if isinstance(i, str) and i.strip() and i != "nan" else f"PY{y}#{o:04d}"
              for i, y, o in zip(ids, year, ordinal)]
    n = _num(df["n_ab"])
    bench, exp = _num(df["abtotbnchmk"]), _num(df["abtotexp"])
    msr_pub = _scale_to_fraction(_num(df["minsavperc"]), 0.01, 0.3, by=year)
    fsr = _num(df["finalsharerate"]) if "finalsharerate" in df.columns else pd.Series(np.nan, index=df.index)
    qraw = df["qualscore"].astype(str).str.strip() if "qualscore" in df.columns else pd.Series("", index=df.index)
    q = _num(qraw)
    q[qraw.str.upper().eq("P4R")] = 1.0
    # quality scores published on a 0-100 scale (e.g. APP/MIPS scores) -> [0, 1], per year
    for y in year.unique():
        sel = year == y
        if q[sel].max() > 1.0001:
            q[sel] = q[sel] / 100
    maxrate = track.map(MAX_RATE).astype(float)
    derived = q.isna() & fsr.notna()
    q[derived] = (fsr[derived] / maxrate[derived]).round(4)
    # quality standard: Met_QPS where published, else a positive quality score and final sharing rate
    met_fallback = ((q > 0) & ~(fsr == 0)).astype(float)
    if "met_qps" in df.columns:
        met = _num(df["met_qps"])
        met = met.where(met.notna(), met_fallback)
    else:
        met = met_fallback
    two_sided = ~track.isin(ONE_SIDED)
    choice = []
    for ts, v in zip(two_sided, msr_pub):
        if not ts or not np.isfinite(v):
            choice.append("")
        else:
            fixed = [c for c in FIXED_CHOICES if abs(v - c) < 5e-5]
            choice.append(repr(fixed[0]) if fixed else "variable")
    disadj = _num(df["disadj"]).fillna(0) if "disadj" in df.columns else pd.Series(0.0, index=df.index)
    out = pd.DataFrame({
        "entity_id": entity, "performance_year": year, "track": track,
        "assigned_beneficiaries": n.round().astype("Int64"),
        "total_benchmark": bench.round(2), "total_expenditure": exp.round(2),
        "quality_score": q, "met_quality_standard": met.fillna(0).astype(int),
        "msr_choice": choice, "disaster_adjustment": disadj.abs(),
        "agreement_year": _agreement_year(df).astype("Int64"),
        "track_inferred": inferred.astype(int),
        "rev_loss_limit": _num(df["revlosslimit"]).fillna(0).astype(int) if "revlosslimit" in df.columns else 0,
        "exp_msr": msr_pub,
        "exp_generated": _num(df["gensaveloss"]) if "gensaveloss" in df.columns else np.nan,
        "exp_earned": _num(df["earnsaveloss"]) if "earnsaveloss" in df.columns else np.nan,
        "source_layout": df["layout"],
    })
    return out


def load_inputs(paths) -> pd.DataFrame:
    """Read several PUF files; per performance year keep the raw PUF over the harmonised file."""
    frames = []
    for p in paths:
        f = build_inputs(read_puf(p))
        f["source_file"] = Path(p).name
        frames.append(f)
    allf = pd.concat(frames, ignore_index=True)
    keep = []
    for y, g in allf.groupby("performance_year"):
        raws = g[g.source_layout != "harmonised"]
        src = raws if len(raws) else g
        # several raw files for one year: take the first
        keep.append(src[src.source_file == src.source_file.iloc[0]])
    return pd.concat(keep, ignore_index=True)


def _msr_tol(pub: pd.Series) -> pd.Series:
    """Published rounding: 4 d.p. files -> 5e-5; otherwise 1e-8 (9 significant digits)."""
    four_dp = (pub * 1e4 - (pub * 1e4).round()).abs() < 1e-6
    return pd.Series(np.where(four_dp, 5e-5 + 1e-12, 1e-8), index=pub.index)


def reproduce_frame(inputs: pd.DataFrame, preset_for_year=lambda y: f"mssp-{y}") -> pd.DataFrame:
    """Settle ``inputs`` year by year with the per-year preset; add computed columns and match flags."""
    out = []
    input_cols = ["entity_id", "performance_year", "track", "assigned_beneficiaries", "total_benchmark",
                  "total_expenditure", "quality_score", "met_quality_standard", "msr_choice",
                  "disaster_adjustment", "agreement_year"]
    with tempfile.TemporaryDirectory() as tmp:
        for y, g in inputs.groupby("performance_year"):
            src, dst = Path(tmp) / f"in{y}.csv", Path(tmp) / f"out{y}.csv"
            g[input_cols].to_csv(src, index=False)
            settle_table(preset_for_year(int(y)), src, dst)
            res = pd.read_csv(dst, dtype={"entity_id": str})
            r = g.reset_index(drop=True).copy()
            for c in ("msr", "generated", "earned", "final_sharing_rate", "loss_rate", "caps_applied", "notes"):
                r[c] = res[c]
            out.append(r)
    r = pd.concat(out, ignore_index=True)
    one = r.track.isin(ONE_SIDED)
    r["msr_checked"] = one & r.exp_msr.notna()
    r["msr_ok"] = ~r.msr_checked | ((r.msr - r.exp_msr).abs() <= _msr_tol(r.exp_msr))
    r["gen_checked"] = r.exp_generated.notna()
    r["gen_ok"] = ~r.gen_checked | ((r.generated - r.exp_generated).abs() <= MONEY_ABS_TOL)
    r["earned_checked"] = r.exp_earned.notna()
    diff = (r.earned - r.exp_earned).abs()
    r["earned_exact"] = r.earned_checked & (diff <= MONEY_ABS_TOL)
    r["earned_ok"] = ~r.earned_checked | (diff <= np.maximum(MONEY_ABS_TOL, EARNED_REL_TOL * r.exp_earned.abs()))
    r["earned_diff"] = r.earned - r.exp_earned
    return r


def summary(r: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for y, g in r.groupby("performance_year"):
        bad = g[~(g.msr_ok & g.gen_ok & g.earned_ok)]
        rows.append({
            "year": int(y), "rows": len(g),
            "msr_checked": int(g.msr_checked.sum()), "msr_exact": int((g.msr_checked & g.msr_ok).sum()),
            "gen_checked": int(g.gen_checked.sum()), "gen_exact": int((g.gen_checked & g.gen_ok).sum()),
            "earned_checked": int(g.earned_checked.sum()), "earned_exact": int(g.earned_exact.sum()),
            "earned_within": int((g.earned_checked & g.earned_ok).sum()),
            "outliers": len(bad), "outlier_ids": " ".join(bad.entity_id.astype(str)[:20])
            + (" ..." if len(bad) > 20 else ""),
        })
    return pd.DataFrame(rows)


def format_report(s: pd.DataFrame) -> str:
    head = (f"{'PY':>4} {'rows':>5} {'MSR exact':>12} {'generated exact':>16} {'earned exact':>13} "
            f"{'earned <=0.05%':>15} {'outliers':>8}")
    lines = [head, "-" * len(head)]
    for _, x in s.iterrows():
        lines.append(f"{x.year:>4} {x.rows:>5} {f'{x.msr_exact}/{x.msr_checked}':>12} "
                     f"{f'{x.gen_exact}/{x.gen_checked}':>16} {f'{x.earned_exact}/{x.earned_checked}':>13} "
                     f"{f'{x.earned_within}/{x.earned_checked}':>15} {x.outliers:>8}")
    tot = s.sum(numeric_only=True)
    lines.append("-" * len(head))
    lines.append(f"{'all':>4} {int(tot.rows):>5} {f'{int(tot.msr_exact)}/{int(tot.msr_checked)}':>12} "
                 f"{f'{int(tot.gen_exact)}/{int(tot.gen_checked)}':>16} "
                 f"{f'{int(tot.earned_exact)}/{int(tot.earned_checked)}':>13} "
                 f"{f'{int(tot.earned_within)}/{int(tot.earned_checked)}':>15} {int(tot.outliers):>8}")
    for _, x in s.iterrows():
        if x.outliers:
            lines.append(f"PY{x.year} outliers: {x.outlier_ids}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m savings.reproduce", description=__doc__.splitlines()[0])
    ap.add_argument("puf", nargs="+", help="PUF CSV files (harmonised and/or raw)")
    ap.add_argument("--details", help="write the per-row comparison to this CSV")
    args = ap.parse_args(argv)
    try:
        r = reproduce_frame(load_inputs(args.puf))
    except (TableError, SettlementError, ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(summary(r)))
    if args.details:
        r.to_csv(args.details, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
