"""Payer layouts described in YAML: the mapping step for feeds that are not in the canonical layout.

```yaml
layout: bluestem_mco
data_source: mco_bluestem
delimiter: "|"
date_format: "%m/%d/%Y"
files:
  medical_claim: {pattern: "encounters_*.txt", columns: {claim_id: ENC_ID, paid_amount: {column: PAID_CENTS, scale: 0.01}}}
```
A canonical column maps to a source column name, `{column, map}` (value translation; unmapped values pass
through), `{column, scale}` (numeric multiply) or `{const}`. Unmentioned canonical columns are blank.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from warehouse.staging import LoadError, SourceFile

LAYOUT_DIR = Path(__file__).resolve().parent.parent / "layouts"


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str | None = None
    map: dict[str, Any] | None = None
    scale: float | None = None
    const: Any = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.column is None) == (self.const is None):
            raise ValueError("give exactly one of 'column' or 'const'")
        return self


class FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str
    columns: dict[str, str | ColumnSpec]


class Layout(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layout: str
    description: str | None = None
    data_source: str
    delimiter: str | None = None
    date_format: str = "%Y-%m-%d"
    files: dict[Literal["eligibility", "medical_claim", "pharmacy_claim"], FileSpec] = Field(min_length=1)


def load_layout(name_or_path: str) -> Layout:
    path = Path(name_or_path)
    if not path.exists():
        path = LAYOUT_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in LAYOUT_DIR.glob("*.yaml"))
        raise LoadError(f"unknown layout {name_or_path!r} (known: {', '.join(known) or 'none'})")
    try:
        return Layout.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise LoadError(f"{path}: invalid layout at {where}: {err['msg']}") from None


def _sql_literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _expr(spec: str | ColumnSpec) -> str:
    if isinstance(spec, str):
        spec = ColumnSpec(column=spec)
    if spec.const is not None:
        return _sql_literal(spec.const)
    col = 'raw."' + spec.column.replace('"', '""') + '"'
    if spec.map:
        whens = " ".join(f"WHEN {_sql_literal(k)} THEN {_sql_literal(v)}" for k, v in spec.map.items())
        col = f"CASE trim({col}) {whens} ELSE {col} END"
    if spec.scale is not None:
        col = (f"CASE WHEN TRY_CAST(replace({col}, '$', '') AS DOUBLE) IS NULL THEN {col} ELSE "
               f"CAST(CAST(round(CAST(replace({col}, '$', '') AS DECIMAL(18,4)) * {spec.scale}, 2) AS DECIMAL(14,2)) AS VARCHAR) END")
    return col


def discover_layout(folder: Path, layout_name: str, payer: str | None = None) -> list[SourceFile]:
    if not layout_name:
        raise LoadError("format 'layout' needs a layout name: --layout NAME or --format layout:NAME")
    layout = load_layout(layout_name)
    sources = []
    for target, spec in layout.files.items():
        for path in sorted(folder.glob(spec.pattern)):
            sources.append(SourceFile(
                path=path, target=target, file_format=f"layout:{layout.layout}", data_source=layout.data_source,
                payer=payer, delimiter=layout.delimiter, date_format=layout.date_format,
                select_sql={canon: _expr(s) for canon, s in spec.columns.items()}))
    return sources
