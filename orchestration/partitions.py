"""Yearly partitions (Dagster has no YearlyPartitionsDefinition): keys "2023", "2024", ..."""
import warnings

import dagster as dg

yearly = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start="2023", fmt="%Y", end_offset=0)


def yearly_check(name: str, asset, **kwargs) -> dg.AssetCheckSpec:
    """A check of a yearly asset, recorded against the year it checked (the UI's check page shows the partition;
    without partitions_def every result of every year lands on one unpartitioned check). Partitioned checks are a
    Dagster preview feature (1.13): the preview warning is silenced here, once, for these specs only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=yearly, **kwargs)


# Declarative automation: a yearly asset of the latest year is requested as soon as what it depends on is updated
# (a new load -> final-action claims / member months -> measures -> settlement -> exports), once all its
# dependencies exist and none is in progress. Runs while the default automation sensor is on (`make ui`,
# Automation tab). Earlier years are backfilled by hand (README, "Backfilling earlier years").
FOLLOWS_NEW_DATA = dg.AutomationCondition.eager()
