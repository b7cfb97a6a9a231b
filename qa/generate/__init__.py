"""Optional generated answers: a language model writes a short cited answer from the passages
the extractive answer was read from, and every sentence of it is checked against them.

Off unless an endpoint is given (:class:`LLM`); the extractive answer and its verbatim
citations always stay in the reply. A failing endpoint gives a ``Generated`` with a note
instead of text, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from qa.errors import GenerationError
from qa.generate.check import check
from qa.generate.llm import KEY_ENV, LLM
from qa.generate.prompt import messages
from qa.types import Answer, Generated, Hit, Source

log = logging.getLogger(__name__)

__all__ = ["KEY_ENV", "LLM", "generate", "ordered"]


def ordered(answer: Answer, hits: Sequence[Hit]) -> list[Hit]:
    """The passages in the order the model numbers them: those holding the extractive
    answer's citations first, in the citations' order, so its [n] match where they can."""
    first: list[Hit] = []
    for c in answer.citations:
        for hit in hits:
            if c.within(hit.doc_id, hit.start, hit.end) and hit not in first:
                first.append(hit)
                break
    return first + [h for h in hits if h not in first]


def generate(llm: LLM, question: str, hits: Sequence[Hit]) -> Iterator[str | Generated]:
    """The model's answer as it is written (strings), then checked (a ``Generated``)."""
    sources = tuple(
        Source(n, h.doc_id, h.title, h.source, h.start, h.end) for n, h in enumerate(hits, 1)
    )
    texts = [h.text for h in hits]
    parts: list[str] = []
    try:
        for piece in llm.stream(messages(question, sources, texts)):
            parts.append(piece)
            yield piece
    except GenerationError as exc:
        # the note goes to every user, the endpoint's address only to the server's log
        log.warning("no generated answer from %s at %s: %s", llm.model, llm.url, exc)
        yield Generated(llm.model, "", (), sources, f"No generated answer: {exc}.")
        return
    written = "".join(parts).strip()
    if not written:
        yield Generated(llm.model, "", (), sources, "No generated answer: the model wrote nothing.")
        return
    text, claims = check(written, texts)
    yield Generated(llm.model, text, claims, sources)
