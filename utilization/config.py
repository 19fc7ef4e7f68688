"""Configuration of utilization management (pydantic over YAML, unknown keys rejected with their field's name).

Every threshold a method uses is here, so each flag can record the parameters it was judged with. The defaults
are design choices stated in the package README (``utilization/README.md``), each with its source.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

UNIT_TYPES = ("billing_npi", "practice", "icm_entity", "payer")
PEER_ATTRIBUTES = ("specialty", "region", "practice_size", "program", "all")
DEFAULT_FILE = Path(__file__).with_name("default.yaml")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StandardisationConfig(_Model):
    """Strata of the indirect standardisation: expected = sum over strata of exposure x reference rate."""
    age_bands: list[int] = Field(default_factory=lambda: [0, 18, 45, 65], min_length=1)   # lower bounds
    by_sex: bool = True
    by_eligibility_group: bool = True
    by_dual_status: bool = True
    risk_model: str | None = "BLEND"         # risk_score.model_version; None = no risk band
    risk_bands: list[float] = Field(default_factory=lambda: [0.75, 1.25, 2.0])   # cut points of normalized score
    score_missing_risk: bool = True          # run the savings engine's CMS-HCC scoring when the year has none

    @field_validator("age_bands", "risk_bands")
    @classmethod
    def _increasing(cls, v):
        if any(b >= a for a, b in zip(v[1:], v)) or (v and v[0] < 0):
            raise ValueError("must be non-negative and strictly increasing")
        return v


class OutlierConfig(_Model):
    """Parameters of the methods run side by side (utilization/outliers.py)."""
    percentile_high: float = Field(0.80, gt=0, lt=1)      # PEPPER: at or above the 80th percentile of peers
    percentile_low: float = Field(0.20, gt=0, lt=1)       # PEPPER: at or below the 20th (under-use)
    z_threshold: float = Field(3.0, gt=0)                 # |z| of the O/E Poisson z-score
    ci_level: float = Field(0.95, gt=0, lt=1)             # exact Poisson (Garwood) interval of O/E
    funnel_z: float = Field(3.09, gt=0)                   # 99.8 % funnel limits
    winsor: float = Field(0.10, ge=0, lt=0.5)             # winsorising of z before estimating overdispersion
    eb_ratio: float = Field(1.2, gt=1)                    # empirical Bayes: P(theta > ratio) or P(theta < 1/ratio)
    eb_probability: float = Field(0.9, gt=0.5, lt=1)
    fdr_q: float = Field(0.05, gt=0, lt=1)                # Benjamini-Hochberg false discovery rate
    min_member_months: int = Field(120, ge=1)             # a unit with less exposure is "not assessable"
    min_expected: float = Field(5.0, gt=0)                # ... or with fewer expected events
    min_peers: int = Field(5, ge=2)                       # a peer group with fewer assessable units: all "not assessable"

    @model_validator(mode="after")
    def _low_below_high(self):
        if self.percentile_low >= self.percentile_high:
            raise ValueError("percentile_low must be below percentile_high")
        return self


class SampleConfig(_Model):
    """Monthly service-verification sample (42 CFR 455.20; the contract's monthly sample of >= 500 enrollees)."""
    size: int = Field(500, ge=1)
    seed: int = 455
    strata: list[Literal["inpatient", "ed", "professional", "outpatient", "pharmacy", "ltss", "behavioral_health",
                         "other"]] = Field(default_factory=lambda: ["inpatient", "ed", "outpatient", "professional",
                                                                    "pharmacy", "ltss", "behavioral_health", "other"])
    max_services_per_enrollee: int = Field(5, ge=1)


class UtilizationConfig(_Model):
    unit_types: list[Literal["billing_npi", "practice", "icm_entity", "payer"]] = Field(
        default_factory=lambda: list(UNIT_TYPES))
    peer_groups: dict[str, list[Literal["specialty", "region", "practice_size", "program", "all"]]] = Field(
        default_factory=lambda: {"billing_npi": ["specialty"], "practice": ["practice_size"],
                                 "icm_entity": ["program"], "payer": ["all"]})
    practice_size_bands: list[int] = Field(default_factory=lambda: [1, 3, 8])   # lower bounds of billing NPIs
    region: Literal["county", "state"] = "county"
    followup_days: int = Field(30, ge=1, le=90)
    readmission_days: int = Field(30, ge=1, le=90)
    min_months_for_person_measures: int = Field(12, ge=1, le=12)
    standardisation: StandardisationConfig = Field(default_factory=StandardisationConfig)
    outliers: OutlierConfig = Field(default_factory=OutlierConfig)
    sample: SampleConfig = Field(default_factory=SampleConfig)

    @field_validator("peer_groups")
    @classmethod
    def _known_units(cls, v):
        unknown = sorted(set(v) - set(UNIT_TYPES))
        if unknown:
            raise ValueError(f"unknown unit type {unknown[0]!r}; expected one of {', '.join(UNIT_TYPES)}")
        return v

    @classmethod
    def load(cls, source: "UtilizationConfig | dict | str | Path | None" = None) -> "UtilizationConfig":
        if isinstance(source, UtilizationConfig):
            return source
        if source is None:
            source = DEFAULT_FILE
        if isinstance(source, (str, Path)):
            source = yaml.safe_load(Path(source).read_text()) or {}
        return cls.model_validate(source)
