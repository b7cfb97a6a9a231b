"""Metrics (qa.eval.metrics), pinned on hand-worked examples, and the sample question set."""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import qa
import qa.eval
from qa.eval.metrics import (
    abstention_scores,
    dedupe,
    exact_match,
    f1,
    latency_summary,
    mrr,
    ndcg_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
    supporting_sentence_correct,
)

# --- the official SQuAD v1.1 evaluate script, as it does it --------------------------------


def squad_normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def squad_f1_score(prediction, ground_truth):
    prediction_tokens = squad_normalize_answer(prediction).split()
    ground_truth_tokens = squad_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def squad_exact_match_score(prediction, ground_truth):
    return squad_normalize_answer(prediction) == squad_normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


SQUAD_PAIRS = [
    ("Ihor Terekhov", ["Ihor Terekhov"]),
    ("ihor terekhov.", ["Ihor Terekhov"]),
    ("Mayor Ihor Terekhov", ["Ihor Terekhov"]),
    ("Terekhov", ["Ihor Terekhov", "Mr Terekhov"]),
    ("Maksym Marchenko, governor", ["Maksym Marchenko"]),
    ("The Kinzhal", ["Kinzhal", "Kinzhal hypersonic missiles"]),
    ("hypersonic missiles", ["Kinzhal hypersonic missiles"]),
    ("81", ["81"]),
    ("81 missiles", ["81"]),
    ("150,000", ["around 150,000", "150000"]),
    ("40%", ["40%", "40"]),
    ("some 700 kilometres", ["some 700 kilometres", "700 kilometres", "700 km"]),
    ("700 km away", ["700 km"]),
    ("Thursday", ["on Thursday"]),
    ("February 16", ["February 16"]),
    ("just before 8am", ["before 8am", "8am"]),
    ("Zaporizhzhia nuclear power plant", ["Zaporizhzhia"]),
    ("the Zaporizhzhia Nuclear Power Plant", ["Zaporizhzhia nuclear power plant"]),
    ("Energoatom said", ["Energoatom"]),
    ("DTEK", ["Ukrenergo"]),
    ("Wagner group", ["Wagner"]),
    ("an energy facility", ["energy infrastructure site"]),
    ("Ukraine’s north-western Zhytomyr region", ["Zhytomyr region"]),
    ("Ukraine's Odesa region", ["Odesa region"]),
    ('"a provocation"', ["a provocation", "provocation"]),
    ("Reuters/AP", ["Reuters"]),
    ("kamikaze drones and rockets", ["kamikaze drones"]),
    ("Kyiv Kyiv Kyiv", ["Kyiv"]),
    ("the", ["The"]),
    ("Gen Valery Zaluzhny", ["Valery Zaluzhny", "Gen Valery Zaluzhny"]),
    ("Volker Turk (UN)", ["Volker Turk"]),
    ("Holosiivskyi district", ["Sviatoshynskyi district"]),
]


@pytest.mark.parametrize(("prediction", "golds"), SQUAD_PAIRS)
def test_agrees_with_official_squad_script(prediction: str, golds: list[str]) -> None:
    assert normalize_answer(prediction) == squad_normalize_answer(prediction)
    assert exact_match(prediction, golds) == float(
        metric_max_over_ground_truths(squad_exact_match_score, prediction, golds)
    )
    assert f1(prediction, golds) == metric_max_over_ground_truths(squad_f1_score, prediction, golds)


# --- answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("Six", "6"),
        ("six missiles", "6 missiles"),
        ("150,000", "150000"),
        ("6.0", "6"),
        ("twenty-one", "21"),
        ("40 per cent", "40%"),
        ("1.5 million", "1,500,000"),
        ("the sixth time", "6th time"),
        ("a dozen", "12"),
    ],
)
def test_numbers_compare_equal(prediction: str, gold: str) -> None:
    assert exact_match(prediction, [gold]) == 1.0
    assert f1(prediction, [gold]) == 1.0


def test_exact_match_and_f1_by_hand() -> None:
    # "The Kinzhal!" -> "kinzhal": punctuation and article go.
    assert exact_match("The Kinzhal!", ["kinzhal"]) == 1.0
    assert exact_match("Kinzhal missiles", ["kinzhal"]) == 0.0
    # [ihor, terekhov, mayor] vs [ihor, terekhov]: 2 shared, P = 2/3, R = 1, F1 = 0.8.
    assert f1("Ihor Terekhov the mayor", ["Ihor Terekhov"]) == pytest.approx(0.8)
    # Repeated tokens count once per match: [6, 6, missiles] vs [6, missiles]: 2 shared,
    # P = 2/3, R = 1, F1 = 0.8.
    assert f1("six six missiles", ["6 missiles"]) == pytest.approx(0.8)
    # Best over golds: vs "Kharkiv" P = 1/2, R = 1 -> 2/3; vs "Kharkiv city centre"
    # P = 1, R = 2/3 -> 0.8; the max is 0.8.
    assert f1("Kharkiv city", ["Kharkiv", "Kharkiv city centre"]) == pytest.approx(0.8)
    # A tie between golds: each shares one of two predicted tokens, P = 1/2, R = 1 -> 2/3.
    assert f1("Bakhmutka River", ["Bakhmutka", "River"]) == pytest.approx(2 / 3)
    # No shared token.
    assert f1("Kyiv", ["Odesa"]) == 0.0


def test_empty_and_unanswerable_conventions() -> None:
    for abstention in (None, "", "   "):
        assert exact_match(abstention, []) == 1.0  # abstained on an unanswerable: right
        assert f1(abstention, []) == 1.0
        assert exact_match(abstention, ["Kyiv"]) == 0.0  # abstained on an answerable: wrong
        assert f1(abstention, ["Kyiv"]) == 0.0
    assert exact_match("Kyiv", []) == 0.0  # answered an unanswerable
    assert f1("Kyiv", []) == 0.0
    # "the" normalises to nothing: EM compares "" with "" (as SQuAD does), F1 shares no token.
    assert exact_match("the", ["The"]) == 1.0
    assert f1("the", ["The"]) == 0.0


def test_supporting_sentence_correct() -> None:
    sentence = (
        "The Ukrainian air force said Russia fired 81 missiles, including six Kinzhal "
        "hypersonic missiles, and eight drones during the early-morning strikes."
    )
    assert supporting_sentence_correct(sentence, ["6"])  # "six" normalises to "6"
    assert supporting_sentence_correct(sentence, ["nothing", "Kinzhal hypersonic missiles"])
    assert not supporting_sentence_correct(sentence, ["16"])
    assert not supporting_sentence_correct("hit by 16 strikes", ["6"])  # token boundaries
    assert supporting_sentence_correct("the IAEA's 35-nation Board", ["35"])  # hyphen splits
    assert not supporting_sentence_correct(sentence, [])  # unanswerable: nothing supports
    assert not supporting_sentence_correct(None, ["6"])
    assert not supporting_sentence_correct(sentence, ["the"])  # empty gold matches nothing


# --- retrieval -----------------------------------------------------------------------------


def test_dedupe_first_occurrence_wins() -> None:
    assert dedupe(["d2", "d1", "d2", "d3", "d1"]) == ["d2", "d1", "d3"]
    assert dedupe([]) == []


def test_recall_at_k() -> None:
    ranking = ["d1", "d2", "d3", "d4"]
    relevant = {"d2", "d4", "d9"}
    assert recall_at_k(ranking, relevant, 1) == 0.0
    assert recall_at_k(ranking, relevant, 2) == pytest.approx(1 / 3)  # d2 of {d2, d4, d9}
    assert recall_at_k(ranking, relevant, 10) == pytest.approx(2 / 3)  # k beyond the list
    # Graded qrels: grade 0 is not relevant, so the relevant set is {d2, d4}.
    assert recall_at_k(ranking, {"d2": 2, "d4": 1, "d9": 0}, 4) == 1.0
    # Duplicates count once: ["d1", "d1", "d2"] -> ["d1", "d2"], so d2 is inside k = 2.
    assert recall_at_k(["d1", "d1", "d2"], {"d2"}, 2) == 1.0
    assert recall_at_k(ranking, set(), 5) == 0.0  # nothing relevant: defined as 0
    assert recall_at_k([], relevant, 5) == 0.0
    with pytest.raises(ValueError, match="k must be at least 1"):
        recall_at_k(ranking, relevant, 0)


def test_mrr() -> None:
    ranking = ["d1", "d2", "d3", "d4"]
    assert mrr(ranking, {"d2", "d4"}) == 0.5  # first relevant at rank 2
    assert mrr(ranking, {"d2", "d4"}, k=1) == 0.0  # cut before it
    assert mrr(ranking, {"d4": 1}, k=10) == 0.25
    assert mrr(ranking, {"d1": 0, "d3": 1}) == pytest.approx(1 / 3)  # grade 0 skipped
    assert mrr(["d1", "d1", "d1", "d2"], {"d2"}) == 0.5  # duplicates removed first
    assert mrr(ranking, {"d9"}) == 0.0


def test_ndcg_at_k_by_hand() -> None:
    qrels = {"a": 1, "b": 0, "c": 2, "d": 1}
    # DCG = 1/log2(2) + 0/log2(3) + 2/log2(4) = 1 + 0 + 1 = 2
    # IDCG (grades 2, 1, 1) = 2/1 + 1/log2(3) + 1/2 = 2.5 + 0.6309 = 3.1309
    idcg = 2 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(["a", "b", "c"], qrels, 3) == pytest.approx(2 / idcg)
    # Duplicates count once: ["c", "c", "a"] -> ["c", "a"]; DCG = 2 + 1/log2(3) = ideal @2.
    assert ndcg_at_k(["c", "c", "a"], qrels, 2) == pytest.approx(1.0)
    # k larger than the ranking: DCG = 2/log2(2) = 2, IDCG@10 = 3.1309 (only 3 relevant).
    assert ndcg_at_k(["c"], qrels, 10) == pytest.approx(2 / idcg)
    # Ties: two documents of equal grade in either order are both ideal.
    assert ndcg_at_k(["a", "d"], {"a": 1, "d": 1}, 2) == 1.0
    assert ndcg_at_k(["d", "a"], {"a": 1, "d": 1}, 2) == 1.0
    # A set means grade 1: DCG = 1/log2(3) at rank 2, IDCG = 1.
    assert ndcg_at_k(["x", "y"], {"y"}, 2) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["x"], {"x": 0}, 10) == 0.0  # nothing relevant: defined as 0
    assert ndcg_at_k([], qrels, 10) == 0.0
    with pytest.raises(ValueError, match="k must be at least 1"):
        ndcg_at_k(["a"], qrels, 0)


def test_ndcg_linear_gain_not_exponential() -> None:
    # Grade 3 at rank 2 and grade 1 at rank 1: linear DCG = 1 + 3/log2(3);
    # ideal = 3 + 1/log2(3). (Exponential gains 2^rel - 1 would give 1 + 7/log2(3).)
    expected = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert ndcg_at_k(["low", "high"], {"high": 3, "low": 1}, 10) == pytest.approx(expected)


# --- abstention and latency ----------------------------------------------------------------


def test_abstention_scores_by_hand() -> None:
    # abstained  T T F F T ; answerable F T T F F
    # right abstentions: positions 0 and 4 -> 2; abstentions 3; unanswerables (0, 3, 4) 3.
    scores = abstention_scores([True, True, False, False, True], [False, True, True, False, False])
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert (scores["abstained"], scores["unanswerable"], scores["correct_abstentions"]) == (3, 3, 2)


def test_abstention_zero_denominators_are_zero() -> None:
    never = abstention_scores([False, False], [True, True])  # 0/0 precision and recall
    assert (never["precision"], never["recall"], never["f1"]) == (0.0, 0.0, 0.0)
    # Abstaining on an answerable question, no unanswerables: precision 0/1, recall 0/0.
    wrong = abstention_scores([True], [True])
    assert (wrong["precision"], wrong["recall"], wrong["f1"]) == (0.0, 0.0, 0.0)
    assert abstention_scores([True], [False])["f1"] == 1.0
    assert abstention_scores([], [])["f1"] == 0.0
    with pytest.raises(ValueError, match="one flag of each"):
        abstention_scores([True], [True, False])


def test_percentile_matches_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5  # sorted 1 2 3 4: position 1.5 -> 2.5
    assert percentile(values, 95) == pytest.approx(3.85)  # position 2.85 -> 3 + 0.85
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 95) == 7.0
    data = [0.3, 0.01, 0.7, 0.7, 1.9, 0.2, 0.05]
    for p in (0, 10, 25, 50, 90, 95, 99, 100):
        assert percentile(data, p) == pytest.approx(float(np.percentile(data, p)))
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile(values, 101)


def test_latency_summary() -> None:
    summary = latency_summary([0.4, 0.1, 0.3, 0.2])
    assert summary["p50"] == pytest.approx(0.25)
    assert summary["p95"] == pytest.approx(0.385)  # position 2.85 between 0.3 and 0.4
    assert summary["mean"] == pytest.approx(0.25)
    assert summary["total"] == pytest.approx(1.0)
    assert summary["n"] == 4
    assert latency_summary([]) == {"p50": 0.0, "p95": 0.0, "mean": 0.0, "total": 0.0, "n": 0}


# --- the sample question set ---------------------------------------------------------------

QUESTIONS = Path(qa.eval.__file__).parent / "data" / "sample_questions.jsonl"
CORPUS = Path(qa.__file__).parent / "corpus"
TYPES = {"count", "number", "date", "person", "organisation", "place", "other", "unanswerable"}


def test_sample_questions_are_well_formed() -> None:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 45
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["type"] for r in rows} == TYPES
    assert sum(r["type"] == "unanswerable" for r in rows) >= 6
    for row in rows:
        assert set(row) == {"id", "question", "answers", "doc", "type"}, row["id"]
        if row["type"] == "unanswerable":
            assert row["answers"] == [] and row["doc"] is None, row["id"]
            continue
        text = (CORPUS / row["doc"]).read_text(encoding="utf-8")
        # Some answer is a verbatim span, and the metric finds it in the normalised report.
        assert any(a in text for a in row["answers"]), row["id"]
        assert supporting_sentence_correct(text.replace("\n", " "), row["answers"]), row["id"]
