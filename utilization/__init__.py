"""Utilization management and practice peer comparison (no Dagster import): utilization per person-month and per
provider against risk-adjusted norms, outlier methods side by side, the monthly service-verification sample,
the annual no-utilization report and practice feedback pages. See utilization/README.md."""
