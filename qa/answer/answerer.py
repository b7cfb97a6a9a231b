"""The one path from a question to an answer: search once, read once, cite verbatim.

The index finds the passages; the learned reader (:mod:`qa.reader`) reads the question with
each of them and points at the answer span; :mod:`qa.answer.compose` turns its answers into
the reply, with the sentences that say so quoted from their reports. The CLI, the web service
and ``qa eval`` all call :func:`ask`, and get in the :class:`~qa.types.Answer` everything they
show, the documents it cites included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Sequence

from qa.answer.compose import NUMERIC_KINDS, abstain, compose
from qa.answer.question import Question, one_figure, parse_question
from qa.answer.verify import shipped
from qa.generate import LLM, generate, ordered
from qa.index import Filters, Index
from qa.reader import Passage, Reader, Reading, load_reader, read_passages
from qa.types import Answer, Document, Hit

# The confidence (a calibrated probability of being right) under which to abstain, chosen on
# the reliability curve of held-out questions by python -m qa.eval.calibrate and shipped
# with the calibration (qa/answer/calibration.json).
ABSTAIN_BELOW = shipped().abstain
DEFAULT_K = 6


def ask(
    index: Index,
    question: str,
    *,
    k: int = DEFAULT_K,
    mode: str = "hybrid",
    history: Sequence[str] = (),
    doc_ids: list[str] | None = None,
    sources: list[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    abstain_below: float = ABSTAIN_BELOW,
    reader: Reader | None = None,
    llm: LLM | None = None,
) -> Answer:
    """Answer ``question`` from the ``k`` best passages of the index.

    ``history`` holds the earlier questions of a chat, for follow-ups ("and how many were
    intercepted?"). A reply whose confidence is under ``abstain_below`` says the reports don't
    say (``python -m qa.eval.bench.threshold`` measures where to put it). ``reader`` defaults to the
    reader shipped in the package (:func:`qa.reader.load_reader`). With ``llm``, a language
    model also writes an answer from the same passages, checked (``Answer.generated``).
    """
    answer = None
    for event in ask_stream(
        index,
        question,
        k=k,
        mode=mode,
        history=history,
        doc_ids=doc_ids,
        sources=sources,
        date_from=date_from,
        date_to=date_to,
        abstain_below=abstain_below,
        reader=reader,
        llm=llm,
    ):
        if isinstance(event, Answer):
            answer = event
    assert answer is not None
    return answer


def ask_stream(
    index: Index,
    question: str,
    *,
    k: int = DEFAULT_K,
    mode: str = "hybrid",
    history: Sequence[str] = (),
    doc_ids: list[str] | None = None,
    sources: list[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    abstain_below: float = ABSTAIN_BELOW,
    reader: Reader | None = None,
    llm: LLM | None = None,
) -> Generator[Answer | str, None, None]:
    """:func:`ask`, as it happens: the extractive answer at once; then, with ``llm``, the
    generated text piece by piece (strings; "" each second the model writes nothing, so a
    server can see whether its client is still there) and the answer again with it checked.
    Closing the generator hangs up on the model."""
    if not 0.0 <= abstain_below <= 1.0:
        raise ValueError(f"abstain_below must be in [0, 1], got {abstain_below}")
    q = parse_question(question, history)
    hits = index.search(
        q.query,
        k=k,
        mode=mode,
        doc_ids=doc_ids,
        sources=sources,
        date_from=date_from,
        date_to=date_to,
    )
    documents = index.documents_by_id(h.doc_id for h in hits)
    hits = [h for h in hits if h.doc_id in documents]
    filters = Filters(doc_ids, sources, date_from, date_to)
    if not hits and filters.active and mode != "bm25":
        # dense search finds some passage in any report a filter lets through: none does
        yield abstain(q, [], documents, 0.0, no_match(filters))
        return
    if not hits:
        yield abstain(q, [], documents, 0.0)
        return
    answer = answer_hits(q, hits, documents, abstain_below=abstain_below, reader=reader)
    yield answer
    if llm is None:
        return
    for piece in generate(llm, question, ordered(answer, hits)):
        if isinstance(piece, str):
            yield piece
        else:
            yield dataclasses.replace(answer, generated=piece)


def answer_hits(
    q: Question,
    hits: list[Hit],
    documents: dict[str, Document],
    *,
    abstain_below: float = ABSTAIN_BELOW,
    reader: Reader | None = None,
) -> Answer:
    """The reply to ``q`` from passages already found (their documents given by id): read,
    verified, calibrated and cited (``qa.eval.calibrate`` reads gold paragraphs the same
    way, with :func:`read_hits` and :func:`qa.answer.compose.assess`)."""
    return compose(q, hits, read_hits(q, hits, reader), documents, abstain_below)


def read_hits(q: Question, hits: list[Hit], reader: Reader | None = None) -> Reading:
    """The reader's answers in the passages of ``hits``."""
    passages = [Passage(h.doc_id, h.start, h.text) for h in hits]
    # a follow-up ("who operates it?") is searched and read with the words it borrows from
    # the chat: on the sample reports that reads right more often than the bare question or
    # the question after the one it follows (which the reader answers again)
    accept = one_figure if q.kind in NUMERIC_KINDS else None
    return read_passages(reader or load_reader(), q.query, passages, accept)


def no_match(filters: Filters) -> str:
    """Why a question with these filters has nothing to be answered from."""
    parts = []
    if filters.doc_ids:
        parts.append("document " + " or ".join(filters.doc_ids))
    if filters.sources:
        parts.append("source containing " + " or ".join(f"“{s}”" for s in filters.sources))
    if filters.date_from or filters.date_to:
        span = f"from {filters.date_from or 'any date'} to {filters.date_to or 'any date'}"
        parts.append(f"dated {span} (undated reports are left out by a date filter)")
    return f"No report matches the filters: {'; '.join(parts)}. Change or clear the filters."
