"""Preflight: cheap checks that every file of a load can be read, before any of them is written.

A folder load either starts with all files readable or writes nothing; a problem deep inside a readable
file (a malformed line, a bad value) becomes a quarantined row, not an error.
"""
from __future__ import annotations

import shutil

import duckdb

from warehouse.staging import (
    LoadError, SourceFile, _project_canonical, inspect_text_file, read_source, release_copies,
)


def preflight(source: SourceFile) -> None:
    path = source.path
    if not path.exists():
        raise LoadError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: file is empty (0 bytes)")
    if path.suffix.lower() != ".parquet":
        inspect_text_file(path)
    con = duckdb.connect()
    sample = _sample(source)
    try:
        # Reading a sample is enough to detect wrong columns, binary content or an unreadable format.
        read_source(con, sample)
        _project_canonical(con, sample)
    except LoadError as exc:
        raise LoadError(str(exc).replace(str(sample.path), str(source.path))) from None
    finally:
        con.close()
        release_copies(sample)
        if sample.path != source.path:
            shutil.rmtree(sample.path.parent, ignore_errors=True)


def _sample(source: SourceFile) -> SourceFile:
    """The first lines of a text file (or the file itself for Parquet), as a SourceFile."""
    if source.path.suffix.lower() == ".parquet":
        return source
    import tempfile
    from dataclasses import replace
    from pathlib import Path

    with open(source.path, "rb") as fh:
        lines = [fh.readline() for _ in range(200)]
    tmp = Path(tempfile.mkdtemp(prefix="icm-preflight-")) / source.path.name
    tmp.write_bytes(b"".join(lines))
    return replace(source, path=tmp)


__all__ = ["preflight"]
