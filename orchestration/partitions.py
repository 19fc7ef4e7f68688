"""Yearly partitions (Dagster has no YearlyPartitionsDefinition): keys "2023", "2024", ..."""
import dagster as dg

yearly = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start="2023", fmt="%Y", end_offset=0)
