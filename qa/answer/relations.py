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
  or a body's other words count too ("foreign" against "Defence" minister, "foreign
  ministry" against the defence ministry), but for a post the question names that the
  sentence only describes ("IAEA chief", "UN nuclear watchdog chief"); a thing's do not (a
  verb or another wording before "missiles" is no rival); an acronym stands for the names
  it spells ("AFL", "Arena Football League");
- a title: the question's (mayor) is not in the sentence, another (governor) is beside the
  answer ("Gen" is a general; any post is a "leader"; "Queen" in "Queen Victoria", where the
  report writes that name, is no title asked of the answer);
- a day: the question's weekday or month is not in the sentence or its neighbours, another
  of the same kind is; a year is looked for in the sentence first, a weekday in the sentence
  and then in the report's lead (the day a news report is about);
- a figure: the question's figure is not in the sentence, another is, outside the answer
  (an ordinal, or the "two" of "what two groups", asks for no figure);
- a thing counted: "how many kamikaze drones" read in "fifteen rockets", or "ballistic
  missiles" in "34 cruise missiles", or "guided bombs" in "eight drones";
- a weapon: "which tanks ...?" answered "Patriot missiles";
- a place: "... consumers in Dnipro?" read in "consumers in Kyiv";
- a name: "Vitaliy Klitschko" asked, "Vitaliy Kim" in the sentence;
- who said it: "did Ihor Terekhov say ...?" (or "did Zelenskyy say", where the report
  names Volodymyr Zelenskyy) read in "Oleh Synehubov, governor of Kharkiv, said ..."; or
  "according to the head of the police" read in "the governor said".

A sentence often says two things ("two died in Kherson on Thursday, however 13 drones were
brought down on Wednesday"): a slot or a day in the answer's own clause speaks for it, so
the rest of the sentence is looked at only where its clause says nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.question import STOPWORDS
from qa.generate.lexicon import key, lowercase_words
from qa.numbers import find_numbers
from qa.words import MONTHS, ROLES, WEAPONS, WEEKDAYS

# a person's title: the roles near misses are built from, and a few that only name a post
TITLES = frozenset(ROLES) | {"head", "deputy", "spokesperson", "commissioner", "envoy", "boss"}
# titles that name the same post: the head of a body is its chief, leader or boss
_SAME_POST = {
    **dict.fromkeys(("chief", "leader", "boss"), "head"),
    **dict.fromkeys(("spokeswoman", "spokesperson"), "spokesman"),
}
# a title's short form, capitalised before a name ("Gen Valery Zaluzhny")
_SHORT = {
    "gen": "general",
    "adm": "admiral",
    "capt": "captain",
    "gov": "governor",
    "pres": "president",
}
# a title any post fits: a president is a country's leader
_ANY_POST = frozenset({"leader"})
# bodies whose other words make another body ("foreign ministry" is not the defence ministry)
BODIES = frozenset({"ministry", "department", "office", "agency", "council", "committee", "police"})
# words of a title that make it another post ("deputy mayor" is not the mayor)
QUALIFIERS = frozenset({"deput", "vice", "actin", "forme", "assis", "inter"})
ATTACHED = 2  # words before a slot's head that can be attached to it
BESIDE = 6  # words between the answer and a title beside it
SPEAKER = 5  # words after "according to" that can name who said it
NEAR = 8  # words either side of a slot where the question's own words take it back
# words that are not attached to the next one as its kind ("without power", "left behind")
_WEAPON_STEMS = {word[:5] if len(word) > 5 else word: kind for word, kind in WEAPONS.items()}
_LINKS = frozenset(
    """without within across through against toward towards near around among amid between
    under along beyond behind inside outside via per off out up down also just only more most
    less least very still even""".split()
)
_TOKEN = re.compile(r"[\w’'-]+")
_PLURAL_ACRONYM = re.compile(r"[A-Z]{2,}s")
_YEAR = re.compile(r"^(1[0-9]|20)[0-9]{2}$")
_BEING = frozenset("is are was were be been has have had".split())
_SAYING = frozenset(
    """say says said saying tell tells told warn warns warned claim claims claimed announce
    announces announced""".split()
)
_ORDINAL = re.compile(r"(?:st|nd|rd|th)$|^(?:first|second|third)$", re.IGNORECASE)
_ASKS_HOW_MANY = re.compile(r"\b(?:what|which|name|list|give)\s+$", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(
    r";|\s[–—]\s|,\s*(?:and|but|however|while|whereas|although|though|yet)\b"
    r"|\b(?:however|while|whereas)\b"
)
_WEEKDAY = re.compile(r"\b(?:" + "|".join(WEEKDAYS) + r")\b")
LEAD = 20_000  # characters of a report searched for the day it is about
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
        return (self.acronym or self.word not in STOPWORDS) and not _figure(self.word)

    @property
    def modifier(self) -> bool:
        """A word that can say what kind the next one is: a name, or a word that is no link
        and looks no verb ("cruise", "deputy"; not "without", "killed", "running")."""
        if self.named:
            return self.content
        verb = self.word.endswith(("ed", "ing"))
        return self.content and not verb and self.word not in _LINKS


@functools.lru_cache(maxsize=256)
def tokens(text: str) -> tuple[Token, ...]:
    """The words of ``text`` (cached: a question, its sentences and their windows are read
    for each of its answers)."""
    found: list[Token] = []
    for m in _TOKEN.finditer(text):
        raw = m.group().strip("’'-")
        word = re.sub(r"['’]s$", "", raw)
        if _PLURAL_ACRONYM.fullmatch(word):  # "CDs" are CDs
            word = word[:-1]
        if word[:1].isupper() and word.lower() in _SHORT:
            word = _SHORT[word.lower()].capitalize()
        if word:
            # a text's first word is capitalised whatever it is ("Major suburbs include")
            named = word[:1].isupper() and (bool(found) or key(word) not in lowercase_words())
            acronym = len(word) > 1 and word.isupper()
            joined = bool(found) and not text[found[-1].end : m.start()].strip()
            found.append(Token(word.lower(), m.start(), m.end(), named, acronym, joined))
    return tuple(found)


def rival(question: str, answer: str, sentence: str, window: str, report: str = "") -> bool:
    """Whether the answer's ``sentence`` (``window``: with its neighbours; ``report``: the
    whole text) holds a rival of something the question pins down: any of the checks
    above."""
    asked, said, near = tokens(question), tokens(sentence), tokens(window)
    at = sentence.find(answer)
    span = (at, at + len(answer)) if at >= 0 and answer else (0, 0)
    own = clause(sentence, span)
    lead = _WEEKDAY.search(report[:LEAD])
    return (
        slot_rival(asked, said, span, own)
        or title_rival(asked, said, span, report)
        or day_rival(asked, said, near, span, own, lead.group().lower() if lead else None)
        or figure_rival(question, sentence, span)
        or count_rival(question, asked, said, sentence, span)
        or weapon_rival(question, asked, answer)
        or place_rival(asked, said, near, span, own)
        or name_rival(asked, said)
        or speaker_rival(asked, said, report)
    )


def clause(sentence: str, span: tuple[int, int]) -> tuple[int, int]:
    """The bounds of the clause of ``sentence`` that holds ``span``, between breaks like
    "; " or ", however" (the whole sentence when the answer is not in it)."""
    if span == (0, 0):
        return 0, len(sentence)
    start, end = 0, len(sentence)
    for m in _CLAUSE_BREAK.finditer(sentence):
        if m.end() <= span[0]:
            start = m.end()
        elif m.start() >= span[1]:
            end = m.start()
            break
    return start, end


def slot_rival(
    asked: Sequence[Token],
    said: Sequence[Token],
    span: tuple[int, int],
    own: tuple[int, int] | None = None,
) -> bool:
    """A head shared by both whose attached words differ both ways, in every place the
    sentence attaches any to it: in the answer's clause (``own``) where it has any. A head
    is a title or a word that looks like a thing (no name, no verb); only names count as
    attached, but for a title ("foreign minister"); a word the question holds elsewhere
    is no rival. A title the question qualifies ("deputy mayor") and the sentence does not
    is another post."""
    mentioned = {t.stem for t in asked} | _initials(asked)
    spelled = _initials(said)
    for i, head in enumerate(asked):
        title = head.word in TITLES
        if not (title or (head.modifier and not head.named)):
            continue
        post = title or head.word in BODIES
        wanted = _attached(asked, i, post)
        # a post the question names ("IAEA chief") is not another for being described
        # ("UN nuclear watchdog chief"): the sentence's names are compared with its names
        described = post and wanted == _attached(asked, i, False)
        found = [
            (t.start, _attached(said, j, post and not described, span), _near(said, j) | spelled)
            for j, t in enumerate(said)
            if t.stem == head.stem
        ]
        local = [(s, near) for at, s, near in found if own and own[0] <= at < own[1]]
        # the answer's clause speaks for it where it holds the head (its names may be the
        # answer's own: "in which district ...?" read in "the Sviatoshynskyi district")
        slots = [(s, n) for s, n in (local or [(s, n) for _, s, n in found]) if s]
        if wanted and slots and all(wanted - near and s - mentioned for s, near in slots):
            return True
        places = [s for s, _ in local] or [s for _, s, _ in found]
        if title and places and all(wanted & QUALIFIERS - s for s in places):
            return True
    return False


def title_rival(
    asked: Sequence[Token], said: Sequence[Token], span: tuple[int, int], report: str = ""
) -> bool:
    """The question's title is not in the sentence; another title is beside the answer. A
    title that is part of a name the report gives ("Queen Victoria's successor", "A. Carl
    Prince") is not what the answer is asked to be."""
    titles = {
        _post(t.word)
        for i, t in enumerate(asked)
        if t.word in TITLES - _ANY_POST and not _named_in(asked, i, report)
    }
    if not titles or titles & {_post(t.word) for t in said}:
        return False
    inside = [i for i, t in enumerate(said) if span[0] <= t.start and t.end <= span[1]]
    if not inside:
        return False
    near = said[max(0, inside[0] - BESIDE) : inside[-1] + BESIDE + 1]
    return any(t.word in TITLES for t in near)


def day_rival(
    asked: Sequence[Token],
    said: Sequence[Token],
    window: Sequence[Token],
    span: tuple[int, int],
    own: tuple[int, int] | None = None,
    lead: str | None = None,
) -> bool:
    """The question's weekday, month or year is not in the answer's clause (``own``) while
    another of its kind is; or, where the clause names none, not in the window while another
    is. A year is looked for in the sentence first, outside the answer (a report names the
    day once for a few sentences, a history gives each sentence its year); a weekday in the
    sentence, then in the report's lead (``lead``: the first it names, the day a news report
    is about), before its neighbours, which may tell of another day ("the UN warned on
    Thursday" beside Friday's strikes)."""
    years = {
        t.word for t in said if _day_kind(t.word) == "year" and not span[0] <= t.start < span[1]
    }
    near = [t for t in said if own and own[0] <= t.start < own[1]]
    for kind in ("weekday", "month", "year"):
        wanted = {t.word for t in asked if _day_kind(t.word) == kind}
        there = {t.word for t in near if _day_kind(t.word) == kind}
        if not there and kind == "weekday":
            there = {t.word for t in said if _day_kind(t.word) == kind} or (
                {lead} if lead else set()
            )
        if not there:
            there = {t.word for t in window if _day_kind(t.word) == kind}
            if kind == "year" and years:
                there = years
        if wanted and there and not wanted & there:
            return True
    return False


def figure_rival(question: str, sentence: str, span: tuple[int, int]) -> bool:
    """A figure of the question is not in the sentence; another is, outside the answer (a
    year is a day, not a figure)."""
    wanted = {v for s, e, v in find_numbers(question) if _pins(question, s, e)}
    found = find_numbers(sentence)
    there = {v for *_, v in found}
    others = {
        v for s, e, v in found if (e <= span[0] or s >= span[1]) and not _YEAR.match(sentence[s:e])
    }
    return bool(wanted - there) and bool(others - wanted)


def count_rival(
    question: str,
    asked: Sequence[Token],
    said: Sequence[Token],
    sentence: str,
    span: tuple[int, int],
) -> bool:
    """ "How many" asks for a count of a thing ("kamikaze drones"); the answer's figure counts
    another ("fifteen rockets") while the sentence speaks of the question's, or the same
    kind with another word for it ("34 cruise missiles" for ballistic ones), or another kind
    of weapon ("eight drones" for guided bombs)."""
    at = re.search(r"\bhow many\b", question, re.IGNORECASE)
    figures = [e for s, e, _ in find_numbers(sentence) if span[0] <= s < span[1]]
    if not at or not figures:
        return False
    kinds = _weapon(asked, at.end()), _weapon(said, figures[-1])
    if all(kinds) and kinds[0] != kinds[1]:
        return True  # "13 drones" for "how many missiles"
    wanted = _thing(asked, at.end(), len(question))
    counted = _thing(said, figures[-1], len(sentence))
    if not wanted or not counted:
        return False
    mentioned = {t.stem for t in asked}
    if wanted[-1] not in counted:
        # the sentence speaks of the question's thing, but its figure counts another (a
        # thing worded otherwise, "fans" for spectators, is no rival)
        return wanted[-1] in {t.stem for t in said} and counted[-1] not in mentioned
    return bool(set(wanted[:-1]) - set(counted)) and bool(set(counted[:-1]) - mentioned)


def weapon_rival(question: str, asked: Sequence[Token], answer: str) -> bool:
    """ "Which tanks ...?" answered "Patriot air defence missiles": the answer names another
    kind of weapon than the question asks for."""
    at = re.match(r"\s*(?:what|which)\b", question, re.IGNORECASE)
    said = tokens(answer)
    if not at or not said:
        return False
    wanted, given = _weapon(asked, at.end()), _weapon(said[-1:], 0)
    return bool(wanted and given) and wanted != given


def place_rival(
    asked: Sequence[Token],
    said: Sequence[Token],
    window: Sequence[Token],
    span: tuple[int, int],
    own: tuple[int, int],
) -> bool:
    """ "... consumers in Dnipro?" read in "consumers in Kyiv": the answer's clause puts it in
    another place (a name after "in"), and the question's is nowhere near."""
    wanted, there = _placed(asked), _placed(said, span, own)
    near = {t.stem for t in window} | {t.stem for t in said}
    return bool(wanted and there) and not wanted & near and bool(there - {t.stem for t in asked})


def name_rival(asked: Sequence[Token], said: Sequence[Token]) -> bool:
    """A name of the question ("Vitaliy Klitschko") whose last word is not in the sentence,
    where a name of the sentence begins as it does and ends otherwise ("Vitaliy Kim")."""
    there = {t.stem for t in said}
    for name in _names(asked[1:]):
        if name[-1] in there:
            continue
        if any(name[0] in other[:-1] and other[-1] not in name for other in _names(said)):
            return True
    return False


def speaker_rival(asked: Sequence[Token], said: Sequence[Token], report: str = "") -> bool:
    """The question names who said it ("according to Ihor Terekhov", "did Kharkiv's mayor
    Ihor Terekhov say", "did Zelenskyy say" where the report names Volodymyr Zelenskyy), the
    sentence does not, and gives its words to another full name ("Oleh Synehubov, governor
    of Kharkiv, said"); or the question gives the words to a post ("according to the head
    of the police") and the sentence to another ("the governor ... said")."""
    there = {t.stem for t in said}
    wanted, found = _speaker(asked, report), _speaker(said)
    if wanted and found and wanted[-1] not in there:
        return True
    posts = {_post(t.word) for t in _speaking(asked, NEAR)[0] if t.word in TITLES - _ANY_POST}
    others = {_post(t.word) for t in _speaking(said, NEAR)[0] if t.word in TITLES}
    return bool(posts and others) and not posts & {_post(t.word) for t in said}


def _speaking(words: Sequence[Token], reach: int | None = None) -> tuple[Sequence[Token], bool]:
    """The words that name who says something, and whether they follow what names them: the
    few after "according to", else those before the first verb of saying (the last
    ``reach`` of them, if given)."""
    for i, t in enumerate(words[:-1]):
        if t.word == "according" and words[i + 1].word == "to":
            return words[i + 2 : i + 2 + SPEAKER], True
    verb = next((i for i, t in enumerate(words) if t.word in _SAYING), None)
    if verb is None:
        return (), False
    return words[max(0, verb - reach) if reach else 0 : verb], False


def _speaker(words: Sequence[Token], report: str = "") -> list[str]:
    """The stems of the full name (two names or more) said to say something: the first among
    the few words after "according to", else the last before a verb of saying ("did
    Kharkiv's mayor Ihor Terekhov say": Ihor Terekhov); a single name where ``report`` gives
    it a full name; none for a place or another single name ("according to Kyiv")."""
    named, after = _speaking(words)
    runs = _runs(named) if after else _runs(named)[::-1]  # the nearest first
    full = [run for run in runs if len(run) > 1]
    if full:
        return full[0]
    return _full_name(runs[0][0], report) if runs and report else []


def _full_name(stem: str, report: str) -> list[str]:
    """The stems of the first full name in ``report`` (its lead) that ends with the word of
    ``stem`` ("Zelenskyy": Volodymyr Zelenskyy), or none."""
    pattern = rf"(?:\b[A-Z][\w’'-]+ ){{1,2}}{re.escape(stem[:1].upper() + stem[1:])}\w*"
    m = re.search(pattern, report[:LEAD])
    if not m:
        return []
    run = _names(tokens(m.group()))
    return run[-1] if run and run[-1][-1] == stem else []


def _runs(words: Sequence[Token]) -> list[list[str]]:
    """The stems of each run of names (one or more), nothing but spaces between them."""
    runs: list[list[str]] = []
    for k, t in enumerate(words):
        if not t.name:
            continue
        if k and words[k - 1].name and t.joined:
            runs[-1].append(t.stem)
        else:
            runs.append([t.stem])
    return runs


def _names(words: Sequence[Token]) -> list[list[str]]:
    """The runs of two or more names."""
    return [run for run in _runs(words) if len(run) > 1]


def _named_in(words: Sequence[Token], i: int, report: str) -> bool:
    """Whether ``words[i]``, capitalised, is one of a run of names ("Queen Victoria", "A.
    Carl Prince") that ``report`` writes too, the word beside it included."""
    if not words[i].named or not report:
        return False
    pairs = []
    if i + 1 < len(words) and words[i + 1].name and words[i + 1].joined:
        pairs.append((words[i], words[i + 1]))
    if i > 0 and words[i - 1].name and words[i].joined:
        pairs.append((words[i - 1], words[i]))
    return any(
        re.search(rf"\b{re.escape(a.word)}\s+{re.escape(b.word)}\b", report, re.IGNORECASE)
        for a, b in pairs
    )


def _initials(words: Sequence[Token]) -> set[str]:
    """The initials of each run of two names or more ("Arena Football League": afl), which
    the other text may write as an acronym ("AFL")."""
    return {"".join(stem[0] for stem in run) for run in _names(words)}


def _near(words: Sequence[Token], j: int) -> set[str]:
    """The stems of the words near ``words[j]``: up to :data:`NEAR` before it, and as many
    after it as come before a verb of saying or being (its apposition: "governor of Ukraine's
    second largest city, Kharkiv, said", not "the Ukrainian air force said Russia ...")."""
    after = []
    for t in words[j + 1 : j + NEAR + 1]:
        if t.word in _SAYING or t.word in _BEING:
            break
        after.append(t)
    return {t.stem for t in (*words[max(0, j - NEAR) : j + 1], *after)}


def _thing(words: Sequence[Token], start: int, end: int) -> list[str]:
    """The stems of the words that say what is counted: those right after ``start`` (a
    figure's end, or "how many"), nothing but spaces between them, while they look like
    a thing's words."""
    found: list[str] = []
    for t in words:
        if t.start < start or t.start >= end:
            continue
        if not t.modifier or (found and not t.joined):
            break
        found.append(t.stem)
    return found


def _weapon(words: Sequence[Token], start: int) -> str | None:
    """The kind of weapon (:data:`qa.words.WEAPONS`) named by the first of the few words
    from ``start`` (a figure's end, or "how many") that names one ("eight drones and guided
    missiles": drone), nothing but spaces between them, if any."""
    after = [t for t in words if t.start >= start][: ATTACHED + 1]
    for k, t in enumerate(after):
        if k and not t.joined:
            break
        if t.stem in _WEAPON_STEMS:
            return _WEAPON_STEMS[t.stem]
    return None


def _placed(
    words: Sequence[Token], span: tuple[int, int] = (0, 0), within: tuple[int, int] | None = None
) -> set[str]:
    """The stems of the names right after "in (the)" (within ``within``, character bounds,
    if given), those of the answer (``span``) and days left out ("in Kyiv", "in the Dnipro
    region"). A place written short ("in the US", "in the U.S.") has other spellings: it
    names none."""
    found: set[str] = set()
    for i, t in enumerate(words[:-1]):
        if t.word != "in" or (within and not within[0] <= t.start < within[1]):
            continue
        k = i + 2 if words[i + 1].word == "the" and i + 2 < len(words) else i + 1
        run = []
        while k < len(words) and words[k].name and words[k].joined and not _day_kind(words[k].word):
            run.append(words[k])
            k += 1
        if any(w.acronym or len(w.word) == 1 for w in run):
            continue
        found |= {w.stem for w in run if not span[0] <= w.start < span[1]}
    return found


def _pins(question: str, start: int, end: int) -> bool:
    """Whether the figure at ``question[start:end]`` pins one down: not a year, an ordinal
    ("the first"), or the number of answers asked for ("what two groups")."""
    text = question[start:end]
    if _YEAR.match(text) or _ORDINAL.search(text):
        return False
    return text[:1].isdigit() or not _ASKS_HOW_MANY.search(question[:start])


def _attached(
    words: Sequence[Token], i: int, any_word: bool, span: tuple[int, int] = (0, 0)
) -> set[str]:
    """The stems of the words attached to ``words[i]``: the modifiers right before it (up to
    :data:`ATTACHED`) and after its "of (the)" (up to one more), nothing between them but
    spaces; names only, but for the words before it when ``any_word`` ("foreign minister",
    not "the mayor of the southern city"); words of the answer (``span``) left out."""
    before = []
    for k in range(i - 1, max(-1, i - ATTACHED - 1), -1):
        if not words[k].modifier or not words[k + 1].joined:
            break
        before.append(words[k])
    after = list(words[i + 1 : i + 4 + ATTACHED])
    of = []
    if after and after[0].word == "of" and after[0].joined:
        after = after[2:] if len(after) > 1 and after[1].word == "the" else after[1:]
        for t in after:
            if not t.modifier or not t.joined:
                break
            of.append(t)
    found = [t for t in before if any_word or t.name] + [t for t in of if t.name]
    return {t.stem for t in found if not span[0] <= t.start < span[1]}


def _post(word: str) -> str:
    return _SAME_POST.get(word, word)


@functools.lru_cache(maxsize=4096)
def _figure(word: str) -> bool:
    """The whole word is a figure ("81", "six"; not "Kh-101")."""
    return any(s == 0 and e == len(word) for s, e, _ in find_numbers(word))


@functools.lru_cache(maxsize=4096)
def _day_kind(word: str) -> str | None:
    if _YEAR.match(word):
        return "year"
    return next((kind for kind, words in _DAY_KINDS if word in words), None)
