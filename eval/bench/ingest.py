"""Ingest speed: model tokens per second end to end (read, chunk, embed, store, index), side by
side with plain ``SentenceTransformer.encode`` of the same chunks, in one run.

    python -m qa.eval.bench.ingest [--docs 300] [--corpus BEIR_FOLDER]

Each of the first ``--docs`` abstracts of a BEIR corpus (default: SciFact train in the shared
data folder, :func:`qa.config.shared_folder`) is one text report. The index is
built once per precision (fp32, and bf16 where the CPU has it); the reference encodes the
chunks that index stored, in batches of 64, with the model cast the same way.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from qa.config import SCIFACT_TRAIN, shared_folder
from qa.embed import BUNDLED_MODEL, Embedder, default_precision, load_embedder, model_path
from qa.index import Index
from qa.index.core import local_backend


def write_reports(corpus: Path, n: int, folder: Path) -> None:
    folder.mkdir(parents=True)
    with open(corpus / "corpus.jsonl", encoding="utf-8") as lines:
        for i, line in zip(range(n), lines):
            record = json.loads(line)
            text = f"{record.get('title', '')}\n\n{record['text']}\n"
            (folder / f"{i:05d}.txt").write_text(text, encoding="utf-8")


def ingest(reports: Path, folder: Path, embedder: Embedder) -> tuple[float, list[str]]:
    """Seconds to ingest ``reports`` into a new index, and the chunk texts it stored."""
    started = time.perf_counter()
    with Index.open(folder, create=True, embedder=embedder) as index:
        index.add([reports])
        took = time.perf_counter() - started
        stored = list(local_backend(index).embedded_documents())
    return took, [d.document.text[a:b] for d in stored for a, b in d.spans]


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
            embedder.encode(["warm up"])
            took, texts = ingest(reports, Path(tmp) / f"index-{precision}", embedder)
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


if __name__ == "__main__":
    main()
