"""Merges run on a thread of their own, so a write never waits for one.

A write publishes its segment and wakes the merger; the merger builds what the policy asks
for (:func:`qa.index.derived.merge_group`) from segments that never change, holding no lock,
then swaps it in under the writer locks, marking in it the chunks removed meanwhile. Searches
go on throughout with the snapshot they hold. The thread is not a daemon: a process finishes
the merge under way before it exits, and merges left undone are asked for again by the next
write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from qa.index import derived
from qa.index.segment import Segment

Snapshot = Callable[[], derived.Snapshot]
SwapIn = Callable[[Sequence[Segment], Segment | None], None]


class Merger:
    """One merging thread per index handle, started when a write asks and there is work."""

    def __init__(self, snapshot: Snapshot, swap_in: SwapIn) -> None:
        self._snapshot = snapshot
        self._swap_in = swap_in
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.error: Exception | None = None  # the last merge that failed (the index is fine)

    def wake(self) -> None:
        """Start merging if the policy asks for a merge and no merge is under way."""
        with self._lock:
            if self._thread is None and derived.merge_group(self._snapshot().segments):
                self._thread = threading.Thread(target=self._run, name="qa-merge")
                self._thread.start()

    def wait(self) -> None:
        """Return once no merge is under way (and none is asked for)."""
        while (thread := self._thread) is not None:
            thread.join()

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    snapshot = self._snapshot()
                    group = derived.merge_group(snapshot.segments)
                    if not group:
                        self._thread = None
                        return
                self._swap_in(group, derived.merge(snapshot.name(), group))
        except Exception as exc:  # a failed merge leaves the segments as they were
            self.error = exc
            with self._lock:
                self._thread = None
