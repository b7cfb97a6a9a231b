"""Ingest speed: model tokens per second end to end (read, chunk, embed, store, index), side by
side with plain ``SentenceTransformer.encode`` of the same chunks, in one run.

    python -m qa.eval.bench.ingest [--docs 300] [--corpus BEIR_FOLDER]

Each of the first ``--docs`` abstracts of a BEIR corpus (default: SciFact train in the shared
data folder, :func:`qa.config.shared_folder`) is one text report. The index is
built once per precision (fp32, and bf16 where the CPU has it); the reference encodes the
chunks that index stored, in batches of 64, with the model cast the same way. While the index
is built, a question is embedded every 0.2 s: its time, beside the same at rest, is the wait
a question sees during an ingest (bulk work goes in slices a question may go before).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

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


def ingest(reports: Path, folder: Path, embedder: Embedder) -> tuple[float, list[str], list[float]]:
    """Seconds to ingest ``reports`` into a new index, the chunk texts it stored, and the
    seconds each question's embedding took while the ingest ran (one every 0.2 s)."""
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
    return took, [d.document.text[a:b] for d in stored for a, b in d.spans], waits


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
        for precision in precisions:
            embedder = load_embedder(precision=precision)
            at_rest = [timed_encode(embedder) for _ in range(20)]
            took, texts, waits = ingest(reports, Path(tmp) / f"index-{precision}", embedder)
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


if __name__ == "__main__":
    main()
