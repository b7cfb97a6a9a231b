"""``qa eval``: score a question set against an index, print a summary, save the details.

This module is imported to build the ``qa`` parser: keep heavy imports inside functions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from qa.errors import QAError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("questions", type=Path, help="JSONL: id, question, answers, doc, type")
    parser.add_argument("--corpus", type=Path, help="build a fresh index from this folder")
    parser.add_argument("--output", type=Path, help="write every per-question result here")
    parser.add_argument("--min-accuracy", type=float, help="exit 1 below this accuracy")


def run(args: argparse.Namespace, open_index: Any, filters: dict[str, Any]) -> int:
    from tqdm import tqdm

    from qa.eval.answers import format_summary, load_questions, run, summarize
    from qa.index import Index

    items = load_questions(args.questions)
    if not items:
        raise QAError(f"{args.questions} holds no questions")
    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus:
            index = Index.open(Path(tmp) / "index", create=True, model=args.model)
            report = index.add([args.corpus])
            if not report.added:
                raise QAError(f"no reports could be read from {args.corpus}")
        else:
            index = open_index(args)

        def progress(xs: Any) -> Any:
            return tqdm(
                xs, total=len(items), desc="asking", unit="q", disable=not sys.stderr.isatty()
            )

        results = run(index, items, progress, k=args.k, mode=args.mode, **filters)
    summary = summarize(results)
    if args.output:
        args.output.write_text(
            json.dumps({"summary": summary, "results": results}, indent=2, ensure_ascii=False),
            encoding="utf-8",
        )
    print(json.dumps(summary) if args.json else format_summary(summary))
    if args.min_accuracy is not None and summary["accuracy"] < args.min_accuracy:
        print(
            f"qa: error: accuracy {summary['accuracy']:.3f} is below --min-accuracy "
            f"{args.min_accuracy}",
            file=sys.stderr,
        )
        return 1
    return 0
