"""Shared-savings settlement engine: pure functions over typed inputs, Decimal money.

Order of operations (spec §A.2 steps 7-9, §A.11):

    savings S      = total benchmark - total expenditure
    savings rate   = S / total benchmark
    MSR / MLR      from the methodology (variable table by n, elected fixed, none, CI-based)
    generated      = S if rate >= MSR (savings) or rate <= -MLR (losses), else 0   (first dollar)
    shareable      = generated (first dollar) or the part beyond the MSR/MLR
    savings:  gross  = shareable x max share rate x quality factor  (or piecewise corridors)
              net    = gross x (1 - sequestration)
              earned = min(net, performance payment limit x benchmark)     # sequestration BEFORE cap
    losses:   owed   = min(|shareable| x loss rate, loss limit)
              owed   = owed x (1 - PHE mitigation fraction) - disaster adjustment   (floored at 0)
              earned = -owed

Rounding: every intermediate is carried at full Decimal precision (28 significant digits); only the
money lines of the result are rounded, half-up, to ``settlement.money_quantum`` ($1 for MSSP presets,
CMS publishes whole dollars). Rates are reported unrounded. See savings/README.md.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal, localcontext
from statistics import NormalDist

from .methodology import Corridor, LadderStep, Methodology, MethodologyError

ZERO = Decimal(0)
ONE = Decimal(1)


class SettlementError(ValueError):
    """An input that the methodology cannot settle (message names the field)."""


@dataclass(frozen=True)
class SettlementInput:
    entity_id: str
    performance_year: int
    track: str
    assigned_beneficiaries: int
    total_benchmark: Decimal
    total_expenditure: Decimal
    quality_score: Decimal | None = None        # [0,1]; CMS publishes 4 d.p.
    met_quality_standard: bool = True
    msr_choice: str | None = None               # 'variable' | fraction '0.02' | '2%' | 'fixed_2.0'
    disaster_adjustment: Decimal = ZERO         # extreme & uncontrollable reduction of owed losses ($)
    revenue: Decimal | None = None              # participant revenue (revenue-based loss limit, pools)
    agreement_year: int | None = None           # PY within the agreement (Track 2 loss limit, P4R)
    payer: str | None = None
    cost_cv: Decimal | None = None              # coefficient of variation of per-capita cost (CI MSR)
    level: str | None = None


@dataclass(frozen=True)
class SettlementResult:
    """Itemised settlement: one attribute per statement line."""
    entity_id: str
    performance_year: int
    track: str
    methodology: str
    assigned_beneficiaries: int
    total_benchmark: Decimal
    total_expenditure: Decimal
    savings: Decimal                    # benchmark - expenditure (+ savings, - losses)
    savings_rate: Decimal
    msr: Decimal
    mlr: Decimal
    msr_source: str                     # variable_table | fixed | elected_fixed | none | confidence_interval
    generated: Decimal                  # generated savings (+) / losses (-)
    shareable: Decimal                  # generated, or the part beyond MSR/MLR when not first dollar
    quality_score: Decimal | None
    quality_eligible: bool
    quality_factor: Decimal
    max_share_rate: Decimal
    final_sharing_rate: Decimal         # max share rate x quality factor (effective rate with corridors)
    gross_shared_savings: Decimal
    sequestration: Decimal
    net_shared_savings: Decimal         # after sequestration, before the cap
    performance_payment_limit: Decimal | None   # cap amount ($) or None
    loss_rate: Decimal | None
    gross_shared_losses: Decimal
    loss_limit: Decimal | None          # limit amount ($) or None
    phe_mitigation: Decimal             # $ of owed losses forgiven for the PHE
    disaster_adjustment: Decimal        # $ of owed losses removed (extreme & uncontrollable)
    caps_applied: str                   # ';'-joined: performance_payment_limit | loss_limit
    earned: Decimal                     # earned savings (+) or owed losses (-)
    quality_pool_payment: Decimal = ZERO
    withhold_amount: Decimal = ZERO
    withhold_returned: Decimal = ZERO
    payer: str | None = None
    notes: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def statement_lines(self) -> list[tuple[str, object]]:
        """(label, value) pairs in settlement order, for a printed statement."""
        labels = [
            ("Total benchmark", self.total_benchmark), ("Total expenditure", self.total_expenditure),
            ("Savings (benchmark - expenditure)", self.savings), ("Savings rate", self.savings_rate),
            (f"Minimum savings rate ({self.msr_source})", self.msr), ("Minimum loss rate", self.mlr),
            ("Generated savings/losses", self.generated), ("Shareable amount", self.shareable),
            ("Quality score", self.quality_score), ("Quality factor", self.quality_factor),
            ("Maximum sharing rate", self.max_share_rate), ("Final sharing rate", self.final_sharing_rate),
            ("Gross shared savings", self.gross_shared_savings), ("Sequestration", -self.sequestration),
            ("Net shared savings", self.net_shared_savings),
            ("Performance payment limit", self.performance_payment_limit),
            ("Shared loss rate", self.loss_rate), ("Gross shared losses", self.gross_shared_losses),
            ("Loss sharing limit", self.loss_limit), ("PHE loss mitigation", self.phe_mitigation),
            ("Disaster adjustment", self.disaster_adjustment), ("Caps applied", self.caps_applied or "none"),
            ("Earned savings (+) / owed losses (-)", self.earned),
        ]
        if self.quality_pool_payment:
            labels.append(("Quality pool payment", self.quality_pool_payment))
        if self.withhold_amount:
            labels += [("Quality withhold", -self.withhold_amount), ("Withhold returned", self.withhold_returned)]
        return labels


RESULT_FIELDS = [f.name for f in fields(SettlementResult)]


# --------------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------------

def parse_msr_choice(choice: str | None) -> Decimal | str | None:
    """'variable' -> 'variable'; '2%' / 'fixed_2.0' -> Decimal('0.02'); '0.02' -> Decimal('0.02')."""
    if choice is None:
        return None
    c = str(choice).strip().lower()
    if c in ("", "nan", "none"):
        return None
    if c in ("variable", "var", "v", "table"):
        return "variable"
    try:
        if c.startswith("fixed_"):
            return Decimal(c[6:]) / 100
        if c.endswith("%"):
            return Decimal(c[:-1].strip()) / 100
        v = Decimal(c)
    except ArithmeticError:
        raise SettlementError(f"msr_choice: cannot read {choice!r} (variable | 0.02 | 2% | fixed_2.0)") from None
    if not (ZERO <= v <= ONE):
        raise SettlementError(f"msr_choice: {choice!r} outside [0, 1]")
    return v


def variable_msr(table, n: int, below_table: str = "first_band_low") -> Decimal:
    """MSR from a banded table with linear interpolation between each band's end points."""
    if n < table[0].min_n:
        if below_table == "error":
            raise SettlementError(f"assigned_beneficiaries: {n} is below the MSR table ({table[0].min_n})")
        return table[0].low
    for band in table:
        if band.max_n is None or n <= band.max_n:
            if band.max_n is None:
                return band.low
            return band.low - (Decimal(n - band.min_n) / Decimal(band.max_n - band.min_n)) * (band.low - band.high)
    return table[-1].high


def minimum_rates(m: Methodology, n: int, msr_choice: str | None = None,
                  cost_cv: Decimal | None = None) -> tuple[Decimal, Decimal, str]:
    """(MSR, MLR, source) for an entity of n assigned beneficiaries."""
    cfg = m.msr
    choice = parse_msr_choice(msr_choice)
    fixed_choices = set(cfg.allowed_fixed_choices)
    source = cfg.type
    if isinstance(choice, Decimal):
        if choice in fixed_choices or (cfg.type == "fixed" and choice == cfg.value):
            if cfg.elected_fixed_min_n is not None and n < cfg.elected_fixed_min_n and cfg.type != "fixed":
                msr, source = variable_msr(cfg.table, n, cfg.below_table), "variable_table"
            else:
                msr, source = choice, ("fixed" if cfg.type == "fixed" else "elected_fixed")
        else:
            allowed = ", ".join(str(x) for x in sorted(fixed_choices)) or "none"
            raise SettlementError(f"msr_choice: {msr_choice!r} is not an option of {m.name} "
                                  f"(fixed choices: {allowed})")
    elif choice == "variable" and fixed_choices:
        if not cfg.allow_variable_choice:
            raise SettlementError(f"msr_choice: 'variable' is not an option of {m.name}")
        msr, source = variable_msr(cfg.table, n, cfg.below_table), "variable_table"
    elif cfg.type == "variable_table":
        msr = variable_msr(cfg.table, n, cfg.below_table)
    elif cfg.type == "fixed":
        msr = cfg.value
    elif cfg.type == "none":
        msr = ZERO
    else:  # confidence_interval
        if n <= 0:
            return cfg.cap, (cfg.cap if cfg.symmetric_mlr else cfg.mlr_value), "confidence_interval"
        cv = float(cost_cv if cost_cv is not None else cfg.cost_cv)
        z = NormalDist().inv_cdf(float(cfg.confidence_level))
        msr = Decimal(repr(round(z * cv / math.sqrt(n), 12)))
        msr = min(max(msr, cfg.floor), cfg.cap)
    mlr = msr if cfg.symmetric_mlr else cfg.mlr_value
    return msr, mlr, source


def ladder_share(steps: list[LadderStep], score: Decimal) -> Decimal:
    share = ZERO
    for s in steps:
        if score >= s.min_score:
            share = s.share
    return share


def quality_factor(m: Methodology, quality_score: Decimal | None, met: bool,
                   agreement_year: int | None = None) -> tuple[Decimal, bool, str]:
    """(factor in [0,1], eligible, note) turning the max sharing rate into the final sharing rate."""
    q = m.quality
    score = quality_score
    if agreement_year is not None and agreement_year in q.pay_for_reporting_years and met:
        score = ONE
    needs_score = q.regime in ("multiplicative", "sliding_scale", "gate_and_ladder")
    if q.regime == "sliding_scale":
        if met:
            return ONE, True, ""
        if score is None:
            raise SettlementError("quality_score: required by the sliding-scale quality regime")
        ss = q.sliding_scale
        if score >= ss.floor_score:
            return min(ONE, score / ss.threshold_score), True, "sliding scale (quality standard not met)"
        return ZERO, False, "quality standard not met and below sliding-scale floor"
    if q.require_quality_standard and not met:
        return ZERO, False, "quality standard not met"
    if needs_score and score is None:
        raise SettlementError(f"quality_score: required by the {q.regime} quality regime")
    if q.regime == "multiplicative":
        return (ONE - q.at_risk_fraction) + q.at_risk_fraction * score, True, ""
    if q.regime == "gate_and_ladder":
        if score < q.gate_min_score:
            return ZERO, False, "below quality gate"
        return ladder_share(q.ladder, score), True, ""
    return ONE, True, ""   # none | gate (met) | pool | withhold


def shared_loss_rate(m: Methodology, quality_score: Decimal | None, met: bool) -> Decimal:
    lr = m.settlement.loss_rate
    if lr is None:
        return ZERO
    if not met and lr.rate_if_quality_failed is not None:
        rate = lr.rate_if_quality_failed
    elif lr.rule == "flat":
        rate = lr.flat_rate
    else:
        q = quality_score if quality_score is not None else ZERO
        rate = min(max(ONE - m.settlement.max_share_rate * q, lr.min_rate), lr.max_rate)
    if lr.quality_loss_weight and quality_score is not None:
        rate = rate * (ONE - lr.quality_loss_weight * quality_score)
    return rate


def loss_limit_amount(m: Methodology, benchmark: Decimal, revenue: Decimal | None,
                      agreement_year: int | None) -> Decimal | None:
    ll = m.settlement.loss_limit
    if ll is None or ll.type == "none":
        return None
    if ll.type == "dollar":
        return ll.dollar
    if ll.type == "pct_benchmark":
        pct = ll.pct_benchmark
        if ll.pct_benchmark_by_agreement_year:
            years = sorted(ll.pct_benchmark_by_agreement_year)
            ay = agreement_year if agreement_year is not None else years[-1]
            eligible = [y for y in years if y <= ay] or [years[0]]
            pct = ll.pct_benchmark_by_agreement_year[eligible[-1]]
        return pct * benchmark
    bench_amt = ll.pct_benchmark * benchmark
    if revenue is None:
        return bench_amt
    return min(ll.pct_revenue * revenue, bench_amt)


def corridor_share(corridors: list[Corridor], abs_rate: Decimal, benchmark: Decimal) -> Decimal:
    total = ZERO
    for c in corridors:
        hi = abs_rate if c.to_rate is None else min(abs_rate, c.to_rate)
        if hi > c.from_rate:
            total += (hi - c.from_rate) * benchmark * c.provider_share
    return total


def _q(x: Decimal | None, quantum: Decimal) -> Decimal | None:
    return None if x is None else x.quantize(quantum, rounding=ROUND_HALF_UP)


def methodology_for_payer(m: Methodology, payer: str | None) -> Methodology:
    mp = m.multi_payer
    if mp is None or payer is None or payer not in mp.payers:
        return m
    o = mp.payers[payer]
    upd = {}
    if o.max_share_rate is not None:
        upd["max_share_rate"] = o.max_share_rate
    if o.performance_payment_limit is not None:
        upd["performance_payment_limit"] = o.performance_payment_limit
    if o.loss_share_rate is not None and m.settlement.loss_rate is not None:
        upd["loss_rate"] = m.settlement.loss_rate.model_copy(update={"rule": "flat", "flat_rate": o.loss_share_rate})
    return m.model_copy(update={"settlement": m.settlement.model_copy(update=upd)})


# --------------------------------------------------------------------------------------------------
# settlement
# --------------------------------------------------------------------------------------------------

def settle(m: Methodology, inp: SettlementInput) -> SettlementResult:
    """Settle one entity (x payer) for one performance year under methodology ``m``."""
    with localcontext() as ctx:
        ctx.prec = 28
        return _settle(methodology_for_payer(m, inp.payer), inp)


def _settle(m: Methodology, inp: SettlementInput) -> SettlementResult:
    st = m.settlement
    B, E = Decimal(inp.total_benchmark), Decimal(inp.total_expenditure)
    if B <= 0:
        raise SettlementError("total_benchmark: must be > 0")
    if E < 0:
        raise SettlementError("total_expenditure: must be >= 0")
    if inp.assigned_beneficiaries < 0:
        raise SettlementError("assigned_beneficiaries: must be >= 0")
    if inp.quality_score is not None and not (ZERO <= inp.quality_score <= ONE):
        raise SettlementError(f"quality_score: {inp.quality_score} outside [0, 1]")
    notes: list[str] = []
    S = B - E
    rate = S / B
    msr, mlr, msr_source = minimum_rates(m, inp.assigned_beneficiaries, inp.msr_choice, inp.cost_cv)

    if S > 0 and rate >= msr:
        generated = S
    elif S < 0 and rate <= -mlr and (st.two_sided or st.report_one_sided_generated_losses):
        generated = S
    else:
        generated = ZERO
    if generated > 0:
        shareable = generated if st.first_dollar else generated - msr * B
    elif generated < 0:
        shareable = generated if st.first_dollar else generated + mlr * B
    else:
        shareable = ZERO

    factor, eligible, qnote = quality_factor(m, inp.quality_score, inp.met_quality_standard, inp.agreement_year)
    if qnote:
        notes.append(qnote)
    final_rate = st.max_share_rate * factor

    gross = seq = net = ZERO
    gross_loss = phe = disadj = ZERO
    cap_amt = B * st.performance_payment_limit if st.performance_payment_limit is not None else None
    loss_rate = None
    limit_amt = None
    caps: list[str] = []
    earned = ZERO

    if generated > 0:
        if st.corridors:
            gross = corridor_share(st.corridors, rate, B) * factor
            final_rate = gross / generated if generated else ZERO
        else:
            gross = shareable * final_rate
        if st.sequestration_before_cap:
            seq = gross * st.sequestration_rate
            net = gross - seq
            earned = net
            if cap_amt is not None and net > cap_amt:
                earned = cap_amt
                caps.append("performance_payment_limit")
        else:
            capped = gross
            if cap_amt is not None and gross > cap_amt:
                capped = cap_amt
                caps.append("performance_payment_limit")
            seq = capped * st.sequestration_rate
            net = gross - gross * st.sequestration_rate
            earned = capped - seq
    elif generated < 0 and st.two_sided:
        loss_rate = shared_loss_rate(m, inp.quality_score, inp.met_quality_standard)
        if st.loss_corridors:
            gross_loss = corridor_share(st.loss_corridors, -rate, B)
            loss_rate = gross_loss / -generated
        else:
            gross_loss = -shareable * loss_rate
        owed = gross_loss
        limit_amt = loss_limit_amount(m, B, inp.revenue, inp.agreement_year)
        if limit_amt is not None and owed > limit_amt:
            owed = limit_amt
            caps.append("loss_limit")
        if st.phe_loss_mitigation:
            phe = owed * st.phe_loss_mitigation
            owed -= phe
        if st.apply_disaster_adjustment and inp.disaster_adjustment:
            disadj = min(Decimal(inp.disaster_adjustment), owed)
            owed -= disadj
        earned = -owed
    elif generated < 0:
        notes.append("one-sided: generated losses not owed")

    pool_pay = wh_amt = wh_ret = ZERO
    qc = m.quality
    score_for_quality = inp.quality_score if inp.quality_score is not None else ZERO
    if qc.regime == "pool":
        if inp.revenue is None:
            notes.append("quality pool: no revenue given")
        else:
            pool_pay = qc.pool.pool_pct * inp.revenue * ladder_share(qc.pool.tiers, score_for_quality)
    elif qc.regime == "withhold":
        if inp.revenue is None:
            notes.append("withhold: no revenue given")
        else:
            wh_amt = qc.withhold.withhold_pct * inp.revenue
            share = (score_for_quality if qc.withhold.earn_back == "proportional"
                     else ladder_share(qc.withhold.ladder or [], score_for_quality))
            wh_ret = wh_amt * share

    qm = st.money_quantum
    return SettlementResult(
        entity_id=inp.entity_id, performance_year=inp.performance_year, track=inp.track,
        methodology=m.name, assigned_beneficiaries=inp.assigned_beneficiaries,
        total_benchmark=B, total_expenditure=E, savings=_q(S, qm), savings_rate=rate,
        msr=msr, mlr=mlr, msr_source=msr_source, generated=_q(generated, qm), shareable=_q(shareable, qm),
        quality_score=inp.quality_score, quality_eligible=eligible, quality_factor=factor,
        max_share_rate=st.max_share_rate, final_sharing_rate=final_rate,
        gross_shared_savings=_q(gross, qm), sequestration=_q(seq, qm), net_shared_savings=_q(net, qm),
        performance_payment_limit=_q(cap_amt, qm), loss_rate=loss_rate, gross_shared_losses=_q(gross_loss, qm),
        loss_limit=_q(limit_amt, qm), phe_mitigation=_q(phe, qm), disaster_adjustment=_q(disadj, qm),
        caps_applied=";".join(caps), earned=_q(earned, qm),
        quality_pool_payment=_q(pool_pay, qm), withhold_amount=_q(wh_amt, qm), withhold_returned=_q(wh_ret, qm),
        payer=inp.payer, notes="; ".join(notes),
    )


def settle_pooled(m: Methodology, inputs: list[SettlementInput]) -> tuple[SettlementResult, dict[str, Decimal]]:
    """Multi-payer ``pooled`` mode: one settlement over the summed payers; earned allocated to each payer
    by benchmark share (last payer takes the rounding remainder)."""
    if not inputs:
        raise SettlementError("no payer rows to pool")
    first = inputs[0]
    pooled = SettlementInput(
        entity_id=first.entity_id, performance_year=first.performance_year, track=first.track,
        assigned_beneficiaries=sum(i.assigned_beneficiaries for i in inputs),
        total_benchmark=sum((i.total_benchmark for i in inputs), ZERO),
        total_expenditure=sum((i.total_expenditure for i in inputs), ZERO),
        quality_score=first.quality_score, met_quality_standard=first.met_quality_standard,
        msr_choice=first.msr_choice,
        disaster_adjustment=sum((i.disaster_adjustment for i in inputs), ZERO),
        revenue=(sum((i.revenue for i in inputs), ZERO) if all(i.revenue is not None for i in inputs) else None),
        agreement_year=first.agreement_year, payer=None, cost_cv=first.cost_cv, level=first.level)
    res = settle(m, pooled)
    alloc: dict[str, Decimal] = {}
    remaining = res.earned
    for k, i in enumerate(inputs):
        name = i.payer or f"payer{k + 1}"
        if k == len(inputs) - 1:
            alloc[name] = remaining
        else:
            part = (res.earned * i.total_benchmark / pooled.total_benchmark).quantize(
                m.settlement.money_quantum, rounding=ROUND_HALF_UP)
            alloc[name] = part
            remaining -= part
    return res, alloc


__all__ = [
    "SettlementInput", "SettlementResult", "SettlementError", "MethodologyError", "settle", "settle_pooled",
    "minimum_rates", "variable_msr", "quality_factor", "shared_loss_rate", "loss_limit_amount",
    "parse_msr_choice", "RESULT_FIELDS",
]
