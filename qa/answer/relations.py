"""Does the answer's sentence tie what the question pins down to the answer, or a rival?

"Who is the mayor of Kryvyi Rih?" read in "Kharkiv's mayor Ihor Terekhov said ..." finds a
mayor, but Kharkiv's: the sentence holds another place where the question holds its own.
Finding the question's words somewhere in the evidence (:func:`qa.answer.verify.features`)
does not see that; these checks look for a *rival*, a word of the sentence in the place of
one the question asks about:

- a slot: a word the question and the sentence share ("mayor", "missiles", "region") has
  names attached to it, before it or after its "of" ("Kharkiv's mayor", "the mayor of
  Kharkiv", "Kalibr missiles"), and the sentence's attach a name the question's do not while
  the question's attach one the sentence's do not ("Kalibr" against "Iskander"); a title's
  other words count too ("foreign" against "Defence" minister), a thing's do not (a verb or
  another wording before "missiles" is no rival);
- a title: the question's (mayor) is not in the sentence, another (governor) is beside the
  answer;
- a day: the question's weekday or month is not in the sentence or its neighbours, another
  of the same kind is; a year is looked for in the sentence first;
- a figure: the question's figure is not in the sentence, another is, outside the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.question import STOPWORDS
from qa.numbers import find_numbers
from qa.words import MONTHS, ROLES, WEEKDAYS

# a person's title: the roles near misses are built from, and a few that only name a post
TITLES = frozenset(ROLES) | {"head", "deputy", "spokesperson", "commissioner", "envoy", "boss"}
ATTACHED = 2  # words before a slot's head that can be attached to it
BESIDE = 6  # words between the answer and a title beside it
# words that are not attached to the next one as its kind ("without power", "left behind")
_LINKS = frozenset(
    """without within across through against toward towards near around among amid between
    under along beyond behind inside outside via per off out up down also just only more most
    less least very still even""".split()
)
_TOKEN = re.compile(r"[\w’'-]+")
_YEAR = re.compile(r"^(1[0-9]|20)[0-9]{2}$")
_DAY_KINDS = (
    ("weekday", frozenset(w.lower() for w in WEEKDAYS)),
    ("month", frozenset(w.lower() for w in MONTHS)),
)


@dataclass(frozen=True)
class Token:
    word: str  # lower-cased, a possessive "'s" dropped
    start: int
    end: int
    named: bool  # capitalised
    acronym: bool  # in capitals ("US", not the pronoun "us")
    joined: bool  # only spaces between it and the word before (no comma, no bracket)

    @property
    def stem(self) -> str:
        """Its first five letters ("Ukraine", "Ukrainian"); a short word less its plural s."""
        if len(self.word) > 5 or self.acronym or len(self.word) < 4:
            return self.word[:5]
        return self.word.removesuffix("s")

    @property
    def name(self) -> bool:
        return (self.named or self.acronym) and self.content

    @property
    def content(self) -> bool:
        """Not a stop word (an acronym never is) nor a figure ("Kh-101" is a name)."""
        figure = any(s == 0 and e == len(self.word) for s, e, _ in find_numbers(self.word))
        return (self.acronym or self.word not in STOPWORDS) and not figure

    @property
    def modifier(self) -> bool:
        """A word that can say what kind the next one is: a name, or a word that is no link
        and looks no verb ("cruise", "deputy"; not "without", "killed", "running")."""
        if self.named:
            return self.content
        verb = self.word.endswith(("ed", "ing"))
        return self.content and not verb and self.word not in _LINKS


def tokens(text: str) -> list[Token]:
    found: list[Token] = []
    for m in _TOKEN.finditer(text):
        raw = m.group().strip("’'-")
        word = re.sub(r"['’]s$", "", raw)
        if word:
            named = word[:1].isupper()
            acronym = len(word) > 1 and word.isupper()
            joined = bool(found) and not text[found[-1].end : m.start()].strip()
            found.append(Token(word.lower(), m.start(), m.end(), named, acronym, joined))
    return found


def rival(question: str, answer: str, sentence: str, window: str) -> bool:
    """Whether the answer's ``sentence`` (``window``: with its neighbours) holds a rival of
    something the question pins down: any of the checks above."""
    asked, said = tokens(question), tokens(sentence)
    at = sentence.find(answer)
    span = (at, at + len(answer)) if at >= 0 and answer else (0, 0)
    return (
        slot_rival(asked, said, span)
        or title_rival(asked, said, span)
        or day_rival(asked, said, tokens(window), span)
        or figure_rival(question, sentence, span)
    )


def slot_rival(asked: Sequence[Token], said: Sequence[Token], span: tuple[int, int]) -> bool:
    """A head shared by both whose attached words differ both ways, in every place the
    sentence attaches any to it. A head is a title or a word that looks like a thing (no
    name, no verb); only names count as attached, but for a title ("foreign minister")."""
    for i, head in enumerate(asked):
        title = head.word in TITLES
        if not (title or (head.modifier and not head.named)):
            continue
        wanted = _attached(asked, i, title)
        slots = [_attached(said, j, title, span) for j, t in enumerate(said) if t.stem == head.stem]
        slots = [s for s in slots if s]
        if wanted and slots and all(wanted - s and s - wanted for s in slots):
            return True
    return False


def title_rival(asked: Sequence[Token], said: Sequence[Token], span: tuple[int, int]) -> bool:
    """The question's title is not in the sentence; another title is beside the answer."""
    titles = {t.stem for t in asked if t.word in TITLES}
    if not titles or titles & {t.stem for t in said}:
        return False
    inside = [i for i, t in enumerate(said) if span[0] <= t.start and t.end <= span[1]]
    if not inside:
        return False
    near = said[max(0, inside[0] - BESIDE) : inside[-1] + BESIDE + 1]
    return any(t.word in TITLES for t in near)


def day_rival(
    asked: Sequence[Token], said: Sequence[Token], window: Sequence[Token], span: tuple[int, int]
) -> bool:
    """The question's weekday, month or year is not in the window, another of its kind is;
    a year is looked for in the sentence first, outside the answer (a report names the day
    once for a few sentences, a history gives each sentence its year)."""
    years = {
        t.word for t in said if _day_kind(t.word) == "year" and not span[0] <= t.start < span[1]
    }
    for kind in ("weekday", "month", "year"):
        wanted = {t.word for t in asked if _day_kind(t.word) == kind}
        there = {t.word for t in window if _day_kind(t.word) == kind}
        if kind == "year" and years:
            there = years
        if wanted and there and not wanted & there:
            return True
    return False


def figure_rival(question: str, sentence: str, span: tuple[int, int]) -> bool:
    """A figure of the question is not in the sentence; another is, outside the answer (a
    year is a day, not a figure)."""
    wanted = {v for s, e, v in find_numbers(question) if not _YEAR.match(question[s:e])}
    found = find_numbers(sentence)
    there = {v for *_, v in found}
    others = {
        v for s, e, v in found if (e <= span[0] or s >= span[1]) and not _YEAR.match(sentence[s:e])
    }
    return bool(wanted - there) and bool(others - wanted)


def _attached(
    words: Sequence[Token], i: int, any_word: bool, span: tuple[int, int] = (0, 0)
) -> set[str]:
    """The stems of the words attached to ``words[i]``: the modifiers right before it (up to
    :data:`ATTACHED`) and after its "of (the)" (up to one more), nothing between them but
    spaces; names only unless ``any_word``; words of the answer (``span``) left out."""
    found = []
    for k in range(i - 1, max(-1, i - ATTACHED - 1), -1):
        if not words[k].modifier or not words[k + 1].joined:
            break
        found.append(words[k])
    after = list(words[i + 1 : i + 4 + ATTACHED])
    if after and after[0].word == "of" and after[0].joined:
        after = after[2:] if len(after) > 1 and after[1].word == "the" else after[1:]
        for t in after:
            if not t.modifier or not t.joined:
                break
            found.append(t)
    return {t.stem for t in found if (any_word or t.name) and not span[0] <= t.start < span[1]}


def _day_kind(word: str) -> str | None:
    if _YEAR.match(word):
        return "year"
    return next((kind for kind, words in _DAY_KINDS if word in words), None)
