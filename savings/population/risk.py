"""Prospective risk scores computed in the warehouse: CMS-HCC V24 / V28 (with a blend) and state-supplied
Medicaid models (CDPS+Rx-style, ACG-style) through the same tables.

Reference data (loaded once by `load_reference`, shipped under hcc/ with provenance in hcc/README.md):
  ref_risk_dx           diagnosis -> category (HCC) per model
  ref_risk_hierarchy    parent category drops child category
  ref_risk_factor       coefficient per model x segment x variable (category, interaction name, D1..D10P)
  ref_risk_demographic  coefficient per model x segment x sex x age band
  ref_risk_interaction  interaction = any category of side a and any of side b

Score of a person for payment year Y (diagnoses from final-action medical claims of Y-1, every diagnosis position;
custom models also drug categories from the NDCs of Y-1's final-action fills, e.g. CDPS+Rx's MRx):
  segment  CMS-HCC community: C + {N non-dual, F full dual, P partial dual} + {A aged 65+, D disabled < 65}, age as
           of 1 February of Y, dual status = most generous of Y's member-months. Custom models: segment ALL.
  raw      demographic + sum(disease factors after hierarchies) + interactions + payment-HCC count factor
  normalized = raw / normalization factor (per model, configurable);  BLEND = sum(weight x normalized).
Not modelled (documented approximations): new-enrollee and institutional segments, originally-disabled
status (no OREC in the warehouse), risk-adjustment-eligible CPT/bill-type filtering of diagnosis sources, MCE
age/sex diagnosis edits, MA coding-intensity adjustment.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import (
    Column, Engine, Double, Integer, String, and_, case, cast, delete, distinct, exists, func, insert, literal,
    select, union_all,
)

from savings.population.common import FULL_DUAL_CODES, NON_DUAL_CODES, temp_table, year_bounds
from savings.population.config import PopulationConfig, RiskConfig
from savings.work_tables import (
    ref_risk_demographic, ref_risk_dx, ref_risk_factor, ref_risk_hierarchy, ref_risk_interaction, risk_score,
)
from warehouse import models
from warehouse.engine import is_duckdb
from warehouse.models import N_DIAGNOSES

HCC_DIR = Path(__file__).parent / "hcc"
CMS_MODELS = ("CMS-HCC-V24", "CMS-HCC-V28")
COUNT_VARIABLES = [f"D{i}" for i in range(1, 10)] + ["D10P"]
NDC_PREFIX = "NDC:"   # drug-category rows of a custom model in ref_risk_dx

mm = models.MemberMonth.__table__
person_t = models.Person.__table__
claim_t = models.MedicalClaimFinal.__table__
fill_t = models.PharmacyClaimFinal.__table__


# --- reference data ---------------------------------------------------------------------------------------


def _read(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _ndc11(value: str | None, path, line: int) -> str:
    """11-digit NDC (5-4-2): 11 digits as they are, or a hyphenated 4-4-2 / 5-3-2 / 5-4-1 code padded per segment
    (a bare 10-digit code is ambiguous and rejected)."""
    text = (value or "").strip()
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and [len(p) for p in parts] in ([4, 4, 2], [5, 3, 2],
                                                                                           [5, 4, 1]):
        return parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)
    if len(text) == 11 and text.isdigit():
        return text
    raise ValueError(f"{path} line {line}: ndc must be 11 digits or a hyphenated 4-4-2, 5-3-2 or 5-4-1 NDC, "
                     f"got {value!r}")


def _bulk_insert(conn, table, rows: list[dict]) -> None:
    for i in range(0, len(rows), 5000):
        conn.execute(insert(table), rows[i:i + 5000])


def load_reference(engine: Engine, *, force: bool = False) -> dict:
    """Load the shipped CMS-HCC V24/V28 slices into the ref_risk_* tables (no-op when already loaded)."""
    with engine.begin() as conn:
        have = conn.execute(select(func.count()).select_from(ref_risk_factor)
                            .where(ref_risk_factor.c.model_version.in_(CMS_MODELS))).scalar_one()
        if have and not force:
            return {"loaded": False}
        for t in (ref_risk_dx, ref_risk_hierarchy, ref_risk_factor, ref_risk_demographic, ref_risk_interaction):
            conn.execute(delete(t).where(t.c.model_version.in_(CMS_MODELS)))
        dx_csv = HCC_DIR / "dx_to_hcc.csv"
        if is_duckdb(engine):  # DuckDB's executemany is slow; let it read the CSV itself
            conn.exec_driver_sql(
                "INSERT INTO ref_risk_dx (model_version, diagnosis_code, category) "
                f"SELECT model_version, diagnosis_code, CAST(hcc AS VARCHAR) FROM read_csv('{dx_csv}', header=true, "
                "all_varchar=true)")
        else:
            _bulk_insert(conn, ref_risk_dx, [{"model_version": r["model_version"], "diagnosis_code": r["diagnosis_code"],
                                              "category": r["hcc"]} for r in _read(dx_csv)])
        _bulk_insert(conn, ref_risk_hierarchy, _read(HCC_DIR / "hierarchy.csv"))
        _bulk_insert(conn, ref_risk_factor, [{**r, "coefficient": float(r["coefficient"])}
                                             for r in _read(HCC_DIR / "factors.csv")])
        _bulk_insert(conn, ref_risk_demographic, [{**r, "age_min": int(r["age_min"]), "age_max": int(r["age_max"]),
                                                   "coefficient": float(r["coefficient"])}
                                                  for r in _read(HCC_DIR / "demographic.csv")])
        _bulk_insert(conn, ref_risk_interaction, [{"model_version": r["model_version"], "interaction": r["interaction"],
                                                   "side": r["side"], "category": r["hcc"]}
                                                  for r in _read(HCC_DIR / "interactions.csv")])
    return {"loaded": True}


def load_custom_model(engine: Engine, name: str, dx_map_csv: str | Path, weights_csv: str | Path,
                      hierarchy_csv: str | Path | None = None, ndc_map_csv: str | Path | None = None) -> str:
    """Load a state-supplied Medicaid model (CDPS+Rx-style / ACG-style) as `custom:<name>`.

    dx_map_csv:  diagnosis_code, category
    weights_csv: type, category, sex, age_min, age_max, weight
                 type = category (a diagnostic or drug category weight), demographic (sex F/M/blank = both, age
                 band), or count (category = D1..D10P)
    hierarchy_csv (optional): parent, child
    ndc_map_csv (optional): ndc, category -- drug categories (CDPS+Rx's MRx); stored in ref_risk_dx with the code
                 `NDC:<11-digit NDC>` (no diagnosis code contains ':') and scored from the fills of the base year
    """
    mv = f"custom:{name}"
    dx_rows = [{"model_version": mv, "diagnosis_code": r["diagnosis_code"].strip().upper().replace(".", ""),
                "category": r["category"].strip()} for r in _read(Path(dx_map_csv))]
    if ndc_map_csv:
        dx_rows += [{"model_version": mv, "diagnosis_code": NDC_PREFIX + _ndc11(r["ndc"], ndc_map_csv, n),
                     "category": r["category"].strip()} for n, r in enumerate(_read(Path(ndc_map_csv)), 2)]
    factors, demo = [], []
    for n, r in enumerate(_read(Path(weights_csv)), 2):
        try:
            weight = float(r["weight"])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{weights_csv} line {n}: weight must be a number") from exc
        kind = (r.get("type") or "category").strip()
        if kind == "demographic":
            sexes = [r["sex"].strip().upper()] if (r.get("sex") or "").strip() else ["F", "M"]
            for s in sexes:
                demo.append({"model_version": mv, "segment": "ALL", "sex": s, "age_min": int(r["age_min"]),
                             "age_max": int(r["age_max"]), "coefficient": weight})
        elif kind in ("category", "count"):
            factors.append({"model_version": mv, "segment": "ALL", "variable": r["category"].strip().upper(),
                            "coefficient": weight})
        else:
            raise ValueError(f"{weights_csv} line {n}: type must be category, demographic or count, got {kind!r}")
    for r in dx_rows:
        r["category"] = r["category"].upper()
    hier = ([{"model_version": mv, "parent": r["parent"].strip().upper(), "child": r["child"].strip().upper()}
             for r in _read(Path(hierarchy_csv))] if hierarchy_csv else [])
    with engine.begin() as conn:
        for t in (ref_risk_dx, ref_risk_hierarchy, ref_risk_factor, ref_risk_demographic, ref_risk_interaction):
            conn.execute(delete(t).where(t.c.model_version == mv))
        for t, rows in ((ref_risk_dx, dx_rows), (ref_risk_factor, factors), (ref_risk_demographic, demo),
                        (ref_risk_hierarchy, hier)):
            if rows:
                _bulk_insert(conn, t, rows)
    return mv


# --- scoring ----------------------------------------------------------------------------------------------


def _persons(conn, year: int, payer_scope: list[str] | None, segmented: bool):
    """Temp table of persons enrolled in `year`: person_id, sex F/M, age on 1 Feb, segment."""
    first, last = year_bounds(year)
    where = [mm.c.month_start >= first, mm.c.month_start <= last]
    if payer_scope:
        where.append(mm.c.payer.in_(payer_scope))
    dual = func.coalesce(mm.c.dual_status_code, "00")
    dual_rank = case((dual.in_(FULL_DUAL_CODES), 2), (dual.in_(NON_DUAL_CODES), 0), else_=1)
    enrolled = (select(mm.c.person_id, func.max(dual_rank).label("dual_rank"))
                .where(*where).group_by(mm.c.person_id).subquery("enrolled"))
    age = (literal(year) - func.extract("year", person_t.c.birth_date)
           - case((func.extract("month", person_t.c.birth_date) > 2, 1),
                  (and_(func.extract("month", person_t.c.birth_date) == 2,
                        func.extract("day", person_t.c.birth_date) > 1), 1), else_=0))
    age = cast(age, Integer)
    sex = case((func.upper(func.substr(person_t.c.sex, 1, 1)) == "M", "M"), else_="F")
    if segmented:
        segment = (literal("C") + case((enrolled.c.dual_rank == 2, "F"), (enrolled.c.dual_rank == 1, "P"), else_="N")
                   + case((age >= 65, "A"), else_="D"))
    else:
        segment = literal("ALL")
    t = temp_table(conn, "risk_person", [Column("person_id", String), Column("sex", String), Column("age", Integer),
                                         Column("segment", String)], [])
    conn.execute(insert(t).from_select(
        ["person_id", "sex", "age", "segment"],
        select(enrolled.c.person_id, sex, func.coalesce(age, 40), segment)
        .select_from(enrolled.join(person_t, person_t.c.person_id == enrolled.c.person_id))))
    return t


def _diagnoses(year: int):
    """Distinct (person_id, diagnosis_code) from final medical claims with service in `year`."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    parts = []
    for i in range(1, N_DIAGNOSES + 1):
        col = claim_t.c[f"diagnosis_code_{i}"]
        parts.append(select(claim_t.c.person_id, func.upper(func.replace(col, ".", "")).label("dx"))
                     .where(col.is_not(None), claim_t.c.claim_start_date >= first, claim_t.c.claim_start_date <= last,
                            func.coalesce(claim_t.c.diagnosis_code_type, "icd-10-cm") == "icd-10-cm"))
    u = union_all(*parts).subquery("dx_all")
    return select(distinct(u.c.person_id).label("person_id"), u.c.dx).subquery("dx")


def score_model(conn, model_version: str, year: int, persons, normalization: float) -> int:
    """Insert risk_score rows of one model for the persons temp table; returns rows written."""
    dx = _diagnoses(year - 1)
    rdx = ref_risk_dx
    cats = temp_table(conn, "risk_cat", [Column("person_id", String), Column("category", String)], [])
    conn.execute(insert(cats).from_select(
        ["person_id", "category"],
        select(distinct(dx.c.person_id), rdx.c.category)
        .select_from(dx.join(rdx, and_(rdx.c.diagnosis_code == dx.c.dx, rdx.c.model_version == model_version))
                     .join(persons, persons.c.person_id == dx.c.person_id))))
    if model_version.startswith("custom:"):   # drug categories (CDPS+Rx's MRx) from the base year's fills
        first, last = dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31)
        have = select(cats.c.person_id).where(cats.c.person_id == fill_t.c.person_id, cats.c.category == rdx.c.category)
        conn.execute(insert(cats).from_select(
            ["person_id", "category"],
            select(distinct(fill_t.c.person_id), rdx.c.category)
            .select_from(fill_t.join(rdx, and_(rdx.c.diagnosis_code == literal(NDC_PREFIX) + fill_t.c.ndc_code,
                                               rdx.c.model_version == model_version))
                         .join(persons, persons.c.person_id == fill_t.c.person_id))
            .where(fill_t.c.dispensing_date.between(first, last), fill_t.c.drug_code_type == "ndc", ~exists(have))))
    # hierarchies: drop a child category when the person has a parent that excludes it
    parent = cats.alias("parent")
    h = ref_risk_hierarchy
    kept = (select(cats.c.person_id, cats.c.category).where(~exists(
        select(literal(1)).select_from(parent.join(h, and_(h.c.parent == parent.c.category,
                                                            h.c.model_version == model_version)))
        .where(parent.c.person_id == cats.c.person_id, h.c.child == cats.c.category))).subquery("kept"))
    f = ref_risk_factor
    disease = (select(kept.c.person_id, f.c.coefficient.label("disease"), literal(0.0).label("inter"),
                      literal(0.0).label("cnt"), literal(0.0).label("demo"))
               .select_from(kept.join(persons, persons.c.person_id == kept.c.person_id)
                            .join(f, and_(f.c.model_version == model_version, f.c.segment == persons.c.segment,
                                          f.c.variable == kept.c.category))))
    # interactions: both sides present after hierarchies
    ia, ib = ref_risk_interaction.alias("ia"), ref_risk_interaction.alias("ib")
    ka, kb = kept.alias("ka"), kept.alias("kb")
    side_a = (select(distinct(ka.c.person_id).label("person_id"), ia.c.interaction)
              .select_from(ka.join(ia, and_(ia.c.category == ka.c.category, ia.c.side == "a",
                                            ia.c.model_version == model_version))).subquery("side_a"))
    side_b = (select(distinct(kb.c.person_id).label("person_id"), ib.c.interaction)
              .select_from(kb.join(ib, and_(ib.c.category == kb.c.category, ib.c.side == "b",
                                            ib.c.model_version == model_version))).subquery("side_b"))
    inter = (select(side_a.c.person_id, literal(0.0), f.c.coefficient, literal(0.0), literal(0.0))
             .select_from(side_a.join(side_b, and_(side_b.c.person_id == side_a.c.person_id,
                                                   side_b.c.interaction == side_a.c.interaction))
                          .join(persons, persons.c.person_id == side_a.c.person_id)
                          .join(f, and_(f.c.model_version == model_version, f.c.segment == persons.c.segment,
                                        f.c.variable == side_a.c.interaction))))
    # payment-HCC counts: categories with a factor in the person's segment
    n_pay = (select(kept.c.person_id, func.count().label("n"))
             .select_from(kept.join(persons, persons.c.person_id == kept.c.person_id)
                          .join(f, and_(f.c.model_version == model_version, f.c.segment == persons.c.segment,
                                        f.c.variable == kept.c.category)))
             .group_by(kept.c.person_id).subquery("n_pay"))
    count_var = case((n_pay.c.n >= 10, "D10P"), else_=literal("D") + cast(n_pay.c.n, String))
    counts = (select(n_pay.c.person_id, literal(0.0), literal(0.0), f.c.coefficient, literal(0.0))
              .select_from(n_pay.join(persons, persons.c.person_id == n_pay.c.person_id)
                           .join(f, and_(f.c.model_version == model_version, f.c.segment == persons.c.segment,
                                         f.c.variable == count_var))))
    d = ref_risk_demographic
    demo = (select(persons.c.person_id, literal(0.0), literal(0.0), literal(0.0), d.c.coefficient)
            .select_from(persons.join(d, and_(d.c.model_version == model_version, d.c.segment == persons.c.segment,
                                              d.c.sex == persons.c.sex, d.c.age_min <= persons.c.age,
                                              d.c.age_max >= persons.c.age))))
    base = select(persons.c.person_id, literal(0.0).label("disease"), literal(0.0).label("inter"),
                  literal(0.0).label("cnt"), literal(0.0).label("demo"))
    parts = union_all(base, disease, inter, counts, demo).subquery("parts")
    agg = (select(parts.c.person_id, func.sum(parts.c.demo).label("demo"), func.sum(parts.c.disease).label("disease"),
                  func.sum(parts.c.inter).label("inter"), func.sum(parts.c.cnt).label("cnt"))
           .group_by(parts.c.person_id).subquery("agg"))
    raw = agg.c.demo + agg.c.disease + agg.c.inter + agg.c.cnt
    conn.execute(insert(risk_score).from_select(
        ["year", "person_id", "model_version", "segment", "demographic_score", "disease_score", "interaction_score",
         "count_score", "raw_score", "normalized_score"],
        select(literal(year, Integer), agg.c.person_id, literal(model_version), persons.c.segment,
               agg.c.demo, agg.c.disease, agg.c.inter, agg.c.cnt, raw, raw / literal(float(normalization), Double))
        .select_from(agg.join(persons, persons.c.person_id == agg.c.person_id))))
    cats.drop(conn)
    return conn.execute(select(func.count()).select_from(risk_score).where(
        risk_score.c.year == year, risk_score.c.model_version == model_version)).scalar_one()


def score_year(engine: Engine, config, year: int) -> dict:
    """Rebuild risk_score rows of `year` for the configured risk model (CMS-HCC blend or a custom model)."""
    cfg = PopulationConfig.from_any(config)
    r: RiskConfig = cfg.cost.risk_adjustment
    if r.model == "none":
        return {"year": year, "model": "none"}
    if r.model == "CMS-HCC":
        load_reference(engine)
        models_w = dict(r.blend) or {"CMS-HCC-V24": 1.0}
    else:
        if not r.custom_name:
            raise ValueError("cost.risk_adjustment.custom_name is required when the model is 'custom'")
        models_w = {f"custom:{r.custom_name}": 1.0}
    out = {"year": year, "models": {}}
    with engine.begin() as conn:
        conn.execute(delete(risk_score).where(risk_score.c.year == year))
        persons = _persons(conn, year, cfg.payer_scope, segmented=(r.model == "CMS-HCC"))
        for mv in models_w:
            norm = r.normalization.get(mv, 1.0) if r.normalize else 1.0
            out["models"][mv] = score_model(conn, mv, year, persons, norm)
        weighted = {c: sum((case((risk_score.c.model_version == mv, risk_score.c[c]), else_=0.0) * w
                            for mv, w in models_w.items()), literal(0.0))
                    for c in ("demographic_score", "disease_score", "interaction_score", "count_score", "raw_score",
                              "normalized_score")}
        blend = (select(literal(year, Integer), risk_score.c.person_id, literal("BLEND"), func.min(risk_score.c.segment),
                        *[func.sum(weighted[c]) for c in weighted])
                 .where(risk_score.c.year == year, risk_score.c.model_version.in_(list(models_w)))
                 .group_by(risk_score.c.person_id))
        conn.execute(insert(risk_score).from_select(
            ["year", "person_id", "model_version", "segment", *weighted], blend))
        persons.drop(conn)
        out["persons"] = conn.execute(select(func.count()).select_from(risk_score).where(
            risk_score.c.year == year, risk_score.c.model_version == "BLEND")).scalar_one()
    return out
