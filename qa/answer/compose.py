"""The reply from the reader's answers: its best span is the short answer, the sentence of the
report around it the quote; other reports where the same answer was read are cited too, and
ones that give another figure for the same quantity are shown beside it.

The confidence shown is the probability that the answer is right, from the evidence checks
and the calibration in :mod:`qa.answer.verify`; under ``abstain_below``, or where the
answer's sentence holds a rival of what the question asks about, the reply abstains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.figures import same_quantity, when
from qa.answer.question import Question
from qa.answer.verify import Calibration, features, shipped
from qa.numbers import find_numbers, parse_number
from qa.reader.answers import Place, ReaderAnswer, Reading
from qa.sentences import split_sentences
from qa.types import Answer, Citation, Document, Hit

# The ranking score (margin over "no answer", less the rank prior) from which another
# passage's reading of the same answer counts as support: where the uncalibrated reader was
# right about as often as not on held-out SQuAD (python -m qa.eval.bench.threshold, earlier
# weights).
SUPPORT_SCORE = 3.0
NUMERIC_KINDS = ("count", "number")
RELATED = 3  # passages offered when the reply abstains
_HEDGE = re.compile(
    r"\b(?:about|around|some|nearly|almost|roughly|approximately|at least|at most|more than|"
    r"less than|fewer than|over|under|up to|as many as|as few as|as much as)\s+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Assessed:
    """One of the reader's answers, the sentence that says it, and its evidence features."""

    answer: ReaderAnswer
    citation: Citation
    evidence: tuple[str, ...]  # the sentence, it with its neighbours, the passage, the report
    gap: float  # how far the best answer's score is ahead of the next one's (others: 0)
    features: list[float]


def assess(
    q: Question,
    hits: Sequence[Hit],
    reading: Reading,
    documents: dict[str, Document],
    limit: int | None = None,
) -> list[Assessed]:
    """The reader's answers, best first (the first ``limit``, if given), each with its
    sentence and the features :mod:`qa.answer.verify` weighs; answers whose words are not
    their document's own at their span are dropped."""
    answers = [a for a in reading.answers if documents[a.doc_id].text[a.start : a.end] == a.text]
    found = []
    for i, answer in enumerate(answers[:limit]):
        document = documents[answer.doc_id]
        bounds = _sentences(_place(answer), document)
        cited = _citation(1, _place(answer), document, bounds[1])
        window = document.text[bounds[0][0] : bounds[2][1]]
        passage = hits[answer.passages[0]].text
        # how far the best answer is ahead of the next (alone: far ahead); others: none
        gap = 0.0 if i else (answer.score - answers[1].score if len(answers) > 1 else 20.0)
        evidence = (cited.quote, window, passage, document.text)
        values = features(q, answer.text, evidence, answer.score, answer.margin, gap)
        found.append(Assessed(answer, cited, evidence, gap, values))
    return found


def compose(
    q: Question,
    hits: Sequence[Hit],
    reading: Reading,
    documents: dict[str, Document],
    abstain_below: float | None = None,
    calibration: Calibration | None = None,
) -> Answer:
    """The reply from what the reader read in ``hits`` (their documents given by id): its
    best answer, or an abstention when the probability that it is right is under
    ``abstain_below`` (default: the calibration's threshold)."""
    calibration = calibration or shipped()
    if abstain_below is None:
        abstain_below = calibration.abstain
    # only a figure is checked against the other answers' ("different figures")
    assessed = assess(q, hits, reading, documents, None if q.kind in NUMERIC_KINDS else 1)
    related = [hits[i] for i in reading.order]
    if not assessed:
        return abstain(q, related, documents, 0.0)
    best = assessed[0].answer
    p = round(calibration.probability(assessed[0].features), 3)
    if not calibration.answers(assessed[0].features, abstain_below):
        if calibration.vetoed(assessed[0].features):
            # say why: the best reading is about something else than the question
            return abstain(q, related, documents, p, _rival_reason(best))
        return abstain(q, related, documents, p)
    agree = _other_reports(
        [_place(best)], [place for place in best.also if place.score >= SUPPORT_SCORE]
    )
    differ = []
    for other in assessed[1:]:
        # another figure for the same quantity, that its own evidence makes as likely to be
        # right as an answer must be: the rank prior, which picks the best answer, does not
        # hide a report lower in the list
        mine, theirs = parse_number(best.text), parse_number(other.answer.text)
        if q.kind not in NUMERIC_KINDS or None in (mine, theirs) or mine == theirs:
            continue
        if not same_quantity(q, assessed[0].citation, other.citation, documents):
            continue
        if calibration.answers(other.features, abstain_below):
            differ.append(_place(other.answer))
    differ = _other_reports([_place(best), *agree], differ)
    cited_places = [_place(best), *agree, *differ]
    citations = [
        _citation(n, place, documents[place.doc_id]) for n, place in enumerate(cited_places, 1)
    ]
    quotes = "\n".join(f"{flat(c.quote)} [{c.n}]" for c in citations)
    if differ:
        shown = [(n, c) for n, c in enumerate(citations, 1) if n == 1 or n > 1 + len(agree)]
        parts = [f"{_hedged(c)} [{n}] ({when(c, documents)})" for n, c in shown]
        text = "The reports give different figures: " + "; ".join(parts) + ".\n\n" + quotes
    else:
        markers = "".join(f"[{c.n}]" for c in citations)
        text = f"{_hedged(citations[0])} {markers}\n\n{quotes}"
    cited_docs = {c.doc_id: documents[c.doc_id] for c in citations}
    return Answer(q.text, text, flat(best.text), False, p, tuple(citations), (), cited_docs)


def _place(answer: ReaderAnswer) -> Place:
    return Place(answer.doc_id, answer.start, answer.end, answer.score)


def abstain(
    q: Question,
    related: Sequence[Hit],
    documents: dict[str, Document],
    conf: float,
    reason: str | None = None,
) -> Answer:
    """The reports don't say; the closest passages (``related``, best first) are offered.
    ``reason`` says why instead, where it is known (no report passes the filters)."""
    what = q.text.rstrip("?!. ")
    text = reason or f"The reports don't say. None of the passages found answers “{what}”."
    shown = tuple(related[:RELATED])
    if shown:
        text += " The closest passages are listed as related."
    docs = {h.doc_id: documents[h.doc_id] for h in shown}
    return Answer(q.text, text, None, True, conf, (), shown, docs)


def _rival_reason(best: ReaderAnswer) -> str:
    return (
        f"The reports don't say. The closest answer found, “{flat(best.text)}”, is about "
        "another place, day, post, person or thing than the one asked about."
    )


def _other_reports(taken: list[Place], places: list[Place]) -> list[Place]:
    """The first of ``places`` from each report not among ``taken``."""
    seen = {p.doc_id for p in taken}
    kept = []
    for place in places:
        if place.doc_id not in seen:
            seen.add(place.doc_id)
            kept.append(place)
    return kept


def _hedged(citation: Citation) -> str:
    """The answer as its sentence words it, with the hedge in front of a figure ("as many
    as 60", "some 700 kilometres"): the short answer stays the bare span."""
    assert citation.answer_start is not None and citation.answer_end is not None
    start, end = citation.answer_start - citation.start, citation.answer_end - citation.start
    figures = find_numbers(citation.quote[start:end])
    hedge = _HEDGE.search(citation.quote[:start]) if figures and figures[0][0] == 0 else None
    return flat(citation.quote[hedge.start() if hedge else start : end])


def flat(text: str) -> str:
    """``text`` with each run of whitespace one space, as a reply shows it: a report's line
    breaks (a hard-wrapped paragraph) stay in the citations' verbatim quotes only."""
    return " ".join(text.split())


def _sentences(place: Place, doc: Document) -> list[tuple[int, int]]:
    """The bounds of the sentence that holds the answer, with the one before and the one
    after it (the answer's own bounds where they are none)."""
    start, end = place.start, place.end
    around = split_sentences(doc.text, max(0, start - 1000), min(len(doc.text), end + 1000))
    at = next((i for i, (a, b) in enumerate(around) if a <= start and end <= b), None)
    if at is None:
        return [(start, start), (start, end), (end, end)]
    before = around[at - 1] if at > 0 else (around[at][0], around[at][0])
    after = around[at + 1] if at + 1 < len(around) else (around[at][1], around[at][1])
    return [before, around[at], after]


def _citation(
    n: int, place: Place, doc: Document, sentence: tuple[int, int] | None = None
) -> Citation:
    """The sentence of ``doc`` that holds the answer (its bounds, when known), quoted with
    the answer's span."""
    s, e = sentence or _sentences(place, doc)[1]
    start, end = place.start, place.end
    return Citation(
        n=n,
        doc_id=doc.id,
        source=doc.source,
        title=doc.title,
        page=doc.page_at(s),
        start=s,
        end=e,
        quote=doc.text[s:e],
        answer_start=start,
        answer_end=end,
        date=doc.date,
    )
