"""The PDF reader's own process: pypdf's text, title and date of each PDF sent to it.

Run by :mod:`qa.pdf` as ``python -I pdf_worker.py`` (isolated: this file imports only the
standard library and pypdf, never the ``qa`` package), it reads requests on stdin and
answers on stdout until stdin closes. A request is an 8-byte big-endian length and that many
bytes of PDF; an answer is an 8-byte length and that much JSON: ``{"pages": [text, ...],
"title": str, "date": str}``, or ``{"error": reason}`` for a file pypdf cannot read.

Its address space is capped (``MEMORY`` bytes, or the first argument): a compression bomb
fails with MemoryError here instead of taking the server's memory.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import warnings
from typing import Any, BinaryIO

MEMORY = 2 * 1024**3
HEADER = 8


def read_message(stream: BinaryIO) -> bytes | None:
    """One length-prefixed message, or None at the end of the stream."""
    head = stream.read(HEADER)
    if len(head) < HEADER:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    return body if len(body) == size else None


def frame(body: bytes) -> bytes:
    """``body`` with its length in front."""
    return len(body).to_bytes(HEADER, "big") + body


def extract(data: bytes) -> dict[str, Any]:
    """The pages' text, title and date of a PDF, or its error."""
    import pypdf
    from pypdf.errors import DependencyError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return {"error": "encrypted PDF (a password is needed)"}
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = str(info.title or "") if info else ""
        date = str(info["/CreationDate"]) if info and "/CreationDate" in info else ""
    except DependencyError:
        return {"error": "encrypted PDF (needs the 'cryptography' package)"}
    except MemoryError:
        return {"error": "unreadable PDF: it needs more memory than a report can take"}
    except Exception as exc:  # pypdf raises many kinds on damaged files
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return {"error": f"unreadable PDF: {reason or type(exc).__name__}"}
    return {"pages": pages, "title": title, "date": date}


def serve(memory: int = MEMORY) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ImportError, ValueError, OSError):  # not on this platform, or not allowed
        pass
    logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)
    warnings.simplefilter("ignore")
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (data := read_message(source)) is not None:
        sink.write(frame(json.dumps(extract(data)).encode()))
        sink.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY)
