"""Completion factors estimated from the warehouse: paid-lag triangles and the chain-ladder method.

A methodology may say `cost.completion_factor: estimated` instead of a number. The settlement then divides each
year's costs (claims paid within `cost.runout_months` after the year, savings.population.cost) by a factor
estimated here from the claims themselves. `icm completion --year Y` prints the triangles and factors as JSON.

Order of operations
1. **Triangle (SQL, set-based).** Final-action medical claim lines and pharmacy fills are summed by payer x
   triangle category x service month x age, where age = paid month - service month (0 = paid in the month of
   service; service month of a line = its line start date, else the claim start date, as in `cost.py`; of a fill
   its dispensing date). Triangle categories follow the claim form: `inpatient` (institutional bill types 11, 12),
   `outpatient` (any other institutional claim), `professional` (every other medical claim), `pharmacy` (fills).
   Only claims paid on or before the valuation date count; the valuation date is the end of the run-out of the
   performance year (the last day a claim can be paid and still count), or the last paid month in the warehouse
   if that is earlier. The triangle keeps `history_months` service months up to the valuation month. The final-
   action paid date is that of the last version of a claim (an adjusted claim counts when its last version is
   paid), as `cost.py` applies the run-out. Amounts are NUMERIC in SQL and `Decimal` here.
2. **Age-to-age factors (Python, exact Decimal).** Cumulative paid C[i, k] for service month i and age k;
   f_k = sum_i C[i, k+1] / sum_i C[i, k] over the service months observed at age k+1 (volume-weighted chain
   ladder; Mack 1993, "Distribution-free calculation of the standard error of chain ladder reserve estimates",
   ASTIN Bulletin 23(2), eq. 1; Friedland, *Estimating Unpaid Claims Using Basic Techniques*, CAS 2010, ch. 7).
3. **Minimum credibility.** An age-to-age factor is credible when at least `min_origins` service months are
   observed at both ages and their paid total at age k is at least `min_paid`; an age that is not credible takes
   factor 1 (no further development is recognised from thin data) and is listed in `not_credible`. A whole
   payer x category triangle whose total paid is below `min_triangle_paid` takes the pattern of the same category
   pooled over all payers (the complement of credibility), noted as `pattern: pooled`.
4. **Tail.** Development beyond the last age of the triangle (`history_months - 1`) is the configured
   `tail_factor` (default 1: claims are taken as fully paid after `history_months` months). Cumulative
   development factor CDF_k = f_k x f_k+1 x ... x tail; completion at age k = 1 / CDF_k.
5. **Year factors per payer x category.** For a year Y settled with run-out R, service month m (1-12) has been
   observed to age a_m = 12 - m + R at the end of the run-out (capped at the data's valuation). Estimated ultimate
   U_m = P_m x CDF(a_m), with P_m the amount paid by then; the completion factor of a payer x triangle category is
   sum_m P_m / sum_m U_m (a triangle that is not credible as a whole uses the pooled pattern of step 3 with its
   own paid amounts: the documented fallback). A year with nothing paid takes factor 1.
6. **Applied factors** (`applied_factors`, `with_factors`). The cost build divides each payer's cost of each
   service category by its own factor (cost.completed_amount): `inpatient`, `outpatient`, `professional` and
   `pharmacy` take the factor of the triangle category of the same name; the carve-out categories
   (`behavioral_health`, `ltss`, `ed`, `other`), which mix claim forms, take the payer's medical factor (its three
   medical triangles pooled: sum P / sum U). Each factor is capped at 1 (negative development from recoveries
   never inflates costs). The blended year factor (sum P / sum U over the payers in scope and the triangle
   categories of the included cost categories, capped at 1) is recorded for display and review.
Rounding: factors, CDFs and completion are exact Decimal divisions in common.DECIMAL_CONTEXT (34 digits), not
rounded; every factor handed to `cost.py` is rounded half-up to 10 d.p. (the precision of the SQL division there).
The JSON writes factors as decimal strings. Every settlement row's breakdown keeps the applied factors of each year
(`summary`).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, Integer, and_, case, cast, extract, func, literal, or_, select, union_all

from savings.population.common import DECIMAL_CONTEXT, ONE, ZERO, month_add, to_decimal
from warehouse import models

TRIANGLE_CATEGORIES = ("inpatient", "outpatient", "professional", "pharmacy")
INPATIENT_BILL_TYPES = ("11", "12")
FACTOR_QUANTUM = Decimal("1e-10")

claim_t = models.MedicalClaimFinal.__table__
line_t = models.MedicalClaimLineFinal.__table__
rx_t = models.PharmacyClaimFinal.__table__


class CompletionSettings(BaseModel):
    """How completion factors are estimated (`cost.completion` in a methodology)."""
    model_config = ConfigDict(extra="forbid")
    history_months: int = Field(24, ge=2, le=120)           # service months in the triangle
    min_origins: int = Field(3, ge=1)                        # service months needed for a credible f_k
    min_paid: Decimal = Field(Decimal(1000), ge=0)           # paid at age k needed for a credible f_k
    min_triangle_paid: Decimal = Field(Decimal(50000), ge=0)  # below: the category's pattern pooled over payers
    tail_factor: Decimal = Field(Decimal(1), ge=1, le=2)     # development beyond the triangle's last age


def _month_index(d):
    """Months since year 0 of a date column: year x 12 + month - 1 (dialect-neutral EXTRACT)."""
    return cast(extract("year", d), Integer) * 12 + cast(extract("month", d), Integer) - 1


def _index_month(i: int) -> str:
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def triangle_cells(engine: Engine, first_service: dt.date, valuation: dt.date,
                   payers: list[str] | None = None) -> list[dict]:
    """Incremental paid by payer x category x service month x age, from final-action claims (set-based SQL).

    Rows: {payer, category, service_month (months since year 0), age, paid (Decimal)}."""
    svc = func.coalesce(line_t.c.claim_line_start_date, claim_t.c.claim_start_date)
    bill = func.substr(func.ltrim(func.coalesce(claim_t.c.bill_type_code, ""), "0"), 1, 2)
    institutional = claim_t.c.claim_type == "institutional"
    category = case((and_(institutional, bill.in_(INPATIENT_BILL_TYPES)), literal("inpatient")),
                    (institutional, literal("outpatient")), else_=literal("professional"))
    medical = (select(claim_t.c.payer.label("payer"), category.label("category"),
                      _month_index(svc).label("service_month"),
                      (_month_index(claim_t.c.paid_date) - _month_index(svc)).label("age"),
                      func.coalesce(line_t.c.paid_amount, 0).label("paid"))
               .select_from(line_t.join(claim_t, and_(line_t.c.claim_id == claim_t.c.claim_id,
                                                      line_t.c.data_source == claim_t.c.data_source)))
               .where(svc >= first_service, svc <= valuation, claim_t.c.paid_date.is_not(None),
                      claim_t.c.paid_date <= valuation))
    pharmacy = (select(rx_t.c.payer.label("payer"), literal("pharmacy").label("category"),
                       _month_index(rx_t.c.dispensing_date).label("service_month"),
                       (_month_index(rx_t.c.paid_date) - _month_index(rx_t.c.dispensing_date)).label("age"),
                       func.coalesce(rx_t.c.paid_amount, 0).label("paid"))
                .where(rx_t.c.dispensing_date >= first_service, rx_t.c.dispensing_date <= valuation,
                       rx_t.c.paid_date.is_not(None), rx_t.c.paid_date <= valuation))
    if payers:
        medical = medical.where(claim_t.c.payer.in_(payers))
        pharmacy = pharmacy.where(rx_t.c.payer.in_(payers))
    u = union_all(medical, pharmacy).subquery("paid_lag")
    age = case((u.c.age < 0, 0), else_=u.c.age)      # a paid date before the service month counts at age 0
    q = (select(u.c.payer, u.c.category, u.c.service_month, age.label("age"), func.sum(u.c.paid))
         .group_by(u.c.payer, u.c.category, u.c.service_month, age))
    with engine.connect() as conn:
        return [{"payer": p, "category": c, "service_month": int(m), "age": int(a), "paid": to_decimal(v) or ZERO}
                for p, c, m, a, v in conn.execute(q)]


def last_paid_date(engine: Engine, payers: list[str] | None = None) -> dt.date | None:
    """The latest paid date of any final-action claim or fill (the data's own valuation date)."""
    qs = [select(func.max(t.c.paid_date)).where(t.c.payer.in_(payers)) if payers else select(func.max(t.c.paid_date))
          for t in (claim_t, rx_t)]
    with engine.connect() as conn:
        found = [conn.execute(q).scalar_one() for q in qs]
    found = [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in found if d is not None]
    return max(found) if found else None


def chain_ladder(cumulative: list[list[Decimal | None]], settings: CompletionSettings | None = None) -> dict:
    """Volume-weighted chain ladder on a cumulative triangle (rows = origins oldest first, None = not observed).

    Returns age_to_age f_k (k = 0..K-1), credible flags, the number of origins behind each factor, cdf_k
    (k = 0..K, including the tail) and completion_k = 1 / cdf_k; exact Decimals (module docstring, steps 2-4)."""
    s = settings or CompletionSettings()
    with localcontext(DECIMAL_CONTEXT):
        width = max((len(r) for r in cumulative), default=0)
        factors, credible, origins = [], [], []
        for k in range(width - 1):
            pairs = [(r[k], r[k + 1]) for r in cumulative
                     if len(r) > k + 1 and r[k] is not None and r[k + 1] is not None]
            before = sum((a for a, _ in pairs), ZERO)
            after = sum((b for _, b in pairs), ZERO)
            ok = len(pairs) >= s.min_origins and before >= s.min_paid and before > 0
            factors.append(after / before if ok else ONE)
            credible.append(ok)
            origins.append(len(pairs))
        tail = to_decimal(s.tail_factor)
        cdf = [tail]
        for f in reversed(factors):
            cdf.append(cdf[-1] * f)
        cdf.reverse()
        return {"age_to_age": factors, "credible": credible, "origins": origins, "tail_factor": tail, "cdf": cdf,
                "completion": [ONE / c for c in cdf]}


def _cumulative(cells: list[dict], first: int, last: int) -> tuple[list[int], list[list[Decimal | None]]]:
    """Cumulative triangle for service months first..last observed at valuation month `last`."""
    inc: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for c in cells:
        inc[(c["service_month"], c["age"])] += c["paid"]
    origins = list(range(first, last + 1))
    rows = []
    for i in origins:
        run, row = ZERO, []
        for k in range(last - i + 1):
            run += inc.get((i, k), ZERO)
            row.append(run)
        rows.append(row)
    return origins, rows


def estimate(engine: Engine, year: int, *, runout_months: int = 3, payers: list[str] | None = None,
             years: list[int] | None = None, include_pharmacy: bool = True,
             settings: CompletionSettings | None = None) -> dict:
    """Triangles, chain-ladder factors and the completion factor of each of `years` (default: `year`), valued at
    the end of `year`'s run-out (or the last paid date in the warehouse if earlier). JSON-able except Decimals."""
    s = settings or CompletionSettings()
    runout_end = month_add(dt.date(year + 1, 1, 1), runout_months) - dt.timedelta(days=1)
    data_end = last_paid_date(engine, payers)
    valuation = min(runout_end, data_end) if data_end else runout_end
    last = valuation.year * 12 + valuation.month - 1
    first = last - s.history_months + 1
    wanted_years = sorted(set(years or [year]))
    first_needed = min([first] + [y * 12 for y in wanted_years])
    cells = triangle_cells(engine, dt.date(first_needed // 12, first_needed % 12 + 1, 1), valuation, payers)
    by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for c in cells:
        by_key[(c["payer"], c["category"])].append(c)
    categories = [c for c in TRIANGLE_CATEGORIES if include_pharmacy or c != "pharmacy"]
    with localcontext(DECIMAL_CONTEXT):
        pooled = {}
        for cat in TRIANGLE_CATEGORIES:
            window = [c for (p, k), cs in by_key.items() if k == cat for c in cs if c["service_month"] >= first]
            pooled[cat] = chain_ladder(_cumulative(window, first, last)[1], s)
        triangles = []
        for (payer, cat), cs in sorted(by_key.items()):
            window = [c for c in cs if c["service_month"] >= first]
            origins, cum = _cumulative(window, first, last)
            total = sum((c["paid"] for c in window), ZERO)
            own = total >= s.min_triangle_paid
            pattern = chain_ladder(cum, s) if own else pooled[cat]
            triangles.append({"payer": payer, "category": cat, "pattern": "own" if own else "pooled",
                              "total_paid": total, "origins": [_index_month(i) for i in origins],
                              "cumulative_paid": cum, **pattern,
                              "year_factors": {str(y): _year_factor(cs, pattern["cdf"], y, runout_months, last)
                                               for y in wanted_years}})
        year_factors = {}
        for y in wanted_years:
            paid = sum((t["year_factors"][str(y)]["paid"] for t in triangles if t["category"] in categories), ZERO)
            ult = sum((t["year_factors"][str(y)]["ultimate"] for t in triangles if t["category"] in categories),
                      ZERO)
            factor = (paid / ult).quantize(FACTOR_QUANTUM, rounding=ROUND_HALF_UP) if ult > 0 else ONE
            year_factors[str(y)] = {"completion_factor": min(factor, ONE), "paid": paid, "estimated_ultimate": ult}
    return {"year": year, "runout_months": runout_months, "valuation_date": valuation.isoformat(),
            "service_months": [_index_month(first), _index_month(last)], "payers": payers,
            "categories": categories, "settings": s.model_dump(mode="json"), "triangles": triangles,
            "year_factors": year_factors}


def _year_factor(cells: list[dict], cdf: list[Decimal], year: int, runout_months: int, last: int) -> dict:
    """Paid by the run-out, estimated ultimate and their ratio for one payer x category and year (step 5)."""
    paid_by_month: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for c in cells:
        m = c["service_month"]
        if year * 12 <= m < year * 12 + 12:
            age_limit = min(year * 12 + 11 + runout_months, last) - m
            if c["age"] <= age_limit:
                paid_by_month[m] += c["paid"]
    paid = ult = ZERO
    for m, p in paid_by_month.items():
        age = min(year * 12 + 11 + runout_months, last) - m
        paid += p
        ult += p * (cdf[min(age, len(cdf) - 1)] if cdf else ONE)   # beyond the last age: the tail
    return {"paid": paid, "ultimate": ult, "completion_factor": paid / ult if ult > 0 else ONE}


def factors_for_years(engine: Engine, cfg, performance_year: int, years: list[int]) -> dict:
    """The completion record of a settlement: the methodology's number for every year, or estimates."""
    cost = cfg.cost
    if cost.completion_factor != "estimated":
        factor = to_decimal(cost.completion_factor)
        return {"source": "methodology", "year_factors": {str(y): {"completion_factor": factor} for y in years}}
    est = estimate(engine, performance_year, runout_months=cost.runout_months, payers=cfg.payer_scope,
                   years=years, include_pharmacy="pharmacy" in cost.categories, settings=cost.completion)
    return {"source": "estimated (chain ladder, savings.population.completion)", **est}


CARVE_OUT_CATEGORIES = ("behavioral_health", "ltss", "ed", "other")     # mixed claim forms: the medical factor


def applied_factors(record: dict, year: int) -> dict[str, dict[str, Decimal]]:
    """payer -> service category -> factor applied to `year`'s costs (module docstring, step 6)."""
    y = str(year)
    out: dict[str, dict[str, Decimal]] = {}
    medical: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    with localcontext(DECIMAL_CONTEXT):
        for t in record.get("triangles", []):
            yf = t["year_factors"][y]
            out.setdefault(t["payer"], {})[t["category"]] = _factor(yf["paid"], yf["ultimate"])
            if t["category"] != "pharmacy":
                medical[t["payer"]][0] += yf["paid"]
                medical[t["payer"]][1] += yf["ultimate"]
        for payer, (paid, ult) in medical.items():
            out[payer].update({c: _factor(paid, ult) for c in CARVE_OUT_CATEGORIES})
    return out


def _factor(paid: Decimal, ultimate: Decimal) -> Decimal:
    """paid / ultimate rounded half-up to 10 d.p. and capped at 1 (1 when nothing is expected)."""
    if ultimate <= 0:
        return ONE
    return min((paid / ultimate).quantize(FACTOR_QUANTUM, rounding=ROUND_HALF_UP), ONE)


def with_factors(cfg, record: dict, year: int):
    """The config `year`'s cost is built with: the blended factor as `completion_factor` and, for an estimate,
    the per payer x category factors as `completion_factors` (applied by cost.py instead of the blend)."""
    out = with_factor(cfg, record["year_factors"][str(year)]["completion_factor"])
    if record.get("triangles"):
        cost = out.cost.model_copy(update={"completion_factors": applied_factors(record, year)})
        out = out.model_copy(update={"cost": cost})
        out.source = cfg.source
    return out


def with_factor(cfg, factor: Decimal):
    """A copy of the config whose cost.completion_factor is the number `factor` (for one year's cost build)."""
    cost = cfg.cost.model_copy(update={"completion_factor": factor})
    out = cfg.model_copy(update={"cost": cost})
    out.source = cfg.source
    return out


def summary(record: dict) -> dict:
    """The part of a completion record kept in each settlement row's breakdown (no triangles)."""
    keep = ("source", "valuation_date", "runout_months", "settings", "year_factors")
    out = {k: record[k] for k in keep if k in record}
    if "triangles" in record:
        out["by_payer_category"] = [{"payer": t["payer"], "category": t["category"], "pattern": t["pattern"],
                                     "year_factors": {y: v["completion_factor"] for y, v in t["year_factors"].items()},
                                     "not_credible_ages": [k for k, ok in enumerate(t["credible"]) if not ok]}
                                    for t in record["triangles"]]
        out["applied"] = {y: applied_factors(record, int(y)) for y in record["year_factors"]}
    return out
