"""Sustained load: many users asking at once for minutes; latency, errors, and the server's
memory over time.

    python -m qa.eval.bench.soak [--users 50] [--seconds 120] [--warmup 30] [--think 5]

Each simulated user asks the sample questions in turn over the REST API (with a search and a
health check now and then) as fast as answers come, or ``--think`` seconds after each answer
(a person reading it). Health checks are timed apart too, the users' and a monitor's (one
every half second): under saturation they show whether the server still answers its monitor.
Requests the server turns away as busy (503) are counted apart from errors. The server's RSS
is sampled every few seconds; after ``--warmup`` seconds it should stay level (growth is what
a leak looks like). ``--serve-args`` passes options to ``qa serve`` (``"--answer-threads 4"``).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

import httpx

from qa.eval.bench.serving import Server, percentiles, sample_questions, serve

SAMPLE_EVERY = 5.0  # seconds between memory samples
PROBE_EVERY = 0.5  # seconds between a monitor's health checks


def user(
    url: str, questions: list[str], until: float, seed: int, out: dict[str, list], think: float
) -> None:
    """One user's loop; latencies and errors are appended to ``out`` (health's also apart)."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=300) as client:
        while time.monotonic() < until:
            question = rng.choice(questions)
            roll = rng.random()
            if roll < 0.1:
                method, path, body = "POST", "/api/v1/search", {"query": question}
            elif roll < 0.15:
                method, path, body = "GET", "/api/v1/health", None
            else:
                method, path, body = "POST", "/api/v1/ask", {"question": question}
            start = time.perf_counter()
            try:
                status = client.request(method, path, json=body).status_code
            except httpx.HTTPError:
                status = 0
            took = time.perf_counter() - start
            out[{200: "seconds", 503: "busy"}.get(status, "errors")].append(took)
            if status == 200 and path.endswith(("/health", "/ask")):
                out["health" if path.endswith("/health") else "answers"].append(took)
            if think:
                time.sleep(think * rng.uniform(0.5, 1.5))


def new_tallies() -> dict[str, list]:
    """Where :func:`user` and :func:`monitor` put what they time."""
    return {key: [] for key in ("seconds", "errors", "busy", "health", "answers", "probe")}


def monitor(url: str, until: float, out: dict[str, list]) -> None:
    """A monitor's health checks, PROBE_EVERY seconds apart, timed apart from the users'."""
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() < until:
            start = time.perf_counter()
            if client.get("/api/v1/health").status_code == 200:
                out["probe"].append(time.perf_counter() - start)
            time.sleep(PROBE_EVERY)


def memory(
    server: Server, until: float, started: float, samples: list[tuple[float, float]]
) -> None:
    while time.monotonic() < until:
        samples.append((time.monotonic() - started, server.rss_mb()))
        time.sleep(SAMPLE_EVERY)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--seconds", type=float, default=120, help="length of the run")
    parser.add_argument("--warmup", type=float, default=30, help="seconds before RSS counts")
    parser.add_argument("--pythonpath", help="run the server from this installed copy")
    parser.add_argument("--think", type=float, default=0.0, help="seconds between requests")
    parser.add_argument("--serve-args", default="", help="more options for qa serve")
    args = parser.parse_args(argv)
    questions = sample_questions()
    out = new_tallies()
    samples: list[tuple[float, float]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp) / "index", args.pythonpath, args.serve_args.split()) as srv,
    ):
        start_rss = srv.rss_mb()
        started = time.monotonic()
        until = started + args.seconds
        threads = [
            threading.Thread(target=user, args=(srv.url, questions, until, seed, out, args.think))
            for seed in range(args.users)
        ]
        threads.append(threading.Thread(target=memory, args=(srv, until, started, samples)))
        threads.append(threading.Thread(target=monitor, args=(srv.url, until, out)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        end_rss = srv.rss_mb()
    p50, p95, top = percentiles(out["seconds"])
    done = len(out["seconds"])
    print(
        f"{args.users} users for {args.seconds:.0f} s: {done} requests "
        f"({done / args.seconds:.1f}/s), {len(out['errors'])} errors, "
        f"{len(out['busy'])} turned away busy (503); "
        f"latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {top:.0f} ms"
    )
    for key, who in (("health", "users'"), ("probe", "a monitor's")):
        if out[key]:
            h50, h95, _ = percentiles(out[key])
            print(f"health, {who}: {len(out[key])} checks, p50 {h50:.0f} ms, p95 {h95:.0f} ms")
    print("rss MB over time: " + ", ".join(f"{t:.0f}s {mb:.0f}" for t, mb in samples))
    warm = [mb for t, mb in samples if t >= args.warmup]
    if warm:
        growth = (max(warm) - warm[0]) / warm[0]
        print(
            f"rss: {start_rss:.0f} MB idle, {warm[0]:.0f} MB after warm-up, max {max(warm):.0f}, "
            f"end {end_rss:.0f}; growth after warm-up {100 * growth:.1f}%"
        )


if __name__ == "__main__":
    main()
