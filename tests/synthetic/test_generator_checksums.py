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
    "commercial/medical_claim.csv": "943e1d84a7055bcfa0d5f3fd86e5cbf387e0600665d2399d0513ea9fa5ecce6e",
    "commercial/pharmacy_claim.csv": "ec6a21c5f9ca94987a08f016bae43bd2cdf913950e1c1894e8168546a354b5a1",
    "mco_a/eligibility.csv": "d5aa8be571d8dfc4bb41a91619ea5f9ded86666d046365f1d9183cada0cf8030",
    "mco_a/medical_claim.csv": "2dd58e65b4a7cf3e19fe7516b555e36de147428437f6d0f28ec32e6597a0544e",
    "mco_a/pharmacy_claim.csv": "7011e9318eb2410e31c73e040dcefa94e22c946bf23a6fee655dee4474da396d",
    "mco_b/encounters_20251231.txt": "1099415b225e561a58770c948efb4885fca0b42771b62a558e80b3bbd9b33d50",
    "mco_b/members_20251231.txt": "356d621b6a7f7d0ac8646e3446032b865ab431ccea02478308506e18b1da3f68",
    "mco_b/rx_20251231.txt": "6f34caf1c9014428ce6d851eeb13c15d8acdf5cb0f8edb3fc942dfc512dfc074",
    "medicaid_ffs/eligibility.csv": "74b802dfba5748ead91f9658d95818613e345e256525ccd9db90c1d7d7f1c953",
    "medicaid_ffs/medical_claim.csv": "11f2943038cf041b2482c6bf3fd8f847bf302554c58ba07e88b5307e1f2213bd",
    "medicaid_ffs/pharmacy_claim.csv": "d65b78369a6af47bc9128a6504b137bf02178c42bb1c1499c0ccc49acf382726",
    "medicare/eligibility.csv": "5b274e6ba3b83effbc6123ed8eb06f242352d4124789040f15d6bacda6277007",
    "medicare/medical_claim.csv": "92a63c5a90c52447c2c4749031737da8be62387c432da7c890329d9d59fe60af",
    "medicare/pharmacy_claim.csv": "36d760c28c1e93e3a9d9faf5dad1332a0e9db0a41e336d768fe79441abc47af4",
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
