"""Measure registry: every federal measure plus state-defined ones (SS-*-HH) registered at run time."""
from __future__ import annotations

import importlib

from measures.definition import MeasureDefinition

_MODULES = ("followup", "iet", "pcr", "utilization", "oud", "prevention", "pharmacy", "counterparts", "screening",
            "contraception", "cancer_screening", "antipsychotics",
            "asthma", "adhd", "perinatal")
_extra: list[MeasureDefinition] = []


def register(m: MeasureDefinition) -> None:
    """Register a state-specific measure (e.g. SS-1-HH) built from the same blocks."""
    _extra[:] = [x for x in _extra if x.id != m.id] + [m]


def all_measures() -> list[MeasureDefinition]:
    out: list[MeasureDefinition] = []
    for name in _MODULES:
        try:
            mod = importlib.import_module(f"measures.defs.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"measures.defs.{name}":
                continue
            raise
        out.extend(mod.MEASURES)
    return out + list(_extra)


def get_measures(ids) -> list[MeasureDefinition]:
    by_id = {m.id.upper(): m for m in all_measures()}
    missing = [i for i in ids if i.upper() not in by_id]
    if missing:
        raise KeyError(f"unknown measure(s): {', '.join(missing)}; known: {', '.join(sorted(by_id))}")
    return [by_id[i.upper()] for i in ids]
