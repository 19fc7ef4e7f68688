"""The demo reuses generated landing files only when the same generator source wrote them for the same size and
seed; after a code change (new planted events, new columns) it writes them again instead of loading stale files."""
import warehouse.synthetic as synthetic
from icm import demo


def test_demo_regenerates_landing_written_by_another_generator_version(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(synthetic, "generate", lambda landing, members, seed: calls.append(members) or {"n": 1})
    monkeypatch.setattr(demo, "generator_fingerprint", lambda: "version-a")
    assert demo._generate(tmp_path, 100, 1)["reused"] is False
    assert demo._generate(tmp_path, 100, 1)["reused"] is True
    monkeypatch.setattr(demo, "generator_fingerprint", lambda: "version-b")
    assert demo._generate(tmp_path, 100, 1)["reused"] is False
    assert calls == [100, 100]


def test_generator_fingerprint_changes_when_any_generator_module_changes(tmp_path, monkeypatch):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "quality_cases.py").write_text("RATE = 0.38\n")
    monkeypatch.setattr(synthetic, "__file__", str(tmp_path / "__init__.py"))
    before = demo.generator_fingerprint()
    assert demo.generator_fingerprint() == before
    (tmp_path / "quality_cases.py").write_text("RATE = 0.40\n")
    assert demo.generator_fingerprint() != before


def test_new_landing_empties_the_demos_own_warehouse(tmp_path, monkeypatch):
    """Two synthetic states must never mix in one warehouse: the demo's own files go when the landing is new."""
    monkeypatch.setattr(demo, "ICM_HOME", tmp_path)
    files = [tmp_path / n for n in ("warehouse.duckdb", "warehouse.duckdb.wal", "warehouse.snapshot.duckdb",
                                    "staging.duckdb")]
    for f in files:
        f.write_bytes(b"earlier demo")
    demo.start_from_an_empty_warehouse(f"duckdb:///{files[0]}")
    assert not any(f.exists() for f in files)
