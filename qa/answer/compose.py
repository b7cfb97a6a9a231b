"""The reply from the reader's answers: its best span is the short answer, the sentence of the
report around it the quote; other reports where the same answer was read are cited too, and
ones that give another figure are shown beside it (each as sure as the reply must be).
Abstention comes from the reader's "no answer" score, calibrated as a confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from qa.answer.question import Question
from qa.numbers import find_numbers, parse_number
from qa.reader.answers import Place, Reading
from qa.sentences import split_sentences
from qa.types import Answer, Citation, Document, Hit

# The ranking score (margin over "no answer", less the rank prior) at confidence 0.5, where
# the reader abstains by default. Measured by `python -m qa.eval.threshold`: with the shipped
# weights it refuses 97.0% of the held-out SQuAD questions asked of the wrong articles
# (abstention precision 0.884), and held-out SQuAD accuracy (0.708) is flat from 0.05 to 0.6.
# Set with the earlier weights (98.8%, 0.845; the same plateau); measure again for new ones.
CALIBRATION = 3.0
NUMERIC_KINDS = ("count", "number")
RELATED = 3  # passages offered when the reply abstains
_HEDGE = re.compile(
    r"\b(?:about|around|some|nearly|almost|roughly|approximately|at least|at most|more than|"
    r"less than|fewer than|over|under|up to|as many as|as few as|as much as)\s+$",
    re.IGNORECASE,
)


def compose(
    q: Question,
    hits: Sequence[Hit],
    reading: Reading,
    documents: dict[str, Document],
    margin: float = CALIBRATION,
) -> Answer:
    """The reply from what the reader read in ``hits`` (their documents given by id): its
    best answer, or an abstention when no answer's ranking score clears ``margin``. An
    answer whose words are not its document's own at its span is never shown."""
    answers = [a for a in reading.answers if documents[a.doc_id].text[a.start : a.end] == a.text]
    if not answers or answers[0].score < margin:
        best_score = answers[0].score if answers else -math.inf
        related = [hits[i] for i in reading.order]
        return abstain(q, related, documents, min(confidence(best_score), confidence(margin)))
    best = answers[0]
    first = Place(best.doc_id, best.start, best.end, best.score)
    agree = _other_reports([first], [p for p in best.also if p.score >= margin])
    differ = []
    for other in answers[1:]:
        # another figure its own passage states as surely as an answer must be: the rank
        # prior, which picks the best answer, does not hide a report lower in the list
        mine, theirs = parse_number(best.text), parse_number(other.text)
        numbers = q.kind in NUMERIC_KINDS and None not in (mine, theirs) and mine != theirs
        if numbers and other.margin >= margin:
            differ.append(Place(other.doc_id, other.start, other.end, other.score))
    differ = _other_reports([first, *agree], differ)
    cited = [first, *agree, *differ]
    citations = [_citation(n, p, documents[p.doc_id]) for n, p in enumerate(cited, start=1)]
    quotes = "\n".join(f"{flat(c.quote)} [{c.n}]" for c in citations)
    if differ:
        shown = [(n, c) for n, c in enumerate(citations, 1) if n == 1 or n > 1 + len(agree)]
        parts = [f"{_hedged(c)} [{n}] ({c.title})" for n, c in shown]
        text = "The reports give different figures: " + "; ".join(parts) + ".\n\n" + quotes
    else:
        markers = "".join(f"[{c.n}]" for c in citations)
        text = f"{_hedged(citations[0])} {markers}\n\n{quotes}"
    cited_docs = {c.doc_id: documents[c.doc_id] for c in citations}
    return Answer(
        q.text,
        text,
        flat(best.text),
        False,
        confidence(best.score),
        tuple(citations),
        (),
        cited_docs,
    )


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


def margin_for(abstain_below: float) -> float:
    """The ranking score whose confidence is ``abstain_below``."""
    if abstain_below <= 0:
        return -math.inf
    if abstain_below >= 1:
        return math.inf
    return CALIBRATION + math.log(abstain_below / (1 - abstain_below))


def confidence(score: float) -> float:
    """A ranking score as a number in [0, 1]: 0.5 at ``CALIBRATION``."""
    return round(1 / (1 + math.exp(-max(-50.0, min(50.0, score - CALIBRATION)))), 3)


def _citation(n: int, place: Place, doc: Document) -> Citation:
    """The sentence of ``doc`` that holds the answer, quoted with the answer's span."""
    start, end = place.start, place.end
    around = split_sentences(doc.text, max(0, start - 1000), min(len(doc.text), end + 1000))
    s, e = next(((a, b) for a, b in around if a <= start and end <= b), (start, end))
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
