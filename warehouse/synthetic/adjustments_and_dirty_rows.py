"""Claim numbering, adjustment and void versions (~2 % of claims) and dirty rows (~0.5 % of lines) per payer."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from warehouse.synthetic.conventions import (ADJ_REPLACEMENT, ADJ_VOID, DIRTY_CODE, MCR, PAYERS)
from warehouse.synthetic.paid_lag import planted_paid_dates

if TYPE_CHECKING:
    from warehouse.synthetic.state import State


def _rows_where_never_enrolled(st: State, payer_code, n, rng):
    """n persons never enrolled with payer_code (for 'claims with no enrollment')."""
    cand = rng.integers(0, st.N, max(64, n * 8))
    if payer_code == MCR:
        never = ~st.MC[cand].any(axis=1)
    else:
        never = ~(st.S[cand] == payer_code).any(axis=1)
    out = cand[never][:n]
    if len(out) < n:
        out = np.concatenate([out, np.full(n - len(out), cand[0])])
    return out.astype(np.int32)


def adjust_and_dirty(st: State, cols: dict, kinds: list[str], payer_code: int, is_rx: bool, summary_dirty: dict,
                      summary_adj: dict):
    """Sort a payer's lines, number claims, append adjustment versions and dirty rows (in place on `cols`)."""
    rng = st.rng
    start = cols["day"] if is_rx else cols["start"]
    order = np.lexsort((cols["line"], cols["ckey"], start))
    for k in list(cols):
        cols[k] = cols[k][order]
    n = len(cols["ckey"])
    new_claim = np.ones(n, bool)
    new_claim[1:] = cols["ckey"][1:] != cols["ckey"][:-1]
    claim_no = np.cumsum(new_claim).astype(np.int64)   # 1..n_claims
    n_claims = int(claim_no[-1]) if n else 0
    cols["claim_no"] = claim_no
    cols["orig_no"] = np.full(n, -1, np.int64)
    cols["adj"] = np.zeros(n, np.int8)
    cols["seq"] = np.zeros(n, np.int8)
    cols["dirty"] = np.zeros(n, np.int8)
    end = cols["day"] if is_rx else cols["end"]
    rng.integers(10, 60, n)   # the former uniform lag, still drawn: the main random stream of later steps is unchanged
    cols["paid_date"] = planted_paid_dates(st.seed, PAYERS[payer_code]["payer"], is_rx, end)   # paid_lag.py
    next_no = n_claims + 1
    # --- adjustments: ~2 % of claims
    fam = np.nonzero(rng.random(n_claims) < 0.02)[0] + 1
    kind = rng.choice(4, size=len(fam), p=[0.55, 0.15, 0.22, 0.08])  # R, RR, V, VR
    fam_kind = np.zeros(n_claims + 2, np.int8) - 1
    fam_kind[fam] = kind
    sel = fam_kind[claim_no] >= 0
    base_rows = {k: v[sel] for k, v in cols.items()}
    fk = fam_kind[base_rows["claim_no"]]
    pieces = []
    fam_new_no = np.zeros(n_claims + 2, np.int64)

    def version(mask, seq, adj, prev_paid, prev_date, factor=None):
        nonlocal next_no
        rows = {k: v[mask].copy() for k, v in base_rows.items()}
        fams = rows["claim_no"]
        uniq = np.unique(fams)
        fam_new_no[uniq] = next_no + np.arange(len(uniq))
        next_no += len(uniq)
        rows["orig_no"] = fams.copy()
        rows["claim_no"] = fam_new_no[fams]
        rows["adj"][:] = adj
        rows["seq"][:] = seq
        rows["paid_date"] = (prev_date[mask] + rng.integers(20, 60, mask.sum())).astype(np.int32)
        money = ("paid", "allowed", "charge", "coins", "copay", "ded")
        if adj == ADJ_VOID:
            for mcol in money:
                rows[mcol] = -prev_paid[mcol][mask]
        else:
            for mcol in money:
                rows[mcol] = prev_paid[mcol][mask].copy()
            f = factor[mask]
            rows["paid"] = np.minimum(np.round(rows["paid"] * f).astype(np.int64), rows["allowed"])
        pieces.append(rows)
        return rows

    money0 = {m: base_rows[m] for m in ("paid", "allowed", "charge", "coins", "copay", "ded")}
    f1 = rng.uniform(0.7, 1.05, len(fk))
    f2 = rng.uniform(0.8, 1.05, len(fk))
    date0 = base_rows["paid_date"]
    # R and RR: replacement seq 1
    m_r = np.isin(fk, [0, 1])
    r1 = version(m_r, 1, ADJ_REPLACEMENT, money0, date0, f1)
    # RR: second replacement from the first
    full_r1 = {m: np.zeros_like(money0[m]) for m in money0}
    full_d1 = np.zeros_like(date0)
    for m in money0:
        full_r1[m][m_r] = r1[m]
    full_d1[m_r] = r1["paid_date"]
    m_rr = fk == 1
    version(m_rr, 2, ADJ_REPLACEMENT, full_r1, full_d1, f2)
    # V and VR: void of the original (seq 1)
    m_v = np.isin(fk, [2, 3])
    v1 = version(m_v, 1, ADJ_VOID, money0, date0)
    full_dv = np.zeros_like(date0)
    full_dv[m_v] = v1["paid_date"]
    version(fk == 3, 2, ADJ_REPLACEMENT, money0, full_dv, f1)
    summary_adj["families"] += int(len(fam))
    for pc_ in pieces:
        if len(pc_["adj"]):
            key = "replacement_versions" if pc_["adj"][0] == ADJ_REPLACEMENT else "void_versions"
            summary_adj[key] += int(len(np.unique(pc_["claim_no"])))
    # --- dirty rows: ~0.5 % of lines, every kind at least once
    n_dirty = max(len(kinds), int(round(n * 0.005)))
    per_kind = np.full(len(kinds), n_dirty // len(kinds))
    per_kind[: n_dirty % len(kinds)] += 1
    clean_idx = np.nonzero(cols["line"] == 1)[0] if n else np.zeros(0, np.int64)
    for kname, cnt in zip(kinds, per_kind):
        if len(clean_idx) == 0:
            break
        pick = clean_idx[rng.integers(0, len(clean_idx), cnt)]
        rows = {k: v[pick].copy() for k, v in cols.items()}
        rows["dirty"][:] = DIRTY_CODE[kname]
        if kname != "duplicate":
            rows["claim_no"] = 9_000_000_000 + next_no + np.arange(cnt)
            next_no += cnt
            rows["line"][:] = 1
        if kname == "end_before_start":
            rows["end"] = (rows["start"] - rng.integers(1, 10, cnt)).astype(np.int32)
            rows["line_end"] = rows["end"]
        elif kname == "bad_icd":
            rows["dx1"] = np.where(np.arange(cnt) % 2 == 0, st.V.id("XYZ12"), st.V.id("F3")).astype(np.int32)
        elif kname == "bad_hcpcs":
            rows["hcpcs"] = np.where(np.arange(cnt) % 2 == 0, st.V.id("99X13"), st.V.id("9921")).astype(np.int32)
        elif kname == "bad_ndc":
            rows["ndc"] = np.full(cnt, st.V.id("004060360"), np.int32)
        elif kname == "no_enrollment":
            rows["person"] = _rows_where_never_enrolled(st, payer_code, cnt, rng)
        elif kname == "negative_paid":
            rows["paid"] = -np.maximum(rows["paid"], 100)
        pieces.append(rows)
        summary_dirty[kname] = summary_dirty.get(kname, 0) + int(cnt)
    for k in list(cols):
        cols[k] = np.concatenate([cols[k]] + [pc_[k] for pc_ in pieces])
