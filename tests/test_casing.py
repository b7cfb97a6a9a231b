"""A question typed in lowercase: its names get the capitals their report gives them."""

from __future__ import annotations

from qa.answer.casing import truecase
from qa.answer.question import parse_question
from qa.answer.verify import FEATURES, features

REPORT = (
    "Kyiv Mayor Vitaliy Klitschko said three areas of the city were hit. The Kyiv metro "
    "stopped. Mykolaiv mayor Vitaliy Kim said as many as 60 missiles were fired. The "
    "hypersonic missiles hit the energy grid."
)


def test_a_lowercase_question_gets_its_reports_capitals() -> None:
    question = "what did mykolaiv mayor vitaliy kim say about the kyiv metro"
    assert truecase(question, REPORT) == (
        "what did Mykolaiv mayor Vitaliy Kim say about the Kyiv metro"  # "mayor": lowercase
    )
    # a word the report writes in lowercase stays; one it lacks is a name where the
    # lowercase-word list lacks it
    assert truecase("how many hypersonic missiles hit kharkiv", REPORT) == (
        "how many hypersonic missiles hit Kharkiv"
    )


def test_a_question_with_capitals_is_left_as_written() -> None:
    question = "Did Klitschko say the kyiv metro stopped?"
    assert truecase(question, REPORT) == question


def test_a_lowercase_near_miss_meets_the_sentence_that_rivals_it() -> None:
    evidence = ("Kyiv Mayor Vitaliy Klitschko said three areas of the city were hit.",) * 3
    evidence += (REPORT,)
    rival = FEATURES.index("rival")
    asked = "what did mykolaiv mayor vitaliy kim say was hit"
    said = features(parse_question(asked), "three areas", evidence, 5.0, 5.0, 5.0)
    right = features(
        parse_question("what did mayor vitaliy klitschko say was hit"),
        "three areas",
        evidence,
        5.0,
        5.0,
        5.0,
    )
    assert said[rival] == 1.0 and right[rival] == 0.0
