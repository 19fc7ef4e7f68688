"""Hand-built savings scenarios: canonical CSV feeds loaded with the real loader, then derived tables rebuilt."""
from __future__ import annotations

import csv
from pathlib import Path

from tests.warehouse.helpers import eligibility_row, medical_row, pharmacy_row, write_csv, write_feed
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources

PROVIDER_COLUMNS = ["npi", "taxonomy_code", "specialty", "provider_type", "is_mental_health_provider", "tin",
                    "organization_name", "icm_entity_id", "county_fips"]
ENTITY_COLUMNS = ["entity_id", "program_id", "entity_name", "tin", "risk_arrangement"]
PROGRAM_COLUMNS = ["program_id", "program_name", "program_type", "state"]


class Feed:
    """Collects rows, then writes and loads them into a warehouse."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.eligibility: list[dict] = []
        self.medical: list[dict] = []
        self.pharmacy: list[dict] = []
        self.providers: list[dict] = []
        self.entities: list[dict] = []
        self.programs: list[dict] = []
        self._n = 0
        self._npis: dict[str, str] = {}

    def npi(self, alias: str) -> str:
        """A 10-digit NPI for a short alias (N1 -> 1000000001)."""
        return self._npis.setdefault(alias, str(1000000000 + len(self._npis) + 1))

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def program(self, program_id="ACO1", program_type="aco"):
        self.programs.append({"program_id": program_id, "program_name": program_id, "program_type": program_type,
                              "state": "XX"})

    def entity(self, entity_id, program_id="ACO1", risk="one_sided", tin=None):
        self.entities.append({"entity_id": entity_id, "program_id": program_id, "entity_name": entity_id,
                              "tin": tin or f"T{entity_id}", "risk_arrangement": risk})

    def provider(self, npi, provider_type="pcp", entity=None, tin=None):
        self.providers.append({"npi": self.npi(npi), "provider_type": provider_type, "icm_entity_id": entity or "",
                               "tin": tin or (f"T{entity}" if entity else f"T{npi}"),
                               "is_mental_health_provider": "false"})

    def member(self, person, start="2024-01-01", end="2024-12-31", payer="medicaid", birth="1980-05-17",
               gender="female", **kw):
        payer_type = kw.pop("payer_type", "medicare" if payer == "medicare" else "medicaid")
        row = eligibility_row(person, payer=payer, start=start, end=end, payer_type=payer_type, **kw)
        row["birth_date"] = birth
        row["gender"] = gender
        self.eligibility.append(row)

    def visit(self, person, npi, date, code="99213", payer="medicaid", paid="100.00", **kw):
        cid = kw.pop("claim", None) or self._id("V")
        self.medical.append(medical_row(cid, 1, person, payer, date, hcpcs_code=code, rendering_npi=self.npi(npi),
                                        billing_npi=self.npi(npi), paid=paid, **kw))
        return cid

    def claim(self, person, date, paid, payer="medicaid", claim_type="professional", **kw):
        cid = kw.pop("claim", None) or self._id("C")
        self.medical.append(medical_row(cid, 1, person, payer, date, claim_type=claim_type, paid=paid, **kw))
        return cid

    def fill(self, person, date, paid, payer="medicaid"):
        self.pharmacy.append(pharmacy_row(self._id("R"), 1, person, payer, date, paid=paid))

    def load(self, url: str):
        write_feed(self.folder, self.eligibility, self.medical, self.pharmacy)
        if self.providers:
            write_csv(self.folder / "provider.csv", PROVIDER_COLUMNS, self.providers)
        if self.entities:
            write_csv(self.folder / "icm_entity.csv", ENTITY_COLUMNS, self.entities)
        if self.programs:
            write_csv(self.folder / "icm_program.csv", PROGRAM_COLUMNS, self.programs)
        engine = make_engine(url)
        reports = load_sources(engine, discover(self.folder, "tuva"))
        for r in reports:
            assert getattr(r, "rows_quarantined", 0) == 0, r
        rebuild_final_action(engine)
        rebuild_member_months(engine)
        return engine


def write_roster(path: Path, rows: list[tuple]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "entity_id", "start", "end"])
        w.writerows(rows)
    return path
