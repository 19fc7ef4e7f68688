"""Morphine milligram equivalent (MME) conversion factors: the one place OHD-AD (measures/defs/pharmacy.py) and the
DUR engine (pharmacy/) read them from.

`reference/mme_factors.csv` holds the CDC 2022 clinical factors per opioid ingredient and dose-form group (see
`reference/PROVENANCE.md`: verified against the CDC MME FHIR IG code systems). `factor_per_unit` is what a fill's
`strength x quantity / days supply` is multiplied by. A product gets a factor only when its ingredient has one, its
dose form has a row (or the ingredient has an "any" row and the form is not parenteral) and its strength unit is
the factor's unit; otherwise the status says why and nothing is guessed.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

FACTORS_FILE = Path(__file__).resolve().parent / "reference" / "mme_factors.csv"
FACTOR_SET_VERSION = "cdc_2022_clinical:2022.1"
# dose forms that select a dose-form-specific factor (everything else uses the ingredient's "any" row)
FORM_GROUPS = {"transdermal": "transdermal", "patch": "transdermal", "buccal_tablet": "buccal",
               "sublingual_tablet": "buccal", "lozenge": "buccal", "buccal_film": "buccal_film",
               "oral_spray": "buccal_film", "nasal_spray": "nasal"}
# the CDC table converts oral (and the listed transmucosal/transdermal) doses: an injection has no factor
PARENTERAL_PREFIXES = ("injection", "injectable", "infusion", "implant")


@lru_cache(maxsize=1)
def load_factors() -> dict[str, dict[str, dict]]:
    """ingredient -> dose-form group -> the factor file's row."""
    out: dict[str, dict[str, dict]] = {}
    with open(FACTORS_FILE, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["ingredient"], {})[r["dose_form_group"]] = r
    return out


def form_group(dose_form: str | None) -> str:
    form = (dose_form or "").lower()
    if form.startswith(PARENTERAL_PREFIXES):
        return "parenteral"
    return FORM_GROUPS.get(form, "any")


def factor_for(ingredient: str, dose_form: str | None, strength: float | None, strength_unit: str | None,
               strength_text: str = "") -> tuple[float | None, str]:
    """(factor per unit-day, status): status 'ok', or why the MME of this product is not computable."""
    rows = load_factors().get(ingredient)
    if rows is None:
        return None, "no_mme_factor"
    group = form_group(dose_form)
    row = rows.get(group) or (rows.get("any") if group != "parenteral" else None)
    if row is None:
        return None, "no_factor_for_dose_form"
    if strength is None:
        return None, "strength_unparsable" if strength_text else "strength_missing"
    if (strength_unit or "").lower() != row["strength_unit"].lower():
        return None, "strength_unit_mismatch"
    return float(row["factor_per_unit"]), "ok"
