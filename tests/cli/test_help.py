"""Help (issue 21 item 12): every subcommand has a description, every option a help text, required options show
as required, and the README's examples name presets that exist."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from icm.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_and_option_is_described():
    undescribed = []
    for name, parser in _subcommands().items():
        if not parser.description:
            undescribed.append(name)
        undescribed += [f"{name} {a.option_strings or a.dest}" for a in parser._actions
                        if not isinstance(a, argparse._HelpAction) and not a.help]
    assert undescribed == []


class _Usage:
    def __init__(self, parser):
        self.text = " ".join(parser.format_usage().split())

    def format_usage(self) -> str:
        return self.text


def test_required_options_show_as_required_in_usage():
    commands = {name: _Usage(p) for name, p in _subcommands().items()}
    assert "--year YEAR" in commands["export"].format_usage() and "[--year" not in commands["export"].format_usage()
    assert "(--year YEAR | --list)" in commands["measures"].format_usage()
    assert "--year YEAR" in commands["settle"].format_usage() and "[--year" not in commands["settle"].format_usage()
    assert "(--preset PRESET|YAML | --list-presets)" in commands["settle-table"].format_usage()
    assert "--format {" in commands["load"].format_usage() and "[--format" not in commands["load"].format_usage()


def test_presets_named_in_the_readme_and_help_exist():
    from savings.methodology import preset_names

    text = README.read_text() + "".join(p.format_help() for p in _subcommands().values())
    # `icm mtm --preset` names an MTM targeting preset (pharmacy/mtm/presets.yaml), not a savings methodology
    text = re.sub(r"icm mtm [^\n]*", "", text)
    named = set(re.findall(r"--preset\s+([a-z][a-z0-9-]+)", text)) | set(re.findall(r"\b(mssp-\d{4}[a-z0-9-]*|mn-ihp[a-z0-9-]*)", text))
    assert named and named <= set(preset_names()), named - set(preset_names())
