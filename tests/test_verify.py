"""Verification and calibration: the question's constraints, the evidence features, the
logistic fit, the reliability curve and the "high confidence" threshold, on tiny fixtures."""

from __future__ import annotations

import math
import random
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from qa.answer import ABSTAIN_BELOW
from qa.answer.question import parse_question
from qa.answer.verify import (
    FEATURES,
    Calibration,
    confidence_level,
    constraints,
    features,
    shipped,
    type_ok,
)
from qa.eval.calibrate import Asked, Row, abstain_threshold, fit, high_threshold, scores
from qa.eval.metrics import expected_calibration_error, reliability

SENTENCE = "Maksym Marchenko, the governor of the Odesa region, said the port was hit."


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is the governor of the Dnipro region?", ["governor", "Dnipro"]),
        ("Who is the head of Russia's armed forces?", ["Russia"]),
        ("How many Kinzhal missiles were fired on Thursday?", ["Kinzhal", "Thursday"]),
        ("What happened in 2023 to the 81 missiles?", ["2023", "81"]),
        ("What did the mayor say?", ["mayor"]),
        ("Why can't Ukraine intercept the Kinzhal?", ["Ukraine", "Kinzhal"]),
    ],
)
def test_constraints_are_the_names_figures_roles_and_days_a_question_pins(
    question: str, expected: list[str]
) -> None:
    assert constraints(question) == expected


def test_words_of_the_answer_are_not_constraints() -> None:
    assert constraints("Who is Maksym Marchenko's deputy?", "Maksym Marchenko") == []


def test_a_swapped_place_is_missing_from_the_evidence_and_the_right_one_is_not() -> None:
    q = parse_question("Who is the governor of the Dnipro region?")
    near = features(q, "Maksym Marchenko", [SENTENCE] * 4, 5.0, 6.0, 3.0)
    right = parse_question("Who is the governor of the Odesa region?")
    good = features(right, "Maksym Marchenko", [SENTENCE] * 4, 5.0, 6.0, 3.0)
    at = {name: i for i, name in enumerate(FEATURES)}
    assert near[at["in_sentence"]] == 0.5 and good[at["in_sentence"]] == 1.0
    assert near[at["in_document"]] == 0.5 and good[at["constrained"]] == 1.0
    # a word shared by its first five letters counts: "Ukraine" in "Ukrainian"
    q = parse_question("Who heads Ukraine's army?")
    shared = features(q, "Zaluzhny", ["Ukrainian army chief Zaluzhny", "", "", ""], 1, 1, 1)
    assert shared[at["in_sentence"]] == 1.0


@pytest.mark.parametrize(
    ("kind", "answer", "ok"),
    [
        ("count", "six", True),
        ("count", "Kinzhal", False),
        ("date", "Thursday", True),
        ("date", "March 9", True),
        ("person", "the mayor", False),
        ("person", "Ihor Terekhov", True),
        ("other", "anything", True),
    ],
)
def test_the_answer_has_the_shape_the_question_asks_for(kind: str, answer: str, ok: bool) -> None:
    assert type_ok(kind, answer) is ok


def test_a_why_question_wants_a_reason_not_a_name() -> None:
    question = "Why can't Ukraine intercept the Kinzhal?"
    assert not type_ok("other", "The Ukrainian military", question)
    assert type_ok("other", "to run cooling systems", "Why must plants have power?")
    assert type_ok("other", "it flies faster than any missile defence", question)


def test_a_calibration_round_trips_and_refuses_other_features(tmp_path: Path) -> None:
    weights = tuple(float(i) for i in range(len(FEATURES)))
    made = Calibration(weights, -1.5, 0.3, 0.9, {"n": 3}, ("rival",))
    made.save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json") == made
    x = [0.1] * len(FEATURES)
    z = -1.5 + sum(i * 0.1 for i in range(len(FEATURES)))
    assert made.probability(x) == pytest.approx(1 / (1 + math.exp(-z)))
    (tmp_path / "c.json").write_text(
        (tmp_path / "c.json").read_text().replace('"score"', '"other"')
    )
    with pytest.raises(ValueError, match="other features"):
        Calibration.load(tmp_path / "c.json")


def test_a_rival_vetoes_an_answer_whatever_its_confidence() -> None:
    calibration = Calibration((0.0,) * len(FEATURES), 5.0, 0.3, 0.9, {}, ("rival",))
    clean, rival = [0.0] * len(FEATURES), [0.0] * len(FEATURES)
    rival[FEATURES.index("rival")] = 1.0
    assert calibration.probability(rival) > 0.99  # the confidence itself is the fit's
    assert calibration.answers(clean, 0.3) and not calibration.answers(rival, 0.3)
    assert calibration.answers(rival, 0.0)  # asked for every answer: nothing is vetoed
    assert not calibration.answers(clean, 0.999)
    assert Calibration((0.0,) * len(FEATURES), 5.0, 0.3, 0.9, {}).answers(rival, 0.3)


def test_the_shipped_calibration_was_measured_and_high_means_95_percent() -> None:
    calibration = shipped()
    assert len(calibration.weights) == len(FEATURES)
    assert calibration.fit["high_precision_target"] == 0.95
    test = calibration.fit["sets"]["test hard"]
    # 1,000 answerable questions or more, and about as many near misses
    assert test["answerable"] >= 1000 and test["questions"] >= 1.9 * test["answerable"]
    assert 0 < calibration.abstain < 0.5 < calibration.high <= 1.0
    assert calibration.abstain == ABSTAIN_BELOW
    assert calibration.veto == ("rival",)
    trained = [test["by_kind"][kind] for kind in ("swap", "other", "removed")]
    assert min(trained) >= 0.7  # refused, on the half it was not fit on
    assert test["abstention_recall"] >= 0.8  # every kind of near miss, nearby included
    assert test["ece"] <= 0.05
    assert confidence_level(calibration.high) == "high"
    assert confidence_level(calibration.high - 0.01) == "medium"
    assert confidence_level(0.49) == "low"


def test_reliability_bins_and_ece_on_a_tiny_fixture() -> None:
    conf = [0.05, 0.15, 0.15, 0.95, 1.0]
    right = [False, False, True, True, True]
    curve = reliability(conf, right)
    assert [b["count"] for b in curve] == [1, 2, 2]
    assert curve[1]["accuracy"] == 0.5 and curve[1]["confidence"] == pytest.approx(0.15)
    assert curve[2]["low"] == 0.9 and curve[2]["accuracy"] == 1.0  # 1.0 is in the last bin
    ece = (1 * 0.05 + 2 * abs(0.5 - 0.15) + 2 * abs(1.0 - 0.975)) / 5
    assert expected_calibration_error(conf, right) == pytest.approx(ece)
    assert expected_calibration_error([], []) == 0.0
    with pytest.raises(ValueError, match="one of each"):
        reliability([0.5], [])


def test_a_logistic_fit_on_synthetic_data_is_calibrated() -> None:
    rng = random.Random(0)
    rows = []
    for _ in range(4000):
        x = [rng.uniform(-4, 4) for _ in FEATURES]
        p = 1 / (1 + math.exp(-(1.5 * x[0] - 2 * x[3] + 0.5)))
        rows.append(Row("answerable", x, rng.random() < p, 1.0))
    weights, bias = fit(rows)
    assert weights[0] == pytest.approx(1.5, abs=0.2) and weights[3] == pytest.approx(-2, abs=0.2)
    assert bias == pytest.approx(0.5, abs=0.2)
    model = Calibration(tuple(weights), bias, 0.5, 1.0, {})
    conf = [model.probability(r.features or []) for r in rows]
    assert expected_calibration_error(conf, [r.right for r in rows]) < 0.03


def test_high_confidence_starts_where_precision_reaches_the_target() -> None:
    conf = np.array([0.99, 0.97, 0.95, 0.9, 0.8, 0.7])
    right = np.array([True, True, True, True, False, False])
    assert high_threshold(conf, right, 0.95) == 0.9
    assert high_threshold(conf, right, 0.8) == 0.8  # 4 of 5 right from 0.8 up
    assert high_threshold(conf, np.array([False] * 6), 0.95) == 1.0


def test_scores_count_abstentions_on_unanswerable_questions() -> None:
    rows = [
        Row("answerable", [0.0], True, 1.0),
        Row("answerable", [0.0], False, 0.5),
        Row("swap", [0.0], False, 0.0),
        Row("removed", None, False, 0.0),
    ]
    found = scores(rows, np.array([0.9, 0.2, 0.8, 0.0]), 0.5)
    assert found["abstention_recall"] == 0.5 and found["abstention_precision"] == 0.5
    assert found["f1_answerable"] == 50.0  # the abstention on an answerable one scores 0
    assert found["by_kind"] == {"answerable": 0.5, "removed": 1.0, "swap": 0.0}
    # a vetoed answer is refused whatever its confidence
    vetoed = scores(rows, np.array([0.9, 0.2, 0.8, 0.0]), 0.5, np.array([0, 0, 1, 0], bool))
    assert vetoed["abstention_recall"] == 1.0 and vetoed["by_kind"]["swap"] == 1.0
    assert vetoed["f1_answerable"] == 50.0


def test_the_abstention_threshold_counts_vetoed_near_misses_as_refused() -> None:
    rows = [Row("swap", [0.0], False, 0.0) for _ in range(4)]
    conf = np.array([0.1, 0.6, 0.7, 0.8])
    assert abstain_threshold(rows, conf, 0.75) == 0.71
    assert abstain_threshold(rows, conf, 0.75, np.array([0, 0, 1, 1], bool)) == 0.11


def test_a_kept_question_is_scored_again_with_the_features_of_today() -> None:
    """--rows keeps what was read, not the features: a new check is fit without reading."""
    kept = Asked(
        "swap",
        "Who is the governor of the Dnipro region?",
        [],
        "Maksym Marchenko",
        [SENTENCE] * 4,
        5.0,
        6.0,
        3.0,
    )
    row = kept.row()
    assert row.features is not None and len(row.features) == len(FEATURES)
    assert row.features[FEATURES.index("rival")] == 1.0  # the Odesa governor
    assert not row.right and row.f1 == 0.0 and not row.answerable
    answered = Asked("answerable", "Who governs Odesa?", ["Maksym Marchenko"], "Marchenko", [])
    nothing = Asked("answerable", "Who governs Odesa?", ["Maksym Marchenko"], None, [])
    assert nothing.row().features is None and not nothing.row().right
    assert answered.golds and Asked(**asdict(answered)) == answered  # as --rows stores it
