"""Timed pipeline steps with rich progress bars and peak memory per step.

Each step is timed and a background thread samples the resident memory of this
process and its children (the converter runs as a child), so the benchmark can report
time and peak memory per step.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Callable, Iterator, Optional

import psutil

__all__ = ["StepRecord", "Steps"]


@dataclass
class StepRecord:
    name: str
    seconds: float
    peak_rss_mb: float

    def to_dict(self) -> dict:
        return asdict(self)


def _rss_tree(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


class _Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True, name="edgeagent-rss")
        self.proc = psutil.Process()
        self.peak = _rss_tree(self.proc)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            self.peak = max(self.peak, _rss_tree(self.proc))


class Steps:
    """`with steps.step("convert", total=n) as update: update(done, total)`; one rich
    progress bar per step when `show` is true."""

    def __init__(self, show: bool = True):
        self.records: list[StepRecord] = []
        self._progress = None
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                      TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=False)

    def __enter__(self) -> "Steps":
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextmanager
    def step(self, name: str, total: Optional[float] = None) -> Iterator[Callable[[float, Optional[float]], None]]:
        task = self._progress.add_task(name, total=total) if self._progress is not None else None

        def update(done: float, new_total: Optional[float] = None) -> None:
            if self._progress is not None and task is not None:
                self._progress.update(task, completed=done, **({"total": new_total} if new_total else {}))

        sampler = _Sampler()
        sampler.start()
        t0 = time.perf_counter()
        try:
            yield update
        finally:
            sampler.stopped.set()
            sampler.join()
            seconds = time.perf_counter() - t0
            self.records.append(StepRecord(name, round(seconds, 3), round(sampler.peak / 2**20, 1)))
            if self._progress is not None and task is not None:
                t = self._progress.tasks[[x.id for x in self._progress.tasks].index(task)]
                self._progress.update(task, completed=t.total if t.total else 1, total=t.total or 1)
