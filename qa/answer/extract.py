"""Short-answer candidates inside a sentence: numbers, dates, names and places.

Offsets are relative to the sentence; every candidate is a span of it, so the answer shown is
always the source's own words ("some 700 kilometres", "Maksym Marchenko", "February 16").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.numbers import find_numbers

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
DATE_PATTERNS = (
    rf"\b(?:{MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?\b",
    rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:of )?(?:{MONTHS})(?:,? \d{{4}})?\b",
    r"\b\d{4}-\d{2}-\d{2}\b",
    rf"\b(?:(?:early|late|last|next|this) )?(?:{MONTHS})(?: \d{{4}})?\b",
    rf"\b(?:(?:early|late|last|next|on|this) )?(?:{WEEKDAYS})(?: (?:morning|night|evening))?\b",
    r"\b\d{1,2}(?::\d{2})? ?(?:am|pm|a\.m\.|p\.m\.)(?=\W|$)",
    r"\b(?:(?:early|late) )?(?:last|next|this) (?:week|month|year|night|weekend)\b",
    r"\b(?:yesterday|today|tonight|overnight)\b",
    r"\b(?:in )?(?:1[89]|20)\d{2}\b",
)
HEDGES = (
    r"(?:some|about|around|approximately|roughly|nearly|almost|at least|more than|over|"
    r"up to|as many as|as few as|fewer than|less than|only|just|an estimated)"
)
UNITS = (
    r"(?:kilometres|kilometers|km|miles|metres|meters|per cent|percent|%|days|day|hours|hour|"
    r"minutes|weeks|months|years|tonnes|tons|dollars|euros|households|people)"
)
_WORD = re.compile(r"[\w’'-]+")
_TIMES = re.compile(r"\s+times?\b")
_ORDINAL = re.compile(r"(?i)\d*(?:first|second|third|\w*th|\d+(?:st|nd|rd|th))")
TITLES = frozenset(
    """Mr Mrs Ms Dr Prof Gen General President Mayor Governor Minister Sen Senator Chancellor
    Commissioner Secretary Chief Head Commander Spokesman Spokeswoman King Queen Pope""".split()
)
NOT_NAMES = frozenset(  # capitalised because they start a sentence or name a nationality
    f"{MONTHS}|{WEEKDAYS}".split("|")
    + """The A An In On At It Its This That These Those There He She They We I But And Or If As
    After Before During Since While When Where Who What Which Why How According Late Early
    Initially Another Other Some Many Several Meanwhile However Also Ukrainian Russian Russians
    Ukrainians American Americans British European Western Eastern Northern Southern""".split()
)


@dataclass(frozen=True)
class Candidate:
    """A possible short answer: ``sentence[start:end]``; ``value`` for numbers."""

    start: int
    end: int
    text: str
    value: float | None = None


def candidates(sentence: str, kind: str) -> list[Candidate]:
    """Candidates of the expected ``kind`` in ``sentence``, in reading order."""
    if kind in ("count", "number"):
        return _numbers(sentence, with_units=kind == "number")
    if kind == "date":
        return _dates(sentence)
    if kind in ("person", "organisation", "place"):
        return _names(sentence)
    return []


def _numbers(sentence: str, with_units: bool) -> list[Candidate]:
    found = []
    for start, end, value in find_numbers(sentence):
        ordinal = _ORDINAL.fullmatch(sentence[start:end])
        if _inside_date(sentence, start, end) or (ordinal and not _TIMES.match(sentence[end:])):
            continue  # "second largest city" is no count; "the sixth time" is one
        if with_units:
            unit = re.match(rf"\s*{UNITS}\b|\s*%", sentence[end:], re.IGNORECASE)
            start = _hedge_start(sentence, start)
            end = end + unit.end() if unit else end
        found.append(Candidate(start, end, sentence[start:end], value))
    return found


def _hedge_start(sentence: str, start: int) -> int:
    hedge = re.search(rf"\b{HEDGES}\s+$", sentence[:start], re.IGNORECASE)
    return hedge.start() if hedge else start


def with_hedge(sentence: str, cand: Candidate) -> tuple[int, int]:
    """The candidate's span widened to the hedge before it: "as many as 60", "some 700"."""
    return _hedge_start(sentence, cand.start), cand.end


def _inside_date(sentence: str, start: int, end: int) -> bool:
    """Numbers that are a day of a month, a year, or a clock time are not counts."""
    before, after = sentence[max(0, start - 12) : start], sentence[end : end + 8]
    if re.search(rf"(?:{MONTHS})\.? $", before) or re.match(rf" (?:{MONTHS})\b", after):
        return True
    if re.match(r" ?(?:am|pm|a\.m\.|p\.m\.)(?:\W|$)", after, re.IGNORECASE):
        return True
    text = sentence[start:end]
    return bool(re.fullmatch(r"(?:1[89]|20)\d{2}", text)) and not re.match(
        r" (?:\w+ )?(?:of|people)", after
    )


def _dates(sentence: str) -> list[Candidate]:
    spans: list[tuple[int, int]] = []
    for pattern in DATE_PATTERNS:
        for match in re.finditer(pattern, sentence, re.IGNORECASE if "am|pm" in pattern else 0):
            if not any(
                s <= match.start() < e or match.start() <= s < match.end() for s, e in spans
            ):
                spans.append(match.span())
    return [Candidate(s, e, sentence[s:e]) for s, e in sorted(spans)]


def _names(sentence: str) -> list[Candidate]:
    """Runs of capitalised words ("Maksym Marchenko", "Zaporizhzhia Nuclear Power Plant"),
    without leading titles or function words, and ending before a possessive."""
    found: list[Candidate] = []
    run: list[tuple[int, int]] = []

    def flush() -> None:
        # a title splits a run: "Kyiv Mayor Vitali Klitschko" → "Kyiv", "Vitali Klitschko"
        parts: list[list[tuple[int, int]]] = [[]]
        for span in run:
            word = sentence[span[0] : span[1]]
            if word in TITLES:
                parts.append([])
            elif parts[-1] or word not in NOT_NAMES:
                parts[-1].append(span)
        for part in parts:
            if part:
                start, end = part[0][0], part[-1][1]
                found.append(Candidate(start, end, sentence[start:end]))
        run.clear()

    for match in _WORD.finditer(sentence):
        word = match.group()
        possessive = word.endswith(("’s", "'s"))
        if not word[0].isupper():
            flush()
            continue
        end = match.end() - 2 if possessive else match.end()
        if run and sentence[run[-1][1] : match.start()].strip():
            flush()  # punctuation between the words: a new name starts
        run.append((match.start(), end))
        if possessive:
            flush()
    flush()
    return found
