"""Declarative measure definitions: metadata + a build function composed from shared building blocks."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Date, literal

from measures.valuesets import Registry

RATE_SCALE = {"proportion": 1, "per_1000_mm": 1000, "per_100000_mm": 100000, "alos": 1, "count": None,
              "per_1000_members": 1000, "ratio": 1}


@dataclass(frozen=True)
class Rate:
    rate_id: str
    kind: str  # key of RATE_SCALE
    label: str = ""


@dataclass(frozen=True)
class CEWindow:
    """A continuous-enrollment window. ref 'anchor': anchor+start .. anchor+end days; ref 'year': calendar year
    MY+start (end ignored); ref 'unit': the unit's own `ce_start` .. `ce_end` columns (start/end ignored), for
    windows that are not a fixed number of days (W30: 31 days of age through the 15-month birthday)."""
    ref: str
    start: int
    end: int = 0
    max_gaps: int = 0
    max_gap_days: int = 0
    rate_ids: tuple[str, ...] | None = None  # the rates this window applies to (None: the measure's ce_rate_ids)


@dataclass(frozen=True)
class EnrollmentRule:
    windows: tuple[CEWindow, ...]
    description: str


@dataclass
class MeasureDefinition:
    id: str
    title: str
    steward: str
    core_sets: dict[str, tuple[int, ...]]
    measurement_period: str
    unit: str  # event | member | member_month
    rates: tuple[Rate, ...]
    build: Callable[["BuildContext"], object]
    value_sets: tuple[str, ...]
    age_bands: tuple[tuple[int, int | None, str], ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    # the date on which age is taken for min_age/max_age and age bands: "anchor" (each unit's anchor date:
    # discharge, visit, episode or IPSD; 31 Dec for member units) or (month, day) of MY, e.g. (1, 1) for PQA's
    # "18 years or older on 1 January" (a unit's own `age` column, as member-month measures give, wins)
    age_on: str | tuple[int, int] = "anchor"
    enrollment: EnrollmentRule | None = None
    anchor_text: str = ""  # the anchor date in words when it is not the unit's usual one (W30: a birthday)
    standard_exclusions: tuple[str, ...] = ()  # hospice | death | palliative | ltc66
    # a Core Set counterpart (e.g. FUH-AD of FUH-HH): its detail is the parent's detail rows of the same run
    # restricted to min_age..max_age (measures/defs/counterparts.py)
    derived_from: str | None = None
    report_unknown_age: bool = False  # always report an "unknown" age stratum (IU-HH, as QMR lists it)
    lookback_years: int = 0  # prior calendar years of claims/enrollment the measure reads (COL: 9)
    needs_icd10: bool = True
    ce_rate_ids: tuple[str, ...] | None = None  # CE applies only to these rates (None = all)
    provides_strata: bool = False  # member-month measures supply their own strata attributes
    not_computable_rates: dict[str, str] = field(default_factory=dict)  # rate_id -> reason
    params: dict = field(default_factory=dict)
    card: dict = field(default_factory=dict)  # README card text: measures, denominator, numerator, ...
    deviations: tuple[str, ...] = ()

    def age_rule(self) -> str:
        """The age rule in words, for the measure card."""
        if self.unit == "member_month":
            return "age at the start of each member month (denominator) and the unit's own age for events"
        if self.age_on == "anchor":
            where = self.anchor_text or ("31 Dec of MY" if self.unit == "member" else "")
            return "age on the anchor date" + (f" ({where})" if where else "")
        month, day = self.age_on
        return f"age on {day} {('Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec')[month-1]} of MY"

    def age_band_of(self, age: int | None) -> str:
        if age is None:
            return "unknown"
        for lo, hi, label in self.age_bands:
            if age >= lo and (hi is None or age <= hi):
                return label
        return "other"


class BuildContext:
    def __init__(self, year: int, registry: Registry, measure: MeasureDefinition, dialect: str, scratch=None,
                 options=None):
        from measures.options import MeasureOptions

        self.year = year
        self.options = options or MeasureOptions()
        self.scratch = scratch  # measures.scratch.Scratch: shared blocks materialised once per compute() run
        self.reg = registry
        self.measure = measure
        self.dialect = dialect
        self.params = dict(measure.params)
        self.cache: dict = {}
        self.shared_used: set = set()  # keys of the shared blocks this measure's statement uses

    def codes(self, name: str) -> list[str]:
        return self.reg.codes(name)

    def has(self, name: str) -> bool:
        return self.reg.get(name) is not None

    @staticmethod
    def date(d: dt.date):
        return literal(d, Date)

    def ymd(self, year_offset: int, month: int, day: int):
        return self.date(dt.date(self.year + year_offset, month, day))

    @property
    def my_start(self):
        return self.ymd(0, 1, 1)

    @property
    def my_end(self):
        return self.ymd(0, 12, 31)
