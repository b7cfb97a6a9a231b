"""The one engine the server holds, shared by the chat and the REST API.

Reads (questions, searches, documents, counts) go straight to the engine, whose index lets
them run beside a write. Uploads become background jobs (:mod:`qa.ui.jobs`): read, embedded and
stored one after another, off the request, with their progress on record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from qa.config import sample_corpus
from qa.engine import Engine
from qa.errors import DocumentNotFoundError, QAError
from qa.generate import LLM
from qa.index import IngestReport
from qa.loaders import SUPPORTED_SUFFIXES, load_all, load_bytes, unsupported_message
from qa.progress import Progress
from qa.types import Document
from qa.ui.admission import Admission
from qa.ui.jobs import Job, Jobs, QueueFull

MB = 1024 * 1024
MAX_FILES = 20  # files in one upload


class UploadRejected(QAError):
    """An upload refused before it reaches the index; ``status`` is the HTTP status to send.

    A QAError outside the tree drawn in :mod:`qa.errors`, on purpose: only the web layer
    speaks HTTP, so only it raises this (415 unsupported type, 413 too large, 429 too many
    uploads waiting).
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass
class Service:
    """What the web layer adds to the :class:`~qa.engine.Engine` it serves (questions,
    searches, documents): the upload limit, the background ingest jobs, and the admission
    that lets only so many questions be worked on at once."""

    engine: Engine
    max_upload_bytes: int = 20 * MB
    jobs: Jobs = field(default_factory=Jobs, repr=False)
    admission: Admission = field(default_factory=Admission, repr=False)

    def remove_exact(self, doc_id: str) -> Document:
        """Remove the document with exactly this id; a prefix or a source is not found."""
        try:
            return self.engine.remove(doc_id, exact=True)
        except DocumentNotFoundError:
            raise DocumentNotFoundError(
                f"no document with id {doc_id!r}; give the full id, as GET "
                "/api/v1/documents lists them"
            ) from None

    def check_upload(self, filename: str, size: int | None) -> str:
        """The file's name without folders, or UploadRejected (415 type, 413 size)."""
        name = upload_name(filename)
        suffix = PurePosixPath(name).suffix
        if suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UploadRejected(415, f"{name}: {unsupported_message(suffix)}")
        if size is not None and size > self.max_upload_bytes:
            raise UploadRejected(
                413,
                f"{name}: {size / MB:.1f} MB is over the {self.max_upload_mb:g} MB upload limit",
            )
        return name

    @property
    def max_upload_mb(self) -> float:
        return self.max_upload_bytes / MB

    def submit(self, files: Sequence[tuple[str, bytes]]) -> Job:
        """Start storing files (name, bytes) already passed by ``check_upload``, in the
        background; the job's report lists unreadable ones in ``errors``."""
        files = list(files)
        try:
            return self.jobs.submit([n for n, _ in files], lambda p: self._ingest(files, p))
        except QueueFull as exc:
            raise UploadRejected(429, f"{exc}; try again later") from None

    def _ingest(self, files: Sequence[tuple[str, bytes]], progress: Progress) -> IngestReport:
        docs, errors = load_all(files, lambda file: read_upload(*file), progress)
        report = self.engine.add_documents(docs, progress=progress) if docs else IngestReport()
        report.errors[:0] = errors
        return report


def read_upload(name: str, data: bytes) -> Document:
    """An uploaded report, or IngestError. Its source is its file name, so uploading a new
    version of a file replaces the old one."""
    return load_bytes(data, name, name)


def upload_name(filename: str) -> str:
    """The last part of an uploaded file's name (browsers may send a path), or 'upload'."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"


def open_engine(
    path: str | Path | None,
    *,
    model: str | None = None,
    sample: bool = True,
    llm: LLM | None = None,
) -> tuple[Engine, IngestReport | None]:
    """The engine over the index at ``path`` (created if missing), its models loaded; an empty
    index gets the sample reports."""
    engine = Engine.open(path, create=True, model=model, llm=llm)
    try:
        report = None
        if sample and engine.counts()["documents"] == 0:
            report = engine.add([sample_corpus()])
        engine.warm_up()
    except BaseException:
        engine.close()
        raise
    return engine, report
