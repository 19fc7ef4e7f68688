"""`icm`: the command line. It calls the same functions the Dagster assets call.

Each topic's commands live in a module `icm/commands/<topic>.py` exposing `add_commands(subparsers)`, named in
COMMAND_MODULES below. Errors a user can fix are printed as one line on stderr with exit code 2 (icm/errors.py
lists the codes); nothing prints a traceback unless --debug is given.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from icm.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USER_ERROR, UserError
from icm.options import OneLineErrorParser

__all__ = ["COMMAND_MODULES", "UserError", "build_parser", "main"]

log = logging.getLogger("icm")

# One name per topic: icm/commands/<name>.py registers that topic's subcommands.
COMMAND_MODULES = (
    "demo",
    "warehouse",
    "measures",
    "savings",
    "exports",
    "ui",
    "bench",
    "dur",
    "utilization",
    "evaluation",
)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="icm", description="ICM Calculator: claims warehouse, quality measures "
                                                             "and shared-savings settlement",
                                     epilog="exit codes: 0 ok, 1 a check failed, 2 bad input (one line on stderr), "
                                            "3 internal error, 130 interrupted")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and DEBUG logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"icm.commands.{name}").add_commands(sub)
    return parser


class _MaskPasswords(logging.Filter):
    """No log line shows a password of a database URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        from warehouse.engine import mask_passwords

        record.msg, record.args = mask_passwords(record.getMessage()), None
        return True


_MASK_PASSWORDS = _MaskPasswords()


def _configure_logging(debug: bool) -> None:
    # Member identifiers and claim contents are only ever logged at DEBUG.
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_MASK_PASSWORDS)  # once per handler, however often main() runs
    for noisy in ("alembic", "great_expectations", "dagster", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.debug)
    if not args.debug:
        warnings.filterwarnings("ignore")
    from icm.failures import describe_failure
    from icm.warehouse_access import publish_snapshots

    try:
        status = int(args.func(args) or 0)
        publish_snapshots()     # of the warehouse(s) the command wrote, for the notebooks
        return status
    except KeyboardInterrupt:
        print("icm: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `icm measures ... | head`: the reader has gone; nothing left to say
        sys.stdout = None
        return 0
    except Exception as exc:  # noqa: BLE001 - the user sees one line; --debug shows the traceback
        if args.debug:
            raise
        from warehouse.engine import mask_passwords

        message, user_error = describe_failure(exc)
        print(f"icm: error: {mask_passwords(message)}", file=sys.stderr)
        return EXIT_USER_ERROR if user_error else EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
