"""Every subcommand against a table of bad inputs (issue 21 item 10, issue 24 item 6): each run ends with the
documented exit code (2: bad input; README "Exit codes"), exactly one line on stderr naming what is wrong, no
traceback, no exception class name, and nothing written (no file created or changed, the warehouse untouched)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import FIXTURES, run_icm

# what a user must never see
RAW = re.compile(r"Traceback|\b\w+(Error|Exception)\b|Catalog Error|IO Error|\b(psycopg|sqlalchemy|duckdb)\.(errors|exc|[A-Z])|errno",
                 re.I)
GOOD_METHOD = {"id": "t", "benchmark": {"base_years": [2016], "base_weights": [1]}}
SETTLE_CSV = ("entity_id,performance_year,track,assigned_beneficiaries,total_benchmark,total_expenditure,"
              "quality_score,met_quality_standard,msr_choice\nA1,2018,track1,9139,100000000,90000000,0.9,1,\n")


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Path:
    """Bad (and a few good) input files, made once; every case checks that none of them changes."""
    d = tmp_path_factory.mktemp("inputs")
    (d / "folder").mkdir()
    (d / "empty_folder").mkdir()
    (d / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (d / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (d / "binary.yaml").write_bytes(b"\x00\x01\x02\xff\xfe" * 20)
    (d / "latin1.csv").write_bytes(SETTLE_CSV.replace("A1", "Ré").encode("latin-1"))
    (d / "empty.csv").write_text("")
    (d / "good.csv").write_text(SETTLE_CSV)
    (d / "bad_row.csv").write_text(SETTLE_CSV.replace("track1", "track7"))
    (d / "broken.yaml").write_text("id: t\nbenchmark:\n  base_years: [2016\n  base_weights: [1]\n")
    (d / "tabs.yaml").write_text("id: t\n\tbenchmark: {}\n")
    (d / "list.yaml").write_text("- a\n- b\n")
    (d / "good.yaml").write_text(yaml.safe_dump(GOOD_METHOD))
    (d / "unknown_key.yaml").write_text(yaml.safe_dump({**GOOD_METHOD, "attribution": {"min_enrolment_monthz": 3}}))
    (d / "unknown_top.yaml").write_text(yaml.safe_dump({**GOOD_METHOD, "benchmarkz": {}}))
    (d / "bad_value.yaml").write_text(yaml.safe_dump({**GOOD_METHOD, "settlement": {"max_share_rate": "lots"}}))
    (d / "population_unknown.yaml").write_text(yaml.safe_dump({"attribution": {"min_enrolment_monthz": 3}}))
    (d / "not_duckdb.duckdb").write_bytes(b"this is not a database" * 100)
    binary_tuva = d / "binary_tuva"
    binary_tuva.mkdir()
    for name in ("eligibility.csv", "medical_claim.csv", "pharmacy_claim.csv"):
        (binary_tuva / name).write_bytes(b"\x00\xff\xfe" * 300)
    return d


@pytest.fixture(scope="session")
def schemaless_warehouse(tmp_path_factory) -> Path:
    import duckdb

    path = tmp_path_factory.mktemp("schemaless") / "empty.duckdb"
    duckdb.connect(str(path)).close()
    return path


@pytest.fixture(scope="session")
def behind_warehouse(tmp_path_factory) -> Path:
    from warehouse.engine import upgrade

    path = tmp_path_factory.mktemp("behind") / "old.duckdb"
    upgrade(f"duckdb:///{path}", "0002")
    return path


# (id, argv, a fragment the one line must contain). {W}: the loaded warehouse URL; {I}: the inputs folder;
# {S}/{B}: warehouses without a schema / with an old schema; {T}: this test's own empty folder.
CASES = [
    # --- measures
    ("measures-year-1800", "measures --year 1800 --warehouse {W}", "holds 2016-2018"),
    ("measures-year-future", "measures --year 2031 --warehouse {W}", "no enrollment in 2031"),
    ("measures-year-text", "measures --year abc --warehouse {W}", "--year"),
    ("measures-year-5-digits", "measures --year 20250 --warehouse {W}", "four-digit year"),
    ("measures-no-year", "measures --warehouse {W}", "--year"),
    ("measures-unknown-id", "measures --year 2017 --measure NOPE --warehouse {W}", "known ids: "),
    ("measures-one-unknown-of-two", "measures --year 2017 --measure FUH-HH XYZ-HH --warehouse {W}", "XYZ-HH"),
    ("measures-missing-warehouse", "measures --year 2017 --warehouse duckdb:///{T}/w.duckdb", "no warehouse at"),
    ("measures-mistyped-path", "measures --year 2017 --warehouse duckdb:///{T}/typo/dir/w.duckdb", "icm migrate"),
    ("measures-pqi-scope-unknown", "measures --year 2017 --pqi-payer-scope medicare_only --warehouse {W}",
     "--pqi-payer-scope"),
    ("measures-options-unknown-field", "measures --year 2017 --options {I}/population_unknown.yaml --warehouse {W}",
     "--options: unknown field 'attribution'"),
    ("measures-options-missing", "measures --year 2017 --options {T}/none.yaml --warehouse {W}", "no such file"),
    ("measures-mysql-url", "measures --year 2017 --warehouse mysql://u:p@localhost/db", "unsupported database"),
    ("measures-not-a-url", "measures --year 2017 --warehouse not-a-url", "not a database URL"),
    ("measures-pg-unreachable", "measures --year 2017 --warehouse postgresql+psycopg://icm@127.0.0.1:9/x",
     "cannot reach the PostgreSQL server"),
    ("measures-warehouse-is-folder", "measures --year 2017 --warehouse duckdb:///{I}/folder", "is a folder"),
    ("measures-warehouse-not-duckdb", "measures --year 2017 --warehouse duckdb:///{I}/not_duckdb.duckdb",
     "not a DuckDB"),
    ("measures-memory", "measures --year 2017 --warehouse duckdb:///:memory:", "in-memory"),
    ("measures-no-schema", "measures --year 2017 --warehouse duckdb:///{S}", "icm migrate"),
    ("measures-old-schema", "measures --year 2017 --warehouse duckdb:///{B}", "icm migrate"),
    ("measures-value-sets-missing", "measures --year 2017 --licensed-value-sets {T}/vsd --warehouse {W}",
     "--licensed-value-sets"),
    ("measures-value-sets-file", "measures --year 2017 --licensed-value-sets {I}/good.csv --warehouse {W}",
     "expected a folder"),
    ("measures-format", "measures --year 2017 --format xml --warehouse {W}", "--format"),
    ("measures-lock-timeout", "measures --year 2017 --lock-timeout -1 --warehouse {W}", "--lock-timeout"),
    ("measures-list-and-year", "measures --list --year 2017", "not allowed with"),
    # --- settle
    ("settle-year-1800", "settle --methodology {I}/good.yaml --year 1800 --warehouse {W}", "holds 2016-2018"),
    ("settle-unknown-preset", "settle --methodology no-such-preset --year 2017 --warehouse {W}", "unknown preset"),
    ("settle-track-selector", "settle --methodology mssp --year 2017 --warehouse {W}", "name one of its tracks"),
    ("settle-broken-yaml", "settle --methodology {I}/broken.yaml --year 2017 --warehouse {W}", "broken.yaml line"),
    ("settle-tab-yaml", "settle --methodology {I}/tabs.yaml --year 2017 --warehouse {W}", "tabs.yaml line 2"),
    ("settle-binary-yaml", "settle --methodology {I}/binary.yaml --year 2017 --warehouse {W}", "binary.yaml"),
    ("settle-list-yaml", "settle --methodology {I}/list.yaml --year 2017 --warehouse {W}", "mapping"),
    ("settle-missing-yaml", "settle --methodology {T}/m.yaml --year 2017 --warehouse {W}", "no such file"),
    ("settle-methodology-folder", "settle --methodology {I}/folder/ --year 2017 --warehouse {W}", "is a folder"),
    ("settle-unknown-key", "settle --methodology {I}/unknown_key.yaml --year 2017 --warehouse {W}",
     "attribution.min_enrolment_monthz"),
    ("settle-unknown-top-key", "settle --methodology {I}/unknown_top.yaml --year 2017 --warehouse {W}",
     "benchmarkz"),
    ("settle-bad-value", "settle --methodology {I}/bad_value.yaml --year 2017 --warehouse {W}",
     "settlement.max_share_rate"),
    ("settle-population-unknown-key",
     "settle --methodology {I}/good.yaml --population {I}/population_unknown.yaml --year 2017 --warehouse {W}",
     "min_enrolment_monthz"),
    ("settle-population-broken",
     "settle --methodology {I}/good.yaml --population {I}/broken.yaml --year 2017 --warehouse {W}", "broken.yaml"),
    ("settle-population-missing",
     "settle --methodology {I}/good.yaml --population {T}/p.yaml --year 2017 --warehouse {W}", "--population"),
    ("settle-no-methodology", "settle --year 2017 --warehouse {W}", "--methodology"),
    ("settle-no-year", "settle --methodology {I}/good.yaml --warehouse {W}", "--year"),
    ("settle-missing-warehouse", "settle --methodology {I}/good.yaml --year 2017 --warehouse duckdb:///{T}/w.duckdb",
     "no warehouse at"),
    ("settle-stored-missing-warehouse", "settle --stored --year 2017 --warehouse duckdb:///{T}/w.duckdb",
     "no warehouse at"),
    ("settle-format", "settle --methodology {I}/good.yaml --year 2017 --format xml --warehouse {W}", "--format"),
    # --- completion (reads only)
    ("completion-year-1800", "completion --year 1800 --warehouse {W}", "holds 2016-2018"),
    ("completion-runout-too-long", "completion --year 2017 --runout 30 --warehouse {W}", "0 to 24 months"),
    ("completion-runout-text", "completion --year 2017 --runout soon --warehouse {W}", "--runout"),
    ("completion-broken-yaml", "completion --year 2017 --methodology {I}/broken.yaml --warehouse {W}",
     "broken.yaml line"),
    ("completion-unknown-key", "completion --year 2017 --methodology {I}/unknown_key.yaml --warehouse {W}",
     "attribution.min_enrolment_monthz"),
    ("completion-missing-warehouse", "completion --year 2017 --warehouse duckdb:///{T}/w.duckdb", "no warehouse at"),
    ("completion-no-year", "completion --warehouse {W}", "--year"),
    # --- dur, mtm
    ("dur-products-no-source", "dur-products --out {T}/products.csv", "--ndc-directory"),
    ("dur-products-empty-folder", "dur-products --ndc-directory {T} --out {T}/products.csv", "product.txt"),
    ("evaluate-no-year", "evaluate --methodology {I}/broken.yaml --warehouse {W}", "--year"),
    ("evaluate-missing-methodology", "evaluate --year 2017 --methodology {T}/none.yaml --warehouse {W}", "none.yaml"),
    ("evaluate-year-1800", "evaluate --year 1800 --methodology {I}/good.yaml --warehouse {W}", "holds 2016-2018"),
    ("evaluate-missing-warehouse", "evaluate --year 2017 --methodology {I}/good.yaml --warehouse duckdb:///{T}/w.duckdb",
     "no warehouse at"),
    ("dur-year-1800", "dur --year 1800 --warehouse {W}", "holds 2016-2018"),
    ("dur-missing-warehouse", "dur --year 2017 --warehouse duckdb:///{T}/w.duckdb", "no warehouse at"),
    ("dur-broken-rules", "dur --year 2017 --rules {I}/broken.yaml --warehouse {W}", "broken.yaml"),
    ("dur-rules-unknown-key", "dur --year 2017 --rules {I}/unknown_top.yaml --warehouse {W}", "unknown_top.yaml"),
    ("dur-survey-ffy-text", "dur --year 2017 --survey-ffy next --warehouse {W}", "--survey-ffy"),
    ("mtm-year-1800", "mtm --year 1800 --preset minnesota_medicaid --warehouse {W}", "holds 2016-2018"),
    ("mtm-no-preset-for-year", "mtm --year 2017 --warehouse {W}", "no MTM preset 'part_d_2017'"),
    ("mtm-unknown-preset", "mtm --year 2017 --preset no_such_preset --warehouse {W}", "no_such_preset"),
    ("mtm-threshold-text", "mtm --year 2017 --threshold lots --warehouse {W}", "--threshold"),
    ("mtm-services-missing", "mtm --year 2017 --preset minnesota_medicaid --services {T}/services.csv --warehouse {W}",
     "services.csv"),
    # --- utilization, sample, no-utilization, feedback
    ("utilization-year-1800", "utilization --year 1800 --warehouse {W}", "holds 2016-2018"),
    ("utilization-broken-config", "utilization --year 2017 --config {I}/broken.yaml --warehouse {W}", "broken.yaml"),
    ("utilization-missing-warehouse", "utilization --year 2017 --warehouse duckdb:///{T}/w.duckdb", "no warehouse at"),
    ("sample-bad-month", "sample --month 2017-13 --warehouse {W}", "2017-13"),
    ("sample-month-1800", "sample --month 1800-01 --warehouse {W}", "holds 2016-2018"),
    ("sample-results-missing", "sample --month 2017-01 --import-results {T}/results.csv --warehouse {W}",
     "results.csv"),
    ("no-utilization-year-text", "no-utilization --year soon --warehouse {W}", "--year"),
    ("no-utilization-outreach-missing", "no-utilization --year 2017 --outreach {T}/outreach.csv --warehouse {W}",
     "outreach.csv"),
    ("feedback-no-out", "feedback --year 2017 --warehouse {W}", "--out"),
    ("feedback-year-1800", "feedback --year 1800 --out {T}/pages --warehouse {W}", "holds 2016-2018"),
    # --- settle-table
    ("table-binary-csv", "settle-table --preset mssp-2018 {I}/binary.csv {T}/out.csv", "binary"),
    ("table-latin1-csv", "settle-table --preset mssp-2018 {I}/latin1.csv {T}/out.csv", "UTF-8"),
    ("table-missing-csv", "settle-table --preset mssp-2018 {T}/in.csv {T}/out.csv", "no such file"),
    ("table-csv-is-folder", "settle-table --preset mssp-2018 {I}/folder {T}/out.csv", "is a folder"),
    ("table-out-folder-missing", "settle-table --preset mssp-2018 {I}/good.csv {T}/nofolder/out.csv",
     "does not exist"),
    ("table-out-is-folder", "settle-table --preset mssp-2018 {I}/good.csv {I}/folder", "is a folder"),
    ("table-out-is-input", "settle-table --preset mssp-2018 {I}/good.csv {I}/good.csv", "is the input file"),
    ("table-unknown-preset", "settle-table --preset nope {I}/good.csv {T}/out.csv", "unknown preset"),
    ("table-broken-yaml-preset", "settle-table --preset {I}/broken.yaml {I}/good.csv {T}/out.csv", "broken.yaml"),
    ("table-no-files", "settle-table --preset mssp-2018", "IN.csv"),
    ("table-no-preset", "settle-table {I}/good.csv {T}/out.csv", "--preset"),
    ("table-empty-csv", "settle-table --preset mssp-2018 {I}/empty.csv {T}/out.csv", "empty.csv"),
    ("table-bad-row", "settle-table --preset mssp-2018 {I}/bad_row.csv {T}/out.csv", "row 2"),
    # --- export
    ("export-year-1800", "export --year 1800 --warehouse {W} --out {T}/x", "holds 2016-2018"),
    ("export-missing-warehouse", "export --year 2017 --warehouse duckdb:///{T}/w.duckdb --out {T}/x",
     "no warehouse at"),
    ("export-no-year", "export --warehouse {W}", "--year"),
    ("export-out-is-file", "export --year 2017 --warehouse {W} --out {I}/good.csv", "expected a folder"),
    ("export-no-schema", "export --year 2017 --warehouse duckdb:///{S} --out {T}/x", "icm migrate"),
    ("export-pg-unreachable", "export --year 2017 --warehouse postgresql+psycopg://u:pw@127.0.0.1:9/x --out {T}/x",
     "cannot reach"),
    # --- load
    ("load-missing-folder", "load --format tuva {T}/landing --warehouse duckdb:///{T}/w.duckdb", "landing"),
    ("load-unknown-format", "load --format csv {I}/folder --warehouse duckdb:///{T}/w.duckdb", "--format"),
    ("load-unknown-layout", "load --format layout --layout nope {I}/folder --warehouse duckdb:///{T}/w.duckdb",
     "nope"),
    ("load-broken-layout", "load --format layout --layout {I}/broken.yaml {I}/folder "
     "--warehouse duckdb:///{T}/w.duckdb", "broken.yaml"),
    ("load-empty-folder", "load --format tuva {I}/empty_folder --warehouse duckdb:///{T}/w.duckdb", "empty_folder"),
    ("load-binary-files", "load --format tuva {I}/binary_tuva --warehouse duckdb:///{T}/w.duckdb", "binary_tuva"),
    ("load-warehouse-folder-missing", "load --format tuva " + str(FIXTURES / "tuva") +
     " --warehouse duckdb:///{T}/nofolder/w.duckdb", "does not exist"),
    ("load-no-path", "load --format tuva --warehouse duckdb:///{T}/w.duckdb", "path"),
    ("load-mysql", "load --format tuva " + str(FIXTURES / "tuva") + " --warehouse mysql://x@y/z", "unsupported"),
    # --- migrate
    ("migrate-mysql", "migrate --warehouse mysql://u:p@localhost/db", "unsupported database"),
    ("migrate-unknown-revision", "migrate nosuch --warehouse {W}", "nosuch"),
    ("migrate-folder-missing", "migrate --warehouse duckdb:///{T}/nofolder/w.duckdb", "does not exist"),
    ("migrate-warehouse-is-folder", "migrate --warehouse duckdb:///{I}/folder", "is a folder"),
    ("migrate-pg-unreachable", "migrate --warehouse postgresql+psycopg://icm:pw@127.0.0.1:9/x", "cannot reach"),
    # --- demo, ui, bench: options checked before anything runs
    ("demo-members-negative", "demo --members -5", "--members"),
    ("demo-members-zero", "demo --members 0", "--members"),
    ("demo-members-text", "demo --members lots", "--members"),
    ("demo-seed-text", "demo --seed x", "--seed"),
    ("demo-mysql", "demo --members 10 --warehouse mysql://u@h/db", "unsupported database"),
    ("ui-port-zero", "ui --port 0", "--port"),
    ("ui-port-too-big", "ui --port 70000", "--port"),
    ("ui-port-text", "ui --port http", "--port"),
    ("bench-members-text", "bench --members abc", "--members"),
    ("bench-members-zero", "bench --members 0", "--members"),
    ("bench-seed-negative", "bench --seed -1", "--seed"),
    # --- the command itself
    ("no-command", "", "COMMAND"),
    ("unknown-command", "frobnicate", "frobnicate"),
]


def _snapshot(*folders: Path) -> dict:
    return {str(p): hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for folder in folders for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("argv,fragment", [pytest.param(a, f, id=i) for i, a, f in CASES])
def test_bad_input_gives_one_line_and_exit_2(argv, fragment, inputs, loaded_warehouse, schemaless_warehouse,
                                            behind_warehouse, tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    argv = argv.format(W=f"duckdb:///{loaded_warehouse}", I=inputs, S=schemaless_warehouse, B=behind_warehouse,
                       T=own)
    watched = (inputs, loaded_warehouse.parent, schemaless_warehouse.parent, behind_warehouse.parent, own)
    before = _snapshot(*watched)
    result = run_icm(*argv.split())
    lines = result.err.strip().splitlines()
    assert result.code == 2, result.err
    assert len(lines) == 1, result.err
    assert lines[0].startswith("icm"), lines[0]
    assert fragment in lines[0], lines[0]
    assert not RAW.search(lines[0]), lines[0]
    assert "pw@" not in result.err and ":p@" not in result.err, "a password was shown"
    assert _snapshot(*watched) == before, "something was written"


def test_at_least_55_cases_cover_every_subcommand():
    from icm.cli import build_parser

    commands = {argv.split()[0] for _, argv, _ in CASES if argv}
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert len(CASES) >= 55 and set(subparsers.choices) <= commands


@pytest.mark.parametrize("case", ["measures-unknown-id", "settle-broken-yaml", "measures-pg-unreachable"])
def test_the_installed_command_behaves_the_same(case, inputs, loaded_warehouse, tmp_path):
    """A few of the cases through the `icm` console script in its own process (logging set up, real exit code)."""
    import subprocess
    import sys

    argv, fragment = next((a, f) for i, a, f in CASES if i == case)
    argv = argv.format(W=f"duckdb:///{loaded_warehouse}", I=inputs, T=tmp_path)
    proc = subprocess.run([str(Path(sys.executable).parent / "icm"), *argv.split()], capture_output=True, text=True,
                          timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and fragment in lines[0], proc.stderr
    assert not RAW.search(proc.stderr) and proc.stdout == ""
