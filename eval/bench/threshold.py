"""Where to abstain: accuracy at each confidence threshold, on questions with and without answers.

    python -m qa.eval.bench.threshold [--drop PATH] [--sample N] [--seed S] [--reader DIR]

Every question is asked once with ``abstain_below=0`` (every reply that has an answer gives
it), then each threshold is applied to the recorded confidences: a reply under it counts as an
abstention. Two sets are scored:

- the sample question set over the sample reports (its unanswerable questions included);
- a sample of the DROP literal-number subset where the passages of half the questions are
  left out of the index, so those questions are unanswerable there: a fair, external test of
  saying "the reports don't say", not tuned on the sample reports;
- the SQuAD articles held out of the reader's training: half of them indexed, the questions
  of the other half asked against the wrong articles.

``--reader DIR`` measures another exported reader instead of the one shipped in the package.
``--drop`` and ``--squad`` default to DROP dev and SQuAD v1.1 train in the shared data folder
(:func:`qa.config.shared_folder`).

Accuracy counts a right answer, or an abstention on an unanswerable question, as right.
"""

from __future__ import annotations

import argparse
import functools
import random
from pathlib import Path
from typing import Any

from qa.answer import ABSTAIN_BELOW
from qa.config import DROP_DEV, sample_corpus, shared_folder
from qa.eval import suite
from qa.eval.answers import Item, load_questions
from qa.eval.bench.drop import load_drop
from qa.eval.metrics import abstention_scores
from qa.options import AskOptions
from qa.reader.training.data import SEED, VAL_FRACTION, squad_path
from qa.types import Document

SAMPLE_SET = Path(__file__).resolve().parents[1] / "data" / "sample_questions.jsonl"
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(0, 20))  # 0.00 … 0.95


def accuracy_at(results: list[dict[str, Any]], threshold: float) -> dict[str, float]:
    """Accuracy, answered share and precision of the answers given, abstaining under
    ``threshold``. Rows must come from replies asked with ``abstain_below=0``."""
    right = answered = answered_right = 0
    for row in results:
        if answers_at(row, threshold):
            answered += 1
            answered_right += row["correct"]
            right += row["correct"]
        else:
            right += not row["gold"]
    n = len(results) or 1
    return {
        "accuracy": right / n,
        "answered": answered / n,
        "precision": answered_right / answered if answered else 1.0,
    }


def answers_at(row: dict[str, Any], threshold: float) -> bool:
    """Whether a reply recorded with ``abstain_below=0`` still answers at ``threshold``."""
    return not row["abstained"] and row["confidence"] >= threshold


def _ask_all(
    items: list[Item], corpus: Any = None, documents: Any = None, reader: Any = None
) -> list[dict[str, Any]]:
    options = AskOptions(abstain_below=0.0)
    with suite.engine_for(None, reader=reader) as (engine, _):
        if corpus is not None:
            suite.ingest_files(engine, corpus)
        if documents is not None:
            suite.ingest(engine, documents)
        _, results = suite.run_questions(engine, items, False, options, retrieval_depth=None)
    return results


def half_indexed(articles: list[Any], rng: random.Random) -> tuple[set[str], list[Document]]:
    """About half the articles (chosen by ``rng``) left out: their titles, and the paragraphs
    of the others as documents (``squad:<title>#<n>``), so the left-out ones' questions have
    no answer in the index."""
    dropped = {a.title for a in articles if rng.random() < 0.5}
    documents = [
        Document(text=context, source=f"squad:{a.title}#{n}", title=a.title, format="txt")
        for a in articles
        if a.title not in dropped
        for n, (context, _) in enumerate(a.paragraphs)
    ]
    return dropped, documents


def held_out_squad(path: Path, sample: int, seed: int) -> tuple[list[Document], list[Item]]:
    """The SQuAD articles the reader was validated on (never trained on): the paragraphs of
    half of them, and a sample of all their questions, those of the other half unanswerable."""
    from qa.reader.training.data import load_squad, split_articles

    _, held_out = split_articles(load_squad(path), VAL_FRACTION, SEED)
    rng = random.Random(seed)
    dropped, documents = half_indexed(held_out, rng)
    items = [
        Item(qa["id"], qa["question"], () if a.title in dropped else (qa["answers"][0]["text"],))
        for a in held_out
        for _, qas in a.paragraphs
        for qa in qas
    ]
    return documents, rng.sample(items, min(sample, len(items)))


def held_out_drop(path: Path, sample: int, seed: int) -> tuple[list[Any], list[Item]]:
    """DROP literal-subset questions and the passages of half of them; the other half's
    gold answers are emptied, as the index cannot answer them."""
    documents, items, _ = load_drop(path, sample=sample, seed=seed)
    kept = {doc.source for doc in documents}
    rng = random.Random(seed)
    dropped = {source for source in sorted(kept) if rng.random() < 0.5}
    items = [
        Item(item.id, item.question, () if item.doc in dropped else item.answers, item.doc)
        for item in items
    ]
    return [doc for doc in documents if doc.source not in dropped], items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--drop", type=Path, default=shared_folder() / DROP_DEV, help="drop-dev.json"
    )
    parser.add_argument("--sample", type=int, default=400, help="DROP questions (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and held-out half")
    parser.add_argument("--reader", type=Path, help="another exported reader answers every set")
    parser.add_argument(
        "--squad", type=Path, default=squad_path(), help="SQuAD v1.1 train (.json.gz)"
    )
    args = parser.parse_args(argv)

    ask_all = functools.partial(_ask_all, reader=args.reader)
    sets = {"sample set": ask_all(load_questions(SAMPLE_SET), corpus=sample_corpus())}
    documents, items = held_out_drop(args.drop, args.sample, args.seed)
    sets["DROP held-out"] = ask_all(items, documents=documents)
    if args.squad.exists():
        documents, items = held_out_squad(args.squad, args.sample, args.seed)
        sets["SQuAD held-out"] = ask_all(items, documents=documents)
    for name, rows in sets.items():
        unanswerable = sum(not r["gold"] for r in rows)
        print(f"{name}: {len(rows)} questions, {unanswerable} unanswerable")
    head = "".join(f"{name + ' acc':>18}{'answered':>10}{'precision':>11}" for name in sets)
    print(f"{'threshold':>9}{head}")
    for threshold in THRESHOLDS:
        cells = ""
        for rows in sets.values():
            s = accuracy_at(rows, threshold)
            cells += f"{s['accuracy']:>18.3f}{s['answered']:>10.3f}{s['precision']:>11.3f}"
        print(f"{threshold:>9.2f}{cells}")
    print(f"at the default threshold, {ABSTAIN_BELOW:.2f}:")
    for name, rows in sets.items():
        s = accuracy_at(rows, ABSTAIN_BELOW)
        refused = [not answers_at(r, ABSTAIN_BELOW) for r in rows]
        a = abstention_scores(refused, [bool(r["gold"]) for r in rows])
        print(
            f"  {name}: accuracy {s['accuracy']:.3f}, answered {s['answered']:.3f} (precision "
            f"{s['precision']:.3f}); abstention precision {a['precision']:.3f} recall "
            f"{a['recall']:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
