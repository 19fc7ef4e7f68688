"""The synthetic state generator: determinism, layout contracts, dirty rows and clinical patterns."""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
import yaml

from warehouse import canonical
from warehouse.synthetic import DEFAULT_FIRST_YEAR, DEFAULT_YEARS, generate
from warehouse.synthetic.generator import DIRTY_ELIGIBILITY, DIRTY_MEDICAL, DIRTY_PHARMACY

LAYOUT = Path(__file__).resolve().parents[2] / "warehouse" / "layouts" / "bluestem_mco.yaml"
CANONICAL_FOLDERS = ("medicaid_ffs", "mco_a", "medicare", "commercial")
MEMBERS = 4000


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "landing"
    summary = generate(out, members=MEMBERS, seed=7)
    return out, summary


@pytest.fixture(scope="module")
def db(landing):
    out, _ = landing
    con = duckdb.connect()
    for folder in CANONICAL_FOLDERS:
        for table in ("eligibility", "medical_claim", "pharmacy_claim"):
            con.execute(f"""CREATE OR REPLACE VIEW {folder}_{table} AS
                SELECT * FROM read_csv('{out / folder / (table + '.csv')}', all_varchar=true, header=true)""")
    for table in ("eligibility", "medical_claim", "pharmacy_claim"):
        con.execute(f"CREATE OR REPLACE VIEW all_{table} AS " + " UNION ALL BY NAME ".join(
            f"SELECT * FROM {f}_{table}" for f in CANONICAL_FOLDERS))
    con.execute(f"CREATE VIEW provider AS SELECT * FROM read_csv('{out / 'reference' / 'provider.csv'}', all_varchar=true)")
    return con


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_deterministic_and_seed_sensitive(tmp_path):
    a = generate(tmp_path / "a", members=1500, seed=3)
    b = generate(tmp_path / "b", members=1500, seed=3)
    c = generate(tmp_path / "c", members=1500, seed=4)
    ha, hb, hc = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(tmp_path / "c")
    assert ha == hb
    assert len(ha) == 19  # with mtm/mtm_services.csv (warehouse/synthetic/pharmacy_cases.py)
    differing = [k for k in ha if ha[k] != hc[k]]
    assert len(differing) >= 15          # reference/icm_program.csv is the same for every seed
    assert a["files"] == b["files"] and a["dirty"] == b["dirty"]
    assert c["files"] != a["files"]


def test_rows_scale_linearly(tmp_path):
    small = generate(tmp_path / "s", members=1500, seed=5)["rows"]
    big = generate(tmp_path / "b", members=6000, seed=5)["rows"]
    for k in ("medical_claim", "pharmacy_claim", "eligibility"):
        assert 3.2 < big[k] / small[k] < 4.8, (k, small[k], big[k])


def test_summary_is_json_and_complete(landing):
    out, s = landing
    assert set(s["members_per_payer"]) == {"medicaid_ffs", "mco_aurora", "mco_bluestem", "medicare_ffs", "commercial_acme"}
    assert all(v > 0 for v in s["members_per_payer"].values())
    for rel, n in s["files"].items():
        assert (out / rel).exists() and n > 0
    assert s["seconds"] >= 0 and s["adjustments"]["families"] > 0


def test_every_file_parses(landing):
    out, s = landing
    con = duckdb.connect()
    for rel, n in s["files"].items():
        path = out / rel
        delim = "|" if path.suffix == ".txt" else ","
        got = con.execute(f"SELECT count(*) FROM read_csv('{path}', delim='{delim}', header=true, all_varchar=true, "
                          f"strict_mode=true)").fetchone()[0]
        assert got == n, rel


def test_canonical_files_have_exactly_the_canonical_columns(landing):
    out, _ = landing
    expected = {
        "eligibility": canonical.TUVA_ELIGIBILITY + list(canonical.EXTRA_ELIGIBILITY_COLUMNS),
        "medical_claim": canonical.TUVA_MEDICAL_CLAIM + list(canonical.EXTRA_MEDICAL_COLUMNS),
        "pharmacy_claim": canonical.TUVA_PHARMACY_CLAIM + list(canonical.EXTRA_PHARMACY_COLUMNS),
    }
    for folder in CANONICAL_FOLDERS:
        for table, cols in expected.items():
            header = (out / folder / f"{table}.csv").open().readline().rstrip("\n").split(",")
            assert header == cols, (folder, table)
    from warehouse.models import metadata
    for ref in canonical.REFERENCE_FILES:
        header = (out / "reference" / f"{ref}.csv").open().readline().rstrip("\n").split(",")
        assert header == [c.name for c in metadata.tables[ref].columns if c.name != "batch_id"]


def test_data_sources_and_payer_types(db):
    rows = dict(db.execute("SELECT data_source, string_agg(DISTINCT payer_type) FROM all_eligibility GROUP BY 1").fetchall())
    assert rows == {"medicaid_ffs": "medicaid", "mco_aurora": "medicaid", "medicare_ffs": "medicare",
                    "commercial_acme": "commercial"}
    codes = {r[0] for r in db.execute("SELECT DISTINCT dual_status_code FROM medicare_eligibility").fetchall()}
    assert {"02", "04", "08"} <= codes
    codes = {r[0] for r in db.execute("SELECT DISTINCT medicare_status_code FROM medicare_eligibility").fetchall()}
    assert {"10", "20"} <= codes


def test_layout_yaml_matches_bluestem_files(landing):
    out, _ = landing
    layout = yaml.safe_load(LAYOUT.read_text())
    assert layout["data_source"] == "mco_bluestem" and layout["delimiter"] == "|"
    required = {
        "eligibility": {"person_id", "member_id", "gender", "birth_date", "enrollment_start_date", "enrollment_end_date",
                        "payer", "plan", "payer_type"},
        "medical_claim": {"claim_id", "claim_line_number", "person_id", "member_id", "claim_type", "claim_start_date",
                          "claim_end_date", "payer", "plan", "paid_amount", "allowed_amount", "diagnosis_code_1",
                          "hcpcs_code", "claim_adjustment_type", "original_claim_id", "adjustment_sequence"},
        "pharmacy_claim": {"claim_id", "claim_line_number", "person_id", "member_id", "dispensing_date", "ndc_code",
                           "payer", "plan", "paid_amount", "days_supply"},
    }
    canon = {"eligibility": canonical.TUVA_ELIGIBILITY + list(canonical.EXTRA_ELIGIBILITY_COLUMNS),
             "medical_claim": canonical.TUVA_MEDICAL_CLAIM + list(canonical.EXTRA_MEDICAL_COLUMNS),
             "pharmacy_claim": canonical.TUVA_PHARMACY_CLAIM + list(canonical.EXTRA_PHARMACY_COLUMNS)}
    for target, spec in layout["files"].items():
        files = sorted((out / "mco_b").glob(spec["pattern"]))
        assert len(files) == 1, target
        header = set(files[0].open().readline().rstrip("\n").split("|"))
        for canon_col, src in spec["columns"].items():
            assert canon_col in canon[target], (target, canon_col)
            if isinstance(src, str):
                assert src in header, (target, src)
            elif "column" in src:
                assert src["column"] in header, (target, src)
            else:
                assert "const" in src
        assert required[target] <= set(spec["columns"]), (target, required[target] - set(spec["columns"]))
    # the loader's own model accepts it
    from warehouse.formats.layout import load_layout
    assert load_layout(str(LAYOUT)).layout == "bluestem_mco"


def test_bluestem_values_map_to_canonical(landing):
    out, _ = landing
    con = duckdb.connect()
    members = next((out / "mco_b").glob("members_*.txt"))
    sexes = {r[0] for r in con.execute(f"SELECT DISTINCT SEX FROM read_csv('{members}', delim='|', all_varchar=true)").fetchall()}
    assert sexes == {"1", "2"}
    enc = next((out / "mco_b").glob("encounters_*.txt"))
    r = con.execute(f"""SELECT count(*) FILTER (WHERE regexp_matches(FROM_DT, '^[0-9]{{2}}/[0-9]{{2}}/[0-9]{{4}}$')) * 1.0 / count(*),
                        count(*) FILTER (WHERE ALLOWED_AMT LIKE '$%') * 1.0 / count(*)
                        FROM read_csv('{enc}', delim='|', all_varchar=true)""").fetchone()
    assert r[0] > 0.99 and r[1] == 1.0


def test_persons_with_two_payers(db):
    dual = db.execute("""SELECT count(DISTINCT m.person_id) FROM medicare_eligibility m
                         JOIN (SELECT person_id FROM medicaid_ffs_eligibility UNION SELECT person_id FROM mco_a_eligibility) d
                         USING (person_id)""").fetchone()[0]
    churn = db.execute("""SELECT count(DISTINCT c.person_id) FROM commercial_eligibility c
                          JOIN (SELECT person_id FROM medicaid_ffs_eligibility UNION SELECT person_id FROM mco_a_eligibility) d
                          USING (person_id)""").fetchone()[0]
    switch = db.execute("""SELECT count(DISTINCT person_id) FROM medicaid_ffs_eligibility
                           JOIN mco_a_eligibility USING (person_id)""").fetchone()[0]
    assert dual > 20 and churn > 20 and switch > 20
    # member ids differ between payers for the same person
    same = db.execute("""SELECT count(*) FROM medicare_eligibility m JOIN medicaid_ffs_eligibility d USING (person_id)
                         WHERE m.member_id = d.member_id""").fetchone()[0]
    assert same == 0


def test_no_overlapping_spans_within_payer(db):
    n = db.execute("""SELECT count(*) FROM (
        SELECT data_source, person_id, TRY_CAST(enrollment_start_date AS DATE) s, TRY_CAST(enrollment_end_date AS DATE) e,
               lag(TRY_CAST(enrollment_end_date AS DATE)) OVER (PARTITION BY data_source, person_id
                   ORDER BY TRY_CAST(enrollment_start_date AS DATE)) prev_e
        FROM all_eligibility WHERE TRY_CAST(enrollment_start_date AS DATE) <= TRY_CAST(enrollment_end_date AS DATE)
          AND (death_date IS NULL OR death_date >= birth_date))
        WHERE prev_e >= s""").fetchone()[0]
    # dirty copies are the only overlaps, and they are invalid rows excluded above
    assert n == 0


def test_dirty_row_kinds_each_occur(landing, db):
    out, s = landing
    for k in set(DIRTY_MEDICAL) | set(DIRTY_PHARMACY):
        assert s["dirty"].get(k, 0) > 0, k
    for k in DIRTY_ELIGIBILITY:
        assert s["dirty"]["eligibility_" + k] > 0, k
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    assert q("SELECT count(*) FROM all_medical_claim WHERE claim_start_date = '2024-02-30'") > 0
    assert q("SELECT count(*) FROM all_medical_claim WHERE claim_end_date < claim_start_date "
             "AND claim_start_date <> '2024-02-30'") > 0
    assert q("SELECT count(*) FROM all_medical_claim WHERE diagnosis_code_1 IN ('XYZ12', 'F3')") > 0
    assert q("SELECT count(*) FROM all_medical_claim WHERE hcpcs_code IN ('99X13', '9921')") > 0
    assert q("SELECT count(*) FROM all_pharmacy_claim WHERE length(ndc_code) = 9") > 0
    assert q("SELECT count(*) FROM all_medical_claim WHERE claim_id IS NULL") > 0
    assert q("SELECT count(*) FROM all_medical_claim WHERE person_id IS NULL AND member_id IS NULL") > 0
    assert q("SELECT count(*) FROM all_medical_claim WHERE CAST(paid_amount AS DOUBLE) < 0 "
             "AND claim_adjustment_type = 'original'") > 0
    assert q("""SELECT count(*) FROM (SELECT data_source, claim_id, claim_line_number FROM all_medical_claim
                WHERE claim_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1)""") > 0
    # claims for people never enrolled with that payer
    assert q("""SELECT count(*) FROM all_medical_claim c WHERE c.person_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM all_eligibility e WHERE e.person_id = c.person_id AND e.data_source = c.data_source)""") > 0
    total = q("SELECT count(*) FROM all_medical_claim")
    dirty_med = sum(s["dirty"][k] for k in DIRTY_MEDICAL)
    assert 0.003 < dirty_med / (total + s["files"][next(k for k in s["files"] if "encounters_" in k)]) < 0.01


def test_clean_claim_headers_consistent_across_lines(db):
    n = db.execute("""SELECT count(*) FROM (
        SELECT data_source, claim_id FROM all_medical_claim
        WHERE claim_id IS NOT NULL AND person_id IS NOT NULL
        GROUP BY data_source, claim_id
        HAVING count(DISTINCT (person_id, claim_type, claim_start_date, claim_end_date, coalesce(bill_type_code, ''),
                               coalesce(diagnosis_code_1, ''), coalesce(admission_date, ''), coalesce(discharge_date, ''))) > 1)""").fetchone()[0]
    assert n == 0


def test_adjustment_and_void_convention(db):
    con = db
    bad = con.execute("""
        WITH v AS (SELECT * FROM all_medical_claim WHERE claim_adjustment_type <> 'original' AND claim_id IS NOT NULL)
        SELECT count(*) FROM v WHERE NOT EXISTS (SELECT 1 FROM all_medical_claim o WHERE o.claim_id = v.original_claim_id
                                                 AND o.data_source = v.data_source AND o.claim_adjustment_type = 'original')""").fetchone()[0]
    assert bad == 0
    # a void's amounts are the negative of the version it cancels (here: voids with sequence 1 cancel the original)
    r = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE CAST(v.paid_amount AS DECIMAL(14,2)) = -CAST(o.paid_amount AS DECIMAL(14,2))
                                           AND CAST(v.allowed_amount AS DECIMAL(14,2)) = -CAST(o.allowed_amount AS DECIMAL(14,2)))
        FROM all_medical_claim v JOIN all_medical_claim o
          ON o.claim_id = v.original_claim_id AND o.data_source = v.data_source AND o.claim_line_number = v.claim_line_number
        WHERE v.claim_adjustment_type = 'void' AND v.adjustment_sequence = '1'""").fetchone()
    assert r[0] > 0 and r[0] == r[1]
    kinds = {row[0] for row in con.execute(
        "SELECT DISTINCT claim_adjustment_type || ':' || adjustment_sequence FROM all_pharmacy_claim").fetchall()}
    assert {"original:0", "replacement:1", "replacement:2", "void:1"} <= kinds
    later = con.execute("""SELECT count(*) FILTER (WHERE r.paid_date <= o.paid_date) FROM all_medical_claim r JOIN all_medical_claim o
        ON o.claim_id = r.original_claim_id AND o.data_source = r.data_source AND o.claim_line_number = r.claim_line_number
        WHERE r.claim_adjustment_type = 'replacement'""").fetchone()[0]
    assert later == 0


def test_amount_ordering(db):
    n = db.execute("""SELECT count(*) FROM all_medical_claim WHERE claim_adjustment_type = 'original'
        AND CAST(paid_amount AS DOUBLE) >= 0
        AND NOT (CAST(paid_amount AS DOUBLE) <= CAST(allowed_amount AS DOUBLE)
                 AND CAST(allowed_amount AS DOUBLE) <= CAST(charge_amount AS DOUBLE))""").fetchone()[0]
    assert n == 0


def test_reference_programs_entities_providers(landing, db):
    out, _ = landing
    con = duckdb.connect()
    prog = con.execute(f"SELECT program_id, program_type FROM read_csv('{out / 'reference' / 'icm_program.csv'}')").fetchall()
    assert dict(prog) == {"HH-SMI": "health_home_smi", "HH-SUD": "health_home_sud", "HH-CC": "health_home_chronic",
                          "ACO-1": "aco"}
    ent = con.execute(f"SELECT entity_id, program_id, risk_arrangement FROM read_csv('{out / 'reference' / 'icm_entity.csv'}', all_varchar=true)").fetchall()
    aco = [e for e in ent if e[1] == "ACO-1"]
    assert len(aco) == 6 and {e[2] for e in aco} == {"one_sided", "two_sided"}
    assert db.execute("SELECT count(*) FROM provider WHERE NOT regexp_matches(npi, '^[12][0-9]{9}$')").fetchone()[0] == 0
    types = {r[0] for r in db.execute("SELECT DISTINCT provider_type FROM provider").fetchall()}
    assert types == {"pcp", "specialist", "behavioral_health", "facility", "pharmacy"}
    # every ACO entity has attributed members and participating PCPs
    members = dict(db.execute("""SELECT icm_entity_id, count(DISTINCT person_id) FROM all_eligibility
                                 WHERE icm_program_id = 'ACO-1' GROUP BY 1""").fetchall())
    assert set(members) == {e[0] for e in aco}
    pcps = {r[0] for r in db.execute("SELECT DISTINCT icm_entity_id FROM provider WHERE provider_type = 'pcp'").fetchall()}
    assert {e[0] for e in aco} <= pcps
    hh = {r[0] for r in db.execute("SELECT DISTINCT health_home_program_id FROM all_eligibility").fetchall()}
    assert {"HH-SMI", "HH-SUD", "HH-CC"} <= hh
    ds = {r[0] for r in db.execute("SELECT DISTINCT delivery_system FROM all_eligibility").fetchall()}
    assert {"FFS", "MCO", "PCCM", "ICM"} <= ds


def test_mental_health_discharges_with_and_without_followup(db):
    db.execute("""CREATE OR REPLACE TEMP TABLE mh_dis AS
        SELECT DISTINCT person_id, CAST(discharge_date AS DATE) AS d FROM all_medical_claim
        WHERE bill_type_code = '0111' AND drg_code = '885' AND claim_adjustment_type = 'original'
          AND TRY_CAST(discharge_date AS DATE) IS NOT NULL""")
    db.execute("""CREATE OR REPLACE TEMP TABLE mh_visit AS
        SELECT DISTINCT c.person_id, CAST(c.claim_start_date AS DATE) AS v FROM all_medical_claim c
        JOIN provider p ON p.npi = c.rendering_npi WHERE p.is_mental_health_provider = 'true'
          AND c.claim_type = 'professional' AND TRY_CAST(c.claim_start_date AS DATE) IS NOT NULL""")
    r = db.execute("""SELECT count(*),
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM mh_visit v WHERE v.person_id = d.person_id AND v.v > d.d AND v.v <= d.d + 7)),
        count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM mh_visit v WHERE v.person_id = d.person_id AND v.v > d.d AND v.v <= d.d + 30)),
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM mh_visit v WHERE v.person_id = d.person_id AND v.v = d.d + 7)),
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM mh_visit v WHERE v.person_id = d.person_id AND v.v = d.d + 8)),
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM mh_visit v WHERE v.person_id = d.person_id AND v.v = d.d))
        FROM mh_dis d""").fetchone()
    total, within7, none30, day7, day8, same_day = r
    assert total > 50
    assert 0.1 < within7 / total < 0.9 and none30 > 5 and day7 > 0 and day8 > 0 and same_day > 0
    transfers = db.execute("""SELECT count(*) FROM all_medical_claim WHERE drg_code = '885'
                              AND discharge_disposition_code = '02'""").fetchone()[0]
    assert transfers > 0


def test_clinical_codes_present(db):
    def has(sql):
        return db.execute(sql).fetchone()[0] > 0

    assert has("SELECT count(*) FROM all_medical_claim WHERE revenue_center_code = '0450' AND diagnosis_code_1 LIKE 'F%'")
    assert has("SELECT count(*) FROM all_medical_claim WHERE place_of_service_code = '23' AND hcpcs_code LIKE '9928%'")
    assert has("SELECT count(*) FROM all_medical_claim WHERE diagnosis_code_1 IN ('T400X1A','T401X1A','T402X1A','T404X1A')")
    # methadone treatment (H0020, G2067) is rare (3 % of treated OUD): checked on the 20,000-member state below
    for code in ("H0001", "H0004", "H0005", "H0015", "H2035", "T1006", "90834", "J2315", "45378",
                 "G0121", "G0105", "82270", "81528", "G0328", "3074F", "3077F", "3079F", "G8431", "G8510", "99213"):
        assert has(f"SELECT count(*) FROM all_medical_claim WHERE hcpcs_code = '{code}'"), code
    assert has("SELECT count(*) FROM all_medical_claim WHERE hcpcs_code IN ('J0571','J0572','J0573','J0574','J0575','Q9991','Q9992')")
    for code in ("12496120203", "00054017613", "00406117001", "00406853201", "00228203010", "16729000101",
                 "00781522201", "00071015523", "00093111101", "00093104801", "00173068220"):
        assert has(f"SELECT count(*) FROM all_pharmacy_claim WHERE ndc_code = '{code}'"), code
    for dx in ("E1010", "J441", "I509", "J4551", "I10", "C189", "O80", "F1120"):
        assert has(f"SELECT count(*) FROM all_medical_claim WHERE diagnosis_code_1 = '{dx}'"), dx
    assert has("SELECT count(*) FROM all_medical_claim WHERE bill_type_code IN ('0211','0221') AND revenue_center_code IN ('0022','0191')")
    assert has("SELECT count(*) FROM all_medical_claim WHERE revenue_center_code = '0651'")
    assert has("SELECT count(*) FROM all_medical_claim WHERE place_of_service_code IN ('31','32')")
    # SNF stays in all three AIF length bands
    bands = db.execute("""SELECT DISTINCT CASE WHEN n <= 20 THEN 's' WHEN n <= 100 THEN 'm' ELSE 'l' END FROM (
        SELECT CAST(claim_end_date AS DATE) - CAST(admission_date AS DATE) AS n FROM all_medical_claim
        WHERE bill_type_code IN ('0211','0221') AND TRY_CAST(claim_start_date AS DATE) IS NOT NULL
          AND claim_end_date >= claim_start_date)""").fetchall()
    assert {b[0] for b in bands} == {"s", "m", "l"}
    # readmissions within 30 days
    assert has("""SELECT count(*) FROM (SELECT person_id, CAST(admission_date AS DATE) a,
                  lag(CAST(discharge_date AS DATE)) OVER (PARTITION BY person_id ORDER BY CAST(admission_date AS DATE)) pd
                  FROM (SELECT DISTINCT person_id, admission_date, discharge_date FROM all_medical_claim
                        WHERE bill_type_code = '0111' AND TRY_CAST(admission_date AS DATE) IS NOT NULL
                          AND TRY_CAST(discharge_date AS DATE) IS NOT NULL))
                  WHERE a - pd BETWEEN 1 AND 30""")


def test_high_dose_opioids_with_benzodiazepine_overlap(db):
    n = db.execute("""SELECT count(DISTINCT o.person_id) FROM all_pharmacy_claim o JOIN all_pharmacy_claim b
        ON b.person_id = o.person_id AND b.ndc_code IN ('00228203010', '00591024005')
        AND TRY_CAST(b.dispensing_date AS DATE) BETWEEN TRY_CAST(o.dispensing_date AS DATE)
            AND TRY_CAST(o.dispensing_date AS DATE) + 29
        WHERE o.ndc_code IN ('00406853201', '00406832601')""").fetchone()[0]
    assert n > 0


def test_staging_quarantines_the_dirty_rows(landing):
    """The loader's staging step (warehouse.staging) reads every file and quarantines the dirty kinds it can see."""
    from warehouse.pipeline import discover_landing
    from warehouse.staging import stage_file

    out, s = landing
    reasons: dict[str, int] = {}
    for src in discover_landing(out):
        staged = stage_file(src)
        assert staged.rows_staged > 0, src.path
        for k, v in staged.quarantine_reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    text = " | ".join(reasons)
    for needle in ("claim_start_date", "before claim_start_date", "diagnosis_code_1", "hcpcs_code", "ndc_code",
                   "duplicate", "negative paid_amount", "missing claim_id", "missing person_id",
                   "enrollment_start_date", "death_date before birth_date"):
        assert needle in text, needle


def test_aco_entities_spread_in_last_year(landing):
    """Per payer x eligibility cell, ACO entities cost what the non-ACO population costs, except in the last year,
    where each differs by its designed drift: some clearly cheaper, two inside +-2 %, the two-sided E06 dearer."""
    _, s = landing
    cal = s["aco_calibration"]
    target = cal["medicaid_pmpm_target"]
    assert target[1] / target[0] == pytest.approx(1.035, rel=0.02)   # cells grow 3.5 %; the payer mix shifts a little
    relative = {e: v["relative_to_state_by_year"] for e, v in cal.items() if e.startswith("ACO-1-")}
    last = {e: r[-1] - 1 for e, r in relative.items()}
    assert last["ACO-1-E01"] < -0.05 and last["ACO-1-E06"] > 0.05
    assert sum(abs(r) <= 0.02 for r in last.values()) >= 2
    for r in relative.values():
        assert r[:-1] == [1.0] * (len(r) - 1)


def test_aco_calibration_holds_in_the_written_files(tmp_path):
    """The calibration reaches the claims written: on the demo-sized state, each ACO entity's Medicaid FFS paid per
    member-month relative to the non-ACO PMPM of the same eligibility group and dual status shifts, from the base
    years to the last year, by the entity's designed drift (within the noise of counting months from spans)."""
    s = generate(tmp_path / "landing", members=20000, seed=42)
    ffs = tmp_path / "landing" / "medicaid_ffs"
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE elig AS SELECT person_id, icm_entity_id,
                      eligibility_group || CASE WHEN dual_status_code IS NULL THEN '' ELSE '/dual' END AS grp,
                      CAST(enrollment_start_date AS DATE) s, CAST(enrollment_end_date AS DATE) e
                    FROM read_csv('{ffs}/eligibility.csv', all_varchar=true)
                    WHERE TRY_CAST(enrollment_start_date AS DATE) IS NOT NULL
                      AND TRY_CAST(enrollment_end_date AS DATE) IS NOT NULL""")

    def relative_pmpm(year: int) -> dict[str, float]:
        return dict(con.execute(f"""
          WITH months AS (
            SELECT person_id, sum(datediff('month', greatest(s, DATE '{year}-01-01'), least(e, DATE '{year}-12-31')) + 1) mm
            FROM elig WHERE s <= DATE '{year}-12-31' AND e >= DATE '{year}-01-01' GROUP BY ALL),
          member AS (SELECT person_id, any_value(coalesce(icm_entity_id, '-')) ent, any_value(grp) grp FROM elig
                     GROUP BY person_id HAVING count(DISTINCT (coalesce(icm_entity_id, '-'), grp)) = 1),
          claims AS (SELECT person_id, paid_amount, claim_start_date AS day
                     FROM read_csv('{ffs}/medical_claim.csv', all_varchar=true)
                     UNION ALL SELECT person_id, paid_amount, dispensing_date
                     FROM read_csv('{ffs}/pharmacy_claim.csv', all_varchar=true)),
          paid AS (SELECT m.ent, m.grp, sum(TRY_CAST(c.paid_amount AS DOUBLE)) paid FROM claims c JOIN member m USING (person_id)
                   WHERE year(TRY_CAST(c.day AS DATE)) = {year} GROUP BY ALL),
          mms AS (SELECT ent, grp, sum(mm) mm FROM months JOIN member USING (person_id) GROUP BY ALL),
          cell AS (SELECT ent, grp, mm, paid FROM mms JOIN paid USING (ent, grp)),
          state AS (SELECT grp, paid / mm pmpm FROM cell WHERE ent = '-')
          SELECT ent, sum(cell.paid) / sum(cell.mm * state.pmpm) FROM cell JOIN state USING (grp)
          WHERE ent LIKE 'ACO-1-%' GROUP BY ent""").fetchall())

    years = list(range(DEFAULT_FIRST_YEAR, DEFAULT_FIRST_YEAR + DEFAULT_YEARS))
    base = [relative_pmpm(y) for y in years[:-1]]
    last = relative_pmpm(years[-1])
    drift = {e: v["relative_to_state_by_year"][-1] - 1 for e, v in s["aco_calibration"].items() if e.startswith("ACO-1-")}
    measured = {e: last[e] / (sum(b[e] for b in base) / len(base)) - 1 for e in last}
    assert set(measured) == set(drift)
    for e in drift:
        assert measured[e] == pytest.approx(drift[e], abs=0.06), (e, measured[e], drift[e])
    assert measured["ACO-1-E01"] < measured["ACO-1-E06"] - 0.1
    # the same demo-sized state carries methadone treatment (OUD-HH's opioid treatment programs), both codes
    codes = {c for (c,) in con.execute(f"""SELECT DISTINCT hcpcs_code FROM read_csv('{ffs}/medical_claim.csv',
                                              all_varchar=true) WHERE hcpcs_code IN ('H0020', 'G2067')""").fetchall()}
    assert codes == {"H0020", "G2067"}
