"""Reference data of the DUR engine: NDC products, MME factors, drug classes, interaction pairs.

The NDC → ingredient / strength / unit table is the project's existing NDC reference
(`measures/reference/ndc_drugs.csv`, read here, not copied) plus the dose forms in `reference/ndc_dose_forms.csv`;
a user's complete product table (CSV with the columns of `Product`) overrides and extends it. MME per product is
resolved here once (reference data, a few rows), so the SQL only joins one small table. A strength is never guessed:
a product without a numeric strength, or whose unit differs from the factor's unit, is "not computable".
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from measures.defs.pharmacy import REF as MEASURES_NDC_REF

HERE = Path(__file__).resolve().parent / "reference"
FACTOR_SET_VERSION = "cdc_2022_clinical:2022.1"
CLASSES_VERSION = "2026.1"
DDI_VERSION = "2026.1-unverified"
# dose forms that select a dose-form-specific factor (everything else uses the ingredient's "any" row)
FORM_GROUPS = {"transdermal": "transdermal", "patch": "transdermal", "buccal_tablet": "buccal",
               "sublingual_tablet": "buccal", "lozenge": "buccal", "buccal_film": "buccal_film",
               "oral_spray": "buccal_film", "nasal_spray": "nasal"}


class ProductTableError(ValueError):
    """A user product table that cannot be read (names the file and the field)."""


@dataclass(frozen=True)
class Product:
    ndc: str
    ingredient: str
    strength: float | None  # per dispensed unit, in strength_unit; None when absent or unparsable
    strength_unit: str | None
    dose_form: str | None
    strength_text: str = ""

    def mme_factor(self, factors: dict) -> tuple[float | None, str]:
        """(factor per unit-day, status) for this product; status 'ok' or why MME is not computable."""
        rows = factors.get(self.ingredient)
        if rows is None:
            return None, "no_mme_factor"
        group = FORM_GROUPS.get(self.dose_form or "", "any")
        row = rows.get(group) or rows.get("any")
        if row is None:
            return None, "no_factor_for_dose_form"
        if self.strength is None:
            return None, "strength_unparsable" if self.strength_text else "strength_missing"
        if (self.strength_unit or "").lower() != row["strength_unit"].lower():
            return None, "strength_unit_mismatch"
        return float(row["factor_per_unit"]), "ok"


def _num(text: str) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if v > 0 else None


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_products(user_file: str | Path | None = None) -> dict[str, Product]:
    forms = {r["ndc"]: r["dose_form"] for r in _read_csv(HERE / "ndc_dose_forms.csv")}
    out = {}
    for r in _read_csv(MEASURES_NDC_REF):
        out[r["ndc"]] = Product(r["ndc"], r["ingredient"].strip().lower(), _num(r["strength_per_unit"]),
                                r["strength_unit"] or None, forms.get(r["ndc"]), r["strength_per_unit"])
    if user_file is not None:
        path = Path(user_file)
        rows = _read_csv(path)
        need = {"ndc", "ingredient", "strength", "strength_unit", "dose_form"}
        if not rows:
            raise ProductTableError(f"{path}: product table has no rows (columns {sorted(need)})")
        missing = need - set(rows[0])
        if missing:
            raise ProductTableError(f"{path}: product table needs columns {sorted(need)}; missing {sorted(missing)}")
        for r in rows:
            out[r["ndc"]] = Product(r["ndc"], r["ingredient"].strip().lower(), _num(r["strength"]),
                                    r["strength_unit"] or None, r["dose_form"] or None, r["strength"] or "")
    return out


def load_factors() -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for r in _read_csv(HERE / "mme_factors.csv"):
        out.setdefault(r["ingredient"], {})[r["dose_form_group"]] = r
    return out


@lru_cache(maxsize=1)
def load_classes() -> tuple[tuple[str, str], ...]:
    """(ingredient, class) pairs."""
    return tuple((r["ingredient"], r["drug_class"]) for r in _read_csv(HERE / "drug_classes.csv"))


def load_ddi_ingredient_pairs() -> list[tuple[str, str, str]]:
    """(pair_id, ingredient_a, ingredient_b) with classes expanded to their ingredients."""
    members: dict[str, set[str]] = {}
    for ing, cls in load_classes():
        members.setdefault(cls, set()).add(ing)
    out = []
    for r in _read_csv(HERE / "ddi_pairs.csv"):
        side_a = members.get(r["side_a"], set()) if r["side_a_kind"] == "class" else {r["side_a"]}
        side_b = members.get(r["side_b"], set()) if r["side_b_kind"] == "class" else {r["side_b"]}
        out += [(r["pair_id"], a, b) for a in sorted(side_a) for b in sorted(side_b) if a != b]
    return out


def product_rows(products: dict[str, Product]) -> list[tuple]:
    """(ndc, ingredient, strength, factor, mme_status) per product for the engine's reference join."""
    factors = load_factors()
    rows = []
    for p in products.values():
        factor, status = p.mme_factor(factors)
        rows.append((p.ndc, p.ingredient, p.strength, factor, status if p.ingredient in factors else "not_opioid"))
    return rows
