"""Evidence: the sentences of the retrieved passages, scored against the question.

A sentence's score mixes its cosine similarity with the question (the bundled MiniLM) and the
share of the question's content words it contains, weighted by BM25's IDF; a typed question
("how many", "who") also scores the candidate answers inside the sentence by how close they
stand to the question's words.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from qa.answer.extract import TITLES, Candidate, candidates
from qa.answer.question import STOPWORDS, Question
from qa.errors import DocumentNotFoundError
from qa.index import Index
from qa.index.sparse import stem, terms, tokenize
from qa.sentences import split_sentences
from qa.types import Document, Hit

DENSE_WEIGHT = 0.5  # the rest is lexical coverage
PROXIMITY_WEIGHT = 0.15
NOUN_WEIGHT = 0.3
COUNTED_WITHIN = 4  # words after a number that may name what it counts
COUNTS_OTHER_PENALTY = 0.3
CLAUSE_WEIGHT = 0.15
BORROWED_WEIGHT = 0.5
_CLAUSE = re.compile(r"[^,;:—–()]+")
UNIT_QUESTIONS = (  # what a "how far/long/much" question asks for, and the unit that says it
    (r"\bhow far\b|\bdistance\b", r"kilomet|\bkm\b|miles|metres|meters"),
    (r"\bhow long\b|\bduration\b", r"hours?|days?|weeks?|months?|years?|minutes"),
    (r"percent|per cent|percentage|proportion|share", r"%|per ?cent"),
)
_WORD = re.compile(r"[\w’'-]+")
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|to|near|of|across)\s+(?:the\s+)?$", re.IGNORECASE)
_PLACE_AFTER = re.compile(r"^\s+(?:region|city|province|district|oblast|port)\b", re.IGNORECASE)
_ORG_WORDS = re.compile(
    r"\b(?:ministry|company|agency|force|forces|board|group|operator|service|staff|council|"
    r"broadcaster|media|military)\b",
    re.IGNORECASE,
)


@dataclass
class Sentence:
    """A sentence of a stored document: ``doc.text[start:end] == text``."""

    doc: Document
    start: int
    end: int
    hit: Hit
    dense: float = 0.0
    coverage: float = 0.0
    score: float = 0.0
    answers: list[tuple[float, Candidate]] = field(default_factory=list)
    miscounts: set[Candidate] = field(default_factory=set)

    @property
    def text(self) -> str:
        return self.doc.text[self.start : self.end]

    @property
    def best(self) -> tuple[float, Candidate] | None:
        return self.answers[0] if self.answers else None

    @property
    def miscounted(self) -> bool:
        """The best candidate counts something else: "34 cruise missiles" for tanks."""
        return self.best is not None and self.best[1] in self.miscounts


def gather(index: Index, hits: list[Hit]) -> list[Sentence]:
    """Every distinct sentence of the hits, in hit order (overlapping chunks repeat some)."""
    docs: dict[str, Document] = {}
    seen: set[tuple[str, int]] = set()
    sentences = []
    for hit in hits:
        if hit.doc_id not in docs:
            try:
                docs[hit.doc_id] = index.document(hit.doc_id, exact=True)
            except DocumentNotFoundError:  # removed by a write since the search
                continue
        doc = docs[hit.doc_id]
        for start, end in split_sentences(doc.text, hit.start, hit.end):
            if (doc.id, start) not in seen:
                seen.add((doc.id, start))
                sentences.append(Sentence(doc, start, end, hit))
    return sentences


def score(index: Index, question: Question, sentences: list[Sentence]) -> list[Sentence]:
    """Score sentences and their candidate answers; returns them best first.

    Coverage counts the sentence's own words and, at a third of the weight, those of the
    sentence before it, which often names what "the area" or "it" refers to.
    """
    if not sentences:
        return []
    vectors = index.embedder.encode([question.query] + [s.text for s in sentences])
    idf = index.sparse.idf(tokenize([" ".join(question.keywords)])[0])
    for term in tokenize([" ".join(question.borrowed)])[0]:
        idf[term] *= BORROWED_WEIGHT  # the follow-up's own words matter most
    total = sum(idf.values()) or 1.0
    own = tokenize([s.text for s in sentences])
    context = tokenize([_previous(s) for s in sentences])
    for sentence, cosine, stems, before in zip(sentences, vectors[1:] @ vectors[0], own, context):
        present, near = set(stems), set(stems) | set(before)
        cover = sum(w for t, w in idf.items() if t in present) / total
        cover_near = sum(w for t, w in idf.items() if t in near) / total
        sentence.dense = float(cosine)
        sentence.coverage = (2 * cover + cover_near) / 3
        sentence.score = DENSE_WEIGHT * sentence.dense + (1 - DENSE_WEIGHT) * sentence.coverage
        sentence.score += 0.02 / sentence.hit.rank
        sentence.answers, sentence.miscounts = _rank_candidates(question, sentence.text, idf)
    return sorted(sentences, key=lambda s: -(s.score + (s.best[0] if s.best else 0.0)))


def _previous(sentence: Sentence) -> str:
    """The sentence before this one in its document (empty at the start)."""
    head = sentence.doc.text[max(0, sentence.start - 400) : sentence.start]
    spans = split_sentences(head)
    return head[spans[-1][0] : spans[-1][1]] if spans else ""


def _rank_candidates(
    question: Question, sentence: str, idf: dict[str, float]
) -> tuple[list[tuple[float, Candidate]], set[Candidate]]:
    """The candidates best first, and those that count something other than the question's
    "how many" noun."""
    found = candidates(sentence, question.kind)
    if not found:
        return [], set()
    asked = {_plain(w) for w in _WORD.findall(question.text)}
    words = terms(sentence)
    total = sum(idf.values()) or 1.0
    clauses = [m.span() for m in _CLAUSE.finditer(sentence)]
    counted = stem(question.counted) if question.counted else None
    ranked: list[tuple[float, Candidate]] = []
    unnamed: set[Candidate] = set()
    for cand in found:
        cand_words = {_plain(w) for w in _WORD.findall(cand.text)}
        if cand_words <= asked:
            continue  # the question's own words are not its answer
        inside = [i for i, (s, e, _) in enumerate(words) if s < cand.end and e > cand.start]
        if not inside:
            continue
        first, last = inside[0], inside[-1]
        gaps = [
            min(abs(i - first), abs(i - last)) - 1
            for i, (_, _, t) in enumerate(words)
            if t in idf and not first <= i <= last
        ]
        bonus = PROXIMITY_WEIGHT / (1 + min(gaps)) if gaps else 0.0
        # the clause holding the candidate should hold the question's words too
        index_ = next((i for i, (a, b) in enumerate(clauses) if a <= cand.start < b), None)
        clause = clauses[index_] if index_ is not None else (0, len(sentence))
        if (
            index_ is not None
            and index_ + 1 < len(clauses)
            and not sentence[clause[0] : clause[1]].strip().removeprefix(cand.text).strip()
        ):
            # an appositive names what the candidate is: "Energoatom, the state operator of ..."
            clause = (clause[0], clauses[index_ + 1][1])
        in_clause = {t for s, e, t in words if clause[0] <= s < clause[1] and t in idf}
        bonus += CLAUSE_WEIGHT * sum(idf[t] for t in in_clause) / total
        if question.kind == "count":
            # "six Kinzhal hypersonic missiles": the words after a number name what it counts,
            # and a number that counts something else is no answer ("34 cruise missiles" to
            # "How many tanks ...?")
            after = [t for _, _, t in words[last + 1 : last + 1 + COUNTED_WITHIN]]
            phrase = itertools.takewhile(lambda t: t not in STOPWORDS, after)
            if counted and not any(t.startswith(counted) for t in phrase):
                bonus -= COUNTS_OTHER_PENALTY
                unnamed.add(cand)
            named = {t for t in after[:3] if t in idf}
            bonus += NOUN_WEIGHT * sum(idf[t] for t in named) / total
        if question.head and question.head in cand.text.lower():
            bonus += 0.2  # "Which river ...?" → "Bakhmutka River"
        bonus += _kind_bonus(question, sentence, cand)
        ranked.append((bonus, cand))
    return sorted(ranked, key=lambda pair: -pair[0]), unnamed


def _plain(word: str) -> str:
    return word.lower().removesuffix("’s").removesuffix("'s")


def _kind_bonus(question: Question, sentence: str, cand: Candidate) -> float:
    """Tell people, places and organisations apart, and distances from durations."""
    kind = question.kind
    words = cand.text.split()
    before, after = sentence[: cand.start], sentence[cand.end :]
    place_like = bool(_PLACE_BEFORE.search(before) or _PLACE_AFTER.match(after))
    titled = bool(before.split()[-1:] and before.split()[-1] in TITLES)
    if kind == "person":
        return 0.1 * (len(words) >= 2) + 0.1 * titled - 0.1 * place_like - 0.1 * cand.text.isupper()
    if kind == "place":
        return 0.1 * place_like - 0.05 * (len(words) >= 3)
    if kind == "organisation":
        org_like = cand.text.isupper() or bool(_ORG_WORDS.search(cand.text))
        return 0.1 * org_like - 0.05 * titled
    if kind == "number":
        for asks, unit in UNIT_QUESTIONS:
            if re.search(asks, question.text, re.IGNORECASE):
                return 0.3 if re.search(unit, cand.text, re.IGNORECASE) else -0.1
    return 0.0
