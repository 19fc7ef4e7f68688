"""Progress of a command's stages on stderr (only when stderr is a terminal) and their timings.

    with Stages("load", ["check files", "load", "derive"]) as stages:
        with stages.stage("check files"):
            ...
    stages.seconds   # {"check files": 0.31, ...} for the JSON report

A rich progress display refreshes on its own thread, so a stage that runs for minutes shows its elapsed time
ticking instead of silence. Output redirected to a file or pipe gets no progress, only the timings.

A stage made of many items (the measures) shows each item as it starts on a second line:

    with stages.stage("compute"), listening(stages.items("measures")):   # measures.progress.listening
        compute(...)
    stages.item_seconds["measures"]   # {"FUH-HH": 0.42, ...}
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Stages:
    def __init__(self, title: str, names: list[str]):
        self.title = title
        self.names = list(names)
        self.seconds: dict[str, float] = {}
        self.item_seconds: dict[str, dict[str, float]] = {}
        self._progress = None
        self._task = None

    def __enter__(self) -> "Stages":
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn)

        console = Console(stderr=True)
        if console.is_terminal:
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.title, total=len(self.names))
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextmanager
    def stage(self, name: str):
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self.title}: {name}")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 2)
            if self._progress is not None:
                self._progress.advance(self._task)

    def items(self, kind: str) -> "ItemProgress":
        """A listener showing each item of `kind` as it starts and recording its seconds in item_seconds[kind]."""
        return ItemProgress(self, kind)

    def summary(self, slowest: int = 5) -> str:
        """`load 5.4 s (check files 0.3 s, load 4.0 s, derive 1.1 s)`, then the slowest items of each kind:
        `; slowest measures: PCR-AD 2.1 s, FUH-AD 1.2 s`"""
        total = sum(self.seconds.values())
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        text = f"{self.title} {total:.1f} s ({parts})"
        for kind, seconds in self.item_seconds.items():
            top = sorted(seconds.items(), key=lambda item: -item[1])[:slowest]
            if top:
                text += f"; slowest {kind}: " + ", ".join(f"{name} {s:.1f} s" for name, s in top)
        return text


class ItemProgress:
    """Progress per item inside a stage (see Stages.items): a second line `measures: FUH-HH  12/50`."""

    def __init__(self, stages: Stages, kind: str):
        self._stages, self.kind = stages, kind
        self.seconds = stages.item_seconds.setdefault(kind, {})
        self._task = None
        self._total = 0

    def started(self, item: str, index: int, total: int) -> None:
        progress = self._stages._progress
        if progress is None:
            return
        if self._task is None:
            self._task = progress.add_task(self.kind, total=total)
        self._total = total
        progress.update(self._task, description=f"  {self.kind}: {item}", completed=index, total=total)

    def finished(self, item: str, seconds: float) -> None:
        self.seconds[item] = round(seconds, 2)
        if self._task is not None:
            progress = self._stages._progress
            progress.advance(self._task)
            if progress.tasks[self._task].completed >= self._total:   # the last item: the line goes
                progress.remove_task(self._task)
                self._task = None


def print_timings(stages: Stages) -> None:
    print(f"icm: {stages.summary()}", file=sys.stderr)
