"""The one index the server holds, shared by the chat and the REST API.

Reads (questions, searches, documents, counts) go straight to the index, which lets them run
beside a write. Uploads become background jobs (:mod:`qa.ui.jobs`): read, embedded and
stored one after another, off the request, with their progress on record.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from qa.answer import ask, ask_stream
from qa.config import sample_corpus
from qa.errors import DocumentNotFoundError, QAError
from qa.generate import LLM
from qa.index import Filters, Index, IngestReport
from qa.loaders import SUPPORTED_SUFFIXES, load_all, load_bytes, unsupported_message
from qa.progress import Progress
from qa.reader import load_reader
from qa.types import Answer, Catalog, Document, Hit
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
    """The index, its model, the upload limit, the background ingest jobs, and the language
    model that writes answers too, if one is configured."""

    index: Index
    max_upload_bytes: int = 20 * MB
    jobs: Jobs = field(default_factory=Jobs, repr=False)
    llm: LLM | None = None

    @property
    def model(self) -> str:
        return self.index.manifest.model

    def ask(
        self, question: str, *, k: int, mode: str, history: Sequence[str] = (), filters: Filters
    ) -> Answer:
        options = filters.kwargs()
        return ask(self.index, question, k=k, mode=mode, history=history, llm=self.llm, **options)

    def ask_stream(
        self, question: str, *, k: int, mode: str, history: Sequence[str] = (), filters: Filters
    ) -> Generator[Answer | str, None, None]:
        """The extractive answer, then (with a language model) its text as it is written and
        the answer again with it checked: :func:`qa.answer.ask_stream`."""
        options = filters.kwargs()
        return ask_stream(
            self.index, question, k=k, mode=mode, history=history, llm=self.llm, **options
        )

    def search(self, query: str, *, k: int, mode: str, filters: Filters) -> list[Hit]:
        return self.index.search(query, k=k, mode=mode, **filters.kwargs())

    def catalog(self, contains: str = "", *, limit: int, offset: int = 0) -> Catalog:
        return self.index.catalog(contains, limit=limit, offset=offset)

    def document(self, key: str) -> Document:
        return self.index.document(key)

    def document_exact(self, doc_id: str) -> Document:
        return self.index.document(doc_id, exact=True)

    def documents_by_id(self, ids: Iterable[str]) -> dict[str, Document]:
        return self.index.documents_by_id(ids)

    def remove(self, key: str) -> Document:
        """Remove the document with this id, unique id prefix or source."""
        return self.index.remove(key)

    def remove_exact(self, doc_id: str) -> Document:
        """Remove the document with exactly this id; a prefix or a source is not found."""
        try:
            return self.index.remove(doc_id, exact=True)
        except DocumentNotFoundError:
            raise DocumentNotFoundError(
                f"no document with id {doc_id!r}; give the full id, as GET "
                "/api/v1/documents lists them"
            ) from None

    def roots(self) -> list[str]:
        return self.index.roots()

    def counts(self) -> dict[str, int]:
        return self.index.counts()

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
        report = self.index.add_documents(docs, progress=progress) if docs else IngestReport()
        report.errors[:0] = errors
        return report


def read_upload(name: str, data: bytes) -> Document:
    """An uploaded report, or IngestError. Its source is its file name, so uploading a new
    version of a file replaces the old one."""
    return load_bytes(data, name, name)


def upload_name(filename: str) -> str:
    """The last part of an uploaded file's name (browsers may send a path), or 'upload'."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"


def open_index(
    path: str | Path | None, *, model: str | None = None, sample: bool = True
) -> tuple[Index, IngestReport | None]:
    """Open (or create) the index and load the models; an empty one gets the sample reports."""
    index = Index.open(path, create=True, model=model)
    try:
        report = None
        if sample and index.counts()["documents"] == 0:
            report = index.add([sample_corpus()])
        # load the models now, not on the first question
        index.embedder.encode(["warm up the model"])
        load_reader().read("warm up the reader", ["The reader is warm."])
    except BaseException:
        index.close()
        raise
    return index, report
