"""Does the server keep answering while it stores an upload? Health and question latency
during a large upload, side by side with the same requests on an idle server, in one run.

    python -m qa.eval.bench.upload [--mb 1] [--corpus ../shared/bench/scifact-train]

The upload is one text report of ``--mb`` megabytes made of SciFact abstracts (or of the
sample reports repeated, without ``--corpus``), sent with ``wait=0``; while its job runs,
one client checks health and asks the sample questions in turn, as a user would.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx

from qa.config import sample_corpus
from qa.eval.bench.serving import percentiles, sample_questions, serve, timed


def report_text(megabytes: float, corpus: Path | None) -> str:
    """About ``megabytes`` of report text: abstracts of a BEIR corpus, or the samples."""
    if corpus is not None:
        lines = (corpus / "corpus.jsonl").open(encoding="utf-8")
        parts = (json.loads(line)["text"] for line in lines)
    else:
        samples = [p.read_text(encoding="utf-8") for p in sorted(sample_corpus().iterdir())]
        parts = (f"Update {i}. {text}" for i, text in enumerate(itertools.cycle(samples)))
    chunks, size = [], 0
    for part in parts:
        chunks.append(part)
        size += len(part.encode())
        if size >= megabytes * 2**20:
            break
    return "Upload benchmark report\n\n" + "\n\n".join(chunks)


def probe(client: httpx.Client, questions: list[str], until: float) -> dict[str, list[float]]:
    """Health and question latencies, alternating, until ``until`` (a monotonic time)."""
    seen: dict[str, list[float]] = {"health": [], "ask": []}
    for question in itertools.cycle(questions):
        if time.monotonic() >= until:
            break
        seen["health"].append(timed(client, "GET", "/api/v1/health"))
        seen["ask"].append(timed(client, "POST", "/api/v1/ask", json={"question": question}))
    return seen


def finished(client: httpx.Client, poster: threading.Thread, sent: list[httpx.Response]) -> bool:
    """Whether the upload is stored: its request has answered, and its job (if the answer
    was a 202) has ended."""
    if poster.is_alive():
        return False
    sent[0].raise_for_status()
    location = sent[0].headers.get("location")
    return location is None or client.get(location).json()["state"] in ("done", "failed")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="size of the upload (default 1)")
    parser.add_argument("--corpus", type=Path, help="BEIR folder whose abstracts fill the report")
    parser.add_argument("--idle-seconds", type=float, default=20, help="reference run length")
    parser.add_argument("--pythonpath", help="run the server from this installed copy")
    args = parser.parse_args(argv)
    text = report_text(args.mb, args.corpus)
    questions = sample_questions()
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp) / "index", args.pythonpath) as srv,
        httpx.Client(base_url=srv.url, timeout=600) as client,
    ):
        timed(client, "POST", "/api/v1/ask", json={"question": questions[0]})  # warm up
        idle = probe(client, questions, time.monotonic() + args.idle_seconds)
        files = {"files": ("upload.txt", text.encode(), "text/plain")}
        sent: list[httpx.Response] = []  # a server that stores uploads in the request
        poster = threading.Thread(  # answers only once done: keep probing while it waits
            target=lambda: sent.append(
                client.post("/api/v1/documents", params={"wait": 0}, files=files)
            )
        )
        started = time.monotonic()
        poster.start()
        busy: dict[str, list[float]] = {"health": [], "ask": []}
        while not finished(client, poster, sent):
            for kind, seconds in probe(client, questions, time.monotonic() + 1).items():
                busy[kind] += seconds
        took = time.monotonic() - started
    status = sent[0].status_code
    print(f"upload: {len(text.encode()) / 2**20:.2f} MB (HTTP {status}), stored in {took:.1f} s")
    print(
        f"{'request':<8}{'while':<9}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'p95 x':>9}"
    )
    for kind in ("health", "ask"):
        base = percentiles(idle[kind])
        for label, seconds in (("idle", idle[kind]), ("upload", busy[kind])):
            p50, p95, top = percentiles(seconds)
            ratio = p95 / base[1] if base[1] else float("nan")
            row = f"{p50:>10.1f}{p95:>10.1f}{top:>10.1f}{ratio:>9.2f}"
            print(f"{kind:<8}{label:<9}{len(seconds):>5}{row}")


if __name__ == "__main__":
    main()
