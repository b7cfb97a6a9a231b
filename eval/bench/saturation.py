"""The saturation curve: answers a second, their latency, and a monitor's health checks as
more users ask at once, with no time between questions.

    python -m qa.eval.bench.saturation [--users 1,2,4,8,16] [--seconds 30] [--pythonpath DIR]

One server on the sample reports serves every step, users looping as in
:mod:`qa.eval.bench.soak` (mostly questions, some searches and health checks); each step
runs ``--seconds`` after a few seconds' warm-up at that load. The last row is the most the
server answers; health beside it says whether a monitor still gets through.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from qa.eval.bench.serving import percentiles, sample_questions, serve
from qa.eval.bench.soak import monitor, new_tallies, user

WARMUP = 5.0  # seconds at each load before it is timed


def step(url: str, users: int, seconds: float, questions: list[str]) -> dict[str, list]:
    """What ``users`` looping users and a monitor saw in ``seconds``, after a warm-up."""
    warm = time.monotonic() + WARMUP
    out, discarded = new_tallies(), new_tallies()
    until = warm + seconds
    threads = [
        threading.Thread(target=user, args=(url, questions, warm, seed, discarded, 0.0))
        for seed in range(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:  # each ends after its request under way at the warm-up's end
        thread.join()
    threads = [
        threading.Thread(target=user, args=(url, questions, until, seed, out, 0.0))
        for seed in range(users)
    ]
    threads.append(threading.Thread(target=monitor, args=(url, until, out)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1,2,4,8,16", help="loads, comma-separated")
    parser.add_argument("--seconds", type=float, default=30, help="timed seconds per load")
    parser.add_argument("--pythonpath", help="run the server from this installed copy")
    parser.add_argument("--serve-args", default="", help="more options for qa serve")
    args = parser.parse_args(argv)
    questions = sample_questions()
    print(
        f"{'users':>5} {'answers/s':>9} {'answer p50':>10} {'answer p95':>10} {'busy':>5} "
        f"{'errors':>6} {'health p50':>10} {'health p95':>10}  (ms; health: a monitor's checks)"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp) / "index", args.pythonpath, args.serve_args.split()) as srv,
    ):
        for users in (int(n) for n in args.users.split(",")):
            out = step(srv.url, users, args.seconds, questions)
            a50, a95, _ = percentiles(out["answers"])
            h50, h95, _ = percentiles(out["probe"])
            print(
                f"{users:>5} {len(out['answers']) / args.seconds:>9.2f} {a50:>10.0f} "
                f"{a95:>10.0f} {len(out['busy']):>5} {len(out['errors']):>6} {h50:>10.0f} "
                f"{h95:>10.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
