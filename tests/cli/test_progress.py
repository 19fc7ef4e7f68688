"""Progress per measure (icm/progress.py + measures/progress.py), in a display forced to be a terminal: the
running measure is shown with its number, the line goes after the last one, and each measure's seconds are kept
for the JSON report and the closing summary."""
from __future__ import annotations

import pytest

from icm.progress import Stages
from measures.progress import listening, measure_finished, measure_started


@pytest.fixture
def terminal(monkeypatch):
    import rich.console

    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))


def test_the_running_measure_is_shown_with_its_number(terminal):
    with Stages("measures", ["compute"]) as stages, stages.stage("compute"), listening(stages.items("measures")):
        measure_started("FUH-HH", 0, 2)
        line = stages._progress.tasks[-1]
        assert (line.description, line.completed, line.total) == ("  measures: FUH-HH", 0, 2)
        measure_finished("FUH-HH", 0.5)
        measure_started("COL-HH", 1, 2)
        assert (line.description, line.completed) == ("  measures: COL-HH", 1)
        measure_finished("COL-HH", 1.3)
        assert [t.description for t in stages._progress.tasks] == ["measures: compute"], "item line gone"
    assert stages.item_seconds == {"measures": {"FUH-HH": 0.5, "COL-HH": 1.3}}
    assert stages.summary().endswith("; slowest measures: COL-HH 1.3 s, FUH-HH 0.5 s")


def test_without_a_terminal_the_seconds_are_still_kept():
    with Stages("measures", ["compute"]) as stages, stages.stage("compute"), listening(stages.items("measures")):
        measure_started("FUH-HH", 0, 1)
        measure_finished("FUH-HH", 0.25)
    assert stages.item_seconds == {"measures": {"FUH-HH": 0.25}}


def test_a_listener_hears_nothing_after_its_block():
    heard = []

    class Recorder:
        def started(self, measure_id, index, total):
            heard.append(measure_id)

        def finished(self, measure_id, seconds):
            heard.append(seconds)

    with listening(Recorder()):
        measure_started("FUH-HH", 0, 1)
    measure_started("COL-HH", 0, 1)
    assert heard == ["FUH-HH"]
