"""Retrieval benchmark on a BEIR folder: nDCG@10, recall@10, ingest throughput, latency.

    python -m qa.eval.bench_retrieval ../shared/bench/scifact-train

Builds a fresh index in a temporary folder (or ``--index``), ingests the corpus, then runs
every query in hybrid, dense and BM25 modes. Chunk hits are turned into a document ranking
(first occurrence wins) before scoring, as the judgments are per document.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from qa.eval.beir import BeirSet, load_beir
from qa.eval.metrics import dedupe, latency_summary, mrr, ndcg_at_k, recall_at_k
from qa.index import MODES, Index

SEARCH_DEPTH = 50  # chunks fetched per query, enough for ten distinct documents
RECALL_KS = (1, 2, 3, 5, 10, 20)  # the recall@k curve (20 is about all 50 chunks reach)


def query_results(
    index: Index, data: BeirSet, mode: str, limit: int | None = None
) -> list[dict[str, Any]]:
    """One row a query: nDCG@10, recall@10 and the recall@k curve, reciprocal rank (@10),
    the top ten documents and the search time in seconds."""
    rows = []
    for qid, text in list(data.queries.items())[:limit]:
        start = time.perf_counter()
        hits = index.search(text, k=SEARCH_DEPTH, mode=mode)
        seconds = time.perf_counter() - start
        ranking = dedupe([hit.source for hit in hits])
        relevant = data.qrels[qid]
        rows.append(
            {
                "id": qid,
                "mode": mode,
                "query": text,
                "relevant": relevant,
                "top": ranking[:10],
                "ndcg@10": ndcg_at_k(ranking, relevant, 10),
                "recall@10": recall_at_k(ranking, relevant, 10),
                "rr": mrr(ranking, relevant, 10),
                "recall": {str(k): recall_at_k(ranking, relevant, k) for k in RECALL_KS},
                "seconds": seconds,
            }
        )
    return rows


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the queries of one mode, the recall@k curve and latency percentiles (ms)."""
    n = len(rows)
    if not n:
        raise ValueError("no queries to evaluate; check the qrels split and --limit")
    mean = lambda key: sum(r[key] for r in rows) / n  # noqa: E731
    latency = latency_summary([r["seconds"] for r in rows])
    return {
        "ndcg@10": mean("ndcg@10"),
        "recall@10": mean("recall@10"),
        "mrr@10": mean("rr"),
        "recall": {k: sum(r["recall"][k] for r in rows) / n for k in rows[0]["recall"]},
        "p50_ms": latency["p50"] * 1000,
        "p95_ms": latency["p95"] * 1000,
        "queries": n,
    }


def evaluate(index: Index, data: BeirSet, mode: str, limit: int | None = None) -> dict[str, Any]:
    """Mean nDCG@10, recall@10 (and the recall@k curve), MRR@10 and latency percentiles (ms)."""
    return aggregate(query_results(index, data, mode, limit))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="BEIR folder, e.g. ../shared/bench/scifact-train")
    parser.add_argument("--index", type=Path, help="index folder (default: a fresh temporary one)")
    parser.add_argument("--chunk-size", type=int, help="tokens per chunk (default: the library's)")
    parser.add_argument("--overlap", type=int, help="overlap tokens (default: the library's)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N queries")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    args = parser.parse_args(argv)

    data = load_beir(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.index or Path(tmp) / "index"
        index = Index.open(
            path, create=True, chunk_size=args.chunk_size, chunk_overlap=args.overlap
        )
        start = time.perf_counter()
        index.add_documents(data.documents)
        took = time.perf_counter() - start
        counts = index.counts()
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
