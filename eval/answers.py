"""Answer-accuracy evaluation: run a question set through ``ask`` and score every reply.

A question set is JSONL: ``{"id", "question", "answers": [...], "doc"?, "type"?, "meta"?}``;
an empty ``answers`` list means the reports cannot answer it and the right reply is to abstain.
``meta`` is a free-form object for the set's own notes; it is not read.

A reply counts as *correct* when it abstains on an unanswerable question, or, on an answerable
one, does not abstain and either its short answer matches a gold answer exactly (SQuAD
normalisation, number words = digits) or, having no short answer, its first supporting
sentence contains one.

EM and F1 score the reply's *prediction*: its short answer, else the sentence it quotes first;
None for an abstention. That is the string a SQuAD predictions file would hold ("" for None).
``em``/``f1`` count number words as digits ("six" == "6"); ``squad_em``/``squad_f1`` use the
official normalisation only, so the official scripts give those figures on the same replies.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qa.engine import Engine
from qa.errors import QAError
from qa.eval.metrics import (
    abstention_scores,
    answer_right,
    dedupe,
    exact_match,
    expected_calibration_error,
    f1,
    latency_summary,
    mrr,
    recall_at_k,
    reliability,
    supporting_sentence_correct,
)
from qa.options import AskOptions, Filters, SearchOptions
from qa.types import Answer, Generated, Hit

RECALL_KS = (1, 2, 3, 5, 10)  # the recall@k curve of the expected document
RETRIEVAL_DEPTH = 30  # chunks searched per question: enough for ten distinct documents
_MARKERS = re.compile(r"\s*\[\d+\]")  # a generated answer's citation markers
FIELDS = ("id", "question", "answers", "doc", "type", "meta")  # the keys of a question record


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
    """Read a JSONL question set, checking every record; QAError naming the file and line.

    ``question`` is a non-empty string; ``answers`` is required and a list of strings (numbers
    are taken as their text: ``[6]`` -> ``("6",)``); ``doc`` and ``type`` are strings or null;
    ``id`` (a string or integer, default the line number) is unique in the file; ``meta`` is
    any object. Any other key is an error, so a misspelt ``"answer"`` is caught, not scored
    as an unanswerable question.
    """
    items: list[Item] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = _item(json.loads(line), number)
            except ValueError as exc:
                raise QAError(f"{path}, line {number}: {exc}") from exc
            if item.id in seen:
                raise QAError(
                    f"{path}, line {number}: id {item.id!r} is already used on line "
                    f"{seen[item.id]}; ids must be unique (--compare matches questions by id)"
                )
            seen[item.id] = number
            items.append(item)
    return items


def _item(row: Any, number: int) -> Item:
    """One record as an Item; ValueError saying what is wrong with it."""
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    for key in row:
        if key not in FIELDS:
            close = difflib.get_close_matches(key, FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown key {key!r}{hint}; a question record has {', '.join(FIELDS)} "
                "(put anything else under meta)"
            )
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"question must be a non-empty string, got {question!r}")
    if "answers" not in row:
        raise ValueError('no "answers": give a list of gold answers ([] = unanswerable)')
    answers = row["answers"]
    if not isinstance(answers, list):
        raise ValueError(f"answers must be a list of strings, got {answers!r}")
    golds = []
    for gold in answers:
        if isinstance(gold, (int, float)) and not isinstance(gold, bool):
            gold = str(gold)
        if not isinstance(gold, str) or not gold.strip():
            raise ValueError(f"every answer must be a non-empty string or a number, got {gold!r}")
        golds.append(gold)
    ident = row.get("id", number)
    if isinstance(ident, bool) or not isinstance(ident, (str, int)) or ident == "":
        raise ValueError(f"id must be a non-empty string or an integer, got {ident!r}")
    for key in ("doc", "type"):
        value = row.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"{key} must be a non-empty string or null, got {value!r}")
    meta = row.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise ValueError(f"meta must be an object, got {meta!r}")
    return Item(str(ident), question, tuple(golds), row.get("doc"), row.get("type"))


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
    squad_em = exact_match(prediction, item.answers, numbers=False)
    squad_f1 = f1(prediction, item.answers, numbers=False)
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
        "squad_em": squad_em,
        "squad_f1": squad_f1,
        "supporting_correct": support_ok,
        "citation_correct": _citation_correct(item, answer),
        "verbatim": _verbatim(answer, text_of),
        "citations": [c.to_dict() for c in answer.citations],
        "seconds": seconds,
        **({"generated": _generated_scores(item, answer.generated)} if answer.generated else {}),
    }


def _generated_scores(item: Item, generated: Generated) -> dict[str, Any]:
    """A language model's answer scored: F1 of its text (without [n]) against the gold, and
    the share of its sentences judged supported; ``note`` when it gave none."""
    text = _MARKERS.sub("", generated.text).strip()
    return {
        "text": generated.text,
        "f1": f1(text, item.answers) if item.answers and text else None,
        "supported": generated.supported_share,
        "note": generated.note,
    }


def summarize_generated(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Means over the questions a language model answered (None when none was asked)."""
    rows = [r["generated"] for r in results if "generated" in r]
    if not rows:
        return None
    scored = [g["f1"] for g in rows if g["f1"] is not None]
    shares = [g["supported"] for g in rows if g["supported"] is not None]
    return {
        "n": len(rows),
        "failed": sum(g["note"] is not None for g in rows),
        "f1": _mean(scored) if scored else None,
        "supported": _mean(shares) if shares else None,
    }


def same_document(expected: str, doc_id: str, source: str) -> bool:
    """Whether a stored document is the expected one: its id, its source, or a path suffix
    of its source ("000_214ac054cd4d5203.txt" names ".../qa/corpus/000_214ac054cd4d5203.txt")."""
    if expected in (doc_id, source):
        return True
    want = Path(expected).parts
    return bool(want) and Path(source).parts[-len(want) :] == want


def _citation_correct(item: Item, answer: Answer) -> bool | None:
    """Whether the first citation is in the expected document; None (not scored) when no
    document is expected or the question is unanswerable (abstaining is right there)."""
    if not item.doc or not item.answerable:
        return None
    if not answer.citations:
        return False
    first = answer.citations[0]
    return same_document(item.doc, first.doc_id, first.source)


def _verbatim(answer: Answer, text_of: Callable[[str], str]) -> bool | None:
    """Whether every citation quotes its document exactly; None (not scored) without any."""
    if not answer.citations:
        return None
    return all(text_of(c.doc_id)[c.start : c.end] == c.quote for c in answer.citations)


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
    engine: Engine,
    items: Iterable[Item],
    progress: Callable[[Iterable[Item]], Iterable[Item]] = lambda xs: xs,
    *,
    options: AskOptions = AskOptions(),
    retrieval_depth: int | None = RETRIEVAL_DEPTH,
    per_item: Callable[[Item], Filters] | None = None,
) -> list[dict[str, Any]]:
    """Ask every question of the set with ``options`` (timing each) and score the replies.

    ``per_item(item)``, when given, sets the filters of each question (e.g. to its own
    document). With ``retrieval_depth``, each question with an expected document is also
    searched (same mode and filters, that many chunks) to score retrieval on its own; that
    search is not part of the timing.
    """
    results = []
    text_of = lambda doc_id: engine.document(doc_id).text  # noqa: E731
    for item in progress(items):
        asked = replace(options, filters=per_item(item)) if per_item else options
        start = time.perf_counter()
        reply = engine.ask(item.question, asked)
        row = score_answer(item, reply, time.perf_counter() - start, text_of)
        if retrieval_depth and item.doc:
            deeper = SearchOptions(retrieval_depth, asked.mode, asked.filters)
            row["retrieval"] = score_retrieval(item, engine.search(item.question, deeper))
        results.append(row)
    return results


def _mean(values: list[float] | list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def _block(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["gold"]]
    cited = [r["citation_correct"] for r in rows if r["citation_correct"] is not None]
    verbatim = [r["verbatim"] for r in rows if r["verbatim"] is not None]
    return {
        "n": len(rows),
        "answerable": len(answerable),
        "accuracy": _mean([r["correct"] for r in rows]),
        "em": _mean([r["em"] for r in answerable]),
        "f1": _mean([r["f1"] for r in answerable]),
        "supporting_accuracy": _mean([r["supporting_correct"] for r in answerable]),
        "citation_accuracy": _mean(cited),
        "verbatim_rate": _mean(verbatim),
    }


def summarize_retrieval(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Mean recall@k (the curve) and MRR of the expected document, over the scored questions."""
    scored = [r["retrieval"] for r in results if r.get("retrieval")]
    if not scored:
        return None
    recall = {k: _mean([s["recall"][k] for s in scored]) for k in scored[0]["recall"]}
    return {"n": len(scored), "recall": recall, "mrr": _mean([s["rr"] for s in scored])}


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals, abstention, calibration, latency, retrieval and the breakdown by question type.

    The reliability curve and its expected calibration error compare the confidence each
    answer showed with whether it was right (:func:`~qa.eval.metrics.answer_right`;
    abstentions are left out).

    EM, F1 and supporting-sentence accuracy are means over the answerable questions;
    accuracy counts an abstention on an unanswerable question as right. Citation accuracy is
    the mean over the answerable questions with an expected document (no citation = wrong);
    the verbatim rate is the share of the questions *with citations* whose every quote is
    exact (abstentions and replies without citations are left out, not counted as exact).
    """
    summary = _block(results)
    summary["abstention"] = abstention_scores(
        [r["abstained"] for r in results], [bool(r["gold"]) for r in results]
    )
    answered = [r for r in results if not r["abstained"]]
    shown = [r["confidence"] for r in answered]
    right = [answer_right(r["prediction"], r["gold"]) for r in answered]
    summary["reliability"] = reliability(shown, right)
    summary["calibration_error"] = expected_calibration_error(shown, right)
    summary["latency"] = latency_summary([r["seconds"] for r in results])
    summary["retrieval"] = summarize_retrieval(results)
    generated = summarize_generated(results)
    if generated:
        summary["generated"] = generated
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
        f"abstention precision {_ratio(a['precision'], a['abstained'])} recall "
        f"{_ratio(a['recall'], a['unanswerable'])} · calibration error (ECE) "
        f"{summary['calibration_error']:.3f} · verbatim citations "
        f"{summary['verbatim_rate']:.3f} · latency p50 {lat['p50'] * 1000:.0f} ms "
        f"p95 {lat['p95'] * 1000:.0f} ms · total {lat['total']:.1f} s"
    )
    generated = summary.get("generated")
    if generated:
        f1_text = "n/a" if generated["f1"] is None else f"{generated['f1']:.3f}"
        share = "n/a" if generated["supported"] is None else f"{generated['supported']:.3f}"
        lines.append(
            f"generated answers: F1 {f1_text} · supported sentences {share} · "
            f"{generated['failed']} of {generated['n']} without an answer (endpoint failed)"
        )
    retrieval = summary.get("retrieval")
    if retrieval:
        curve = " ".join(f"@{k} {v:.3f}" for k, v in retrieval["recall"].items())
        lines.append(
            f"expected document recall {curve} · MRR {retrieval['mrr']:.3f} "
            f"({retrieval['n']} questions)"
        )
    return "\n".join(lines)


def _ratio(value: float, cases: int) -> str:
    """A ratio as the summary prints it: "n/a" when it has no cases to count."""
    return f"{value:.3f}" if cases else "n/a"
