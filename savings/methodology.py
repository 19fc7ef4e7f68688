"""Settlement methodology as data.

A :class:`Methodology` holds every knob of a shared-savings settlement (spec §A.12 for MSSP, §B.3 for
Medicaid ICMs): minimum savings/loss rate, sharing, loss sharing, limits, sequestration, risk corridors,
quality regime, COVID-19 (PHE) loss mitigation, disaster adjustment and multi-payer settlement.

A :class:`TrackSelector` ("auto by track column" preset, e.g. ``mssp-2018``) maps each input row's
``track`` (or track + level) to one of the per-track methodologies of that performance year.

All models are pydantic v2 with ``extra="forbid"``; invalid values raise :class:`MethodologyError`
whose message names the offending field by its dotted path (``settlement.max_share_rate``).
Money and rates are :class:`decimal.Decimal`.
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PRESET_DIR = Path(__file__).with_name("presets")

Rate = Annotated[Decimal, Field(ge=0, le=1)]
NonNegMoney = Annotated[Decimal, Field(ge=0)]


class MethodologyError(ValueError):
    """Invalid methodology or unknown preset; the message names the field (dotted path)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------------
# minimum savings rate / minimum loss rate
# --------------------------------------------------------------------------------------------------

class MSRBand(_Model):
    """Linear interpolation from ``low`` at ``min_n`` to ``high`` at ``max_n`` (both inclusive)."""
    min_n: int = Field(ge=0)
    max_n: int | None = None          # None = open-ended top band (low must equal high)
    low: Rate
    high: Rate

    @model_validator(mode="after")
    def _check(self):
        if self.max_n is None:
            if self.low != self.high:
                raise ValueError("open-ended band (max_n null) needs low == high")
        elif self.max_n <= self.min_n:
            raise ValueError("max_n must exceed min_n")
        return self


def _cms_variable_table() -> list[MSRBand]:
    """42 CFR 425.604(b) table, plus the sub-5,000 bands reproduced from published PUFs (spec §A.9)."""
    rows = [
        (500, 999, "0.122", "0.087"),        # sub-5,000: reproduced from PUF (not in regulation text)
        (1000, 2999, "0.087", "0.050"),
        (3000, 4999, "0.050", "0.039"),
        (5000, 5999, "0.039", "0.036"),      # regulation table from here
        (6000, 6999, "0.036", "0.034"),
        (7000, 7999, "0.034", "0.032"),
        (8000, 8999, "0.032", "0.031"),
        (9000, 9999, "0.031", "0.030"),
        (10000, 14999, "0.030", "0.027"),
        (15000, 19999, "0.027", "0.025"),
        (20000, 49999, "0.025", "0.022"),
        (50000, 59999, "0.022", "0.020"),
        (60000, None, "0.020", "0.020"),
    ]
    return [MSRBand(min_n=a, max_n=b, low=Decimal(lo), high=Decimal(hi)) for a, b, lo, hi in rows]


CMS_VARIABLE_TABLE = _cms_variable_table()


class MSRConfig(_Model):
    """Minimum savings rate (and, for two-sided models, minimum loss rate).

    type:
      * ``variable_table`` -- MSR by assigned beneficiaries from ``table`` (CMS 425.604(b) by default);
      * ``fixed`` -- ``value`` for everyone;
      * ``none`` -- 0 (first dollar);
      * ``confidence_interval`` -- ``z(confidence_level) * cost_cv / sqrt(n)``, z = Phi^-1(level) (1.2816 at
        0.90): the bound of a ONE-sided confidence interval of per-capita cost for an entity of size n, with the
        entity's coefficient of variation of per-capita cost (row column ``cost_cv`` or the default here). One-
        sided because a payment is a one-tailed event and the 425.604(b) table scales like one-sided z (the
        CMS-1345-P re-read in savings/population/uncertainty.py, step 3).
    ``allowed_fixed_choices``: symmetric MSR/MLR values a two-sided entity may elect (row column
    ``msr_choice``; ``variable`` elects the table). ``elected_fixed_min_n``: an elected fixed MSR
    reverts to the variable table when n falls below this [K].
    """
    type: Literal["variable_table", "fixed", "none", "confidence_interval"] = "variable_table"
    value: Rate | None = None
    table: list[MSRBand] = Field(default_factory=lambda: list(CMS_VARIABLE_TABLE))
    below_table: Literal["first_band_low", "error"] = "first_band_low"
    allowed_fixed_choices: list[Rate] = Field(default_factory=list)
    allow_variable_choice: bool = True
    elected_fixed_min_n: int | None = None
    symmetric_mlr: bool = True
    mlr_value: Rate | None = None          # used when symmetric_mlr is false
    confidence_level: Decimal = Field(default=Decimal("0.90"), gt=Decimal("0.5"), lt=1)
    cost_cv: Decimal = Field(default=Decimal("1.0"), gt=0)
    floor: Rate = Decimal("0")             # CI-based MSR never below this
    cap: Rate = Decimal("1")               # ... nor above this

    @model_validator(mode="after")
    def _check(self):
        if self.type == "fixed" and self.value is None:
            raise ValueError("type 'fixed' needs value")
        if not self.symmetric_mlr and self.mlr_value is None:
            raise ValueError("symmetric_mlr false needs mlr_value")
        if self.type == "variable_table":
            if not self.table:
                raise ValueError("variable_table needs a non-empty table")
            for a, b in zip(self.table, self.table[1:]):
                if a.max_n is None or b.min_n != a.max_n + 1:
                    raise ValueError(f"table bands must be contiguous and ascending (band at {b.min_n})")
        if self.floor > self.cap:
            raise ValueError("floor must not exceed cap")
        return self


# --------------------------------------------------------------------------------------------------
# sharing, losses, limits
# --------------------------------------------------------------------------------------------------

class Corridor(_Model):
    """Piecewise sharing: the part of |savings rate| in [from_rate, to_rate) is shared at provider_share."""
    from_rate: Rate
    to_rate: Rate | None = None        # None = unbounded
    provider_share: Rate

    @model_validator(mode="after")
    def _check(self):
        if self.to_rate is not None and self.to_rate <= self.from_rate:
            raise ValueError("to_rate must exceed from_rate")
        return self


def _check_corridors(cs: list[Corridor] | None) -> list[Corridor] | None:
    if cs:
        for a, b in zip(cs, cs[1:]):
            if a.to_rate is None or b.from_rate < a.to_rate:
                raise ValueError("corridors must be ascending and non-overlapping")
    return cs


class LossRateConfig(_Model):
    """Shared-loss rate.

    * ``flat``: ``flat_rate``;
    * ``one_minus_fsr_bounded``: ``1 - max_share_rate x quality_score`` clipped to
      [min_rate, max_rate] (Track 2 / Track 3 / ENHANCED; the quality-scaled rate is used even in gate
      regimes, 425.610(d)); ``rate_if_quality_failed`` when the quality standard is not met.
    ``quality_loss_weight`` (MassHealth-style): loss multiplier ``1 - weight x quality_score``.
    """
    rule: Literal["flat", "one_minus_fsr_bounded"] = "flat"
    flat_rate: Rate | None = None
    min_rate: Rate = Decimal("0")
    max_rate: Rate = Decimal("1")
    rate_if_quality_failed: Rate | None = None
    quality_loss_weight: Rate = Decimal("0")

    @model_validator(mode="after")
    def _check(self):
        if self.rule == "flat" and self.flat_rate is None:
            raise ValueError("rule 'flat' needs flat_rate")
        if self.min_rate > self.max_rate:
            raise ValueError("min_rate must not exceed max_rate")
        return self


class LossLimitConfig(_Model):
    """Loss sharing limit.

    * ``pct_benchmark``: ``pct_benchmark x total benchmark`` (or ``pct_benchmark_by_agreement_year``
      keyed by the row's ``agreement_year``; the highest key applies to later years);
    * ``pct_revenue_capped``: ``min(pct_revenue x revenue, pct_benchmark x benchmark)``; when the row
      has no revenue the benchmark-based amount applies;
    * ``dollar``: fixed stop-loss amount; ``none``: unlimited.
    """
    type: Literal["pct_benchmark", "pct_revenue_capped", "dollar", "none"] = "pct_benchmark"
    pct_benchmark: Rate | None = None
    pct_benchmark_by_agreement_year: dict[int, Rate] | None = None
    pct_revenue: Rate | None = None
    dollar: NonNegMoney | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.type == "pct_benchmark" and self.pct_benchmark is None and not self.pct_benchmark_by_agreement_year:
            raise ValueError("type 'pct_benchmark' needs pct_benchmark or pct_benchmark_by_agreement_year")
        if self.type == "pct_revenue_capped" and (self.pct_revenue is None or self.pct_benchmark is None):
            raise ValueError("type 'pct_revenue_capped' needs pct_revenue and pct_benchmark")
        if self.type == "dollar" and self.dollar is None:
            raise ValueError("type 'dollar' needs dollar")
        return self


class SettlementConfig(_Model):
    first_dollar: bool = True                     # False: share only savings/losses beyond the MSR/MLR
    max_share_rate: Rate
    corridors: list[Corridor] | None = None       # savings side; replaces the single rate
    loss_corridors: list[Corridor] | None = None  # losses side
    performance_payment_limit: Rate | None = None  # fraction of total benchmark; None = no cap
    sequestration_rate: Rate = Decimal("0")
    sequestration_before_cap: bool = True          # CMS order (spec §A.11, verified on A1409)
    two_sided: bool = False
    loss_rate: LossRateConfig | None = None
    loss_limit: LossLimitConfig | None = None
    phe_loss_mitigation: Rate = Decimal("0")       # fraction of owed losses forgiven (PHE months / 12)
    apply_disaster_adjustment: bool = True         # subtract row 'disaster_adjustment' from owed losses
    report_one_sided_generated_losses: bool = True  # PUF 2016+ report losses of one-sided ACOs
    money_quantum: Decimal = Field(default=Decimal("1"), gt=0)   # rounding of money outputs (1 = dollars)

    @field_validator("corridors", "loss_corridors")
    @classmethod
    def _v_corridors(cls, v):
        return _check_corridors(v)

    @model_validator(mode="after")
    def _check(self):
        if self.two_sided and self.loss_rate is None and self.loss_corridors is None:
            raise ValueError("two_sided needs loss_rate (or loss_corridors)")
        return self


# --------------------------------------------------------------------------------------------------
# quality
# --------------------------------------------------------------------------------------------------

class LadderStep(_Model):
    min_score: Rate
    share: Rate


def _check_ladder(steps):
    if steps:
        for a, b in zip(steps, steps[1:]):
            if b.min_score <= a.min_score:
                raise ValueError("ladder steps must have strictly ascending min_score")
    return steps


class SlidingScaleConfig(_Model):
    threshold_score: Rate              # score meeting the quality performance standard (0-1 scale)
    floor_score: Rate = Decimal("0")   # below this (and standard not met): no savings

    @model_validator(mode="after")
    def _check(self):
        if self.threshold_score <= 0:
            raise ValueError("threshold_score must be > 0")
        if self.floor_score > self.threshold_score:
            raise ValueError("floor_score must not exceed threshold_score")
        return self


class PoolConfig(_Model):
    """Quality pool (Oregon CCO): pool = pool_pct x row revenue; payout share by score tier."""
    pool_pct: Rate
    tiers: list[LadderStep]
    @field_validator("tiers")
    @classmethod
    def _v_tiers(cls, v):
        return _check_ladder(v)


class WithholdConfig(_Model):
    """Quality withhold (Vermont VMNG): withhold_pct x revenue withheld, earned back x quality score."""
    withhold_pct: Rate
    earn_back: Literal["proportional", "ladder"] = "proportional"
    ladder: list[LadderStep] | None = None
    @field_validator("ladder")
    @classmethod
    def _v_ladder(cls, v):
        return _check_ladder(v)


class QualityConfig(_Model):
    """How quality turns the max sharing rate into the final sharing rate (quality factor in [0,1]).

    * ``none``: factor 1;  ``multiplicative`` (MSSP 2012-2020): factor = quality score;
    * ``gate`` (MSSP 2021-2022): factor 1 if the quality standard is met, else 0;
    * ``sliding_scale`` (MSSP 2023+): 1 if met; else score/threshold if score >= floor; else 0;
    * ``gate_and_ladder`` (Vermont VMSSP): 0 below ``gate_min_score``, else the ladder step's share;
    * ``pool`` / ``withhold``: savings factor 1 (or as ``savings_regime``), plus a pool/withhold line.
    ``require_quality_standard``: savings need ``met_quality_standard`` (except in sliding_scale, which
    handles the miss itself).
    """
    regime: Literal["none", "multiplicative", "gate", "sliding_scale", "gate_and_ladder", "pool", "withhold"] = "none"
    require_quality_standard: bool = True
    sliding_scale: SlidingScaleConfig | None = None
    gate_min_score: Rate | None = None
    ladder: list[LadderStep] | None = None
    pool: PoolConfig | None = None
    withhold: WithholdConfig | None = None
    pay_for_reporting_years: list[int] = Field(default_factory=list)   # agreement years scored 1.0 if reported
    at_risk_fraction: Rate = Decimal("1")   # multiplicative: factor = (1 - f) + f x score (MN IHP phase-in)
    @field_validator("ladder")
    @classmethod
    def _v_ladder(cls, v):
        return _check_ladder(v)

    @model_validator(mode="after")
    def _check(self):
        if self.regime == "sliding_scale" and self.sliding_scale is None:
            raise ValueError("regime 'sliding_scale' needs sliding_scale")
        if self.regime == "gate_and_ladder":
            if self.gate_min_score is None or not self.ladder:
                raise ValueError("regime 'gate_and_ladder' needs gate_min_score and ladder")
            if self.ladder[0].min_score < self.gate_min_score:
                raise ValueError("first ladder step must not be below gate_min_score")
        if self.regime == "pool" and self.pool is None:
            raise ValueError("regime 'pool' needs pool")
        if self.regime == "withhold" and self.withhold is None:
            raise ValueError("regime 'withhold' needs withhold")
        return self


class TrendConfig(_Model):
    source: Literal["state_actuary", "regional_peer", "fixed", "national_absolute",
                    "national_regional_blend", "three_way_acpt"] = "fixed"
    value: Decimal | None = None
    acpt_weight: Rate | None = None


class BaseYearError(MethodologyError):
    """A benchmark base year that is not strictly before the performance year."""


def check_base_years(base_years: list[int]) -> list[int]:
    """``base_years`` are either offsets from the performance year (all negative: ``[-3, -2, -1]`` = the three
    years before it, so one methodology serves every year) or fixed calendar years (all positive: ``[2019]``),
    never a mix, never 0 (the performance year itself), never repeated."""
    if len(set(base_years)) != len(base_years):
        raise ValueError(f"base_years: a year is repeated in {base_years}")
    if not (all(y < 0 for y in base_years) or all(y > 0 for y in base_years)):
        raise ValueError(f"base_years: {base_years} must be offsets before the performance year (all negative, "
                         "e.g. [-2, -1]) or calendar years (all positive), not 0 and not both")
    return base_years


def resolve_base_years(base_years: list[int], performance_year: int, field: str = "benchmark.base_years") -> list[int]:
    """The calendar base years of a performance year; refuses any year that is not strictly before it (a
    benchmark must come from earlier years than the ones it is compared with)."""
    years = [performance_year + y if y < 0 else y for y in base_years]
    late = [y for y in years if y >= performance_year]
    if late:
        raise BaseYearError(f"{field}: base year{'s' if len(late) > 1 else ''} {', '.join(map(str, late))} "
                            f"not before performance year {performance_year}; use offsets such as [-2, -1] "
                            "or earlier calendar years")
    return years


class BenchmarkConfig(_Model):
    """Benchmark construction parameters (documentation / upstream benchmark step; the settlement engine
    takes the resulting total benchmark as input). ``base_weights`` must sum to 1. ``base_years``: offsets
    from the performance year (``[-2, -1]``) or fixed calendar years (see :func:`check_base_years`)."""
    base_years: list[int] = Field(default_factory=list)
    base_weights: list[Rate] = Field(default_factory=list)
    trend: TrendConfig = Field(default_factory=TrendConfig)
    regional_blend: bool = False
    rebase_each_year: bool = False
    price_normalization: bool = False
    risk_cap_pct: Rate | None = None
    risk_cap_scope: Literal["per_type", "aggregate"] | None = None

    @field_validator("base_years")
    @classmethod
    def _v_years(cls, v):
        return check_base_years(v)

    def years_for(self, performance_year: int) -> list[int]:
        return resolve_base_years(self.base_years, performance_year)

    @field_validator("base_weights")
    @classmethod
    def _v_weights(cls, v):
        if v and sum(v) != 1:
            raise ValueError(f"base_weights must sum to 1 (got {sum(v)})")
        return v

    @model_validator(mode="after")
    def _check(self):
        if self.base_weights and self.base_years and len(self.base_weights) != len(self.base_years):
            raise ValueError("base_weights and base_years must have the same length")
        return self


class PayerOverride(_Model):
    max_share_rate: Rate | None = None
    loss_share_rate: Rate | None = None
    performance_payment_limit: Rate | None = None


class MultiPayerConfig(_Model):
    """``per_payer``: one settlement per payer row (payer-specific overrides); ``pooled``: benchmarks and
    expenditures summed across an entity's payers, one settlement, earned allocated by benchmark share."""
    mode: Literal["per_payer", "pooled"] = "per_payer"
    payers: dict[str, PayerOverride] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# methodology and preset containers
# --------------------------------------------------------------------------------------------------

class Provenance(_Model):
    source: list[str]
    documented: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)


class Methodology(_Model):
    kind: Literal["methodology"] = "methodology"
    name: str
    description: str = ""
    program: str = "mssp"
    performance_year: int | None = None
    track: str | None = None
    level: str | None = None
    provenance: Provenance
    msr: MSRConfig
    settlement: SettlementConfig
    quality: QualityConfig = Field(default_factory=QualityConfig)
    benchmark: BenchmarkConfig | None = None
    payer_scope: list[str] = Field(default_factory=list)
    multi_payer: MultiPayerConfig | None = None

    @model_validator(mode="after")
    def _check(self):
        st = self.settlement
        if not st.two_sided and (st.loss_rate is not None or st.loss_limit is not None or st.loss_corridors):
            raise ValueError("settlement: a one-sided methodology (two_sided false) must not define "
                             "loss_rate / loss_limit / loss_corridors")
        if self.performance_year is not None and self.benchmark is not None and self.benchmark.base_years:
            try:
                self.benchmark.years_for(self.performance_year)
            except BaseYearError as exc:
                raise ValueError(str(exc)) from None
        return self


def canonical_track(value: str | None, level: str | None = None) -> str:
    """Normalise a track / level label: 'Track 1+' -> 'track1plus', 'BASIC', 'C' -> 'basic_c'."""
    if value is None or str(value).strip() == "":
        raise ValueError("empty track")
    t = re.sub(r"[\s_\-]+", "", str(value).strip().lower())
    t = t.replace("+", "plus")
    lv = re.sub(r"[\s_\-]+", "", str(level).strip().lower()) if level not in (None, "") else ""
    if lv.startswith("level"):
        lv = lv[5:]
    if t.startswith("basic"):
        rest = t[5:]
        if rest.startswith("level"):
            rest = rest[5:]
        rest = rest or lv
        if rest in ("a", "b", "c", "d", "e"):
            return f"basic_{rest}"
        raise ValueError(f"unknown BASIC level {value!r}/{level!r}")
    aliases = {
        "1": "track1", "track1": "track1", "t1": "track1", "onesided": "track1",
        "1plus": "track1plus", "track1plus": "track1plus", "t1plus": "track1plus", "track1plusmodel": "track1plus",
        "2": "track2", "track2": "track2", "t2": "track2",
        "3": "track3", "track3": "track3", "t3": "track3",
        "enhanced": "enhanced", "enhancedtrack": "enhanced",
    }
    if t in aliases:
        return aliases[t]
    if t in ("a", "b", "c", "d", "e", "levela", "levelb", "levelc", "leveld", "levele"):
        return f"basic_{t[-1]}"
    raise ValueError(f"unknown track {value!r}")


class TrackSelector(_Model):
    """"Auto" preset: picks a methodology from each input row's ``track`` (+ ``level``) column
    (``kind: by_track``, e.g. ``mssp-2018``), or first by the row's ``performance_year`` and then by
    track (``kind: by_year``, e.g. ``mssp``: ``years`` maps a year to a by_track preset)."""
    kind: Literal["by_track", "by_year"] = "by_track"
    name: str
    description: str = ""
    program: str = "mssp"
    performance_year: int | None = None
    provenance: Provenance
    tracks: dict[str, str] = Field(default_factory=dict)     # canonical track -> preset name
    aliases: dict[str, str] = Field(default_factory=dict)    # canonical track -> canonical track
    years: dict[int, str] = Field(default_factory=dict)      # performance year -> preset name

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "by_track" and not self.tracks:
            raise ValueError("kind 'by_track' needs tracks")
        if self.kind == "by_year" and not self.years:
            raise ValueError("kind 'by_year' needs years")
        return self

    def resolve(self, track: str, level: str | None = None, year: int | None = None) -> "Methodology":
        if self.kind == "by_year":
            if year not in self.years:
                raise ValueError(f"performance_year {year} not covered by preset {self.name} "
                                 f"({min(self.years)}-{max(self.years)})")
            sub = _resolve_cached(self.years[year])
            return sub.resolve(track, level, year) if isinstance(sub, TrackSelector) else sub
        if year is not None and self.performance_year is not None and year != self.performance_year:
            raise ValueError(f"performance_year {year} does not match preset {self.name} "
                             f"(performance year {self.performance_year})")
        key = canonical_track(track, level)
        key = self.aliases.get(key, key)
        if key not in self.tracks:
            raise ValueError(f"track {track!r} not available in preset {self.name} "
                             f"(has: {', '.join(sorted(self.tracks))})")
        sub = _resolve_cached(self.tracks[key])
        if not isinstance(sub, Methodology):
            raise ValueError(f"preset {self.tracks[key]} referenced by {self.name} is not a methodology")
        return sub


Preset = Union[Methodology, TrackSelector]


def _format_error(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"] if not (isinstance(x, str) and x in ("methodology", "by_track", "by_year")))
        loc = loc or "(root)"
        parts.append(f"{prefix}{loc}: {e['msg']}")
    return "; ".join(parts)


def parse_methodology(data: dict, origin: str = "<dict>") -> Preset:
    """Validate a methodology dict (as loaded from YAML)."""
    if not isinstance(data, dict):
        raise MethodologyError(f"{origin}: top level must be a mapping")
    kind = data.get("kind", "methodology")
    cls = {"methodology": Methodology, "by_track": TrackSelector, "by_year": TrackSelector}.get(kind)
    if cls is None:
        raise MethodologyError(f"{origin}: kind: unknown kind {kind!r} (methodology | by_track | by_year)")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise MethodologyError(f"{origin}: invalid methodology: {_format_error(exc)}") from None


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


_CACHE: dict[str, Preset] = {}


def _resolve_cached(name: str) -> Preset:
    if name not in _CACHE:
        _CACHE[name] = load_methodology(name)
    return _CACHE[name]


def load_methodology(path_or_name: str | Path) -> Preset:
    """Load a methodology from a YAML file path or a preset name (see :func:`preset_names`)."""
    p = Path(path_or_name)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise MethodologyError(f"methodology file not found: {p}")
        origin = str(p)
    else:
        p = PRESET_DIR / f"{path_or_name}.yaml"
        if not p.exists():
            close = [n for n in preset_names() if str(path_or_name).lower() in n][:8]
            hint = f" (did you mean: {', '.join(close)})" if close else ""
            raise MethodologyError(f"preset: unknown preset name {str(path_or_name)!r}{hint}")
        origin = f"preset {path_or_name}"
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise MethodologyError(f"{origin}: not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_methodology(data, origin)
