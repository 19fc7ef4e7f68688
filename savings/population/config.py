"""What the warehouse side needs from a methodology, as pydantic models (spec §B.3 field names).

`PopulationConfig.from_any(obj)` accepts one of these, a dict / YAML file / preset name, or the settlement
engineer's methodology object (`savings.methodology`), reading the sections it needs by name; anything the
methodology does not say takes the defaults below. Errors name the field (pydantic ValidationError / ValueError).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PRIMARY_CARE_EM = ([f"992{n:02d}" for n in range(1, 16)]                      # office / outpatient E/M 99201-99215
                   + [f"99{n}" for n in range(304, 319)]                      # nursing facility E/M
                   + [f"99{n}" for n in range(324, 351)]                      # domiciliary / home E/M
                   + ["G0402", "G0438", "G0439", "G0463", "99490", "99491", "99495", "99496"])

SERVICE_CATEGORIES = ("inpatient", "outpatient", "professional", "pharmacy", "behavioral_health", "ltss", "ed",
                      "other")
# spec §B.3 short names -> our category names
CATEGORY_ALIASES = {"ip": "inpatient", "op": "outpatient", "prof": "professional", "rx": "pharmacy",
                    "bh": "behavioral_health", "snf": "ltss", "er": "ed", "emergency": "ed"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class HierarchyStep(_Model):
    name: str
    provider_types: list[str]


class AttributionConfig(_Model):
    method: Literal["enrollment", "enrollment_assignment", "plurality_primary_care", "hierarchy", "geographic",
                    "roster", "voluntary"] = "enrollment"
    timing: Literal["prospective", "retrospective", "prospective_with_retro_reconciliation"] = "retrospective"
    lookback_months: int = Field(24, ge=1, le=60)
    em_codes: list[str] = Field(default_factory=lambda: list(PRIMARY_CARE_EM))
    hierarchy_steps: list[HierarchyStep] = Field(default_factory=lambda: [
        HierarchyStep(name="pcp_em_plurality", provider_types=["pcp"]),
        HierarchyStep(name="specialist_em_plurality", provider_types=["specialist", "behavioral_health"])])
    plurality_basis: Literal["visits", "allowed"] = "visits"
    tie_breaker: Literal["most_recent_visit"] = "most_recent_visit"
    min_enrollment_months: int = Field(1, ge=0, le=12)
    exclusions: list[str] = Field(default_factory=list)   # dual_eligible, limited_benefit, hospice, long_term_institutional
    limited_benefit_groups: list[str] = Field(default_factory=lambda: ["limited_benefit", "family_planning",
                                                                         "emergency_only", "qmb_only", "slmb_only"])
    counties: dict[str, list[str]] = Field(default_factory=dict)    # geographic: entity_id -> county FIPS list
    roster_file: str | None = None                                  # roster: CSV person_id, entity_id, start, end

    @field_validator("exclusions")
    @classmethod
    def _known_exclusions(cls, v):
        known = {"dual_eligible", "limited_benefit", "hospice", "long_term_institutional", "third_party_liability"}
        bad = [x for x in v if x not in known]
        if bad:
            raise ValueError(f"unknown exclusion {bad[0]!r}; known: {sorted(known)}")
        return v

    @model_validator(mode="after")
    def _method_inputs(self):
        if self.method == "roster" and not self.roster_file:
            raise ValueError("attribution.roster_file is required when attribution.method is 'roster'")
        if self.method == "geographic" and not self.counties:
            raise ValueError("attribution.counties is required when attribution.method is 'geographic'")
        return self


class TruncationConfig(_Model):
    type: Literal["none", "percentile", "per_member_annual"] = "none"
    percentile: float = Field(0.99, gt=0, lt=1)
    threshold_usd: float | None = Field(None, gt=0)
    by_enrollment_type: bool = True


class RiskConfig(_Model):
    model: Literal["CMS-HCC", "custom", "none"] = "none"
    blend: dict[str, float] = Field(default_factory=lambda: {"CMS-HCC-V24": 0.67, "CMS-HCC-V28": 0.33})
    normalization: dict[str, float] = Field(default_factory=lambda: {"CMS-HCC-V24": 1.127, "CMS-HCC-V28": 1.015})
    custom_name: str | None = None
    cap_growth: float | None = Field(None, ge=0)    # e.g. 0.03: PY/base risk ratio capped at 1.03
    normalize: bool = True

    @field_validator("blend")
    @classmethod
    def _blend_sums_to_one(cls, v):
        if v and abs(sum(v.values()) - 1.0) > 1e-6:
            raise ValueError(f"risk_adjustment.blend weights must sum to 1, got {sum(v.values()):.4f}")
        return v


class CostConfig(_Model):
    included_service_categories: list[str] = Field(default_factory=lambda: list(SERVICE_CATEGORIES))
    excluded: list[str] = Field(default_factory=list)
    truncation: TruncationConfig = Field(default_factory=TruncationConfig)
    risk_adjustment: RiskConfig = Field(default_factory=RiskConfig)
    runout_months: int = Field(3, ge=0, le=24)
    completion_factor: float = Field(1.0, gt=0, le=1.0)

    @field_validator("included_service_categories", "excluded", mode="before")
    @classmethod
    def _aliases(cls, v):
        return [CATEGORY_ALIASES.get(str(x).lower(), str(x).lower()) for x in (v or [])]

    @property
    def categories(self) -> list[str]:
        return [c for c in self.included_service_categories if c in SERVICE_CATEGORIES and c not in self.excluded]


class TrendConfig(_Model):
    source: str = "fixed"
    value: float = Field(0.03, gt=-0.5, lt=1.0)


class BenchmarkConfig(_Model):
    base_years: list[int] = Field(default_factory=lambda: [-3, -2, -1])   # negative = relative to the performance year
    base_weights: list[float] = Field(default_factory=lambda: [0.1, 0.3, 0.6])
    trend: TrendConfig = Field(default_factory=TrendConfig)

    @model_validator(mode="after")
    def _weights(self):
        if len(self.base_years) != len(self.base_weights):
            raise ValueError("benchmark.base_weights must have one weight per benchmark.base_years entry")
        if abs(sum(self.base_weights) - 1.0) > 1e-6:
            raise ValueError("benchmark.base_weights must sum to 1")
        return self

    def years_for(self, performance_year: int) -> list[int]:
        return [performance_year + y if y < 0 else y for y in self.base_years]


class SettlementConfig(_Model):
    msr: float = Field(0.02, ge=0, lt=1)
    mlr: float | None = Field(None, ge=0, lt=1)       # None = symmetric with msr
    first_dollar: bool = True
    max_share_rate: float = Field(0.5, ge=0, le=1)
    loss_share_rate: float = Field(0.5, ge=0, le=1)
    savings_cap_pct: float | None = Field(0.10, ge=0)
    loss_cap_pct: float | None = Field(0.05, ge=0)
    withhold: float = Field(0.0, ge=0, lt=1)
    settle_by: Literal["payer", "combined"] = "combined"


class QualityConfig(_Model):
    scaling: str = "pay_for_reporting"
    measures: list[str] = Field(default_factory=list)
    pay_for_reporting_years: list[int] = Field(default_factory=list)


class PopulationConfig(_Model):
    id: str = "default"
    program_id: str | None = None                     # None = every program in icm_program
    payer_scope: list[str] | None = None              # None = every payer
    attribution: AttributionConfig = Field(default_factory=AttributionConfig)
    cost: CostConfig = Field(default_factory=CostConfig)
    benchmark: BenchmarkConfig = Field(default_factory=BenchmarkConfig)
    settlement: SettlementConfig = Field(default_factory=SettlementConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    source: Any = Field(None, exclude=True)          # the original methodology object, if any

    @classmethod
    def from_any(cls, obj: Any) -> "PopulationConfig":
        if isinstance(obj, PopulationConfig):
            return obj
        if isinstance(obj, (str, Path)):
            return cls.from_any(_load_named(obj))
        if isinstance(obj, dict):
            data = obj.get("methodology", obj)
            return cls.model_validate(_flatten_settlement(data))
        # a pydantic methodology of the settlement engine: read it as a dict, keep the object
        dump = obj.model_dump() if hasattr(obj, "model_dump") else dict(vars(obj))
        cfg = cls.model_validate(_flatten_settlement(dump))
        cfg.source = obj
        return cfg


def _flatten_settlement(data: dict) -> dict:
    """Accept the §B.3 nested settlement shape (msr: {type, value}, savings_cap: {pct_benchmark}) too."""
    data = dict(data)
    s = dict(data.get("settlement") or {})
    if isinstance(s.get("msr"), dict):
        msr = s["msr"]
        s["msr"] = 0.0 if msr.get("type") == "none" else msr.get("value", 0.02)
    if isinstance(s.get("savings_cap"), dict):
        s["savings_cap_pct"] = s.pop("savings_cap").get("pct_benchmark")
    if isinstance(s.get("loss_cap"), dict):
        s["loss_cap_pct"] = s.pop("loss_cap").get("pct_benchmark")
    if "sequestration_or_withhold" in s:
        s["withhold"] = s.pop("sequestration_or_withhold")
    data["settlement"] = s
    cost = dict(data.get("cost") or {})
    if isinstance(cost.get("truncation"), dict) and "percentile" in cost["truncation"] \
            and "type" not in cost["truncation"]:
        cost["truncation"] = {**cost["truncation"], "type": "percentile"}
    data["cost"] = cost
    return data


def _load_named(name: str | Path) -> Any:
    """A YAML file path, or a preset name of the settlement engine (savings.methodology.load_methodology)."""
    path = Path(name)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        if not path.exists():
            raise ValueError(f"methodology: no such file {path}")
        try:
            from savings.methodology import load_methodology  # the settlement engineer's loader, when present
            return load_methodology(str(path))
        except ImportError:
            pass
        import yaml
        return yaml.safe_load(path.read_text())
    try:
        from savings.methodology import load_methodology
    except ImportError as exc:
        raise ValueError(f"methodology: {name!r} is not a file and no preset loader is available") from exc
    return load_methodology(str(name))
