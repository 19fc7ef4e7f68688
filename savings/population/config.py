"""What the warehouse side needs from a methodology, as pydantic models (spec §B.3 field names).

`PopulationConfig.from_any(obj)` accepts one of these, a dict / YAML file / preset name, or the settlement
engineer's methodology object (`savings.methodology`), reading the sections it needs by name; anything the
methodology does not say takes the defaults below. Errors name the field (pydantic ValidationError / ValueError).

Money and the rates that multiply money (trend, base weights, risk-growth cap, completion factor, truncation
threshold, MSR/MLR, sharing and loss rates, caps, withhold) are `Decimal` fields: YAML/JSON numbers are accepted
and converted through their decimal text (pydantic turns the float 0.1 into Decimal('0.1'), not the binary
0.1000000000000000055...), so a configured 0.1 stays exactly 0.1. Probabilities that never multiply money
(truncation percentile, risk-model blend and normalisation, which the warehouse applies in SQL) stay floats.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from savings.population.common import DECIMAL_CONTEXT, ONE, ZERO, to_decimal
from savings.methodology import check_base_years, resolve_base_years
from savings.population.completion import CompletionSettings
from savings.population.uncertainty import UncertaintySettings

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
    model_config = ConfigDict(extra="forbid")


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
    threshold_usd: Decimal | None = Field(None, gt=0)
    by_enrollment_type: bool = True


class RiskConfig(_Model):
    model: Literal["CMS-HCC", "custom", "none"] = "none"
    blend: dict[str, float] = Field(default_factory=lambda: {"CMS-HCC-V24": 0.67, "CMS-HCC-V28": 0.33})
    normalization: dict[str, float] = Field(default_factory=lambda: {"CMS-HCC-V24": 1.127, "CMS-HCC-V28": 1.015})
    custom_name: str | None = None
    cap_growth: Decimal | None = Field(None, ge=0)  # e.g. 0.03: PY/base risk ratio capped at 1.03
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
    # a number, or "estimated": chain-ladder factors from the warehouse (savings.population.completion)
    completion_factor: Annotated[Decimal, Field(gt=0, le=1)] | Literal["estimated"] = Decimal(1)
    completion: CompletionSettings = Field(default_factory=CompletionSettings)
    # payer -> service category -> factor: applied instead of completion_factor when given (set per year from the
    # estimate by savings.population.completion.with_factors; a methodology may also state them). A payer or
    # category not listed takes factor 1.
    completion_factors: dict[str, dict[str, Annotated[Decimal, Field(gt=0, le=1)]]] = Field(default_factory=dict)

    @field_validator("completion_factors")
    @classmethod
    def _known_categories(cls, v):
        for payer, by_category in v.items():
            unknown = sorted(set(by_category) - set(SERVICE_CATEGORIES))
            if unknown:
                raise ValueError(f"cost.completion_factors.{payer}: unknown service category {unknown[0]!r} "
                                 f"(one of {', '.join(SERVICE_CATEGORIES)})")
        return v

    @field_validator("included_service_categories", "excluded", mode="before")
    @classmethod
    def _aliases(cls, v):
        return [CATEGORY_ALIASES.get(str(x).lower(), str(x).lower()) for x in (v or [])]

    @property
    def categories(self) -> list[str]:
        return [c for c in self.included_service_categories if c in SERVICE_CATEGORIES and c not in self.excluded]


class TrendConfig(_Model):
    source: str = "fixed"
    value: Decimal = Field(Decimal("0.03"), gt=Decimal("-0.5"), lt=1)


class BenchmarkConfig(_Model):
    # negative = offsets from the performance year ([-2, -1]); positive = fixed calendar years, which must be
    # before the performance year settled (savings.methodology.check_base_years / resolve_base_years)
    base_years: list[int] = Field(default_factory=lambda: [-3, -2, -1])
    base_weights: list[Decimal] = Field(default_factory=lambda: [Decimal("0.1"), Decimal("0.3"), Decimal("0.6")])
    trend: TrendConfig = Field(default_factory=TrendConfig)

    @field_validator("base_years")
    @classmethod
    def _years(cls, v):
        return check_base_years(v)

    @model_validator(mode="after")
    def _weights(self):
        if len(self.base_years) != len(self.base_weights):
            raise ValueError("benchmark.base_weights must have one weight per benchmark.base_years entry")
        if abs(sum(self.base_weights, ZERO) - ONE) > Decimal("1e-6"):
            raise ValueError("benchmark.base_weights must sum to 1")
        return self

    def years_for(self, performance_year: int) -> list[int]:
        """The calendar base years; raises savings.methodology.BaseYearError naming benchmark.base_years when
        one is not strictly before the performance year."""
        return resolve_base_years(self.base_years, performance_year)


class SettlementConfig(_Model):
    msr: Decimal = Field(Decimal("0.02"), ge=0, lt=1)
    msr_type: Literal["fixed", "none", "variable_table"] = "fixed"
    msr_table: list[dict] = Field(default_factory=list)   # [{min_n, max_n, low, high}], linear within a band
    mlr: Decimal | None = Field(None, ge=0, lt=1)     # None = symmetric with msr
    first_dollar: bool = True
    max_share_rate: Decimal = Field(Decimal("0.5"), ge=0, le=1)
    loss_share_rate: Decimal = Field(Decimal("0.5"), ge=0, le=1)
    loss_rate_rule: Literal["flat", "one_minus_fsr_bounded"] = "flat"
    loss_min_rate: Decimal = Field(Decimal(0), ge=0, le=1)
    loss_max_rate: Decimal = Field(Decimal(1), ge=0, le=1)
    savings_cap_pct: Decimal | None = Field(Decimal("0.10"), ge=0)
    loss_cap_pct: Decimal | None = Field(Decimal("0.05"), ge=0)
    withhold: Decimal = Field(Decimal(0), ge=0, lt=1)
    settle_by: Literal["payer", "combined"] = "combined"

    @field_validator("msr_table")
    @classmethod
    def _band_rates_decimal(cls, v):
        return [{**b, **{k: to_decimal(b[k]) for k in ("low", "high") if b.get(k) is not None}} for b in v]

    def msr_for(self, n: int) -> Decimal:
        """The MSR (and symmetric MLR) for an entity of n persons (linear interpolation within a band, exact
        Decimal, unrounded)."""
        if self.msr_type == "none":
            return ZERO
        if self.msr_type == "fixed" or not self.msr_table:
            return to_decimal(self.msr)
        bands = sorted(self.msr_table, key=lambda b: b["min_n"])
        if n < bands[0]["min_n"]:
            return to_decimal(bands[0]["low"])
        for b in bands:
            hi = b.get("max_n")
            if hi is None or n <= hi:
                low = to_decimal(b["low"])
                if hi is None or hi == b["min_n"]:
                    return low
                c = DECIMAL_CONTEXT
                frac = c.divide(Decimal(n - b["min_n"]), Decimal(hi - b["min_n"]))
                return c.add(low, c.multiply(c.subtract(to_decimal(b["high"]), low), frac))
        return to_decimal(bands[-1]["high"])

    def loss_rate_for(self, quality) -> Decimal:
        if self.loss_rate_rule == "flat":
            return to_decimal(self.loss_share_rate)
        c = DECIMAL_CONTEXT
        return min(max(c.subtract(ONE, c.multiply(to_decimal(self.max_share_rate), to_decimal(quality))),
                       to_decimal(self.loss_min_rate)), to_decimal(self.loss_max_rate))


class QualityConfig(_Model):
    scaling: str = "pay_for_reporting"
    measures: list[str] = Field(default_factory=list)
    scheme: dict | None = None      # a savings.quality.QualityScheme (per-measure benchmark ladders); keys are
                                    # measure ids, or measure_id:rate_id for measures with several rates
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
    uncertainty: UncertaintySettings = Field(default_factory=UncertaintySettings)
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
        if hasattr(obj, "msr") and hasattr(obj, "settlement") and hasattr(obj, "provenance"):
            return from_methodology(obj)
        if hasattr(obj, "tracks") or hasattr(obj, "years"):  # a preset that selects a methodology by track/year
            raise ValueError(f"methodology: preset {getattr(obj, 'name', '')!r} selects a methodology by track or "
                             "year; name one of its tracks (e.g. mssp-2018-track1)")
        dump = obj.model_dump() if hasattr(obj, "model_dump") else dict(vars(obj))
        cfg = cls.model_validate(_flatten_settlement(dump))
        cfg.source = obj
        return cfg

    def with_population(self, population: "PopulationConfig | dict | str | Path | None") -> "PopulationConfig":
        """This methodology's settlement/benchmark/quality with another config's attribution, cost, risk,
        program and payer scope (the settlement engine's methodologies carry no population rules)."""
        if population is None:
            return self
        pop = PopulationConfig.from_any(population)
        quality = self.quality
        if pop.quality.scheme and not quality.scheme:
            quality = quality.model_copy(update={"scheme": pop.quality.scheme})
        merged = self.model_copy(update={"attribution": pop.attribution, "cost": pop.cost, "quality": quality,
                                         "program_id": pop.program_id or self.program_id,
                                         "payer_scope": pop.payer_scope or self.payer_scope})
        merged.source = self.source
        return merged


def from_methodology(m: Any) -> PopulationConfig:
    """Map the settlement engine's `savings.methodology.Methodology` onto the fields used here."""
    f = lambda x, d=None: d if x is None else to_decimal(x)  # noqa: E731
    s, msr = m.settlement, m.msr
    settle: dict[str, Any] = {
        "msr_type": msr.type if msr.type in ("fixed", "none", "variable_table") else "fixed",
        "msr": f(getattr(msr, "value", None), Decimal("0.02")),
        "msr_table": [{"min_n": b.min_n, "max_n": b.max_n, "low": to_decimal(b.low), "high": to_decimal(b.high)}
                      for b in (getattr(msr, "table", None) or [])],
        "first_dollar": s.first_dollar,
        "max_share_rate": f(s.max_share_rate),
        "savings_cap_pct": f(s.performance_payment_limit),
        "withhold": f(getattr(s, "sequestration_rate", None), ZERO),
    }
    if not getattr(msr, "symmetric_mlr", True) and getattr(msr, "mlr_value", None) is not None:
        settle["mlr"] = to_decimal(msr.mlr_value)
    lr = getattr(s, "loss_rate", None)
    if lr is not None:
        settle["loss_rate_rule"] = lr.rule
        settle["loss_share_rate"] = f(lr.flat_rate, Decimal("0.5"))
        settle["loss_min_rate"] = f(lr.min_rate, ZERO)
        settle["loss_max_rate"] = f(lr.max_rate, ONE)
    ll = getattr(s, "loss_limit", None)
    settle["loss_cap_pct"] = (f(ll.pct_benchmark) if ll is not None and ll.type in ("pct_benchmark",
                                                                                       "pct_revenue_capped")
                              else None)
    mp = getattr(m, "multi_payer", None)
    settle["settle_by"] = "payer" if mp is not None and mp.mode == "per_payer" else "combined"
    data: dict[str, Any] = {"id": m.name, "settlement": settle,
                            "payer_scope": list(m.payer_scope) or None,
                            "quality": {"scaling": m.quality.regime,
                                        "pay_for_reporting_years": list(m.quality.pay_for_reporting_years)}}
    b = getattr(m, "benchmark", None)
    if b is not None and b.base_years:
        data["benchmark"] = {"base_years": list(b.base_years),
                             "base_weights": [to_decimal(w) for w in b.base_weights]
                             or [DECIMAL_CONTEXT.divide(ONE, Decimal(len(b.base_years)))] * len(b.base_years)}
        if b.trend.value is not None:
            data["benchmark"]["trend"] = {"source": b.trend.source, "value": to_decimal(b.trend.value)}
        if b.risk_cap_pct is not None:
            data["cost"] = {"risk_adjustment": {"cap_growth": to_decimal(b.risk_cap_pct)}}
    cfg = PopulationConfig.model_validate(data)
    cfg.source = m
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
        import yaml
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and data.get("kind", "methodology") == "methodology" and "provenance" in data:
            from savings.methodology import load_methodology  # the settlement engine's format
            return load_methodology(str(path))
        if not isinstance(data, dict):
            raise ValueError(f"methodology: {path} must hold a mapping")
        return data
    try:
        from savings.methodology import load_methodology
    except ImportError as exc:
        raise ValueError(f"methodology: {name!r} is not a file and no preset loader is available") from exc
    return load_methodology(str(name))
