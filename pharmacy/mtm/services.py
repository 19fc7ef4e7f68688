"""MTM service record (input table mtm_service) and the CMR completion rate.

CMR completion rate (PQA; Part D Star measure) [V: PQA cmr measure page; K: CMS Star 60-day rule]:
denominator = persons aged >= 18 on 31 Dec who were enrolled in the MTM program during the year for >= 60 days (or
fewer if they received a CMR), excluding persons in hospice during the year (member_month hospice flag);
numerator = >= 1 CMR in the year. The rate is not reported when the denominator is below 31 (PQA/Star minimum).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Integer, case, cast, exists, func, literal, select

from measures.blocks import MM, P
from measures.sqlfuncs import age_at, days_between
from pharmacy.inputs import InputFileError, load_rows
from pharmacy.tables import mtm_service

MIN_DENOMINATOR = 31
MIN_ENROLLED_DAYS = 60


class ServiceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_id: str = Field(min_length=1)
    person_id: str = Field(min_length=1)
    record_type: str = Field(pattern=r"^(enrollment|cmr|tmr)$")
    start_date: dt.date
    end_date: dt.date | None = None
    provider_npi: str | None = None

    @model_validator(mode="after")
    def _dates(self):
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date before start_date")
        return self


ServiceFileError = InputFileError


def load_services(engine, path: str | Path) -> int:
    """Validate every row of the service-record CSV, then replace those records (by id) in one transaction."""
    return load_rows(engine, path, ServiceRecord, mtm_service, "record_id")


def cmr_rate(engine, year: int) -> dict:
    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    s = mtm_service
    start = func.greatest(s.c.start_date, y0)
    end = func.least(func.coalesce(s.c.end_date, y1), y1)
    enrolled = (select(s.c.person_id, func.sum(days_between(start, end) + 1).label("days"))
                .where(s.c.record_type == "enrollment", s.c.start_date <= y1, func.coalesce(s.c.end_date, y1) >= y0)
                .group_by(s.c.person_id)).cte("cmr_enrolled")
    cmr = select(s.c.person_id).where(s.c.record_type == "cmr", s.c.start_date.between(y0, y1)).distinct().cte("cmr_done")
    got_cmr = exists().where(cmr.c.person_id == enrolled.c.person_id)
    hospice = exists().where(MM.c.person_id == enrolled.c.person_id, MM.c.hospice_flag.is_(True),
                             MM.c.month_start.between(y0, y1))
    adult = age_at(P.c.birth_date, literal(y1)) >= 18
    den = (select(enrolled.c.person_id, cast(case((got_cmr, 1), else_=0), Integer).label("num"))
           .select_from(enrolled.join(P, P.c.person_id == enrolled.c.person_id))
           .where(adult, ~hospice, (enrolled.c.days >= MIN_ENROLLED_DAYS) | got_cmr)).cte("cmr_den")
    with engine.connect() as conn:
        d, n = conn.execute(select(func.count(), func.coalesce(func.sum(den.c.num), 0)).select_from(den)).one()
    reportable = d >= MIN_DENOMINATOR
    return {"year": year, "denominator": d, "numerator": int(n),
            "rate": round(int(n) / d, 4) if reportable else None,
            "status": "ok" if reportable else f"not reportable: denominator {d} < {MIN_DENOMINATOR}"}

