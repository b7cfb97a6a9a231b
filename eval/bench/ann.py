"""Approximate against exact dense search on an index's real embeddings: recall@10 and time
per query of the HNSW graph for several candidate counts (efSearch), exact search timed beside
it in the same run.

    python -m qa.eval.bench.ann INDEX [--queries QUERIES.jsonl] [--copies 1]

The vectors are the index's stored chunk embeddings; the queries are the questions of a BEIR
``queries.jsonl`` embedded by the index's model (default: 200 stored vectors, lightly
perturbed). ``--copies N`` adds N-1 noisy copies of every vector (Gaussian noise, each copy
renormalised) to look at a larger collection with the same shape.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import faiss
import numpy as np

from qa.index import Index
from qa.index.core import local_backend
from qa.index.segment import vector_index

CANDIDATES = (64, 128, 256, 512)  # efSearch values tried
K = 10


def load_vectors(path: Path) -> tuple[np.ndarray, Index]:
    """The index's stored chunk embeddings, in the order they were stored, and the index."""
    index = Index.open(path)
    vectors = [doc.embeddings for doc in local_backend(index).embedded_documents()]
    return np.ascontiguousarray(np.concatenate(vectors), dtype=np.float32), index


def grown(vectors: np.ndarray, copies: int, rng: np.random.Generator) -> np.ndarray:
    parts = [vectors]
    for _ in range(copies - 1):
        noisy = vectors + rng.normal(scale=0.05, size=vectors.shape).astype(np.float32)
        parts.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return np.ascontiguousarray(np.concatenate(parts))


def per_query(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, float]:
    """Top-k rows of each query, and the median milliseconds of one query."""
    found, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        _, rows = index.search(query[None, :], K)
        seconds.append(time.perf_counter() - started)
        found.append(rows[0])
    return np.array(found), float(np.median(seconds) * 1000)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path, help="an index folder")
    parser.add_argument("--queries", type=Path, help="BEIR queries.jsonl to embed")
    parser.add_argument("--copies", type=int, default=1, help="noisy copies of every vector")
    args = parser.parse_args(argv)
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    vectors, index = load_vectors(args.index)
    if args.queries:
        with open(args.queries, encoding="utf-8") as lines:
            texts = [json.loads(line)["text"] for line in lines]
        queries = index.embedder.encode(texts)
    else:
        picked = vectors[rng.choice(len(vectors), 200, replace=False)]
        queries = picked + rng.normal(scale=0.05, size=picked.shape).astype(np.float32)
    vectors = grown(vectors, args.copies, rng)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth, exact_ms = per_query(exact, queries)
    started = time.perf_counter()
    graph = vector_index(vectors)
    built = time.perf_counter() - started
    if not isinstance(graph, faiss.IndexHNSW):
        raise SystemExit(f"{len(vectors)} vectors: below the ANN threshold; use --copies")
    faiss.omp_set_num_threads(1)
    print(
        f"{len(vectors)} vectors, {len(queries)} queries, graph built in {built:.1f} s; "
        f"exact search {exact_ms:.2f} ms a query"
    )
    print(f"{'efSearch':>9} {'recall@10':>10} {'ms':>7} {'x exact':>8}")
    for candidates in CANDIDATES:
        graph.hnsw.efSearch = candidates
        found, ms = per_query(graph, queries)
        recall = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)])
        print(f"{candidates:>9} {recall:>10.3f} {ms:>7.2f} {ms / exact_ms:>8.3f}")
    index.close()


if __name__ == "__main__":
    main()
