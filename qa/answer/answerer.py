"""From retrieved passages to a short answer with verified, verbatim citations.

The answer is the best-scoring sentence's best candidate of the expected type ("six" for a
"how many" question); sentences from other reports that give the same answer are cited too, and
ones that give a different figure are shown beside it. When the evidence is weak the reply says
the reports don't say, and offers the closest passages as related.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.answer.evidence import Sentence, gather, score
from qa.answer.extract import with_hedge
from qa.answer.question import Question, parse_question
from qa.answer.read import margin_for, read_answer
from qa.index import Index
from qa.index.sparse import tokenize
from qa.reader.reader import Reader
from qa.types import Answer, Citation, Hit

ABSTAIN_BELOW = 0.5  # confidence under which to abstain: measured by python -m qa.eval.threshold
DEFAULT_K = 6
SUPPORT_RATIO = 0.8  # another report's sentence this close to the best one is cited too
CONFLICT_RATIO = 0.85
MISCOUNT_FACTOR = 0.7  # the best figure counts something else than the question asks about
# A sentence without a candidate is the answer when it scores this much better than the best
# one with a candidate, and holds most of the question's words
WORDED_MARGIN = 0.1
WORDED_COVERAGE = 0.75  # ...and a different figure this close is shown as a disagreement


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
) -> Answer:
    """Answer ``question`` from the index; ``history`` holds earlier questions of a chat.

    A reply whose confidence is under ``abstain_below`` says the reports don't say
    (``python -m qa.eval.threshold`` measures where to put it). With ``reader`` (a
    :class:`qa.reader.Reader`), the learned reader picks the answer span instead of the
    sentence scorer: opt-in while its weights are being trained.
    """
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
    unknown = _unknown_names(index, q)
    if reader is not None:  # the learned reader, opt-in until its weights ship
        docs = {h.doc_id: index.document(h.doc_id, exact=True) for h in hits}
        read = read_answer(reader, q, hits, docs, margin_for(abstain_below))
        return read if read is not None else _abstain(q, hits, 0.0, unknown)
    sentences = score(index, q, gather(index, hits))
    if not sentences:
        return _abstain(q, hits, 0.0, unknown)
    best = sentences[0]
    plain = max(sentences, key=lambda s: s.score)
    worded = (
        plain.best is None
        and plain.score >= best.score + WORDED_MARGIN
        and plain.coverage >= WORDED_COVERAGE
    )
    if worded:
        # a sentence that answers in words ("cannot intercept the Kinzhal") beats a weaker
        # sentence that merely holds a figure: answer with it, and no short answer
        best = plain
    conf = confidence(q, best, unknown, _missing_names(q, best), worded)
    weak = conf < abstain_below or (q.kind != "other" and best.best is None and not worded)
    if weak or not _verbatim(best):  # never shown with a quote not in the report's own words
        return _abstain(q, hits, min(conf, abstain_below), unknown)
    support, conflicts = _support(q, best, [s for s in sentences if _verbatim(s)])
    return _compose(q, best, support, conflicts, conf)


def confidence(
    q: Question, best: Sentence, unknown: list[str], missing: float = 0.0, worded: bool = False
) -> float:
    """How sure the best sentence answers the question, in [0, 1].

    ``missing`` is the share of the question's names (Lviv, Friday) that the sentence and the
    one before it do not mention: "Who is the mayor of Lviv?" is not answered by Kharkiv's.
    """
    dense = min(1.0, max(0.0, (best.dense - 0.1) / 0.6))
    value = 0.55 * best.coverage + 0.45 * dense
    if q.kind != "other" and best.best is None and not worded:
        value *= 0.5
    if unknown:
        value *= 0.3
    if best.miscounted:
        value *= MISCOUNT_FACTOR
    value *= 1 - 0.6 * missing
    return round(min(1.0, max(0.0, value)), 3)


def _names(q: Question) -> list[str]:
    """Capitalised words of the question after its first, without possessives."""
    words = [w.strip("?,.!\"'“”’()") for w in q.text.split()[1:]]
    return [w.removesuffix("’s").removesuffix("'s") for w in words if w[:1].isupper()]


def _missing_names(q: Question, best: Sentence) -> float:
    """Share of the question's names absent from the sentence and the one before it."""
    names = [n for n in _names(q) if len(n) > 2 or not n.isupper()]
    if not names:
        return 0.0
    near = best.doc.text[max(0, best.start - 400) : best.end].lower()
    present = [n for n in names if n.lower()[: max(4, len(n) - 2)] in near]
    return 1 - len(present) / len(names)


def _unknown_names(index: Index, q: Question) -> list[str]:
    """Names in the question (not short acronyms like "TV") that no report contains."""
    names = [n for n in _names(q) if len(n) > 2 or not n.isupper()]
    return [
        n for n in names if (stems := tokenize([n])[0]) and not any(map(index.sparse.knows, stems))
    ]


def _support(
    q: Question, best: Sentence, sentences: list[Sentence]
) -> tuple[list[Sentence], list[Sentence]]:
    """Other reports' sentences that agree with the best answer, and ones that differ."""
    agree: list[Sentence] = []
    differ: list[Sentence] = []
    docs = {best.doc.id}
    for other in sentences[1:10]:
        if other.doc.id in docs or other.score < SUPPORT_RATIO * best.score:
            continue
        if q.kind == "other":
            agree.append(other)
        elif other.best is not None and best.best is not None:
            mine, theirs = best.best[1], other.best[1]
            if _same(mine.text, mine.value, theirs.text, theirs.value):
                agree.append(other)
            elif (
                mine.value is not None
                and theirs.value is not None
                and other.score >= CONFLICT_RATIO * best.score
                and other.coverage >= CONFLICT_RATIO * best.coverage
            ):
                differ.append(other)
            else:
                continue
        else:
            continue
        docs.add(other.doc.id)
    return agree, differ


def _same(a: str, av: float | None, b: str, bv: float | None) -> bool:
    if av is not None and bv is not None:
        return av == bv
    return a.lower().strip() == b.lower().strip()


def _compose(
    q: Question, best: Sentence, agree: list[Sentence], differ: list[Sentence], conf: float
) -> Answer:
    cited = [best, *agree, *differ]
    citations = [_citation(n, s) for n, s in enumerate(cited, start=1)]
    short = best.best[1].text if best.best else None
    quotes = "\n".join(f"{c.quote} [{c.n}]" for c in citations)
    if short is None:
        text = quotes
    elif differ:
        parts = [
            f"{_display(s)} [{n}] ({s.doc.title})"
            for n, s in enumerate(cited, start=1)
            if s is best or s in differ
        ]
        text = "The reports give different figures: " + "; ".join(parts) + ".\n\n" + quotes
    else:
        markers = "".join(f"[{c.n}]" for c in citations)
        text = f"{_display(best)} {markers}\n\n{quotes}"
    return Answer(q.text, text, short, False, conf, tuple(citations))


def _display(sentence: Sentence) -> str:
    """The short answer with its hedge ("as many as 60"), as the report words it."""
    assert sentence.best is not None
    start, end = with_hedge(sentence.text, sentence.best[1])
    return sentence.text[start:end]


def _citation(n: int, s: Sentence) -> Citation:
    cand = s.best[1] if s.best else None
    return Citation(
        n=n,
        doc_id=s.doc.id,
        source=s.doc.source,
        title=s.doc.title,
        page=s.doc.page_at(s.start),
        start=s.start,
        end=s.end,
        quote=s.text,
        answer_start=s.start + cand.start if cand else None,
        answer_end=s.start + cand.end if cand else None,
        date=s.doc.date,
    )


def _verbatim(s: Sentence) -> bool:
    """Whether the sentence is exactly its document's text at its span, with its short answer
    inside it: checked before anything is numbered, so the markers have no gaps."""
    cand = s.best[1] if s.best else None
    inside = cand is None or 0 <= cand.start < cand.end <= s.end - s.start
    return inside and s.doc.text[s.start : s.end] == s.text


def _abstain(q: Question, hits: list[Hit], conf: float, unknown: list[str]) -> Answer:
    what = q.text.rstrip("?!. ")
    text = f"The reports don't say. None of the passages found answers “{what}”."
    if unknown:
        names = ", ".join(f"“{n}”" for n in unknown)
        text = f"The reports don't say: none of them mentions {names}."
    if hits:
        text += " The closest passages are listed as related."
    return Answer(q.text, text, None, True, conf, (), tuple(hits[:3]))
