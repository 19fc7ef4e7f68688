"""OHD-AD, COB-AD, AMM-AD, SAA-AD and PDC edge cases."""
from __future__ import annotations

from tests.measures.scenario import D

Y = 2024
OXY30 = "00406853201"   # 30 mg x 1.5 = 45 MME per tablet
HYDRO10 = "00406036001"  # 10 mg x 1 = 10 MME per tablet
ALPRAZ = "00228203010"
SERTRALINE = "16729000101"
ATORVA = "00071015523"
RISPERIDONE = "00781522201"
METFORMIN = "00093104801"
INSULIN_GLARGINE = "00088222033"


def _member(wh, pid, birth=D(1970, 6, 15), start=D(Y - 1, 1, 1), end=D(Y + 1, 12, 31)):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, end)
    return pid


def _tot(rows, rid):
    return next(r for r in rows if r["rate_id"] == rid and r["stratum"]["type"] == "total")


def test_ohd_mme_threshold_90(wh):
    # exactly 90 MME/day: 2 oxycodone 30 mg tablets a day
    _member(wh, "at90")
    wh.rx("at90", OXY30, D(Y, 1, 1), days_supply=30, quantity=60)
    wh.rx("at90", OXY30, D(Y, 1, 31), days_supply=30, quantity=60)
    # 89.9 -> below: hydrocodone 10 mg, 8.99 tablets a day is not possible; use 8 tablets = 80 MME
    _member(wh, "at80")
    wh.rx("at80", HYDRO10, D(Y, 1, 1), days_supply=30, quantity=240)
    wh.rx("at80", HYDRO10, D(Y, 1, 31), days_supply=30, quantity=240)
    r = _tot(wh.compute(Y, "OHD-AD"), "high_dosage")
    assert (r["numerator"], r["denominator"]) == (1, 2)


def test_ohd_denominator_needs_two_fill_dates_and_15_days(wh):
    _member(wh, "one")
    wh.rx("one", OXY30, D(Y, 1, 1), days_supply=30, quantity=120)
    _member(wh, "short")
    wh.rx("short", OXY30, D(Y, 1, 1), days_supply=7, quantity=28)
    wh.rx("short", OXY30, D(Y, 1, 8), days_supply=7, quantity=28)  # 14 days total
    assert _tot(wh.compute(Y, "OHD-AD"), "high_dosage")["denominator"] == 0


def test_ohd_cancer_exclusion(wh):
    _member(wh, "ca")
    wh.rx("ca", OXY30, D(Y, 1, 1), days_supply=30, quantity=120)
    wh.rx("ca", OXY30, D(Y, 1, 31), days_supply=30, quantity=120)
    wh.visit("ca", D(Y, 2, 1), hcpcs="99213", dx=["C189"])
    r = _tot(wh.compute(Y, "OHD-AD"), "high_dosage")
    assert (r["denominator"], r["exclusions"]) == (0, 1)


def test_cob_overlapping_days_rule_30_vs_29(wh):
    for pid, overlap in (("o30", 30), ("o29", 29)):
        _member(wh, pid)
        wh.rx(pid, HYDRO10, D(Y, 3, 1), days_supply=30, quantity=60)
        wh.rx(pid, HYDRO10, D(Y, 3, 31), days_supply=30, quantity=60)  # opioid covers 1 Mar - 29 Apr
        start = D.fromordinal(D(Y, 4, 29).toordinal() - overlap + 1)
        wh.rx(pid, ALPRAZ, start, days_supply=15, quantity=15)
        wh.rx(pid, ALPRAZ, D.fromordinal(start.toordinal() + 15), days_supply=30, quantity=30)
    r = _tot(wh.compute(Y, "COB-AD"), "concurrent")
    assert (r["numerator"], r["denominator"]) == (1, 2)
    assert [d["person_id"] for d in wh.detail("COB-AD", Y) if d["numerator_met"]] == ["o30"]


def test_cob_single_benzodiazepine_fill_is_not_concurrent_use(wh):
    _member(wh, "p")
    wh.rx("p", HYDRO10, D(Y, 3, 1), days_supply=30, quantity=60)
    wh.rx("p", HYDRO10, D(Y, 3, 31), days_supply=30, quantity=60)
    wh.rx("p", ALPRAZ, D(Y, 3, 1), days_supply=60, quantity=60)
    assert _tot(wh.compute(Y, "COB-AD"), "concurrent")["numerator"] == 0


def test_amm_acute_84_days_and_continuation_180_days(wh):
    for pid, fills in (("both", 7), ("acute_only", 3)):
        _member(wh, pid)
        wh.visit(pid, D(Y - 1, 9, 1), hcpcs="99213", dx=["F329"])
        for i in range(fills):
            wh.rx(pid, SERTRALINE, D.fromordinal(D(Y - 1, 9, 1).toordinal() + 30 * i), days_supply=30)
    rows = wh.compute(Y, "AMM-AD")
    assert (_tot(rows, "acute")["numerator"], _tot(rows, "acute")["denominator"]) == (2, 2)
    assert _tot(rows, "continuation")["numerator"] == 1


def test_amm_negative_medication_history_105_days(wh):
    _member(wh, "p", start=D(Y - 2, 1, 1))
    wh.rx("p", SERTRALINE, D(Y - 1, 5, 20), days_supply=30)  # 104 days before the next fill
    wh.rx("p", SERTRALINE, D(Y - 1, 9, 1), days_supply=30)
    wh.visit("p", D(Y - 1, 9, 1), hcpcs="99213", dx=["F329"])  # MDD near the 1 Sep fill only
    wh.compute(Y, "AMM-AD")
    # 1 Sep has a fill 104 days before -> not a new episode; 20 May has no MDD dx within 60 days
    assert wh.detail("AMM-AD", Y, "acute") == []
    wh.visit("p", D(Y - 1, 5, 25), hcpcs="99213", dx=["F320"])
    wh.compute(Y, "AMM-AD")
    assert [d["anchor_date"] for d in wh.detail("AMM-AD", Y, "acute")] == [D(Y - 1, 5, 20)]


def _without_value_set(monkeypatch, name):
    """Make the engine's registry lack one value set, as on an install without that list."""
    import measures.engine as engine
    from measures.valuesets import Registry

    real = engine.default_registry

    def registry(licensed_dir=None):
        reg = Registry()
        for vs in real(licensed_dir).sets.values():
            if vs.name != name:
                reg.add(vs)
        return reg

    monkeypatch.setattr(engine, "default_registry", registry)


def test_saa_not_computable_without_antipsychotic_ndc_list(wh, monkeypatch):
    _without_value_set(monkeypatch, "ndc_antipsychotic")
    r = _tot(wh.compute(Y, "SAA-AD"), "adherent")
    assert r["status"].startswith("not computable") and "ndc_antipsychotic" in r["status"]


def test_saa_with_shipped_antipsychotic_list(wh):
    _member(wh, "adh")
    wh.visit("adh", D(Y, 1, 5), hcpcs="99213", dx=["F200"])
    wh.visit("adh", D(Y, 2, 5), hcpcs="99213", dx=["F200"])
    for m in range(1, 13):
        wh.rx("adh", RISPERIDONE, D(Y, m, 1), days_supply=31)
    r = _tot(wh.compute(Y, "SAA-AD"), "adherent")
    assert (r["numerator"], r["denominator"], r["status"]) == (1, 1, "ok")
    assert r["value_set_versions"]["ndc_antipsychotic"].startswith("icm-ndc")


def test_saa_with_licensed_list_and_pdc(wh, tmp_path):
    (tmp_path / "mld.csv").write_text("Measure ID,Value Set Name,Value Set OID,Code,Code System\n"
                                      "SAA,Antipsychotic Medications,1.2.3,99999000001,NDC\n")
    _member(wh, "adh")
    wh.visit("adh", D(Y, 1, 5), hcpcs="99213", dx=["F200"])
    wh.visit("adh", D(Y, 2, 5), hcpcs="99213", dx=["F200"])
    for m in range(1, 13):
        wh.rx("adh", "99999000001", D(Y, m, 1), days_supply=31)
    _member(wh, "gap")
    wh.visit("gap", D(Y, 1, 5), hcpcs="99213", dx=["F250"])
    wh.visit("gap", D(Y, 2, 5), hcpcs="99213", dx=["F250"])
    wh.rx("gap", "99999000001", D(Y, 1, 1), days_supply=90)
    wh.rx("gap", "99999000001", D(Y, 6, 1), days_supply=90)
    rows = wh.compute(Y, "SAA-AD", licensed_dir=str(tmp_path))
    r = _tot(rows, "adherent")
    assert (r["numerator"], r["denominator"], r["status"]) == (1, 2, "ok")
    assert r["value_set_versions"]["ndc_antipsychotic"].startswith("licensed:")


def test_pdc_statin_80_percent(wh):
    _member(wh, "adh")
    for m in range(1, 12):
        wh.rx("adh", ATORVA, D(Y, m, 1), days_supply=30)  # ~330/366 days
    _member(wh, "non")
    wh.rx("non", ATORVA, D(Y, 1, 1), days_supply=90)
    wh.rx("non", ATORVA, D(Y, 7, 1), days_supply=90)  # 180/366
    r = _tot(wh.compute(Y, "PDC-STA"), "adherent")
    assert (r["numerator"], r["denominator"]) == (1, 2)


def test_pdc_diabetes_not_computable_without_insulin_list(wh, monkeypatch):
    _without_value_set(monkeypatch, "ndc_insulin")
    assert _tot(wh.compute(Y, "PDC-DR"), "adherent")["status"].startswith("not computable")


def test_pdc_diabetes_insulin_fill_excludes_the_member(wh):
    for pid in ("oral", "insulin"):
        _member(wh, pid)
        for m in range(1, 12):
            wh.rx(pid, METFORMIN, D(Y, m, 1), days_supply=30)
    wh.rx("insulin", INSULIN_GLARGINE, D(Y, 3, 1), days_supply=30)
    r = _tot(wh.compute(Y, "PDC-DR"), "adherent")
    assert (r["numerator"], r["denominator"], r["exclusions"], r["status"]) == (1, 1, 1, "ok")
