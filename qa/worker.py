"""One thread that runs a model's work for every thread that asks, urgent work first.

A model on a CPU already uses every core for one call: calls from several threads at once
only fight over the cores (and the tokenizers are not thread-safe). So each model runs its
calls on one worker thread; the threads asking wait for their turn, questions before bulk
work. The reader's worker also hands parts of a read to helper workers (:meth:`submit`),
each on one core, which is faster than every core on each part.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Worker:
    """One thread that runs the jobs given to it, urgent ones before the rest."""

    def __init__(self, name: str = "qa-embed") -> None:
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], Any], Future[Any]]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._name = name
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def run(self, job: Callable[[], T], *, urgent: bool = True) -> T:
        """Run ``job`` on the worker thread and return its result (or raise its error)."""
        return self.submit(job, urgent=urgent).result()

    def submit(self, job: Callable[[], T], *, urgent: bool = True) -> Future[T]:
        """Queue ``job`` for the worker thread: its result (or error) comes in the future."""
        future: Future[T] = Future()
        self._jobs.put((0 if urgent else 1, next(self._order), job, future))
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
        return future

    def _serve(self) -> None:
        while True:
            _, _, job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:
                future.set_exception(exc)
