"""``qa ask``: answer one question, or one per line from standard input."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from qa.errors import QAError
from qa.loaders import printable
from qa.types import Answer


def format_answer(answer: Answer) -> str:
    """The readable reply: the answer, then numbered sources with their quotes."""
    lines = [answer.answer, ""]
    if answer.abstained:
        lines.append(f"(confidence {answer.confidence:.2f}) Related passages:")
        for hit in answer.related:
            where = f"{printable(hit.title)} ({printable(hit.source)})"
            lines.append(f"  - {where}: {textwrap.shorten(hit.text, 160)}")
        return "\n".join(lines)
    lines.append(f"Sources (confidence {answer.confidence:.2f}):")
    for c in answer.citations:
        page = f", p. {c.page}" if c.page else ""
        where = f"{printable(c.title)} — {printable(c.source)}{page}"
        lines.append(f"  [{c.n}] {where}, characters {c.start}–{c.end}")
        lines.append(textwrap.indent(textwrap.fill(f"“{c.quote}”", 92), "      "))
    return "\n".join(lines)


def _lines(stream: BinaryIO) -> Iterator[str]:
    """Non-blank lines of ``stream`` as text; bytes that are not UTF-8 are kept (escaped), so
    the question checks reject that one line and the rest are still answered."""
    for raw in stream:
        line = raw.decode("utf-8", errors="surrogateescape").strip()
        if line:
            yield line


def run(args: argparse.Namespace, ask: Callable[..., Answer], filters: dict[str, Any]) -> int:
    """Answer ``args.question`` with ``ask`` (:func:`qa.ask` on an index, or a server's);
    with ``-`` answer each line of stdin, loading the models once."""
    one = args.question != "-"
    questions = [args.question] if one else _lines(sys.stdin.buffer)
    status = 0
    for question in questions:
        try:
            answer = ask(question, k=args.k, mode=args.mode, **filters)
        except (QAError, ValueError) as exc:
            if one:
                raise
            status = 1
            if args.json:
                print(json.dumps({"question": question, "error": str(exc)}), flush=True)
            else:
                print(f"qa: error: {printable(str(exc))}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(format_answer(answer), end="\n\n" if not one else "\n", flush=True)
    return status
