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
    demo.start_from_an_empty_warehouse(f"duckdb:///{files[0]}", own=True)
    assert not any(f.exists() for f in files)


def test_new_landing_is_refused_on_a_named_warehouse_that_holds_loads(tmp_path):
    import datetime as dt

    import pytest
    from sqlalchemy import insert

    from icm.errors import UserError
    from warehouse.engine import make_engine, upgrade
    from warehouse.models import metadata

    url = f"duckdb:///{tmp_path / 'mine.duckdb'}"
    upgrade(url)
    demo.start_from_an_empty_warehouse(url, own=False)   # empty: the demo may load into it
    engine = make_engine(url)
    now = dt.datetime(2026, 1, 1)
    with engine.begin() as conn:
        conn.execute(insert(metadata.tables["load_batch"]).values(
            batch_id="b1", source_file="f.csv", file_format="tuva", target_table="person", data_source="s",
            checksum_sha256="0", rows_read=1, rows_loaded=1, rows_quarantined=0, started_at=now, finished_at=now))
    engine.dispose()
    with pytest.raises(UserError, match="already holds loaded files"):
        demo.start_from_an_empty_warehouse(url, own=False)
    assert (tmp_path / "mine.duckdb").exists()
