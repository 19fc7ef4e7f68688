"""One line for every failure: what went wrong, naming the file/field/option, and what to do.

`describe_failure(exc)` returns (message, is_user_error). Messages never carry a traceback, an exception class
name or a password; a failure that is not the user's to fix is reported as an internal error.
"""
from __future__ import annotations

import re


def _first_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line[:limit]


def validation_message(exc, source: str | None = None) -> str:
    """One line for a pydantic ValidationError: the first field's dotted name, in `source` (a file) if given."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    where = f" in {source}" if source else ""
    if err.get("type") == "extra_forbidden":
        return f"unknown field {field!r}{where}: remove it or check its spelling"
    return f"invalid {field}{where}: {err['msg']}"


def yaml_message(exc, name: str | None = None) -> str:
    """One line for a YAML syntax error: the file (when known), line and column, and the problem."""
    mark = getattr(exc, "problem_mark", None)
    name = name or (mark.name if mark is not None and not str(mark.name).startswith("<") else "the YAML file")
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{name}{where}: {getattr(exc, 'problem', None) or 'not valid YAML'}; fix the YAML syntax"


def describe_failure(exc: BaseException) -> tuple[str, bool]:
    import yaml
    from pydantic import ValidationError

    from icm.errors import user_error_types

    if isinstance(exc, user_error_types()):
        return _first_line(exc), True
    if isinstance(exc, ValidationError):
        return validation_message(exc), True
    if isinstance(exc, yaml.YAMLError):
        return yaml_message(exc), True
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: is a folder, expected a file", True
    if isinstance(exc, NotADirectoryError):
        return f"{exc.filename}: is a file, expected a folder", True
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename or _first_line(exc)}: no such file or folder", True
    if isinstance(exc, PermissionError):
        return f"{exc.filename or _first_line(exc)}: permission denied", True
    if isinstance(exc, UnicodeDecodeError):
        return "a file is not UTF-8 text (binary or another encoding): save it as UTF-8 CSV/YAML", True
    from icm.warehouse_access import describe_database_error

    if (message := describe_database_error(exc)) is not None:
        return message, True
    text = re.sub(r"\w+(Error|Exception)\b:?\s*", "", _first_line(exc))
    return f"internal error: {text or 'unexpected failure'} (run with --debug for details and report it)", False
