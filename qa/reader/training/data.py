"""SQuAD v1.1 for training and validating the reader: articles split by title, questions, and
negatives (a question paired with a similar paragraph of another article: no answer there).

Validation holds out whole articles, never single questions, so that no paragraph is on both
sides. Everything is seeded: the same seed gives the same split, negatives and order.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path

from qa.config import SQUAD_TRAIN, shared_folder

NO_ANSWER = -1
VAL_FRACTION = 0.05  # of the articles, held out of training for validation
SEED = 0


@dataclass(frozen=True)
class Example:
    """A question over one context; ``start`` is the answer's character offset, or NO_ANSWER."""

    qid: str
    question: str
    context: str
    answer: str
    start: int
    title: str

    @property
    def answerable(self) -> bool:
        return self.start != NO_ANSWER


@dataclass(frozen=True)
class Article:
    title: str
    paragraphs: list[tuple[str, list[dict]]]  # context, its questions


def squad_path() -> Path:
    """SQuAD v1.1 train in the shared data folder (:func:`qa.config.shared_folder`)."""
    return shared_folder() / SQUAD_TRAIN


def load_squad(path: str | Path) -> list[Article]:
    """The articles of a SQuAD v1.1 file (gzipped or not)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as file:
        data = json.load(file)
    return [
        Article(a["title"], [(p["context"], p["qas"]) for p in a["paragraphs"]])
        for a in data["data"]
    ]


def split_articles(
    articles: list[Article], val_fraction: float = VAL_FRACTION, seed: int = SEED
) -> tuple[list[Article], list[Article]]:
    """(train, validation), whole articles on each side, chosen at random by ``seed``."""
    order = sorted(articles, key=lambda a: a.title)
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(order) * val_fraction))
    return order[n_val:], order[:n_val]


def examples(articles: list[Article]) -> list[Example]:
    """Every question of the articles with its first answer."""
    found = []
    for article in articles:
        for context, qas in article.paragraphs:
            for qa in qas:
                answer = qa["answers"][0]
                found.append(
                    Example(
                        qa["id"],
                        qa["question"],
                        context,
                        answer["text"],
                        answer["answer_start"],
                        article.title,
                    )
                )
    return found


def negatives(
    questions: list[Example], articles: list[Article], fraction: float, seed: int = 0
) -> list[Example]:
    """For a ``fraction`` of the questions, the BM25-closest paragraph of another article,
    as an example with no answer: what the reader sees when retrieval brings a near miss."""
    from qa.index.sparse import bm25_model, tokenize

    contexts = [(a.title, c) for a in articles for c, _ in a.paragraphs]
    model = bm25_model([c for _, c in contexts])
    chosen = random.Random(seed).sample(questions, round(len(questions) * fraction))
    found = []
    for example in chosen:
        tokens = [t for t in tokenize([example.question])[0] if t in model.vocab_dict]
        if not tokens:
            continue
        scores = model.get_scores(tokens)
        for i in scores.argsort()[::-1][:20]:
            title, context = contexts[int(i)]
            if title != example.title:
                found.append(
                    Example(f"{example.qid}-neg", example.question, context, "", NO_ANSWER, title)
                )
                break
    return found


def write_held_out(source: str | Path, out: str | Path, val_fraction: float, seed: int) -> int:
    """Write the articles held out of training as a SQuAD v1.1 file (for ``qa eval``: its
    paragraphs indexed, every question asked); the number of questions written."""
    _, held_out = split_articles(load_squad(source), val_fraction, seed)
    data = [
        {"title": a.title, "paragraphs": [{"context": c, "qas": qas} for c, qas in a.paragraphs]}
        for a in held_out
    ]
    Path(out).write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return sum(len(qas) for a in held_out for _, qas in a.paragraphs)


def main(argv: list[str] | None = None) -> None:
    """``python -m qa.reader.training.data OUT.json``: the reader's validation articles, for
    qa eval."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", type=Path, help="SQuAD v1.1 file to write")
    parser.add_argument("--data", default=str(squad_path()), help="SQuAD v1.1 train (.json.gz)")
    parser.add_argument("--val-fraction", type=float, default=VAL_FRACTION)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    n = write_held_out(args.data, args.out, args.val_fraction, args.seed)
    print(f"{args.out}: {n} held-out questions")


if __name__ == "__main__":
    main()
