"""Columnar buffers the generator fills before writing: the code vocabulary (code strings as int32 indexes) and the
medical claim-line buffer (one block of whole-array columns per call)."""
from __future__ import annotations

import numpy as np

from warehouse.synthetic.conventions import NULL_DAY

MED_HDR = dict(person=-1, payer=0, ctype=0, start=NULL_DAY, end=NULL_DAY, admit=NULL_DAY, disch=NULL_DAY, adm_src=0, adm_type=0, disp=0,
               tob=0, drg=0, dx1=0, dx2=0, dx3=0, dx4=0, bill=-1, fac=-1)
MED_LINE = dict(line_start=NULL_DAY, line_end=NULL_DAY, rev=0, hcpcs=0, mod1=0, pos=0, units=1, rend=-1, base=0)
INT64_COLS = {"base"}


class Vocab:
    """All code strings in one table; code columns hold int32 indexes (0 = blank)."""

    def __init__(self):
        self.items: list[str | None] = [None]
        self.index: dict[str, int] = {}

    def id(self, s: str) -> int:
        if s not in self.index:
            self.index[s] = len(self.items)
            self.items.append(s)
        return self.index[s]

    def ids(self, seq) -> np.ndarray:
        return np.array([self.id(s) for s in seq], dtype=np.int32)


class MedicalBuffer:
    def __init__(self):
        self.blocks: list[dict[str, np.ndarray]] = []
        self.n_claims = 0

    def add(self, person, payer, start, end, ctype, lines: list[dict], **hdr):
        person = np.asarray(person, dtype=np.int32)
        n = len(person)
        if n == 0:
            return
        K = len(lines)
        mask = np.ones((n, K), dtype=bool)
        for k, ln in enumerate(lines):
            if "present" in ln and k > 0:
                mask[:, k] = ln["present"]
        ci, ki = np.nonzero(mask)
        lnum = np.cumsum(mask, axis=1)[ci, ki]
        out = {"ckey": (ci + self.n_claims).astype(np.int64), "line": lnum.astype(np.int16)}
        claim_vals = dict(hdr, person=person, payer=payer, start=start, end=end, ctype=ctype)
        for col, default in MED_HDR.items():
            v = claim_vals.get(col, default)
            out[col] = _col(v, n, col)[ci]
        for col, default in MED_LINE.items():
            mat = np.empty((n, K), dtype=np.int64 if col in INT64_COLS else np.int32)
            for k, ln in enumerate(lines):
                if col in ln:
                    v = ln[col]
                elif col == "line_start":
                    v = start
                elif col == "line_end":
                    v = end
                else:
                    v = default
                mat[:, k] = _col(v, n, col)
            out[col] = mat[ci, ki]
        self.blocks.append(out)
        self.n_claims += n

    def concat(self) -> dict[str, np.ndarray]:
        cols = self.blocks[0].keys()
        return {c: np.concatenate([b[c] for b in self.blocks]) for c in cols}


def _col(v, n, col):
    dtype = np.int64 if col in INT64_COLS else np.int32
    if np.isscalar(v):
        return np.full(n, v, dtype=dtype)
    return np.asarray(v).astype(dtype, copy=False)
