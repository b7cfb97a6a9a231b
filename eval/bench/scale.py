"""How the index behaves as it grows: search, add, remove, open, memory and disk at 10k, 100k
and (with ``--sizes``) 1M chunks, side by side with plain FAISS and bm25s on the same data.

    python -m qa.eval.bench.scale [--sizes 10000,100000] [--queries 50] [--keep DIR]
        [--corpus BEIR_FOLDER] [--milvus]

Chunks are sentences of SciFact abstracts (``--corpus``, default SciFact train in the shared
data folder, :func:`qa.config.shared_folder`) recombined (real vocabulary for BM25), one short
document per chunk. A chunk's vector is the mean of its sentences' embeddings by the bundled
model (each sentence embedded once, kept in ``--keep``), lightly perturbed and normalised: the
vectors have the shape of real ones, so the approximate dense search meets the neighbourhoods
it would meet in use, and its recall@10 against exact search on the same vectors is printed
beside its time. They go in through the index's own write path, in batches as an ingest
commits them, so segments and merges are those a real index would have. Queries are SciFact
claims, embedded by the bundled model: search times include the query embedding. BM25 is
timed first, then again on the same queries, whose terms' scores the index keeps until its
next write (a newsroom's questions share their words); hybrid comes after, with them kept.
Open time
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
WARM_UP = "vitamin D deficiency"  # a query outside the timed ones
MODES = ("dense", "hybrid")


def pair(key: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: "{:.1f}/{:.1f}".format(*row[key])


def per_chunk(key: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: f"{row[key] / row['chunks']:.0f}"


# the printed table: each column's heading (its width too) and how a row shows in it
COLUMNS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("   chunks", lambda row: str(row["chunks"])),
    ("segs", lambda row: str(row["segments"])),
    (" hybrid p50/p95", pair("hybrid")),
    ("  dense p50/p95", pair("dense")),
    ("recall@10", lambda row: f"{row['recall']:.3f}"),
    ("  faiss p50/p95", pair("faiss")),
    ("   bm25 p50/p95", pair("bm25")),
    ("bm25 again p50/p95", pair("bm25_again")),
    ("  bm25s p50/p95", pair("bm25s")),
    (" embed", lambda row: f"{row['embed_ms']:.1f}"),
    (" add s", lambda row: f"{row['add_s']:.2f}"),
    (" rm ms", lambda row: f"{row['remove_s'] * 1000:.1f}"),
    ("sqlite rm ms", lambda row: f"{row['sqlite_rm_s'] * 1000:.1f}"),
    ("open s", lambda row: f"{row['open_s']:.2f}"),
    ("1st q s", lambda row: f"{row['first_s']:.2f}"),
    ("RSS/chunk", per_chunk("rss")),
    ("own/chunk", per_chunk("own")),
    ("disk/chunk", per_chunk("disk")),
    (" build s", lambda row: f"{row['build_s']:.0f}"),
    ("slowest write s", lambda row: f"{row['slowest_write_s']:.2f}"),
]


def sentences(corpus: Path) -> list[str]:
    found = []
    with open(corpus / "corpus.jsonl", encoding="utf-8") as lines:
        for line in lines:
            found += [s.strip() + "." for s in json.loads(line)["text"].split(". ") if s.strip()]
    return found


def chunk_picks(size: int, n: int, seed: int = 0) -> Iterator[list[int]]:
    """``n`` chunks of three to six sentences drawn from a pool of ``size``: their places."""
    rng = random.Random(seed)
    for _ in range(n):
        yield rng.sample(range(size), rng.randint(3, 6))


def chunk_texts(pool: list[str], n: int, seed: int = 0) -> Iterator[str]:
    """``n`` texts of three to six sentences drawn from ``pool``."""
    for picked in chunk_picks(len(pool), n, seed):
        yield " ".join(pool[i] for i in picked)


def pool_vectors(pool: list[str], embedder: Embedder, keep: Path | None) -> np.ndarray:
    """Every sentence's embedding, read from ``keep`` when an earlier run saved them there."""
    saved = keep / f"sentences-{len(pool)}.npy" if keep else None
    if saved and saved.exists():
        return np.load(saved)
    print(f"  embedding {len(pool)} sentences", file=sys.stderr, flush=True)
    vectors = embedder.encode(pool, bulk=True).astype(np.float32)
    if saved:
        saved.parent.mkdir(parents=True, exist_ok=True)
        np.save(saved, vectors)
    return vectors


def chunk_vectors(
    picks: list[list[int]], sentences: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each chunk's vector: its sentences' mean, with a little noise (no two chunks alike),
    normalised."""
    out = np.empty((len(picks), sentences.shape[1]), dtype=np.float32)
    for first in range(0, len(picks), 100_000):
        part = picks[first : first + 100_000]
        flat = np.fromiter((i for p in part for i in p), dtype=np.int64)
        starts = np.cumsum([0] + [len(p) for p in part[:-1]])
        summed = np.add.reduceat(sentences[flat], starts, axis=0)
        summed += rng.normal(scale=0.01, size=summed.shape).astype(np.float32)
        out[first : first + len(part)] = summed / np.linalg.norm(summed, axis=1, keepdims=True)
    return out


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


def dense_recall(index: Index, flat: Any, queries: list[str]) -> float:
    """Mean recall@10 of the index's dense search against exact search (``flat``, the same
    vectors in the same order: chunk ``i`` is ``bench/i.txt``) for the same query vectors."""
    found = []
    for query in queries:
        _, truth = flat.search(index.embedder.encode([query]), 10)
        hits = index.search(query, 10, mode="dense")
        rows = {int(h.source.removeprefix("bench/").removesuffix(".txt")) for h in hits}
        found.append(len(rows & set(truth[0].tolist())) / 10)
    return float(np.mean(found))


def sqlite_delete(texts: list[str], folder: Path) -> float:
    """Seconds to delete one document's row from a plain SQLite table of every chunk (text
    and document, indexed by document), in a file beside the index: the floor a removal
    is measured against."""
    import sqlite3

    path = folder.parent / f"{folder.name}-plain.sqlite"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc TEXT, text TEXT)")
    db.execute("CREATE INDEX by_doc ON chunks (doc)")
    db.executemany(
        "INSERT INTO chunks (doc, text) VALUES (?, ?)",
        ((f"bench/{i}.txt", t) for i, t in enumerate(texts)),
    )
    db.commit()
    started = time.perf_counter()
    db.execute("DELETE FROM chunks WHERE doc = ?", (f"bench/{len(texts) // 2}.txt",))
    db.commit()
    seconds = time.perf_counter() - started
    db.close()
    path.unlink()
    return seconds


def references(
    flat: Any, texts: list[str], queries: list[str], embedder: Embedder
) -> dict[str, tuple[float, float]]:
    """p50/p95 of plain FAISS (exact, the same vectors) and bm25s (the same tokens)."""
    from qa.index.sparse import bm25_model, tokenize

    query_vectors = embedder.encode(queries)
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
    n: int,
    folder: Path,
    pool: tuple[list[str], np.ndarray],
    queries: list[str],
    embedder: Embedder,
    milvus: bool,
) -> dict[str, Any]:
    import faiss

    sentences, sentence_vectors = pool
    picks = list(chunk_picks(len(sentences), n, seed=n))
    texts = [" ".join(sentences[i] for i in p) for p in picks]
    vectors = chunk_vectors(picks, sentence_vectors, np.random.default_rng(n))
    del picks
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
        index.search(WARM_UP, k=10)  # waits for the open's check of the derived files
        # BM25 first, its queries' terms not scored yet; then again, their scores kept (no
        # write between); then the others, hybrid with BM25's scores kept
        for key, mode in (("bm25", "bm25"), ("bm25_again", "bm25"), *((m, m) for m in MODES)):
            row[key] = percentiles(
                [s for q in queries for s in timed(partial(index.search, q, 10, mode=mode), 1)]
            )[:2]
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        row["recall"] = dense_recall(index, flat, queries)
        report = " ".join(chunk_texts(sentences, 5, seed=-1))
        doc = Document(report, "bench/new.txt", "New report", "txt")
        add = timed(lambda: index.add_documents([doc]), 1)
        remove = timed(lambda: index.remove("bench/new.txt"), 1)
        row["add_s"], row["remove_s"] = add[0], remove[0]
        if milvus:
            row["engine_rss"] = engine_rss(location)
    row.update(open_in_fresh_process(location))
    disk = Path(f"{folder}.db").stat().st_size if milvus else folder_bytes(folder)
    row["disk"] = disk
    row.update(references(flat, texts, queries, embedder))
    row["sqlite_rm_s"] = sqlite_delete(texts, folder)
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
    pool_and_vectors = (pool, pool_vectors(pool, embedder, args.keep))
    print(
        "search times in ms (k=10; ours include the query embedding, the references do not);"
        " recall@10 of our dense search against exact FAISS on the same vectors"
    )
    print(" ".join(name for name, _ in COLUMNS), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        with Index.open(root / "empty", create=True, embedder=embedder):
            pass
        base = open_in_fresh_process(str(root / "empty"))
        for n in (int(s) for s in args.sizes.split(",")):
            row = bench_size(
                n, root / f"index-{n}", pool_and_vectors, queries, embedder, args.milvus
            )
            engine = row.pop("engine_rss", None)  # Milvus: the engine process's, all of it
            for key in ("rss", "own"):  # the index's share, less the model and runtime
                row[key] = engine if engine is not None else row[key] - base[key]
            print(" ".join(f"{shown(row):>{len(name)}}" for name, shown in COLUMNS), flush=True)


if __name__ == "__main__":
    main()
