"""reportqa: question answering over news reports, every answer tied to its source's exact words.

import qa

index = qa.Index.open("reports-index", create=True)
index.add(["reports/"])
for hit in index.search("how many Kinzhal missiles were fired", k=3):
    print(hit.title, hit.start, hit.end, hit.text)
print(qa.ask(index, "How many Kinzhal missiles were fired?").short_answer)  # six
"""

__version__ = "0.1.0"

from qa.answer import ask
from qa.embed import load_embedder
from qa.errors import (
    DocumentNotFoundError,
    IndexFormatError,
    IndexNotFoundError,
    IngestError,
    InvalidQuestionError,
    ModelLoadError,
    ModelMismatchError,
    QAError,
)
from qa.index import Index, IngestReport
from qa.loaders import load_bytes, load_file
from qa.types import Answer, Chunk, Citation, Document, Hit

__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "DocumentNotFoundError",
    "Hit",
    "Index",
    "IndexFormatError",
    "IndexNotFoundError",
    "IngestError",
    "IngestReport",
    "InvalidQuestionError",
    "ModelLoadError",
    "ModelMismatchError",
    "QAError",
    "__version__",
    "ask",
    "load_bytes",
    "load_embedder",
    "load_file",
]
