"""The ``qa`` command: ingest reports, search and ask them, serve the chat, evaluate.

Errors are one line on stderr (``qa: error: ...``) and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import INDEX_ENV, default_index_location
from qa.errors import QAError
from qa.eval import cli as eval_cli
from qa.generate.options import add_llm_options, llm_of
from qa.loaders import printable
from qa.options import ASK_K, MODES, SEARCH_K, AskOptions, Filters, SearchOptions, whole
from qa.progress import reporter
from qa.types import MAX_CATALOG, ORDERS
from qa.ui import cli as ui_cli

if TYPE_CHECKING:
    from qa.engine import Answering, Engine

Handler = Callable[[argparse.Namespace], int]
DEBUG_ENV = "QA_DEBUG"


def _open(args: argparse.Namespace, create: bool = False) -> Engine:
    """The engine over ``--index``, with the language model the options name (if any)."""
    from qa.engine import Engine

    return Engine.open(args.index, create=create, model=args.model, llm=llm_of(args))


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False))


def cmd_ingest(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:  # before the index is created: a typo leaves nothing behind
        raise QAError(f"{', '.join(missing)}: file not found")
    index = _open(args, create=True)
    report = index.add(args.paths, progress=reporter())
    if args.json:
        _print_json(report.to_dict())
    else:
        for error in report.errors:
            print(
                f"qa: skipped {printable(error.path)}: {printable(error.reason)}", file=sys.stderr
            )
        counts = index.counts()
        print(
            f"added {len(report.added)}, replaced {len(report.replaced)}, "
            f"unchanged {len(report.unchanged)}, skipped {len(report.errors)}; index at "
            f"{printable(index.location)} holds {counts['documents']} documents, "
            f"{counts['chunks']} chunks"
        )
    return 1 if report.errors else 0


def _filters(args: argparse.Namespace) -> Filters:
    """The filter flags, checked before anything opens."""
    return Filters(
        args.doc or (), args.source or (), args.date_from, args.date_to, ("--from", "--to")
    )


def _answering(args: argparse.Namespace) -> Answering:
    """What answers: the server named by ``--server``; else a running ``qa serve`` of the
    same index (:mod:`qa.servers`; not with ``--no-server``, ``--model`` or a language
    model of its own); else the index opened here."""
    from qa.client import Client

    if args.server:
        for flag, given in (
            ("--index", args.index),
            ("--model", args.model),
            ("--llm-url", getattr(args, "llm_url", None)),
        ):
            if given:
                raise ValueError(f"{flag} goes to `qa serve`, not to `qa {args.command} --server`")
        return Client(args.server)
    if not (args.no_server or args.model or getattr(args, "llm_url", None)):
        from qa.servers import find

        url = find(args.index or default_index_location())
        if url:
            print(f"qa: asking {url}, which serves this index (--no-server: here)", file=sys.stderr)
            return Client(url)
    return _open(args)


def cmd_search(args: argparse.Namespace) -> int:
    options = SearchOptions(args.k, args.mode, _filters(args))  # checked before the index opens
    hits = _answering(args).search(args.query, options)
    if args.json:
        _print_json({"query": args.query, "mode": args.mode, "hits": [h.to_dict() for h in hits]})
        return 0
    if not hits:
        print("no passages found")
    for hit in hits:
        page = f", p. {hit.page}" if hit.page else ""
        scores = " · ".join(
            f"{name} {value:.3f}"
            for name, value in (("dense", hit.dense_score), ("bm25", hit.bm25_score))
            if value is not None
        )
        where = f"{printable(hit.title)} ({printable(hit.source)}{page})"
        print(f"{hit.rank}. {where} [{hit.start}:{hit.end}]")
        print(f"   score {hit.score:.4f} · {scores}")
        print(textwrap.indent(textwrap.fill(hit.text, 96), "   "), end="\n\n")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.answer.cli import run

    options = AskOptions(args.k, args.mode, _filters(args))  # checked before the index opens
    return run(args, _answering(args), options)


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.eval.cli import run

    return run(args, AskOptions(args.k, args.mode, _filters(args)), llm_of(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.ui.cli import run

    return run(args)


def cmd_docs(args: argparse.Namespace) -> int:
    listing = _open(args).catalog(
        args.contains, limit=args.limit, offset=args.offset, order=args.sort
    )
    if args.json:
        _print_json([info.to_dict() for info in listing.documents])
        return 0
    for doc in listing.documents:
        title = printable(doc.title)[:60]
        print(f"{doc.id}  {doc.date or '----------'}  {title:<60}  {printable(doc.source)}")
    shown = len(listing.documents)
    if shown and shown < listing.total:
        first, last = args.offset + 1, args.offset + shown
        print(f"documents {first}-{last} of {listing.total} (--offset and --limit page on)")
    else:
        print(f"{shown} of {listing.total} documents" if args.offset else f"{shown} documents")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    doc = _open(args).document(args.document)
    if args.json:
        _print_json(doc.to_dict())
    else:
        sys.stdout.write(doc.text + "\n")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    index = _open(args)
    for doc in index.remove_many(args.documents):  # all found, or none removed
        print(f"removed {doc.id} ({printable(doc.source)})")
    return 0


def _add_server_option(parser: argparse.ArgumentParser) -> None:
    from qa.client import SERVER_ENV

    parser.add_argument(
        "--server",
        default=os.environ.get(SERVER_ENV) or None,
        metavar="URL",
        help=f"a running `qa serve` to ask, instead of loading the models (default: ${SERVER_ENV}; "
        "without it, a `qa serve` of the same index on this machine is asked)",
    )
    parser.add_argument(
        "--no-server",
        action="store_true",
        help="load the models and ask here, even when a `qa serve` of the index runs",
    )


def _add_filter_options(parser: argparse.ArgumentParser, k: int = SEARCH_K) -> None:
    parser.add_argument("-k", type=int, default=k, help=f"number of passages (default {k})")
    parser.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval mode")
    parser.add_argument("--doc", action="append", help="only this document id (repeatable)")
    parser.add_argument("--source", action="append", help="only sources containing this text")
    parser.add_argument("--from", dest="date_from", help="only documents dated on/after YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", help="only documents dated on/before YYYY-MM-DD")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Question answering over news reports, with verbatim citations."
    )
    from qa import __version__

    parser.add_argument("--version", action="version", version=f"qa (reportqa) {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--index",
        default=None,
        help=(
            "index folder, or milvus:///path/file.db (Milvus Lite) or milvus://host:port/name "
            f"(default: ${INDEX_ENV} or {default_index_location()})"
        ),
    )
    common.add_argument("--model", help="embedding model path (default: the bundled MiniLM)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help: str, json: bool = True) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help, description=help)
        command.set_defaults(handler=handler, json=False)
        if json:
            command.add_argument("--json", action="store_true", help="machine-readable output")
        return command

    ingest = add("ingest", cmd_ingest, "add report files or folders (txt, md, html, pdf)")
    ingest.add_argument("paths", nargs="+", help="files or folders to ingest")
    search = add("search", cmd_search, "find the passages that best match a query")
    search.add_argument("query", help="what to look for")
    _add_filter_options(search)
    _add_server_option(search)
    ask = add("ask", cmd_ask, "answer a question with cited sources (- reads stdin)")
    ask.add_argument("question", help="the question, or - for one question per line on stdin")
    _add_filter_options(ask, k=ASK_K)
    _add_server_option(ask)
    add_llm_options(ask)
    evaluate = add("eval", cmd_eval, "evaluate answers or retrieval on a question set")
    eval_cli.add_arguments(evaluate)
    _add_filter_options(evaluate, k=ASK_K)
    add_llm_options(evaluate)
    serve = add("serve", cmd_serve, "serve the web chat and the REST API", json=False)
    ui_cli.add_arguments(serve)
    add_llm_options(serve)
    docs = add("docs", cmd_docs, "list the stored documents, ordered by source")
    docs.add_argument("contains", nargs="?", default="", help="only titles or sources with this")
    docs.add_argument("--limit", type=whole(1, MAX_CATALOG), default=1000, help="at most this many")
    docs.add_argument("--offset", type=whole(0), default=0, help="skip this many first")
    docs.add_argument(
        "--sort", choices=ORDERS, default="source", help="by source (default), title, or date"
    )
    show = add("show", cmd_show, "print a stored document's text")
    show.add_argument("document", help="document id (or unique prefix) or source")
    remove = add("remove", cmd_remove, "remove documents from the index", json=False)
    remove.add_argument("documents", nargs="+", help="document ids (or unique prefixes) or sources")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except BrokenPipeError:  # the reader went away (`qa ask ... | head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (QAError, ValueError, OSError) as exc:
        print(f"qa: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"qa: error: the index database failed: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, with the traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"qa: internal error: {type(exc).__name__}: {printable(str(exc))} (set "
            f"{DEBUG_ENV}=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
