"""Warehouse schema: SQLAlchemy 2.0 typed models.

Layers (one way for data to flow):
  landing files -> loaders (warehouse.loading) -> core tables below
  -> derived tables (medical_claim_final, pharmacy_claim_final, member_month) built by warehouse.derive.

Keys are natural strings (DuckDB has no SERIAL). Money is NUMERIC(14,2); Python reads it as Decimal.
The claim tables follow the Tuva Project input layer (Apache-2.0) column names so Tuva-mapped files
load unchanged; columns beyond Tuva (adjustments, programs, code systems) are marked below.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MONEY = Numeric(14, 2)
N_DIAGNOSES = 25
N_PROCEDURES = 25
N_MODIFIERS = 5

metadata = MetaData()


class Base(DeclarativeBase):
    metadata = metadata


# --- reference: programs, entities, providers, persons -------------------------------------------


class IcmProgram(Base):
    """An Integrated Care Model program: a health home (SMI/SUD/chronic) or an ACO-like arrangement."""

    __tablename__ = "icm_program"
    program_id: Mapped[str] = mapped_column(String, primary_key=True)
    program_name: Mapped[str] = mapped_column(String)
    program_type: Mapped[str] = mapped_column(String)  # health_home_smi | health_home_sud | health_home_chronic | aco
    state: Mapped[str | None] = mapped_column(String)


class IcmEntity(Base):
    """A provider organisation that runs a program for its members (health-home provider, ACO)."""

    __tablename__ = "icm_entity"
    entity_id: Mapped[str] = mapped_column(String, primary_key=True)
    program_id: Mapped[str] = mapped_column(String)
    entity_name: Mapped[str] = mapped_column(String)
    tin: Mapped[str | None] = mapped_column(String)
    risk_arrangement: Mapped[str | None] = mapped_column(String)  # one_sided | two_sided


class Provider(Base):
    __tablename__ = "provider"
    npi: Mapped[str] = mapped_column(String, primary_key=True)
    taxonomy_code: Mapped[str | None] = mapped_column(String)
    specialty: Mapped[str | None] = mapped_column(String)
    provider_type: Mapped[str | None] = mapped_column(String)  # pcp | specialist | behavioral_health | facility | pharmacy
    is_mental_health_provider: Mapped[bool | None] = mapped_column(Boolean)
    tin: Mapped[str | None] = mapped_column(String)
    organization_name: Mapped[str | None] = mapped_column(String)
    icm_entity_id: Mapped[str | None] = mapped_column(String)
    county_fips: Mapped[str | None] = mapped_column(String)
    batch_id: Mapped[str | None] = mapped_column(String)


class Person(Base):
    """One human across payers. member_id is payer-specific and lives on enrollment and claims."""

    __tablename__ = "person"
    person_id: Mapped[str] = mapped_column(String, primary_key=True)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String)
    race: Mapped[str | None] = mapped_column(String)
    ethnicity: Mapped[str | None] = mapped_column(String)
    state: Mapped[str | None] = mapped_column(String)
    county_fips: Mapped[str | None] = mapped_column(String)
    zip_code: Mapped[str | None] = mapped_column(String)


class EnrollmentSpan(Base):
    __tablename__ = "enrollment_span"
    span_id: Mapped[str] = mapped_column(String, primary_key=True)
    person_id: Mapped[str] = mapped_column(String)
    member_id: Mapped[str] = mapped_column(String)
    data_source: Mapped[str] = mapped_column(String)
    payer: Mapped[str] = mapped_column(String)
    plan: Mapped[str] = mapped_column(String)
    payer_type: Mapped[str] = mapped_column(String)  # medicaid | medicare | commercial | self-insured
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    # beyond Tuva: Medicaid/ICM attributes
    eligibility_group: Mapped[str | None] = mapped_column(String)
    dual_status_code: Mapped[str | None] = mapped_column(String)
    medicare_status_code: Mapped[str | None] = mapped_column(String)
    delivery_system: Mapped[str | None] = mapped_column(String)  # FFS | MCO | PCCM | ICM
    health_home_program_id: Mapped[str | None] = mapped_column(String)
    icm_program_id: Mapped[str | None] = mapped_column(String)
    icm_entity_id: Mapped[str | None] = mapped_column(String)
    hospice_flag: Mapped[bool | None] = mapped_column(Boolean)
    long_term_institutional_flag: Mapped[bool | None] = mapped_column(Boolean)
    batch_id: Mapped[str | None] = mapped_column(String)


# --- claims: wide tables built from column lists (25 diagnoses, 25 procedures) --------------------


def _claim_header_columns(pk: bool = True) -> list[Column]:
    cols: list[Column] = [
        Column("claim_id", String, primary_key=pk, nullable=False),
        Column("data_source", String, primary_key=pk, nullable=False),
        # beyond Tuva: adjustments. family = the original claim id all adjustments point at.
        Column("claim_family_id", String, nullable=False),
        Column("adjustment_type", String, nullable=False),  # original | replacement | void
        Column("adjustment_sequence", Integer, nullable=False),
        Column("person_id", String, nullable=False),
        Column("member_id", String, nullable=False),
        Column("payer", String, nullable=False),
        Column("plan", String, nullable=False),
        Column("claim_type", String, nullable=False),  # institutional | professional | undetermined
        Column("bill_type_code", String),
        Column("claim_start_date", Date, nullable=False),
        Column("claim_end_date", Date, nullable=False),
        Column("admission_date", Date),
        Column("discharge_date", Date),
        Column("admit_source_code", String),
        Column("admit_type_code", String),
        Column("discharge_disposition_code", String),
        Column("drg_code_type", String),
        Column("drg_code", String),
        Column("diagnosis_code_type", String),  # icd-10-cm | icd-9-cm | snomed-ct
    ]
    for i in range(1, N_DIAGNOSES + 1):
        cols.append(Column(f"diagnosis_code_{i}", String))
    for i in range(1, N_DIAGNOSES + 1):
        cols.append(Column(f"diagnosis_poa_{i}", String))
    cols.append(Column("procedure_code_type", String))
    for i in range(1, N_PROCEDURES + 1):
        cols.append(Column(f"procedure_code_{i}", String))
    for i in range(1, N_PROCEDURES + 1):
        cols.append(Column(f"procedure_date_{i}", Date))
    cols += [
        Column("billing_npi", String),
        Column("billing_tin", String),
        Column("facility_npi", String),
        Column("paid_date", Date),
        Column("in_network_flag", Boolean),
        Column("paid_amount", MONEY),
        Column("allowed_amount", MONEY),
        Column("charge_amount", MONEY),
        Column("line_count", Integer, nullable=False),
        Column("batch_id", String, nullable=False),
    ]
    return cols


def _claim_line_columns(pk: bool = True) -> list[Column]:
    cols: list[Column] = [
        Column("claim_id", String, primary_key=pk, nullable=False),
        Column("data_source", String, primary_key=pk, nullable=False),
        Column("claim_line_number", Integer, primary_key=pk, nullable=False),
        Column("claim_line_start_date", Date),
        Column("claim_line_end_date", Date),
        Column("revenue_center_code", String),
        Column("service_code_type", String),  # beyond Tuva: hcpcs | snomed-ct (Synthea)
        Column("hcpcs_code", String),
    ]
    for i in range(1, N_MODIFIERS + 1):
        cols.append(Column(f"hcpcs_modifier_{i}", String))
    cols += [
        Column("place_of_service_code", String),
        Column("service_unit_quantity", Numeric(12, 3)),
        Column("rendering_npi", String),
        Column("rendering_tin", String),
        Column("paid_amount", MONEY),
        Column("allowed_amount", MONEY),
        Column("charge_amount", MONEY),
        Column("coinsurance_amount", MONEY),
        Column("copayment_amount", MONEY),
        Column("deductible_amount", MONEY),
        Column("batch_id", String, nullable=False),
    ]
    return cols


def _pharmacy_columns(pk: bool = True) -> list[Column]:
    return [
        Column("claim_id", String, primary_key=pk, nullable=False),
        Column("claim_line_number", Integer, primary_key=pk, nullable=False),
        Column("data_source", String, primary_key=pk, nullable=False),
        Column("claim_family_id", String, nullable=False),
        Column("adjustment_type", String, nullable=False),
        Column("adjustment_sequence", Integer, nullable=False),
        Column("person_id", String, nullable=False),
        Column("member_id", String, nullable=False),
        Column("payer", String, nullable=False),
        Column("plan", String, nullable=False),
        Column("prescribing_provider_npi", String),
        Column("dispensing_provider_npi", String),
        Column("dispensing_date", Date, nullable=False),
        Column("drug_code_type", String, nullable=False),  # beyond Tuva: ndc | rxnorm
        Column("ndc_code", String),  # holds the RxNorm CUI when drug_code_type = rxnorm
        Column("quantity", Numeric(12, 3)),
        Column("days_supply", Integer),
        Column("refills", Integer),
        Column("paid_date", Date),
        Column("paid_amount", MONEY),
        Column("allowed_amount", MONEY),
        Column("charge_amount", MONEY),
        Column("coinsurance_amount", MONEY),
        Column("copayment_amount", MONEY),
        Column("deductible_amount", MONEY),
        Column("in_network_flag", Boolean),
        Column("batch_id", String, nullable=False),
    ]


# Loaded claim tables carry no PRIMARY KEY constraint either (migration 0005): on DuckDB the key index made
# inserting a file's claims ~3x slower. Keys stay unique because the loader quarantines a key that repeats
# within a file ("duplicate of an earlier row in this file") or was loaded by an earlier batch ("... already
# loaded in an earlier batch"), and the Great Expectations key check (warehouse.quality) verifies it.
# The ORM still knows each table's key (mapper primary_key).


def _enrollment_match() -> Column:
    """Beyond Tuva, loaded claims only (migration 0010): matched | other payer | no enrollment | no enrollment,
    payer unknown | after death | not checked (warehouse.enrollment_match); NULL = loaded before 0010."""
    return Column("enrollment_match", String)


def _keyed(name: str, columns: list[Column], key: list[str]) -> tuple[Table, dict]:
    table = Table(name, metadata, *columns)
    return table, {"primary_key": [table.c[k] for k in key]}


class MedicalClaim(Base):
    """Claim header: one row per claim version (original, replacement or void)."""

    __table__, __mapper_args__ = _keyed("medical_claim", [*_claim_header_columns(pk=False), _enrollment_match()],
                                        ["claim_id", "data_source"])


class MedicalClaimLine(Base):
    __table__, __mapper_args__ = _keyed("medical_claim_line", _claim_line_columns(pk=False),
                                        ["claim_id", "data_source", "claim_line_number"])


class PharmacyClaim(Base):
    __table__, __mapper_args__ = _keyed("pharmacy_claim", [*_pharmacy_columns(pk=False), _enrollment_match()],
                                        ["claim_id", "claim_line_number", "data_source"])


# --- derived tables (rebuilt by warehouse.derive; never loaded directly) --------------------------
# No PRIMARY KEY constraints here: they are rebuilt wholesale by set-based SQL that yields unique keys by
# construction, uniqueness is verified by the GX asset checks, and DuckDB's index maintenance would make the
# rebuild several times slower. The ORM still knows each table's key (mapper primary_key).


def _derived(name: str, columns: list[Column], key: list[str]) -> tuple[Table, dict]:
    table = Table(name, metadata, *columns)
    return table, {"primary_key": [table.c[k] for k in key]}


class MedicalClaimFinal(Base):
    """Final-action claims: the last non-void version of each claim family, matched to enrollment."""

    __table__, __mapper_args__ = _derived(
        "medical_claim_final",
        [*_claim_header_columns(pk=False), Column("enrollment_span_id", String),
         Column("versions_in_family", Integer, nullable=False)],
        ["claim_id", "data_source"])


class MedicalClaimLineFinal(Base):
    __table__, __mapper_args__ = _derived("medical_claim_line_final", _claim_line_columns(pk=False),
                                          ["claim_id", "data_source", "claim_line_number"])


class PharmacyClaimFinal(Base):
    __table__, __mapper_args__ = _derived(
        "pharmacy_claim_final",
        [*_pharmacy_columns(pk=False), Column("enrollment_span_id", String),
         Column("versions_in_family", Integer, nullable=False)],
        ["claim_id", "claim_line_number", "data_source"])


class MemberMonth(Base):
    """Person x month x payer/plan enrollment: the base of every per-1,000-member-month rate and of cost."""

    __table__, __mapper_args__ = _derived("member_month", [
        Column("person_id", String, nullable=False),
        Column("month_start", Date, nullable=False),
        Column("data_source", String, nullable=False),
        Column("payer", String, nullable=False),
        Column("plan", String, nullable=False),
        Column("member_id", String, nullable=False),
        Column("payer_type", String, nullable=False),
        Column("enrollment_span_id", String, nullable=False),
        Column("eligibility_group", String),
        Column("dual_status_code", String),
        Column("medicare_status_code", String),
        Column("delivery_system", String),
        Column("health_home_program_id", String),
        Column("icm_program_id", String),
        Column("icm_entity_id", String),
        Column("hospice_flag", Boolean),
        Column("long_term_institutional_flag", Boolean),
        Column("age_at_month_start", Integer),
        Column("sex", String),
        Column("county_fips", String),
        Column("days_enrolled", Integer, nullable=False),
    ], ["person_id", "month_start", "data_source", "payer", "plan"])


# --- lineage: load batches and quarantine ----------------------------------------------------------


class LoadBatch(Base):
    """One input file loaded into one target table. Re-loading the same bytes is a no-op (checksum)."""

    __tablename__ = "load_batch"
    batch_id: Mapped[str] = mapped_column(String, primary_key=True)
    source_file: Mapped[str] = mapped_column(String)
    file_format: Mapped[str] = mapped_column(String)
    target_table: Mapped[str] = mapped_column(String)
    data_source: Mapped[str] = mapped_column(String)
    checksum_sha256: Mapped[str] = mapped_column(String)
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer)
    paid_amount_read: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    paid_amount_loaded: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime)


class QuarantineRow(Base):
    """A row that could not be loaded, with its reason and the raw text as read."""

    __tablename__ = "quarantine"
    batch_id: Mapped[str] = mapped_column(String, primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based data row in the source file
    source_file: Mapped[str] = mapped_column(String)
    target_table: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String)
    raw_row: Mapped[str] = mapped_column(String)


CORE_TABLES = ("person", "enrollment_span", "provider", "icm_program", "icm_entity",
               "medical_claim", "medical_claim_line", "pharmacy_claim")
DERIVED_TABLES = ("medical_claim_final", "medical_claim_line_final", "pharmacy_claim_final", "member_month")
