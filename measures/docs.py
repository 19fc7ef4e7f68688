"""Render measures/README.md measure cards from the definitions (`python -m measures.docs > measures/README.md`)."""
from __future__ import annotations

from measures.registry import all_measures

HEADER = """# Quality-measure engine (`measures/`)

Computes Health Home, Adult Core Set and PQA measures from the warehouse's final-action claims, member months and
enrollment spans. Every measure is a declarative `MeasureDefinition` (`measures/defs/*.py`) whose `build` function
composes shared SQLAlchemy Core building blocks (`measures/blocks.py`: enrollment islands and continuous-enrollment
windows with gap allowances, inpatient stays with acute-to-acute transfers merged, observation stays, ED visits,
service lines with mental-health-provider flags, value-set joins on diagnosis/procedure/revenue/TOB/POS/DRG/NDC,
date windows, one-per-N-days recursive selection, pharmacy coverage islands, hospice/death/palliative/LTC
exclusions). The engine (`measures/engine.py`) compiles each measure to one `INSERT ... SELECT` into
`measure_detail` and aggregates the detail into `measure_result` by rate and stratum — all inside the database
(DuckDB by default, PostgreSQL tested). Dialect-specific date arithmetic lives in `measures/sqlfuncs.py`.

* API: `measures.registry.all_measures()`, `measures.engine.compute(engine, year, measure_ids=None)`,
  `measures.checks.run_checks(engine, year, measure_id)`, `icm measures` (icm/commands/measures.py)
  (`icm measures --year Y [--measure ID ...] [--format json|csv] [--warehouse URL] [--licensed-value-sets DIR]
  [--pqi-payer-scope all_payers|medicaid_paid] [--options FILE]`),
  `measures.bench.run(engine, year)`.
* Run cost: `compute()` runs its measures on one connection. Building blocks that two or more of the run's
  measures use (claim diagnosis/procedure unpivots, inpatient stays, ED claims, service lines, de-duplicated member
  months, enrollment islands, hospice/LTC persons, shared pharmacy fills) are materialised once per run as temporary
  tables (`measures/scratch.py`) and dropped at the end; a one-measure run keeps them as inline CTEs. Computing
  the whole suite in one call is therefore several times cheaper than measure by measure; `icm measures` and the
  Dagster measures asset (one multi-asset: a run computes all selected measures in one call) do so.
* Results: `measure_detail` (one row per denominator unit and rate: anchor date, age/age band, strata attributes,
  exclusion and reason, numerator met and the claim that met it; per-member-month measures use one row per member x
  strata group with member months as denominator) and `measure_result` (measure, rate, stratum type/value,
  numerator, denominator, exclusions, rate, small-cell flag for counts 1-10, status, value-set versions).
  Strata: total, the measure's age bands, sex, race, ethnicity, payer, delivery system, program (health home / ICM
  program), entity, county. Event/member measures take strata from the member month containing (or last before)
  the anchor date.
* Value sets: `measures/value_sets/` (public bundle + provenance). Licensed NCQA/CMS directories
  (`ICM_LICENSED_VALUE_SETS=<dir>`, CSV/TSV in the published `Measure ID, Value Set Name, Value Set OID, Code, Code
  System` layout) replace ours. A measure whose value sets are missing reports `not computable: missing value sets
  ...` and never computes partially. Claims whose year is mostly ICD-9-CM (DE-SynPUF) make ICD-10 measures report
  `not computable for this coding era` unless `ICM_GEM_CROSSWALK=<csv with icd10cm,icd9cm>` is set.
* Rate types: proportion; per 1,000 / per 100,000 member months; ALOS (days / discharges); count; per 1,000
  members; observed/expected (only with licensed weights - otherwise not computable, never guessed).
* Spark: add `@compiles(..., "spark")` versions of `add_days`, `days_between`, `month_start` (notes in sqlfuncs.py).

## General deviations and choices

* Value sets for NCQA measures are public approximations (CPT numbers, HCPCS, UB revenue, POS) versioned
  `icm-approx-2024.1`; load the HEDIS VSD for official lists. NDC lists ship only the named products of the
  generator contract (`measures/reference/ndc_drugs.csv`); SAA-AD and PDC-DR need licensed/complete NDC lists and
  report not computable until they are loaded.
* Continuous enrollment uses merged enrollment spans across payers/plans (the state is the payer).
* Mental-health provider = `provider.is_mental_health_provider` or `provider_type = 'behavioral_health'` on the
  rendering or billing NPI.
* Age follows each specification and each card's **Age rule** line states it (generated from the definition's
  `age_on`): the unit's anchor date (discharge, ED visit, IESD; 31 Dec for member-based measures) or a fixed date
  of MY (PQA PDC and SAA: 1 January). Member-month measures count denominator months by age at the start of
  the month and events by their own age (PQI: age at admission), so an admission in a birthday month is not lost.
* Every result row carries `core_set_status` (in or out of the Core Set of FFY = MY + 1: AMB-HH and PQI92-HH are
  Health Home measures only through FFY2024, OHD-AD is not in the FFY2026 Adult Core Set; they are still computed)
  and `lookback_status` (`full`, or `partial` with the years the warehouse holds, e.g. COL's nine prior years);
  `status` says `not computable ...` for a missing value set or an ICD-9 coding era. `measures.status.warnings(rows)`
  gives one line per measure for a command line.
* Run options (`measures.options.MeasureOptions`, YAML with unknown keys rejected): `pqi_payer_scope`; on the
  command line `--pqi-payer-scope` or `--options FILE` (a flag wins over the file), in Dagster the
  `quality_measures` run config (`MeasuresConfig`).
* Coverage: the Adult (-AD) and Child (-CH) counterparts of the Health Home measures are the parent's detail rows
  restricted to their ages (`measures/defs/counterparts.py`, copied in the same run, no second pass over the
  claims). Administrative Adult/Child measures with their own modules: CHL, WCV, W30 (`screening.py`), CCW, CCP
  (`contraception.py`, public OPA code lists that ship), BCS, CCS (`cancer_screening.py`), APM, APP, SSD
  (`antipsychotics.py`), AMR (`asthma.py`), ADD (`adhd.py`), PPC2 (`perinatal.py`); their NCQA value sets load from the user's licensed
  files (names on each card). Every other measure of the FFY's Adult, Child and Health Home Core Sets is listed by
  `measures.catalog` with the reason it is not computed ("not computable from claims: survey / hybrid / ECDS /
  vital records" or "not implemented: ..."); a whole-suite `compute()` writes one result row for each.
* Where the spec card is tagged [K], the choice made is stated on the card below.

"""


def render() -> str:
    out = [HEADER, "## Measure cards\n"]
    for m in all_measures():
        c = m.card
        sets = ", ".join(f"{k} {'/'.join(str(y) for y in v)}" for k, v in m.core_sets.items())
        bands = ", ".join(b[2] for b in m.age_bands) or "none"
        rates = ", ".join(f"`{r.rate_id}` ({r.kind})" for r in m.rates)
        out.append(f"### {m.id} — {m.title}\n")
        out.append(f"*Steward* {m.steward}; *core sets* {sets}; *period* {m.measurement_period}; *unit* {m.unit}.\n")
        out.append(f"* **What it measures**: {c.get('measures', '')}")
        out.append(f"* **Rates**: {rates}")
        out.append(f"* **Denominator**: {c.get('denominator', '')}")
        out.append(f"* **Numerator**: {c.get('numerator', '')}")
        out.append(f"* **Exclusions**: {c.get('exclusions', '')}")
        out.append(f"* **Look-back**: {m.lookback_years} prior calendar year(s)") if m.lookback_years else None
        out.append(f"* **Enrollment rule**: {c.get('enrollment', m.enrollment.description if m.enrollment else 'none')}")
        limits = ", ".join(x for x in (f">= {m.min_age}" if m.min_age is not None else "",
                                        f"<= {m.max_age}" if m.max_age is not None else "") if x)
        out.append(f"* **Age rule**: {m.age_rule()}" + (f"; {limits}" if limits else ""))
        out.append(f"* **Strata**: age bands {bands}; sex, race, ethnicity, payer, delivery system, program, entity, county"
                   + (f". {c['strata']}" if c.get("strata") else ""))
        if m.params:
            out.append(f"* **Parameters**: " + ", ".join(f"{k}={v}" for k, v in m.params.items()))
        out.append(f"* **Value sets**: " + ", ".join(f"`{v}`" for v in m.value_sets))
        if m.not_computable_rates:
            out.append("* **Not computable**: " + "; ".join(f"`{k}`: {v}" for k, v in m.not_computable_rates.items()))
        out.append("* **Deviations from the official specification**:")
        for d in m.deviations or ("none known beyond the general choices above",):
            out.append(f"  * {d}")
        out.append("")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
