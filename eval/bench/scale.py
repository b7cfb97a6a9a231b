"""How the index behaves as it grows: search, add, remove, open, memory and disk at 10k, 100k
and (with ``--sizes``) 1M chunks, side by side with plain FAISS and bm25s on the same data.

    python -m qa.eval.bench.scale [--sizes 10000,100000] [--queries 50] [--keep DIR]
        [--corpus BEIR_FOLDER] [--milvus]

Chunks are sentences of SciFact abstracts (``--corpus``, default SciFact train in the shared
data folder, :func:`qa.config.shared_folder`) recombined (real vocabulary for BM25), one short
document per chunk, with random unit vectors (the dense part's cost does not depend on what
the vectors mean); they go in through the index's own write path, in batches as an ingest
commits them, so segments and merges are those a real index would have. Queries are SciFact
claims, embedded by the bundled model: search times include the query embedding. Open time
and memory (RSS) come from a fresh process, as a user's ``qa`` would see them.

With ``--milvus`` the same indexes are built in Milvus Lite files served by the native engine
(``milvus:///DIR/index-N.db``): memory is then the engine process's (VmRSS after the
searches), disk the data file's, and there are no segments of ours to count.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import SCIFACT_TRAIN, shared_folder
from qa.embed import Embedder
from qa.eval.bench.serving import percentiles
from qa.index import Index
from qa.index.core import local_backend
from qa.index.store import NewDocument
from qa.types import Document

BATCH = 1000  # chunks per commit, as an ingest commits them
PAIRS = ("hybrid", "dense", "faiss", "bm25", "bm25s")


def sentences(corpus: Path) -> list[str]:
    found = []
    with open(corpus / "corpus.jsonl", encoding="utf-8") as lines:
        for line in lines:
            found += [s.strip() + "." for s in json.loads(line)["text"].split(". ") if s.strip()]
    return found


def chunk_texts(pool: list[str], n: int, seed: int = 0) -> Iterator[str]:
    """``n`` texts of three to six sentences drawn from ``pool``."""
    rng = random.Random(seed)
    for _ in range(n):
        yield " ".join(rng.sample(pool, rng.randint(3, 6)))


def unit_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def new_documents(texts: list[str], vectors: np.ndarray, first: int) -> list[NewDocument]:
    docs = [
        Document(text, f"bench/{first + i}.txt", f"Chunk {first + i}", "txt")
        for i, text in enumerate(texts)
    ]
    return [NewDocument(d, [(0, len(d.text))], v[None, :]) for d, v in zip(docs, vectors)]


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def engine_rss(location: str) -> int:
    """Resident memory of the native Milvus engine serving ``location`` (bytes)."""
    from qa.index.milvus import lite_engine

    status = Path(f"/proc/{lite_engine(location).pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) * 1024


def open_in_fresh_process(path: str) -> dict[str, float]:
    """Open time (imports excluded), the first hybrid search's time (it waits for the check
    of the derived files the open started), and resident memory after it, in bytes:
    all of it (VmRSS) and the process's own (RssAnon; the rest is files mapped from the page
    cache, which the kernel shares and can drop), in a new process."""
    code = (
        "import json, sys, time\n"
        "from qa.index import Index\n"
        "from qa.embed import load_embedder\n"
        "e = load_embedder()\n"
        "t = time.perf_counter(); ix = Index.open(sys.argv[1], embedder=e)\n"
        "opened = time.perf_counter() - t\n"
        "t = time.perf_counter(); ix.search('vitamin D deficiency', k=5)\n"
        "first = time.perf_counter() - t\n"
        "status = open('/proc/self/status').read()\n"
        "kb = lambda key: int(status.split(key + ':')[1].split()[0]) * 1024\n"
        "print(json.dumps({'open_s': opened, 'first_s': first, 'rss': kb('VmRSS'), "
        "'own': kb('RssAnon')}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def references(
    vectors: np.ndarray, texts: list[str], queries: list[str], rng: np.random.Generator
) -> dict[str, tuple[float, float]]:
    """p50/p95 of plain FAISS (exact, the same vectors) and bm25s (the same tokens)."""
    import faiss

    from qa.index.sparse import bm25_model, tokenize

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    query_vectors = unit_vectors(len(queries), vectors.shape[1], rng)
    exact = [s for q in query_vectors for s in timed(partial(flat.search, q[None, :], 10), 1)]
    model = bm25_model(texts)
    tokens = [[t for t in tokenize([q])[0] if t in model.vocab_dict] for q in queries]
    bm25 = [
        s
        for t in tokens
        if t
        for s in timed(partial(model.retrieve, [t], k=10, show_progress=False), 1)
    ]
    return {"faiss": percentiles(exact)[:2], "bm25s": percentiles(bm25)[:2]}


def bench_size(
    n: int, folder: Path, pool: list[str], queries: list[str], embedder: Embedder, milvus: bool
) -> dict[str, Any]:
    rng = np.random.default_rng(n)
    texts = list(chunk_texts(pool, n, seed=n))
    vectors = unit_vectors(n, 384, rng)
    started = time.perf_counter()
    location = f"milvus://{folder}.db" if milvus else str(folder)
    with Index.open(location, create=True, embedder=embedder) as index:
        kept = index.counts()["chunks"]  # an index kept by an earlier run is searched again
        if kept not in (0, n):
            raise SystemExit(f"{folder} holds {kept} chunks, not {n}: remove it")
        slowest = 0.0  # the longest write of the build: merges must not make one wait
        for first in range(0, n if not kept else 0, BATCH):
            batch = new_documents(
                texts[first : first + BATCH], vectors[first : first + BATCH], first
            )
            began = time.perf_counter()
            index.commit_embedded(batch)  # an ingest's write, less chunking and embedding
            slowest = max(slowest, time.perf_counter() - began)
            if (first + BATCH) % 100_000 == 0:
                print(f"  {first + BATCH} chunks stored", file=sys.stderr, flush=True)
        index.wait_for_merges()
        built = time.perf_counter() - started if not kept else float("nan")
        row: dict[str, Any] = {"chunks": n, "build_s": built, "slowest_write_s": slowest}
        row["segments"] = 0 if milvus else len(local_backend(index).snapshot.segments)
        embed = timed(lambda: index.embedder.encode([queries[0]]), 20)
        row["embed_ms"] = percentiles(embed)[0]
        for mode in ("hybrid", "dense", "bm25"):
            index.search(queries[0], k=10, mode=mode)  # warm
            row[mode] = percentiles(
                [s for q in queries for s in timed(partial(index.search, q, 10, mode=mode), 1)]
            )[:2]
        report = " ".join(chunk_texts(pool, 5, seed=-1))
        doc = Document(report, "bench/new.txt", "New report", "txt")
        add = timed(lambda: index.add_documents([doc]), 1)
        remove = timed(lambda: index.remove("bench/new.txt"), 1)
        row["add_s"], row["remove_s"] = add[0], remove[0]
        if milvus:
            row["engine_rss"] = engine_rss(location)
    row.update(open_in_fresh_process(location))
    disk = Path(f"{folder}.db").stat().st_size if milvus else folder_bytes(folder)
    row["disk_per_chunk"] = disk / n
    row.update(references(vectors, texts, queries, rng))
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated")
    parser.add_argument("--queries", type=int, default=50, help="queries timed per mode")
    parser.add_argument(
        "--corpus", type=Path, default=shared_folder() / SCIFACT_TRAIN, help="BEIR folder for text"
    )
    parser.add_argument(
        "--keep", type=Path, help="build the indexes here and keep them (reused when there)"
    )
    parser.add_argument("--milvus", action="store_true", help="build them in Milvus Lite files")
    args = parser.parse_args(argv)
    from qa.embed import load_embedder

    pool = sentences(args.corpus)
    with open(args.corpus / "queries.jsonl", encoding="utf-8") as lines:
        queries = [json.loads(line)["text"] for line in lines][: args.queries]
    embedder = load_embedder()
    header = (
        f"{'chunks':>9} {'segs':>5} {'hybrid p50/p95':>15} {'dense p50/p95':>15} "
        f"{'faiss p50/p95':>15} {'bm25 p50/p95':>15} {'bm25s p50/p95':>15} {'embed':>6} "
        f"{'add s':>6} {'rm s':>6} {'open s':>6} {'1st q s':>7} {'RSS/chunk':>9} {'own/chunk':>9} "
        f"{'disk/chunk':>10} {'build s':>8} {'slowest write s':>15}"
    )
    print("search times in ms (k=10; ours include the query embedding, the references do not)")
    print(header, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        with Index.open(root / "empty", create=True, embedder=embedder):
            pass
        base = open_in_fresh_process(str(root / "empty"))
        for n in (int(s) for s in args.sizes.split(",")):
            row = bench_size(n, root / f"index-{n}", pool, queries, embedder, args.milvus)
            engine = row.pop("engine_rss", None)  # Milvus: the engine process's, all of it
            for key in ("rss", "own"):  # the index's share, less the model and runtime
                row[key] = engine if engine is not None else row[key] - base[key]
            pair = {key: "{:.1f}/{:.1f}".format(*row[key]) for key in PAIRS}
            print(
                f"{n:>9} {row['segments']:>5} {pair['hybrid']:>15} {pair['dense']:>15} "
                f"{pair['faiss']:>15} {pair['bm25']:>15} {pair['bm25s']:>15} "
                f"{row['embed_ms']:>6.1f} {row['add_s']:>6.2f} {row['remove_s']:>6.2f} "
                f"{row['open_s']:>6.2f} {row['first_s']:>7.2f} {row['rss'] / n:>9.0f} "
                f"{row['own'] / n:>9.0f} {row['disk_per_chunk']:>10.0f} "
                f"{row['build_s']:>8.0f} {row['slowest_write_s']:>15.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
