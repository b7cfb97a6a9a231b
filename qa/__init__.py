"""reportqa: question answering over news reports, every answer tied to its source's exact words."""

from qa.errors import (
    DocumentNotFoundError,
    IndexFormatError,
    IndexNotFoundError,
    IngestError,
    InvalidQuestionError,
    ModelMismatchError,
    QAError,
)
from qa.types import Answer, Chunk, Citation, Document, Hit

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "DocumentNotFoundError",
    "Hit",
    "IndexFormatError",
    "IndexNotFoundError",
    "IngestError",
    "InvalidQuestionError",
    "ModelMismatchError",
    "QAError",
    "__version__",
]
