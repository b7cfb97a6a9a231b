"""Background ingest jobs of the web server: uploads are read and embedded off the request.

One worker thread runs the jobs in turn (writes to an index are one at a time anyway), so an
upload never holds up questions, health checks or the page. Each job reports its progress,
read by ``GET /api/v1/jobs/{id}`` and by the chat. Finished jobs are kept for a while, up to
``KEEP`` of them, then forgotten.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qa.errors import QAError
from qa.index import IngestReport
from qa.progress import Progress

log = logging.getLogger(__name__)
KEEP = 100  # finished jobs remembered
MAX_WAITING = 10  # jobs queued behind the one running: each holds its files until it runs
FAILED = "storing the reports failed (the error is in the server's log)"

Work = Callable[[Progress], IngestReport]


@dataclass
class Job:
    """One upload being stored; ``stage``/``done``/``total`` say how far it has got."""

    id: str
    files: list[str]
    state: str = "queued"
    stage: str = "queued"
    done: int = 0
    total: int = 0
    report: IngestReport | None = None
    error: str | None = None

    @property
    def over(self) -> bool:
        return self.state in ("done", "failed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "files": self.files,
            "report": self.report.to_dict() if self.report else None,
            "error": self.error,
        }


class QueueFull(QAError):
    """As many jobs as allowed are waiting already."""


class Jobs:
    """The server's ingest jobs: submit work, look jobs up, wait for one."""

    def __init__(self, keep: int = KEEP, max_waiting: int = MAX_WAITING) -> None:
        self._max_waiting = max_waiting
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._work: dict[str, Work] = {}
        self._cond = threading.Condition()
        self._keep = keep
        self._thread: threading.Thread | None = None

    def submit(self, files: list[str], work: Work) -> Job:
        """Queue ``work`` (called with a progress callback) for the files named; QueueFull
        when ``max_waiting`` jobs are waiting already."""
        job = Job(uuid.uuid4().hex[:16], files)
        with self._cond:
            if len(self._work) >= self._max_waiting:
                raise QueueFull(f"{self._max_waiting} uploads are already waiting to be stored")
            self._jobs[job.id] = job
            self._work[job.id] = work
            self._forget_old()
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="qa-jobs", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        """Every remembered job, newest first."""
        with self._cond:
            return list(reversed(self._jobs.values()))

    def wait(self, job: Job, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds for ``job`` to end; whether it has."""
        with self._cond:
            return self._cond.wait_for(lambda: job.over, timeout)

    def _serve(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._work))
                job_id = next(iter(self._work))
                work = self._work.pop(job_id)
                job = self._jobs[job_id]
                job.state = job.stage = "running"
            try:
                report = work(functools.partial(self._progress, job))
            except (QAError, ValueError, OSError) as exc:
                self._end(job, None, str(exc))
            except Exception:  # a bug: the job fails, the worker goes on with the next
                log.exception("ingest job %s failed", job.id)
                self._end(job, None, FAILED)
            else:
                self._end(job, report, None)

    def _progress(self, job: Job, stage: str, done: int, total: int) -> None:
        with self._cond:
            job.stage, job.done, job.total = stage, done, total
            self._cond.notify_all()

    def _end(self, job: Job, report: IngestReport | None, error: str | None) -> None:
        with self._cond:
            job.report, job.error = report, error
            job.state = job.stage = "failed" if error else "done"
            self._cond.notify_all()

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.over]
        for job_id in finished[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[job_id]
