"""Answer, retrieval, abstention and latency metrics, computed the standard way.

Answers are scored as in the SQuAD v1.1 evaluation script (normalise, then exact match and
token F1, the best over the gold answers) with one addition: numbers are rewritten in
canonical digits first, so "six" == "6", "6.0" == "6" and "150,000" == "150000".
``numbers=False`` leaves that step out: the official v1.1 script's figures exactly.

Retrieval metrics follow BEIR / pytrec_eval: a document is relevant when its grade is above
zero, nDCG uses linear gains (``ndcg_cut``). Rankings are deduplicated first (first occurrence
wins), so scoring a chunk-level ranking of document ids equals scoring its ``dedupe``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from qa.numbers import normalize_answer

__all__ = [
    "abstention_scores",
    "answer_right",
    "dedupe",
    "exact_match",
    "expected_calibration_error",
    "f1",
    "latency_summary",
    "mrr",
    "ndcg_at_k",
    "normalize_answer",
    "percentile",
    "recall_at_k",
    "reliability",
    "supporting_sentence_correct",
]

T = TypeVar("T", bound=Hashable)
Relevant = Mapping[str, int] | Iterable[str]


# --- answers ------------------------------------------------------------------------------


def _abstained(prediction: str | None) -> bool:
    return prediction is None or not prediction.strip()


def _token_f1(prediction: str, gold: str, numbers: bool = True) -> float:
    pred_tokens = normalize_answer(prediction, numbers=numbers).split()
    gold_tokens = normalize_answer(gold, numbers=numbers).split()
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _best(
    prediction: str | None, golds: Sequence[str], score: Callable[[str, str], float]
) -> float:
    """Shared conventions: unanswerable (no golds) scores 1.0 only for an abstention;
    an empty prediction against real golds scores 0.0; otherwise the best over the golds."""
    if not golds:
        return 1.0 if _abstained(prediction) else 0.0
    if prediction is None or _abstained(prediction):
        return 0.0
    return max(float(score(prediction, gold)) for gold in golds)


def exact_match(prediction: str | None, golds: Sequence[str], *, numbers: bool = True) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer, else 0.0.

    ``golds == []`` marks an unanswerable question: 1.0 if the prediction is None or empty.
    ``numbers=False``: the official normalisation, without number words = digits.
    """

    def same(p: str, g: str) -> bool:
        return normalize_answer(p, numbers=numbers) == normalize_answer(g, numbers=numbers)

    return _best(prediction, golds, same)


def f1(prediction: str | None, golds: Sequence[str], *, numbers: bool = True) -> float:
    """SQuAD token F1, the best over the gold answers (same empty conventions as EM)."""
    return _best(prediction, golds, lambda p, g: _token_f1(p, g, numbers))


def supporting_sentence_correct(sentence: str | None, golds: Sequence[str]) -> bool:
    """True when a gold answer occurs in the sentence, both normalised, on token boundaries.

    Hyphens count as spaces here so "35" is found in "35-nation"; token boundaries keep "6"
    from matching inside "16". No golds (unanswerable) means no sentence can be correct.
    """
    if not sentence:
        return False
    haystack = f" {normalize_answer(sentence.replace('-', ' '))} "
    for gold in golds:
        needle = normalize_answer(gold.replace("-", " "))
        if needle and f" {needle} " in haystack:
            return True
    return False


# --- retrieval ----------------------------------------------------------------------------


def dedupe(ranked_ids: Iterable[T]) -> list[T]:
    """The ranking with repeats removed, first occurrence wins (chunk ranks -> document ranks)."""
    seen: set[T] = set()
    out: list[T] = []
    for item in ranked_ids:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _grades(relevant: Relevant) -> dict[str, int]:
    """Relevance grades from qrels (``{id: grade}``) or a plain set of relevant ids (grade 1)."""
    if isinstance(relevant, Mapping):
        return {doc: int(grade) for doc, grade in relevant.items()}
    return dict.fromkeys(relevant, 1)


def _top(ranked_ids: Sequence[str], k: int | None) -> list[str]:
    if k is not None and k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return dedupe(ranked_ids)[:k]


def recall_at_k(ranked_ids: Sequence[str], relevant: Relevant, k: int) -> float:
    """Share of the relevant documents found in the top ``k``; 0.0 when none are relevant."""
    wanted = {doc for doc, grade in _grades(relevant).items() if grade > 0}
    if not wanted:
        return 0.0
    return len(wanted.intersection(_top(ranked_ids, k))) / len(wanted)


def mrr(ranked_ids: Sequence[str], relevant: Relevant, k: int | None = None) -> float:
    """Reciprocal rank of the first relevant document within the top ``k`` (all if None)."""
    grades = _grades(relevant)
    for rank, doc in enumerate(_top(ranked_ids, k), start=1):
        if grades.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_ids: Sequence[str], qrels: Relevant, k: int = 10) -> float:
    """nDCG@k with graded gains ``rel`` and ``log2(rank + 1)`` discounts, as pytrec_eval's
    ``ndcg_cut``; the ideal ranking comes from the qrels. 0.0 when nothing is relevant."""
    grades = _grades(qrels)
    dcg = sum(
        max(grades.get(doc, 0), 0) / math.log2(rank + 1)
        for rank, doc in enumerate(_top(ranked_ids, k), start=1)
    )
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(grade / math.log2(rank + 1) for rank, grade in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


# --- abstention ---------------------------------------------------------------------------


def abstention_scores(abstained: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of abstaining, where abstaining is right on unanswerables.

    precision = right abstentions / abstentions, recall = right abstentions / unanswerables.
    A ratio with a zero denominator (no abstentions, no unanswerables) is defined as 0.0.
    """
    if len(abstained) != len(answerable):
        raise ValueError(
            f"abstained has {len(abstained)} entries but answerable has {len(answerable)}; "
            "pass one flag of each per question"
        )
    right = sum(1 for a, ok in zip(abstained, answerable, strict=True) if a and not ok)
    n_abstained = sum(1 for a in abstained if a)
    n_unanswerable = sum(1 for ok in answerable if not ok)
    precision = right / n_abstained if n_abstained else 0.0
    recall = right / n_unanswerable if n_unanswerable else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f,
        "abstained": n_abstained,
        "unanswerable": n_unanswerable,
        "correct_abstentions": right,
    }


# --- calibration --------------------------------------------------------------------------

RIGHT_F1 = 0.5  # an answer sharing at least this token F1 with a gold answer is right


def answer_right(prediction: str | None, golds: Sequence[str]) -> bool:
    """Whether an answer given is right, in the sense its confidence is the probability of:
    it shares at least half its words with a gold answer (token F1 >= 0.5, number words =
    digits: "Gen Valery Zaluzhny" for "Valery Zaluzhny"). Any answer to an unanswerable
    question is wrong."""
    return bool(golds) and prediction is not None and f1(prediction, golds) >= RIGHT_F1


def reliability(
    confidences: Sequence[float], right: Sequence[bool], bins: int = 10
) -> list[dict[str, float]]:
    """The reliability curve: for each confidence bin (``bins`` equal widths of [0, 1], the
    last one closed) that holds replies, their count, mean confidence and share right."""
    if len(confidences) != len(right):
        raise ValueError(
            f"{len(confidences)} confidences but {len(right)} outcomes; pass one of each per reply"
        )
    if bins < 1:
        raise ValueError(f"bins must be 1 or more, got {bins}")
    found = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [
            (c, r)
            for c, r in zip(confidences, right)
            if low <= c < high or (b == bins - 1 and c == high)
        ]
        if members:
            found.append(
                {
                    "low": low,
                    "high": high,
                    "count": len(members),
                    "confidence": sum(c for c, _ in members) / len(members),
                    "accuracy": sum(bool(r) for _, r in members) / len(members),
                }
            )
    return found


def expected_calibration_error(
    confidences: Sequence[float], right: Sequence[bool], bins: int = 10
) -> float:
    """The replies' mean gap between confidence and accuracy, bin by bin (ECE), weighted by
    the bins' counts; 0.0 for no replies."""
    n = len(confidences)
    curve = reliability(confidences, right, bins)
    return sum(b["count"] / n * abs(b["accuracy"] - b["confidence"]) for b in curve) if n else 0.0


# --- latency ------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation, as ``numpy.percentile``."""
    if not values:
        raise ValueError("percentile of no values; pass at least one value")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be between 0 and 100, got {p}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean and total of the timings and their count ``n`` (all 0 when empty)."""
    if not seconds:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "total": 0.0, "n": 0}
    total = math.fsum(seconds)
    return {
        "p50": percentile(seconds, 50),
        "p95": percentile(seconds, 95),
        "mean": total / len(seconds),
        "total": total,
        "n": len(seconds),
    }
