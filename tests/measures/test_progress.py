"""measures.engine.compute tells listeners (measures/progress.py) each measure as it starts and when it is
written, in the order it computes them (parents before the measures derived from them)."""
from __future__ import annotations

from measures.progress import listening
from tests.measures.scenario import D

Y = 2024


class Recorder:
    def __init__(self):
        self.events = []

    def started(self, measure_id, index, total):
        self.events.append(("started", measure_id, index, total))

    def finished(self, measure_id, seconds):
        self.events.append(("finished", measure_id, seconds))


def test_compute_reports_each_measure_as_it_starts_and_finishes(wh):
    wh.person("a", birth=D(1975, 1, 1))
    wh.enroll("a", D(2022, 1, 1), D(2025, 12, 31))
    timings, recorder = {}, Recorder()
    with listening(recorder):
        wh.compute(Y, "FUH-HH", "COL-HH", "FUM-HH", timings=timings)
    started = [e for e in recorder.events if e[0] == "started"]
    assert sorted(e[1] for e in started) == ["COL-HH", "FUH-HH", "FUM-HH"]
    assert [(e[2], e[3]) for e in started] == [(0, 3), (1, 3), (2, 3)]
    # each measure is written before the next starts, and its seconds are the ones compute() reports
    assert [e[:2] for e in recorder.events] == [(kind, e[1]) for e in started for kind in ("started", "finished")]
    assert {e[1]: e[2] for e in recorder.events if e[0] == "finished"} == {k: v for k, v in timings.items()
                                                                          if k != "_run"}
