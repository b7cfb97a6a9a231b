"""Sentence boundaries with character offsets, for chunking and for picking answer sentences.

A rule-based splitter: a line break always ends a sentence (reports put headings and
paragraphs on their own lines); inside a line, ``. ! ?`` followed by space and a capital,
digit or quote ends one, unless the word before is a known abbreviation or an initial.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col capt sgt cpl maj adm gov sen rep rev st jr sr hon pres vs
    etc eg ie cf al approx no nos vol fig dept est inc ltd co corp jan feb mar apr jun
    jul aug sep sept oct nov dec mon tue wed thu fri sat sun u.s u.k u.n e.g i.e a.m p.m""".split()
)

_LINE = re.compile(r"[^\n]+")
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then space.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the ``.`` at ``dot`` closes an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    match = _WORD_BEFORE.search(text, max(0, dot - 40), dot)  # a word, not the whole text
    if not match:
        return False
    word = match.group(1).lower().strip(".")
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    return word in ABBREVIATIONS


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences in ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text, start, end):
        cursor = line.start()
        for boundary in _BOUNDARY.finditer(text, line.start(), line.end()):
            if _is_abbreviation(text, boundary.start()):
                continue
            spans.append((cursor, boundary.end()))
            cursor = boundary.end()
        spans.append((cursor, line.end()))
    return [trimmed for span in spans if (trimmed := _trim(text, *span))]


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None
