"""Admission: how many questions the server works on at once, and who waits.

Answering is CPU work (a query embedding, a search, the reader). Run forty at once on a few
cores and each takes forty times as long, while health checks and page loads starve behind
them. So at most ``running`` questions (and searches) are worked on at once, the rest wait
their turn in order of arrival, and a request that finds ``waiting`` others already in line,
or that waited ``patience`` seconds, is turned away at once with :class:`Busy`, which says
when to try again (the API's 503 with ``Retry-After``; a note in the chat).

The one gate is shared by the chat (its handlers run in threads: :meth:`Admission.turn`)
and the REST API (whose routes wait on the event loop, holding no thread while they wait:
:meth:`Admission.turn_async`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator

from qa.errors import QAError

WAITING = 64  # questions that may wait for a turn; one more is turned away
PATIENCE = 60.0  # seconds a question waits for its turn at most
FIRST_GUESS = 1.0  # seconds a turn is taken to last before any was timed


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Busy(QAError):
    """Too many questions are waiting for the server; ``retry_after`` seconds is a fair guess
    of when one more would be taken. Outside the tree in :mod:`qa.errors` on purpose, as
    :class:`qa.ui.service.UploadRejected`: only a server turns questions away."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class _Waiter:
    """One request in line: ``granted`` once a turn is handed to it (under the gate's lock),
    then woken: a thread by its event, a coroutine by its future."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.granted = False
        self.event = threading.Event()
        self.future: asyncio.Future[None] | None = loop.create_future() if loop else None

    def wake(self) -> None:
        future = self.future
        if future is None:
            self.event.set()
        else:
            future.get_loop().call_soon_threadsafe(
                lambda: None if future.done() else future.set_result(None)
            )


class Admission:
    """At most ``running`` turns at once; up to ``waiting`` more wait, first come first
    served, for at most ``patience`` seconds each."""

    def __init__(
        self,
        running: int | None = None,
        waiting: int = WAITING,
        patience: float = PATIENCE,
    ) -> None:
        self.running = running or cores()
        if self.running < 1 or waiting < 0 or patience <= 0:
            raise ValueError("admission needs running >= 1, waiting >= 0, patience > 0")
        self.waiting = waiting
        self.patience = patience
        self._lock = threading.Lock()
        self._free = self.running
        self._line: deque[_Waiter] = deque()
        self._turn_seconds = FIRST_GUESS  # a moving average of how long a turn lasts

    def counts(self) -> tuple[int, int]:
        """(turns being taken, requests waiting)."""
        with self._lock:
            return self.running - self._free, len(self._line)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Hold a turn for the block; waits for one (blocking the thread), or Busy."""
        waiter = self._enter(None)
        if waiter is not None and not waiter.event.wait(self.patience):
            self._stop_waiting(waiter)
        with self._timed():
            yield

    @contextlib.asynccontextmanager
    async def turn_async(self) -> AsyncIterator[None]:
        """:meth:`turn` for a coroutine: it waits on the event loop, holding no thread."""
        waiter = self._enter(asyncio.get_running_loop())
        if waiter is not None:
            assert waiter.future is not None
            try:
                await asyncio.wait_for(asyncio.shield(waiter.future), self.patience)
            except TimeoutError:
                self._stop_waiting(waiter)
            except asyncio.CancelledError:  # the client left while it waited
                with contextlib.suppress(Busy):
                    self._stop_waiting(waiter)
                    self._leave(None)  # a turn came meanwhile: hand it on
                raise
        with self._timed():
            yield

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self._leave(time.monotonic() - start)

    def _enter(self, loop: asyncio.AbstractEventLoop | None) -> _Waiter | None:
        """None: a turn is taken now. Else the waiter put in line (woken on ``loop``, or by
        an event if None). Busy if the line is full."""
        with self._lock:
            if self._free and not self._line:
                self._free -= 1
                return None
            if len(self._line) >= self.waiting:
                raise self._busy(f"{len(self._line)} questions are waiting already")
            waiter = _Waiter(loop)
            self._line.append(waiter)
            return waiter

    def _stop_waiting(self, waiter: _Waiter) -> None:
        """A waiter whose wait ended without a wake-up: if a turn was handed to it all the
        same, it holds it now; else it leaves the line with Busy."""
        with self._lock:
            if not waiter.granted:
                self._line.remove(waiter)
                raise self._busy(f"no turn came within {self.patience:g} s")

    def _leave(self, seconds: float | None) -> None:
        """A turn ended (``seconds`` long, if it was taken): hand it to the first in line."""
        with self._lock:
            if seconds is not None:
                self._turn_seconds = 0.8 * self._turn_seconds + 0.2 * seconds
            if self._line:
                waiter = self._line.popleft()
                waiter.granted = True
                waiter.wake()
            else:
                self._free += 1

    def _busy(self, why: str) -> Busy:
        """Busy, with a guess of when a place in line frees: the line ahead, worked off
        ``running`` at a time, at the recent pace (called under the lock)."""
        ahead = len(self._line) + 1
        retry = max(1, math.ceil(self._turn_seconds * ahead / self.running))
        return Busy(f"the server is busy ({why}); try again in {retry} s", retry)
