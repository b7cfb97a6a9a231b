"""reportqa: question answering over news reports, every answer tied to its source's exact words.

import qa

index = qa.Index.open("reports-index", create=True)
index.add(["reports/"])
for hit in index.search("how many Kinzhal missiles were fired", k=3):
    print(hit.title, hit.start, hit.end, hit.text)
print(qa.ask(index, "How many Kinzhal missiles were fired?").short_answer)  # six

reader = qa.load_reader()  # the reader alone: a question and passages in, answers with spans out
passages = [qa.Passage(hit.doc_id, hit.start, hit.text) for hit in index.search("Kinzhal", k=3)]
print(qa.read_passages(reader, "How many Kinzhal missiles were fired?", passages).answers[0].text)

from qa.generate import LLM  # optional: a language model writes an answer too, checked
llm = LLM("http://localhost:8080/v1", "a-model")
print(qa.ask(index, "What happened in Kharkiv?", llm=llm).generated.text)  # checked, with [n]
"""

__version__ = "0.1.0"

from qa.answer import ask, ask_stream
from qa.embed import load_embedder
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
from qa.index import Index, IngestReport
from qa.loaders import load_bytes, load_file
from qa.reader import Passage, Reader, ReaderAnswer, Reading, load_reader, read_passages
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
    Source,
)

__all__ = [
    "Answer",
    "Catalog",
    "Chunk",
    "Citation",
    "Claim",
    "Document",
    "DocumentInfo",
    "DocumentNotFoundError",
    "Generated",
    "GenerationError",
    "Hit",
    "Index",
    "IndexFormatError",
    "IndexNotFoundError",
    "IndexUnavailableError",
    "IngestError",
    "IngestReport",
    "InvalidQuestionError",
    "ModelLoadError",
    "ModelMismatchError",
    "Passage",
    "QAError",
    "Reader",
    "ReaderAnswer",
    "Reading",
    "Source",
    "__version__",
    "ask",
    "ask_stream",
    "load_bytes",
    "load_embedder",
    "load_file",
    "load_reader",
    "read_passages",
]
