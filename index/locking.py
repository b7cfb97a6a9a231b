"""Locks: ``flock`` on a file, across processes and across the threads of one."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: single-writer use only
    fcntl = None  # type: ignore[assignment]


class FileLock:
    """``flock`` on ``path``, re-entrant within one thread.

    Each thread's outermost ``hold`` opens the file itself, so threads of one process exclude
    each other as other processes do. Callers never nest an exclusive hold inside a shared
    one. A shared hold on a read-only index goes ahead without the lock file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    @contextlib.contextmanager
    def hold(self, exclusive: bool, *, wait: bool = True) -> Iterator[bool]:
        """Hold the lock; yields False (and holds nothing) when ``wait`` is off and another
        holder is in the way."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield True
            finally:
                self._local.depth = depth
            return
        try:
            handle = open(self.path, "a")  # noqa: SIM115 - held across the yield
        except OSError:
            if exclusive:
                raise
            handle = None
        try:
            if handle is not None and fcntl is not None:
                flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
                try:
                    fcntl.flock(handle, flags if wait else flags | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
            self._local.depth = 1
            yield True
        finally:
            self._local.depth = 0
            if handle is not None:
                handle.close()

    def busy(self) -> bool:
        """Whether another holder (thread or process) has the lock exclusively right now."""
        with self.hold(exclusive=False, wait=False) as held:
            return not held
