"""Issue 27's figures in one run, each beside its plain reference, with the machine's load:
ingest against plain encoding, answers against transformers' reader, BM25 and dense search
against bm25s and FAISS (with recall), a removal against a plain SQLite delete, and the
saturation curve.

    python -m qa.eval.bench.hardware [--docs 600] [--sizes 100000] [--keep DIR]
        [--users 1,2,4,8] [--seconds 20]

Each part is its own benchmark (``ingest``, ``answer``, ``scale``, ``saturation``), run in
turn in a process of its own so that none inherits another's memory or threads; the load
average is printed before each part and at the end (the machines are shared: read the times
beside their references and the load, not alone). ``--keep`` keeps the scale benchmark's
indexes for the next run (a 1M index takes over half an hour to build on two cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min), {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default="600", help="abstracts the ingest part stores")
    parser.add_argument("--sizes", default="100000", help="chunk counts of the scale part")
    parser.add_argument("--keep", help="keep the scale part's indexes here (reused when there)")
    parser.add_argument("--users", default="1,2,4,8", help="loads of the saturation part")
    parser.add_argument("--seconds", default="20", help="timed seconds per load")
    args = parser.parse_args(argv)
    keep = ["--keep", args.keep] if args.keep else []
    parts = [
        ("ingest", ["--docs", args.docs]),
        ("answer", ["--rounds", "2"]),
        ("scale", ["--sizes", args.sizes, *keep]),
        ("saturation", ["--users", args.users, "--seconds", args.seconds]),
    ]
    for name, options in parts:
        print(f"\n## {name} ({load()})", flush=True)
        done = subprocess.run([sys.executable, "-m", f"qa.eval.bench.{name}", *options])
        if done.returncode:
            raise SystemExit(f"the {name} part failed (exit code {done.returncode})")
    print(f"\nend ({load()})")


if __name__ == "__main__":
    main()
