"""Per-measure progress of measures.engine.compute for whoever shows it: the command line's progress display and
timings (icm/progress.py), in `icm measures` and in the demo's measures stage.

Listeners are process-local: a listener sees the measures computed in its own process, which covers the command
line and Dagster runs executed in process (the demo). A run in Dagster's own worker processes has none, and the
notifications cost nothing then.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class MeasureListener(Protocol):
    def started(self, measure_id: str, index: int, total: int) -> None:
        """Measure number `index` (0-based) of `total` starts."""

    def finished(self, measure_id: str, seconds: float) -> None:
        """It is written; `seconds` includes the shared blocks it built first."""


_listeners: list[MeasureListener] = []


@contextmanager
def listening(listener: MeasureListener) -> Iterator[MeasureListener]:
    _listeners.append(listener)
    try:
        yield listener
    finally:
        _listeners.remove(listener)


def measure_started(measure_id: str, index: int, total: int) -> None:
    for listener in list(_listeners):
        listener.started(measure_id, index, total)


def measure_finished(measure_id: str, seconds: float) -> None:
    for listener in list(_listeners):
        listener.finished(measure_id, seconds)
