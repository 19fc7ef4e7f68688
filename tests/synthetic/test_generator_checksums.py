"""Pinned checksums of a small generated state: a refactoring of warehouse/synthetic/ must leave every landing file
byte-identical. A change MEANT to alter the synthetic data updates the pins in the same commit: print the new ones with
`.venv/bin/python -m tests.synthetic.test_generator_checksums` and say in the commit message why the data changed.

The pins were taken from the single-module generator just before it was split into one module per thing generated
(commit 0c3e4ea); the split reproduced them, and a 1,500- and a 6,000-member state, byte for byte."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from warehouse.synthetic import generate

MEMBERS, SEED = 800, 5
PINNED_SHA256 = {
"commercial/eligibility.csv": "db5d69b786d995e251842d8a0e463739fe39404e127d87aac926bb176406d648",
    "commercial/medical_claim.csv": "4829865eec8bd41e50f7a295bdaa648d1f6fe8a262740a08a4543a9eef929610",
    "commercial/pharmacy_claim.csv": "b79d8eb89b965c08d3334955e6dc1cc97a47715f1d7ef0a35711c352856e594a",
    "mco_a/eligibility.csv": "d5aa8be571d8dfc4bb41a91619ea5f9ded86666d046365f1d9183cada0cf8030",
    "mco_a/medical_claim.csv": "ae33e0ca45419722f77576981faf4b5cc83f115324fb5855c822f56c2cbe9c64",
    "mco_a/pharmacy_claim.csv": "09a4e8fd48679f39ddc157087212ab36cd228b5cc6d98cbf2a946843f0a6eda2",
    "mco_b/encounters_20251231.txt": "8ec343c180c8946659c1fca604a8cf1f5bf4d6c2e085a6223e372ca377691f8f",
    "mco_b/members_20251231.txt": "356d621b6a7f7d0ac8646e3446032b865ab431ccea02478308506e18b1da3f68",
    "mco_b/rx_20251231.txt": "ef21b54db8759f901693fb21d645e1cd38848d007a46dabbc71178426acb2c40",
    "medicaid_ffs/eligibility.csv": "cd2062142ddbdb1247c0f2b5b7dcd6a95927fc514de30a3603c330cf8ffd6c78",
    "medicaid_ffs/medical_claim.csv": "08a355799155fe8d94661daea387c90d9cc55e9a0561d4409fb5ab42497e7069",
    "medicaid_ffs/pharmacy_claim.csv": "997a2fc6e5b0c7814556073d8c2dd4de22f89b7bcaebf1acfdfe6a85e835576d",
    "medicare/eligibility.csv": "5b274e6ba3b83effbc6123ed8eb06f242352d4124789040f15d6bacda6277007",
    "medicare/medical_claim.csv": "da39f6dfaddd9b4ec3de48e1ffb518557539b660620a18c819c9a7d71092950c",
    "medicare/pharmacy_claim.csv": "debeaa479262a657f49cac0ffbe8addfac85e50087bd47a1c4d15f01a7142b6c",
    "mtm/mtm_services.csv": "8ce76d77552edd18253ea60cac0b4bb42b2d9832e63ef1fb43e7f3560a46c69a",
    "reference/icm_entity.csv": "2ec26ede0342af5f70ff5868c06e7acfbb7bc4146bbe2f2805827ceef705ed66",
    "reference/icm_program.csv": "2f77468140a52757434b5faf3bccc52a5bbba42fae584fa9a5cdf985f1dafd68",
    "reference/provider.csv": "89fd5ec98240609a78a1aa4be3380033cadacdfe60e09166ca88e3f81c45786c",
}


def landing_checksums(folder: Path) -> dict[str, str]:
    generate(folder, members=MEMBERS, seed=SEED)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_small_state_matches_its_pinned_checksums(tmp_path):
    actual = landing_checksums(tmp_path / "landing")
    changed = sorted(k for k in PINNED_SHA256.keys() | actual.keys() if PINNED_SHA256.get(k) != actual.get(k))
    assert changed == [], f"landing files differ from the pins: {changed}"


if __name__ == "__main__":   # print fresh pins after an intended change of the synthetic data
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, digest in landing_checksums(Path(tmp) / "landing").items():
            sys.stdout.write(f'    "{name}": "{digest}",\n')
