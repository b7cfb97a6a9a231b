"""Request and response models of the REST API; their fields match the ``to_dict()`` of
:mod:`qa.types`, so ``POST /api/v1/ask`` returns exactly what ``qa ask --json`` prints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qa.answer.question import MAX_QUESTION_CHARS
from qa.options import ASK_K, SEARCH_K, AskOptions, Filters, Mode, SearchOptions
from qa.types import MAX_TITLE

JobState = Literal["queued", "running", "done", "failed"]
MAX_K = 100  # passages a search may return
MAX_ASK_K = 20  # passages an answer may read: each costs sentence embeddings (the chat's top)
MAX_HISTORY = 50
# the question's own length is checked by qa.answer, with a message that says how long it is
Text = Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]


class FiltersIn(BaseModel):
    """Which documents to draw on; every given filter must hold."""

    model_config = ConfigDict(extra="forbid")

    doc_ids: list[str] | None = Field(default=None, description="document ids (or id prefixes)")
    sources: list[str] | None = Field(
        default=None, description="sources containing any of these texts"
    )
    date_from: dt.date | None = Field(
        default=None, description="documents dated on or after this day"
    )
    date_to: dt.date | None = Field(
        default=None, description="documents dated on or before this day"
    )

    def filters(self) -> Filters:
        """As the engine takes them (ValueError for an id prefix too short)."""
        start, end = (d.isoformat() if d else None for d in (self.date_from, self.date_to))
        return Filters(self.doc_ids or (), self.sources or (), start, end)


class AskIn(BaseModel):
    # the example /docs offers, which must work as it is: no filters, whose generated
    # placeholders ("string", today's date) would match no report
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "How many Kinzhal missiles were fired?"}]},
    )

    question: str = Field(
        ..., description="the question", examples=["Who is the mayor of Kharkiv?"]
    )
    k: int = Field(default=ASK_K, ge=1, le=MAX_ASK_K, description="passages to read")
    mode: Mode = "hybrid"
    filters: FiltersIn = Field(default_factory=FiltersIn)
    history: list[Text] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="earlier questions of the conversation, oldest first, for follow-ups",
    )

    def options(self) -> AskOptions:
        return AskOptions(self.k, self.mode, self.filters.filters())


class SearchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "Kinzhal missiles", "k": 3, "mode": "hybrid"}]},
    )

    query: str = Field(
        ...,
        max_length=MAX_QUESTION_CHARS,
        description="what to look for",
        examples=["Kinzhal missiles"],
    )
    k: int = Field(default=SEARCH_K, ge=1, le=MAX_K, description="passages to return")
    mode: Mode = "hybrid"
    filters: FiltersIn = Field(default_factory=FiltersIn)

    def options(self) -> SearchOptions:
        return SearchOptions(self.k, self.mode, self.filters.filters())


class CitationOut(BaseModel):
    """A verbatim quote: the document's text at ``start:end`` is exactly ``quote``."""

    n: int
    doc_id: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    quote: str
    answer_start: int | None
    answer_end: int | None
    date: str | None


class HitOut(BaseModel):
    """A retrieved passage with every retriever's score and rank."""

    rank: int
    score: float
    dense_score: float | None
    bm25_score: float | None
    dense_rank: int | None
    bm25_rank: int | None
    doc_id: str
    title: str
    source: str
    date: str | None
    page: int | None
    start: int
    end: int
    text: str


class SourceOut(BaseModel):
    n: int = Field(description="the number the language model cites it by, as [n]")
    doc_id: str
    title: str
    source: str
    start: int
    end: int


class ClaimOut(BaseModel):
    text: str = Field(description="one sentence of the generated answer")
    citations: list[int] = Field(description="the passages it cites that exist")
    supported: bool = Field(description="every figure and name in it is in a cited passage")
    problems: list[str] = Field(description="why it is not supported")
    removed: list[int] = Field(description="citation numbers it gave that no passage has")


class GeneratedOut(BaseModel):
    """A language model's answer, when the server has one configured (``qa serve
    --llm-url``): checked sentence by sentence against the passages it cites."""

    model: str
    text: str
    claims: list[ClaimOut]
    sources: list[SourceOut]
    note: str | None = Field(description="why there is no generated text (endpoint failed)")
    supported_share: float | None


class AnswerOut(BaseModel):
    """The answer text with ``[n]`` markers, its short answer and the citations behind it."""

    question: str
    answer: str
    short_answer: str | None
    abstained: bool = Field(..., description="true when the reports don't say")
    confidence: float
    citations: list[CitationOut]
    related: list[HitOut] = Field(..., description="closest passages, when abstained")
    generated: GeneratedOut | None = Field(
        None, description="only when the server has a language model: its checked answer"
    )


class SearchOut(BaseModel):
    query: str
    mode: Mode
    hits: list[HitOut]


class DocumentSummary(BaseModel):
    id: str
    source: str
    title: str
    format: str
    date: str | None
    pages: list[int]


class DocumentPatch(BaseModel):
    """A report's title and/or date as a person knows them better than its file does."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Kinzhal strikes", "date": "2023-03-09"}]},
    )

    title: str | None = Field(default=None, max_length=MAX_TITLE, description="its title")
    date: str | None = Field(default=None, description="its date, as YYYY-MM-DD")

    @model_validator(mode="after")
    def some_change(self) -> DocumentPatch:
        if self.title is None and self.date is None:
            raise ValueError("give a title or a date (or both)")
        return self


class DocumentListed(BaseModel):
    id: str
    source: str
    title: str
    format: str
    date: str | None
    passages: int = Field(description="how many passages (chunks) the report is cut into")


class DocumentOut(DocumentSummary):
    text: str


class DocumentBrief(BaseModel):
    id: str
    source: str
    title: str


class IngestErrorOut(BaseModel):
    path: str
    error: str


class IngestOut(BaseModel):
    """What an upload did to the index."""

    added: list[DocumentBrief]
    replaced: list[DocumentBrief]
    unchanged: list[DocumentBrief]
    errors: list[IngestErrorOut]


class JobOut(BaseModel):
    """An upload being stored in the background; ``report`` once it is done."""

    id: str
    state: JobState
    stage: str = Field(description="queued, reading, embedding, done or failed")
    done: int = Field(description="files read or passages embedded so far, in this stage")
    total: int = Field(description="files or passages this stage has in all")
    files: list[str]
    report: IngestOut | None
    error: str | None


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    model: str
    counts: dict[str, int]


class ErrorOut(BaseModel):
    detail: str
