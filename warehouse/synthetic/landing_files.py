"""Writing the landing files: reference tables, eligibility and medical/pharmacy claims per payer, in the canonical
layout or Bluestem's own (pipe-delimited, MM/DD/YYYY), streamed to CSV in insertion order."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from warehouse import canonical
from warehouse.synthetic import codes as C
from warehouse.synthetic import pharmacy_cases
from warehouse.synthetic.conventions import (BLS, COM, DIRTY_CODE, DIRTY_ELIGIBILITY, FFS, AUR, MCR, NULL_DAY, PAYERS,
                                             PRIME)

if TYPE_CHECKING:
    from warehouse.synthetic.state import State


def _take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    return pc.take(arr, pa.array(idx, type=pa.int32()))


def _date(days: np.ndarray) -> pa.Array:
    d = np.asarray(days, np.int32)
    return pa.array(d, type=pa.int32(), mask=d == NULL_DAY).cast(pa.date32())


def _copy(con, table: pa.Table, select_sql: str, path: Path, delim: str = ",") -> int:
    """Project `table` with DuckDB SQL and stream the result to CSV with Arrow's writer (fast, in order)."""
    con.register("t", table)
    reader = con.execute(f"SELECT {select_sql} FROM t").fetch_record_batch(500_000)
    opts = pcsv.WriteOptions(include_header=False, delimiter=delim, quoting_style="none")
    n = 0
    with open(path, "wb") as fh:
        fh.write((delim.join(reader.schema.names) + "\n").encode())
        with pcsv.CSVWriter(fh, reader.schema, write_options=opts) as writer:
            for batch in reader:
                writer.write_batch(batch)
                n += batch.num_rows
    con.unregister("t")
    return n


def _id_sql(prefix: str, col: str, mult: int | None = None, width: int = 10) -> str:
    inner = f"((CAST({col} AS BIGINT) + 1) * {mult}) % {PRIME}" if mult else col
    return f"'{prefix}' || lpad(CAST({inner} AS VARCHAR), {width}, '0')"


def _money_sql(col: str) -> str:
    return f"CAST({col} / 100 AS DECIMAL(14,2))"


def write_reference(st: State, con, out: Path, summary: dict):
    prog = pa.table({"program_id": [p[0] for p in C.PROGRAMS], "program_name": [p[1] for p in C.PROGRAMS],
                     "program_type": [p[2] for p in C.PROGRAMS], "state": [C.STATE] * len(C.PROGRAMS)})
    summary["files"]["reference/icm_program.csv"] = _copy(con, prog, "*", out / "reference" / "icm_program.csv")
    prov = st.provider_table
    ent_ids, ent_prog, ent_name, ent_tin, ent_risk = [], [], [], [], []
    tins = prov.column("tin").to_pylist()
    eids = prov.column("icm_entity_id").to_pylist()
    first_tin = {}
    for e, t in zip(eids, tins):
        if e and e not in first_tin:
            first_tin[e] = t
    for eid, name, risk, _d in C.ACO_ENTITIES:
        ent_ids.append(eid), ent_prog.append("ACO-1"), ent_name.append(name), ent_tin.append(first_tin.get(eid)), ent_risk.append(risk)
    for eid, prog_id, name in C.HH_ENTITIES:
        ent_ids.append(eid), ent_prog.append(prog_id), ent_name.append(name), ent_tin.append(first_tin.get(eid)), ent_risk.append(None)
    ent = pa.table({"entity_id": ent_ids, "program_id": ent_prog, "entity_name": ent_name,
                    "tin": pa.array(ent_tin, pa.string()), "risk_arrangement": pa.array(ent_risk, pa.string())})
    summary["files"]["reference/icm_entity.csv"] = _copy(con, ent, "*", out / "reference" / "icm_entity.csv")
    summary["files"]["reference/provider.csv"] = _copy(con, prov, "*", out / "reference" / "provider.csv")


def _elig_table(st: State, code) -> tuple[pa.Table, int]:
    rng = st.rng
    if code == MCR:
        p, s, e = st.spans(st.MC, True)
    else:
        p, s, e = st.spans(st.S, code)
    n = len(p)
    n_clean = n
    dirty = np.zeros(n, np.int8)
    # dirty eligibility rows: extra copies, altered
    kinds = DIRTY_ELIGIBILITY
    per = max(1, n // 4000)
    idx = rng.integers(0, n, per * len(kinds))
    dk = np.repeat([DIRTY_CODE[k] for k in kinds], per).astype(np.int8)
    p = np.concatenate([p, p[idx]])
    s = np.concatenate([s, s[idx]])
    e = np.concatenate([e, e[idx]])
    dirty = np.concatenate([dirty, dk])
    e = np.where(dirty == DIRTY_CODE["end_before_start"], s - 15, e).astype(np.int32)
    death = np.where(st.death[p] <= st.win_end, st.death[p], NULL_DAY).astype(np.int32)
    death = np.where(dirty == DIRTY_CODE["death_before_birth"], st.birth[p] - 400, death).astype(np.int32)
    is_mcd = code in (FFS, AUR, BLS)
    deliv = np.where(code == FFS, np.where(st.aco[p] >= 0, "ICM", np.where(st.pccm[p], "PCCM", "FFS")), "MCO")
    hh_ids = np.array([e_[0] for e_ in C.HH_ENTITIES] + [None], dtype=object)
    hh_prog = np.array(["HH-SMI", "HH-SUD", "HH-CC", None], dtype=object)
    aco_ids = np.array([e_[0] for e_ in C.ACO_ENTITIES] + [None], dtype=object)
    ent = np.where(st.aco[p] >= 0, aco_ids[st.aco[p]], hh_ids[st.hh_entity[p]])
    t = pa.table({
        "person": pa.array(p), "start": _date(s), "end": _date(e), "birth": _date(st.birth[p]), "death": _date(death),
        "female": pa.array(st.female[p]), "race": pa.array(np.array(C.RACES)[st.race[p]]),
        "eth": pa.array(np.array(C.ETHNICITIES)[st.eth[p]]),
        "county": pa.array(np.array([c[0] for c in C.COUNTIES])[st.county[p]]),
        "zip": pa.array(np.array([C.COUNTY_ZIP[c[0]] for c in C.COUNTIES])[st.county[p]]),
        "grp": pa.array(pharmacy_cases.eligibility_groups(st, p, code), pa.string()) if code != COM else pa.nulls(len(p), pa.string()),
        "deliv": pa.array(deliv) if is_mcd else pa.nulls(len(p), pa.string()),
        "hh": pa.array(hh_prog[st.hh[p]] if is_mcd else [None] * len(p), pa.string()),
        "icm_prog": pa.array(np.where(st.aco[p] >= 0, "ACO-1", None) if is_mcd else [None] * len(p), pa.string()),
        "icm_ent": pa.array(ent if is_mcd else [None] * len(p), pa.string()),
        "dual": pa.array(np.where(st.dual[p], st.dual_code[p], None) if code in (FFS, AUR, BLS, MCR) else [None] * len(p), pa.string()),
        "mstatus": pa.array(np.where(st.dual[p], st.mstatus[p], None) if code in (FFS, AUR, BLS, MCR) else [None] * len(p), pa.string()),
        "orec": pa.array(st.orec[p] if code == MCR else [None] * len(p), pa.string()),
        "grp_id": pa.array((10000 + (p * 7) % 89) if code == COM else np.zeros(len(p), int)),
        "dirty": pa.array(dirty),
    })
    return t, n_clean


def write_eligibility(st: State, con, out: Path, summary: dict):
    for code, meta in PAYERS.items():
        t, n_clean = _elig_table(st, code)
        summary["members_per_payer"][meta["data_source"]] = int(len(np.unique(t.column("person").to_numpy()[:n_clean])))
        d = t.column("dirty").to_numpy()
        for k in DIRTY_ELIGIBILITY:
            summary["dirty"]["eligibility_" + k] = summary["dirty"].get("eligibility_" + k, 0) + int((d == DIRTY_CODE[k]).sum())
        bad = DIRTY_CODE["bad_date"]
        pid = _id_sql("MPI", "person", 16807)
        mid = _id_sql(meta["mid_prefix"], "person", meta["mid_mult"])
        if code == BLS:
            f = "'%m/%d/%Y'"
            sel = f"""{pid} AS MPI, {mid} AS MEMBER_NO, {mid} AS SUBSCRIBER_NO, CASE WHEN female THEN '2' ELSE '1' END AS SEX,
                strftime(birth, {f}) AS DOB, strftime(death, {f}) AS DOD, race AS RACE_DESC, eth AS ETHNICITY_DESC,
                CASE WHEN dirty = {bad} THEN '02/30/2024' ELSE strftime(start, {f}) END AS ELIG_EFF_DT,
                strftime("end", {f}) AS ELIG_TERM_DT, 'BLUESTEM MEDICAID' AS PLAN_CD,
                CASE grp WHEN 'child' THEN 'CHD' WHEN 'parent_caretaker' THEN 'PCR' WHEN 'adult_expansion' THEN 'EXP'
                         WHEN 'aged' THEN 'AGD' WHEN 'blind_disabled' THEN 'BD' END AS AID_CAT,
                dual AS DUAL_CD, county AS COUNTY_FIPS, zip AS ZIP5, hh AS HH_PROGRAM, icm_prog AS ICM_PROGRAM,
                icm_ent AS ICM_ENTITY"""
            name = f"mco_b/members_{st.first_year + st.years - 1}1231.txt"
            summary["files"][name] = _copy(con, t, sel, out / name, "|")
            continue
        cols = []
        for c in canonical.TUVA_ELIGIBILITY + list(canonical.EXTRA_ELIGIBILITY_COLUMNS):
            expr = {
                "person_id": pid, "member_id": mid, "subscriber_id": mid,
                "gender": "CASE WHEN female THEN 'female' ELSE 'male' END", "race": "race", "birth_date": "birth",
                "death_date": "death", "death_flag": "CASE WHEN death IS NULL THEN 0 ELSE 1 END",
                "enrollment_start_date": f"CASE WHEN dirty = {bad} THEN '2024-02-30' ELSE CAST(start AS VARCHAR) END",
                "enrollment_end_date": '"end"', "payer": f"'{meta['payer']}'", "payer_type": f"'{meta['payer_type']}'",
                "plan": f"'{meta['plan']}'", "original_reason_entitlement_code": "orec", "dual_status_code": "dual",
                "medicare_status_code": "mstatus", "state": f"'{C.STATE}'", "zip_code": "zip", "ethnicity": "eth",
                "data_source": f"'{meta['data_source']}'", "subscriber_relation": "'self'",
                "eligibility_group": "grp", "delivery_system": "deliv", "health_home_program_id": "hh",
                "icm_program_id": "icm_prog", "icm_entity_id": "icm_ent", "county_fips": "county",
            }.get(c)
            if code == COM and c == "group_id":
                expr = "CAST(grp_id AS VARCHAR)"
            if code == COM and c == "group_name":
                expr = "'Employer Group ' || CAST(grp_id AS VARCHAR)"
            cols.append(f"{expr or 'NULL'} AS {c}")
        name = f"{meta['folder']}/eligibility.csv"
        summary["files"][name] = _copy(con, t, ", ".join(cols), out / name)


def _claim_arrow(st: State, cols: dict, vocab: pa.Array, is_rx: bool) -> pa.Table:
    vocab = pa.array(st.V.items, type=pa.string())   # dirty rows may have added codes
    d = {}
    for k, v in cols.items():
        if k in ("tob", "drg", "adm_src", "adm_type", "disp", "pos", "rev", "hcpcs", "mod1", "dx1", "dx2", "dx3", "dx4", "ndc"):
            d[k] = _take(vocab, v)
        elif k in ("rend", "bill", "fac", "presc", "pharm"):
            d[k] = _take(st.npi, v + 1)
            if k in ("rend", "bill"):
                d[k + "_tin"] = _take(st.prov_tin, v + 1)
        elif k in ("start", "end", "admit", "disch", "line_start", "line_end", "paid_date", "day"):
            d[k] = _date(v)
        elif k in ("person", "claim_no", "orig_no", "adj", "seq", "dirty", "line", "units", "paid", "allowed", "charge",
                   "coins", "copay", "ded", "ctype", "days", "qty", "refills"):
            d[k] = pa.array(v)
    return pa.table(d)


def write_medical(st, con, out, code, meta, cols, vocab, summary):
    t = _claim_arrow(st, cols, vocab, False)
    D = DIRTY_CODE
    cid = f"CASE WHEN dirty = {D['blank_claim_id']} THEN NULL ELSE {_id_sql(meta['claim_prefix'], 'claim_no', None, 11)} END"
    oid = f"CASE WHEN orig_no < 0 THEN NULL ELSE {_id_sql(meta['claim_prefix'], 'orig_no', None, 11)} END"
    pid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql('MPI', 'person', 16807)} END"
    mid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql(meta['mid_prefix'], 'person', meta['mid_mult'])} END"
    adj = "CASE adj WHEN 0 THEN 'original' WHEN 1 THEN 'replacement' ELSE 'void' END"
    if code == BLS:
        f = "'%m/%d/%Y'"
        sd = f"CASE WHEN dirty = {D['bad_date']} THEN '02/30/2024' ELSE strftime(start, {f}) END"
        sel = f"""{cid} AS ENC_ID, line AS LINE_NO, CASE ctype WHEN 1 THEN 'I' ELSE 'P' END AS ENC_TYPE,
            {pid} AS MPI, {mid} AS MEMBER_NO, {sd} AS FROM_DT, strftime("end", {f}) AS THRU_DT,
            strftime(line_start, {f}) AS SVC_FROM_DT, strftime(line_end, {f}) AS SVC_THRU_DT,
            strftime(admit, {f}) AS ADMIT_DT, strftime(disch, {f}) AS DISCH_DT, adm_src AS ADMIT_SRC, adm_type AS ADMIT_TYPE,
            disp AS DISCH_STATUS, tob AS TOB, drg AS MS_DRG, rev AS REV_CD, hcpcs AS PROC_CD, mod1 AS MOD1, pos AS POS,
            units AS UNITS,
            CASE WHEN length(dx1) > 3 THEN substr(dx1, 1, 3) || '.' || substr(dx1, 4) ELSE dx1 END AS DX1,
            CASE WHEN length(dx2) > 3 THEN substr(dx2, 1, 3) || '.' || substr(dx2, 4) ELSE dx2 END AS DX2,
            CASE WHEN length(dx3) > 3 THEN substr(dx3, 1, 3) || '.' || substr(dx3, 4) ELSE dx3 END AS DX3,
            rend AS RENDERING_NPI, rend_tin AS RENDERING_TIN, bill AS BILLING_NPI, bill_tin AS BILLING_TIN, fac AS FACILITY_NPI,
            strftime(paid_date, {f}) AS PAID_DT, CAST(paid AS VARCHAR) AS PAID_CENTS,
            '$' || CAST({_money_sql('allowed')} AS VARCHAR) AS ALLOWED_AMT, '$' || CAST({_money_sql('charge')} AS VARCHAR) AS BILLED_AMT,
            '$' || CAST({_money_sql('copay')} AS VARCHAR) AS COPAY_AMT, '$' || CAST({_money_sql('coins')} AS VARCHAR) AS COINS_AMT,
            '$' || CAST({_money_sql('ded')} AS VARCHAR) AS DEDUCT_AMT,
            CASE adj WHEN 0 THEN 'O' WHEN 1 THEN 'R' ELSE 'V' END AS ADJ_CD, {oid} AS ORIG_ENC_ID, seq AS ADJ_SEQ"""
        name = f"mco_b/encounters_{st.first_year + st.years - 1}1231.txt"
        summary["files"][name] = _copy(con, t, sel, out / name, "|")
        return
    expr = {
        "claim_id": cid, "claim_line_number": "line", "claim_type": "CASE ctype WHEN 1 THEN 'institutional' ELSE 'professional' END",
        "person_id": pid, "member_id": mid, "payer": f"'{meta['payer']}'", "plan": f"'{meta['plan']}'",
        "claim_start_date": f"CASE WHEN dirty = {D['bad_date']} THEN '2024-02-30' ELSE CAST(start AS VARCHAR) END",
        "claim_end_date": '"end"', "claim_line_start_date": "line_start", "claim_line_end_date": "line_end",
        "admission_date": "admit", "discharge_date": "disch", "admit_source_code": "adm_src", "admit_type_code": "adm_type",
        "discharge_disposition_code": "disp", "place_of_service_code": "pos", "bill_type_code": "tob",
        "drg_code_type": "CASE WHEN drg IS NULL THEN NULL ELSE 'ms-drg' END", "drg_code": "drg",
        "revenue_center_code": "rev", "service_unit_quantity": "units", "hcpcs_code": "hcpcs", "hcpcs_modifier_1": "mod1",
        "rendering_npi": "rend", "rendering_tin": "rend_tin", "billing_npi": "bill", "billing_tin": "bill_tin",
        "facility_npi": "fac", "paid_date": "paid_date", "paid_amount": _money_sql("paid"),
        "allowed_amount": _money_sql("allowed"), "charge_amount": _money_sql("charge"),
        "coinsurance_amount": _money_sql("coins"), "copayment_amount": _money_sql("copay"),
        "deductible_amount": _money_sql("ded"), "total_cost_amount": _money_sql("allowed"),
        "diagnosis_code_type": "'icd-10-cm'", "diagnosis_code_1": "dx1", "diagnosis_code_2": "dx2",
        "diagnosis_code_3": "dx3", "diagnosis_code_4": "dx4",
        "diagnosis_poa_1": "CASE WHEN ctype = 1 AND admit IS NOT NULL THEN 'Y' END",
        "in_network_flag": "1", "data_source": f"'{meta['data_source']}'",
        "claim_adjustment_type": adj, "original_claim_id": oid, "adjustment_sequence": "seq", "service_code_type": "'hcpcs'",
    }
    cols_sql = [f"{expr.get(c, 'NULL')} AS {c}" for c in canonical.TUVA_MEDICAL_CLAIM + list(canonical.EXTRA_MEDICAL_COLUMNS)]
    name = f"{meta['folder']}/medical_claim.csv"
    summary["files"][name] = _copy(con, t, ", ".join(cols_sql), out / name)


def write_pharmacy(st, con, out, code, meta, cols, vocab, summary):
    t = _claim_arrow(st, cols, vocab, True)
    D = DIRTY_CODE
    cid = f"CASE WHEN dirty = {D['blank_claim_id']} THEN NULL ELSE {_id_sql(meta['claim_prefix'] + 'RX', 'claim_no', None, 11)} END"
    oid = f"CASE WHEN orig_no < 0 THEN NULL ELSE {_id_sql(meta['claim_prefix'] + 'RX', 'orig_no', None, 11)} END"
    pid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql('MPI', 'person', 16807)} END"
    mid = f"CASE WHEN dirty = {D['blank_person_id']} THEN NULL ELSE {_id_sql(meta['mid_prefix'], 'person', meta['mid_mult'])} END"
    adj = "CASE adj WHEN 0 THEN 'original' WHEN 1 THEN 'replacement' ELSE 'void' END"
    if code == BLS:
        f = "'%m/%d/%Y'"
        sel = f"""{cid} AS RX_ID, line AS FILL_LINE, {pid} AS MPI, {mid} AS MEMBER_NO,
            CASE WHEN dirty = {D['bad_date']} THEN '02/30/2024' ELSE strftime(day, {f}) END AS FILL_DT,
            CASE WHEN length(ndc) = 11 THEN substr(ndc, 1, 5) || '-' || substr(ndc, 6, 4) || '-' || substr(ndc, 10, 2) ELSE ndc END AS NDC,
            qty AS QTY, days AS DAYS_SUPPLY, refills AS REFILLS, presc AS PRESCRIBER_NPI, pharm AS PHARMACY_NPI,
            strftime(paid_date, {f}) AS PAID_DT, CAST(paid AS VARCHAR) AS PAID_CENTS,
            '$' || CAST({_money_sql('allowed')} AS VARCHAR) AS ALLOWED_AMT, '$' || CAST({_money_sql('charge')} AS VARCHAR) AS BILLED_AMT,
            '$' || CAST({_money_sql('copay')} AS VARCHAR) AS COPAY_AMT,
            CASE adj WHEN 0 THEN 'O' WHEN 1 THEN 'R' ELSE 'V' END AS ADJ_CD, {oid} AS ORIG_RX_ID, seq AS ADJ_SEQ"""
        name = f"mco_b/rx_{st.first_year + st.years - 1}1231.txt"
        summary["files"][name] = _copy(con, t, sel, out / name, "|")
        return
    expr = {
        "claim_id": cid, "claim_line_number": "line", "person_id": pid, "member_id": mid, "payer": f"'{meta['payer']}'",
        "plan": f"'{meta['plan']}'", "prescribing_provider_npi": "presc", "dispensing_provider_npi": "pharm",
        "dispensing_date": f"CASE WHEN dirty = {D['bad_date']} THEN '2024-02-30' ELSE CAST(day AS VARCHAR) END",
        "ndc_code": "ndc", "quantity": "qty", "days_supply": "days", "refills": "refills", "paid_date": "paid_date",
        "paid_amount": _money_sql("paid"), "allowed_amount": _money_sql("allowed"), "charge_amount": _money_sql("charge"),
        "coinsurance_amount": _money_sql("coins"), "copayment_amount": _money_sql("copay"),
        "deductible_amount": _money_sql("ded"), "in_network_flag": "1", "data_source": f"'{meta['data_source']}'",
        "claim_adjustment_type": adj, "original_claim_id": oid, "adjustment_sequence": "seq", "drug_code_type": "'ndc'",
    }
    cols_sql = [f"{expr.get(c, 'NULL')} AS {c}" for c in canonical.TUVA_PHARMACY_CLAIM + list(canonical.EXTRA_PHARMACY_COLUMNS)]
    name = f"{meta['folder']}/pharmacy_claim.csv"
    summary["files"][name] = _copy(con, t, ", ".join(cols_sql), out / name)
