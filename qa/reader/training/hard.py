"""Hard negatives: a question with a paragraph that almost answers it, built from SQuAD v1.1.

Pairing a question with a paragraph of another article (``qa.reader.training.data.negatives``)
teaches the reader an easy "no answer". The near misses that fool it are these (after SQuAD
2.0's unanswerable questions, built here automatically):

- ``swap``: the question with one constraint swapped for another of its kind that the paragraph
  does not hold: a person, place, country or organisation (typed by the questions SQuAD
  answers with it: "who" → person), a role word, a month or weekday, a year or another
  number. "Who is the mayor of Kherson?" against the paragraph naming Kharkiv's mayor.
- ``nearby``: a constraint the answer's sentence holds swapped for one of its kind that the
  paragraph names elsewhere: "the mayor of Odesa?" where the paragraph names Odesa's governor
  and, in another sentence, Kharkiv's mayor (the near miss of a report).
- ``other``: the question with another paragraph of its own article (the one sharing most of
  its words) that does not contain the answer.
- ``removed``: the question's own paragraph with the sentence holding the answer taken out.

Everything is seeded: the same seed gives the same negatives.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from qa.reader.training.data import NO_ANSWER, Article, Example
from qa.words import MONTHS, ROLES, WEEKDAYS

KINDS = ("swap", "nearby", "other", "removed")
TRAINED = ("swap", "other", "removed")  # the kinds the shipped reader was trained with
_TYPED = (
    ("person", re.compile(r"^(who|whom|whose)\b", re.IGNORECASE)),
    ("country", re.compile(r"^(what|which|in what|in which) (country|nation)\b", re.IGNORECASE)),
    (
        "place",
        re.compile(
            r"^(where\b|(what|which|in what|in which) (city|state|region|town|"
            r"continent|island|province|county|river))",
            re.IGNORECASE,
        ),
    ),
    (
        "organisation",
        re.compile(
            r"^(what|which) (company|organi[sz]ation|group|team|university|party|band|club|"
            r"agency|newspaper|network|firm|school|college|institution)\b",
            re.IGNORECASE,
        ),
    ),
)
_NAME = re.compile(r"^(?:[A-Z][\w.'’-]*)(?: (?:of |the |de |von )?[A-Z][\w.'’-]*){0,3}$")
_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][\w.'’-]*(?: (?:of |the |de |von )?[A-Z][\w.'’-]*)*")
_POSSESSIVE = re.compile(r"['’]s$")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20[0-2]\d)\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?(?![\w.,]\d)")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“(]?[A-Z0-9])")
_WORD = re.compile(r"\w+")


def entity_pools(articles: Iterable[Article]) -> dict[str, list[str]]:
    """Names SQuAD gives as answers, by the kind of question they answer ("who" → person)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for article in articles:
        for _, qas in article.paragraphs:
            for qa in qas:
                answer = qa["answers"][0]["text"].strip()
                if not _NAME.match(answer):
                    continue
                for kind, pattern in _TYPED:
                    if pattern.search(qa["question"].strip()):
                        counts[answer][kind] += 1
                        break
    pools: dict[str, list[str]] = defaultdict(list)
    for name in sorted(counts):  # each name in the pool of the kind it answers most often
        pools[counts[name].most_common(1)[0][0]].append(name)
    return dict(pools)


def swapped(
    question: str,
    context: str,
    pools: dict[str, list[str]],
    rng: random.Random,
    kinds: dict[str, str] | None = None,
) -> str | None:
    """``question`` with one constraint the paragraph holds swapped for one of its kind the
    paragraph does not hold; None when the question has no such constraint."""
    lowered = context.lower()
    names = kinds if kinds is not None else kind_of(pools)
    options = _slots(question, lowered, names)
    rng.shuffle(options)
    for start, end, text, kind in options:
        pool = _pool(kind, text, pools)
        for _ in range(20 if pool else 0):
            other = rng.choice(pool)
            if other.lower() != text.lower() and other.lower() not in lowered:
                return _put(question, start, end, text, other)
    return None


def nearby(
    question: str,
    context: str,
    start: int,
    end: int,
    pools: dict[str, list[str]],
    rng: random.Random,
    kinds: dict[str, str] | None = None,
) -> str | None:
    """``question`` with a constraint the answer's sentence (around ``[start, end)``) holds
    swapped for one of its kind that the paragraph names elsewhere, not in that sentence:
    the near miss of a report ("the mayor of Odesa" where Odesa's governor is named and
    Kharkiv's mayor is the answer). None when there is no such pair."""
    names = kinds if kinds is not None else kind_of(pools)
    a, b = _sentence(context, start, end)
    held = context[a:b].lower()
    elsewhere = context[:a] + " " + context[b:]
    options = _slots(question, held, names)
    rng.shuffle(options)
    for s, e, text, kind in options:
        found = [
            m
            for m in _mentions(elsewhere, kind, names, text)
            if m.lower() not in held and m.lower() not in question.lower()
        ]
        if found:
            return _put(question, s, e, text, rng.choice(found))
    return None


def _slots(question: str, held: str, names: dict[str, str]) -> list[tuple[int, int, str, str]]:
    """The constraints of ``question`` that the lower-cased text ``held`` holds, as (start,
    end, text, kind): a month, weekday, role, number or a name of a pool's kind."""
    found = []
    for match in _CAPITALISED.finditer(question):
        text = _POSSESSIVE.sub("", match.group())  # "Kharkiv's mayor": the name is Kharkiv
        if match.start() == 0 or text.lower() not in held:
            continue
        kind = "month" if text in MONTHS else "weekday" if text in WEEKDAYS else names.get(text)
        if kind:
            found.append((match.start(), match.start() + len(text), text, kind))
    for word in _WORD.finditer(question):
        if word.group().lower() in ROLES and word.group().lower() in held:
            found.append((word.start(), word.end(), word.group(), "role"))
    for number in _NUMBER.finditer(question):
        if number.group() in held:
            found.append((number.start(), number.end(), number.group(), "number"))
    return found


def _pool(kind: str, text: str, pools: dict[str, list[str]]) -> list[str]:
    fixed = {"month": MONTHS, "weekday": WEEKDAYS, "role": ROLES}
    if kind == "number":
        return _numbers(text)
    return fixed.get(kind) or pools.get(kind, [])


def _mentions(text: str, kind: str, names: dict[str, str], like: str) -> list[str]:
    """What ``text`` names of ``kind`` that could stand for ``like``: its roles, months,
    weekdays or numbers, or its names of that pool kind."""
    if kind == "role":
        return [w.group() for w in _WORD.finditer(text) if w.group().lower() in ROLES]
    if kind == "number":  # a year for a year, another figure for a figure
        year = bool(_YEAR.fullmatch(like))
        return [
            n.group() for n in _NUMBER.finditer(text) if bool(_YEAR.fullmatch(n.group())) == year
        ]
    phrases = [_POSSESSIVE.sub("", m.group()) for m in _CAPITALISED.finditer(text)]
    if kind in ("month", "weekday"):
        return [p for p in phrases if p in (MONTHS if kind == "month" else WEEKDAYS)]
    # a name of the same kind that is not a form of the same word ("Italy" for "Italian")
    return [p for p in phrases if names.get(p) == kind and p.lower()[:4] != like.lower()[:4]]


def _put(question: str, start: int, end: int, text: str, other: str) -> str:
    if text[0].isupper() and other[0].islower():
        other = other.capitalize()
    return question[:start] + other + question[end:]


def kind_of(pools: dict[str, list[str]]) -> dict[str, str]:
    """Each name of the pools, and its kind."""
    return {name: kind for kind, found in pools.items() for name in found}


def _numbers(text: str) -> list[str]:
    """Numbers of the same shape as ``text``: other years near a year, else other figures."""
    if _YEAR.fullmatch(text):
        year = int(text)
        return [str(y) for y in range(year - 30, year + 31) if y != year]
    digits = text.replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return []
    found = {round(value * f) for f in (0.25, 0.5, 0.75, 1.5, 2, 3, 4, 10)} - {round(value)}
    return [str(v) for v in sorted(found) if v > 0]


def _bounds(context: str) -> list[int]:
    return [0] + [m.end() for m in _SENTENCE_END.finditer(context)] + [len(context)]


def _sentence(context: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence(s) of ``context`` around ``[start, end)``."""
    bounds = _bounds(context)
    a = max(x for x in bounds if x <= start)
    b = min(x for x in bounds if x >= end)
    return a, b


def without_answer(context: str, start: int, end: int, answer: str) -> str | None:
    """``context`` with the sentence(s) around ``[start, end)`` removed; None when the answer
    is still there (it occurs twice) or nothing is left."""
    bounds = _bounds(context)
    kept = [context[a:b].strip() for a, b in zip(bounds, bounds[1:]) if b <= start or a >= end]
    rest = " ".join(s for s in kept if s)
    if len(rest) < 40 or answer.lower().strip() in rest.lower():
        return None
    return rest


def other_paragraph(example: Example, article: Article) -> str | None:
    """The paragraph of the example's own article sharing most words with the question,
    among those that do not contain the answer."""
    words = set(_WORD.findall(example.question.lower()))
    best, best_overlap = None, 0
    for context, _ in article.paragraphs:
        if context == example.context or example.answer.lower() in context.lower():
            continue
        overlap = len(words & set(_WORD.findall(context.lower())))
        if overlap > best_overlap:
            best, best_overlap = context, overlap
    return best


def hard_negatives(
    questions: list[Example],
    articles: list[Article],
    fraction: float,
    seed: int = 0,
    pools: dict[str, list[str]] | None = None,
    kinds: Sequence[str] = KINDS,
) -> list[Example]:
    """``fraction`` of the number of questions in negatives of each of ``kinds`` (qid
    suffixed with the kind: ``-swap``, ``-nearby``, ``-other``, ``-removed``), from questions
    that allow one."""
    rng = random.Random(seed)
    pools = entity_pools(articles) if pools is None else pools
    by_title = {a.title: a for a in articles}
    names = kind_of(pools)
    found = []
    for kind in kinds:
        wanted = round(len(questions) * fraction)
        made = 0
        for example in rng.sample(questions, len(questions)):
            if made >= wanted:
                break
            if not example.answerable:
                continue
            question, context = example.question, example.context
            end = example.start + len(example.answer)
            if kind == "swap":
                question = swapped(example.question, example.context, pools, rng, names) or ""
            elif kind == "nearby":
                near = nearby(question, context, example.start, end, pools, rng, names)
                question = near or ""
            elif kind == "other":
                context = other_paragraph(example, by_title[example.title]) or ""
            else:
                context = without_answer(context, example.start, end, example.answer) or ""
            if question and context:
                made += 1
                qid = f"{example.qid}-{kind}"
                found.append(Example(qid, question, context, "", NO_ANSWER, example.title))
    return found
