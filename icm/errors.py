"""Errors a user can fix, and the exit codes of `icm` (README, "Exit codes").

A command raises UserError (or one of the domain errors listed in `user_error_types`) with a sentence that names
the file, field or option and says what to do; `icm.cli.main` prints it as one line on stderr.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED_CHECKS = 1   # the command ran, but a check it runs failed (listed on stderr) or the demo failed
EXIT_USER_ERROR = 2      # bad input: an option, a file, a YAML field, a year, the warehouse URL or its server
EXIT_INTERNAL = 3        # a bug: an unexpected exception (one line; --debug shows the traceback)
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """An error the user can fix; printed as one line."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Domain errors that are the user's to fix, each already a sentence naming what is wrong."""
    types: list[type[BaseException]] = [UserError]
    for module, name in (("warehouse.staging", "LoadError"), ("savings.methodology", "MethodologyError"),
                         ("savings.settlement", "SettlementError"), ("savings.settle_csv", "TableError"),
                         ("exports", "NothingToExport"), ("warehouse.engine", "WarehouseLocked")):
        try:
            types.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):  # a package renamed its error: it then falls to the generic handler
            continue
    return tuple(types)
