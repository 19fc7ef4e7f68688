"""Writing command results to stdout (JSON or CSV); progress and messages go to stderr."""
from __future__ import annotations

import csv
import json
import sys


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def print_csv(rows: list[dict], columns: list[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
