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
