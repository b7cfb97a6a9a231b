"""Ingest speed: model tokens per second end to end (read, chunk, embed, store, index), side by
side with plain ``SentenceTransformer.encode`` of the same chunks, in one run.

    python -m qa.eval.bench.ingest [--docs 300] [--corpus BEIR_FOLDER]

Each of the first ``--docs`` abstracts of a BEIR corpus (default: SciFact train in the shared
data folder, :func:`qa.config.shared_folder`) is one text report. The index is
built once per precision (fp32, and bf16 where the CPU has it); the reference encodes the
chunks that index stored, in batches of 64, with the model cast the same way. While the index
is built, a question is embedded every 0.2 s: its time, beside the same at rest, is the wait
a question sees during an ingest (bulk work goes in slices a question may go before).
Where both precisions run, the stored bf16 vectors are compared with the fp32 ones: their
cosine, and how many of the top 10 chunks of the corpus's claims (exact search) they share.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from qa.config import SCIFACT_TRAIN, shared_folder
from qa.embed import BUNDLED_MODEL, Embedder, default_precision, load_embedder, model_path
from qa.eval.bench.serving import percentiles
from qa.index import Index
from qa.index.core import local_backend

QUESTION = "Which cells produce the cytokines that drive fibrosis?"


def write_reports(corpus: Path, n: int, folder: Path) -> None:
    folder.mkdir(parents=True)
    with open(corpus / "corpus.jsonl", encoding="utf-8") as lines:
        for i, line in zip(range(n), lines):
            record = json.loads(line)
            text = f"{record.get('title', '')}\n\n{record['text']}\n"
            (folder / f"{i:05d}.txt").write_text(text, encoding="utf-8")


class Ingested(NamedTuple):
    seconds: float  # to ingest the reports into a new index
    texts: list[str]  # the chunk texts it stored
    vectors: dict[tuple[str, int, int], np.ndarray]  # their vectors, by (source, start, end)
    waits: list[float]  # seconds each question's embedding took during the ingest


def ingest(reports: Path, folder: Path, embedder: Embedder) -> Ingested:
    """Ingest ``reports`` into a new index, a question embedded every 0.2 s meanwhile."""
    waits: list[float] = []
    done = threading.Event()

    def ask() -> None:
        while not done.wait(0.2):
            started = time.perf_counter()
            embedder.encode([QUESTION])
            waits.append(time.perf_counter() - started)

    asking = threading.Thread(target=ask, daemon=True)
    started = time.perf_counter()
    with Index.open(folder, create=True, embedder=embedder) as index:
        asking.start()
        index.add([reports])
        took = time.perf_counter() - started
        done.set()
        asking.join()
        stored = list(local_backend(index).embedded_documents())
    texts = [d.document.text[a:b] for d in stored for a, b in d.spans]
    vectors = {
        (d.document.source, a, b): vector
        for d in stored
        for (a, b), vector in zip(d.spans, d.embeddings)
    }
    return Ingested(took, texts, vectors, waits)


def agreement(
    fp32: Ingested, bf16: Ingested, claims: list[str], embedders: dict[str, Embedder]
) -> str:
    """How close bf16's stored vectors are to fp32's: cosine per chunk, and the share of the
    top 10 chunks of each claim (exact search, each precision's own query vector) shared."""
    keys = sorted(fp32.vectors)
    a = np.stack([fp32.vectors[k] for k in keys])
    b = np.stack([bf16.vectors[k] for k in keys])
    cosine = (a * b).sum(axis=1)
    tops = [
        np.argsort(-(vectors @ embedders[p].encode(claims, bulk=True).T), axis=0)[:10].T
        for p, vectors in (("fp32", a), ("bf16", b))
    ]
    shared = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(*tops)])
    return (
        f"bf16 against fp32, {len(keys)} chunks: cosine min {cosine.min():.5f}, mean "
        f"{cosine.mean():.5f}; top-10 chunks shared over {len(claims)} claims: {shared:.4f}"
    )


def timed_encode(embedder: Embedder) -> float:
    started = time.perf_counter()
    embedder.encode([QUESTION])
    return time.perf_counter() - started


def plain_model(precision: str) -> Any:
    """The bundled model in sentence-transformers, cast to ``precision``: the reference."""
    import torch
    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(model_path(BUNDLED_MODEL), device="cpu")
    return plain.to(torch.bfloat16) if precision == "bf16" else plain


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300, help="abstracts to ingest")
    parser.add_argument(
        "--corpus", type=Path, default=shared_folder() / SCIFACT_TRAIN, help="BEIR folder"
    )
    args = parser.parse_args(argv)
    precisions = ["fp32"] + (["bf16"] if default_precision() == "bf16" else [])
    print(f"{'what':<34}{'precision':>10}{'seconds':>9}{'tokens/s':>10}{'x ref':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        reports = Path(tmp) / "reports"
        write_reports(args.corpus, args.docs, reports)
        done: dict[str, Ingested] = {}
        for precision in precisions:
            embedder = load_embedder(precision=precision)
            at_rest = [timed_encode(embedder) for _ in range(20)]
            done[precision] = ingest(reports, Path(tmp) / f"index-{precision}", embedder)
            took, texts, _, waits = done[precision]
            tokens = sum(embedder.count_tokens(t) for t in texts)
            plain = plain_model(precision)
            started = time.perf_counter()
            plain.encode(texts, batch_size=64, show_progress_bar=False)
            reference = time.perf_counter() - started
            for what, seconds in (
                (f"plain encode of the {len(texts)} chunks", reference),
                (f"qa ingest of {args.docs} reports", took),
            ):
                speed, ratio = tokens / seconds, reference / seconds
                print(f"{what:<34}{precision:>10}{seconds:>9.1f}{speed:>10.0f}{ratio:>7.2f}")
            for what, times in (("at rest", at_rest), ("during the ingest", waits)):
                p50, p95, _ = percentiles(times)
                print(f"a question's embedding {what}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        if len(done) == 2:
            with open(args.corpus / "queries.jsonl", encoding="utf-8") as lines:
                claims = [json.loads(line)["text"] for line in lines]
            embedders = {p: load_embedder(precision=p) for p in done}
            print(agreement(done["fp32"], done["bf16"], claims, embedders))


if __name__ == "__main__":
    main()
