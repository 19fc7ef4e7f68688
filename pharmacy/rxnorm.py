"""RxNorm full-release files (RXNCONSO.RRF + RXNSAT.RRF) as the DUR product table, mapped by active ingredient.

Input: the two pipe-delimited files of the NLM RxNorm release in their published layout (no header line; the
columns in `CONSO_COLUMNS` and `SAT_COLUMNS`, each line ending with a '|'). Used: the clinical and branded drugs
(SAB = RXNORM, TTY = SCD or SBD) of RXNCONSO, whose names carry ingredient, strength and dose form
("hydrocodone bitartrate 10 MG / acetaminophen 325 MG Oral Tablet"), and the NDC attributes of RXNSAT
(ATN = NDC, SAB = RXNORM: 11-digit NDCs linked to those concepts, historical NDCs included). Packs (GPCK/BPCK) are
left out: a pack's NDC has several drugs with different days' supply.

Mapping (the rules of `pharmacy/ndc_directory.py`): the ingredient name word by word against the rule ingredients
and synonyms; strength units MG and MCG per unit, MG/ML and MCG/ML per mL, MG/HR and MCG/HR for patches (converted
to mcg/hr); any other unit (e.g. MG/ACTUAT, UNT/ML) is kept as written and the engine reports it for an opioid;
the dose form from the name's last words (RxNorm dose form names, see `DOSE_FORMS`).
"""
from __future__ import annotations

import re
from pathlib import Path

from pharmacy.ndc_directory import DirectoryRow, IngredientMatcher, NdcDirectoryError, format_number, slug

CONSO_COLUMNS = ("RXCUI", "LAT", "TS", "LUI", "STT", "SUI", "ISPREF", "RXAUI", "SAUI", "SCUI", "SDUI", "SAB", "TTY",
                 "CODE", "STR", "SRL", "SUPPRESS", "CVF")
SAT_COLUMNS = ("RXCUI", "LUI", "SUI", "RXAUI", "STYPE", "CODE", "ATUI", "SATUI", "ATN", "SAB", "ATV", "SUPPRESS",
               "CVF")
DRUG_TTYS = {"SCD", "SBD"}
# RxNorm dose form (lower case) -> the dose form groups the MME factors distinguish
DOSE_FORMS = {"transdermal system": "transdermal", "transdermal patch": "transdermal", "buccal tablet": "buccal_tablet",
              "sublingual tablet": "sublingual_tablet", "oral lozenge": "lozenge", "lozenge": "lozenge",
              "buccal film": "buccal_film", "sublingual film": "sublingual_film", "nasal spray": "nasal_spray",
              "sublingual spray": "oral_spray", "mucosal spray": "oral_spray", "oral spray": "oral_spray",
              "injectable solution": "injection_solution", "injection": "injection"}
# "<ingredient words> <number> <unit>" components joined by " / "; the dose form follows the last component
_COMPONENT = re.compile(r"^(?P<name>.+?) (?P<value>\d+(?:\.\d+)?) (?P<unit>[A-Z]+(?:/[A-Z0-9.]+)?)$")
_UNITS = {"MG": (1.0, "mg"), "MCG": (1.0, "mcg"), "MG/ML": (1.0, "mg"), "MCG/ML": (1.0, "mcg"),
          "MCG/HR": (1.0, "mcg/hr"), "MG/HR": (1000.0, "mcg/hr")}


def _rows(path: Path, columns: tuple[str, ...]):
    if not path.is_file():
        raise NdcDirectoryError(f"{path}: file not found (the RxNorm full release RXNCONSO.RRF and RXNSAT.RRF are "
                                "needed)")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            fields = line.rstrip("\r\n").split("|")
            if len(fields) < len(columns):
                raise NdcDirectoryError(f"{path}: line {n}: {len(fields)} fields, expected {len(columns)} "
                                        "(pipe-delimited RRF layout)")
            yield n, dict(zip(columns, fields))


def parse_drug_name(name: str) -> tuple[list[tuple[str, str, str]], str] | None:
    """([(ingredient name, strength, unit)], dose form) of an SCD/SBD name; None when it does not parse."""
    name = re.sub(r"\s*\[[^\]]*\]$", "", name.strip())  # SBD: the brand in brackets
    name = re.sub(r"^\d+ HR ", "", name)  # "12 HR oxycodone ... Extended Release Oral Tablet": the release period
    parts = name.split(" / ")
    last = re.match(r"^(?P<component>.+? \d+(?:\.\d+)? [A-Z]+(?:/[A-Z0-9.]+)?) (?P<form>[A-Za-z][A-Za-z ,-]*)$",
                    parts[-1])
    if last is None:
        return None
    parts[-1] = last.group("component")
    components = []
    for part in parts:
        m = _COMPONENT.match(part.strip())
        if m is None:
            return None
        components.append((m.group("name"), m.group("value"), m.group("unit")))
    return components, last.group("form").strip()


def _strength(value: str, unit: str) -> tuple[str, str]:
    if unit not in _UNITS:
        return value, unit
    scale, out_unit = _UNITS[unit]
    return format_number(float(value) * scale), out_unit


def read_rxnorm(folder: str | Path, ingredients: set[str]) -> list[DirectoryRow]:
    """Rows for the NDCs of RXNSAT linked to SCD/SBD concepts of RXNCONSO that contain one of `ingredients`."""
    folder = Path(folder)
    match = IngredientMatcher(ingredients)
    concepts: dict[str, list[tuple]] = {}
    for _, r in _rows(folder / "RXNCONSO.RRF", CONSO_COLUMNS):
        if r["SAB"] != "RXNORM" or r["TTY"] not in DRUG_TTYS or r["RXCUI"] in concepts:
            continue
        parsed = parse_drug_name(r["STR"])
        if parsed is None:
            continue
        components, form_name = parsed
        form = DOSE_FORMS.get(form_name.lower(), slug(form_name))
        rows = [(ing, *_strength(value, unit), form, comp_name.lower())
                for comp_name, value, unit in components for ing in [match(comp_name)] if ing]
        if rows:
            concepts[r["RXCUI"]] = rows
    out: dict[tuple[str, str], DirectoryRow] = {}
    for n, r in _rows(folder / "RXNSAT.RRF", SAT_COLUMNS):
        if r["ATN"] != "NDC" or r["SAB"] != "RXNORM" or r["RXCUI"] not in concepts:
            continue
        ndc = r["ATV"].strip()
        if len(ndc) != 11 or not ndc.isdigit():
            raise NdcDirectoryError(f"{folder / 'RXNSAT.RRF'}: line {n}: invalid NDC ATV {ndc[:20]!r} "
                                    "(11 digits expected)")
        for ing, strength, unit, form, substance in concepts[r["RXCUI"]]:
            out[(ndc, ing)] = DirectoryRow(ndc, ing, strength, unit, form, "", r["RXCUI"], substance)
    return sorted(out.values(), key=lambda d: (d.ndc, d.ingredient))
