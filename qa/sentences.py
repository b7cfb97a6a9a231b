"""Sentence boundaries with character offsets, for chunking and for picking answer sentences.

A rule-based splitter: a line break ends a sentence (reports put headings and paragraphs on
their own lines), except inside a hard-wrapped paragraph, where a single line break is a
space; inside a line, ``. ! ?`` followed by space and a capital, digit or quote ends one,
unless the word before is a known abbreviation or an initial.

A paragraph counts as hard-wrapped where its lines look cut at a width: no line of the block
(the lines between blank lines) is longer than ``WRAP_MAX`` characters, and the line that
goes on into the next one fills at least ``FULL`` of the block's longest (a title or a
paragraph's short last line does not). A Markdown heading, list item or quote never joins
another line.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col capt sgt cpl maj adm gov sen rep rev st jr sr hon pres vs
    etc eg ie cf al approx no nos vol fig dept est inc ltd co corp jan feb mar apr jun
    jul aug sep sept oct nov dec mon tue wed thu fri sat sun u.s u.k u.n e.g i.e a.m p.m""".split()
)

WRAP_MAX = 120  # a hard-wrapped block's lines are no longer than this
WRAP_MIN = 40  # nor all shorter than this (a list of short lines is not wrapped prose)
FULL = 0.75  # a line wrapped into the next fills this share of the block's longest line
_LINE = re.compile(r"[^\n]+")
_MARKER = re.compile(r"[ \t]*(?:#|[-*+•][ \t]|\d+[.)][ \t]|>)")
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then space.
# Linear time: a match starts only where a run of punctuation does, and takes the whole run
# without backtracking into it (possessive), so a file of dots is scanned once, not once a dot.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s++[\"'“‘(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the ``.`` at ``dot`` closes an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    before = text[max(0, dot - 40) : dot].rsplit(None, 1)  # a word, not the whole text
    match = _WORD_BEFORE.search(before[-1]) if before else None
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
    for first, last in _runs(text, start, end):
        cursor = first
        for boundary in _BOUNDARY.finditer(text, first, last):
            if _is_abbreviation(text, boundary.start()):
                continue
            spans.append((cursor, boundary.end()))
            cursor = boundary.end()
        spans.append((cursor, last))
    return [trimmed for span in spans if (trimmed := _trim(text, *span))]


def _runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of ``text[start:end]`` that no sentence crosses: its lines, with the
    lines of a hard-wrapped paragraph joined."""
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text, start, end)]
    runs: list[tuple[int, int]] = []
    block: list[tuple[int, int]] = []
    for i, line in enumerate(lines):
        block.append(line)
        if i + 1 < len(lines) and text[line[1] : lines[i + 1][0]] == "\n":
            continue  # the next line is in the same block
        runs += _join_wrapped(text, block)
        block = []
    return runs


def _join_wrapped(text: str, block: list[tuple[int, int]]) -> list[tuple[int, int]]:
    longest = max(b - a for a, b in block)
    wrapped = WRAP_MIN <= longest <= WRAP_MAX
    runs: list[tuple[int, int]] = []
    first = block[0][0]
    for (a, b), following in zip(block, [*block[1:], None]):
        joins = (
            wrapped
            and following is not None
            and b - a >= FULL * longest
            and not _MARKER.match(text, a)
            and not _MARKER.match(text, following[0])
        )
        if not joins:
            runs.append((first, b))
            if following is not None:
                first = following[0]
    return runs


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None
