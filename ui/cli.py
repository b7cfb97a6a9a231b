"""``qa serve``: the web chat at / and the REST API under /api/v1/, in one process.

This module is imported to build the ``qa`` parser: keep heavy imports (gradio) inside ``run``.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
import time

from qa.config import default_chats_location
from qa.errors import QAError
from qa.generate.options import llm_of
from qa.options import whole
from qa.servers import registered
from qa.ui.admission import WAITING, Admission, cores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: localhost)")
    parser.add_argument("--port", type=port, default=7860, help="port, 1-65535 (default 7860)")
    parser.add_argument(
        "--auth",
        action="append",
        default=[],
        metavar="USER:PASSWORD",
        help="require HTTP Basic login for the chat and the API (repeatable)",
    )
    parser.add_argument(
        "--auth-file",
        action="append",
        default=[],
        metavar="FILE",
        help="read user:password lines from FILE (# starts a comment)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=20,
        metavar="MB",
        help="largest report file accepted for upload (default 20)",
    )
    parser.add_argument(
        "--answer-threads",
        type=whole(1),
        metavar="N",
        help="questions and searches worked on at once; more wait their turn, in order, "
        f"and past {WAITING} waiting the server answers 503 (default: the CPU cores, {cores()})",
    )
    parser.add_argument(
        "--chats",
        metavar="FILE",
        help="where the chat keeps each user's conversations (default: chats.sqlite3 in the "
        "data folder, ~/.local/share/reportqa/)",
    )
    parser.add_argument(
        "--no-sample",
        action="store_true",
        help="leave an empty index empty (by default it gets the sample reports)",
    )


def port(text: str) -> int:
    """A TCP port number, for argparse: 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; use 1-65535") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is out of range; use a port from 1 to 65535")
    return value


def exposure_warning(host: str, users: dict[str, str]) -> str | None:
    """What to warn about when serving on ``host``: an address other machines may reach,
    without a login. None on a loopback address or with users."""
    from qa.ui.guards import trusted_hosts

    if users or trusted_hosts(host) is not None:
        return None
    return (
        f"serving on {host} without --auth: anyone who can reach it can read and change "
        "the index; add --auth USER:PASSWORD or --auth-file FILE"
    )


def run(args: argparse.Namespace) -> int:
    """Load the index and model once, then serve until interrupted."""
    started = time.perf_counter()
    from qa.ui.auth import parse_credentials

    users = parse_credentials(args.auth, args.auth_file)
    llm = llm_of(args)
    if args.max_upload_mb <= 0:
        raise ValueError(f"--max-upload-mb must be positive, got {args.max_upload_mb:g}")

    listening = listen(args.host, args.port)  # before anything loads: a busy port fails now
    try:
        import uvicorn

        from qa.ui.conversations import ChatStore
        from qa.ui.server import create_app
        from qa.ui.service import MB, Service, open_engine

        engine, seeded = open_engine(
            args.index, model=args.model, sample=not args.no_sample, llm=llm
        )
    except BaseException:
        listening.close()
        raise
    try:
        chat_store = ChatStore(args.chats or default_chats_location())
    except BaseException:
        listening.close()
        engine.close()
        raise
    try:
        if seeded is not None:
            print(
                f"qa: the index was empty: added {len(seeded.added)} sample reports "
                "(--no-sample leaves it empty)",
                file=sys.stderr,
            )
        admission = Admission(args.answer_threads)
        service = Service(engine, int(args.max_upload_mb * MB), admission=admission)
        app = create_app(service, users or None, host=args.host, chats=chat_store)
        warning = exposure_warning(args.host, users)
        if warning:
            print(f"qa: warning: {warning}", file=sys.stderr)
        counts = engine.counts()
        url = local_url(args.host, args.port)
        if llm is not None:
            print(f"qa: answers also written by {llm.model} at {llm.url}", file=sys.stderr)
        print(
            f"qa: {counts['documents']} reports in {engine.location}\n"
            f"qa: chat at {url}/ and API docs at {url}/docs "
            f"(ready in {time.perf_counter() - started:.1f} s; Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        with registered(engine.location, url, bool(users)):
            uvicorn.Server(config).run(sockets=[listening])
    finally:
        listening.close()
        engine.close()
        chat_store.close()
    return 0


def local_url(host: str, port: int) -> str:
    """The server's URL for a command on this machine: a wildcard address as loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or QAError saying the port is taken (or why not)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise QAError(f"cannot listen on {host}: {exc.strerror}") from None
    # TCP named: asyncio turns Nagle off (TCP_NODELAY) only on connections of a socket that
    # says it is TCP; left on, a response waited ~40 ms for the client's delayed ACK whenever
    # a kept-alive connection asked again at once
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not past a live listener
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise QAError(
                f"port {port} on {host} is in use (another qa serve?); pick another with --port"
            ) from None
        raise QAError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock
