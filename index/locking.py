"""A cross-process lock on one file: exclusive to write the index, shared to read its files."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: single-writer use only
    fcntl = None  # type: ignore[assignment]


class FileLock:
    """``flock`` on ``path``, re-entrant within its owner.

    The owner serialises its own threads (the Index holds an RLock around every use), so a
    nested ``hold`` is covered by the outer one. Callers never nest an exclusive hold inside a
    shared one. A shared hold on a read-only index goes ahead without the lock file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._depth = 0

    @contextlib.contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            handle = open(self.path, "a")  # noqa: SIM115 - held across the yield
        except OSError:
            if exclusive:
                raise
            handle = None
        try:
            if handle is not None and fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            self._depth = 1
            yield
        finally:
            self._depth = 0
            if handle is not None:
                handle.close()
