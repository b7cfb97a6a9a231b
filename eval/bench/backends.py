"""The two backends side by side on a BEIR set: nDCG@10, recall@10 and search time per mode,
and how fast each stores chunks.

    python -m qa.eval.bench.backends [BEIR_FOLDER] [--limit N] [--keep DIR]

The BEIR folder defaults to SciFact train in the shared data folder
(:func:`qa.config.shared_folder`). The corpus is ingested once into the local index (read,
chunked, embedded, stored). The same chunks with the same embeddings then go into a second
local index and into Milvus Lite through each backend's own write path, in commits of 1,000
chunks as an ingest makes them, so the write figures compare the backends and not the model.
Every query (or the first ``--limit``) is then run in each mode on the local index and on
Milvus Lite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from qa.config import SCIFACT_TRAIN, shared_folder
from qa.eval.beir import evaluate, load_beir
from qa.eval.suite import ingest
from qa.index import Index
from qa.index.core import local_backend
from qa.index.pipeline import BATCH_CHUNKS
from qa.index.store import NewDocument
from qa.options import MODES


def copy_into(target: Index, documents: list[NewDocument]) -> float:
    """Seconds to store ``documents`` in ``target`` in commits of about 1,000 chunks, through
    the write path of an ingest less reading and embedding (the index's benchmark hook)."""
    started = time.perf_counter()
    batch: list[NewDocument] = []
    for doc in documents:
        batch.append(doc)
        if sum(len(d.spans) for d in batch) >= BATCH_CHUNKS:
            target.commit_embedded(batch)
            batch = []
    if batch:
        target.commit_embedded(batch)
    target.wait_for_merges()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "data", type=Path, nargs="?", default=shared_folder() / SCIFACT_TRAIN, help="BEIR folder"
    )
    parser.add_argument("--limit", type=int, help="evaluate only the first N queries")
    parser.add_argument("--keep", type=Path, help="build the indexes here and keep them")
    args = parser.parse_args(argv)
    data = load_beir(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        local = Index.open(root / "local", create=True)
        milvus = Index.open(f"milvus://{root / 'milvus.db'}", create=True)
        if not milvus.counts()["chunks"]:  # not kept from an earlier run with --keep
            stats = ingest(local, data.documents, progress=sys.stderr.isatty())
            chunks = local.counts()["chunks"]
            print(
                f"ingest into the local index: {local.counts()['documents']} documents, "
                f"{chunks} chunks in {stats['ingest_seconds']:.1f} s (embedding included)"
            )
            documents = list(local_backend(local).embedded_documents())
            print(f"\nwriting the same {chunks} embedded chunks (commits of {BATCH_CHUNKS}):")
            print(f"{'backend':<14}{'seconds':>9}{'chunks/s':>10}")
            with Index.open(root / "local-copy", create=True) as copy:
                for name, target in (("local", copy), ("Milvus Lite", milvus)):
                    took = copy_into(target, documents)
                    print(f"{name:<14}{took:>9.1f}{chunks / took:>10.0f}")
        print(f"\n{'mode':<8}{'backend':<13}{'nDCG@10':>9}{'R@10':>8}{'p50 ms':>9}{'p95 ms':>9}")
        for mode in MODES:
            for name, index in (("local", local), ("Milvus Lite", milvus)):
                index.search("warm up", k=1, mode=mode)
                r = evaluate(index, data, mode, args.limit)
                print(
                    f"{mode:<8}{name:<13}{r['ndcg@10']:>9.4f}{r['recall@10']:>8.4f}"
                    f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}",
                    flush=True,
                )
        milvus.close()
        local.close()


if __name__ == "__main__":
    main()
