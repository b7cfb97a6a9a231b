"""Answer latency, side by side in one run: the sentence scorer, and an exported reader in
float32 and in bf16 (with the share of questions whose answer the two precisions disagree on).

    python -m qa.eval.bench_answer [--reader DIR] [--k 6] [--rounds 2]

The sample reports are indexed into a temporary index and the sample questions asked
``--rounds`` times each (the first round warms up and is not timed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from qa.answer import ask
from qa.answer.answerer import DEFAULT_K
from qa.config import sample_corpus
from qa.eval.serving import percentiles, sample_questions
from qa.index import Index


def timed_answers(index: Index, questions: list[str], rounds: int, **options: Any) -> Any:
    """(seconds of every timed ask, the short answers of the last round)."""
    seconds: list[float] = []
    answers: list[str | None] = []
    for round_ in range(rounds):
        answers = []
        for question in questions:
            start = time.perf_counter()
            answers.append(ask(index, question, **options).short_answer)
            if round_:
                seconds.append(time.perf_counter() - start)
    return seconds, answers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, help="an exported reader (qa.reader.train)")
    parser.add_argument("--k", type=int, default=DEFAULT_K, help="passages per answer")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the first is not timed")
    args = parser.parse_args(argv)
    questions = sample_questions()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.open(Path(tmp) / "index", create=True)
        index.add([sample_corpus()])
        rounds = max(2, args.rounds)
        seconds, _ = timed_answers(index, questions, rounds, k=args.k)
        rows.append(("sentence scorer", seconds, None))
        if args.reader:
            from qa.reader.reader import Reader

            base: list[str | None] = []
            for name, bf16 in (("reader, float32", False), ("reader, bf16", True)):
                reader = Reader.load(args.reader, bf16=bf16)
                seconds, answers = timed_answers(index, questions, rounds, k=args.k, reader=reader)
                differ = None if not base else sum(a != b for a, b in zip(answers, base))
                base = base or answers
                rows.append((name, seconds, differ))
        index.close()
    reference = percentiles(rows[0][1])[0]
    print(f"{len(questions)} questions, k={args.k}, {rounds - 1} timed round(s)")
    print(f"{'answerer':<18}{'p50 ms':>9}{'p95 ms':>9}{'p50 x':>8}  answers unlike float32")
    for name, seconds, differ in rows:
        p50, p95, _ = percentiles(seconds)
        note = "" if differ is None else f"  {differ} of {len(questions)}"
        print(f"{name:<18}{p50:>9.1f}{p95:>9.1f}{p50 / reference:>8.2f}{note}")


if __name__ == "__main__":
    main()
