"""Dagster instance settings the project needs: DuckDB allows one writer process, so writers share a pool."""
from pathlib import Path

INSTANCE_YAML = """# Written by the ICM Calculator. DuckDB allows one writer process: assets tagged pool="duckdb" run one at a time.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def ensure_instance_yaml(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    if not path.exists():
        path.write_text(INSTANCE_YAML)
    return path
