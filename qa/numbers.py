"""Numbers in report text: "six", "150,000", "40 per cent", "1.5 million", "twenty-first".

Shared by the answer extractor (find number spans, read their values) and the metrics (so
"six" and "6" compare equal). Values are computed with ``Decimal`` so "2.3 million" is exactly
2300000, and returned as floats.
"""

from __future__ import annotations

import re
import string
from decimal import Decimal, InvalidOperation

__all__ = ["NUMBER_PATTERN", "find_numbers", "normalize_number_words", "parse_number"]

_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"]
_TEENS += ["eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}

_SMALL_VALUES = {
    "zero": 0,
    **{w: i + 1 for i, w in enumerate(_UNITS)},
    **{w: i + 10 for i, w in enumerate(_TEENS)},
    **{w: (i + 2) * 10 for i, w in enumerate(_TENS)},
}
# Ordinal words whose cardinal is not simply the word less "th" ("ninth", "twentieth").
_ORDINAL_IRREGULAR = {
    "first": "one",
    "second": "two",
    "third": "three",
    "fifth": "five",
    "eighth": "eight",
    "ninth": "nine",
    "twelfth": "twelve",
}


def _ordinal_word(cardinal: str) -> str:
    """The ordinal of a number word: "one" -> "first", "twenty" -> "twentieth"."""
    for ordinal, card in _ORDINAL_IRREGULAR.items():
        if card == cardinal:
            return ordinal
    return cardinal[:-1] + "ieth" if cardinal.endswith("y") else cardinal + "th"


def _alt(words: list[str]) -> str:
    """Regex alternation of whole words, longest first so "seventeen" beats "seven"."""
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b"


_UNIT = _alt(_UNITS)
_SMALL = rf"(?:{_alt(_TENS)}(?:[-\s]{_UNIT})?|{_alt(_TEENS)}|{_UNIT})"  # 1..99
_O_UNIT = _alt([_ordinal_word(w) for w in _UNITS])
_O_TENS_TEENS = _alt([_ordinal_word(w) for w in _TENS + _TEENS])
_O_SMALL = rf"(?:{_alt(_TENS)}[-\s]{_O_UNIT}|{_O_TENS_TEENS}|{_O_UNIT})"  # 1st..99th
_SEP = r"\s+(?:and\s+)?"
_A = r"\ban?"  # "a hundred", "a million", "a dozen"
_GROUP = rf"(?:(?:{_SMALL}|{_A})\s+hundred\b(?:{_SEP}{_SMALL})?|{_SMALL})"  # 1..999
_SCALE = _alt(list(_SCALES))
_SCALED = rf"(?:{_GROUP}|{_A})\s+{_SCALE}"
_CARDINAL = rf"(?:{_SCALED}(?:{_SEP}{_GROUP}\s+{_SCALE})*(?:{_SEP}{_GROUP})?|{_GROUP}|zero\b)"
_ORDINAL = (
    rf"(?:(?:(?:{_SMALL}|{_A})\s+hundred(?:\s+and)?\s+)?{_O_SMALL}"
    rf"|(?:{_SMALL}|{_A})\s+(?:hundredth|thousandth|millionth|billionth)\b)"
)
_DOZEN = rf"(?:{_SMALL}|{_A})\s+dozen\b"
_WORDS = rf"\b(?:{_ORDINAL}|{_DOZEN}|{_CARDINAL})"

_DIGITS = r"(?<![\w.,])[-−]?(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+)(?:\.\d+)?"
_DIGIT_ORDINAL = r"(?<![\w.,])\d+(?:st|nd|rd|th)\b"
_DIGIT_SCALE = r"\s+(?:hundred|thousand|million|billion|trillion)\b"
_PERCENT = r"(?:\s?%|\s+per\s?cent\b|\s+percent\b)"

NUMBER_PATTERN = re.compile(
    rf"(?:{_DIGIT_ORDINAL}|(?:{_DIGITS}(?:{_DIGIT_SCALE})?|{_WORDS}){_PERCENT}?)",
    re.IGNORECASE,
)
"""Finds a number expression: digits ("-3.5", "150,000", "1.5 million", "6th"), number words
("twenty-one", "three hundred and forty two", "a dozen", "sixth"), with an optional percent
suffix ("40%", "40 per cent") included in the match. Hedges ("some", "about") are not."""

_PERCENT_TAIL = re.compile(rf"{_PERCENT}$", re.IGNORECASE)
_ORDINAL_TAIL = re.compile(r"(?:st|nd|rd|th)$", re.IGNORECASE)
_HEDGE = re.compile(
    r"^(?:(?:some|about|around|roughly|approximately|approx|nearly|almost|as\s+many\s+as"
    r"|as\s+much\s+as|as\s+few\s+as|at\s+least|at\s+most|more\s+than|fewer\s+than"
    r"|less\s+than|over|under|up\s+to|upwards\s+of|just|only|well|close\s+to|circa"
    r"|an\s+estimated|estimated|the)\b\.?|[~≈])\s*",
    re.IGNORECASE,
)
_TRAILING_HEDGE = re.compile(r"\s+or\s+(?:so|more|less)$", re.IGNORECASE)
_CURRENCY = re.compile(r"^[$£€]\s?")


def _cardinal_token(word: str) -> str:
    """Map an ordinal word to its cardinal ("sixth" -> "six", "twentieth" -> "twenty")."""
    if word in _ORDINAL_IRREGULAR:
        return _ORDINAL_IRREGULAR[word]
    if word.endswith("ieth"):
        return word[:-4] + "y"
    if word.endswith("th") and word[:-2] in {*_SMALL_VALUES, "hundred", *_SCALES}:
        return word[:-2]
    return word


def _value(expression: str) -> tuple[Decimal, bool]:
    """Value of one ``NUMBER_PATTERN`` match, and whether it is an ordinal."""
    text = _PERCENT_TAIL.sub("", expression.strip().lower()).replace("−", "-")
    tokens = [t for t in re.split(r"[\s\-]+(?=[a-z])|\s+", text) if t and t != "and"]
    ordinal = False
    total = current = Decimal(0)
    for token in tokens:
        if token[0].isdigit() or token[0] == "-":
            if _ORDINAL_TAIL.search(token) and token[0].isdigit():
                token, ordinal = _ORDINAL_TAIL.sub("", token), True
            current = Decimal(token.replace(",", ""))
            continue
        word = _cardinal_token(token)
        ordinal = ordinal or word != token
        if word in ("a", "an"):
            current = Decimal(1)
        elif word in _SMALL_VALUES:
            current += _SMALL_VALUES[word]
        elif word == "hundred":
            current = (current or Decimal(1)) * 100
        elif word == "dozen":
            current = (current or Decimal(1)) * 12
        elif word in _SCALES:
            total += (current or Decimal(1)) * _SCALES[word]
            current = Decimal(0)
    return total + current, ordinal


def parse_number(text: str) -> float | None:
    """The value of ``text`` when it is one number expression, else None.

    Accepts digits, number words, ordinals, percentages ("40 per cent" -> 40), a leading
    currency sign and hedges ("some 700" -> 700, "as many as 60" -> 60). Anything else in the
    text (units, other words) makes it not a number: use ``find_numbers`` for running text.
    """
    cleaned = text.strip().strip(".,;:!?\"'“”‘’()").strip()
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _TRAILING_HEDGE.sub("", _HEDGE.sub("", cleaned, count=1))
    cleaned = _CURRENCY.sub("", cleaned)
    if not cleaned or not NUMBER_PATTERN.fullmatch(cleaned):
        return None
    try:
        return float(_value(cleaned)[0])
    except InvalidOperation:  # pragma: no cover - the pattern only admits valid digits
        return None


def find_numbers(text: str) -> list[tuple[int, int, float]]:
    """Spans ``(start, end, value)`` of the number expressions in ``text``, in order."""
    return [
        (m.start(), m.end(), float(_value(m.group())[0])) for m in NUMBER_PATTERN.finditer(text)
    ]


def _format(value: Decimal, ordinal: bool, percent: bool) -> str:
    """Canonical digits: no separators, no trailing zeros; "6th" for ordinals, "40%"."""
    if value == value.to_integral_value():
        digits = str(int(value))
    else:
        digits = format(value.normalize(), "f")
    if ordinal:
        last_two = int(value) % 100
        suffix = "th" if 11 <= last_two <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(last_two % 10)
        digits += suffix or "th"
    return digits + ("%" if percent else "")


def normalize_number_words(text: str) -> str:
    """Rewrite every number expression in canonical digits so equal numbers compare equal.

    "six missiles" -> "6 missiles", "one hundred" -> "100", "150,000" -> "150000",
    "6.0" -> "6", "1.5 million" -> "1500000", "sixth" -> "6th", "40 per cent" -> "40%".
    """

    def replace(match: re.Match[str]) -> str:
        value, ordinal = _value(match.group())
        return _format(value, ordinal, bool(_PERCENT_TAIL.search(match.group())))

    return NUMBER_PATTERN.sub(replace, text)


_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str, *, numbers: bool = True) -> str:
    """SQuAD normalisation (lower case, no punctuation, articles or extra spaces), digits for
    numbers unless ``numbers=False`` (the official scripts' normalisation exactly). Numbers go
    first: punctuation removal would turn "6.0" into "60"."""
    text = text.lower()
    if numbers:
        text = normalize_number_words(text)
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())
