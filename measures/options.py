"""Run options of the measure engine (configuration as data: pydantic, unknown keys rejected by name).

    pqi_payer_scope: all_payers (default) | medicaid_paid
        Which stays of an enrollee the PQI measures count. all_payers counts every stay, whoever paid it (a dual
        eligible's Medicare-paid admission counts in the Medicaid report, stratified under the claim's payer);
        medicaid_paid counts only stays whose admission claim's payer is one of the person's Medicaid payers
        (member_month.payer_type = 'medicaid').
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict


PqiPayerScope = Literal["all_payers", "medicaid_paid"]
PQI_PAYER_SCOPES: tuple[str, ...] = get_args(PqiPayerScope)


class MeasureOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pqi_payer_scope: PqiPayerScope = "all_payers"


def load_options(path: str | Path | None) -> MeasureOptions:
    """Options from a YAML file (None: the defaults). Raises pydantic.ValidationError naming the bad field."""
    if path is None:
        return MeasureOptions()
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    return MeasureOptions.model_validate(data)
