"""DUR rule set: versioned YAML validated by pydantic (extra fields rejected, a bad value named by its field).

Each rule has an id, a version, a citation and its thresholds; `kind` selects the SQL builder in
`pharmacy.rules`. The shipped rule set is `pharmacy/rules/dur_rules.yaml`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_RULES = Path(__file__).resolve().parent / "rules" / "dur_rules.yaml"
MME_DEFINITIONS = ("daily_sum", "episode", "calendar")


Exemption = Literal["hospice", "palliative", "cancer", "sickle_cell", "long_term_care"]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    title: str
    citation: str
    enabled: bool = True
    # persons exempt from the rule in the year (SSA 1902(oo)(3) [K]; PQA OHD/COB exclusions), from the measures'
    # exclusion blocks: hospice services or flag, palliative-care / cancer / sickle-cell dx, institutional LTC
    exempt: tuple[Exemption, ...] = ()


class HighDose(_Rule):
    kind: Literal["high_dose"]
    threshold_mme: float = Field(gt=0)
    # daily_sum: any person-day whose summed MME (overlapping fills add) reaches the threshold;
    # episode: sum of fill MME / sum of days supply in the year; calendar: sum of fill MME in the year / days in year
    mme_definition: Literal["daily_sum", "episode", "calendar"] = "daily_sum"
    min_days: int = Field(default=1, ge=1)


class Concurrent(_Rule):
    kind: Literal["concurrent"]
    class_a: str
    class_b: str
    min_overlap_days: int = Field(default=1, ge=1)


class MultipleProviders(_Rule):
    kind: Literal["multiple_providers"]
    min_prescribers: int = Field(ge=1)
    min_pharmacies: int = Field(ge=1)
    window_days: int = Field(ge=1)
    min_daily_mme: float = Field(ge=0)


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    window_days: int = Field(ge=1)
    min_days: int = Field(ge=1)


class LongTermOpioid(_Rule):
    kind: Literal["long_term_opioid"]
    windows: tuple[Window, ...] = Field(min_length=1)


class ChildAntipsychotic(_Rule):
    kind: Literal["child_antipsychotic"]
    max_age_exclusive: int = Field(default=18, ge=1)
    # empty: every child; otherwise only children whose member-month eligibility group is one of these
    eligibility_groups: tuple[str, ...] = ()
    min_ingredients: int = Field(default=1, ge=1)  # 2 = antipsychotic polypharmacy
    min_days: int = Field(default=1, ge=1)


class OlderPolypharmacy(_Rule):
    kind: Literal["older_polypharmacy"]
    drug_classes: tuple[str, ...] = Field(min_length=1)
    min_ingredients: int = Field(ge=2)
    min_days: int = Field(ge=1)
    min_age: int = Field(ge=0)
    min_fill_dates_per_ingredient: int = Field(default=2, ge=1)


class EarlyRefill(_Rule):
    kind: Literal["early_refill"]
    drug_classes: tuple[str, ...] = Field(min_length=1)
    # a refill before this share of the previous fill's days supply has elapsed is early
    min_elapsed_share: float = Field(gt=0, le=1)


class TherapeuticDuplication(_Rule):
    kind: Literal["therapeutic_duplication"]
    drug_classes: tuple[str, ...] = Field(min_length=1)
    min_days: int = Field(ge=1)


class Interaction(_Rule):
    kind: Literal["interaction"]
    min_overlap_days: int = Field(default=1, ge=1)


Rule = Annotated[Union[HighDose, Concurrent, MultipleProviders, LongTermOpioid, ChildAntipsychotic,
                       OlderPolypharmacy, EarlyRefill, TherapeuticDuplication, Interaction],
                 Field(discriminator="kind")]


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    lookback_days: int = Field(default=180, ge=0)  # fills before the year that can still cover its days
    cns_classes: tuple[str, ...]
    rules: tuple[Rule, ...] = Field(min_length=1)

    def enabled(self):
        return [r for r in self.rules if r.enabled]


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file and the field."""


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Parse and validate a rule file; any problem raises RuleFileError naming the file and the field."""
    p = Path(path) if path else DEFAULT_RULES
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
        rs = RuleSet.model_validate(data)
    except OSError as exc:
        raise RuleFileError(f"{p}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise RuleFileError(f"{p}: invalid {field}: {err['msg']}") from exc
    ids = [r.id for r in rs.rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise RuleFileError(f"{p}: rules.id repeated: {', '.join(dup)}")
    return rs
