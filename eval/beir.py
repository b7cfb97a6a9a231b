"""BEIR folders (``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``) for retrieval evaluation."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.types import Document


@dataclass(frozen=True)
class BeirSet:
    """A BEIR data set: documents (id = the corpus ``_id`` as source), queries and judgments."""

    documents: list[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: str | Path, split: str | None = None) -> BeirSet:
    """Read a BEIR folder; ``split`` picks ``qrels/SPLIT.tsv`` (default: the only or test one)."""
    folder = Path(folder)
    qrels_files = sorted((folder / "qrels").glob("*.tsv"))
    if not (folder / "corpus.jsonl").exists() or not qrels_files:
        raise QAError(f"{folder} is not a BEIR folder (corpus.jsonl and qrels/*.tsv expected)")
    if split:
        qrels_path = folder / "qrels" / f"{split}.tsv"
    elif len(qrels_files) == 1:
        qrels_path = qrels_files[0]
    else:
        qrels_path = folder / "qrels" / "test.tsv"
    if not qrels_path.exists():
        raise QAError(f"no qrels file {qrels_path}; choose one of {[p.stem for p in qrels_files]}")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    queries = {q["_id"]: q["text"] for q in _jsonl(folder / "queries.jsonl") if q["_id"] in qrels}
    documents = [
        Document(
            text=f"{d.get('title', '')}\n{d['text']}".strip(),
            source=d["_id"],
            title=d.get("title") or d["_id"],
            format="txt",
        )
        for d in _jsonl(folder / "corpus.jsonl")
    ]
    return BeirSet(documents, queries, qrels)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
