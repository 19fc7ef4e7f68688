"""Value-set registry: name, code system, codes, version, provenance.

Public value sets ship in `measures/value_sets/public.csv` (+ manifest.json). Licensed directories (NCQA HEDIS VSD,
CMS Non-HEDIS VSD, HEDIS MLD, PQA lists) are loaded at run time from a directory (argument or
$ICM_LICENSED_VALUE_SETS) of CSV/TSV (or XLSX when openpyxl is installed) files in the published layout
`Measure ID, Value Set Name, Value Set OID, Code, Code System, ...`. A licensed value set whose name maps to one of
ours (see LICENSED_NAME_MAP, or a column `ICM Value Set` naming ours directly) replaces our codes entirely.

An ICD-9 GEM crosswalk ($ICM_GEM_CROSSWALK: CSV with icd10cm,icd9cm columns, e.g. the CMS GEM file) adds ICD-9-CM
codes to every ICD-10-CM value set so that DE-SynPUF-era data can be measured (approximation recorded).
"""
from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).parent / "value_sets"

# Official value-set names (HEDIS / CMS VSD) -> our value-set name. Extend as needed; unmatched names are kept
# under their own normalised name so measures can opt in to them.
LICENSED_NAME_MAP = {
    "mental illness": "mental_illness",
    "intentional self-harm": "intentional_self_harm",
    "ed": "ed_visit_cpt",
    "alcohol and other drug abuse and dependence": "sud",
    "alcohol abuse and dependence": "sud_alcohol",
    "opioid abuse and dependence": "sud_opioid",
    "other drug abuse and dependence": "sud_other",
    "unintentional drug overdose": "drug_overdose",
    "hospice encounter": "hospice_hcpcs",
    "hospice intervention": "hospice_hcpcs",
    "colorectal cancer": "colorectal_cancer",
    "total colectomy": "total_colectomy",
    "colonoscopy": "colonoscopy",
    "flexible sigmoidoscopy": "flexible_sigmoidoscopy",
    "ct colonography": "ct_colonography",
    "fobt lab test": "fobt",
    "sdna fit lab test": "sdna_fit",
    "essential hypertension": "hypertension",
    "major depression": "major_depression",
    "schizophrenia": "schizophrenia",
    "antipsychotic medications": "ndc_antipsychotic",
    "long-acting injections": "antipsychotic_lai_hcpcs",
    "antidepressant medications": "ndc_antidepressant",
    "opioid medications": "ndc_opioid",
    "benzodiazepine medications": "ndc_benzodiazepine",
    "statin medications": "ndc_statin",
    "insulin medications": "ndc_insulin",
    "pcr risk adjustment weights": "pcr_risk_weights",
    "well-care": "well_care",
    "asthma controller medications": "ndc_asthma_controller",
    "asthma reliever medications": "ndc_asthma_reliever",
    "adhd medications": "ndc_adhd",
}

SYSTEM_ALIASES = {
    "icd10cm": "icd-10-cm", "icd-10-cm": "icd-10-cm", "icd10pcs": "icd-10-pcs", "icd-10-pcs": "icd-10-pcs",
    "cpt": "hcpcs", "cpt-cat-ii": "hcpcs", "hcpcs": "hcpcs", "ubrev": "ub-rev", "ub-rev": "ub-rev",
    "ubtob": "ub-tob2", "ub-tob2": "ub-tob2", "pos": "pos", "ms-drg": "ms-drg", "msdrg": "ms-drg", "ndc": "ndc",
    "icd9cm": "icd-9-cm", "icd-9-cm": "icd-9-cm", "snomed ct us edition": "snomed-ct", "loinc": "loinc",
}


@dataclass(frozen=True)
class ValueSet:
    name: str
    code_system: str
    codes: frozenset[str]
    version: str
    provenance: str
    licensed: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def normalise_code(code: str, system: str) -> str:
    c = str(code).strip().upper().replace(".", "")
    if system == "ub-rev" and c.isdigit():
        c = c.zfill(4)
    if system == "ub-tob2":
        c = c.lstrip("0")[:2] if len(c) >= 3 else c
    if system == "pos" and c.isdigit():
        c = c.zfill(2)
    if system == "ms-drg" and c.isdigit():
        c = c.zfill(3)
    if system == "ndc" and c.replace("-", "").isdigit():
        c = c.replace("-", "")
    return c


class Registry:
    def __init__(self) -> None:
        self.sets: dict[str, ValueSet] = {}

    def add(self, vs: ValueSet) -> None:
        self.sets[vs.name] = vs

    def get(self, name: str) -> ValueSet | None:
        vs = self.sets.get(name)
        return vs if vs is not None and vs.codes else None

    def codes(self, name: str) -> list[str]:
        vs = self.get(name)
        if vs is None:
            raise KeyError(f"value set {name!r} is not available")
        return sorted(vs.codes)

    def missing(self, names) -> list[str]:
        return [n for n in names if self.get(n) is None]

    def versions(self, names) -> dict[str, str]:
        return {n: self.sets[n].version for n in names if n in self.sets}


@lru_cache(maxsize=1)
def _public() -> tuple[ValueSet, ...]:
    manifest = json.loads((HERE / "manifest.json").read_text())
    codes: dict[str, set[str]] = {}
    with open(HERE / "public.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            codes.setdefault(r["value_set"], set()).add(r["code"])
    out = []
    for name, meta in manifest.items():
        out.append(ValueSet(name, meta["code_system"], frozenset(codes.get(name, ())), meta["version"],
                            f"{meta['source']} — {meta['note']} ({meta['licence']})"))
    return tuple(out)


def _read_table(path: Path) -> list[dict]:
    if path.suffix.lower() in (".xlsx", ".xls"):
        try:
            import pandas as pd

            frames = pd.read_excel(path, sheet_name=None, dtype=str)
        except ImportError as exc:  # openpyxl is not a project dependency
            raise RuntimeError(f"{path.name}: reading XLSX needs openpyxl; export the sheet to CSV") from exc
        rows: list[dict] = []
        for df in frames.values():
            rows.extend(df.fillna("").to_dict("records"))
        return rows
    delim = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh, delimiter=delim))


def own_name(official: str) -> str:
    """The registry name of an official value-set name without a LICENSED_NAME_MAP entry: lower case, every run of
    other characters one underscore ("Non-live Births" -> non_live_births, "LDL-C Lab Test" -> ldl_c_lab_test)."""
    return re.sub(r"[^a-z0-9]+", "_", official.lower()).strip("_")


def load_licensed_directory(directory: Path, registry: Registry) -> list[str]:
    """Load every CSV/TSV/XLSX under `directory` in the published VSD layout; returns the value-set names loaded."""
    directory = Path(directory)
    grouped: dict[str, dict] = {}
    for path in sorted(directory.rglob("*")):
        if path.suffix.lower() not in (".csv", ".tsv", ".txt", ".xlsx", ".xls") or path.name.startswith("_"):
            continue
        version = path.stem
        for row in _read_table(path):
            row = {str(k).strip().lower(): (str(v).strip() if v is not None else "") for k, v in row.items()}
            vs_name = row.get("value set name") or row.get("value_set_name")
            code = row.get("code")
            if not vs_name or not code:
                continue
            ours = row.get("icm value set") or LICENSED_NAME_MAP.get(vs_name.lower()) or own_name(vs_name)
            system = SYSTEM_ALIASES.get((row.get("code system") or "").lower().replace(" ", ""),
                                        (row.get("code system") or "").lower())
            if ours in registry.sets and registry.sets[ours].code_system != system and not registry.sets[ours].licensed:
                # a licensed set may mix systems (e.g. CPT + HCPCS + UB rev); keep the system of our slot when the
                # code is a procedure-like code, otherwise store under <name>__<system>
                if {system, registry.sets[ours].code_system} != {"hcpcs"}:
                    ours_sys = f"{ours}__{system.replace('-', '_')}"
                    ours = ours if system == registry.sets[ours].code_system else ours_sys
            g = grouped.setdefault(ours, dict(system=system, codes=set(), oid=row.get("value set oid", ""),
                                              version=row.get("value set version") or version, name=vs_name))
            g["codes"].add(normalise_code(code, system))
    for name, g in grouped.items():
        registry.add(ValueSet(name, g["system"], frozenset(g["codes"]), f"licensed:{g['version']}",
                              f"{directory} ({g['name']}, OID {g['oid']})", licensed=True))
    return sorted(grouped)


def _apply_gem(registry: Registry, gem_path: Path) -> None:
    """Add ICD-9-CM codes to every ICD-10-CM value set via a GEM crosswalk (icd10cm,icd9cm columns)."""
    back: dict[str, set[str]] = {}
    for row in _read_table(Path(gem_path)):
        row = {k.lower(): v for k, v in row.items()}
        ten = (row.get("icd10cm") or row.get("icd10") or "").replace(".", "").upper()
        nine = (row.get("icd9cm") or row.get("icd9") or "").replace(".", "").upper()
        if ten and nine and nine != "NODX":
            back.setdefault(ten, set()).add(nine)
    for name, vs in list(registry.sets.items()):
        if vs.code_system == "icd-10-cm":
            extra = {n for c in vs.codes for n in back.get(c, ())}
            registry.add(ValueSet(name, vs.code_system, vs.codes | frozenset(extra),
                                  vs.version + f"+GEM({Path(gem_path).name})", vs.provenance, vs.licensed,
                                  vs.notes + ("ICD-9 codes added through GEM crosswalk (approximate)",)))


def gem_configured() -> bool:
    return bool(os.environ.get("ICM_GEM_CROSSWALK"))


def default_registry(licensed_dir: str | Path | None = None) -> Registry:
    reg = Registry()
    for vs in _public():
        reg.add(vs)
    licensed_dir = licensed_dir or os.environ.get("ICM_LICENSED_VALUE_SETS")
    if licensed_dir and Path(licensed_dir).exists():
        load_licensed_directory(Path(licensed_dir), reg)
    if os.environ.get("ICM_GEM_CROSSWALK"):
        _apply_gem(reg, Path(os.environ["ICM_GEM_CROSSWALK"]))
    return reg
