"""Each sentence of a generated answer checked against the passages it cites.

A sentence is supported when it cites at least one passage that exists and every figure
(numbers, in digits or words, which covers dates' days and years) and every name (a
capitalised word past the first; the first when the second is capitalised too, or when English
writes it in lowercase rarely: :mod:`qa.generate.lexicon`) in it is in one of the passages it
cites; names are compared in any case, a plural or possessive s aside.
Citation numbers that no passage has are taken out of the text and named. A sentence that
cites nothing is unsupported, unless it only says that the reports don't say.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence

from qa.generate.lexicon import WORD, key, lowercase_words
from qa.numbers import find_numbers
from qa.sentences import split_sentences
from qa.types import Claim

_MARKER = re.compile(r"\s*\[(\d+)\]")
_ABSTAINS = re.compile(r"\b(?:don't|do not|does not|doesn't) (?:say|mention|state)\b", re.I)
# capitalised words that are no names: sentence openers, weekdays stay names (in reports)
_COMMON = frozenset(
    "I A An The This That These Those It Its They Their There He She His Her We Our You "
    "In On At Of For From By With And But Or As To According Some Many Most Other Both".split()
)


def check(text: str, passages: Sequence[str]) -> tuple[str, tuple[Claim, ...]]:
    """The text without citation numbers that no passage has, and its sentences checked
    against ``passages`` (``passages[n - 1]`` is passage ``[n]``)."""
    values = [{round(v, 6) for *_, v in find_numbers(p)} for p in passages]
    words = [{key(w) for w in WORD.findall(p)} for p in passages]
    claims = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        cited = [int(m[1]) for m in _MARKER.finditer(sentence)]
        good = tuple(dict.fromkeys(n for n in cited if 1 <= n <= len(passages)))
        removed = tuple(dict.fromkeys(n for n in cited if n not in good))
        kept = _keep_markers(sentence, good)
        claims.append(Claim(kept, good, _problems(kept, good, values, words), removed))
    return _keep_markers(text, range(1, len(passages) + 1)), tuple(claims)


def _keep_markers(text: str, kept: Container[int]) -> str:
    """``text`` without the [n] markers whose number is not in ``kept``."""

    def marker(m: re.Match[str]) -> str:
        return m.group() if int(m[1]) in kept else ""

    return _MARKER.sub(marker, text)


def _problems(
    sentence: str, cited: tuple[int, ...], values: list[set[float]], words: list[set[str]]
) -> tuple[str, ...]:
    bare = _MARKER.sub("", sentence)
    if not cited:
        return () if _ABSTAINS.search(bare) else ("cites no passage",)
    held = set().union(*(values[n - 1] for n in cited))
    known = set().union(*(words[n - 1] for n in cited))
    where = "".join(f"[{n}]" for n in cited)
    problems = [
        f"{bare[a:b].strip()} is in none of its passages {where}"
        for a, b, value in find_numbers(bare)
        if round(value, 6) not in held
    ]
    # the first word is capitalised anyway: it counts as a name when the next one is too
    # ("Ihor Terekhov said") or when it is no word English writes in lowercase ("Putin said",
    # not "Officials said")
    found = WORD.findall(bare)
    names = [w for w in found[1:] if w[0].isupper()]
    if found and (
        (len(found) > 1 and found[1][0].isupper()) or key(found[0]) not in lowercase_words()
    ):
        names.insert(0, found[0])
    problems += [
        f"{name} is in none of its passages {where}"
        for name in dict.fromkeys(names)
        if name not in _COMMON and key(name) not in known
    ]
    return tuple(problems)
