"""Deterministic synthetic multi-payer state: landing files for `make demo`, tests and benchmarks.

`generate(out_dir, members, seed, first_year, years)` writes

    reference/icm_program.csv, icm_entity.csv, provider.csv
    medicaid_ffs/  eligibility.csv, medical_claim.csv, pharmacy_claim.csv    (canonical layout)
    mco_a/         same, canonical (Aurora Health Plan encounters)
    mco_b/         members_<date>.txt, encounters_<date>.txt, rx_<date>.txt   (Bluestem's own layout,
                   pipe-delimited, MM/DD/YYYY, gender 1/2; see warehouse/layouts/bluestem_mco.yaml)
    medicare/      canonical (Medicare FFS for dual eligibles)
    commercial/    canonical (Acme, people churning between commercial coverage and Medicaid)

Everything is drawn with one `numpy.random.Generator(seed)` in a fixed order over whole arrays (no
per-member Python loops) and written with DuckDB `COPY ... TO` in insertion order, so the same
(members, seed, first_year, years) gives byte-identical files.

Conventions
-----------
* `person_id` ("MPI" + 10 digits) is the statewide master person index, the same for a person under every
  payer; `member_id` is payer-specific (MCD…, AUR…, BLS…, MBI…, ACM…).
* Enrollment spans never overlap within one payer. A span that is open at the start of the window starts
  before it (up to ~4 years earlier) so look-back continuous-enrollment rules can be met.
* `icm_program_id`/`icm_entity_id` on eligibility name the ACO (ACO-1) entity for attributed members; a
  health-home member who is not in the ACO carries the health-home entity in `icm_entity_id`.
  `health_home_program_id` is HH-SMI/HH-SUD/HH-CC. ACO entities differ in cost efficiency: after claims
  are priced, each ACO entity's paid amounts per member-month are calibrated, per payer x eligibility group x dual
  status, to equal the non-ACO PMPM of that cell (first-year PMPM x 1.035^year; the non-ACO population is
  calibrated to it too) in every year except the last, where they differ by the entity's
  `ACO_ENTITIES[*][3]` (codes.py): E01 -11 %, E02 -7 %, E05 -3.5 % (well below any benchmark), E03 -0.5 % and
  E04 +1 % (inside +-2 %), and the two-sided E06 +9 % (clearly above). Statewide unit-cost trend is 3.5 %/year.

Adjustments and voids (~2 % of claims; EXTRA columns of warehouse/canonical.py)
* An original has `claim_adjustment_type = original`, `adjustment_sequence = 0`, blank `original_claim_id`.
* A replacement is a full copy of the claim's lines under a NEW claim_id with `original_claim_id` = the
  original's claim_id, `claim_adjustment_type = replacement`, `adjustment_sequence` 1, 2, … (later versions
  have higher numbers), a changed paid_amount (never above allowed) and a later paid_date.
* A void is a full copy under a NEW claim_id, `claim_adjustment_type = void`, the next sequence number, and
  **amounts equal to the negative of the version it cancels** (paid, allowed, charge and cost sharing).
  Families: original→replacement, original→replacement→replacement, original→void, and
  original→void→replacement (the replacement after a void is the final action).
  Final action = the highest-sequence non-void version, unless the highest-sequence version is a void.

Dirty rows (~0.5 % of claim lines, a few eligibility rows; counted in the summary's `dirty`)
All dirty rows are EXTRA rows (copies of a clean line or span, altered one way), so clean data stays
complete and every dirty row is expected to be quarantined:
  bad_date (claim_start_date / dispensing_date / enrollment_start_date `2024-02-30`), end_before_start,
  bad_icd (`XYZ12` / `F3` in diagnosis_code_1), bad_hcpcs (`99X13` / `9921`), bad_ndc (9 digits),
  duplicate (same claim_id + claim_line_number as an existing line, byte-identical), no_enrollment (claim
  for a person never enrolled with that payer), negative_paid (negative paid on an original),
  blank_claim_id, blank_person_id (person_id and member_id both blank), death_before_birth (eligibility).
  Non-duplicate dirty claim lines are one-line claims with their own claim_id (prefix + "9…").

Modules (one per thing generated; this one only orchestrates them)
  conventions            payer codes and layouts, claim/adjustment types, dirty-row kinds
  state                  the state's window, random generator and helpers, composed of the steps below
  people_and_enrollment  persons, conditions, programs, monthly enrollment per payer
  providers              NPIs, TINs, practices, entities, each person's usual providers
  claim_builders         office / ED / inpatient visits and pharmacy fills added to the buffers
  everyday_utilisation   background utilisation
  measure_events         clinical patterns the quality measures look for
  pharmacy_courses       chronic fills with adherence, antidepressant, opioid and benzodiazepine courses
  pricing                amounts and the ACO calibration
  adjustments_and_dirty_rows  claim versions and quarantinable rows
  landing_files          the CSV / pipe-delimited files
  pharmacy_cases, utilization_cases  planted DUR and utilisation-management cases
  quality_cases      codes of the newer Core Set measures on existing claims (contraception, screening, ...)
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from warehouse.synthetic import pharmacy_cases
from warehouse.synthetic import utilization_cases
from warehouse.synthetic import quality_cases
from warehouse.synthetic.adjustments_and_dirty_rows import adjust_and_dirty
from warehouse.synthetic.conventions import (  # noqa: F401  (re-exported: the generator's public names)
    ADJ_ORIGINAL, ADJ_REPLACEMENT, ADJ_VOID, AUR, BLS, COM, DEFAULT_FIRST_YEAR, DEFAULT_YEARS, DIRTY_CODE,
    DIRTY_ELIGIBILITY, DIRTY_MEDICAL, DIRTY_PHARMACY, EXTRACT_TAG, FFS, INST, MCR, NULL_DAY, PAYERS, PRIME, PROF, TREND)
from warehouse.synthetic.landing_files import write_eligibility, write_medical, write_pharmacy, write_reference
from warehouse.synthetic.state import State

_State = State   # the former name, for modules written against it


def generate(out_dir: str | Path, members: int = 20_000, seed: int = 42, first_year: int = DEFAULT_FIRST_YEAR,
             years: int = DEFAULT_YEARS) -> dict:
    """Write a synthetic state's landing folder under out_dir and return a JSON-able summary."""
    t0 = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("reference", "medicaid_ffs", "mco_a", "mco_b", "medicare", "commercial"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
        (out / sub).mkdir()
    st = State(members, seed, first_year, years)
    st.build_persons()
    st.build_enrollment()
    st.build_providers()
    utilization_cases.plant_panels(st)
    st.everyday()
    st.patterns()
    summary = {"params": dict(members=members, seed=seed, first_year=first_year, years=years), "files": {},
               "members_per_payer": {}, "dirty": {}, "adjustments": dict(families=0, replacement_versions=0, void_versions=0)}
    summary["pharmacy_cases"] = pharmacy_cases.plant(st)  # planted DUR cases and near misses (their manifest)
    summary["mtm_services"] = pharmacy_cases.write_mtm_services(st, out / "mtm")  # MTM program's service record
    summary["utilization_cases"] = utilization_cases.plant_events(st)
    summary["quality_cases"] = quality_cases.plant(st)  # contraception, screening, well-child events (issue 19)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    vocab = pa.array(st.V.items, type=pa.string())
    write_reference(st, con, out, summary)
    write_eligibility(st, con, out, summary)
    med = st.med.concat()
    st.med = None
    rx = {k: np.concatenate([b[k] for b in st.rx]) for k in st.rx[0]}
    st.rx = None
    # amounts (before adjustments so versions share them)
    med.update(st.amounts(med["payer"], med["ctype"], med["line"], med["base"], med["person"], med["start"]))
    rx["line"] = np.ones(len(rx["person"]), np.int16)
    rx["ckey"] = np.arange(len(rx["person"]), dtype=np.int64)
    rx.update(st.amounts(rx["payer"], None, rx["line"], rx["base"], rx["person"], rx["day"]))
    summary["aco_calibration"] = st.calibrate_aco(med, rx)
    for code, meta in PAYERS.items():
        sel = med["payer"] == code
        cols = {k: v[sel] for k, v in med.items()}
        adjust_and_dirty(st, cols, DIRTY_MEDICAL, code, False, summary["dirty"], summary["adjustments"])
        write_medical(st, con, out, code, meta, cols, vocab, summary)
        del cols
        sel = rx["payer"] == code
        cols = {k: v[sel] for k, v in rx.items()}
        adjust_and_dirty(st, cols, DIRTY_PHARMACY, code, True, summary["dirty"], summary["adjustments"])
        write_pharmacy(st, con, out, code, meta, cols, vocab, summary)
        del cols
    con.close()
    summary["seconds"] = round(time.time() - t0, 2)
    summary["rows"] = {"medical_claim": sum(v for k, v in summary["files"].items() if "medical_claim" in k or "encounters_" in k),
                       "pharmacy_claim": sum(v for k, v in summary["files"].items() if "pharmacy_claim" in k or "rx_" in k),
                       "eligibility": sum(v for k, v in summary["files"].items() if "eligibility" in k or "members_" in k)}
    return json.loads(json.dumps(summary))


def bench(members: int = 100_000, seed: int = 42) -> dict:
    """Generate into a temporary folder and report seconds and rows (the folder is removed)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="icm_synth_") as tmp:
        t0 = time.time()
        s = generate(tmp, members=members, seed=seed)
        secs = time.time() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    return {"members": members, "seconds": round(secs, 2), "rows": s["rows"], "bytes": size,
            "rows_per_second": round(sum(s["rows"].values()) / max(secs, 1e-9))}
