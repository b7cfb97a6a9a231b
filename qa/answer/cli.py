"""``qa ask``: answer one question, or one per line from standard input."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from qa.answer.verify import confidence_level
from qa.errors import QAError
from qa.loaders import printable
from qa.options import AskOptions
from qa.types import Answer, Generated

if TYPE_CHECKING:
    from qa.engine import Answering


def format_answer(answer: Answer) -> str:
    """The readable reply: the answer, then numbered sources with their quotes."""
    lines = [answer.answer, ""]
    if answer.abstained:
        lines.append(f"(confidence {answer.confidence:.2f}) Related passages:")
        for hit in answer.related:
            where = f"{printable(hit.title)} ({printable(hit.source)})"
            lines.append(f"  - {where}: {textwrap.shorten(hit.text, 160)}")
        return "\n".join(lines)
    level = confidence_level(answer.confidence)
    lines.append(f"Sources (confidence {answer.confidence:.2f}, {level}):")
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


def run(args: argparse.Namespace, answering: Answering, options: AskOptions) -> int:
    """Answer ``args.question`` with ``answering`` (an engine here, or a server), printing its
    events as they come; with ``-`` answer each line of stdin, loading the models once."""
    one = args.question != "-"
    questions = [args.question] if one else _lines(sys.stdin.buffer)
    status = 0
    for question in questions:
        try:
            events = iter(answering.ask_stream(question, options))
            answer = next(events)
            assert isinstance(answer, Answer)
        except (QAError, ValueError) as exc:
            if one:
                raise
            status = 1
            if args.json:
                print(json.dumps({"question": question, "error": str(exc)}), flush=True)
            else:
                print(f"qa: error: {printable(str(exc))}", file=sys.stderr)
            continue
        if not args.json:
            print(format_answer(answer), flush=True)
        started = False
        for event in events:  # a language model's answer, as it is written, then checked
            if isinstance(event, Answer):
                answer = event
            elif not args.json:
                if not started:
                    print("\nWritten by a language model from the passages:", flush=True)
                    started = True
                print(printable(event, keep="\n"), end="", flush=True)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        elif answer.generated is not None:
            print("\n" + format_checked(answer.generated), flush=True)
        if not args.json and not one:
            print()
    return status


def format_checked(generated: Generated) -> str:
    """What the check of a generated answer found, under the text as it was written."""
    if generated.note:
        return f"({generated.note} The answer above is from the reports alone.)"
    lines = [f"(by {printable(generated.model)}; each sentence checked against its passages:"]
    for claim in generated.claims:
        if not claim.supported:
            why = "; ".join(claim.problems)
            lines.append(f"  NOT SUPPORTED: {printable(claim.text)} — {printable(why)}")
    removed = sorted({n for c in generated.claims for n in c.removed})
    if removed:
        lines.append("  removed citations to no passage: " + ", ".join(f"[{n}]" for n in removed))
    supported = sum(c.supported for c in generated.claims)
    lines.append(f"  {supported} of {len(generated.claims)} sentences supported)")
    return "\n".join(lines)
