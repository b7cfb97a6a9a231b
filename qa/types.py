"""Core value types: documents, chunks, search hits, citations and answers.

All are frozen dataclasses with ``to_dict()``; offsets are character offsets into
``Document.text`` with the end excluded, so ``doc.text[c.start:c.end] == c.text`` always holds.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, NamedTuple, get_args


def is_text(value: str) -> bool:
    """False for a string holding undecodable bytes (lone surrogates, as Python keeps bytes
    that were not UTF-8), which no encoder, SQLite or JSON takes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def content_id(text: str) -> str:
    """Stable document id derived from the document text (16 hex digits of SHA-256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Document:
    """A report as stored: its extracted text and what is known about it.

    ``pages`` holds the character offset where each page starts (PDF only; empty otherwise).
    ``date`` is an ISO date (``YYYY-MM-DD``) when the document carries one.
    """

    text: str
    source: str
    title: str
    format: str
    date: str | None = None
    pages: tuple[int, ...] = ()
    id: str = ""

    def __post_init__(self) -> None:
        if not is_text(self.text):
            raise ValueError(
                f"the text of {self.source!r} holds bytes that are not valid text (not UTF-8); "
                "decode it with errors='replace' first"
            )
        if not self.id:
            object.__setattr__(self, "id", content_id(self.text))

    def page_at(self, offset: int) -> int | None:
        """1-based page number holding ``offset``, or None for documents without pages."""
        if not self.pages:
            return None
        return max(1, bisect.bisect_right(self.pages, offset))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pages"] = list(self.pages)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**{**data, "pages": tuple(data.get("pages") or ())})


@dataclass(frozen=True)
class DocumentInfo:
    """A stored report without its text, as a listing shows it; ``passages`` is its number
    of chunks."""

    id: str
    source: str
    title: str
    format: str
    date: str | None
    passages: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MAX_CATALOG = 10_000  # documents in one page of a listing
MAX_TITLE = 300  # characters of a title a person gives a report
Order = Literal["source", "title", "date"]  # a listing's order; "date": newest first
ORDERS: tuple[Order, ...] = get_args(Order)


class Catalog(NamedTuple):
    """One page of a document listing: how many documents match, and this page of them."""

    total: int
    documents: list[DocumentInfo]


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: ``text == document.text[start:end]``."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its document's metadata and every retriever's score.

    ``score`` is the score of the mode asked for (the fused RRF score in hybrid mode);
    ``dense_score`` is the cosine similarity and ``bm25_score`` the BM25 score, each None
    when that retriever was not run (and on Milvus, ``bm25_score`` of a hybrid hit outside
    BM25's candidates). Ranks are 1-based; None when the retriever did not
    place the chunk in its candidate list.
    """

    chunk: Chunk
    title: str
    source: str
    date: str | None
    rank: int
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def start(self) -> int:
        return self.chunk.start

    @property
    def end(self) -> int:
        return self.chunk.end

    @property
    def page(self) -> int | None:
        return self.chunk.page

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": self.score,
            "dense_score": self.dense_score,
            "bm25_score": self.bm25_score,
            "dense_rank": self.dense_rank,
            "bm25_rank": self.bm25_rank,
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hit:
        """The hit ``to_dict`` gave (its chunk ordinal, not in the dict, is 0)."""
        chunk = Chunk(data["doc_id"], 0, data["start"], data["end"], data["text"], data["page"])
        scores = ("rank", "score", "dense_score", "bm25_score", "dense_rank", "bm25_rank")
        return cls(
            chunk, data["title"], data["source"], data["date"], **{k: data[k] for k in scores}
        )


class Hits(list[Hit]):
    """A search's passages, best first, and how many documents its filters let through
    (``matching``: None when no filter was given), so that "no passage found" and "no report
    passes the filters" are told apart without guessing."""

    def __init__(self, hits: Iterable[Hit] = (), matching: int | None = None) -> None:
        super().__init__(hits)
        self.matching = matching


@dataclass(frozen=True)
class Citation:
    """A verbatim quote supporting an answer: ``document.text[start:end] == quote``.

    ``answer_start``/``answer_end`` locate the short answer inside the document text
    (document offsets, within ``start..end``), or are None when there is no short answer.
    """

    n: int
    doc_id: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    quote: str
    answer_start: int | None = None
    answer_end: int | None = None
    date: str | None = None

    def within(self, doc_id: str, start: int, end: int) -> bool:
        """Whether the quote starts inside ``[start, end)`` of document ``doc_id``."""
        return self.doc_id == doc_id and start <= self.start < end

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Source:
    """A passage a language model was given, as ``[n]``: where it stands in its report."""

    n: int
    doc_id: str
    title: str
    source: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer, as checked against the passages it cites.

    ``citations`` are the passage numbers it cites that exist; ``problems`` say why it is not
    supported (a figure, date or name none of its passages holds; no passage cited), and
    ``removed`` the citation numbers it gave that no passage has (taken out of ``text``).
    """

    text: str
    citations: tuple[int, ...]
    problems: tuple[str, ...] = ()
    removed: tuple[int, ...] = ()

    @property
    def supported(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "supported": self.supported}


@dataclass(frozen=True)
class Generated:
    """A language model's answer, checked sentence by sentence.

    ``text`` is what it wrote, less the citation numbers no passage has; ``note`` says why
    there is none (the model could not be reached, or answered garbage), in which case
    ``claims`` is empty and the extractive answer stands alone.
    """

    model: str
    text: str
    claims: tuple[Claim, ...] = ()
    sources: tuple[Source, ...] = ()
    note: str | None = None

    @property
    def supported_share(self) -> float | None:
        """The share of sentences judged supported; None when there are none."""
        if not self.claims:
            return None
        return sum(c.supported for c in self.claims) / len(self.claims)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "text": self.text,
            "claims": [c.to_dict() for c in self.claims],
            "sources": [s.to_dict() for s in self.sources],
            "note": self.note,
            "supported_share": self.supported_share,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Generated:
        claims = tuple(
            Claim(c["text"], tuple(c["citations"]), tuple(c["problems"]), tuple(c["removed"]))
            for c in data["claims"]
        )
        sources = tuple(Source(**s) for s in data["sources"])
        return cls(data["model"], data["text"], claims, sources, data.get("note"))


@dataclass(frozen=True)
class Answer:
    """The reply to a question: full text with ``[n]`` markers, short answer and citations.

    ``documents`` holds the cited (or related) documents by id, as they were read, so a
    caller can show them whole without fetching them again; ``to_dict`` leaves them out.
    ``generated`` is a language model's answer, when one was asked for (``to_dict`` has it
    then only).
    """

    question: str
    answer: str
    short_answer: str | None
    abstained: bool
    confidence: float
    citations: tuple[Citation, ...] = ()
    related: tuple[Hit, ...] = field(default=())
    documents: dict[str, Document] = field(default_factory=dict, repr=False, compare=False)
    generated: Generated | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "short_answer": self.short_answer,
            "abstained": self.abstained,
            "confidence": self.confidence,
            "citations": [c.to_dict() for c in self.citations],
            "related": [h.to_dict() for h in self.related],
        }
        if self.generated is not None:
            data["generated"] = self.generated.to_dict()
        return data

    @property
    def shown_doc_ids(self) -> set[str]:
        """The documents its sources show: cited, related, and given to a language model."""
        given = self.generated.sources if self.generated else ()
        return (
            {c.doc_id for c in self.citations}
            | {h.doc_id for h in self.related}
            | {s.doc_id for s in given}
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The answer ``to_dict`` gave (without its documents)."""
        return cls(
            data["question"],
            data["answer"],
            data["short_answer"],
            data["abstained"],
            data["confidence"],
            tuple(Citation.from_dict(c) for c in data["citations"]),
            tuple(Hit.from_dict(h) for h in data["related"]),
            generated=Generated.from_dict(data["generated"]) if data.get("generated") else None,
        )
