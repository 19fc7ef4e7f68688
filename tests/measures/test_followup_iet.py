"""FUM-HH, FUA-HH and IET-HH edge cases."""
from __future__ import annotations

from tests.measures.scenario import D

Y = 2024
MH = "1111111111"


def _member(wh, pid, birth=D(1980, 6, 15), start=D(2023, 1, 1), end=D(2025, 12, 31)):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, end)
    return pid


def test_fum_visit_on_ed_date_counts_and_day_7_vs_day_8(wh):
    wh.provider(MH, mh=True)
    for pid, day in (("same", 0), ("d7", 7), ("d8", 8)):
        _member(wh, pid)
        wh.ed(pid, D(Y, 5, 1), ["F329"])
        wh.visit(pid, D(Y, 5, 1 + day), dx=["F329"])  # principal MH dx, any provider
    r7 = wh.total(Y, "FUM-HH", "7_day")
    assert (r7["numerator"], r7["denominator"]) == (2, 3)
    assert wh.total(Y, "FUM-HH", "30_day")["numerator"] == 3


def test_fum_one_ed_visit_per_31_days(wh):
    p = _member(wh, "p")
    for day in (D(Y, 1, 10), D(Y, 1, 20), D(Y, 2, 10), D(Y, 2, 12)):  # Feb 10 = day 31 after Jan 10 -> new window
        wh.ed(p, day, ["F411"])
    wh.compute(Y, "FUM-HH")
    assert [d["anchor_date"] for d in wh.detail("FUM-HH", Y, "7_day")] == [D(Y, 1, 10), D(Y, 2, 10)]


def test_fum_ed_visit_followed_by_admission_within_30_days_is_removed(wh):
    p = _member(wh, "p")
    wh.ed(p, D(Y, 6, 1), ["F200"])
    wh.inpatient(p, D(Y, 6, 20), D(Y, 6, 25), ["F200"])
    q = _member(wh, "q")
    wh.ed(q, D(Y, 6, 1), ["F200"])
    wh.compute(Y, "FUM-HH")
    assert {d["person_id"] for d in wh.detail("FUM-HH", Y, "30_day")} == {"q"}


def test_fum_followup_ed_visit_does_not_count_as_followup(wh):
    p = _member(wh, "p")
    wh.ed(p, D(Y, 6, 1), ["F200"])
    wh.ed(p, D(Y, 6, 3), ["F200"])  # second ED visit is de-duplicated and is no follow-up
    r = wh.total(Y, "FUM-HH", "30_day")
    assert (r["numerator"], r["denominator"]) == (0, 1)


def test_fua_any_dx_overdose_and_age_13(wh):
    _member(wh, "od")
    wh.ed("od", D(Y, 4, 1), ["S0990XA", "T400X1A"])
    _member(wh, "young", birth=D(Y - 12, 1, 1))  # 12 on the visit date
    wh.ed("young", D(Y, 4, 1), ["F1120"])
    wh.rx("od", "12496120203", D(Y, 4, 6))  # buprenorphine dispensing = follow-up
    r = wh.total(Y, "FUA-HH", "7_day")
    assert (r["numerator"], r["denominator"]) == (1, 1)


def test_fua_followup_day_30_counts_day_31_does_not(wh):
    for pid, day in (("d30", 30), ("d31", 31)):
        _member(wh, pid)
        wh.ed(pid, D(Y, 3, 1), ["F1020"])
        wh.visit(pid, D(Y, 3, 1).fromordinal(D(Y, 3, 1).toordinal() + day), hcpcs="H0004", dx=["F1020"])
    r = wh.total(Y, "FUA-HH", "30_day")
    assert (r["numerator"], r["denominator"]) == (1, 2)


def test_iet_194_day_negative_history(wh):
    # prior SUD dx 194 days before -> not a new episode; 195 days before -> new episode
    for pid, gap in (("hist194", 194), ("hist195", 195)):
        _member(wh, pid, start=D(2022, 1, 1))
        idx = D(Y, 6, 1)
        wh.visit(pid, D.fromordinal(idx.toordinal() - gap), hcpcs="99213", dx=["F1020"])
        wh.visit(pid, idx, hcpcs="99213", dx=["F1020"])
    wh.compute(Y, "IET-HH")
    det = wh.detail("IET-HH", Y, "initiation_total")
    assert [(d["person_id"], d["anchor_date"]) for d in det if d["anchor_date"] == D(Y, 6, 1)] == \
        [("hist195", D(Y, 6, 1))]


def test_iet_initiation_within_14_days_and_engagement(wh):
    p = _member(wh, "p", start=D(2022, 1, 1))
    idx = D(Y, 3, 1)
    wh.ed(p, idx, ["F1120"])
    wh.visit(p, D(Y, 3, 14), hcpcs="H0004", dx=["F1120"])  # day 13: initiation
    wh.rx(p, "12496120203", D(Y, 3, 20))  # engagement event 1
    wh.visit(p, D(Y, 4, 10), hcpcs="H0004", dx=["F1120"])  # day 27 after initiation: engagement event 2
    late = _member(wh, "late", start=D(2022, 1, 1))
    wh.ed(late, idx, ["F1020"])
    wh.visit(late, D(Y, 3, 15), hcpcs="H0004", dx=["F1020"])  # day 14: too late
    rows = {r["rate_id"]: r for r in wh.compute(Y, "IET-HH") if r["stratum"]["type"] == "total"}
    assert (rows["initiation_total"]["numerator"], rows["initiation_total"]["denominator"]) == (1, 2)
    assert (rows["engagement_total"]["numerator"], rows["engagement_total"]["denominator"]) == (1, 2)
    assert (rows["initiation_opioid"]["numerator"], rows["initiation_opioid"]["denominator"]) == (1, 1)
    assert (rows["initiation_alcohol"]["numerator"], rows["initiation_alcohol"]["denominator"]) == (0, 1)
    assert rows["initiation_other"]["denominator"] == 0


def test_iet_enrollment_must_cover_194_days_before(wh):
    p = _member(wh, "p", start=D(Y, 1, 1))  # enrolled only from Jan 1
    wh.visit(p, D(Y, 3, 1), hcpcs="99213", dx=["F1020"])
    wh.compute(Y, "IET-HH")
    assert wh.detail("IET-HH", Y, "initiation_total") == []


def test_iet_long_acting_injectable_alone_is_engagement(wh):
    p = _member(wh, "p", start=D(2022, 1, 1))
    wh.inpatient(p, D(Y, 5, 1), D(Y, 5, 4), ["F1120"])  # inpatient index = initiation
    wh.visit(p, D(Y, 5, 20), hcpcs="J2315", dx=["F1120"])
    rows = {r["rate_id"]: r for r in wh.compute(Y, "IET-HH") if r["stratum"]["type"] == "total"}
    assert rows["initiation_total"]["numerator"] == 1
    assert rows["engagement_total"]["numerator"] == 1


def test_iet_initiated_without_any_engagement_event_is_not_engaged(wh):
    p = _member(wh, "p", start=D(2022, 1, 1))
    wh.inpatient(p, D(Y, 5, 1), D(Y, 5, 4), ["F1020"])  # inpatient index = initiation, nothing afterwards
    rows = {r["rate_id"]: r for r in wh.compute(Y, "IET-HH") if r["stratum"]["type"] == "total"}
    assert (rows["initiation_total"]["numerator"], rows["engagement_total"]["numerator"]) == (1, 0)
    assert rows["engagement_total"]["denominator"] == 1
