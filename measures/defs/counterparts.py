"""Adult (-AD) and Child (-CH) Core Set counterparts of the Health Home measures.

The Core Set versions share the Health Home measure's specification and differ in the population (age range) and
strata. The Health Home measures are computed for every enrollee (the program stratum selects a health home), so a
counterpart is the parent's detail rows restricted to its ages, with its own age bands: the engine copies them
from the parent's measure_detail of the same run (no second pass over the claims); run alone, a counterpart builds
the parent's statement with its own ages.

Core Set membership: FFY2025 from quality-measures.md C.2 [V]; FFY2026 from QMR's measureList2026.ts
(Enterprise-CMCS/macpro-mdct-qmr, commit 4317ac616e3a790f5c542483e6d83960e880d1a8), read for issue 19; FFY2024 as
for the other Adult measures (not re-checked).
"""
from __future__ import annotations

import dataclasses

from measures.definition import MeasureDefinition
from measures.defs.common import BANDS_18
from measures.defs.followup import FUA, FUH, FUM
from measures.defs.iet import IET
from measures.defs.oud import OUD
from measures.defs.pcr import PCR
from measures.defs.prevention import CBP, CDF, COL

ADULT_SET = {"Adult": (2024, 2025, 2026)}
CHILD_SET = {"Child": (2024, 2025, 2026)}


def counterpart(parent: MeasureDefinition, suffix: str, min_age: int, max_age: int | None, bands) -> MeasureDefinition:
    core_sets = ADULT_SET if suffix == "AD" else CHILD_SET
    ages = f"{min_age}-{max_age}" if max_age is not None else f"{min_age}+"
    card = dict(parent.card)
    card["measures"] = f"{parent.card.get('measures', '')} {'Adult' if suffix == 'AD' else 'Child'} Core Set " \
                       f"version: ages {ages} ({parent.age_rule()})."
    return dataclasses.replace(
        parent, id=parent.id.replace("-HH", f"-{suffix}"), core_sets=core_sets, min_age=min_age, max_age=max_age,
        age_bands=bands, derived_from=parent.id, card=card,
        deviations=(f"Detail rows of {parent.id} (same specification, value sets and rules) restricted to ages {ages}; "
                    f"the deviations of {parent.id} apply.",) + parent.deviations)


MEASURES = [
    counterpart(FUH, "AD", 18, None, BANDS_18), counterpart(FUH, "CH", 6, 17, ((6, 17, "6-17"),)),
    counterpart(FUM, "AD", 18, None, BANDS_18), counterpart(FUM, "CH", 6, 17, ((6, 17, "6-17"),)),
    counterpart(FUA, "AD", 18, None, BANDS_18), counterpart(FUA, "CH", 13, 17, ((13, 17, "13-17"),)),
    counterpart(IET, "AD", 18, None, BANDS_18),
    counterpart(OUD, "AD", 18, None, BANDS_18),
    counterpart(PCR, "AD", 18, 64, PCR.age_bands),
    counterpart(COL, "AD", 46, 75, COL.age_bands),
    counterpart(CBP, "AD", 18, 85, CBP.age_bands),
    counterpart(CDF, "AD", 18, None, BANDS_18), counterpart(CDF, "CH", 12, 17, ((12, 17, "12-17"),)),
]
