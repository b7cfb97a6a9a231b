"""Hard negatives for the reader: near misses built from SQuAD-shaped articles."""

from __future__ import annotations

import random

from qa.reader.training.data import Article, Example, examples
from qa.reader.training.hard import (
    entity_pools,
    hard_negatives,
    nearby,
    other_paragraph,
    swapped,
    without_answer,
)

KHARKIV = (
    "Kharkiv lost power on Friday. Ihor Terekhov, the mayor of Kharkiv, said the city had no "
    "water. Repairs began in 2023 and took three days."
)
ODESA = "Odesa's port was shelled. The governor of the region, Maksym Marchenko, said so."


def qa(question: str, answer: str, context: str) -> dict:
    return {
        "id": question,
        "question": question,
        "answers": [{"text": answer, "answer_start": context.index(answer)}],
    }


ARTICLES = [
    Article(
        "Kharkiv",
        [
            (KHARKIV, [qa("Who is the mayor of Kharkiv?", "Ihor Terekhov", KHARKIV)]),
            (ODESA, [qa("Who is the governor of the region?", "Maksym Marchenko", ODESA)]),
        ],
    ),
    Article(
        "Elsewhere",
        [
            (
                "Kherson and Lviv were named. Vitaliy Kim spoke in Mykolaiv.",
                [
                    {
                        "id": "a",
                        "question": "Where did Kim speak?",
                        "answers": [{"text": "Mykolaiv", "answer_start": 0}],
                    },
                    {
                        "id": "b",
                        "question": "Who spoke in Mykolaiv?",
                        "answers": [{"text": "Vitaliy Kim", "answer_start": 0}],
                    },
                    {
                        "id": "c",
                        "question": "Who is the mayor?",
                        "answers": [{"text": "Kherson", "answer_start": 0}],
                    },
                ],
            )
        ],
    ),
]


def test_entities_are_typed_by_the_questions_they_answer() -> None:
    pools = entity_pools(ARTICLES)
    assert "Vitaliy Kim" in pools["person"] and "Mykolaiv" in pools["place"]
    assert "Kherson" in pools["person"]  # typed by what it answered, however wrong


def test_a_swapped_constraint_is_one_the_paragraph_does_not_hold() -> None:
    pools = {"place": ["Kharkiv", "Kherson", "Lviv"], "person": ["Vitaliy Kim"]}
    seen = set()
    for seed in range(30):
        question = swapped("Who is the mayor of Kharkiv?", KHARKIV, pools, random.Random(seed))
        assert question is not None and question != "Who is the mayor of Kharkiv?"
        seen.add(question)
    # a place for a place, or another role word; never a word the paragraph holds
    assert "Who is the mayor of Kherson?" in seen and "Who is the mayor of Lviv?" in seen
    assert any(q.endswith(" of Kharkiv?") and "mayor" not in q for q in seen)
    assert all("Kharkiv?" not in q or "mayor" not in q for q in seen)


def test_a_question_without_a_constraint_the_paragraph_holds_is_not_swapped() -> None:
    pools = {"place": ["Kherson"]}
    assert swapped("What happened next?", KHARKIV, pools, random.Random(0)) is None
    # Odesa is a constraint, but not one this paragraph holds
    assert (
        swapped("What is the population of Odesa?", KHARKIV, {"place": ["Odesa"]}, random.Random(0))
        is None
    )


def test_a_year_is_swapped_for_a_year_the_paragraph_does_not_give() -> None:
    question = swapped("What began in 2023?", KHARKIV, {}, random.Random(1))
    assert question is not None and "2023" not in question
    year = int(question.split()[-1].rstrip("?"))
    assert 1993 <= year <= 2053


def test_the_answer_sentence_is_removed() -> None:
    start = KHARKIV.index("Ihor Terekhov")
    rest = without_answer(KHARKIV, start, start + len("Ihor Terekhov"), "Ihor Terekhov")
    assert rest == "Kharkiv lost power on Friday. Repairs began in 2023 and took three days."
    # an answer that occurs twice is still there: no negative
    twice = "Kim spoke. Then Kim left the city of Mykolaiv for good."
    assert without_answer(twice, 0, 3, "Kim") is None


def test_another_paragraph_of_the_article_without_the_answer() -> None:
    example = examples(ARTICLES[:1])[0]
    assert other_paragraph(example, ARTICLES[0]) == ODESA


def test_hard_negatives_have_no_answer_are_seeded_and_of_every_kind() -> None:
    questions = examples(ARTICLES[:1])
    pools = {"place": ["Kherson", "Lviv"]}
    made = hard_negatives(questions, ARTICLES[:1], 1.0, seed=3, pools=pools)
    assert made == hard_negatives(questions, ARTICLES[:1], 1.0, seed=3, pools=pools)
    kinds = {e.qid.rsplit("-", 1)[1] for e in made}
    assert kinds == {"swap", "other", "removed"}  # no other name of its kind for "nearby"
    for e in made:
        assert isinstance(e, Example) and not e.answerable and e.answer == ""
        if e.qid.endswith("-removed") or e.qid.endswith("-other"):
            original = next(q for q in questions if e.qid.startswith(q.qid))
            assert original.answer not in e.context


def test_a_nearby_swap_takes_a_name_the_paragraph_gives_elsewhere() -> None:
    context = (
        "Odesa's governor Maksym Marchenko spoke on Monday. Ihor Terekhov, the mayor of "
        "Kharkiv, said on Friday the city had no water."
    )
    start = context.index("Ihor Terekhov")
    pools = {"place": ["Kharkiv", "Odesa", "Lviv"], "person": ["Maksym Marchenko"]}
    seen = {
        nearby("Who is the mayor of Kharkiv?", context, start, start + 13, pools, random.Random(s))
        for s in range(20)
    }
    # the place or the role the answer's sentence holds, for one named in the other sentence
    assert seen == {"Who is the mayor of Odesa?", "Who is the governor of Kharkiv?"}
    q = "What did the mayor say on Friday?"
    assert nearby(q, context, start, start + 13, pools, random.Random(0)) in (
        "What did the governor say on Friday?",
        "What did the mayor say on Monday?",
    )
    # nothing of its kind elsewhere: no near miss
    assert (
        nearby("Who is the mayor of Kharkiv?", context[51:], 0, 13, pools, random.Random(0)) is None
    )


def test_a_year_is_swapped_for_a_year_of_the_paragraph() -> None:
    context = "The bridge opened in 1932. It was repaired in 1987 at a cost of 40 million."
    question = nearby("What opened in 1932?", context, 0, 10, {}, random.Random(0))
    assert question == "What opened in 1987?"
