"""MTM targeting: who meets a preset's criteria, month by month (set-based SQL, DuckDB and PostgreSQL).

Operational reading of 42 CFR 423.153(d) targeting on claims (each a documented approximation; the rule itself
says "likely to incur"):
1. chronic diseases: distinct core diseases (reference/mtm_chronic_diseases.csv) diagnosed on any final-action
   claim in the 12 months ending with the month;
2. drugs: distinct drugs (ingredient when the NDC is in the product reference, else the NDC) filled in the 90 days
   ending with the month (a proxy for "covered Part D drugs" being taken);
3. cost: pharmacy paid amount from 1 January to the end of the month, annualised (x 12 / months elapsed), at or
   above the year's threshold (Decimal in the preset; None = no cost criterion, e.g. the Minnesota preset).
A person is listed for a month when enrolled that month (member_month) and every configured criterion holds.
"""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Date, Float, Integer, String, and_, cast, delete, func, insert, literal, select

from measures.blocks import MM, RX, claim_dx
from measures.definition import BuildContext
from measures.sqlfuncs import add_days
from pharmacy import reference as ref
from pharmacy.engine import inline_values
from pharmacy.tables import mtm_eligible

HERE = Path(__file__).resolve().parent
DISEASES = ref.HERE / "mtm_chronic_diseases.csv"


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min_chronic_diseases: int = Field(ge=1)
    diseases: tuple[str, ...] = Field(min_length=1)
    min_drugs: int = Field(ge=1)
    annual_cost_threshold: Decimal | None = Field(default=None, ge=0)
    source: str


class PresetFile(BaseModel):
    model_config = ConfigDict(extra="allow")  # YAML anchors (core disease lists) live at the top level
    version: str
    presets: dict[str, Preset]


class PresetError(ValueError):
    """Unknown preset or invalid preset file; the message names the preset or the field."""


def load_preset(name: str, threshold: Decimal | None = None, path: str | Path | None = None) -> Preset:
    p = Path(path) if path else HERE / "presets.yaml"
    try:
        presets = PresetFile.model_validate(yaml.safe_load(p.read_text(encoding="utf-8"))).presets
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PresetError(f"{p}: invalid {'.'.join(map(str, err['loc']))}: {err['msg']}") from exc
    if name not in presets:
        raise PresetError(f"{p}: no MTM preset {name!r} (known: {', '.join(sorted(presets))})")
    preset = presets[name]
    return preset.model_copy(update={"annual_cost_threshold": threshold}) if threshold is not None else preset


def default_preset_for(year: int) -> str:
    return f"part_d_{year}"


def _disease_rows(diseases) -> list[tuple[str, str]]:
    with open(DISEASES, newline="") as fh:
        return [(r["disease"], r["icd10_prefix"]) for r in csv.DictReader(fh) if r["disease"] in diseases]


def _ctx(year: int, dialect: str):
    from measures.valuesets import default_registry

    return BuildContext(year, default_registry(), SimpleNamespace(params={}, id="MTM"), dialect)


def eligible_select(year: int, preset: Preset, preset_name: str, dialect: str, claim_ndcs: set[str] | None = None):
    """The eligible (person, month) rows; claim_ndcs (the NDCs the claims hold) keeps the product join small."""
    mv = inline_values("mtm_month_values", [("month_start", String), ("month_end", String), ("month_no", Integer)],
                 [(str(dt.date(year, m, 1)), str(dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)), m)
                  for m in range(1, 13)])
    # literal dates render as strings inside VALUES: cast them once here
    months = select(cast(mv.c.month_start, Date).label("month_start"), cast(mv.c.month_end, Date).label("month_end"),
                    mv.c.month_no).cte("mtm_months")
    dis = inline_values("mtm_disease_ref", [("disease", String), ("prefix", String)], _disease_rows(preset.diseases))
    # one row per NDC: a combination product is one drug (and its paid amount is counted once)
    products = inline_values("mtm_ndc_ref", [("ndc", String), ("ingredient", String)],
                             [(ndc, ing) for ndc, ing, *_, first in ref.product_rows(ref.load_products())
                              if first and (claim_ndcs is None or ndc in claim_ndcs)])
    enrolled = (select(MM.c.person_id, MM.c.month_start).where(MM.c.month_start.between(dt.date(year, 1, 1),
                                                                                          dt.date(year, 12, 1)))
                .distinct().cte("mtm_enrolled"))
    dx = claim_dx(_ctx(year, dialect))
    person_dis = (select(dx.c.person_id, dis.c.disease, dx.c.claim_start_date.label("day"))
                  .select_from(dx.join(dis, dx.c.code.like(dis.c.prefix + "%")))
                  .where(dx.c.claim_start_date.between(dt.date(year - 1, 1, 1), dt.date(year, 12, 31)))
                  .distinct().cte("mtm_person_disease"))
    chronic = (select(person_dis.c.person_id, months.c.month_start,
                      func.count(func.distinct(person_dis.c.disease)).label("n"))
               .select_from(person_dis.join(months, person_dis.c.day.between(add_days(months.c.month_end, -364),
                                                                               months.c.month_end)))
               .group_by(person_dis.c.person_id, months.c.month_start)).cte("mtm_chronic")
    drug = func.coalesce(products.c.ingredient, RX.c.ndc_code)
    fills = (select(RX.c.person_id, RX.c.dispensing_date, drug.label("drug"), RX.c.paid_amount)
             .select_from(RX.outerjoin(products, products.c.ndc == RX.c.ndc_code))
             .where(RX.c.dispensing_date.between(dt.date(year - 1, 10, 1), dt.date(year, 12, 31)))).cte("mtm_fills")
    drugs = (select(fills.c.person_id, months.c.month_start, func.count(func.distinct(fills.c.drug)).label("n"))
             .select_from(fills.join(months, fills.c.dispensing_date.between(add_days(months.c.month_end, -89),
                                                                             months.c.month_end)))
             .group_by(fills.c.person_id, months.c.month_start)).cte("mtm_drugs")
    cost = (select(fills.c.person_id, months.c.month_start,
                   (func.coalesce(func.sum(cast(fills.c.paid_amount, Float)), 0.0) * 12.0
                    / cast(months.c.month_no, Float)).label("annualized"))
            .select_from(fills.join(months, fills.c.dispensing_date.between(literal(dt.date(year, 1, 1)),
                                                                            months.c.month_end)))
            .group_by(fills.c.person_id, months.c.month_start, months.c.month_no)).cte("mtm_cost")
    on = lambda t: and_(t.c.person_id == enrolled.c.person_id, t.c.month_start == enrolled.c.month_start)  # noqa: E731
    annualized = func.coalesce(cost.c.annualized, 0.0)
    conds = [chronic.c.n >= preset.min_chronic_diseases, drugs.c.n >= preset.min_drugs]
    if preset.annual_cost_threshold is not None:
        conds.append(annualized >= float(preset.annual_cost_threshold))
    return (select(literal(year).label("year"), literal(preset_name).label("preset"), enrolled.c.month_start,
                   enrolled.c.person_id, chronic.c.n.label("chronic_diseases"), drugs.c.n.label("drugs"),
                   cast(annualized, Float).label("annualized_drug_cost"))
            .select_from(enrolled.join(chronic, on(chronic)).join(drugs, on(drugs)).outerjoin(cost, on(cost)))
            .where(*conds))


def run_eligibility(engine, year: int, preset_name: str | None = None, threshold: Decimal | None = None) -> dict:
    """Replace the year's eligible list for the preset; returns eligible persons per month."""
    name = preset_name or default_preset_for(year)
    preset = load_preset(name, threshold)
    with engine.begin() as conn:
        conn.execute(delete(mtm_eligible).where(mtm_eligible.c.year == year, mtm_eligible.c.preset == name))
        claim_ndcs = set(conn.execute(select(RX.c.ndc_code).distinct()).scalars())
        q = eligible_select(year, preset, name, conn.dialect.name, claim_ndcs)
        conn.execute(insert(mtm_eligible).from_select([c.name for c in q.selected_columns], q))
        per_month = conn.execute(select(mtm_eligible.c.month_start, func.count()).where(
            mtm_eligible.c.year == year, mtm_eligible.c.preset == name)
            .group_by(mtm_eligible.c.month_start).order_by(mtm_eligible.c.month_start)).all()
        persons = conn.execute(select(func.count(func.distinct(mtm_eligible.c.person_id))).where(
            mtm_eligible.c.year == year, mtm_eligible.c.preset == name)).scalar_one()
    return {"year": year, "preset": name, "criteria": preset.model_dump(mode="json"), "eligible_persons": persons,
            "eligible_by_month": {str(m): n for m, n in per_month}}


def reasons(row) -> str:
    """One line saying why a listed person qualifies (for the eligible list; no claim contents)."""
    return (f"{row['chronic_diseases']} core chronic diseases in 12 months; {row['drugs']} drugs in 90 days; "
            f"annualised drug cost {Decimal(str(row['annualized_drug_cost'])).quantize(Decimal('0.01'))}")
