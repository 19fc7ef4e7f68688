"""Progress of a command's stages on stderr (only when stderr is a terminal) and their timings.

    with Stages("load", ["check files", "load", "derive"]) as stages:
        with stages.stage("check files"):
            ...
    stages.seconds   # {"check files": 0.31, ...} for the JSON report

A rich progress display refreshes on its own thread, so a stage that runs for minutes shows its elapsed time
ticking instead of silence. Output redirected to a file or pipe gets no progress, only the timings.
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

    def summary(self) -> str:
        """`load 5.4 s (check files 0.3 s, load 4.0 s, derive 1.1 s)`"""
        total = sum(self.seconds.values())
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        return f"{self.title} {total:.1f} s ({parts})"


def print_timings(stages: Stages) -> None:
    print(f"icm: {stages.summary()}", file=sys.stderr)
