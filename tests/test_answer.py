"""The answerer: short answers, verbatim citations, several sources, abstention, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import Answer, AskOptions, Engine, Filters, Index, InvalidQuestionError
from qa.answer import ABSTAIN_BELOW
from qa.answer.question import TOPIC_QUESTIONS, answer_type, one_figure, parse_question
from qa.embed import Embedder
from qa.eval.answers import load_questions

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "data" / "sample_questions.jsonl"


def assert_verbatim(index: Index, answer: Answer) -> None:
    for c in answer.citations:
        text = index.document(c.doc_id).text
        assert text[c.start : c.end] == c.quote
        if c.answer_start is not None:
            assert c.answer_end is not None
            assert c.start <= c.answer_start < c.answer_end <= c.end
            if c.n == 1:
                assert text[c.answer_start : c.answer_end] == answer.short_answer


def test_kinzhal_question_gets_six_with_the_exact_sentence(sample_index: Index) -> None:
    answer = Engine(sample_index).ask("How many Kinzhal missiles were fired?")
    assert answer.short_answer in ("six", "6")
    assert not answer.abstained and 0 < answer.confidence <= 1
    first = answer.citations[0]
    assert "six Kinzhal hypersonic missiles" in first.quote
    text = sample_index.document(first.doc_id).text
    assert text[first.start : first.end] == first.quote
    assert first.answer_start is not None and first.answer_end is not None
    assert text[first.answer_start : first.answer_end] == "six"
    assert "[1]" in answer.answer
    assert_verbatim(sample_index, answer)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is the mayor of Kharkiv?", "Ihor Terekhov"),
        ("Who is the governor of the Odesa region?", "Maksym Marchenko"),
        ("How far is the Lviv region from the battlefield?", "700 kilometres"),
        ("When did the last massive barrage take place?", "February 16"),
        ("How many households were left without power in Zhytomyr?", "150,000"),
    ],
)
def test_minimal_spans_by_question_type(sample_index: Index, question: str, expected: str) -> None:
    answer = Engine(sample_index).ask(question)
    assert answer.short_answer == expected
    assert_verbatim(sample_index, answer)


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of Australia?",
        "Who is the mayor of Lviv?",
        "How many Patriot missiles did Germany send?",
    ],
)
def test_unanswerable_questions_abstain_with_related_passages(
    sample_index: Index, question: str
) -> None:
    answer = Engine(sample_index).ask(question)
    assert answer.abstained
    assert answer.short_answer is None and answer.citations == ()
    assert answer.answer.startswith("The reports don't say")
    assert answer.related and 0 <= answer.confidence <= ABSTAIN_BELOW


def test_a_figure_is_shown_with_its_hedge(sample_index: Index) -> None:
    answer = Engine(sample_index).ask("How far is the Lviv region from the battlefield?")
    assert answer.short_answer == "700 kilometres"
    assert answer.answer.startswith("some 700 kilometres [1]")


def test_follow_up_question_uses_the_chat_history(sample_index: Index) -> None:
    first = "How many Kinzhal missiles were fired?"
    follow = parse_question("and how many drones?", [first])
    assert "kinzhal" in follow.keywords
    answer = Engine(sample_index).ask("and how many drones?", history=[first])
    assert (
        answer.short_answer == "eight"
    )  # "81 missiles, including six Kinzhal …, and eight drones"
    assert "six Kinzhal" in answer.citations[0].quote


def test_a_follow_up_to_a_follow_up_keeps_the_topic() -> None:
    history = ["Who is the mayor of Kharkiv?", "what did he say?"]
    follow = parse_question("and what else did he say?", history)
    assert {"mayor", "kharkiv"} <= set(follow.borrowed)
    fresh = parse_question("How many Kinzhal missiles were fired?", history)
    assert fresh.borrowed == () and fresh.query == fresh.text


@pytest.mark.parametrize(
    ("text", "figure"),
    [
        ("four", True),
        ("as many as 60", True),
        ("some 700 kilometres", True),
        ("at least six people", True),
        ("34 cruise missiles and four", False),
        ("Energoatom", False),
    ],
)
def test_a_count_or_measure_is_answered_with_one_figure(text: str, figure: bool) -> None:
    assert one_figure(text) is figure


def test_a_count_is_read_as_the_figure_of_what_it_counts(sample_index: Index) -> None:
    # the sentence says "34 cruise missiles and four Shahed suicide drones"
    answer = Engine(sample_index).ask("How many Shahed drones were destroyed?")
    assert answer.short_answer == "four"
    assert_verbatim(sample_index, answer)


@pytest.mark.parametrize("question", ["How many tanks were destroyed?"])
def test_a_figure_that_counts_something_else_is_no_answer(
    sample_index: Index, question: str
) -> None:
    # the reports give "34 cruise missiles" and "the sixth time", but no tanks ("How many
    # power plants were hit?" is now answered "three", from "three of its power stations
    # had been hit", at a confidence of 0.41: a fair reading, so no longer a case here)
    assert Engine(sample_index).ask(question).abstained


def test_the_abstention_threshold_is_a_setting(sample_index: Index) -> None:
    question = "How many drones were launched?"  # "eight drones", but not said to be launched
    answer = Engine(sample_index).ask(question)
    assert not answer.abstained and answer.confidence < 0.99
    wary = Engine(sample_index).ask(question, AskOptions(abstain_below=answer.confidence + 0.005))
    assert wary.abstained and wary.confidence == answer.confidence and wary.related
    with pytest.raises(ValueError, match="abstain_below"):
        Engine(sample_index).ask(question, AskOptions(abstain_below=1.5))


def test_every_citation_in_the_question_set_is_verbatim(sample_index: Index) -> None:
    for item in load_questions(QUESTIONS):
        answer = Engine(sample_index).ask(item.question)
        assert_verbatim(sample_index, answer)
        assert answer.abstained == (not answer.citations)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 100_000, "characters long"),
        (b"\x00\x01binary", "binary"),
        ("what\x00is\x01this\x02\x03\x04\x05\x06\x07\x08", "binary or control"),
        ("?!?", "no words"),
    ],
)
def test_bad_questions_are_clear_errors(
    sample_index: Index, question: object, message: str
) -> None:
    with pytest.raises(InvalidQuestionError, match=message):
        Engine(sample_index).ask(question)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many Kinzhal missiles were fired?", "count"),
        ("How far is Lviv from the front?", "number"),
        ("What percentage of consumers lost heat?", "number"),
        ("When did the barrage take place?", "date"),
        ("Who said 40 per cent of Kyiv had no heat?", "person"),
        ("Which company reported damage?", "organisation"),
        ("In which Russian region was the raid?", "place"),
        ("What did officials call the cut?", "other"),
    ],
)
def test_question_types(question: str, kind: str) -> None:
    assert answer_type(question) == kind


def test_answer_json_contract(sample_index: Index) -> None:
    data = json.loads(
        json.dumps(Engine(sample_index).ask("Who is the mayor of Kharkiv?").to_dict())
    )
    assert {"question", "answer", "short_answer", "abstained", "confidence", "citations"} <= set(
        data
    )
    citation = data["citations"][0]
    assert set(citation) >= {
        "n",
        "doc_id",
        "source",
        "title",
        "page",
        "start",
        "end",
        "quote",
        "answer_start",
        "answer_end",
    }


def test_a_follow_up_borrows_from_the_last_questions_only() -> None:
    history = [f"and what about word{i}?" for i in range(50)]  # follow-ups all the way back
    borrowed = parse_question("and how many?", history).borrowed
    assert set(borrowed) == {f"word{i}" for i in range(50 - TOPIC_QUESTIONS, 50)}


def test_an_answer_not_in_its_document_s_own_words_is_never_shown(sample_index: Index) -> None:
    from qa.answer.compose import compose
    from qa.reader import ReaderAnswer, Reading

    q = parse_question("Who is the mayor of Kharkiv?")
    hits = [h for h in sample_index.search(q.text, k=6) if "Ihor Terekhov" in h.text][:1]
    doc = sample_index.document(hits[0].doc_id)
    start = doc.text.index("Ihor Terekhov")
    good = ReaderAnswer("Ihor Terekhov", doc.id, start, start + 13, 9.0, 9.0, [0])
    forged = ReaderAnswer("Vladimir Putin", doc.id, start, start + 14, 12.0, 12.0, [0])
    documents = {doc.id: doc}
    reply = compose(q, hits, Reading([forged, good], [0]), documents)
    assert reply.short_answer == "Ihor Terekhov" and reply.documents == documents
    assert_verbatim(sample_index, reply)
    assert compose(q, hits, Reading([forged], [0]), documents).abstained


def test_a_hard_wrapped_report_gives_the_same_answers_and_quotes(
    tmp_path: Path, embedder: Embedder
) -> None:
    """The sample reports with every paragraph cut at 72 columns (as plain-text mail and
    Markdown sources are) answer the sample questions as the reports do."""
    import textwrap

    from qa.config import sample_corpus
    from qa.eval.bench.serving import sample_questions

    wrapped = tmp_path / "wrapped"
    wrapped.mkdir()
    for report in sorted(sample_corpus().glob("*.txt")):
        paragraphs = report.read_text(encoding="utf-8").split("\n")
        text = "\n".join(textwrap.fill(p, 72, break_on_hyphens=False) for p in paragraphs)
        assert max(len(line) for line in text.splitlines()) <= 72
        (wrapped / report.name).write_text(text, encoding="utf-8")

    def answers(corpus: Path, name: str) -> list[tuple[str | None, list[str]]]:
        with Index.open(tmp_path / f"index-{name}", create=True, embedder=embedder) as index:
            index.add([corpus])
            replies = [Engine(index).ask(q) for q in sample_questions()]
        return [(r.short_answer, [" ".join(c.quote.split()) for c in r.citations]) for r in replies]

    assert answers(wrapped, "wrapped") == answers(sample_corpus(), "plain")


def test_filters_that_let_no_report_through_say_so(sample_index: Index) -> None:
    answer = Engine(sample_index).ask(
        "How many Kinzhal missiles were fired?", AskOptions(filters=Filters(date_from="2030-01-01"))
    )
    assert answer.abstained and not answer.citations
    assert answer.answer.startswith("No report matches the filters: dated from 2030-01-01")
    assert "undated reports are left out" in answer.answer
    answer = Engine(sample_index).ask(
        "How many Kinzhal missiles were fired?",
        AskOptions(filters=Filters(sources=["nowhere.pdf"])),
    )
    assert answer.answer.startswith("No report matches the filters: source containing “nowhere")
    answered = Engine(sample_index).ask(
        "How many Kinzhal missiles were fired?", AskOptions(filters=Filters(sources=["000_"]))
    )
    assert answered.short_answer == "six"  # a filter that lets a report through answers
