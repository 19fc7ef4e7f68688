"""MTM service record (input table mtm_service) and the CMR completion rate.

CMR completion rate (PQA; Part D Star measure) [V: PQA cmr measure page; K: CMS Star 60-day rule]:
denominator = persons aged >= 18 on 31 Dec who were enrolled in the MTM program during the year for >= 60 days (or
fewer if they received a CMR), excluding persons in hospice during the year (member_month hospice flag);
numerator = >= 1 CMR in the year. The rate is not reported when the denominator is below 31 (PQA/Star minimum).
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Integer, case, cast, delete, exists, func, insert, literal, select

from measures.blocks import MM, P
from measures.sqlfuncs import age_at, days_between
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


class ServiceFileError(ValueError):
    """A service-record file that cannot be loaded; names the file, line and field."""


def load_services(engine, path: str | Path) -> int:
    path = Path(path)
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for n, raw in enumerate(csv.DictReader(fh), start=2):
            try:
                rows.append(ServiceRecord.model_validate({k: (v or None) for k, v in raw.items()}).model_dump())
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(map(str, err["loc"])) or "row"
                raise ServiceFileError(f"{path}: line {n}: invalid {field}: {err['msg']}") from exc
    with engine.begin() as conn:
        if rows:
            conn.execute(delete(mtm_service).where(mtm_service.c.record_id.in_([r["record_id"] for r in rows])))
            conn.execute(insert(mtm_service), rows)
    return len(rows)


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

