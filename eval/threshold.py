"""Where to abstain: accuracy at each confidence threshold, on questions with and without answers.

    python -m qa.eval.threshold [--drop PATH] [--sample N] [--seed S]

Every question is asked once with ``abstain_below=0`` (every reply that has an answer gives
it), then each threshold is applied to the recorded confidences: a reply under it counts as an
abstention. Two sets are scored:

- the sample question set over the sample reports (its unanswerable questions included);
- a sample of the DROP literal-number subset where the passages of half the questions are
  left out of the index, so those questions are unanswerable there: a fair, external test of
  saying "the reports don't say", not tuned on the sample reports.

Accuracy counts a right answer, or an abstention on an unanswerable question, as right.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

from qa.config import sample_corpus
from qa.eval import suite
from qa.eval.answers import Item, load_questions
from qa.eval.drop import DEFAULT_PATH, load_drop

SAMPLE_SET = Path(__file__).resolve().parent / "data" / "sample_questions.jsonl"
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(0, 17))  # 0.00 … 0.80


def accuracy_at(results: list[dict[str, Any]], threshold: float) -> dict[str, float]:
    """Accuracy, answered share and precision of the answers given, abstaining under
    ``threshold``. Rows must come from replies asked with ``abstain_below=0``."""
    right = answered = answered_right = 0
    for row in results:
        answers = not row["abstained"] and row["confidence"] >= threshold
        if answers:
            answered += 1
            answered_right += row["correct"]
            right += row["correct"]
        else:
            right += not row["gold"]
    n = len(results) or 1
    return {
        "accuracy": right / n,
        "answered": answered / n,
        "precision": answered_right / answered if answered else 1.0,
    }


def _ask_all(items: list[Item], corpus: Any = None, documents: Any = None) -> list[dict[str, Any]]:
    with suite.index_for(None) as (index, _):
        if corpus is not None:
            suite.ingest_files(index, corpus)
        if documents is not None:
            suite.ingest(index, documents)
        _, results = suite.run_questions(
            index, items, False, {"abstain_below": 0.0}, retrieval_depth=None
        )
    return results


def held_out_drop(path: Path, sample: int, seed: int) -> tuple[list[Any], list[Item]]:
    """DROP literal-subset questions and the passages of half of them; the other half's
    gold answers are emptied, as the index cannot answer them."""
    documents, items, _ = load_drop(path, sample=sample, seed=seed)
    kept = {doc.source for doc in documents}
    rng = random.Random(seed)
    dropped = {source for source in sorted(kept) if rng.random() < 0.5}
    items = [
        Item(item.id, item.question, () if item.doc in dropped else item.answers, item.doc)
        for item in items
    ]
    return [doc for doc in documents if doc.source not in dropped], items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, default=DEFAULT_PATH, help="drop-dev.json")
    parser.add_argument("--sample", type=int, default=400, help="DROP questions (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and held-out half")
    args = parser.parse_args(argv)

    sets = {"sample set": _ask_all(load_questions(SAMPLE_SET), corpus=sample_corpus())}
    documents, items = held_out_drop(args.drop, args.sample, args.seed)
    sets["DROP held-out"] = _ask_all(items, documents=documents)
    for name, rows in sets.items():
        unanswerable = sum(not r["gold"] for r in rows)
        print(f"{name}: {len(rows)} questions, {unanswerable} unanswerable")
    head = "".join(f"{name + ' acc':>18}{'answered':>10}{'precision':>11}" for name in sets)
    print(f"{'threshold':>9}{head}")
    for threshold in THRESHOLDS:
        cells = ""
        for rows in sets.values():
            s = accuracy_at(rows, threshold)
            cells += f"{s['accuracy']:>18.3f}{s['answered']:>10.3f}{s['precision']:>11.3f}"
        print(f"{threshold:>9.2f}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
