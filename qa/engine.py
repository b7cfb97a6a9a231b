"""The one front of reportqa: an index, its embedder, the reader and an optional language model.

The command line, the web service, ``qa eval`` and the Python API all go through
:class:`Engine`; :class:`qa.client.Client` speaks the same :class:`Answering` protocol to a
running server, with the same return types::

    with Engine.open("reports-index", create=True) as engine:
        engine.add(["reports/"])
        hits = engine.search("Kinzhal missiles", SearchOptions(k=3))
        print(engine.ask("How many Kinzhal missiles were fired?").short_answer)  # six
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from qa.answer import ask_stream
from qa.generate import LLM
from qa.index import Index, IngestReport
from qa.index.base import PathArg
from qa.options import AskOptions, SearchOptions
from qa.progress import Progress
from qa.reader import Reader, load_reader
from qa.types import Answer, Catalog, Document, Hit, Hits, Order


def final_answer(events: Iterable[Answer | str], answer: Answer | None = None) -> Answer:
    """The last answer ``events`` (an ask stream) give: with a language model, the one that
    holds its checked text; ``answer`` if the stream already gave its first."""
    for event in events:
        if isinstance(event, Answer):
            answer = event
    assert answer is not None, "an ask stream gives its answer first"
    return answer


class Answering(Protocol):
    """What answers questions: an :class:`Engine` here, or a server (:class:`qa.client.Client`)."""

    def search(self, query: str, options: SearchOptions = ...) -> list[Hit]: ...

    def ask_stream(
        self, question: str, options: AskOptions = ..., history: Sequence[str] = ()
    ) -> Iterator[Answer | str]: ...


class Engine:
    """Ask, search, add and remove reports of one index.

    ``reader`` is a loaded :class:`~qa.reader.Reader` or the folder of one (default:
    ``$QA_READER``, else the reader shipped in the package), loaded on first use or by
    :meth:`warm_up`; ``llm`` a language model that also writes an answer, checked.
    """

    def __init__(
        self, index: Index, *, reader: Reader | str | Path | None = None, llm: LLM | None = None
    ) -> None:
        self.index = index
        self.llm = llm
        self._reader = reader if isinstance(reader, Reader) else None
        self._reader_path = None if isinstance(reader, Reader) else reader

    @classmethod
    def open(
        cls,
        location: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        model: str | None = None,
        reader: Reader | str | Path | None = None,
        llm: LLM | None = None,
    ) -> Engine:
        """The engine over the index at ``location`` (see :meth:`qa.Index.open`: a folder or a
        ``milvus://`` address; default ``$QA_INDEX`` or the user data folder). A new index's
        chunking is chosen by opening it with :meth:`qa.Index.open` and passing it to
        ``Engine(index, ...)``."""
        return cls(Index.open(location, create=create, model=model), reader=reader, llm=llm)

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            self._reader = load_reader(self._reader_path)
        return self._reader

    @property
    def model(self) -> str:
        """The embedding model the index was built with."""
        return self.index.manifest.model

    @property
    def location(self) -> str:
        return self.index.location

    def warm_up(self) -> None:
        """Load the embedder and the reader now, not on the first question."""
        self.index.embedder.encode(["warm up the model"])
        self.reader.read("warm up the reader", ["The reader is warm."])

    # -- asking --------------------------------------------------------------------------

    def search(self, query: str, options: SearchOptions = SearchOptions()) -> Hits:
        """The passages ``options`` ask for, best first, and how many documents its filters
        let through (``Hits.matching``)."""
        return self.index.search(query, options.k, mode=options.mode, filters=options.filters)

    def ask(
        self, question: str, options: AskOptions = AskOptions(), history: Sequence[str] = ()
    ) -> Answer:
        """The answer to ``question`` (``history``: the chat's earlier questions), with its
        citations; with a language model, its checked answer in ``Answer.generated``."""
        return final_answer(self.ask_stream(question, options, history))

    def ask_stream(
        self, question: str, options: AskOptions = AskOptions(), history: Sequence[str] = ()
    ) -> Generator[Answer | str, None, None]:
        """:meth:`ask`, as it happens: the answer at once; with a language model, its text as
        it is written ("" while it is silent) and the answer again with it checked."""
        return ask_stream(self.index, self.reader, question, options, history=history, llm=self.llm)

    # -- the reports ---------------------------------------------------------------------

    def add(self, paths: PathArg, *, progress: Progress | None = None) -> IngestReport:
        """Ingest files and folders; bad files are reported in the report and skipped."""
        return self.index.add(paths, progress=progress)

    def add_documents(
        self, docs: Iterable[Document], *, progress: Progress | None = None
    ) -> IngestReport:
        """Store loaded documents (:func:`qa.load_file`, :func:`qa.load_bytes`)."""
        return self.index.add_documents(docs, progress=progress)

    def correct(
        self, key: str, *, title: str | None = None, date: str | None = None, exact: bool = False
    ) -> Document:
        """Give a report a better title and/or date (see :meth:`qa.index.Index.correct`)."""
        return self.index.correct(key, title=title, date=date, exact=exact)

    def remove(self, key: str, *, exact: bool = False) -> Document:
        """Remove a document by id, unique id prefix or source (with ``exact``: full id only)."""
        return self.index.remove(key, exact=exact)

    def remove_many(
        self, keys: Sequence[str], *, exact: bool = False, missing_ok: bool = False
    ) -> list[Document]:
        """Remove documents in one write, all or none, or all still stored with
        ``missing_ok`` (see :meth:`qa.index.Index.remove_many`)."""
        return self.index.remove_many(keys, exact=exact, missing_ok=missing_ok)

    def document(self, key: str, *, exact: bool = False) -> Document:
        return self.index.document(key, exact=exact)

    def documents(self) -> list[Document]:
        return self.index.documents()

    def documents_by_id(self, ids: Iterable[str]) -> dict[str, Document]:
        return self.index.documents_by_id(ids)

    def catalog(
        self, contains: str = "", *, limit: int = 100, offset: int = 0, order: Order = "source"
    ) -> Catalog:
        return self.index.catalog(contains, limit=limit, offset=offset, order=order)

    def counts(self) -> dict[str, int]:
        return self.index.counts()

    def roots(self) -> list[str]:
        return self.index.roots()

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
