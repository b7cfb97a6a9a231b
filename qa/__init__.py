"""reportqa: question answering over news reports, every answer tied to its source's exact words.

import qa

engine = qa.Engine.open("reports-index", create=True)
engine.add(["reports/"])
for hit in engine.search("how many Kinzhal missiles were fired", qa.SearchOptions(k=3)):
    print(hit.title, hit.start, hit.end, hit.text)
print(engine.ask("How many Kinzhal missiles were fired?").short_answer)  # six
recent = qa.AskOptions(filters=qa.Filters(date_from="2023-03-01"))
print(engine.ask("Who is the mayor of Kharkiv?", recent).answer)

reader = qa.load_reader()  # the reader alone: a question and passages in, answers with spans out
passages = [qa.Passage(h.doc_id, h.start, h.text) for h in engine.search("Kinzhal")]
print(qa.read_passages(reader, "How many Kinzhal missiles were fired?", passages).answers[0].text)

from qa.generate import LLM  # optional: a language model writes an answer too, checked
with qa.Engine.open("reports-index", llm=LLM("http://localhost:8080/v1", "a-model")) as writer:
    print(writer.ask("What happened in Kharkiv?").generated.text)  # checked, with [n]
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from qa.errors import (
    DocumentNotFoundError,
    GenerationError,
    IndexFormatError,
    IndexNotFoundError,
    IndexUnavailableError,
    IngestError,
    InvalidQuestionError,
    ModelLoadError,
    ModelMismatchError,
    QAError,
)
from qa.lazy import lazy_names
from qa.options import AskOptions, Filters, Mode, SearchOptions
from qa.types import (
    Answer,
    Catalog,
    Chunk,
    Citation,
    Claim,
    Document,
    DocumentInfo,
    Generated,
    Hit,
    Hits,
    Source,
)

if TYPE_CHECKING:
    from qa.embed import load_embedder
    from qa.engine import Answering, Engine
    from qa.index import Index, IngestReport
    from qa.loaders import load_bytes, load_file
    from qa.reader import Passage, Reader, ReaderAnswer, Reading, load_reader, read_passages

# imported when first used: the models and the index pull in torch, FAISS and the rest, which
# a command that only talks to a server (``qa ask`` with ``qa serve`` running) never needs
_LAZY = {
    "load_embedder": "qa.embed",
    "Answering": "qa.engine",
    "Engine": "qa.engine",
    "Index": "qa.index",
    "IngestReport": "qa.index",
    "load_bytes": "qa.loaders",
    "load_file": "qa.loaders",
    **dict.fromkeys(
        ["Passage", "Reader", "ReaderAnswer", "Reading", "load_reader", "read_passages"],
        "qa.reader",
    ),
}


__getattr__ = lazy_names(__name__, _LAZY)

__all__ = [
    "Answer",
    "Answering",
    "AskOptions",
    "Catalog",
    "Chunk",
    "Citation",
    "Claim",
    "Document",
    "DocumentInfo",
    "DocumentNotFoundError",
    "Engine",
    "Filters",
    "Generated",
    "GenerationError",
    "Hit",
    "Hits",
    "Index",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexUnavailableError",
    "IngestError",
    "IngestReport",
    "InvalidQuestionError",
    "Mode",
    "ModelLoadError",
    "ModelMismatchError",
    "Passage",
    "QAError",
    "Reader",
    "ReaderAnswer",
    "Reading",
    "SearchOptions",
    "Source",
    "__version__",
    "load_bytes",
    "load_embedder",
    "load_file",
    "load_reader",
    "read_passages",
]
