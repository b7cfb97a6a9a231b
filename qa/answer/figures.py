"""Different figures: whether two figures answer the same question about the same thing.

"How many Kinzhal missiles were fired?" is answered by "six Kinzhal hypersonic missiles", not
by a mayor's "as many as 60 missiles"; "how many missiles were fired?" on Thursday is not
answered by a count of Friday's. Only figures that pass these checks are shown side by side
as "the reports give different figures", each with its report and day.
"""

from __future__ import annotations

import re
import textwrap

from qa.answer.casing import truecase
from qa.answer.question import STOPWORDS, Question
from qa.answer.relations import LEAD
from qa.answer.verify import constraints, stem, stems
from qa.types import Citation, Document

DAY = re.compile(
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
    r"\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)(?: \d{4})?)\b"
)
FIGURE_TITLE = 80  # characters of a report's title in a line of figures


def counted(q: Question) -> list[str]:
    """The words naming what a "how many"/"how much" question counts ("Kinzhal missiles")."""
    match = re.search(r"\bhow (?:many|much)\s+([\w' -]+)", q.text, re.IGNORECASE)
    words = []
    for word in match.group(1).split() if match else []:
        if word.lower() in STOPWORDS:
            break
        words.append(word.lower())
    return words


def same_quantity(
    q: Question, mine: Citation, theirs: Citation, documents: dict[str, Document]
) -> bool:
    """Whether two figures answer the question about the same thing: the other's sentence
    names what the question counts and every constraint the first's sentence holds, and the
    two are not about different days (:func:`day`)."""
    # days are compared below, by the day each figure is about, not by the sentence's words;
    # a question typed in lowercase is read with its report's capitals, as verify reads it
    text = truecase(q.text, documents[mine.doc_id].text)
    asked = [w for w in constraints(text) if not DAY.fullmatch(w)]
    needed = [stem(w.lower()) for w in counted(q) + asked]
    held, other = stems(mine.quote), stems(theirs.quote)
    if any(w in held and w not in other for w in needed):
        return False
    days = day(mine, documents), day(theirs, documents)
    return None in days or days[0] == days[1]


def day(citation: Citation, documents: dict[str, Document]) -> str | None:
    """The day a figure is about: one its sentence names, else the first its report names,
    else the report's date."""
    text = documents[citation.doc_id].text[:LEAD]
    found = DAY.search(citation.quote) or DAY.search(text)
    return found.group() if found else citation.date


def when(citation: Citation, documents: dict[str, Document]) -> str:
    """A figure's report title, with the day it is about where known."""
    found = day(citation, documents)
    # a title that is a report's whole first sentence is shortened here, in a line of figures
    title = textwrap.shorten(citation.title, FIGURE_TITLE, placeholder="…")
    return f"{title}, {found}" if found else title
