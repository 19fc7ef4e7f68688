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

import hashlib
import math
import re

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warehouse.staging import LoadError, SourceFile, source_field_problem

# Every string of a layout is validated here; the few that reach SQL (column names, map values, constants)
# enter it only as quoted identifiers or quoted literals of the canonical view (a view cannot take bound
# parameters), the file's data_source / payer / date format only as bound variables (warehouse.staging).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _printable(value: str, what: str) -> str:
    if any(ord(ch) < 32 and ch != "\t" for ch in value):
        raise ValueError(f"{what} must not contain control characters")
    return value

LAYOUT_DIR = Path(__file__).resolve().parent.parent / "layouts"


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str | None = None
    map: dict[str, Any] | None = None
    scale: float | None = None
    const: Any = None

    @field_validator("column")
    @classmethod
    def _column_name(cls, value):
        if value is not None and not value.strip():
            raise ValueError("column name must not be blank")
        return value if value is None else _printable(value, "column name")

    @field_validator("scale")
    @classmethod
    def _finite(cls, value):
        if value is not None and not math.isfinite(value):
            raise ValueError("scale must be a finite number")
        return value

    @model_validator(mode="after")
    def _one_source(self):
        if (self.column is None) == (self.const is None):
            raise ValueError("give exactly one of 'column' or 'const'")
        return self


class FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str
    columns: dict[str, str | ColumnSpec]

    @field_validator("pattern")
    @classmethod
    def _inside_the_folder(cls, value):
        if not value.strip() or value.startswith(("/", "\\")) or ".." in Path(value).parts:
            raise ValueError("pattern must name files inside the feed's folder (no absolute path, no '..')")
        return _printable(value, "pattern")

    @field_validator("columns")
    @classmethod
    def _plain_column_specs(cls, value):
        for spec in value.values():
            if isinstance(spec, str):
                ColumnSpec(column=spec)
        return value


class Layout(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layout: str
    # the version of the payer's extract specification this layout follows (named in the load report)
    version: str | None = None
    description: str | None = None
    data_source: str
    delimiter: str | None = None
    date_format: str = "%Y-%m-%d"
    files: dict[Literal["eligibility", "medical_claim", "pharmacy_claim"], FileSpec] = Field(min_length=1)

    @field_validator("layout")
    @classmethod
    def _layout_name(cls, value):
        if not re.fullmatch(NAME_PATTERN, value):
            raise ValueError("layout name: letters, digits, _ . - only, at most 64")
        return value

    @field_validator("data_source", "delimiter", "date_format")
    @classmethod
    def _source_fields(cls, value, info):
        problem = source_field_problem(info.field_name, value)
        if problem:
            raise ValueError(problem)
        return value


def layout_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if not path.exists():
        path = LAYOUT_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in LAYOUT_DIR.glob("*.yaml"))
        raise LoadError(f"unknown layout {name_or_path!r} (known: {', '.join(known) or 'none'})")
    return path


def load_layout(name_or_path: str) -> Layout:
    path = layout_path(name_or_path)
    try:
        return Layout.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: not a readable YAML file ({type(exc).__name__})") from None
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
    # the layout's stated version, and the YAML's own checksum: the exact mapping a load used is identifiable
    digest = hashlib.sha256(layout_path(layout_name).read_bytes()).hexdigest()[:12]
    version = f"layout {layout.layout} {layout.version or '(no version stated)'}, layout file sha256 {digest}"
    sources = []
    for target, spec in layout.files.items():
        for path in sorted(folder.glob(spec.pattern)):
            sources.append(SourceFile(
                path=path, target=target, file_format=f"layout:{layout.layout}", data_source=layout.data_source,
                payer=payer, delimiter=layout.delimiter, date_format=layout.date_format,
                select_sql={canon: _expr(s) for canon, s in spec.columns.items()},
                notes={"format_version": version}))
    return sources
