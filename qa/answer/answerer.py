"""The one path from a question to an answer: search once, read once, cite verbatim.

The index finds the passages; the learned reader (:mod:`qa.reader`) reads the question with
each of them and points at the answer span; :mod:`qa.answer.compose` turns its answers into
the reply, with the sentences that say so quoted from their reports. :class:`qa.Engine` calls
:func:`ask_stream` for every front (the CLI, the web service, ``qa eval``, the Python API), which
get in the :class:`~qa.types.Answer` everything they show, the documents it cites included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Sequence

from qa.answer.compose import NUMERIC_KINDS, abstain, compose
from qa.answer.question import Question, one_figure, parse_question
from qa.answer.verify import shipped
from qa.generate import LLM, generate, ordered
from qa.index import Index
from qa.options import AskOptions
from qa.reader import Passage, Reader, Reading, read_passages
from qa.types import Answer, Document, Hit

# The confidence (a calibrated probability of being right) under which to abstain, chosen on
# the reliability curve of held-out questions by python -m qa.eval.calibrate and shipped
# with the calibration (qa/answer/calibration.json).
ABSTAIN_BELOW = shipped().abstain


def ask_stream(
    index: Index,
    reader: Reader,
    question: str,
    options: AskOptions = AskOptions(),
    *,
    history: Sequence[str] = (),
    llm: LLM | None = None,
) -> Generator[Answer | str, None, None]:
    """Answer ``question`` from the passages ``options`` find in the index, read by
    ``reader``: the extractive answer at once; then, with ``llm``, the generated text piece by
    piece (strings; "" each second the model writes nothing, so a server can see whether its
    client is still there) and the answer again with it checked. Closing the generator hangs
    up on the model. :class:`qa.Engine` is the front that calls it.

    ``history`` holds the earlier questions of a chat, for follow-ups ("and how many were
    intercepted?"). A reply whose confidence is under the options' ``abstain_below`` (default
    :data:`ABSTAIN_BELOW`) says the reports don't say.
    """
    q = parse_question(question, history)
    filters = options.filters
    found = index.search(q.query, options.k, mode=options.mode, filters=filters)
    documents = index.documents_by_id(h.doc_id for h in found)
    hits = [h for h in found if h.doc_id in documents]
    if found.matching == 0:
        yield abstain(q, [], documents, 0.0, filters.describe())
        return
    if not hits:
        yield abstain(q, [], documents, 0.0)
        return
    below = ABSTAIN_BELOW if options.abstain_below is None else options.abstain_below
    answer = answer_hits(q, hits, documents, reader, abstain_below=below)
    yield answer
    if llm is None:
        return
    for piece in generate(llm, question, ordered(answer, hits)):
        if isinstance(piece, str):
            yield piece
        else:
            given = {s.doc_id: documents[s.doc_id] for s in piece.sources if s.doc_id in documents}
            yield dataclasses.replace(
                answer, generated=piece, documents={**given, **answer.documents}
            )


def answer_hits(
    q: Question,
    hits: list[Hit],
    documents: dict[str, Document],
    reader: Reader,
    *,
    abstain_below: float = ABSTAIN_BELOW,
) -> Answer:
    """The reply to ``q`` from passages already found (their documents given by id): read,
    verified, calibrated and cited (``qa.eval.calibrate`` reads gold paragraphs the same
    way, with :func:`read_hits` and :func:`qa.answer.compose.assess`)."""
    return compose(q, hits, read_hits(q, hits, reader), documents, abstain_below)


def read_hits(q: Question, hits: list[Hit], reader: Reader) -> Reading:
    """The reader's answers in the passages of ``hits``."""
    passages = [Passage(h.doc_id, h.start, h.text) for h in hits]
    # a follow-up ("who operates it?") is searched and read with the words it borrows from
    # the chat: on the sample reports that reads right more often than the bare question or
    # the question after the one it follows (which the reader answers again)
    accept = one_figure if q.kind in NUMERIC_KINDS else None
    return read_passages(reader, q.query, passages, accept)
