"""Exceptions raised by reportqa.

Every error the package raises on purpose derives from ``QAError``, so a caller can catch one type::

    QAError
    ├── IndexNotFoundError      no index at the given directory yet
    ├── IndexFormatError        the directory holds something that is not a usable index
    ├── IndexUnavailableError   the index's server is out of reach, or its backend not installed
    ├── ModelMismatchError      the index was built with another embedding model
    ├── ModelLoadError          the embedding model or the reader cannot be loaded (no downloads)
    ├── IngestError             a file could not be read as a report (carries ``path``)
    ├── DocumentNotFoundError   no document with that id or source
    ├── GenerationError         the language-model endpoint failed (out of reach, too slow,
    │                           rate limited, or answered something that is no completion)
    └── InvalidQuestionError    empty, binary or oversized question (also a ``ValueError``)
"""

from __future__ import annotations

from pathlib import Path


class QAError(Exception):
    """Base class of every error reportqa raises on purpose."""


class IndexNotFoundError(QAError):
    """There is no index in the given directory."""


class IndexFormatError(QAError):
    """The directory holds an index this version cannot read, or a damaged one."""


class IndexUnavailableError(QAError):
    """The index's server (Milvus) cannot be reached, or its backend is not installed."""


class ModelMismatchError(QAError):
    """The index was built with a different embedding model than the one asked for."""


class ModelLoadError(QAError):
    """The embedding model or the reader could not be loaded from local files."""


class IngestError(QAError):
    """A file could not be read as a report."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DocumentNotFoundError(QAError):
    """No stored document matches the given id or source."""


class GenerationError(QAError):
    """The language-model endpoint could not give an answer; the message says why, in words
    a user can be shown."""


class InvalidQuestionError(QAError, ValueError):
    """The question cannot be asked: empty, binary, or too long."""
