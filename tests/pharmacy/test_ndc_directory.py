"""The FDA NDC Directory loader (pharmacy/ndc_directory.py), the shipped reference built with it, and the one MME
factor source shared with OHD-AD. The directory files are written here in the published tab-delimited layout; the
NDC labeler codes 9998/99998 are made up for these tests."""
from __future__ import annotations

import csv
import json

import pytest

from icm.cli import main
from measures import mme
from measures.defs.pharmacy import mme_table
from pharmacy import reference as ref
from pharmacy.ndc_directory import NdcDirectoryError, ndc11, read_directory
from tests.pharmacy.scenario import D

PRODUCT_HEADER = ("PRODUCTID", "PRODUCTNDC", "PRODUCTTYPENAME", "PROPRIETARYNAME", "PROPRIETARYNAMESUFFIX",
                  "NONPROPRIETARYNAME", "DOSAGEFORMNAME", "ROUTENAME", "STARTMARKETINGDATE", "ENDMARKETINGDATE",
                  "MARKETINGCATEGORYNAME", "APPLICATIONNUMBER", "LABELERNAME", "SUBSTANCENAME",
                  "ACTIVE_NUMERATOR_STRENGTH", "ACTIVE_INGRED_UNIT", "PHARM_CLASSES", "DEASCHEDULE",
                  "NDC_EXCLUDE_FLAG", "LISTING_RECORD_CERTIFIED_THROUGH")
PACKAGE_HEADER = ("PRODUCTID", "PRODUCTNDC", "NDCPACKAGECODE", "PACKAGEDESCRIPTION", "STARTMARKETINGDATE",
                  "ENDMARKETINGDATE", "NDC_EXCLUDE_FLAG", "SAMPLE_PACKAGE")
RX, OTC = "HUMAN PRESCRIPTION DRUG", "HUMAN OTC DRUG"
# (product ndc, type, dose form, route, marketing category, substances, strengths, units, package codes)
PRODUCTS = [
    ("9998-0001", RX, "TABLET", "ORAL", "ANDA", "HYDROCODONE BITARTRATE; ACETAMINOPHEN", "10; 325", "mg/1; mg/1",
     ["9998-0001-01"]),
    ("99998-001", RX, "PATCH, EXTENDED RELEASE", "TRANSDERMAL", "ANDA", "FENTANYL", "25", "ug/h", ["99998-001-05"]),
    ("99998-0002", RX, "CAPSULE", "ORAL", "ANDA", "GABAPENTIN", "300", "mg/1", ["99998-0002-1"]),
    ("9998-0003", RX, "TABLET, FILM COATED", "ORAL", "ANDA", "PERPHENAZINE; AMITRIPTYLINE HYDROCHLORIDE", "4; 25",
     "mg/1; mg/1", ["9998-0003-30"]),
    ("9998-0004", RX, "SOLUTION", "ORAL", "ANDA", "OXYCODONE HYDROCHLORIDE", "5", "mg/5mL", ["9998-0004-50"]),
    ("9998-0005", RX, "SOLUTION/ DROPS", "OPHTHALMIC", "ANDA", "ATROPINE SULFATE", "10", "mg/mL", ["9998-0005-05"]),
    ("9998-0006", OTC, "PELLET", "ORAL", "UNAPPROVED HOMEOPATHIC", "MORPHINE", "30", "[hp_C]/1", ["9998-0006-01"]),
    ("9998-0007", RX, "TABLET", "ORAL", "ANDA", "METFORMIN HYDROCHLORIDE", "500", "mg/1", ["9998-0007-01"]),
    ("9998-0008", RX, "TABLET", "BUCCAL", "NDA", "FENTANYL CITRATE", "200", "ug/1", ["9998-0008-28"]),
    ("9998-0009", RX, "TABLET, DELAYED RELEASE", "ORAL", "ANDA", "DIVALPROEX SODIUM", "250", "mg/1",
     ["9998-0009-10"]),
    ("9998-0010", RX, "PATCH", "TRANSDERMAL", "ANDA", "FENTANYL", "12", "ug/72h", ["9998-0010-05"]),
    ("9998-0011", "BULK INGREDIENT", "POWDER", "", "BULK INGREDIENT", "OXYCODONE HYDROCHLORIDE", "1", "g/g",
     ["9998-0011-01"]),
    ("99998-0012", OTC, "TABLET", "ORAL", "OTC MONOGRAPH FINAL", "DIPHENHYDRAMINE HYDROCHLORIDE", "25", "mg/1",
     ["99998-0012-24", "99998-0012-48"]),
]


def write_directory(folder, products=PRODUCTS, product_header=PRODUCT_HEADER, package_codes=None):
    """product.txt and package.txt in the FDA NDC Directory's published layout (tab-delimited, one header line)."""
    folder.mkdir(parents=True, exist_ok=True)
    prod, pack = ["\t".join(product_header)], ["\t".join(PACKAGE_HEADER)]
    for n, (pndc, ptype, form, route, category, subs, strengths, units, packages) in enumerate(products):
        pid = f"{pndc}_{n:08d}-test"
        values = dict(PRODUCTID=pid, PRODUCTNDC=pndc, PRODUCTTYPENAME=ptype, PROPRIETARYNAME="Test",
                      NONPROPRIETARYNAME=subs.lower(), DOSAGEFORMNAME=form, ROUTENAME=route,
                      STARTMARKETINGDATE="20150101", MARKETINGCATEGORYNAME=category, LABELERNAME="Test Labeler",
                      SUBSTANCENAME=subs, ACTIVE_NUMERATOR_STRENGTH=strengths, ACTIVE_INGRED_UNIT=units,
                      NDC_EXCLUDE_FLAG="N", LISTING_RECORD_CERTIFIED_THROUGH="20271231")
        prod.append("\t".join(values.get(c, "") for c in product_header))
        for code in (package_codes or {}).get(pndc, packages):
            pack.append("\t".join([pid, pndc, code, f"30 TABLET in 1 BOTTLE ({code})", "20150101", "", "N", "N"]))
    (folder / "product.txt").write_text("\n".join(prod) + "\n", encoding="utf-8")
    (folder / "package.txt").write_text("\n".join(pack) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def directory(tmp_path):
    return write_directory(tmp_path / "ndc")


def test_ndc11_pads_each_published_segment_layout():
    assert ndc11("9998-0001-01") == "09998000101"  # 4-4-2
    assert ndc11("99998-001-05") == "99998000105"  # 5-3-2
    assert ndc11("99998-0002-1") == "99998000201"  # 5-4-1
    assert ndc11("99998-01") is None and ndc11("9998-0001-0A") is None


def test_directory_rows_by_active_ingredient(directory):
    rows = {(r.ndc, r.ingredient): (r.strength, r.strength_unit, r.dose_form)
            for r in read_directory(directory, ref.rule_ingredients())}
    assert rows == {
        ("09998000101", "hydrocodone"): ("10", "mg", "tablet"),  # acetaminophen is no rule ingredient
        ("99998000105", "fentanyl"): ("25", "mcg/hr", "transdermal"),
        ("99998000201", "gabapentin"): ("300", "mg", "capsule"),
        ("09998000330", "perphenazine"): ("4", "mg", "tablet_film_coated"),  # a combination: one row each
        ("09998000330", "amitriptyline"): ("25", "mg", "tablet_film_coated"),
        ("09998000450", "oxycodone"): ("1", "mg", "solution"),  # 5 mg/5 mL -> 1 mg per mL dispensed
        ("09998000828", "fentanyl"): ("200", "mcg", "buccal_tablet"),
        ("09998000910", "valproate"): ("250", "mg", "tablet_delayed_release"),  # divalproex, a synonym
        ("09998001005", "fentanyl"): ("12", "ug/72h", "transdermal"),  # a rate per 72 h: kept as written
        ("99998001224", "diphenhydramine"): ("25", "mg", "tablet"),  # OTC products count (Beers, PQA)
        ("99998001248", "diphenhydramine"): ("25", "mg", "tablet"),
    }  # left out: eye drops, a homeopathic pellet, metformin (no rule looks at it), a bulk ingredient


def test_directory_products_get_the_shared_mme_factors(directory):
    products = ref.load_products(directory)
    factor = {k: products[k].mme_factor() for k in products if k[0].startswith(("09998", "99998"))}
    assert factor[("99998000105", "fentanyl")] == (7.2, "ok")  # 2.4 per mcg/hr at one patch per 72 h
    assert factor[("09998000101", "hydrocodone")] == (1.0, "ok")
    assert factor[("09998000450", "oxycodone")] == (1.5, "ok")
    assert factor[("09998000828", "fentanyl")] == (0.13, "ok")
    assert factor[("09998001005", "fentanyl")] == (None, "strength_unit_mismatch")  # never converted
    # the user's directory replaces the shipped rows of its NDCs and leaves the others
    assert ("00406036001", "hydrocodone") in products


def test_missing_column_is_one_line_error_naming_file_and_column(tmp_path, capsys):
    folder = write_directory(tmp_path / "ndc", product_header=tuple(c for c in PRODUCT_HEADER
                                                                    if c != "SUBSTANCENAME"))
    with pytest.raises(NdcDirectoryError, match=r"product\.txt: line 1: missing column SUBSTANCENAME"):
        read_directory(folder, ref.rule_ingredients())
    assert main(["dur-products", "--ndc-directory", str(folder), "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "SUBSTANCENAME" in err and str(folder) in err


def test_malformed_package_code_names_its_line(tmp_path):
    folder = write_directory(tmp_path / "ndc", package_codes={"99998-0002": ["99998-0002-1", "99998-02"]})
    with pytest.raises(NdcDirectoryError, match=r"package\.txt: line 5: invalid NDCPACKAGECODE '99998-02'"):
        read_directory(folder, ref.rule_ingredients())


def test_missing_directory_file_is_a_user_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ref.ProductTableError, match="product.txt: file not found"):
        ref.load_products(tmp_path / "empty")


def test_dur_products_command_writes_the_documented_table(directory, tmp_path, capsys):
    out = tmp_path / "products.csv"
    assert main(["dur-products", "--ndc-directory", str(directory), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 11 and summary["ndcs"] == 10 and summary["rows_without_strength"] == 0
    with open(out, newline="") as fh:
        assert list(csv.DictReader(fh))[0].keys() >= set(ref.USER_COLUMNS)
    from_csv, from_dir = ref.load_products(out), ref.load_products(directory)
    assert from_csv == from_dir


def test_bad_user_product_row_names_line_and_field(tmp_path):
    bad = tmp_path / "p.csv"
    bad.write_text("ndc,ingredient,strength,strength_unit,dose_form\n99999000001,gabapentin,300,mg,capsule\n"
                   "9999-00-1,gabapentin,300,mg,capsule\n")
    with pytest.raises(ref.ProductTableError, match=r"p\.csv: line 3: invalid ndc"):
        ref.load_products(bad)


def test_directory_products_fire_the_gabapentinoid_rule_and_count_a_combination_once(wh, directory, capsys):
    wh.fill(wh.member("a"), "09998000101", D(2025, 3, 1), 30, 120)  # hydrocodone/APAP from the directory
    wh.fill("a", "99998000201", D(2025, 3, 10), 30, 90)  # gabapentin from the directory
    wh.fill(wh.member("b"), "09998000330", D(2025, 4, 1), 30, 30)  # perphenazine/amitriptyline
    assert main(["dur", "--year", "2025", "--products", str(directory), "--warehouse", wh.url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alerts"]["opioid_gabapentinoid"] == 1
    assert out["coverage"]["fills"] == 3 and out["coverage"]["opioid_mme_coverage"] == 1.0
    assert {t["ingredient"] for t in wh.trace("opioid_gabapentinoid")} == {"hydrocodone", "gabapentin"}


# --- the shipped reference -------------------------------------------------------------------------------------

def test_shipped_reference_covers_every_rule_class_by_real_ndcs():
    products = ref.load_products()
    ingredients = {p.ingredient for p in products.values()}
    classes = {c for i, c in ref.load_classes() if i in ingredients}
    for needed in ("opioid", "buprenorphine_moud", "benzodiazepine", "antipsychotic", "gabapentinoid",
                   "anticholinergic", "ssri", "snri", "tca", "antiepileptic", "z_drug", "muscle_relaxant", "ppi",
                   "strong_cyp3a4_inhibitor", "maoi"):
        assert needed in classes
    with open(ref.SHIPPED_PRODUCTS, newline="") as fh:
        assert {r["ingredient"] for r in csv.DictReader(fh)} <= ref.rule_ingredients()
    assert all(len(ndc) == 11 and ndc.isdigit() for ndc, _ in products)
    opioid = [p for p in products.values() if p.ingredient in mme.load_factors()]
    ok = sum(p.mme_factor()[1] == "ok" for p in opioid)
    assert len(opioid) > 4000 and ok / len(opioid) > 0.9


def test_ohd_mme_table_unchanged_by_the_shared_factor_source():
    # the values of the retired mme_factor column of measures/reference/ndc_drugs.csv
    assert mme_table() == (("00406036001", 10.0, 1.0), ("00406852301", 10.0, 1.5), ("00406853201", 30.0, 1.5),
                           ("00406832601", 60.0, 1.0))
    assert ref.FACTOR_SET_VERSION == mme.FACTOR_SET_VERSION


# --- RxNorm release files (pharmacy/rxnorm.py) ------------------------------------------------------------------
# (rxcui, tty, name) of RXNCONSO and (rxcui, ndc) of RXNSAT; RXCUIs and NDCs (labeler 99997) made up for the tests
RX_CONCEPTS = [
    ("9000001", "SCD", "hydrocodone bitartrate 10 MG / acetaminophen 325 MG Oral Tablet"),
    ("9000002", "SCD", "72 HR fentanyl 0.025 MG/HR Transdermal System"),
    ("9000003", "SBD", "gabapentin 300 MG Oral Capsule [Testbrand]"),
    ("9000004", "SCD", "oxycodone hydrochloride 1 MG/ML Oral Solution"),
    ("9000005", "SCD", "fentanyl 0.1 MG/ACTUAT Nasal Spray"),
    ("9000006", "SCD", "metformin hydrochloride 500 MG Oral Tablet"),
    ("9000007", "GPCK", "{30 (oxycodone hydrochloride 5 MG Oral Tablet) } Pack"),
    ("9000008", "IN", "oxycodone"),
]
RX_NDCS = [("9000001", "99997000101"), ("9000002", "99997000205"), ("9000003", "99997000301"),
           ("9000004", "99997000450"), ("9000005", "99997000501"), ("9000006", "99997000601"),
           ("9000007", "99997000701"), ("9000008", "99997000801")]


def write_rxnorm(folder, ndcs=RX_NDCS):
    """RXNCONSO.RRF and RXNSAT.RRF in the RxNorm release layout (pipe-delimited, no header, trailing '|')."""
    folder.mkdir(parents=True, exist_ok=True)
    conso = [f"{cui}|ENG||||||A{cui}|||{cui}|RXNORM|{tty}|{cui}|{name}||N|4096|" for cui, tty, name in RX_CONCEPTS]
    sat = [f"{cui}|||A{cui}|AUI|{cui}|AT{n}||NDC|RXNORM|{ndc}|N|4096|" for n, (cui, ndc) in enumerate(ndcs)]
    sat.append("9000001|||A9000001|AUI|9000001|AT99||NDC|MTHSPL|99997-0001-01|N||")  # another source: skipped
    (folder / "RXNCONSO.RRF").write_text("\n".join(conso) + "\n", encoding="utf-8")
    (folder / "RXNSAT.RRF").write_text("\n".join(sat) + "\n", encoding="utf-8")
    return folder


def test_rxnorm_rows_by_active_ingredient(tmp_path):
    from pharmacy.rxnorm import read_rxnorm

    rows = {(r.ndc, r.ingredient): (r.strength, r.strength_unit, r.dose_form)
            for r in read_rxnorm(write_rxnorm(tmp_path / "rx"), ref.rule_ingredients())}
    assert rows == {
        ("99997000101", "hydrocodone"): ("10", "mg", "oral_tablet"),
        ("99997000205", "fentanyl"): ("25", "mcg/hr", "transdermal"),  # 0.025 MG/HR
        ("99997000301", "gabapentin"): ("300", "mg", "oral_capsule"),  # a branded drug, brand dropped
        ("99997000450", "oxycodone"): ("1", "mg", "oral_solution"),
        ("99997000501", "fentanyl"): ("0.1", "MG/ACTUAT", "nasal_spray"),  # kept as written: no MME
    }  # left out: metformin (no rule), a pack, an ingredient concept, the NDC of another source


def test_rxnorm_folder_as_products_and_command(tmp_path, capsys):
    folder = write_rxnorm(tmp_path / "rx")
    products = ref.load_products(folder)
    assert products[("99997000205", "fentanyl")].mme_factor() == (7.2, "ok")
    assert products[("99997000101", "hydrocodone")].mme_factor() == (1.0, "ok")
    assert products[("99997000501", "fentanyl")].mme_factor() == (None, "strength_unit_mismatch")
    out = tmp_path / "rx.csv"
    assert main(["dur-products", "--rxnorm", str(folder), "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 5
    assert ref.load_products(out) == products


def test_rxnorm_bad_ndc_and_short_line_name_file_and_line(tmp_path, capsys):
    from pharmacy.rxnorm import read_rxnorm

    folder = write_rxnorm(tmp_path / "rx", ndcs=RX_NDCS[:1] + [("9000003", "9999-0003-01")])
    with pytest.raises(NdcDirectoryError, match=r"RXNSAT\.RRF: line 2: invalid NDC ATV '9999-0003-01'"):
        read_rxnorm(folder, ref.rule_ingredients())
    (folder / "RXNCONSO.RRF").write_text("9000001|ENG|oxycodone\n")
    assert main(["dur-products", "--rxnorm", str(folder), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "RXNCONSO.RRF: line 1: 3 fields" in err
