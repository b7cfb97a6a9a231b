"""Answers across passages: the reader's best span of each passage, placed in its document,
the same answer from several passages merged, and the passages re-ranked by what they hold.

A reader trained on single paragraphs scores spans that compare poorly across passages, so
answers are ranked by each span's margin over its own passage's "no answer", less a prior on
the passage's retrieval rank (``RANK_PRIOR``: measured with the shipped weights on 400
questions of the held-out SQuAD articles, open corpus, no abstention: F1 0.633 by span score,
0.640 by margin, 0.644 with this prior, 0.651 with a prior of 2, within noise of it and
weaker at abstaining on the sample set).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from qa.numbers import normalize_answer
from qa.reader.reader import Reader, Span

RANK_PRIOR = 4.0  # logits a passage's answer loses per e-fold of its retrieval rank


@dataclass(frozen=True)
class Passage:
    """Text to read, and where it sits: ``document.text[start:start + len(text)] == text``."""

    doc_id: str
    start: int
    text: str


@dataclass(frozen=True)
class Place:
    """Where an answer was read: a document span, and that reading's ranking score."""

    doc_id: str
    start: int
    end: int
    score: float


@dataclass
class ReaderAnswer:
    """One answer: where it was read first (best score), every passage that gave it, and
    the other places it was read (``also``, best first)."""

    text: str
    doc_id: str
    start: int
    end: int
    score: float
    margin: float
    passages: list[int] = field(default_factory=list)
    also: list[Place] = field(default_factory=list)


@dataclass(frozen=True)
class Reading:
    """What the reader made of the passages: distinct answers, best first (``score`` ranks
    them), and the passages re-ranked by their best span (indices into the passages given)."""

    answers: list[ReaderAnswer]
    order: list[int]


def read_passages(
    reader: Reader,
    question: str,
    passages: Sequence[Passage],
    accept: Callable[[str], bool] | None = None,
) -> Reading:
    """Read ``question`` with each passage (in retrieval order) in one batched pass; with
    ``accept``, only answers whose text it accepts (see :meth:`Reader.read`)."""
    spans = reader.read(question, [p.text for p in passages], accept=accept)
    return Reading(merge(spans, passages), rerank(spans, len(passages)))


def merge(spans: Sequence[Span], passages: Sequence[Passage]) -> list[ReaderAnswer]:
    """Each passage's best span placed in its document, the same answer (however written)
    from several passages merged into one, best first."""
    found: dict[str, ReaderAnswer] = {}
    for span in sorted(spans, key=lambda s: -ranking(s)):
        passage = passages[span.passage]
        text = passage.text[span.start : span.end]
        key = normalize_answer(text)
        if not key:
            continue
        start = passage.start + span.start
        if key in found:
            same = found[key]
            same.passages.append(span.passage)
            same.margin = max(same.margin, span.margin)
            same.also.append(Place(passage.doc_id, start, start + len(text), ranking(span)))
            continue
        found[key] = ReaderAnswer(
            text,
            passage.doc_id,
            start,
            start + len(text),
            ranking(span),
            span.margin,
            [span.passage],
        )
    return list(found.values())


def ranking(span: Span) -> float:
    """How good an answer a passage's best span is: its margin, less the rank prior."""
    return span.margin - RANK_PRIOR * math.log(span.passage + 1)


def rerank(spans: Sequence[Span], count: int) -> list[int]:
    """Passage indices ordered by their best span's ranking; passages without one go last,
    in their retrieval order."""
    scored = {s.passage: ranking(s) for s in spans}
    return sorted(range(count), key=lambda i: (i not in scored, -scored.get(i, 0.0), i))
