"""What a question asks for: checked input, expected answer type, content words, follow-ups."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.errors import InvalidQuestionError
from qa.numbers import find_numbers
from qa.types import is_text

MAX_QUESTION_CHARS = 2000
TOPIC_QUESTIONS = 10  # earlier questions a follow-up may borrow its topic from

ORG_NOUNS = (
    "organi[sz]ation|company|operator|agency|group|broadcaster|ministry|firm|body|institution|"
    "network|channel|newspaper|publication|magazine|outlet|media"
)
PLACE_NOUNS = (
    "city|cities|region|regions|country|district|town|province|place|river|port|area|part|"
    "village|plant"
)
# Expected answer types, most specific first; the first pattern that matches wins.
TYPE_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "number",
        r"\bhow (far|long|much|big|large|high|old|often|wide|deep|heavy|fast)\b"
        r"|\b(what|which) (percentage|proportion|share|distance|number|amount)\b"
        r"|\bper ?cent\b",
    ),
    ("count", r"\bhow many\b|\bnumber of\b"),
    ("date", r"\bwhen\b|\b(what|which) (date|day|time|year|month|hour)\b|\bwhat time\b"),
    (
        "person",
        r"\bwho\b|\bwhose\b|\bwhom\b|\b(what|which) (is the )?name of the "
        r"(mayor|governor|president|minister|head|chief|leader|commander|spokes\w+)\b",
    ),
    ("organisation", rf"\b(what|which) (\w+ )?({ORG_NOUNS})\b"),
    ("place", rf"\bwhere\b|\b(what|which) (\w+ )?({PLACE_NOUNS})\b"),
)

STOPWORDS = frozenset(
    """a an the of in on at to for from by with about as into over after before during and or
    but if then than so that this these those there here is are was were be been being
    am do does did done has have had having will would shall should can could may might
    must not no what which who whom whose when where why how many much long far what's
    who's it its it's they them their he him his she her we us our you your i me my
    according said say says reported report reports tell told according did any some all
    each every other another""".split()
)
FOLLOW_UP = re.compile(
    r"^(and|but|also|so|what about|how about)\b|\b(them|they|those|these|it|its|that|there|"
    r"he|she|his|her|the same)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w’'-]+")
_WHO_IS_NAME = re.compile(r"^[Ww]ho (?:is|was|are|were) (?:[A-Z][\w’'-]*\s*)+\??$")


@dataclass(frozen=True)
class Question:
    """A checked question: its text, expected type, content words and retrieval query."""

    text: str
    kind: str
    keywords: tuple[str, ...]
    query: str
    borrowed: tuple[str, ...] = ()  # keywords a follow-up took from the previous question


def check_question(text: object) -> str:
    """The question stripped, or InvalidQuestionError saying what is wrong with it."""
    if isinstance(text, bytes):
        raise InvalidQuestionError("the question is binary data; ask it as text")
    if not isinstance(text, str):
        raise InvalidQuestionError(f"the question must be text, not {type(text).__name__}")
    text = text.strip()
    if not text:
        raise InvalidQuestionError("the question is empty; type a question about the reports")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(text):,} characters long; keep it under "
            f"{MAX_QUESTION_CHARS:,} characters"
        )
    if not is_text(text):
        raise InvalidQuestionError(
            "the question holds bytes that are not valid text (not UTF-8); type it again"
        )
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    if "\x00" in text or printable < 0.95 * len(text):
        raise InvalidQuestionError("the question contains binary or control characters")
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuestionError("the question has no words in it")
    return text


def answer_type(text: str) -> str:
    """count, number, date, person, organisation, place, or other.

    The question word that comes first decides: "Who said 40 per cent ...?" asks for a person.
    """
    if _WHO_IS_NAME.match(text):
        return "other"  # "Who is Rafael Grossi?" asks who he is, not for a name
    lowered = text.lower()
    found = [
        (m.start(), i, kind)
        for i, (kind, pattern) in enumerate(TYPE_PATTERNS)
        if (m := re.search(pattern, lowered))
    ]
    return min(found)[2] if found else "other"


def one_figure(text: str) -> bool:
    """Whether an answer states exactly one figure ("as many as 60", "some 700 kilometres",
    "six people"), as the answer to a count or a measure must; "34 cruise missiles and four"
    states two."""
    return len(find_numbers(text)) == 1


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry meaning (no stop words), lower-cased, in order."""
    words = [w.strip("’'-").lower() for w in _WORD.findall(text)]
    return [w for w in words if w and (w not in STOPWORDS or w.isdigit())]


def is_follow_up(text: str) -> bool:
    """A question that leans on an earlier one ("and how many of them were intercepted?")."""
    return bool(FOLLOW_UP.search(text)) or len(content_words(text)) <= 1


def parse_question(text: object, history: Sequence[str] = ()) -> Question:
    """Check and analyse a question; a follow-up borrows the previous question's words."""
    text = check_question(text)
    keywords = content_words(text)
    query = text
    borrowed: list[str] = []
    if is_follow_up(text):
        borrowed = [w for w in _topic(history) if w not in keywords]
        query = f"{text} {' '.join(borrowed)}".strip()
    kind = answer_type(text)
    words = tuple(dict.fromkeys(keywords + borrowed))
    return Question(text, kind, words, query, tuple(borrowed))


def _topic(history: Sequence[str]) -> list[str]:
    """The content words of the chat so far, back to its last question that stood alone:
    "and what else did he say?" after "what did he say?" still knows who "he" is. Only the
    last ``TOPIC_QUESTIONS`` questions count, so a long chat costs no more than a short one."""
    words: list[str] = []
    recent = [h for h in history[-TOPIC_QUESTIONS:] if h and h.strip()]
    for earlier in reversed(recent):
        words += [w for w in content_words(earlier) if w not in words]
        if not is_follow_up(earlier):
            break
    return words
