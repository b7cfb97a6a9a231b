"""Names in a question typed in lowercase: "what did mykolaiv mayor vitaliy kim say?"

The checks of :mod:`qa.answer.verify` and :mod:`qa.answer.relations` know a name by its
capital. Staff type into a chat as they like, and a question without capitals pins nothing
down for them: "kharkiv" asked, "Kyiv" in the sentence, no rival. In a question with no
capital past its first letter, :func:`truecase` gives its words the capital their report
writes them with, past a sentence's first word, more often than not; a word the report does
not hold is a name where the shipped lowercase-word list
(:func:`qa.generate.lexicon.lowercase_words`) lacks it ("kinzhals", not "drones"). A
question with capitals is left as its writer wrote it.
"""

from __future__ import annotations

import functools
import re

from qa.answer.question import STOPWORDS
from qa.answer.relations import LEAD
from qa.generate.lexicon import key, lowercase_words

_WORD = re.compile(r"[a-z][\w’'-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]['\"’”)]*\s+|\n\s*)['\"‘“(]*$")


@functools.lru_cache(maxsize=64)
def truecase(question: str, report: str = "") -> str:
    """``question``, where it has no capital past its first letter, with the words that are
    names (in ``report``'s eyes, or else the lexicon's) capitalised."""
    if any(c.isupper() for c in question[1:]):
        return question  # its writer uses capitals: its lowercase words are no names
    words = {_bare(m.group()) for m in _WORD.finditer(question)}
    words = {w for w in words if len(w) > 1 and w not in STOPWORDS}
    if not words:
        return question
    written = _written(report[:LEAD], frozenset(words))
    names = set()
    for word in words:
        capital, lower = written.get(word, (0, 0))
        if capital > lower or (not capital + lower and key(word) not in lowercase_words()):
            names.add(word)
    if not names:
        return question
    return _WORD.sub(
        lambda m: m.group()[:1].upper() + m.group()[1:] if _bare(m.group()) in names else m.group(),
        question,
    )


def _written(report: str, words: frozenset[str]) -> dict[str, tuple[int, int]]:
    """How often ``report`` writes each of ``words`` capitalised and in lowercase, a
    sentence's first word left out."""
    counts: dict[str, tuple[int, int]] = {}
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(w) for w in sorted(words)) + r")(?![\w-])", re.IGNORECASE
    )
    for m in pattern.finditer(report):
        if _SENTENCE_START.search(report[max(0, m.start() - 8) : m.start()]):
            continue
        word = m.group().lower()
        capital, lower = counts.get(word, (0, 0))
        if m.group()[:1].isupper():
            capital += 1
        else:
            lower += 1
        counts[word] = (capital, lower)
    return counts


def _bare(word: str) -> str:
    """A word without its possessive "'s" and stray quotes ("russia's": russia)."""
    return re.sub(r"['’]s$", "", word.strip("’'-"))
