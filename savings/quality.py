"""Quality score from per-measure results under a configurable scheme.

    score_quality([MeasureResult("FUH", Decimal("0.41"), prior_rate=Decimal("0.35")), ...], scheme)
      -> QualityScore(score=Decimal('0.8125'), measures=[MeasurePoints(...), ...])

Scheme (pydantic, ``extra="forbid"``):

* per measure a benchmark ladder ``[{rate, points}]`` (e.g. MSSP: 30th percentile -> 1.1 points ...
  90th -> 2.0; Oregon: benchmark -> full points); ``higher_is_better: false`` for inverse measures;
  ``weight`` per measure;
* improvement: ``gap_closure`` (Minnesota method, used by Oregon CCO targets) -- a measure whose rate
  reaches ``prior + gap_fraction x (benchmark - prior)`` (and at least ``min_improvement`` above the
  prior) earns ``improvement_points`` (default: the measure's full points);
* ``pay_for_reporting``: every reported measure earns full points (MSSP first agreement year, MassHealth PY1).

Score = sum(weight x points) / sum(weight x max points), rounded half-up to 4 d.p. (as CMS publishes).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import Field, model_validator

from .methodology import _Model

ZERO = Decimal(0)


@dataclass(frozen=True)
class MeasureResult:
    measure_id: str
    rate: Decimal | None                 # None = not reported
    prior_rate: Decimal | None = None


@dataclass(frozen=True)
class MeasurePoints:
    measure_id: str
    rate: Decimal | None
    points: Decimal
    max_points: Decimal
    weight: Decimal
    basis: str                           # benchmark | improvement | reporting | not_reported | below_benchmark


@dataclass(frozen=True)
class QualityScore:
    score: Decimal
    measures: list[MeasurePoints]


class BenchmarkStep(_Model):
    rate: Decimal
    points: Decimal = Field(ge=0)


class MeasureSpec(_Model):
    benchmarks: list[BenchmarkStep]
    higher_is_better: bool = True
    weight: Decimal = Field(default=Decimal(1), gt=0)
    improvement_target_rate: Decimal | None = None   # gap-closure target base; default: top benchmark

    @model_validator(mode="after")
    def _check(self):
        if not self.benchmarks:
            raise ValueError("benchmarks must not be empty")
        rates = [b.rate for b in self.benchmarks]
        order = sorted(rates) if self.higher_is_better else sorted(rates, reverse=True)
        if rates != order or len(set(rates)) != len(rates):
            raise ValueError("benchmarks must be strictly ordered from easiest to hardest")
        pts = [b.points for b in self.benchmarks]
        if pts != sorted(pts):
            raise ValueError("benchmark points must not decrease")
        return self

    @property
    def max_points(self) -> Decimal:
        return self.benchmarks[-1].points


class ImprovementConfig(_Model):
    method: Literal["none", "gap_closure"] = "none"
    gap_fraction: Decimal = Field(default=Decimal("0.10"), ge=0, le=1)
    min_improvement: Decimal = Field(default=Decimal("0"), ge=0)
    improvement_points: Decimal | None = None        # None = the measure's full points


class QualityScheme(_Model):
    name: str = "quality-scheme"
    measures: dict[str, MeasureSpec]
    improvement: ImprovementConfig = Field(default_factory=ImprovementConfig)
    pay_for_reporting: bool = False
    missing_measure: Literal["zero", "exclude"] = "zero"


def _meets(rate: Decimal, target: Decimal, higher: bool) -> bool:
    return rate >= target if higher else rate <= target


def score_measure(spec: MeasureSpec, res: MeasureResult, scheme: QualityScheme) -> MeasurePoints:
    mx = spec.max_points
    if res.rate is None:
        return MeasurePoints(res.measure_id, None, ZERO, mx, spec.weight, "not_reported")
    if scheme.pay_for_reporting:
        return MeasurePoints(res.measure_id, res.rate, mx, mx, spec.weight, "reporting")
    pts, basis = ZERO, "below_benchmark"
    for step in spec.benchmarks:
        if _meets(res.rate, step.rate, spec.higher_is_better):
            pts, basis = step.points, "benchmark"
    imp = scheme.improvement
    if imp.method == "gap_closure" and res.prior_rate is not None:
        bench = spec.improvement_target_rate if spec.improvement_target_rate is not None else spec.benchmarks[-1].rate
        gap = bench - res.prior_rate
        step = gap * imp.gap_fraction
        sign = 1 if spec.higher_is_better else -1
        if sign * step < imp.min_improvement:
            step = sign * imp.min_improvement
        target = res.prior_rate + step
        ipts = imp.improvement_points if imp.improvement_points is not None else mx
        if _meets(res.rate, target, spec.higher_is_better) and ipts > pts:
            pts, basis = min(ipts, mx), "improvement"
    return MeasurePoints(res.measure_id, res.rate, pts, mx, spec.weight, basis)


def score_quality(results: list[MeasureResult], scheme: QualityScheme | dict) -> QualityScore:
    """Score measure results; measures in the scheme without a result count as not reported."""
    if isinstance(scheme, dict):
        scheme = QualityScheme.model_validate(scheme)
    by_id = {r.measure_id: r for r in results}
    unknown = sorted(set(by_id) - set(scheme.measures))
    if unknown:
        raise ValueError(f"measures: not in scheme {scheme.name}: {', '.join(unknown)}")
    rows = []
    for mid, spec in scheme.measures.items():
        res = by_id.get(mid, MeasureResult(mid, None))
        rows.append(score_measure(spec, res, scheme))
    counted = [r for r in rows if not (scheme.missing_measure == "exclude" and r.basis == "not_reported")]
    denom = sum((r.weight * r.max_points for r in counted), ZERO)
    num = sum((r.weight * r.points for r in counted), ZERO)
    score = (num / denom) if denom > 0 else ZERO
    score = min(max(score, ZERO), Decimal(1)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return QualityScore(score, rows)
