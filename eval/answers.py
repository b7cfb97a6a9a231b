"""Answer-accuracy evaluation: run a question set through ``ask`` and score every reply.

A question set is JSONL: ``{"id", "question", "answers": [...], "doc"?, "type"?}``; an empty
``answers`` list means the reports cannot answer it and the right reply is to abstain.

A reply counts as *correct* when it abstains on an unanswerable question, or, on an answerable
one, does not abstain and either its short answer matches a gold answer exactly (SQuAD
normalisation, number words = digits) or, having no short answer, its first supporting
sentence contains one.

EM and F1 score the reply's *prediction*: its short answer, else the sentence it quotes first;
None for an abstention. That is the string a SQuAD predictions file would hold ("" for None),
so the official scripts give the same figures on the same replies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.answer import ask
from qa.errors import QAError
from qa.eval.metrics import (
    abstention_scores,
    dedupe,
    exact_match,
    f1,
    latency_summary,
    mrr,
    recall_at_k,
    supporting_sentence_correct,
)
from qa.index import Index
from qa.types import Answer, Hit

RECALL_KS = (1, 2, 3, 5, 10)  # the recall@k curve of the expected document
RETRIEVAL_DEPTH = 30  # chunks searched per question: enough for ten distinct documents


@dataclass(frozen=True)
class Item:
    """One question of a set, with its gold answers and (optionally) expected document."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc: str | None = None
    type: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_questions(path: str | Path) -> list[Item]:
    """Read a JSONL question set; a malformed line is an error naming the line."""
    items = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                items.append(
                    Item(
                        id=str(row.get("id", number)),
                        question=row["question"],
                        answers=tuple(row.get("answers") or ()),
                        doc=row.get("doc"),
                        type=row.get("type"),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise QAError(f"{path}, line {number}: not a question record ({exc})") from exc
    return items


def predicted_text(answer: Answer) -> str | None:
    """What EM and F1 score: the short answer, else the first quoted sentence (else the whole
    reply); None when the reply abstains."""
    if answer.abstained:
        return None
    if answer.short_answer:
        return answer.short_answer
    return answer.citations[0].quote if answer.citations else answer.answer


def score_answer(
    item: Item, answer: Answer, seconds: float, text_of: Callable[[str], str]
) -> dict[str, Any]:
    """Every metric for one reply, with what is needed to inspect it.

    ``text_of(doc_id)`` gives a stored document's text, to check each quote against it.
    """
    prediction = predicted_text(answer)
    first = answer.citations[0] if answer.citations else None
    supporting = first.quote if first and not answer.abstained else None
    em, f = exact_match(prediction, item.answers), f1(prediction, item.answers)
    support_ok = supporting_sentence_correct(supporting, item.answers)
    if item.answerable:
        sentence_only = answer.short_answer is None and support_ok
        correct = not answer.abstained and (em == 1.0 or sentence_only)
    else:
        correct = answer.abstained
    return {
        "id": item.id,
        "question": item.question,
        "type": item.type or ("unanswerable" if not item.answerable else "other"),
        "gold": list(item.answers),
        "expected_doc": item.doc,
        "prediction": prediction,
        "short_answer": answer.short_answer,
        "answer": answer.answer,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "correct": correct,
        "em": em,
        "f1": f,
        "supporting_correct": support_ok,
        "citation_correct": _citation_correct(item, answer),
        "verbatim": all(text_of(c.doc_id)[c.start : c.end] == c.quote for c in answer.citations),
        "citations": [c.to_dict() for c in answer.citations],
        "seconds": seconds,
    }


def same_document(expected: str, doc_id: str, source: str) -> bool:
    """Whether a stored document is the expected one: its id, its source, or a path suffix
    of its source ("000_214ac054cd4d5203.txt" names ".../qa/corpus/000_214ac054cd4d5203.txt")."""
    if expected in (doc_id, source):
        return True
    want = Path(expected).parts
    return bool(want) and Path(source).parts[-len(want) :] == want


def _citation_correct(item: Item, answer: Answer) -> bool | None:
    """Whether the first citation is in the expected document (None: no document expected)."""
    if not item.doc:
        return None
    if not answer.citations:
        return False
    first = answer.citations[0]
    return same_document(item.doc, first.doc_id, first.source)


def score_retrieval(item: Item, hits: list[Hit]) -> dict[str, Any] | None:
    """Rank of the expected document among the retrieved ones, recall@k and reciprocal rank.

    Chunk hits become a document ranking (first occurrence wins); None when no document is
    expected (unanswerable questions).
    """
    if not item.doc:
        return None
    ranking = dedupe([hit.doc_id for hit in hits])
    sources = {hit.doc_id: hit.source for hit in hits}
    relevant = {d for d in ranking if same_document(item.doc, d, sources[d])} or {item.doc}
    rank = next((n for n, d in enumerate(ranking, start=1) if d in relevant), None)
    return {
        "rank": rank,
        "rr": mrr(ranking, relevant),
        "recall": {str(k): recall_at_k(ranking, relevant, k) for k in RECALL_KS},
        "top": [sources[d] for d in ranking[: max(RECALL_KS)]],
    }


def run(
    index: Index,
    items: Iterable[Item],
    progress: Callable[[Iterable[Item]], Iterable[Item]] = lambda xs: xs,
    *,
    retrieval_depth: int | None = RETRIEVAL_DEPTH,
    per_item: Callable[[Item], dict[str, Any]] | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Ask every question of the set (timing each) and score the replies.

    ``options`` go to :func:`qa.answer.ask` (k, mode, filters), updated by ``per_item(item)``
    when given (e.g. a filter to the question's own document). With ``retrieval_depth``, each
    question with an expected document is also searched (same mode and filters, that many
    chunks) to score retrieval on its own; that search is not part of the timing.
    """
    results = []
    text_of = lambda doc_id: index.document(doc_id).text  # noqa: E731
    for item in progress(items):
        asked = {**options, **(per_item(item) if per_item else {})}
        start = time.perf_counter()
        reply = ask(index, item.question, **asked)
        row = score_answer(item, reply, time.perf_counter() - start, text_of)
        if retrieval_depth and item.doc:
            search_options = {key: value for key, value in asked.items() if key != "k"}
            hits = index.search(item.question, k=retrieval_depth, **search_options)
            row["retrieval"] = score_retrieval(item, hits)
        results.append(row)
    return results


def _mean(values: list[float] | list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def _block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["gold"]]
    cited = [r["citation_correct"] for r in rows if r["citation_correct"] is not None]
    return {
        "n": len(rows),
        "answerable": len(answerable),
        "accuracy": _mean([r["correct"] for r in rows]),
        "em": _mean([r["em"] for r in answerable]),
        "f1": _mean([r["f1"] for r in answerable]),
        "supporting_accuracy": _mean([r["supporting_correct"] for r in answerable]),
        "citation_accuracy": _mean(cited),
        "verbatim_rate": _mean([r["verbatim"] for r in rows]),
    }


def summarize_retrieval(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Mean recall@k (the curve) and MRR of the expected document, over the scored questions."""
    scored = [r["retrieval"] for r in results if r.get("retrieval")]
    if not scored:
        return None
    recall = {k: _mean([s["recall"][k] for s in scored]) for k in scored[0]["recall"]}
    return {"n": len(scored), "recall": recall, "mrr": _mean([s["rr"] for s in scored])}


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals, abstention, latency, retrieval and the breakdown by question type.

    EM, F1 and supporting-sentence accuracy are means over the answerable questions;
    accuracy counts an abstention on an unanswerable question as right.
    """
    summary = _block(results)
    summary["abstention"] = abstention_scores(
        [r["abstained"] for r in results], [bool(r["gold"]) for r in results]
    )
    summary["latency"] = latency_summary([r["seconds"] for r in results])
    summary["retrieval"] = summarize_retrieval(results)
    types = sorted({r["type"] for r in results})
    summary["by_type"] = {t: _block([r for r in results if r["type"] == t]) for t in types}
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """A terminal table: one row a question type, then the totals ("-": no answerable ones)."""
    head = f"{'type':<14}{'n':>5}{'accuracy':>10}{'EM':>8}{'F1':>8}{'support':>9}{'cited':>8}"
    lines = [head, "-" * len(head)]
    rows = [*summary["by_type"].items(), ("all", summary)]
    for name, b in rows:
        scores = (
            f"{b['em']:>8.3f}{b['f1']:>8.3f}{b['supporting_accuracy']:>9.3f}"
            f"{b['citation_accuracy']:>8.3f}"
            if b.get("answerable", b["n"])
            else f"{'-':>8}{'-':>8}{'-':>9}{'-':>8}"
        )
        lines.append(f"{name:<14}{b['n']:>5}{b['accuracy']:>10.3f}{scores}")
    a, lat = summary["abstention"], summary["latency"]
    lines.append(
        f"abstention precision {a['precision']:.3f} recall {a['recall']:.3f} · verbatim citations "
        f"{summary['verbatim_rate']:.3f} · latency p50 {lat['p50'] * 1000:.0f} ms "
        f"p95 {lat['p95'] * 1000:.0f} ms · total {lat['total']:.1f} s"
    )
    retrieval = summary.get("retrieval")
    if retrieval:
        curve = " ".join(f"@{k} {v:.3f}" for k, v in retrieval["recall"].items())
        lines.append(
            f"expected document recall {curve} · MRR {retrieval['mrr']:.3f} "
            f"({retrieval['n']} questions)"
        )
    return "\n".join(lines)
