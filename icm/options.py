"""argparse pieces shared by the subcommands: a parser whose usage errors are one line, and value types that
reject a bad value with a message naming what they expect."""
from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation

from icm.errors import EXIT_USER_ERROR


class OneLineErrorParser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit 2), pointing at --help instead of printing the usage."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def _whole_number(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _whole_number(text, "a whole number of 1 or more")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = _whole_number(text, "a whole number of 0 or more")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds of 0 or more, got {text!r}")
    return value


def year(text: str) -> int:
    """A four-digit year; whether the warehouse holds it is checked by the command (icm.years)."""
    value = _whole_number(text, "a year such as 2025")
    if not 1000 <= value <= 9999:
        raise argparse.ArgumentTypeError(f"expected a four-digit year such as 2025, got {text!r}")
    return value


def port(text: str) -> int:
    value = _whole_number(text, "a port number 1-65535")
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 1-65535, got {text!r}")
    return value


def runout_months(text: str) -> int:
    """Months of claims run-out after the year (0-24)."""
    months = non_negative_int(text)
    if months > 24:
        raise argparse.ArgumentTypeError(f"expected 0 to 24 months, got {text!r}")
    return months


def dollars(text: str) -> Decimal:
    """An amount of 0 dollars or more, exact (Decimal)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"expected an amount in dollars, got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"expected an amount of 0 dollars or more, got {text!r}")
    return value
