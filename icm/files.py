"""Checks on files and folders named on the command line, each failing with one line naming the option."""
from __future__ import annotations

from pathlib import Path

from icm.errors import UserError


def require_file(path: str | Path, option: str) -> Path:
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{option} {p}: is a folder, expected a file")
    if not p.exists():
        raise UserError(f"{option} {p}: no such file")
    return p


def require_folder(path: str | Path, option: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{option} {p}: no such folder")
    if not p.is_dir():
        raise UserError(f"{option} {p}: is a file, expected a folder")
    return p


def require_writable_target(path: str | Path, option: str) -> Path:
    """A file to be written: its folder must exist and the path must not be a folder."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{option} {p}: is a folder, expected a file name")
    if not p.parent.is_dir():
        raise UserError(f"{option} {p}: folder {p.parent} does not exist")
    return p


def require_utf8_text(path: Path, option: str) -> None:
    """Refuse a binary or non-UTF-8 file before it is parsed (checks the first MiB)."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if b"\x00" in head:
        raise UserError(f"{option} {path}: is a binary file, expected UTF-8 text (CSV)")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the 1 MiB boundary
            line = head[:exc.start].count(b"\n") + 1
            raise UserError(f"{option} {path}: line {line} is not UTF-8 text; save the file as UTF-8") from None


def require_yaml_mapping(path: str | Path, option: str) -> Path:
    """A YAML file that parses to a mapping; a syntax error is reported with the file, line and column."""
    import yaml

    p = require_file(path, option)
    try:
        with open(p, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except UnicodeDecodeError:
        raise UserError(f"{option} {p}: is not UTF-8 text (a binary file?); expected a YAML file") from None
    except yaml.YAMLError as exc:
        from icm.failures import yaml_message

        raise UserError(yaml_message(exc, f"{option} {p}")) from None
    if not isinstance(data, dict):
        raise UserError(f"{option} {p}: must hold a mapping of fields (key: value), not {type(data).__name__}")
    return p


def looks_like_path(text: str) -> bool:
    """A preset/layout option names a file when it has a YAML suffix or a folder part."""
    return text.lower().endswith((".yaml", ".yml")) or "/" in text or Path(text).exists()
