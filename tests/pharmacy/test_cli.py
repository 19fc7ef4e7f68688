"""`icm dur` / `icm mtm`: JSON on success; a bad rule file, preset or input file is one line naming it, exit 2."""
from __future__ import annotations

import json

from icm.cli import main
from tests.pharmacy.scenario import OXYCODONE_30, PRODUCTS, D


def test_icm_dur_and_mtm_json(wh, capsys):
    wh.fill(wh.member("a"), OXYCODONE_30, D(2025, 3, 1), 30, 120)
    assert main(["dur", "--year", "2025", "--products", str(PRODUCTS), "--warehouse", wh.url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alerts"]["high_dose_90"] == 1 and out["coverage"]["opioid_mme_coverage"] == 1.0
    assert main(["mtm", "--year", "2025", "--preset", "minnesota_medicaid", "--warehouse", wh.url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["eligibility"]["eligible_persons"] == 0 and out["cmr_completion"]["rate"] is None


def test_bad_rule_file_is_one_line_exit_2(wh, tmp_path, capsys):
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: x\ncns_classes: [opioid]\nrules:\n"
                   "  - {id: a, kind: high_dose, version: 1, title: t, citation: c, threshold_mme: 0}\n")
    assert main(["dur", "--year", "2025", "--rules", str(bad), "--warehouse", wh.url]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "rules.0.high_dose.threshold_mme" in err and str(bad) in err


def test_unknown_preset_is_one_line_exit_2(wh, capsys):
    assert main(["mtm", "--year", "2026", "--warehouse", wh.url]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "part_d_2026" in err
