"""The FDA NDC Directory (product.txt + package.txt) as the DUR product table, mapped by active ingredient.

Input: the two tab-delimited files of the FDA National Drug Code Directory in their published layout (the
"NDC database file - text version" download: `product.txt` with PRODUCTID, PRODUCTNDC, PRODUCTTYPENAME,
DOSAGEFORMNAME, ROUTENAME, SUBSTANCENAME, ACTIVE_NUMERATOR_STRENGTH, ACTIVE_INGRED_UNIT, ...; `package.txt` with
PRODUCTID, PRODUCTNDC, NDCPACKAGECODE, ...). A claim carries the 11-digit package NDC, so every package becomes
one row per active ingredient that some DUR rule looks at (the ingredients of `reference/drug_classes.csv` and of
the interaction pairs): NDC (5-4-2 padded, no dashes), ingredient, strength per dispensed unit, unit, dose form,
route. Combination products give one row per such ingredient (PQA: each target ingredient counts).

Mapping rules (never a guess; what cannot be read stays without a strength and is counted by the engine):
* ingredient: the substance name in lower case, matched word by word against the rule ingredients, longest name
  first ("OXYCODONE HYDROCHLORIDE" -> oxycodone, "ISOSORBIDE MONONITRATE" -> isosorbide mononitrate), plus the
  few synonyms in `SYNONYMS` (valproic acid / divalproex -> valproate). A strength is the labelled strength of the
  substance as named (salt), like the CDC opioid analytic file.
* unit: "mg/1" -> mg per unit; "ug" -> mcg; "ug/h" -> mcg/hr (patches); "mg/5mL" -> mg per mL (strength / 5,
  NCPDP quantity of liquids is mL); "g" -> mg (x 1000). Any other strength or unit is kept as written (e.g.
  "mg/actuat", "ug/72h") and the engine reports `strength_unit_mismatch` or `strength_unparsable` for an opioid.
* dose form: the groups the MME factors distinguish (transdermal, buccal_tablet, sublingual_tablet, lozenge,
  buccal_film, sublingual_film, oral_spray, nasal_spray) from DOSAGEFORMNAME and ROUTENAME; otherwise the FDA
  dose form name as a slug ("tablet_film_coated").
* products for the eye, ear or skin only (routes in `LOCAL_ROUTES`) are left out: their days supply says nothing
  about systemic exposure (PQA Poly-ACH/Poly-CNS likewise count systemic forms only).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

PRODUCT_COLUMNS = ("PRODUCTID", "PRODUCTNDC", "PRODUCTTYPENAME", "DOSAGEFORMNAME", "ROUTENAME", "SUBSTANCENAME",
                   "ACTIVE_NUMERATOR_STRENGTH", "ACTIVE_INGRED_UNIT")
PACKAGE_COLUMNS = ("PRODUCTID", "PRODUCTNDC", "NDCPACKAGECODE")
PRODUCT_TYPES = {"HUMAN PRESCRIPTION DRUG", "HUMAN OTC DRUG"}
LOCAL_ROUTES = {"OPHTHALMIC", "OTIC", "TOPICAL", "CUTANEOUS", "DENTAL", "INTRAOCULAR", "PERIODONTAL",
                "AURICULAR (OTIC)", "CONJUNCTIVAL", "INTRAVITREAL", "SUBCONJUNCTIVAL"}
SYNONYMS = {"valproic acid": "valproate", "divalproex": "valproate", "valproate": "valproate",
            "atropa belladonna": "belladonna", "belladonna leaf": "belladonna", "belladonna alkaloids": "belladonna"}
CSV_COLUMNS = ("ndc", "ingredient", "strength", "strength_unit", "dose_form", "route", "product_ndc", "substance")


class NdcDirectoryError(ValueError):
    """An NDC Directory file that cannot be read; the message names the file, the line and the field."""


@dataclass(frozen=True)
class DirectoryRow:
    ndc: str
    ingredient: str
    strength: str  # per dispensed unit as a decimal string; as written when it cannot be converted
    strength_unit: str
    dose_form: str
    route: str
    product_ndc: str  # the FDA product NDC (RxNorm: the drug's RXCUI)
    substance: str  # the substance name as the source lists it

    def as_csv(self) -> dict:
        return {c: getattr(self, c) for c in CSV_COLUMNS}


def ndc11(package_code: str) -> str | None:
    """The 11-digit NDC (5-4-2) of a dashed 10-digit package code (4-4-2, 5-3-2 or 5-4-1); None when malformed."""
    parts = package_code.strip().split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    widths = tuple(len(p) for p in parts)
    if widths not in {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)}:
        return None
    return parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def dose_form(form_name: str, route_name: str) -> str:
    form, routes = form_name.upper(), {r.strip() for r in route_name.upper().split(";")}
    if "PATCH" in form or "TRANSDERMAL" in routes:
        return "transdermal"
    if "SPRAY" in form:
        return "nasal_spray" if "NASAL" in routes else "oral_spray" if routes & {"SUBLINGUAL", "ORAL", "BUCCAL"} \
            else slug(form_name)
    if "LOZENGE" in form or "TROCHE" in form:
        return "lozenge"
    for kind in ("FILM", "TABLET"):
        if kind in form:
            for route in ("BUCCAL", "SUBLINGUAL"):
                if route in routes:
                    return f"{route.lower()}_{kind.lower()}"
    return slug(form_name)


_UNIT = re.compile(r"^\s*(mg|ug|mcg|g)\s*(?:/\s*(\d*\.?\d*)\s*(ml|h|hr)?)?\s*$", re.IGNORECASE)


def strength_per_unit(strength_text: str, unit_text: str) -> tuple[str, str]:
    """(strength per dispensed unit, unit) following the unit rules of the module; a strength or unit that cannot
    be converted is returned as written (the engine then reports it unparsable or in another unit)."""
    as_written = strength_text.strip(), unit_text.strip()
    try:
        value = float(strength_text)
    except ValueError:
        return as_written
    m = _UNIT.match(unit_text)
    if m is None or value <= 0:
        return as_written
    num, per_n, per = m.group(1).lower(), m.group(2) or "", (m.group(3) or "").lower()
    if per in ("h", "hr"):  # a patch's delivery rate; "ug/72h" and the like stay as written
        if per_n not in ("", "1") or num not in ("ug", "mcg"):
            return as_written
        return format_number(value), "mcg/hr"
    if not per and per_n not in ("", "1"):  # "mg/21": per 21 units of a kit, not per dispensed unit
        return as_written
    divisor = float(per_n) if per and per_n else 1.0
    if divisor <= 0:
        return as_written
    unit = {"ug": "mcg", "mcg": "mcg", "mg": "mg", "g": "mg"}[num]
    return format_number(value * (1000.0 if num == "g" else 1.0) / divisor), unit


def format_number(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".")


class IngredientMatcher:
    """Substance name -> rule ingredient (longest word-prefix match, then the synonyms)."""

    def __init__(self, ingredients: set[str]):
        self.by_words = {tuple(i.split()): i for i in ingredients}
        self.by_words.update({tuple(k.split()): v for k, v in SYNONYMS.items() if v in ingredients})
        self.longest = max((len(k) for k in self.by_words), default=0)

    def __call__(self, substance: str) -> str | None:
        words = re.sub(r"[^a-z0-9 ]+", " ", substance.lower()).split()
        for n in range(min(self.longest, len(words)), 0, -1):
            hit = self.by_words.get(tuple(words[:n]))
            if hit:
                return hit
        return None


def _read_tsv(path: Path, need: tuple[str, ...]) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise NdcDirectoryError(f"{path}: file not found (the FDA NDC Directory text files product.txt and "
                                "package.txt are needed)")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # the FDA files have been published in Windows-1252
    reader = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = [c for c in need if c not in (reader.fieldnames or [])]
    if missing:
        raise NdcDirectoryError(f"{path}: line 1: missing column {missing[0]} (tab-delimited FDA NDC Directory "
                                f"layout expected)")
    return [(n, row) for n, row in enumerate(reader, start=2)]


def read_directory(folder: str | Path, ingredients: set[str]) -> list[DirectoryRow]:
    """Rows for the packages of `folder`/product.txt + package.txt whose active ingredients include one of
    `ingredients`. Raises NdcDirectoryError naming the file, line and field of the first bad row."""
    folder = Path(folder)
    product_path, package_path = folder / "product.txt", folder / "package.txt"
    match = IngredientMatcher(ingredients)
    products: dict[str, list[tuple]] = {}
    for n, r in _read_tsv(product_path, PRODUCT_COLUMNS):
        if (r["PRODUCTTYPENAME"] or "").strip().upper() not in PRODUCT_TYPES \
                or "HOMEOPATHIC" in (r.get("MARKETINGCATEGORYNAME") or "").upper():
            continue
        route = (r["ROUTENAME"] or "").strip()
        if route and {x.strip().upper() for x in route.split(";")} <= LOCAL_ROUTES:
            continue
        subs = [s.strip() for s in (r["SUBSTANCENAME"] or "").split(";")]
        strengths = [s.strip() for s in (r["ACTIVE_NUMERATOR_STRENGTH"] or "").split(";")]
        units = [s.strip() for s in (r["ACTIVE_INGRED_UNIT"] or "").split(";")]
        matched = [(i, match(s)) for i, s in enumerate(subs)]
        matched = [(i, ing) for i, ing in matched if ing]
        if not matched:
            continue
        if not (r["PRODUCTNDC"] or "").strip():
            raise NdcDirectoryError(f"{product_path}: line {n}: empty PRODUCTNDC")
        aligned = len(strengths) == len(subs) == len(units)
        form = dose_form(r["DOSAGEFORMNAME"] or "", route)
        rows = []
        for i, ing in matched:
            # substances, strengths and units not aligned: no strength rather than the wrong one
            strength, unit = strength_per_unit(strengths[i], units[i]) if aligned else ("", "")
            rows.append((ing, strength, unit, form, route.lower(), subs[i].lower()))
        products[(r["PRODUCTID"] or "").strip()] = [r["PRODUCTNDC"].strip(), rows]
    out: dict[tuple[str, str], DirectoryRow] = {}
    for n, r in _read_tsv(package_path, PACKAGE_COLUMNS):
        product = products.get((r["PRODUCTID"] or "").strip())
        if product is None:
            continue
        ndc = ndc11(r["NDCPACKAGECODE"] or "")
        if ndc is None:
            raise NdcDirectoryError(f"{package_path}: line {n}: invalid NDCPACKAGECODE "
                                    f"{(r['NDCPACKAGECODE'] or '')[:20]!r} (expected 4-4-2, 5-3-2 or 5-4-1 digits)")
        product_ndc, rows = product
        for ing, strength, unit, form, route, substance in rows:
            out[(ndc, ing)] = DirectoryRow(ndc, ing, strength, unit, form, route, product_ndc, substance)
    return sorted(out.values(), key=lambda d: (d.ndc, d.ingredient))


def write_products_csv(rows: list[DirectoryRow], out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(r.as_csv() for r in rows)
    return out
