"""A small generated state for notebooks and tests: one ACO program, five entities with different cost
trajectories (savings, inside the corridor, losses on both sides, capped savings), three years of claims.

    url = build_sample_warehouse("duckdb:///.icm/sample.duckdb", members=300, seed=7)

Written as canonical Tuva CSVs and loaded with the real loader, then settled with SAMPLE_METHODOLOGY for 2024.
Deterministic for a seed. Not a realistic state (see warehouse.synthetic for that): a fixture with known shape.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path

YEARS = (2022, 2023, 2024)
PERFORMANCE_YEAR = 2024
# entity -> (risk arrangement, performance-year cost factor vs trend)
ENTITIES = {"A1": ("one_sided", 0.80), "A2": ("two_sided", 0.95), "A3": ("one_sided", 1.00),
            "A4": ("two_sided", 1.12), "A5": ("one_sided", 0.90)}
DX = ["I10", "E119", "E1122", "I5022", "J449", "F329", "F200", "N184", "M545", "Z0000"]

SAMPLE_METHODOLOGY = {
    "id": "sample_aco",
    "program_id": "ACO1",
    "attribution": {"method": "plurality_primary_care", "lookback_months": 12, "min_enrollment_months": 3},
    "cost": {"truncation": {"type": "percentile", "percentile": 0.99},
             "risk_adjustment": {"model": "CMS-HCC", "cap_growth": 0.03}, "runout_months": 3},
    "benchmark": {"base_years": [-2, -1], "base_weights": [0.4, 0.6], "trend": {"value": 0.03}},
    "settlement": {"msr": 0.02, "max_share_rate": 0.5, "loss_share_rate": 0.5, "savings_cap_pct": 0.10,
                   "loss_cap_pct": 0.05, "settle_by": "combined"},
}


def _write(path: Path, rows: list[dict]) -> None:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def write_sample_feed(folder: Path, members: int = 300, seed: int = 7) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    providers, entities = [], []
    npis: dict[str, list[str]] = {}
    n = 1000000000
    for e, (risk, _) in ENTITIES.items():
        entities.append({"entity_id": e, "program_id": "ACO1", "entity_name": f"Sample ACO {e}", "tin": f"9{e}",
                         "risk_arrangement": risk})
        npis[e] = []
        for kind in ("pcp", "pcp", "specialist"):
            n += 1
            providers.append({"npi": str(n), "provider_type": kind, "icm_entity_id": e, "tin": f"9{e}"})
            npis[e].append(str(n))
    outside = []
    for _ in range(2):
        n += 1
        providers.append({"npi": str(n), "provider_type": "pcp", "icm_entity_id": "", "tin": f"8{n}"})
        outside.append(str(n))
    elig, med, rx = [], [], []
    cid = 0
    names = list(ENTITIES)
    for i in range(members):
        person = f"S{i:04d}"
        payer = "medicaid" if rng.random() < 0.8 else "mco"
        birth = dt.date(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28))
        group = "aged" if birth.year < 1959 else rng.choice(["adult_expansion", "blind_disabled", "parent_caretaker"])
        start = dt.date(2022, 1, 1) if rng.random() < 0.85 else dt.date(2022, rng.randint(2, 12), 1)
        elig.append({"person_id": person, "member_id": f"M{person}", "payer": payer, "plan": payer,
                     "payer_type": "medicaid", "enrollment_start_date": start.isoformat(),
                     "enrollment_end_date": "2024-12-31", "gender": rng.choice(["female", "male"]),
                     "birth_date": birth.isoformat(), "data_source": "sample", "eligibility_group": group,
                     "county_fips": rng.choice(["01001", "01003", "01005"])})
        home = rng.choice(names) if rng.random() < 0.9 else None
        frailty = rng.lognormvariate(0, 0.9)
        dxs = rng.sample(DX, rng.randint(1, 3))
        # one cost profile per person, repeated every year: year-to-year change = trend x entity factor
        n_visits, n_fills = rng.randint(1, 4), rng.randint(0, 6)
        ip = rng.uniform(6000, 18000) if rng.random() < 0.10 else 0
        ed, op = rng.random() < 0.25, rng.random() < 0.30
        for year in YEARS:
            factor = 1.03 ** (year - 2022) * frailty
            if year == PERFORMANCE_YEAR and home:
                factor *= ENTITIES[home][1]

            def claim(date, paid, **kw):
                nonlocal cid
                cid += 1
                row = {"claim_id": f"K{cid}", "claim_line_number": 1, "claim_type": kw.pop("claim_type", "professional"),
                       "person_id": person, "member_id": f"M{person}", "payer": payer, "plan": payer,
                       "claim_start_date": date.isoformat(), "claim_end_date": date.isoformat(),
                       "hcpcs_code": kw.pop("hcpcs", "99213"), "place_of_service_code": kw.pop("pos", "11"),
                       "diagnosis_code_type": "icd-10-cm", "diagnosis_code_1": kw.pop("dx", dxs[0]),
                       "paid_amount": f"{paid:.2f}", "allowed_amount": f"{paid * 1.1:.2f}",
                       "paid_date": (date + dt.timedelta(days=20)).isoformat(), "data_source": "sample"}
                for j, d in enumerate(dxs[1:], 2):
                    row[f"diagnosis_code_{j}"] = d
                row.update(kw)
                med.append(row)

            def day():
                d = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
                return max(d, start)

            for _ in range(n_visits):
                npi = rng.choice(npis[home][:2]) if home else rng.choice(outside)
                claim(day(), 95 * factor, rendering_npi=npi, billing_npi=npi)
            if ip:
                claim(day(), ip * factor, claim_type="institutional", bill_type_code="111",
                      revenue_center_code="0120", hcpcs="", pos="")
            if ed:
                claim(day(), 750 * factor, claim_type="institutional", bill_type_code="131",
                      revenue_center_code="0450", hcpcs="99283", pos="")
            if op:
                claim(day(), 400 * factor, claim_type="institutional", bill_type_code="131",
                      revenue_center_code="0300", hcpcs="80053", pos="")
            for _ in range(n_fills):
                cid += 1
                rx.append({"claim_id": f"R{cid}", "claim_line_number": 1, "person_id": person,
                           "member_id": f"M{person}", "payer": payer, "plan": payer,
                           "dispensing_date": day().isoformat(), "ndc_code": "00093104801", "days_supply": 30,
                           "quantity": 30, "paid_amount": f"{60 * factor:.2f}", "data_source": "sample"})
    _write(folder / "eligibility.csv", elig)
    _write(folder / "medical_claim.csv", med)
    _write(folder / "pharmacy_claim.csv", rx)
    _write(folder / "provider.csv", providers)
    _write(folder / "icm_entity.csv", entities)
    _write(folder / "icm_program.csv", [{"program_id": "ACO1", "program_name": "Sample ACO program",
                                         "program_type": "aco", "state": "XX"}])
    return folder


def _sample_quality(engine) -> None:
    """Entity-level FUH-style results so the quality step has inputs."""
    from sqlalchemy import delete, insert

    from measures.tables import measure_result
    rows = []
    for k, e in enumerate(ENTITIES):
        den = 40 + 5 * k
        num = int(den * (0.45 + 0.08 * k))
        rows.append({"measure_id": "FUH", "measurement_year": PERFORMANCE_YEAR, "rate_id": "7day",
                     "stratum_type": "entity", "stratum_value": e, "rate_type": "proportion", "numerator": num,
                     "denominator": den, "rate": num / den, "status": "sample", "computed_at": dt.datetime(2025, 4, 1)})
    with engine.begin() as conn:
        conn.execute(delete(measure_result).where(measure_result.c.status == "sample"))
        conn.execute(insert(measure_result), rows)


def build_sample_warehouse(url: str, members: int = 300, seed: int = 7) -> str:
    """Create (migrate), load, derive and settle a small sample warehouse at `url`; returns the URL."""
    from savings.population.run import settle_year
    from warehouse.derive import rebuild_final_action, rebuild_member_months
    from warehouse.engine import make_engine, upgrade
    from warehouse.formats import discover
    from warehouse.loading import load_sources

    upgrade(url)
    engine = make_engine(url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = write_sample_feed(Path(tmp) / "sample", members, seed)
            load_sources(engine, discover(folder, "tuva"))
        rebuild_final_action(engine)
        rebuild_member_months(engine)
        _sample_quality(engine)
        settle_year(engine, SAMPLE_METHODOLOGY, PERFORMANCE_YEAR)
    finally:
        engine.dispose()
    return url
