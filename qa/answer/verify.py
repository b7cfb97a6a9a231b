"""Verify before answering: does the evidence hold what the question pins down, and how likely
is the answer to be right?

The reader scores a span against "no answer here", but it can still read the Odesa governor's
name for "who is the governor of the Dnipro region?". So the answer's evidence is checked
against the question's constraints (its names, places, figures and role words): are they in
the answer's sentence, its passage, its report? And does the sentence hold a rival in their
place, another mayor or region (:mod:`qa.answer.relations`)? Those checks and the reader's
scores are the features of a logistic model fit on held-out questions (``python -m
qa.eval.calibrate``, hard negatives included), whose output is the confidence a user sees:
the measured probability that the answer is right. A rival vetoes the answer: the reply
abstains whatever the confidence. The fit, its reliability table, the veto and the
thresholds ship in ``calibration.json`` beside this module.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.answer.casing import truecase
from qa.answer.question import STOPWORDS, Question
from qa.answer.relations import rival
from qa.numbers import find_numbers
from qa.words import MONTHS, ROLES, WEEKDAYS

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FEATURES = (
    "score",  # the reader's ranking score (margin over "no answer", less the rank prior)
    "margin",  # the span's margin over its passage's "no answer"
    "gap",  # how far the best answer's score is ahead of the next one's
    "in_sentence",  # share of the question's constraints found in the answer's sentence
    "in_window",  # ... in it and the sentences before and after it
    "in_passage",  # ... in the passage it was read from
    "in_document",  # ... in its report
    "constrained",  # 1 when the question has constraints at all
    "overlap",  # share of the question's content words in the answer's sentence
    "type_ok",  # the answer has the shape the question asks for (a figure for "how many")
    "rival",  # the answer's sentence holds a rival of what the question pins down
)
_TOKEN = re.compile(r"[\w-]+")
_REASON = re.compile(
    r"\s*(because|due|to|as|since|so|for|in order|owing|in response|after|by)\b", re.IGNORECASE
)
_DATE_WORDS = frozenset(w.lower() for w in MONTHS + WEEKDAYS)


@dataclass(frozen=True)
class Calibration:
    """A logistic model over :data:`FEATURES` and what was measured when it was fit."""

    weights: tuple[float, ...]
    bias: float
    abstain: float  # confidence under which replies abstain (chosen on the fit half's curve)
    high: float  # confidence from which held-out answers were right at least 95% of the time
    fit: dict[str, Any]  # the data it was fit and measured on, its ECE and reliability table
    # checks that, when they find something, make a reply abstain whatever its confidence:
    # a rival in the answer's sentence contradicts the question
    veto: tuple[str, ...] = ()

    def probability(self, features: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features))
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    def vetoed(self, features: Sequence[float]) -> bool:
        return any(features[FEATURES.index(name)] for name in self.veto)

    def answers(self, features: Sequence[float], abstain_below: float) -> bool:
        """Whether a reply gives the answer with these features rather than abstain: its
        confidence is at least ``abstain_below`` and no vetoing check found anything (at a
        threshold of 0, which asks for every answer, nothing is vetoed)."""
        if abstain_below <= 0:
            return True
        return self.probability(features) >= abstain_below and not self.vetoed(features)

    def save(self, path: Path) -> None:
        record = {"features": list(FEATURES), **asdict(self)}
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        record = json.loads(path.read_text(encoding="utf-8"))
        if tuple(record["features"]) != FEATURES:
            raise ValueError(f"{path} was fit on other features; run python -m qa.eval.calibrate")
        return cls(
            tuple(record["weights"]),
            record["bias"],
            record["abstain"],
            record["high"],
            record["fit"],
            tuple(record.get("veto", ())),
        )


@functools.lru_cache(maxsize=1)
def shipped() -> Calibration:
    """The calibration shipped in the package."""
    return Calibration.load()


def confidence_level(confidence: float) -> str:
    """ "high" from the confidence where held-out answers were right at least 95% of the
    time, "medium" down to 0.5 (more likely right than wrong), else "low"."""
    if confidence >= shipped().high:
        return "high"
    return "medium" if confidence >= 0.5 else "low"


def constraints(question: str, answer: str = "") -> list[str]:
    """What the question pins down: its names (capitalised words past the first), figures,
    role words, months and weekdays; words of the answer itself do not count."""
    found = []
    words = [_word(m.group()) for m in _TOKEN.finditer(question)]
    said = stems(answer)
    for i, word in enumerate(words):
        lowered = word.lower()
        named = i > 0 and word[:1].isupper() and lowered not in STOPWORDS
        pinned = named or lowered in ROLES or lowered in _DATE_WORDS or word.isdigit()
        if pinned and stem(lowered) not in said and word not in found:
            found.append(word)
    return found


def features(
    q: Question, answer: str, evidence: Sequence[str], score: float, margin: float, gap: float
) -> list[float]:
    """The values of :data:`FEATURES` for one answer and its ``evidence``: its sentence, that
    sentence with its neighbours, its passage and its report (a question typed in lowercase
    is read with the capitals its report gives its names)."""
    text = truecase(q.text, evidence[3])
    wanted = [stem(w.lower()) for w in constraints(text, answer)]
    places = [stems(part) for part in evidence]
    shares = [sum(w in p for w in wanted) / len(wanted) if wanted else 1.0 for p in places]
    keywords = [stem(w) for w in q.keywords if w not in q.borrowed]
    in_sentence = places[0]
    overlap = sum(w in in_sentence for w in keywords) / len(keywords) if keywords else 1.0
    return [
        _clip(score),
        _clip(margin),
        _clip(gap),
        *shares,
        float(bool(wanted)),
        overlap,
        float(type_ok(q.kind, answer, q.text)),
        float(rival(text, answer, evidence[0], evidence[1], evidence[3])),
    ]


def type_ok(kind: str, answer: str, question: str = "") -> bool:
    """Whether ``answer`` has the shape a question of ``kind`` asks for; a "why" question
    wants a reason ("to run cooling systems", "because ..."), not a name."""
    if kind in ("count", "number"):
        return bool(find_numbers(answer))
    if kind == "date":
        words = {_word(m.group()).lower() for m in _TOKEN.finditer(answer)}
        return bool(re.search(r"\d", answer)) or bool(words & _DATE_WORDS)
    if kind in ("person", "place", "organisation"):
        return any(w[:1].isupper() for w in answer.split())
    if re.match(r"\s*why\b", question, re.IGNORECASE):
        return bool(_REASON.match(answer)) or len(answer.split()) >= 5
    return True


def _word(token: str) -> str:
    return re.sub(r"['’]s$", "", token.strip("'’-"))


def stem(word: str) -> str:
    """Words that share their first five letters count as one ("Ukraine", "Ukrainian")."""
    return word[:5]


@functools.lru_cache(maxsize=64)
def stems(text: str) -> frozenset[str]:
    """The stems of a text's words (cached: a report is checked for each of its answers)."""
    return frozenset(stem(_word(m.group()).lower()) for m in _TOKEN.finditer(text))


def _clip(value: float) -> float:
    return max(-20.0, min(20.0, value))
