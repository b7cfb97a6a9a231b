"""Answer latency, side by side in one run: retrieval alone (the reference), then whole
answers with the reader as transformers runs it (float32), as the product runs it (qa.bert,
float32), and in bf16 where the CPU has it, transformers' autocast beside the product's
weights cast once (with how many answers differ from the first).

    python -m qa.eval.bench.answer [--reader DIR] [--k 6] [--rounds 2] [--bf16]

The sample reports are indexed into a temporary index and the sample questions asked
``--rounds`` times each (the first round warms up and is not timed). ``--reader`` times
another exported reader instead of the one shipped in the package.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qa.config import sample_corpus
from qa.embed import native_bf16
from qa.engine import Engine
from qa.eval.bench.serving import percentiles, sample_questions
from qa.index import Index
from qa.options import ASK_K, AskOptions
from qa.reader.reader import BUNDLED_READER, Reader
from qa.reader.training.train import transformers_reader


def timed(call: Callable[[str], Any], questions: list[str], rounds: int) -> Any:
    """(seconds of every timed call, what the calls of the last round returned)."""
    seconds: list[float] = []
    results: list[Any] = []
    for round_ in range(rounds):
        results = []
        for question in questions:
            start = time.perf_counter()
            results.append(call(question))
            if round_:
                seconds.append(time.perf_counter() - start)
    return seconds, results


def short_answer(engine: Engine, k: int, question: str) -> str | None:
    return engine.ask(question, AskOptions(k)).short_answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, help="an exported reader (qa.reader.training)")
    parser.add_argument("--k", type=int, default=ASK_K, help="passages per answer")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the first is not timed")
    parser.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=native_bf16(),
        help="time bf16 too (default: where the CPU has it; emulated, it is several times slower)",
    )
    args = parser.parse_args(argv)
    path = args.reader or BUNDLED_READER
    readers: list[tuple[str, Callable[[], Reader]]] = [
        ("transformers fp32", functools.partial(transformers_reader, path)),
        ("answer, fp32", functools.partial(Reader.load, path, bf16=False)),
    ]
    if args.bf16:
        readers.append(
            ("transformers bf16", functools.partial(transformers_reader, path, bf16=True))
        )
        readers.append(("answer, bf16", functools.partial(Reader.load, path, bf16=True)))
    questions = sample_questions()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.open(Path(tmp) / "index", create=True)
        index.add([sample_corpus()])
        rounds = max(2, args.rounds)
        seconds, _ = timed(lambda q: index.search(q, k=args.k), questions, rounds)
        rows.append(("retrieval only", seconds, None))
        base: list[str | None] = []
        for name, load in readers:
            short = functools.partial(short_answer, Engine(index, reader=load()), args.k)
            seconds, answers = timed(short, questions, rounds)
            differ = None if not base else sum(a != b for a, b in zip(answers, base))
            base = base or answers
            rows.append((name, seconds, differ))
        index.close()
    reference = percentiles(rows[0][1])[0]
    print(f"{len(questions)} questions, k={args.k}, {rounds - 1} timed round(s)")
    print(f"{'what':<18}{'p50 ms':>9}{'p95 ms':>9}{'p50 x':>8}  answers unlike transformers'")
    for name, seconds, differ in rows:
        p50, p95, _ = percentiles(seconds)
        note = "" if differ is None else f"  {differ} of {len(questions)}"
        print(f"{name:<18}{p50:>9.1f}{p95:>9.1f}{p50 / reference:>8.2f}{note}")


if __name__ == "__main__":
    main()
