"""Retrieval benchmark on a BEIR folder: nDCG@10, recall@10, ingest throughput, latency.

    python -m qa.eval.bench.retrieval ../shared/bench/scifact-train

Builds a fresh index in a temporary folder (or ``--index``), ingests the corpus (with a
progress bar when stderr is a terminal), then runs every query (or the first ``--limit``) in
hybrid, dense and BM25 modes. The loading and scoring live in :mod:`qa.eval.beir`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from qa.eval.beir import evaluate, load_beir
from qa.eval.suite import ingest
from qa.index import Index
from qa.options import MODES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="BEIR folder, e.g. ../shared/bench/scifact-train")
    parser.add_argument(
        "--index", help="index folder or milvus:// location (default: a fresh temporary folder)"
    )
    parser.add_argument("--chunk-size", type=int, help="tokens per chunk (default: the library's)")
    parser.add_argument("--overlap", type=int, help="overlap tokens (default: the library's)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N queries")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be at least 1, got {args.limit}")

    data = load_beir(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.index or str(Path(tmp) / "index")
        index = Index.open(
            path, create=True, chunk_size=args.chunk_size, chunk_overlap=args.overlap
        )
        stats = ingest(index, data.documents, progress=sys.stderr.isatty())
        counts, took = index.counts(), stats["ingest_seconds"]
        print(
            f"ingest: {counts['documents']} documents, {counts['chunks']} chunks in {took:.1f} s "
            f"= {counts['chunks'] / took:.1f} chunks/s "
            f"(chunk size {index.manifest.chunk_size}, overlap {index.manifest.chunk_overlap})"
        )
        index.search("warm up", k=1)
        print(f"{'mode':<8}{'nDCG@10':>9}{'R@10':>8}{'MRR@10':>8}{'p50 ms':>9}{'p95 ms':>9}")
        for mode in args.modes.split(","):
            r = evaluate(index, data, mode, args.limit)
            print(
                f"{mode:<8}{r['ndcg@10']:>9.4f}{r['recall@10']:>8.4f}{r['mrr@10']:>8.4f}"
                f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}"
            )
        index.close()


if __name__ == "__main__":
    main()
