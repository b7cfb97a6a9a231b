"""Progress of long work (reading files, embedding chunks), reported through one callback.

Work calls ``progress(stage, done, total)``; what is shown is up to the caller: bars on a
terminal, a plain line now and then in a log (:func:`reporter`), or a job's status on the
web server.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

Progress = Callable[[str, int, int], None]
LINE_EVERY = 10.0  # seconds between plain progress lines when the output is not a terminal
MIN_TOTAL = 5  # work smaller than this is not worth a line or a bar


def reporter(stream: TextIO | None = None, every: float = LINE_EVERY) -> Progress:
    """Bars on a terminal; elsewhere a ``qa: embedding 300/1200 chunks (25%)`` line every
    ``every`` seconds and at the end of each stage, so a log shows that work goes on."""
    out = stream or sys.stderr
    if out.isatty():
        return _Bars(out)
    last: dict[str, float] = {}

    def line(stage: str, done: int, total: int) -> None:
        if total < MIN_TOTAL:
            return
        now = time.monotonic()
        start = last.setdefault(stage, now)
        if done < total and (done == 0 or now - start < every):
            return
        last[stage] = now
        percent = 100 * done // total
        print(f"qa: {stage} {done}/{total} {_UNITS.get(stage, '')} ({percent}%)", file=out)
        out.flush()

    return line


_UNITS = {
    "reading": "files",
    "embedding": "chunks",
    "indexing": "documents",
    "asking": "questions",
    "searching": "queries",
}


class _Bars:
    """One tqdm bar per stage, on a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < MIN_TOTAL:
            return
        from tqdm import tqdm

        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(
                total=total, desc=stage, unit=_UNITS.get(stage, "it"), file=self.out
            )
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            del self.bars[stage]
