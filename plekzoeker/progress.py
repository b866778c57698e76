"""Progress output for long work: a rich bar with rows/s on a terminal, periodic log lines otherwise."""
from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("plekzoeker.progress")


class Progress:
    """Context manager counting rows; shows a bar on a TTY, logs every ``every_s`` seconds elsewhere."""

    def __init__(self, label: str, total: int | None = None, every_s: float = 10.0):
        self.label, self.total, self.every_s = label, total, every_s
        self.done = 0
        self._bar = None
        self._task = None

    def __enter__(self) -> Progress:
        self.t0 = self._last = time.perf_counter()
        if sys.stderr.isatty():
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                                     TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, rate="")
        return self

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        rate = self.done / max(now - self.t0, 1e-9)
        if self._bar is not None:
            self._bar.update(self._task, advance=n, rate=f"{rate:,.0f} rows/s")
        elif now - self._last >= self.every_s:
            self._last = now
            log.info("%s: %s rows (%s rows/s)", self.label, f"{self.done:,}", f"{rate:,.0f}")

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
