"""PDF text read in a process of its own, so that no PDF holds the reader past its deadline.

pypdf is pure Python: a hostile PDF can keep it inside one page (a content stream of
millions of operators) or swell its memory (a compression bomb), and a thread cannot be
stopped. So one worker process (:mod:`qa.pdf_worker`) reads the PDFs, one at a time, and
is kept for the next; a PDF not read by its deadline gets the worker killed (TimeoutError
here; the next PDF starts a new one), and the worker's memory is capped.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from qa import pdf_worker

WORKER = Path(pdf_worker.__file__)
MEMORY = pdf_worker.MEMORY  # bytes of address space the worker may take
MAX_REPLY = 512 * 1024**2  # an answer longer than this is no PDF's text
STARTED = 30.0  # seconds a new worker may take to answer its first request, at least


class PdfUnreadable(Exception):
    """pypdf could not read the PDF; the message says why, for the user."""


class _Reader:
    """The worker process, started when first needed; one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def read(self, data: bytes, deadline: float) -> dict[str, Any]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-I", str(WORKER), str(MEMORY)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
                deadline = max(deadline, time.monotonic() + STARTED)  # its own start-up
            process = self._process
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(pdf_worker.frame(data))
                process.stdin.flush()
                size = int.from_bytes(_read(process.stdout, pdf_worker.HEADER, deadline), "big")
                if size > MAX_REPLY:
                    raise OSError("reply too long")
                reply: dict[str, Any] = json.loads(_read(process.stdout, size, deadline))
                return reply
            except TimeoutError:
                self._stop()
                raise
            except (OSError, EOFError, ValueError):  # it died (out of memory?), or spoke nonsense
                self._stop()
                raise PdfUnreadable("unreadable PDF: the PDF reader stopped on it") from None

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def _read(stream: IO[bytes], size: int, deadline: float) -> bytes:
    """``size`` bytes of ``stream`` (a pipe), or TimeoutError past ``deadline``, or EOFError."""
    fd, parts, got = stream.fileno(), [], 0
    while got < size:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            raise TimeoutError("reading the PDF took too long")
        part = os.read(fd, min(size - got, 1 << 20))
        if not part:
            raise EOFError("the PDF reader stopped")
        parts.append(part)
        got += len(part)
    return b"".join(parts)


_READER = _Reader()
atexit.register(_READER.close)


def read_pdf(data: bytes, deadline: float) -> tuple[list[str], str, str]:
    """The text of each page, the title and the creation date (raw) of a PDF; PdfUnreadable
    if pypdf cannot read it, TimeoutError if it is not read by ``deadline``
    (``time.monotonic()``)."""
    reply = _READER.read(data, deadline)
    if "error" in reply:
        raise PdfUnreadable(str(reply["error"]))
    return [str(p) for p in reply["pages"]], str(reply["title"]), str(reply["date"])
