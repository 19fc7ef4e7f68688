"""The load report names the detected version of every format: Synthea release and claims shape, DE-SynPUF
release/years/sample, payer layout version and checksum (Tuva: tests/formats/test_tuva_versions.py); the CLI's
JSON carries it per file."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.cli.conftest import run_icm
from tests.conftest import FIXTURES
from warehouse.formats import discover
from warehouse.formats.layout import LAYOUT_DIR

SYNTHEA = FIXTURES / "synthea_versions"


@pytest.mark.parametrize("folder, version", [
    ("v2_7", "Synthea up to 2.7; no claims.csv (no medical claims)"),
    ("v3_0_claims_only", "Synthea 3.0; claims.csv without claims_transactions.csv (one line per claim, from its "
                         "encounter)"),
    ("v3_1", "Synthea 3.1+; claims.csv with claims_transactions.csv (one line per charge)"),
])
def test_synthea_release_and_claims_shape_are_reported(folder, version):
    sources = discover(SYNTHEA / folder, "synthea")
    assert {s.notes["format_version"] for s in sources} == {version}


def test_desynpuf_release_years_and_sample_come_from_the_cms_file_name(tmp_path):
    versions = {s.path.name: s.notes["format_version"] for s in discover(FIXTURES / "desynpuf", "desynpuf")}
    assert versions["DE1_0_2009_Beneficiary_Summary_File_Sample_0.csv"] == "CMS DE-SynPUF DE1.0, 2009, sample 0"
    assert versions["DE1_0_2008_to_2010_Carrier_Claims_Sample_0B.csv"] == "CMS DE-SynPUF DE1.0, 2008-2010, sample 0B"
    short = tmp_path / "short"
    short.mkdir()
    shutil.copy(FIXTURES / "desynpuf" / "DE1_0_2008_to_2010_Inpatient_Claims_Sample_0.csv",
                short / "inpatient_claims.csv")
    [source] = discover(short, "desynpuf")
    assert source.notes["format_version"].startswith("CMS DE-SynPUF DE1.0 (short file name")


def test_payer_layout_reports_its_stated_version_and_checksum(tmp_path):
    text = (LAYOUT_DIR / "bluestem_mco.yaml").read_text()
    (tmp_path / "members_2024.txt").write_text("MPI|MEMBER_NO\n")
    [unversioned] = [s for s in discover(tmp_path, "layout", layout="bluestem_mco") if s.target == "eligibility"]
    assert unversioned.notes["format_version"].startswith("layout bluestem_mco (no version stated), layout file sha256 ")
    versioned = tmp_path / "bluestem_v2.yaml"
    versioned.write_text("version: extract spec 2.3\n" + text)
    [source] = [s for s in discover(tmp_path, "layout", layout=str(versioned)) if s.target == "eligibility"]
    assert source.notes["format_version"].startswith("layout bluestem_mco extract spec 2.3, layout file sha256 ")
    assert source.notes["format_version"][-12:] != unversioned.notes["format_version"][-12:]


def test_cli_load_report_names_the_version_of_each_file(tmp_path):
    result = run_icm("load", "--format", "synthea", str(SYNTHEA / "v3_0_claims_only"),
                     "--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}", "--no-derive")
    assert result.code == 0, result.err
    files = json.loads(result.out)["files"]
    assert {f["notes"]["format_version"] for f in files} == {
        "Synthea 3.0; claims.csv without claims_transactions.csv (one line per claim, from its encounter)"}
    assert all(f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] for f in files)
    assert all(sum(f["enrollment_match"].values()) == f["rows_loaded"] for f in files if f["target_table"] != "eligibility")
