"""Loading the program's own input files (intervention record, MTM service record): every row validated by a
pydantic model before anything is written, then the rows replace earlier rows with the same id in one transaction."""
from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, insert


class InputFileError(ValueError):
    """An input file that cannot be loaded; the message names the file, the line and the field."""


def load_rows(engine, path: str | Path, model: type[BaseModel], table, key: str) -> int:
    path = Path(path)
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for n, raw in enumerate(csv.DictReader(fh), start=2):
            try:
                rows.append(model.model_validate({k: (v or None) for k, v in raw.items()}).model_dump())
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(map(str, err["loc"])) or "row"
                raise InputFileError(f"{path}: line {n}: invalid {field}: {err['msg']}") from exc
    with engine.begin() as conn:
        if rows:
            conn.execute(delete(table).where(table.c[key].in_([r[key] for r in rows])))
            conn.execute(insert(table), rows)
    return len(rows)
