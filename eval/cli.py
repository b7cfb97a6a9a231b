"""``qa eval``: score a question set, a SQuAD file or a BEIR folder; report, save, compare.

The kind of data is told from the path (see :func:`qa.eval.suite.detect`). The summary goes to
the terminal; the details (results.json, report.md, plots) to ``--output-dir``, by default
``eval-results/<name>-<UTC timestamp>/``. This module is imported to build the ``qa`` parser:
keep heavy imports inside functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import QAError
from qa.options import AskOptions

if TYPE_CHECKING:
    from qa.generate import LLM


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        type=Path,
        help="question set (.jsonl: id, question, answers, doc, type), SQuAD v1.1/v2.0 file "
        "(.json), BEIR folder (retrieval only), or an earlier results.json to compare; SQuAD "
        "and BEIR data are indexed into a fresh temporary index unless --index is given",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        help="question sets: index this folder first (a fresh index unless --index is given)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="where to write results.json, report.md and plots "
        "(default: eval-results/<name>-<timestamp>/)",
    )
    parser.add_argument("--no-output", action="store_true", help="write no output folder")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OLD",
        help="an earlier results.json (or its folder): print what got better and worse",
    )
    parser.add_argument(
        "--min-accuracy", type=float, metavar="X", help="exit 1 when accuracy is below X (0-1)"
    )
    parser.add_argument(
        "--modes", default="hybrid,dense,bm25", help="BEIR: comma-separated retrieval modes"
    )
    parser.add_argument("--split", help="BEIR: the qrels split (default: the only one, or test)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N questions/queries")
    parser.add_argument("--chunk-size", type=int, help="tokens per chunk of a fresh index")
    parser.add_argument("--overlap", type=int, help="overlap tokens of a fresh index")
    parser.add_argument(
        "--reader",
        type=Path,
        metavar="DIR",
        help="answer with another reader, exported to DIR by python -m qa.reader.training.train "
        "--export DIR (default: the one shipped in the package)",
    )


def run(args: argparse.Namespace, options: AskOptions, llm: LLM | None) -> int:
    """``qa eval`` with the question options and language model the flags give."""
    from qa.eval import compare, report, suite

    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be at least 1, got {args.limit}")
    kind = suite.detect(args.data)
    if kind == "results":
        if not args.compare:
            raise QAError(f"{args.data} holds earlier results; pass --compare OLD to compare them")
        record, out = compare.load_record(args.data), None
    else:
        if kind != "questions" and args.corpus is not None:
            raise ValueError("--corpus applies to question sets; SQuAD and BEIR data hold theirs")
        if kind == "beir" and args.min_accuracy is not None:
            raise ValueError("--min-accuracy applies to question sets, not to BEIR retrieval")
        record = _evaluate(args, kind, options, llm)
        out = None if args.no_output else args.output_dir or report.default_output_dir(record)
        if out is not None:
            report.write(record, out)
    diff = compare.compare_runs(compare.load_record(args.compare), record) if args.compare else None
    if args.json:
        shown = {k: v for k, v in record.items() if k != "results"}
        print(json.dumps({**shown, "output_dir": str(out) if out else None, "compare": diff}))
    else:
        print(report.format_text(record))
        if out is not None:
            print(f"details: {out / report.RESULTS} · report: {out / report.REPORT}")
        if diff is not None:
            print(compare.format_comparison(diff))
    accuracy = record["summary"].get("accuracy")
    if args.min_accuracy is not None and accuracy is not None and accuracy < args.min_accuracy:
        print(
            f"qa: error: accuracy {accuracy:.3f} is below --min-accuracy {args.min_accuracy}",
            file=sys.stderr,
        )
        return 1
    return 0


def _evaluate(
    args: argparse.Namespace, kind: str, options: AskOptions, llm: LLM | None
) -> dict[str, Any]:
    from qa.eval.suite import evaluate

    return evaluate(
        args.data,
        index=args.index,
        corpus=args.corpus if kind == "questions" else None,
        model=args.model,
        chunk_size=args.chunk_size,
        chunk_overlap=args.overlap,
        modes=[m.strip() for m in args.modes.split(",") if m.strip()],
        split=args.split,
        limit=args.limit,
        progress=True,  # bars on a terminal, a line every ten seconds in a log
        options=options,
        reader=args.reader,
        llm=llm,
    )
