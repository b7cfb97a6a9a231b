"""Answers across passages: the reader's best span of each passage, placed in its document,
the same answer from several passages merged, and the passages re-ranked by what they hold.

Span scores (start logit + end logit) compare across passages, so the best answer is the
highest-scoring span anywhere; a passage's margin over "no answer" says whether it answers
at all, and the best margin is what abstention looks at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qa.reader.reader import Reader, Span


@dataclass(frozen=True)
class Passage:
    """Text to read, and where it sits: ``document.text[start:start + len(text)] == text``."""

    doc_id: str
    start: int
    text: str


@dataclass
class Found:
    """One answer: where it was read first (best score), and every passage that gave it."""

    text: str
    doc_id: str
    start: int
    end: int
    score: float
    margin: float
    passages: list[int] = field(default_factory=list)


def find_answers(reader: Reader, question: str, passages: Sequence[Passage]) -> list[Found]:
    """Distinct answers, best first; each passage's best span, in document offsets."""
    spans = reader.read(question, [p.text for p in passages])
    found: dict[str, Found] = {}
    for span in sorted(spans, key=lambda s: -s.score):
        passage = passages[span.passage]
        text = passage.text[span.start : span.end]
        key = answer_key(text)
        if not key:
            continue
        if key in found:
            found[key].passages.append(span.passage)
            found[key].margin = max(found[key].margin, span.margin)
            continue
        found[key] = Found(
            text,
            passage.doc_id,
            passage.start + span.start,
            passage.start + span.end,
            span.score,
            span.margin,
            [span.passage],
        )
    return list(found.values())


def rerank(spans: Sequence[Span], count: int) -> list[int]:
    """Passage indices ordered by their best span's score; passages without one go last, in
    their retrieval order."""
    scored = {s.passage: s.score for s in spans}
    return sorted(range(count), key=lambda i: (i not in scored, -scored.get(i, 0.0), i))


def answer_key(text: str) -> str:
    """What makes two answers the same: SQuAD's normalisation, number words as digits."""
    from qa.eval.metrics import normalize_answer

    return normalize_answer(text)
