"""Developer script: copy the Core Set state median/quartile table (data.medicaid.gov, FFY 2021) into
core_set_quartiles.csv. Not used at run time. Usage: python -m measures.reference.build_quartiles <shared/data>."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

KEEP = ("FUH-AD", "FUM-AD", "FUA-AD", "IET-AD", "PCR-AD", "OUD-AD", "COL-AD", "CBP-AD", "CDF-AD", "PQI01-AD",
        "PQI05-AD", "PQI08-AD", "PQI15-AD", "OHD-AD", "COB-AD", "AMM-AD", "SAA-AD", "AMB-CH",
        # issue 19's new measures
        "CCW-AD", "CCW-CH", "CCP-AD", "CCP-CH", "BCS-AD", "CCS-AD", "W30-CH", "ADD-CH", "AMR-AD", "AMR-CH",
        "APM-CH", "APP-CH", "SSD-AD", "PPC-AD", "PPC-CH")


def main(shared: Path) -> None:
    src = shared / "medicaid_core_set_state_rates" / "2021_Child_and_Adult_Health_Care_Quality_Measures_Quality.csv"
    seen = {}
    with open(src, newline="", encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            if r["Measure Abbreviation"] not in KEEP or not r["Median"] or r["Population"] not in ("Medicaid", "Medicaid & CHIP"):
                continue
            key = (r["Measure Abbreviation"], r["Rate Definition"], "Medicaid")
            seen[key] = (r["FFY"], r["Median"], r["Bottom Quartile"], r["Top Quartile"], r["Number of States Reporting"])
    out = Path(__file__).parent / "core_set_quartiles.csv"
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["measure_abbreviation", "rate_definition", "population", "ffy", "median", "bottom_quartile",
                    "top_quartile", "states_reporting"])
        for k in sorted(seen):
            w.writerow(list(k) + list(seen[k]))
    print(len(seen), "rows")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))
