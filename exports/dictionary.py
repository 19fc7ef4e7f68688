"""The data dictionary written as README.md into every export folder: each file, each column or key, its unit,
the suppression markers, and the specification version of each measure exported."""
from __future__ import annotations

from measures.units import RATE_UNITS

SUPPRESSED = ("Blank in CSV, `null` in JSON: suppressed (see `suppressed` / `suppression_reason`). A zero is a "
              "true zero.")

QMR = {
    "ffy": "federal fiscal year of Core Set reporting (measurement year + 1)",
    "core_set": "Core Set(s) the measure belongs to, or `state-specific`",
    "in_ffy_core_set": "`true` when the measure is in that Core Set for this FFY",
    "measure": "measure id (e.g. FUH-HH)",
    "measure_title": "measure title",
    "steward": "measure steward",
    "rate_id": "rate within the measure (e.g. 7_day)",
    "rate_label": "label of the rate (the measure's, else `<title>: <rate id>`)",
    "rate_type": "kind of rate: " + ", ".join(RATE_UNITS),
    "rate_unit": "unit of `rate` for this rate type (table below)",
    "stratum_type": "`total` (all members) or the stratification (age_band, sex, payer, entity, ...)",
    "stratum_value": "value of the stratum (`total` on the all-members row)",
    "data_source": "data source reported to QMR",
    "date_range_start": "first day of the measurement period (ISO date)",
    "date_range_end": "last day of the measurement period (ISO date)",
    "specification": "specification version: value-set versions used, `name=version; ...`",
    "numerator": "numerator count (events or members); suppressed when 1-10",
    "denominator": "denominator count (members, events or member months); suppressed when 1-10",
    "rate": "numerator / denominator in `rate_unit`, rounded half-up (1 d.p.; ratios 4 d.p.)",
    "status": "`ok`, or why the rate is not computed (coding era, value set missing, not computable from claims: "
              "survey / hybrid / ECDS, not implemented, ...)",
    "core_set_status": "whether the measure is in that FFY's Core Set, or the FFYs it was in when it left "
                       "(computed because states still use it)",
    "lookback_status": "`full`, or `partial` with the years the warehouse holds when the measure's look-back "
                       "reaches before the data (e.g. COL's nine years); empty when the measure has no look-back",
    "suppressed": "`true` when the row's counts and rate are hidden",
    "suppression_reason": "primary (a count of 1-10) or complementary (protects a hidden cell of a sum relation)",
    "deviations": "deviations from the published specification, `|`-separated",
}

STATEMENTS = {
    "year": "performance year",
    "methodology_id": "settlement methodology id",
    "program_id": "ICM program",
    "entity_id": "ICM entity (ACO / health home)",
    "payer": "payer of the row, or `combined` (all payers of the entity)",
    "binding": "1 = this row is the settlement that pays (per the methodology's settle_by); totals use these only",
    "risk_arrangement": "`one_sided` or `two_sided`",
    "persons": "persons attributed in the year (count); suppressed when 1-10",
    "person_years": "attributed member months / 12 (8 d.p.)",
    "benchmark_pc": "benchmark per person-year, dollars (8 d.p.)",
    "benchmark": "benchmark, dollars (cents)",
    "expenditure_pc": "expenditure per person-year, dollars (8 d.p.)",
    "expenditure": "expenditure, dollars (cents)",
    "savings": "benchmark - expenditure, dollars (cents); negative = losses",
    "savings_rate": "savings / benchmark, fraction (0.05 = 5 %), 8 d.p.",
    "msr": "minimum savings rate, fraction",
    "mlr": "minimum loss rate, fraction (empty for one-sided entities)",
    "generated": "savings or losses beyond the corridor that are shared, dollars (cents)",
    "quality_score": "quality score, fraction 0-1",
    "sharing_rate": "final sharing (or loss) rate, fraction",
    "earned": "shared savings paid to the entity, dollars (cents)",
    "owed": "shared losses owed by the entity, dollars (cents)",
    "rate_low_analytic": "paying rows: lower bound of the savings rate's 90 % confidence interval (two-sided, "
                         "analytic ratio estimator over attributed persons), fraction 8 d.p.",
    "rate_high_analytic": "paying rows: upper bound of that interval, fraction 8 d.p.",
    "chance_probability": "paying rows: probability that a savings rate this far from 0 arises by chance with no "
                          "true savings (one-sided, normal approximation), 8 d.p.",
    "msr_protects": "paying rows: `false` when the entity is too small for its MSR to protect against random "
                    "variation (MSR below the one-sided 90 % threshold of its cost variance)",
    "suppressed": "`true` when the row's amounts are hidden",
    "suppression_reason": "primary (1-10 persons) or complementary (protects a hidden row of a sum relation)",
}

QUALIFIER = {
    "measurement_year": "measurement year",
    "ffy": "federal fiscal year (measurement year + 1)",
    "health_home_enrollees": "persons with a health-home month in the year (count); null when suppressed",
    "adult_enrollees": "of them, aged 18+ at their last health-home month (count); null when suppressed",
    "child_enrollees": "of them, under 18 (count); adults + children = enrollees, suppressed complementarily",
    "minimum_age": "youngest enrollee's age (years); null for a small population",
    "maximum_age": "oldest enrollee's age (years); null for a small population",
    "health_home_providers": "health-home entities of health-home programs (count)",
    "delivery_system_percent_of_member_months": "percent (2 d.p.) of health-home member months by delivery "
                                                "system: FFS, PCCM, MCO, ICM, OTHER",
    "cost_savings": "per program and methodology, totals of the paying statement rows",
    "cost_savings[].program_id": "ICM program",
    "cost_savings[].methodology_id": "settlement methodology id",
    "cost_savings[].method": "how the figure was produced (benchmark settlement, not a causal estimate)",
    "cost_savings[].settled_rows": "number of paying rows (binding = 1)",
    "cost_savings[].suppressed": "`true` when the totals are hidden (complementary to the statements)",
    "cost_savings[].savings": "sum of savings of the paying rows, dollars (cents)",
    "cost_savings[].earned": "sum of earned shared savings, dollars (cents)",
    "cost_savings[].owed": "sum of owed shared losses, dollars (cents)",
    "suppression": "the suppression rule in words",
}

MANIFEST = {
    "year": "measurement / performance year",
    "ffy": "federal fiscal year",
    "created_at": "when the export was written (UTC, ISO 8601)",
    "suppression_rule": "the suppression rule in words",
    "data_dictionary": "this file",
    "files": "per data file: `path`, `rows`, `suppressed_rows` (null for JSON), `sha256` of the file",
}


def file_columns(year: int) -> dict[str, tuple[str, dict[str, str]]]:
    """file name -> (what it holds, {column or key: description})."""
    ffy = year + 1
    return {
        f"qmr_measures_FFY{ffy}.csv": ("quality measure rates by stratum, in the shape of the QMR system", QMR),
        f"settlement_statements_{year}.csv": ("shared-savings settlement per program x entity x payer and "
                                              "combined", STATEMENTS),
        f"qmr_qualifier_FFY{ffy}.json": ("Health Home Core Set qualifier pre-fill", QUALIFIER),
        "manifest.json": ("what was written: row and suppression counts, checksums", MANIFEST),
    }


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows)]


def data_dictionary(year: int, qmr_rows: list[dict]) -> str:
    """README.md text for the export of `year`; `qmr_rows` give the measures and their specification versions."""
    lines = [f"# Data dictionary: exports of {year} (FFY {year + 1})", "",
             "Written by `exports.export_year`. Every count of 1-10 is suppressed (CMS cell-size policy), and so "
             "is any cell that a sum relation (a total and its parts) would give back.", "",
             f"**Suppression markers.** {SUPPRESSED}", ""]
    for name, (what, columns) in file_columns(year).items():
        lines += [f"## `{name}`", "", what + ".", ""]
        lines += _table([(f"`{c}`", d) for c, d in columns.items()], ("column / key", "description"))
        lines.append("")
    lines += ["## Rate units (`rate_unit`)", ""]
    lines += _table([(f"`{t}`", u.name, "count" if u.scale is None else f"N / D x {u.scale:,}",
                      str(u.quantum)) for t, u in RATE_UNITS.items()], ("rate_type", "unit", "computed", "rounded to"))
    specs: dict[str, tuple[str, set]] = {}
    for r in qmr_rows:
        specs.setdefault(r["measure"], (r.get("measure_title", ""), set()))[1].add(r.get("specification") or "")
    lines += ["", "## Measures and specification versions", ""]
    lines += _table([(m, title, "; ".join(sorted(v for v in versions if v)) or "-")
                     for m, (title, versions) in sorted(specs.items())], ("measure", "title", "specification"))
    return "\n".join(lines) + "\n"
