"""A ``qa serve`` process for the load benchmarks: started on a fresh index, timed, measured.

The benchmarks drive the server over HTTP as users do, from another process, so what they
measure includes the web layer. ``--pythonpath`` runs another checkout's code (for a before
and after in one session): ``pip install --no-deps --target DIR <checkout>``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import httpx


def sample_questions() -> list[str]:
    """The questions of the sample question set, to ask the sample reports."""
    text = files("qa.eval").joinpath("data", "sample_questions.jsonl").read_text(encoding="utf-8")
    return [json.loads(line)["question"] for line in text.splitlines() if line.strip()]


@dataclass
class Server:
    """A running server: its base URL and process."""

    url: str
    process: subprocess.Popen[bytes]

    def rss_mb(self) -> float:
        """The server process's resident memory, in MB (from /proc)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(
    index: Path, pythonpath: str | None = None, options: Sequence[str] = (), timeout: float = 180
) -> Iterator[Server]:
    """Start ``qa serve`` on ``index`` (an empty one gets the sample reports), with more
    ``options``, and wait until it answers; stopped on exit."""
    port = free_port()
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = [sys.executable, "-m", "qa.cli", "serve", "--index", str(index), "--port", str(port)]
    cmd += list(options)
    # run from the other copy's folder: `python -m` puts the working folder first on the path,
    # where this checkout's own `qa` would win over PYTHONPATH's
    folder = pythonpath or None
    process = subprocess.Popen(cmd, env=env, cwd=folder, stderr=subprocess.DEVNULL)
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped with exit code {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/api/v1/health", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within {timeout:.0f} s")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def timed(client: httpx.Client, method: str, path: str, **kwargs: object) -> float:
    """Seconds one request took; an error status raises."""
    start = time.perf_counter()
    client.request(method, path, **kwargs).raise_for_status()  # type: ignore[arg-type]
    return time.perf_counter() - start


def percentiles(seconds: list[float]) -> tuple[float, float, float]:
    """p50, p95 and max, in milliseconds."""
    if not seconds:
        return (float("nan"),) * 3
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000
