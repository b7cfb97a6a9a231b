"""SQuAD v1.1 and v2.0 files as an open-corpus evaluation: paragraphs become the documents.

Every paragraph is one :class:`~qa.types.Document` (source ``squad:<title>#<paragraph index>``,
title = the article title); every question becomes an :class:`~qa.eval.answers.Item` whose
expected document is its paragraph. v2.0 ``is_impossible`` questions have no answers, so the
right reply is to abstain.

The figures follow the official evaluation scripts: v1.1 reports the mean of the best EM and F1
over the gold answers; v2.0 adds the unanswerable questions (1.0 for an abstention, else 0.0)
to the same means and reports both parts (``HasAns``, ``NoAns``). They are totalled from each
question's ``squad_em``/``squad_f1`` (the official normalisation, so "six" != "6"), not from our
headline ``em``/``f1`` (number words = digits).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.eval.answers import Item
from qa.types import Document

# Question words; at one position the longer ("how many") is tried before the shorter ("how").
_WORD_PATTERN = re.compile(r"\b(how many|how much|what|which|who|whom|whose|when|where|why|how)\b")


@dataclass(frozen=True)
class SquadSet:
    """A SQuAD file read as a corpus (one document a paragraph) and a question set."""

    version: str
    documents: list[Document]
    items: list[Item]


def is_squad(data: Any) -> bool:
    """Whether parsed JSON looks like a SQuAD file (``data`` -> ``paragraphs`` -> ``qas``)."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("data"), list)
        and all(isinstance(a, dict) and "paragraphs" in a for a in data["data"][:3])
    )


def question_type(question: str) -> str:
    """The question word that comes first ("how many", "what", "who", ...), else "other"."""
    match = _WORD_PATTERN.search(question.lower())
    if not match:
        return "other"
    word = match.group(1)
    return "who" if word in ("whom", "whose") else word


def load_squad(path: str | Path) -> SquadSet:
    """Read a SQuAD v1.1 or v2.0 JSON file; a malformed one is an error naming what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise QAError(f"{path} is not valid JSON ({exc})") from exc
    if not is_squad(data):
        raise QAError(f"{path} is not a SQuAD file: expected {{'data': [{{'paragraphs': ...}}]}}")
    documents: list[Document] = []
    items: list[Item] = []
    first_source: dict[str, str] = {}  # identical paragraphs are stored once, under the first
    try:
        for article in data["data"]:
            title = str(article.get("title") or "untitled")
            for number, paragraph in enumerate(article["paragraphs"]):
                doc = Document(
                    text=paragraph["context"],
                    source=f"squad:{title}#{number}",
                    title=title,
                    format="txt",
                )
                documents.append(doc)
                expected = first_source.setdefault(doc.id, doc.source)
                items += [_item(qa, expected) for qa in paragraph["qas"]]
    except (KeyError, TypeError) as exc:
        raise QAError(f"{path}: not a SQuAD record (missing {exc})") from exc
    version = str(data.get("version") or ("v2.0" if any(not i.answers for i in items) else "v1.1"))
    return SquadSet(version, documents, items)


def _item(qa: dict[str, Any], expected: str) -> Item:
    impossible = bool(qa.get("is_impossible"))
    answers = () if impossible else tuple(a["text"] for a in qa["answers"])
    return Item(
        id=str(qa["id"]),
        question=qa["question"],
        answers=answers,
        doc=expected,
        type="unanswerable" if impossible else question_type(qa["question"]),
    )


def official_scores(results: list[dict[str, Any]]) -> dict[str, Any]:
    """EM and F1 over every question as the official scripts total them (fractions, not %).

    Totalled from each row's ``squad_em``/``squad_f1`` (official normalisation, no number
    words = digits). ``exact``/``f1`` average all questions (unanswerable ones count 1.0 for
    an abstention); ``HasAns_*`` and ``NoAns_*`` are the two parts, present when the set holds
    that kind.
    """

    def mean(rows: list[dict[str, Any]], key: str) -> float:
        return sum(r[key] for r in rows) / len(rows) if rows else 0.0

    has = [r for r in results if r["gold"]]
    no = [r for r in results if not r["gold"]]
    scores: dict[str, Any] = {
        "exact": mean(results, "squad_em"),
        "f1": mean(results, "squad_f1"),
        "total": len(results),
    }
    for name, rows in (("HasAns", has), ("NoAns", no)):
        if rows:
            scores[f"{name}_exact"] = mean(rows, "squad_em")
            scores[f"{name}_f1"] = mean(rows, "squad_f1")
            scores[f"{name}_total"] = len(rows)
    return scores
