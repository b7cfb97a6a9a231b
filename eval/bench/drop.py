"""DROP numeric extraction: the dev questions whose gold number appears in the passage.

    python -m qa.eval.bench.drop [PATH] [--limit N | --sample N --seed S] [--output-dir DIR]

PATH defaults to DROP dev in the shared data folder (:func:`qa.config.shared_folder`).

A question is kept when every gold answer parses as a number (``qa.numbers.parse_number``) and
one of those values is written in its passage, as digits or as number words
(``qa.numbers.find_numbers``): the fair test of extracting a number, as the rest of DROP needs
counting or arithmetic. The passages of every kept question are indexed as documents into a
fresh temporary index; each question goes through :func:`qa.answer.ask` and is scored by the
question-set runner (SQuAD-normalised EM and F1, the best over the gold answers).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from qa.config import DROP_DEV, shared_folder
from qa.errors import QAError
from qa.eval.answers import Item
from qa.numbers import find_numbers, parse_number
from qa.options import AskOptions, Filters
from qa.types import Document

HOW_MANY = "how many"


def numeric_gold(answers: list[str]) -> list[float] | None:
    """The values of the gold answers when every one is a number, else None."""
    values = [parse_number(a) for a in answers]
    if not values or any(v is None for v in values):
        return None
    return [v for v in values if v is not None]


def literal_questions(data: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The questions with numeric gold written in their passage, and how many of each kind."""
    passages = {p["passage_id"]: p["text"] for p in data["passages"]}
    numbers: dict[str, set[float]] = {}
    kept, numeric = [], 0
    for q in data["questions"]:
        values = numeric_gold(q["answers"])
        if values is None:
            continue
        numeric += 1
        pid = q["passage_id"]
        if pid not in numbers:
            numbers[pid] = {value for _, _, value in find_numbers(passages[pid])}
        if numbers[pid].intersection(values):
            kept.append(q)
    counts = {"questions": len(data["questions"]), "numeric": numeric, "literal": len(kept)}
    return kept, counts


def load_drop(
    path: str | Path, limit: int | None = None, sample: int | None = None, seed: int = 0
) -> tuple[list[Document], list[Item], dict[str, int]]:
    """The passages of the literal-number subset, its questions (the first ``limit``, or a
    seeded random ``sample`` in file order) and the subset sizes."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        kept, counts = literal_questions(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise QAError(f"{path} is not a DROP file as described in bench/README.md ({exc})") from exc
    passages = {p["passage_id"]: p["text"] for p in data["passages"]}
    wanted = dict.fromkeys(q["passage_id"] for q in kept)
    documents = [
        Document(
            text=passages[pid], source=f"drop:{pid}", title=f"DROP passage {pid}", format="txt"
        )
        for pid in wanted
    ]
    if sample is not None and sample < len(kept):
        chosen = set(random.Random(seed).sample(range(len(kept)), sample))
        kept = [q for i, q in enumerate(kept) if i in chosen]
    kept = kept[:limit]
    items = [
        Item(
            id=str(q["qid"]),
            question=q["question"],
            answers=tuple(q["answers"]),
            doc=f"drop:{q['passage_id']}",
            type=HOW_MANY if q["question"].lower().startswith(HOW_MANY) else "other numeric",
        )
        for q in kept
    ]
    counts["evaluated"] = len(items)
    return documents, items, counts


def format_drop(summary: dict[str, Any], counts: dict[str, int], how: str) -> str:
    """EM, F1 and abstention rate overall and for "How many" questions, and the latency."""
    lines = [
        f"DROP dev: {counts['questions']} questions, {counts['numeric']} with numeric gold, "
        f"{counts['literal']} with it in the passage; evaluated {counts['evaluated']} ({how})",
        f"{'':<16}{'n':>6}{'EM':>8}{'F1':>8}{'abstained':>11}",
    ]
    for name, block in [("all", summary), *summary["by_type"].items()]:
        lines.append(
            f"{name:<16}{block['n']:>6}{block['em']:>8.3f}{block['f1']:>8.3f}"
            f"{block['abstention_rate']:>11.3f}"
        )
    lat = summary["latency"]
    lines.append(
        f"latency p50 {lat['p50'] * 1000:.0f} ms · p95 {lat['p95'] * 1000:.0f} ms · "
        f"mean {lat['mean'] * 1000:.0f} ms · total {lat['total']:.0f} s"
    )
    return "\n".join(lines)


def _abstention_rates(summary: dict[str, Any], results: list[dict[str, Any]]) -> None:
    for name, block in [("all", summary), *summary["by_type"].items()]:
        rows = [r for r in results if name == "all" or r["type"] == name]
        block["abstention_rate"] = sum(r["abstained"] for r in rows) / len(rows) if rows else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path", nargs="?", type=Path, default=shared_folder() / DROP_DEV, help="drop-dev.json"
    )
    parser.add_argument("--limit", type=int, help="only the first N questions of the subset")
    parser.add_argument("--sample", type=int, help="a random sample of N questions of the subset")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    parser.add_argument("-k", type=int, default=6, help="passages per question (default 6)")
    parser.add_argument(
        "--own-passage",
        action="store_true",
        help="search only each question's own passage (extraction alone, as DROP poses it)",
    )
    parser.add_argument("--output-dir", type=Path, help="also write results.json, report, plots")
    parser.add_argument("--progress", action="store_true", help="progress bar on stderr")
    args = parser.parse_args(argv)

    from qa.eval import report, suite

    documents, items, counts = load_drop(args.path, args.limit, args.sample, args.seed)
    if not items:
        raise SystemExit(f"no questions selected from {args.path}")
    with suite.engine_for(None) as (engine, temporary):
        stats = suite.ingest(engine, documents, args.progress)
        own = (lambda item: Filters(sources=[item.doc])) if args.own_passage else None
        summary, results = suite.run_questions(
            engine, items, args.progress, AskOptions(args.k), per_item=own
        )
        info = suite.index_info(engine, temporary, stats)
    _abstention_rates(summary, results)
    how = "all" if len(items) == counts["literal"] else f"the first {len(items)}"
    if args.sample is not None and args.sample < counts["literal"]:
        how = f"a random sample, seed {args.seed}"
    how += ", each asked of its own passage" if args.own_passage else ", open corpus"
    print(
        f"index: {info['documents']} passages, {info['chunks']} chunks, ingest "
        f"{info['ingest_seconds']:.0f} s ({info['chunks_per_second'] or 0:.1f} chunks/s)"
    )
    print(format_drop(summary, counts, how))
    if args.output_dir:
        settings = {
            "k": args.k,
            "limit": args.limit,
            "sample": args.sample,
            "seed": args.seed,
            "own_passage": args.own_passage,
        }
        record = suite.make_record(
            "drop", "drop-literal", args.path, {**settings, **counts}, info, summary, results
        )
        report.write(record, args.output_dir)
        print(f"details: {args.output_dir / report.RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
