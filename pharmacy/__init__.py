"""Drug utilization review (retrospective DUR) and medication therapy management, on the warehouse (no Dagster)."""
