"""qa eval: loaders, the runner, SQuAD figures against the official scorer, reports, compare.

The SQuAD tests run the real pipeline (index the paragraphs, ask every question) on small files
written here, then score the saved predictions again with the official scripts' code.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import qa.eval
import qa.eval.beir
from qa import AskOptions
from qa.cli import main
from qa.embed import Embedder
from qa.errors import QAError
from qa.eval.answers import (
    Item,
    format_summary,
    load_questions,
    same_document,
    score_answer,
    score_retrieval,
    summarize,
)
from qa.eval.beir import load_beir, query_results
from qa.eval.bench.drop import load_drop
from qa.eval.bench.threshold import accuracy_at
from qa.eval.compare import compare_runs, flatten, format_comparison
from qa.eval.squad import load_squad, official_scores, question_type
from qa.eval.suite import detect
from qa.index import Index
from qa.types import Answer, Chunk, Citation, Hit
from tests.test_metrics import (
    metric_max_over_ground_truths,
    squad_exact_match_score,
    squad_f1_score,
    squad_normalize_answer,
)

# Ten paragraphs, 23 questions. Numbers are digits only, so SQuAD's normalisation and ours
# (which also turns number words into digits) agree on every string here.
ARTICLES = {
    "Alder_Harbour_Bridge": [
        (
            "The Alder Harbour Bridge opened to traffic on 14 March 1932 after 8 years of "
            "construction. Its chief engineer was Margaret Holloway, who designed the steel arch. "
            "The bridge carries 6 lanes of road traffic and 2 railway tracks.",
            [
                ("Who was the chief engineer of the Alder Harbour Bridge?", ["Margaret Holloway"]),
                ("When did the Alder Harbour Bridge open to traffic?", ["14 March 1932"]),
                ("How many lanes of road traffic does the bridge carry?", ["6"]),
            ],
        ),
        (
            "Tolls on the bridge were collected by the Alder Transport Authority until 1989. The "
            "toll was abolished after a campaign led by the mayor, Tomas Rivera.",
            [
                (
                    "Which authority collected the tolls on the bridge?",
                    ["Alder Transport Authority"],
                ),
                ("Who led the campaign to abolish the toll?", ["Tomas Rivera", "the mayor"]),
            ],
        ),
    ],
    "Kestrel_Observatory": [
        (
            "The Kestrel Observatory stands on Mount Varda, 2,400 metres above sea level. It was "
            "founded in 1961 by the astronomer Ines Kowalski.",
            [
                ("Where does the Kestrel Observatory stand?", ["Mount Varda", "on Mount Varda"]),
                ("Who founded the Kestrel Observatory?", ["Ines Kowalski"]),
                ("How high above sea level is the Kestrel Observatory?", ["2,400 metres"]),
            ],
        ),
        (
            "The main telescope of the observatory has a mirror 3.6 metres across. In 2004 it "
            "discovered the comet Varda-Kowalski, which passes the Sun every 71 years.",
            [
                ("How wide is the mirror of the main telescope?", ["3.6 metres"]),
                ("How often does the comet Varda-Kowalski pass the Sun?", ["every 71 years"]),
            ],
        ),
        (
            "Night tours of the observatory are run by the Varda Astronomical Society on Fridays. "
            "About 9,000 visitors take the tour each year.",
            [
                ("How many visitors take the night tour each year?", ["9,000", "About 9,000"]),
                ("Which society runs the night tours?", ["Varda Astronomical Society"]),
            ],
        ),
    ],
    "River_Lenna_floods": [
        (
            "In April 2019 the River Lenna burst its banks near the town of Osterby. The floods "
            "forced 4,500 residents to leave their homes.",
            [
                ("How many residents had to leave their homes?", ["4,500"]),
                ("Near which town did the River Lenna burst its banks?", ["Osterby"]),
                ("When did the River Lenna burst its banks?", ["April 2019", "In April 2019"]),
            ],
        ),
        (
            "The regional governor, Helena Brandt, declared a state of emergency on 9 April. "
            "Soldiers from the 12th Engineer Regiment built temporary flood barriers.",
            [
                ("Who declared a state of emergency?", ["Helena Brandt"]),
                ("Which regiment built the flood barriers?", ["12th Engineer Regiment"]),
            ],
        ),
        (
            "Damage to farms along the river was assessed by the Lenna Valley Farmers Union, "
            "which asked the government for compensation.",
            [
                ("What did the farmers union ask the government for?", ["compensation"]),
                ("Which union assessed the damage to farms?", ["Lenna Valley Farmers Union"]),
            ],
        ),
    ],
    "Meridian_Chamber_Orchestra": [
        (
            "The Meridian Chamber Orchestra was formed in Lisbon in 1998. Its conductor, Rafael "
            "Moreau, has led it since 2010.",
            [
                ("Who is the conductor of the Meridian Chamber Orchestra?", ["Rafael Moreau"]),
                ("In which city was the Meridian Chamber Orchestra formed?", ["Lisbon"]),
            ],
        ),
        (
            "The orchestra has 42 musicians and plays about 60 concerts each season, most of them "
            "at the Teatro Aurora in Porto.",
            [
                ("How many musicians does the orchestra have?", ["42"]),
                ("In which city does the orchestra play most of its concerts?", ["Porto"]),
            ],
        ),
    ],
}


def squad_file(path: Path, articles: dict[str, Any], version: str = "1.1") -> Path:
    """A SQuAD-format file; answer_start is the gold's first offset in the paragraph."""
    data = []
    for title, paragraphs in articles.items():
        paras = []
        for p, (context, questions) in enumerate(paragraphs):
            qas = []
            for q, (question, golds) in enumerate(questions):
                entry: dict[str, Any] = {"id": f"{title[:5]}-{p}-{q}", "question": question}
                entry["answers"] = [{"text": g, "answer_start": context.find(g)} for g in golds]
                if version != "1.1":
                    entry["is_impossible"] = not golds
                qas.append(entry)
            paras.append({"context": context, "qas": qas})
        data.append({"title": title, "paragraphs": paras})
    path.write_text(json.dumps({"version": version, "data": data}), encoding="utf-8")
    return path


def official_v11(dataset: list[dict[str, Any]], predictions: dict[str, str]) -> dict[str, float]:
    """The official SQuAD v1.1 evaluate(): best EM/F1 over the golds, summed, then averaged."""
    f1 = exact_match = total = 0.0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for q in paragraph["qas"]:
                total += 1
                if q["id"] not in predictions:
                    continue
                ground_truths = [x["text"] for x in q["answers"]]
                prediction = predictions[q["id"]]
                exact_match += metric_max_over_ground_truths(
                    squad_exact_match_score, prediction, ground_truths
                )
                f1 += metric_max_over_ground_truths(squad_f1_score, prediction, ground_truths)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def official_v2(dataset: list[dict[str, Any]], predictions: dict[str, str]) -> dict[str, float]:
    """The official SQuAD v2.0 script's exact and F1 totals (no-answer = empty prediction)."""

    def tokens(s: str) -> list[str]:
        return squad_normalize_answer(s).split() if s else []

    def f1(gold: str, pred: str) -> float:
        g, p = tokens(gold), tokens(pred)
        if not g or not p:
            return float(g == p)
        same = sum((Counter(g) & Counter(p)).values())
        if same == 0:
            return 0.0
        precision, recall = same / len(p), same / len(g)
        return 2 * precision * recall / (precision + recall)

    exact, f1s = [], []
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for q in paragraph["qas"]:
                golds = [a["text"] for a in q["answers"] if squad_normalize_answer(a["text"])]
                golds = golds or [""]
                pred = predictions[q["id"]]
                exact.append(
                    max(
                        float(squad_normalize_answer(g) == squad_normalize_answer(pred))
                        for g in golds
                    )
                )
                f1s.append(max(f1(g, pred) for g in golds))
    return {"exact": 100.0 * sum(exact) / len(exact), "f1": 100.0 * sum(f1s) / len(f1s)}


def predictions_of(record: dict[str, Any]) -> dict[str, str]:
    """What the run answered, as a SQuAD predictions file has it ("" = no answer)."""
    return {r["id"]: "" if r["abstained"] else (r["prediction"] or "") for r in record["results"]}


def qa_eval(*argv: object) -> tuple[int, str]:
    """Run ``qa eval ARGV``; its exit code and stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["eval", *map(str, argv)])
    return code, out.getvalue()


# --- loaders and helpers (no model) ---------------------------------------------------------


def test_squad_v11_paragraphs_become_documents(tmp_path: Path) -> None:
    squad = load_squad(squad_file(tmp_path / "dev.json", ARTICLES))
    assert squad.version == "1.1"
    assert len(squad.documents) == 10 and len(squad.items) == 23
    first = squad.documents[0]
    assert first.source == "squad:Alder_Harbour_Bridge#0"
    assert first.title == "Alder_Harbour_Bridge"
    assert first.text.startswith("The Alder Harbour Bridge opened")
    assert squad.documents[3].source == "squad:Kestrel_Observatory#1"
    item = squad.items[0]
    assert item.answers == ("Margaret Holloway",) and item.doc == first.source
    assert item.type == "who" and item.answerable


def test_squad_v20_impossible_questions_are_unanswerable(tmp_path: Path) -> None:
    articles = {"T": [("Osterby lies on the River Lenna.", [("Who is the mayor?", [])])]}
    squad = load_squad(squad_file(tmp_path / "v2.json", articles, version="v2.0"))
    assert squad.version == "v2.0"
    (item,) = squad.items
    assert item.answers == () and not item.answerable and item.type == "unanswerable"


def test_identical_paragraphs_expect_the_first_source(tmp_path: Path) -> None:
    # The index stores one text once, under the first source; questions follow it there.
    same = "Osterby lies on the River Lenna."
    articles = {"A": [(same, [("Where?", ["x"])])], "B": [(same, [("Where is it?", ["y"])])]}
    squad = load_squad(squad_file(tmp_path / "dup.json", articles))
    assert [i.doc for i in squad.items] == ["squad:A#0", "squad:A#0"]


def test_malformed_squad_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"title": "x", "paragraphs": [{"qas": []}]}]}', encoding="utf-8")
    with pytest.raises(QAError, match=r"bad\.json"):
        load_squad(bad)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many lanes does it carry?", "how many"),
        ("In which city was it formed?", "which"),
        ("What did they ask for?", "what"),
        ("Whose idea was the toll?", "who"),
        ("How often does it pass?", "how"),
        ("The bridge opened in?", "other"),
    ],
)
def test_question_type_is_the_first_question_word(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_detect_tells_the_kind_from_the_path(tmp_path: Path) -> None:
    squad = squad_file(tmp_path / "dev.json", ARTICLES)
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "Who?", "answers": []}\n', encoding="utf-8")
    beir = beir_folder(tmp_path / "beir")
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"format": "reportqa-eval/1"}), encoding="utf-8")
    assert [detect(p) for p in (squad, questions, beir, results)] == [
        "squad",
        "questions",
        "beir",
        "results",
    ]
    other = tmp_path / "other.json"
    other.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(QAError, match="cannot tell what"):
        detect(other)
    with pytest.raises(QAError, match="no such file"):
        detect(tmp_path / "missing.jsonl")


def test_official_scores_total_both_parts() -> None:
    # Totalled from squad_em/squad_f1; em/f1 (number words = digits) are not read.
    rows = [
        {"gold": ["a"], "squad_em": 1.0, "squad_f1": 1.0, "em": 0.0, "f1": 0.0},
        {"gold": ["b"], "squad_em": 0.0, "squad_f1": 0.5, "em": 1.0, "f1": 1.0},
        {"gold": [], "squad_em": 1.0, "squad_f1": 1.0},  # abstained on an unanswerable
        {"gold": [], "squad_em": 0.0, "squad_f1": 0.0},
    ]
    scores = official_scores(rows)
    assert scores["exact"] == 0.5 and scores["f1"] == pytest.approx(2.5 / 4)
    assert (scores["HasAns_exact"], scores["HasAns_f1"], scores["HasAns_total"]) == (0.5, 0.75, 2)
    assert (scores["NoAns_exact"], scores["NoAns_total"]) == (0.5, 2)


def reply(
    question: str,
    short: str | None = None,
    citations: tuple[Citation, ...] = (),
    *,
    abstained: bool = False,
    text: str | None = None,
) -> Answer:
    """A hand-made reply (no model): its text is the short answer unless given."""
    body = "" if abstained else text if text is not None else short or ""
    return Answer(question, body, short, abstained, 0.0 if abstained else 0.9, citations)


# Gold digits, predicted number words: our EM/F1 count them right, the official scripts (and
# so summary["official"]) do not. Question, gold answers, what the reply says (None: abstains).
NUMBER_WORDS = [
    ("How many lanes?", ["6"], "six"),  # ours 1/1, official EM 0, F1 0
    ("How many lanes does it carry?", ["6 lanes"], "six lanes"),  # official EM 0, F1 1/2
    ("Who was the engineer?", ["Margaret Holloway"], "Margaret Holloway"),  # 1/1 for both
    ("Who opened it?", [], None),  # v2.0 only: abstained, right for both
    ("What is its colour?", [], "two"),  # v2.0 only: answered, wrong for both
]


def number_word_rows(path: Path, n: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The first ``n`` NUMBER_WORDS questions as a SQuAD file, scored; the rows and data."""
    questions = [(q, golds) for q, golds, _ in NUMBER_WORDS[:n]]
    context = "The bridge carries 6 lanes. Its engineer was Margaret Holloway."
    version = "1.1" if n == 3 else "v2.0"
    squad_file(path, {"Bridge": [(context, questions)]}, version)
    said = [s for _, _, s in NUMBER_WORDS[:n]]
    rows = [
        score_answer(item, reply(item.question, s, abstained=s is None), 0.1, str)
        for item, s in zip(load_squad(path).items, said)
    ]
    return rows, json.loads(path.read_text(encoding="utf-8"))["data"]


def test_official_v11_figures_ignore_number_words_like_the_official_scorer(
    tmp_path: Path,
) -> None:
    rows, dataset = number_word_rows(tmp_path / "v11.json", 3)
    official = official_v11(dataset, {r["id"]: r["prediction"] for r in rows})
    scores = official_scores(rows)
    # EM (0 + 0 + 1) / 3; F1 (0 + 0.5 + 1) / 3.
    assert 100 * scores["exact"] == pytest.approx(official["exact_match"]) == pytest.approx(100 / 3)
    assert 100 * scores["f1"] == pytest.approx(official["f1"]) == pytest.approx(50.0)
    # Ours: "six" == "6" and "six lanes" == "6 lanes".
    assert [(r["em"], r["f1"]) for r in rows] == [(1.0, 1.0)] * 3
    assert [(r["squad_em"], r["squad_f1"]) for r in rows] == [(0.0, 0.0), (0.0, 0.5), (1.0, 1.0)]
    assert summarize(rows)["em"] == 1.0


def test_official_v20_figures_ignore_number_words_like_the_official_scorer(
    tmp_path: Path,
) -> None:
    rows, dataset = number_word_rows(tmp_path / "v2.json", 5)
    official = official_v2(dataset, {r["id"]: r["prediction"] or "" for r in rows})
    scores = official_scores(rows)
    # EM (0 + 0 + 1 + 1 + 0) / 5; F1 (0 + 0.5 + 1 + 1 + 0) / 5.
    assert 100 * scores["exact"] == pytest.approx(official["exact"]) == pytest.approx(40.0)
    assert 100 * scores["f1"] == pytest.approx(official["f1"]) == pytest.approx(50.0)
    assert (scores["HasAns_exact"], scores["HasAns_f1"]) == (pytest.approx(1 / 3), 0.5)
    assert (scores["NoAns_exact"], scores["NoAns_f1"], scores["NoAns_total"]) == (0.5, 0.5, 2)
    assert [r["em"] for r in rows] == [1.0, 1.0, 1.0, 1.0, 0.0]  # ours


# --- loading question sets ------------------------------------------------------------------


def test_load_questions_checks_and_converts(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": 7, "question": "How many?", "answers": [6, 2.5, "six"], "meta": {"from": "x"}},
        {"question": "Who is the mayor?", "answers": [], "doc": None, "type": "unanswerable"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows[:1]) + "\n\n" + json.dumps(rows[1]))
    items = load_questions(path)
    # Numbers become their text; the id defaults to the line number (line 3: after a blank).
    assert items == [
        Item("7", "How many?", ("6", "2.5", "six")),
        Item("3", "Who is the mayor?", (), None, "unanswerable"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"question": "Who?", "answer": ["x"]}', r"unknown key 'answer' \(did you mean 'answers'"),
        ('{"question": "Who?", "answers": [], "notes": "x"}', "unknown key 'notes'.*under meta"),
        ('{"question": "Who?"}', 'no "answers"'),
        ('{"question": "", "answers": []}', "question must be a non-empty string"),
        ('{"question": 5, "answers": []}', "question must be a non-empty string"),
        ('{"question": "Who?", "answers": "Kyiv"}', "answers must be a list of strings"),
        ('{"question": "Who?", "answers": null}', "answers must be a list of strings"),
        ('{"question": "Who?", "answers": [["Kyiv"]]}', "every answer must be"),
        ('{"question": "Who?", "answers": [" "]}', "every answer must be"),
        ('{"question": "Who?", "answers": [true]}', "every answer must be"),
        ('{"question": "Who?", "answers": [], "doc": 3}', "doc must be a non-empty string"),
        ('{"question": "Who?", "answers": [], "id": null}', "id must be"),
        ('{"question": "Who?", "answers": [], "meta": "x"}', "meta must be an object"),
        ('["Who?", []]', "expected a JSON object, got list"),
        ("not json", "Expecting value"),
        ('{"id": "a", "question": "Again?", "answers": []}', "id 'a' is already used on line 1"),
    ],
)
def test_load_questions_rejects_a_bad_record_naming_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "Who?", "answers": ["x"]}\n' + line + "\n")
    with pytest.raises(QAError, match=rf"q\.jsonl, line 2: .*{message}"):
        load_questions(path)


def test_ids_are_compared_as_text(tmp_path: Path) -> None:
    # 1 and "1" are one id once read: --compare could not tell their questions apart.
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": 1, "question": "A?", "answers": []}\n{"id": "1", "question": "B?", "answers": []}'
    )
    with pytest.raises(QAError, match=r"q\.jsonl, line 2: id '1' is already used on line 1"):
        load_questions(path)


# --- scoring replies and summing them up (hand-made replies, no model) ----------------------

DOCS = {
    "a": "The Bears scored six touchdowns. The game ended at night.",
    "b": "Smith kicked the field goal.",
}


def cite(doc: str, start: int, end: int, quote: str | None = None) -> Citation:
    """A citation of DOCS[doc][start:end]; ``quote`` overrides the text (not verbatim)."""
    text = DOCS[doc][start:end] if quote is None else quote
    return Citation(1, doc, f"/r/{doc}.txt", doc.upper(), None, start, end, text)


def scored_rows() -> list[dict[str, Any]]:
    """Seven replies whose scores are worked out by hand in the comments."""
    cases = [
        # 1. short "six" vs gold "6", cited in the expected document, verbatim.
        #    EM 1, F1 1 (official 0, 0), supporting yes, cited right, verbatim, correct.
        (Item("1", "How many?", ("6",), "a.txt", "count"), reply("q", "six", (cite("a", 0, 32),))),
        # 2. no short answer: the quoted sentence is the prediction, its first sentence holds
        #    a gold, so it is correct. "smith kicked field goal" vs golds "Smith" and "goal":
        #    a tie, each P 1/4, R 1 -> F1 0.4. EM 0, supporting yes, cited right, verbatim.
        (
            Item("2", "Who kicked?", ("Smith", "goal"), "b.txt", "person"),
            reply("q", None, (cite("b", 0, 28),), text="Smith kicked the field goal [1]."),
        ),
        # 3. wrong answer, cited in the wrong document with a quote that is not in it:
        #    EM 0, F1 0, supporting no, cited wrong, not verbatim, wrong.
        (
            Item("3", "Who scored?", ("Jones",), "b.txt", "person"),
            reply("q", "Smith", (cite("a", 0, 10, "Smith said"),)),
        ),
        # 4. abstained on an answerable question: EM 0, F1 0, supporting no, cited wrong
        #    (no citation), verbatim not scored (None), wrong.
        (Item("4", "When?", ("night",), "a.txt", "other"), reply("q", abstained=True)),
        # 5. abstained on an unanswerable: EM 1, F1 1, cited not scored, verbatim None, correct.
        (Item("5", "Who is mayor?", (), None, "unanswerable"), reply("q", abstained=True)),
        # 6. answered an unanswerable that names a document: EM 0, cited not scored (None:
        #    nothing to cite), verbatim yes, wrong.
        (
            Item("6", "How many fans?", (), "a.txt", "unanswerable"),
            reply("q", "six", (cite("a", 0, 32),)),
        ),
        # 7. an empty prediction (not an abstention, no citation) on an answerable question
        #    with no expected document: EM 0, F1 0, cited None, verbatim None, wrong.
        (Item("7", "How many goals?", ("1",), None, "count"), reply("q", None, text="")),
    ]
    seconds = [0.1, 0.2, 0.2, 0.2, 0.3, 0.4, 1.0]
    return [
        score_answer(item, answer, s, DOCS.__getitem__) for (item, answer), s in zip(cases, seconds)
    ]


def test_score_answer_by_hand() -> None:
    rows = scored_rows()
    columns = ("correct", "em", "f1", "squad_em", "supporting_correct")
    assert [tuple(r[c] for c in columns) for r in rows] == [
        (True, 1.0, 1.0, 0.0, True),
        (True, 0.0, pytest.approx(0.4), 0.0, True),
        (False, 0.0, 0.0, 0.0, False),
        (False, 0.0, 0.0, 0.0, False),
        (True, 1.0, 1.0, 1.0, False),
        (False, 0.0, 0.0, 0.0, False),
        (False, 0.0, 0.0, 0.0, False),
    ]
    assert [r["citation_correct"] for r in rows] == [True, True, False, False, None, None, None]
    assert [r["verbatim"] for r in rows] == [True, True, False, None, None, True, None]
    assert [r["prediction"] for r in rows] == [
        "six",
        "Smith kicked the field goal.",
        "Smith",
        None,
        None,
        "six",
        "",
    ]
    assert rows[0]["citations"][0]["quote"] == "The Bears scored six touchdowns."
    assert rows[5]["type"] == "unanswerable" and rows[0]["gold"] == ["6"]


def test_summarize_by_hand() -> None:
    summary = summarize(scored_rows())
    assert (summary["n"], summary["answerable"]) == (7, 5)  # 1, 2, 3, 4, 7 are answerable
    assert summary["accuracy"] == pytest.approx(3 / 7)  # 1, 2, 5
    assert summary["em"] == pytest.approx(1 / 5)  # answerable only: 1
    assert summary["f1"] == pytest.approx((1 + 0.4) / 5)
    assert summary["supporting_accuracy"] == pytest.approx(2 / 5)  # 1, 2
    assert summary["citation_accuracy"] == pytest.approx(2 / 4)  # scored 1-4: 1, 2 right
    assert summary["verbatim_rate"] == pytest.approx(3 / 4)  # with citations 1, 2, 3, 6
    # Abstained 4 and 5; unanswerable 5 and 6; right abstention 5: P = 1/2, R = 1/2.
    a = summary["abstention"]
    assert (a["precision"], a["recall"], a["f1"]) == (0.5, 0.5, 0.5)
    assert (a["abstained"], a["unanswerable"], a["correct_abstentions"]) == (2, 2, 1)
    # Latency: sorted 0.1 0.2 0.2 0.2 0.3 0.4 1.0, the median is a tie at 0.2.
    assert summary["latency"]["p50"] == pytest.approx(0.2)
    assert summary["latency"]["total"] == pytest.approx(2.4)
    assert summary["retrieval"] is None  # no retrieval was run
    by_type = summary["by_type"]
    assert list(by_type) == ["count", "other", "person", "unanswerable"]
    count, person, nothing = by_type["count"], by_type["person"], by_type["unanswerable"]
    # count = 1 and 7: 1 right; citation and verbatim scored on 1 only.
    assert (count["n"], count["accuracy"], count["em"], count["f1"]) == (2, 0.5, 0.5, 0.5)
    assert (count["citation_accuracy"], count["verbatim_rate"]) == (1.0, 1.0)
    # person = 2 and 3: F1 (0.4 + 0) / 2; 2 cited right and verbatim, 3 neither.
    assert person["accuracy"] == 0.5 and person["f1"] == pytest.approx(0.2)
    assert (person["citation_accuracy"], person["verbatim_rate"]) == (0.5, 0.5)
    # unanswerable = 5 and 6: 5 right; no answerable question, no citation scored; 6 verbatim.
    assert (nothing["n"], nothing["answerable"], nothing["accuracy"]) == (2, 0, 0.5)
    assert (nothing["citation_accuracy"], nothing["verbatim_rate"]) == (0.0, 1.0)
    table = format_summary(summary)
    assert re.search(r"^unanswerable\s+2\s+0\.500\s+-\s+-\s+-\s+-$", table, re.M)
    assert re.search(r"^all\s+7\s+0\.429\s+0\.200\s+0\.280\s+0\.400\s+0\.500$", table, re.M)
    # the five answers all show 0.9; right (F1 >= 0.5 with a gold) is only 1: one bin,
    # accuracy 0.2, so the calibration error is 0.7
    assert summary["reliability"] == [
        {"low": 0.9, "high": 1.0, "count": 5, "confidence": 0.9, "accuracy": 0.2}
    ]
    assert summary["calibration_error"] == pytest.approx(0.7)
    assert (
        "abstention precision 0.500 recall 0.500 · calibration error (ECE) 0.700 · "
        "verbatim citations 0.750" in table
    )


def hit(doc_id: str, source: str, rank: int) -> Hit:
    return Hit(Chunk(doc_id, 0, 0, 4, "text"), "title", source, None, rank, 1.0 / rank)


def test_score_retrieval_ranks_documents_not_chunks() -> None:
    # Chunks of a, a, b, c: documents ranked a, b, c; the expected one (b) is second.
    hits = [hit("a", "/r/a.txt", 1), hit("a", "/r/a.txt", 2), hit("b", "/r/b.txt", 3)]
    hits.append(hit("c", "/r/c.txt", 4))
    scored = score_retrieval(Item("1", "q?", ("x",), doc="b.txt"), hits)
    assert scored is not None
    assert scored["rank"] == 2 and scored["rr"] == 0.5
    assert scored["recall"] == {"1": 0.0, "2": 1.0, "3": 1.0, "5": 1.0, "10": 1.0}
    assert scored["top"] == ["/r/a.txt", "/r/b.txt", "/r/c.txt"]
    missing = score_retrieval(Item("2", "q?", ("x",), doc="z.txt"), hits)
    assert missing is not None and missing["rank"] is None and missing["recall"]["10"] == 0.0
    assert score_retrieval(Item("3", "q?", ()), hits) is None  # nothing expected


def test_same_document_by_id_source_or_path_suffix() -> None:
    assert same_document("abc123", "abc123", "/r/x.txt")
    assert same_document("squad:A/B#0", "id", "squad:A/B#0")
    assert same_document("x.txt", "id", "/r/x.txt")
    assert same_document("r/x.txt", "id", "/r/x.txt")
    assert not same_document("x.txt", "id", "/r/ax.txt")
    assert not same_document("q/x.txt", "id", "/r/x.txt")


def test_drop_keeps_numeric_gold_written_in_the_passage(tmp_path: Path) -> None:
    data = {
        "passages": [
            {"passage_id": "p1", "text": "The Bears scored three touchdowns and 17 points."},
            {"passage_id": "p2", "text": "Smith kicked a 44-yard field goal."},
        ],
        "questions": [
            {"qid": 1, "passage_id": "p1", "question": "How many touchdowns?", "answers": ["3"]},
            {"qid": 2, "passage_id": "p1", "question": "How many points?", "answers": ["17"]},
            {"qid": 3, "passage_id": "p1", "question": "How many more?", "answers": ["14"]},
            {"qid": 4, "passage_id": "p2", "question": "Who kicked?", "answers": ["Smith"]},
            {"qid": 5, "passage_id": "p2", "question": "Which yard?", "answers": ["44", "x"]},
            {"qid": 6, "passage_id": "p2", "question": "How long was it?", "answers": ["44"]},
        ],
    }
    path = tmp_path / "drop.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    documents, items, counts = load_drop(path)
    # 1: "three" is a number word; 2: digits; 3: 14 is not in the passage (arithmetic);
    # 4: not a number; 5: not every gold is a number; 6: "44-yard" holds 44.
    assert [i.id for i in items] == ["1", "2", "6"]
    assert counts == {"questions": 6, "numeric": 4, "literal": 3, "evaluated": 3}
    assert [d.source for d in documents] == ["drop:p1", "drop:p2"]
    assert [i.type for i in items] == ["how many", "how many", "other numeric"]
    assert items[0].doc == "drop:p1" and items[0].answers == ("3",)
    _, sampled, _ = load_drop(path, sample=2, seed=1)
    assert len(sampled) == 2 and sampled == load_drop(path, sample=2, seed=1)[1]
    assert [i.id for i in load_drop(path, limit=1)[1]] == ["1"]


def test_public_api_is_sorted_and_resolves() -> None:
    assert qa.eval.__all__ == sorted(qa.eval.__all__)
    for name in qa.eval.__all__:
        assert hasattr(qa.eval, name), name


# --- BEIR -----------------------------------------------------------------------------------

BEIR_DOCS = {
    "d1": ("Alder Harbour Bridge", "The steel arch bridge opened in 1932 over the harbour."),
    "d2": ("Kestrel Observatory", "The observatory on Mount Varda houses a large telescope."),
    "d3": ("River Lenna", "Floods on the River Lenna forced residents from Osterby."),
    "d4": ("Meridian Orchestra", "The chamber orchestra from Lisbon plays at the Teatro Aurora."),
    "d5": ("Comet Varda-Kowalski", "The comet discovered by the telescope passes every 71 years."),
    "d6": ("Farm damage", "Farmers along the Lenna asked for compensation after the floods."),
}
BEIR_QUERIES = {
    "q1": ("When did the steel arch bridge over the harbour open?", {"d1": 1}),
    "q2": ("Floods of the River Lenna near Osterby", {"d3": 2, "d6": 1}),
    "q3": ("Which orchestra plays at the Teatro Aurora?", {"d4": 1}),
}


def beir_folder(path: Path) -> Path:
    (path / "qrels").mkdir(parents=True)
    with open(path / "corpus.jsonl", "w", encoding="utf-8") as f:
        for did, (title, text) in BEIR_DOCS.items():
            f.write(json.dumps({"_id": did, "title": title, "text": text}) + "\n")
    with open(path / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, (text, _) in BEIR_QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    rows = [f"{q}\t{d}\t{g}" for q, (_, rel) in BEIR_QUERIES.items() for d, g in rel.items()]
    (path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return path


def test_beir_folder_is_evaluated_in_every_mode(tmp_path: Path, embedder: Embedder) -> None:
    out = tmp_path / "out"
    code, text = qa_eval(beir_folder(tmp_path / "beir"), "--output-dir", out)
    assert code == 0
    record = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert record["kind"] == "beir" and list(record["summary"]) == ["hybrid", "dense", "bm25"]
    assert record["index"]["documents"] == 6 and record["index"]["chunks_per_second"] > 0
    assert len(record["results"]) == 9  # three queries in three modes
    bm25 = record["summary"]["bm25"]
    # Every query shares rare words with its relevant document only: BM25 ranks it first.
    assert bm25["mrr@10"] == 1.0 and bm25["recall"]["1"] == pytest.approx((1 + 0.5 + 1) / 3)
    for mode, summary in record["summary"].items():
        rows = [r for r in record["results"] if r["mode"] == mode]
        assert summary["ndcg@10"] == pytest.approx(sum(r["ndcg@10"] for r in rows) / 3)
        curve = list(summary["recall"].values())
        assert curve == sorted(curve) and summary["recall"]["10"] == summary["recall@10"] == 1.0
    assert re.search(r"bm25\s+\d\.\d{4}\s+1\.0000\s+1\.0000", text)
    assert {p.name for p in out.iterdir()} == {
        "results.json",
        "report.md",
        "recall_at_k.png",
        "latency.png",
    }
    worse = json.loads(json.dumps(record))
    worse["results"][0].update({"recall@10": 0.0, "ndcg@10": 0.0})
    text = format_comparison(compare_runs(record, worse))
    assert "nDCG@10 rose for 0, fell for 1" in text
    assert "newly missed (1):\n  hybrid:q1: When did the steel arch bridge" in text


def test_beir_entries_with_the_same_text_keep_their_judgments(tmp_path: Path, index: Index) -> None:
    # d3 has d1's title and text: the index stores one document (source d1). A hit on it
    # stands for d1 then d3, so the judgments of d3 still count.
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    corpus = [("d1", *BEIR_DOCS["d1"]), ("d2", *BEIR_DOCS["d2"]), ("d3", *BEIR_DOCS["d1"])]
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in corpus)
    )
    queries = {"q1": "steel arch bridge over the harbour", "q2": "when did the harbour bridge open"}
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items())
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td3\t1\nq2\td1\t1\nq2\td3\t1\n"
    )
    data = load_beir(folder)
    assert [d.source for d in data.documents] == ["d1", "d2"]
    assert data.same_text == {"d1": ("d1", "d3")}
    assert data.corpus_ids("d1") == ("d1", "d3") and data.corpus_ids("d2") == ("d2",)
    index.add_documents(data.documents)
    q1, q2 = query_results(index, data, "bm25")
    assert q1["top"][:2] == q2["top"][:2] == ["d1", "d3"]
    # q1: only d3 is relevant, right after d1: recall@1 0, recall@2 1, reciprocal rank 1/2.
    assert (q1["recall"]["1"], q1["recall"]["2"], q1["rr"]) == (0.0, 1.0, 0.5)
    # q2: d1 and d3 both relevant, at ranks 1 and 2: the ideal ranking.
    assert (q2["recall"]["1"], q2["recall@10"], q2["ndcg@10"]) == (0.5, 1.0, 1.0)


def test_beir_progress_is_one_bar_over_modes_and_queries(
    tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    record = qa.eval.evaluate(
        beir_folder(tmp_path / "beir"), modes=("bm25", "dense"), progress=True
    )
    assert len(record["results"]) == 6
    err = capsys.readouterr().err
    # not a terminal: lines, not bars; one count over 2 modes x 3 queries
    assert "qa: searching 6/6 queries (100%)" in err
    assert "modes" not in err and "|" not in err


def test_bench_retrieval_runs_as_a_module_without_warnings() -> None:
    # qa.eval must not import the script: `python -m` would warn it was imported twice.
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "qa.eval.bench.retrieval", "-h"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "--limit" in done.stdout
    assert qa.eval.evaluate_retrieval is qa.eval.beir.evaluate


def test_the_benchmarks_use_the_public_api_and_the_index_hook() -> None:
    """qa.eval.bench reaches no private method and no store of an index: what it needs past
    the public API is the index's documented hook (embedded_documents, commit_embedded)."""
    import ast

    bench = Path(qa.eval.__file__).resolve().parent / "bench"
    reached = []
    for path in sorted(bench.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.ImportFrom):
                name = next((a.name for a in node.names if a.name.startswith("_")), "")
            else:
                continue
            if name == "store" or (name.startswith("_") and not name.endswith("__")):
                reached.append(f"{path.name}:{node.lineno} {name}")
    assert len(list(bench.glob("*.py"))) > 10 and reached == []


def test_bench_retrieval_scores_the_first_queries(
    tmp_path: Path, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa.eval.bench.retrieval import main as bench

    bench([str(beir_folder(tmp_path / "beir")), "--limit", "2", "--modes", "bm25"])
    out = capsys.readouterr().out
    assert out.startswith("ingest: 6 documents, ")
    # q1 and q2 only; BM25 ranks a relevant document first for both.
    assert re.search(r"^bm25\s+\d\.\d{4}\s+1\.0000\s+1\.0000", out, re.M)


# --- SQuAD v1.1 end to end: `qa eval` once, then the checks --------------------------------


@pytest.fixture(scope="module")
def squad_run(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> dict[str, Any]:
    """`qa eval` on the SQuAD v1.1 file: a fresh index, every question asked, outputs saved."""
    folder = tmp_path_factory.mktemp("squad")
    data = squad_file(folder / "tiny-v1.1.json", ARTICLES)
    out = folder / "out"
    code, text = qa_eval(data, "--output-dir", out)
    record = json.loads((out / "results.json").read_text(encoding="utf-8"))
    dataset = json.loads(data.read_text(encoding="utf-8"))["data"]
    return {"code": code, "text": text, "out": out, "record": record, "dataset": dataset}


def test_squad_v11_answers_every_question_and_reports(squad_run: dict[str, Any]) -> None:
    record, text = squad_run["record"], squad_run["text"]
    assert squad_run["code"] == 0
    assert record["kind"] == "squad" and record["settings"]["squad_version"] == "1.1"
    assert record["index"]["documents"] == 10 and record["index"]["path"] is None  # temporary
    assert len(record["results"]) == 23
    assert {r["id"] for r in record["results"]} == {
        q["id"] for a in squad_run["dataset"] for p in a["paragraphs"] for q in p["qas"]
    }
    summary = record["summary"]
    for key in ("em", "f1", "supporting_accuracy"):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["em"] > 0.3  # the typed questions are easy: a broken pipeline scores ~0
    assert f"{summary['em']:.3f}" in text and f"{summary['f1']:.3f}" in text
    assert "expected document recall @1" in text and "SQuAD scoring over all 23" in text


def test_squad_v11_figures_match_the_official_scorer(squad_run: dict[str, Any]) -> None:
    record = squad_run["record"]
    official = official_v11(squad_run["dataset"], predictions_of(record))
    assert 100 * record["summary"]["em"] == pytest.approx(official["exact_match"])
    assert 100 * record["summary"]["f1"] == pytest.approx(official["f1"])
    assert 100 * record["summary"]["official"]["exact"] == pytest.approx(official["exact_match"])
    assert 100 * record["summary"]["official"]["f1"] == pytest.approx(official["f1"])


def test_squad_paragraph_recall_comes_from_each_questions_hits(squad_run: dict[str, Any]) -> None:
    record = squad_run["record"]
    ranks = [r["retrieval"]["rank"] for r in record["results"]]
    recall = record["summary"]["retrieval"]["recall"]
    for k in (1, 5, 10):
        expected = sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)
        assert recall[str(k)] == pytest.approx(expected)
    assert recall["10"] >= recall["5"] >= recall["1"] > 0.5
    for r in record["results"]:  # the paragraph holding the question is the relevant one
        top = r["retrieval"]["top"]
        assert (
            r["retrieval"]["rank"] is None or top[r["retrieval"]["rank"] - 1] == r["expected_doc"]
        )


def test_results_json_finds_every_wrong_answer(squad_run: dict[str, Any]) -> None:
    record = squad_run["record"]
    report = (squad_run["out"] / "report.md").read_text(encoding="utf-8")
    for r in record["results"]:
        assert {"question", "gold", "prediction", "em", "f1", "citations", "correct"} <= set(r)
        sentence_only = r["short_answer"] is None and r["supporting_correct"]
        assert r["correct"] == (not r["abstained"] and (r["em"] == 1.0 or sentence_only))
        assert r["prediction"] == (
            None if r["abstained"] else r["short_answer"] or r["citations"][0]["quote"]
        )
        if not r["correct"]:
            assert f"| {r['id']} |" in report  # listed with its question and gold
        for c in r["citations"]:
            assert c["source"].startswith("squad:") and c["quote"]
    wrong = sum(not r["correct"] for r in record["results"])
    assert f"## Wrong answers ({wrong} of 23)" in report


def test_markdown_report_and_plots_are_written(squad_run: dict[str, Any]) -> None:
    out = squad_run["out"]
    names = {p.name for p in out.iterdir()}
    assert names == {
        "results.json",
        "report.md",
        "recall_at_k.png",
        "accuracy_by_type.png",
        "latency.png",
        "reliability.png",
    }
    for name in names - {"results.json", "report.md"}:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Evaluation: tiny-v1.1 (squad)")
    assert "![recall_at_k](recall_at_k.png)" in report
    assert "![accuracy_by_type](accuracy_by_type.png)" in report
    assert "![reliability](reliability.png)" in report
    curve = squad_run["record"]["summary"]["reliability"]
    answered = [r for r in squad_run["record"]["results"] if not r["abstained"]]
    assert sum(b["count"] for b in curve) == len(answered) > 0
    assert 0.0 <= squad_run["record"]["summary"]["calibration_error"] <= 1.0
    assert "SQuAD scoring over all 23 questions" in report


def test_compare_prints_what_got_better_and_worse(
    squad_run: dict[str, Any], tmp_path: Path
) -> None:
    old = json.loads(json.dumps(squad_run["record"]))
    new = json.loads(json.dumps(old))
    first, second = old["results"][:2]
    first.update(correct=True, abstained=False, prediction=first["gold"][0])
    second.update(correct=False, abstained=True, prediction=None)
    new["results"][0].update(correct=False, abstained=False, prediction="Lisbon")
    new["results"][1].update(correct=True, abstained=False, prediction=second["gold"][0])
    new["summary"]["em"] = old["summary"]["em"] + 0.25
    new["summary"]["latency"]["p50"] = old["summary"]["latency"]["p50"] + 1.0
    new["created"] = "later"
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "results.json").write_text(json.dumps(new), encoding="utf-8")
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    code, text = qa_eval(tmp_path / "new", "--compare", tmp_path / "old.json")
    assert code == 0
    assert re.search(r"^em\s+\S+\s+\S+\s+\+0\.2500  better$", text, re.M)
    assert re.search(r"^latency\.p50\s+\S+\s+\S+\s+\+1\.0000  worse$", text, re.M)
    assert (
        f"newly wrong (1):\n  {first['id']}: {first['question']} · gold {first['gold']} · "
        f"was {first['gold'][0]} · now Lisbon"
    ) in text
    assert f"newly right (1):\n  {second['id']}: {second['question']} · " in text
    assert "was (abstained)" in text
    assert "23 questions in both runs" in text
    same = compare_runs(old, old)
    assert same["newly_right"] == same["newly_wrong"] == []
    assert all(m["delta"] == 0 for m in same["metrics"])
    assert f"{len(same['metrics'])} metrics unchanged" in format_comparison(same)


def test_flatten_keeps_scores_and_drops_sizes() -> None:
    summary = {"n": 4, "em": 0.5, "by_type": {"who": {"n": 2, "accuracy": 1.0}}, "ok": True}
    assert flatten(summary) == {"em": 0.5, "by_type.who.accuracy": 1.0}


# --- SQuAD v2.0 and question sets -----------------------------------------------------------

V2_ARTICLES = {
    "Kestrel_Observatory": [
        (
            "The Kestrel Observatory stands on Mount Varda. It was founded in 1961 by the "
            "astronomer Ines Kowalski.",
            [
                ("Who founded the Kestrel Observatory?", ["Ines Kowalski"]),
                ("Who is the director of the Kestrel Observatory today?", []),
            ],
        ),
        (
            "Night tours are run by the Varda Astronomical Society. About 9,000 visitors take the "
            "tour each year.",
            [
                ("How many visitors take the night tour each year?", ["9,000"]),
                ("How many telescopes does the Zanzibar Planetarium own?", []),
            ],
        ),
    ]
}


def test_squad_v20_scores_like_the_official_v2_script(tmp_path: Path, embedder: Embedder) -> None:
    data = squad_file(tmp_path / "tiny-v2.json", V2_ARTICLES, version="v2.0")
    record = qa.eval.evaluate(data, index=tmp_path / "kept-index", options=AskOptions(k=6))
    assert record["index"]["path"] == str(tmp_path / "kept-index")  # --index: kept, not temporary
    assert [r["type"] for r in record["results"]] == [
        "who",
        "unanswerable",
        "how many",
        "unanswerable",
    ]
    dataset = json.loads(data.read_text(encoding="utf-8"))["data"]
    official = official_v2(dataset, predictions_of(record))
    scores = record["summary"]["official"]
    assert 100 * scores["exact"] == pytest.approx(official["exact"])
    assert 100 * scores["f1"] == pytest.approx(official["f1"])
    assert scores["HasAns_total"] == scores["NoAns_total"] == 2
    assert record["summary"]["abstention"]["unanswerable"] == 2


def test_question_set_with_min_accuracy(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lenna.txt").write_text(
        "Floods on the River Lenna\n\nThe regional governor, Helena Brandt, declared a state "
        "of emergency on 9 April. The floods forced 4,500 residents to leave their homes.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "set.jsonl"
    rows = [
        {
            "id": "a",
            "question": "Who declared a state of emergency?",
            "answers": ["Helena Brandt"],
            "doc": "lenna.txt",
            "type": "person",
        },
        {
            "id": "b",
            "question": "Who is the mayor of Zanzibar?",
            "answers": [],
            "doc": None,
            "type": "unanswerable",
        },
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    code, text = qa_eval(questions, "--corpus", corpus, "--no-output", "--min-accuracy", "0.5")
    assert code == 0 and "person" in text and "unanswerable" in text
    assert "details:" not in text  # --no-output
    code, _ = qa_eval(questions, "--corpus", corpus, "--no-output", "--min-accuracy", "1.01")
    assert code == 1


def test_accuracy_at_a_threshold_is_worked_by_hand() -> None:
    rows = [  # replies asked with abstain_below=0
        {"gold": ["6"], "abstained": False, "confidence": 0.9, "correct": True},
        {"gold": ["7"], "abstained": False, "confidence": 0.5, "correct": False},
        {"gold": [], "abstained": False, "confidence": 0.3, "correct": False},
        {"gold": [], "abstained": True, "confidence": 0.0, "correct": True},
    ]
    # at 0: three answered (one right), the true abstention right → 2/4; precision 1/3
    assert accuracy_at(rows, 0.0) == {"accuracy": 0.5, "answered": 0.75, "precision": 1 / 3}
    # at 0.4: the unanswerable at 0.3 now abstains → 3/4 right; two answered, one right
    assert accuracy_at(rows, 0.4) == {"accuracy": 0.75, "answered": 0.5, "precision": 0.5}
    # at 0.5 (inclusive): the same; at 0.95: nothing answered → the two unanswerables right
    assert accuracy_at(rows, 0.5) == accuracy_at(rows, 0.4)
    assert accuracy_at(rows, 0.95) == {"accuracy": 0.5, "answered": 0.0, "precision": 1.0}


def test_held_out_squad_asks_half_its_questions_of_the_wrong_articles(tmp_path: Path) -> None:
    import gzip

    from qa.eval.bench.threshold import held_out_squad
    from qa.reader.training.data import load_squad as load_articles
    from qa.reader.training.data import split_articles

    articles = []
    for a in range(60):
        context = f"Article {a} says the answer is word{a}."
        qas = [
            {
                "id": f"q{a}",
                "question": f"What does article {a} say?",
                "answers": [{"text": f"word{a}", "answer_start": context.index("word")}],
            }
        ]
        articles.append({"title": f"T{a}", "paragraphs": [{"context": context, "qas": qas}]})
    path = tmp_path / "squad.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        json.dump({"version": "1.1", "data": articles}, file)
    documents, items = held_out_squad(path, sample=100, seed=1)
    _, validation = split_articles(load_articles(path), 0.05, 0)  # the reader's held-out part
    held_out = {a.title for a in validation}
    indexed = {d.title for d in documents}
    assert indexed < held_out and len(items) == len(held_out)
    for item in items:
        title = f"T{item.id[1:]}"
        assert title in held_out
        assert bool(item.answers) == (title in indexed)  # the others are asked of wrong ones


def test_the_reader_s_held_out_articles_are_written_for_qa_eval(tmp_path: Path) -> None:
    from qa.eval.squad import load_squad
    from qa.reader.training.data import load_squad as load_articles
    from qa.reader.training.data import split_articles, write_held_out

    data = [
        {
            "title": f"T{a}",
            "paragraphs": [
                {
                    "context": f"Article {a} says word{a}.",
                    "qas": [
                        {
                            "id": f"q{a}",
                            "question": f"What does article {a} say?",
                            "answers": [{"text": f"word{a}", "answer_start": 15}],
                        }
                    ],
                }
            ],
        }
        for a in range(40)
    ]
    source = tmp_path / "train.json"
    source.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    out = tmp_path / "held-out.json"
    assert write_held_out(source, out, 0.05, 0) == 2
    _, validation = split_articles(load_articles(source), 0.05, 0)
    assert [a.title for a in load_articles(out)] == [a.title for a in validation]
    assert len(load_squad(out).items) == 2  # a SQuAD file qa eval reads: both questions
