"""`icm ui`: the Dagster UI on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from icm.options import port


def cmd_ui(args) -> int:
    from orchestration.instance import ensure_instance_yaml

    home = Path(os.environ.get("DAGSTER_HOME", ".icm/dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    ensure_instance_yaml(home)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1",
           "-p", str(args.port)]
    return subprocess.call(cmd, env=env)


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "ui", help="start the Dagster UI on 127.0.0.1",
        description="Start the Dagster UI (dagster dev) bound to 127.0.0.1 only; to reach it from other machines "
                    "put it behind an authenticating reverse proxy (README).")
    p.add_argument("--port", type=port, default=3000, help="TCP port on 127.0.0.1 (default 3000)")
    p.set_defaults(func=cmd_ui)
