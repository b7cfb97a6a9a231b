"""BEIR folders (``corpus.jsonl``, ``queries.jsonl``, ``qrels/*.tsv``): loading and scoring.

Chunk hits are turned into a document ranking (first occurrence wins) before scoring, as the
judgments are per document. Corpus entries with the same text are one document in the index
(ids are content hashes), stored under the first entry's id; a hit on it stands for every
entry with that text, side by side, as tied documents would rank, so the judgments of each
one still count.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import QAError
from qa.eval.metrics import dedupe, latency_summary, mrr, ndcg_at_k, recall_at_k
from qa.types import Document

if TYPE_CHECKING:
    from qa.index import Index

SEARCH_DEPTH = 50  # chunks fetched per query, enough for ten distinct documents
RECALL_KS = (1, 2, 3, 5, 10, 20)  # the recall@k curve (20 is about all 50 chunks reach)


@dataclass(frozen=True)
class BeirSet:
    """A BEIR data set: documents (source = the corpus ``_id``), queries and judgments.

    ``documents`` holds one document per distinct text; ``same_text`` maps the source of one
    that several corpus entries share to all their ids, in corpus order (its own first).
    """

    documents: list[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    same_text: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def corpus_ids(self, source: str) -> tuple[str, ...]:
        """The corpus ids a stored document stands for (its own, then any with its text)."""
        return self.same_text.get(source, (source,))


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
    first: dict[str, Document] = {}  # content id -> the first document with that text
    ids: dict[str, list[str]] = {}  # content id -> every corpus id with that text
    for d in _jsonl(folder / "corpus.jsonl"):
        doc = Document(
            text=f"{d.get('title', '')}\n{d['text']}".strip(),
            source=d["_id"],
            title=d.get("title") or d["_id"],
            format="txt",
        )
        first.setdefault(doc.id, doc)
        ids.setdefault(doc.id, []).append(doc.source)
    same_text = {first[c].source: tuple(group) for c, group in ids.items() if len(group) > 1}
    return BeirSet(list(first.values()), queries, qrels, same_text)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# --- scoring ------------------------------------------------------------------------------


def query_results(
    index: Index,
    data: BeirSet,
    mode: str,
    limit: int | None = None,
    on_query: Callable[[], object] | None = None,
) -> list[dict[str, Any]]:
    """One row a query: nDCG@10, recall@10 and the recall@k curve, reciprocal rank (@10),
    the top ten documents and the search time in seconds. ``on_query()`` is called after
    each query (to move a progress bar)."""
    rows = []
    for qid, text in list(data.queries.items())[:limit]:
        start = time.perf_counter()
        hits = index.search(text, k=SEARCH_DEPTH, mode=mode)
        seconds = time.perf_counter() - start
        ranking = dedupe([cid for hit in hits for cid in data.corpus_ids(hit.source)])
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
        if on_query is not None:
            on_query()
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
