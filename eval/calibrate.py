"""Calibrate the confidence: fit the verifier's logistic model on held-out questions, measure it.

    python -m qa.eval.calibrate [--reader DIR] [--write] [--plot DIR] [--rows FILE]
    python -m qa.eval.calibrate --before --reader OLD   # the same sets, the old confidence

The SQuAD articles held out of the reader's training are split in two halves by title: the
model is fit on the *fit* half only, and every figure is measured on the *test* half. Each half
gives two question sets, asked the way ``qa.ask`` asks them:

- ``hard``: answerable questions with their own paragraph, and about as many near misses
  (:mod:`qa.reader.training.hard`: a swapped constraint, one swapped for a name the paragraph gives
  elsewhere, another paragraph of the article, the paragraph without the answer's
  sentence), each read with the paragraph it is paired with;
- ``open``: the paragraphs of half the articles indexed, questions of all of them asked (those
  of the other half have no answer there).

An answer is right when it shares at least half its words with the gold answer
(:func:`qa.eval.metrics.answer_right`); any answer to a question with none is wrong. Accuracy
counts an abstention on such a question as right.

Two thresholds come from the curves: replies abstain under the lowest confidence that refuses
at least 82% of the fit half's near misses of every kind (those whose sentence holds a rival,
which vetoes an answer whatever its confidence, counted as refused: two points above the bar
of 80% held-out near misses refused, so as to lose as little F1 on answerable questions as
that bar allows), and "high confidence"
starts where at least 95% of the answers of both halves above it were right, of those no
rival vetoes (the top of one half is too thin to set it). ``--write`` stores the fit, the
thresholds, the veto and every set's scores and reliability table in
``qa/answer/calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.answer.compose import assess
from qa.answer.question import parse_question
from qa.answer.verify import CALIBRATION_FILE, FEATURES, Calibration, features
from qa.eval.metrics import (
    abstention_scores,
    answer_right,
    expected_calibration_error,
    f1,
    reliability,
)
from qa.options import ASK_K, SearchOptions
from qa.reader.training.data import (
    SEED,
    VAL_FRACTION,
    Article,
    Example,
    examples,
    load_squad,
    split_articles,
    squad_path,
)
from qa.reader.training.hard import KINDS, entity_pools, hard_negatives
from qa.types import Chunk, Document, Hit

# the confidence before this calibration: the reader's ranking score alone, 0.5 at a score of 3
SCORE_ONLY = Calibration((1.0,) + (0.0,) * (len(FEATURES) - 1), -3.0, 0.5, 1.0, {})
HIGH_PRECISION = 0.95  # "high confidence" means answers at least this often right
REFUSED = 0.82  # near misses of the fit half (every kind) the abstention threshold must refuse
VETO = ("rival",)  # a rival in the answer's sentence refuses it (qa.answer.relations)
L2 = 1e-3


@dataclass(frozen=True)
class Asked:
    """One question asked and what its best answer was read from, as ``--rows`` keeps it:
    the features are computed again from it, so a new check is fit without reading again."""

    kind: str
    question: str
    golds: list[str]
    answer: str | None  # None: nothing read
    evidence: list[str]  # the answer's sentence, it with its neighbours, passage, report
    score: float = 0.0
    margin: float = 0.0
    gap: float = 0.0

    def row(self) -> Row:
        if self.answer is None:
            return Row(self.kind, None, False, 0.0)
        q = parse_question(self.question)
        values = features(q, self.answer, self.evidence, self.score, self.margin, self.gap)
        right = answer_right(self.answer, self.golds)
        return Row(self.kind, values, right, f1(self.answer, self.golds) if self.golds else 0.0)


@dataclass(frozen=True)
class Row:
    """One question asked: the best answer's features (None: nothing read), and how it did."""

    kind: str  # "answerable", or the kind of near miss / "unanswerable"
    features: list[float] | None
    right: bool  # the best answer is right (False for any answer to an unanswerable one)
    f1: float  # F1 of the best answer against the gold (0.0 for an unanswerable one)

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def halves(path: Path | None = None, seed: int = 0) -> tuple[list[Article], list[Article], Any]:
    """(fit half, test half, entity pools of the training articles) of the held-out articles."""
    train, held_out = split_articles(load_squad(path or squad_path()), VAL_FRACTION, SEED)
    order = sorted(held_out, key=lambda a: a.title)
    random.Random(seed).shuffle(order)
    return order[: len(order) // 2], order[len(order) // 2 :], entity_pools(train)


def hard_set(articles: list[Article], pools: Any, size: int, seed: int = 0) -> list[Example]:
    """``size`` answerable questions and up to ``size`` near misses, about a quarter of each
    kind (as many as the articles allow)."""
    questions = examples(articles)
    rng = random.Random(seed)
    answerable = rng.sample(questions, min(size, len(questions)))
    share = (size + len(KINDS)) / len(questions) / len(KINDS)  # a few more, none short
    near = hard_negatives(questions, articles, share, seed, pools)
    return answerable + near[:size]


def gold_rows(items: list[Example], reader: Any = None) -> list[Asked]:
    """Each question read with the one paragraph it is paired with, as ``qa.ask`` reads."""
    from qa.reader import load_reader

    reader = reader or load_reader()
    rows = []
    for item in items:
        doc = Document(text=item.context, source=item.qid, title=item.title, format="txt")
        hit = Hit(
            chunk=Chunk(doc.id, 0, 0, len(doc.text), doc.text),
            title=doc.title,
            source=doc.source,
            date=None,
            rank=1,
            score=1.0,
        )
        kind = "answerable" if item.answerable else item.qid.rsplit("-", 1)[1]
        golds = [item.answer] if item.answerable else []
        rows.append(_row(kind, golds, parse_question(item.question), [hit], {doc.id: doc}, reader))
    return rows


def open_rows(articles: list[Article], size: int, seed: int = 0, reader: Any = None) -> list[Asked]:
    """Half the articles' paragraphs indexed; ``size`` questions of all of them asked."""
    from qa.eval import suite
    from qa.eval.bench.threshold import half_indexed
    from qa.reader import load_reader

    reader = reader or load_reader()
    rng = random.Random(seed)
    dropped, documents = half_indexed(articles, rng)
    items = examples(articles)
    items = rng.sample(items, min(size, len(items)))
    rows = []
    with suite.engine_for(None) as (engine, _):
        suite.ingest(engine, documents)
        for item in items:
            q = parse_question(item.question)
            searched = engine.search(q.query, SearchOptions(ASK_K))
            found = engine.documents_by_id(h.doc_id for h in searched)
            hits = [h for h in searched if h.doc_id in found]
            answerable = item.title not in dropped
            golds = [item.answer] if answerable else []
            kind = "answerable" if answerable else "unanswerable"
            rows.append(_row(kind, golds, q, hits, found, reader))
    return rows


def _row(
    kind: str,
    golds: list[str],
    q: Any,
    hits: list[Hit],
    documents: dict[str, Document],
    reader: Any,
) -> Asked:
    from qa.answer.answerer import read_hits

    assessed = assess(q, hits, read_hits(q, hits, reader), documents, 1) if hits else []
    if not assessed:
        return Asked(kind, q.text, golds, None, [])
    best = assessed[0]
    a = best.answer
    return Asked(kind, q.text, golds, a.text, list(best.evidence), a.score, a.margin, best.gap)


def fit(rows: list[Row], l2: float = L2) -> tuple[np.ndarray, float]:
    """Logistic regression of "right" on the features (Newton's method, a small L2 penalty)."""
    used = [r for r in rows if r.features is not None]
    x = np.array([r.features for r in used], dtype=float)
    y = np.array([r.right for r in used], dtype=float)
    x1 = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x1.shape[1])
    penalty = l2 * len(x) * np.eye(len(w))
    penalty[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x1 @ w, -50, 50)))
        grad = x1.T @ (p - y) + penalty @ w
        hess = (x1 * (p * (1 - p))[:, None]).T @ x1 + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def confidences(rows: list[Row], calibration: Calibration) -> np.ndarray:
    """The confidence each reply shows (0.0 where nothing was read)."""
    return np.array(
        [0.0 if r.features is None else calibration.probability(r.features) for r in rows]
    )


def high_threshold(conf: np.ndarray, right: np.ndarray, precision: float = HIGH_PRECISION) -> float:
    """The lowest confidence from which the answers given are right at least ``precision``
    of the time: where "high confidence" starts (1.0 when no such confidence exists)."""
    order = np.argsort(-conf, kind="stable")
    precisions = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    ok = np.where(precisions >= precision)[0]
    return float(conf[order][ok[-1]]) if len(ok) else 1.0


def vetoed(rows: list[Row], calibration: Calibration) -> np.ndarray:
    """Which answers a vetoing check refuses whatever their confidence."""
    return np.array([r.features is not None and calibration.vetoed(r.features) for r in rows])


def abstain_threshold(
    rows: list[Row], conf: np.ndarray, refused: float = REFUSED, veto: np.ndarray | None = None
) -> float:
    """The lowest confidence (in steps of 0.01) under which abstaining refuses at least
    ``refused`` of the questions without an answer (those ``veto`` refuses counted as
    refused): the most answers a bar on near misses allows."""
    missing = np.array([not r.answerable for r in rows])
    refusing = np.zeros(len(rows), dtype=bool) if veto is None else veto
    for step in range(1, 100):
        threshold = step / 100
        if ((conf < threshold) | refusing)[missing].mean() >= refused:
            return threshold
    return 1.0


def choose_abstain(fit_hard: list[Row], draft: Calibration) -> float:
    """Where replies abstain: the bar is on every kind of the fit half's near misses, those
    a rival vetoes counted as refused."""
    return abstain_threshold(
        fit_hard, confidences(fit_hard, draft), REFUSED, vetoed(fit_hard, draft)
    )


def scores(
    rows: list[Row], conf: np.ndarray, threshold: float, veto: np.ndarray | None = None
) -> dict[str, Any]:
    """Abstention recall and precision, F1 on the answerable questions, accuracy, ECE; the
    answers ``veto`` marks are refused whatever their confidence."""
    answered = conf >= threshold
    if veto is not None:
        answered &= ~veto
    answerable = np.array([r.answerable for r in rows])
    right = np.array([r.right for r in rows])
    f1s = np.array([r.f1 for r in rows])
    refused = ~answered
    abstention = abstention_scores(list(refused), list(answerable))
    return {
        "questions": len(rows),
        "answerable": int(answerable.sum()),
        "abstention_recall": abstention["recall"],
        "abstention_precision": abstention["precision"],
        "f1_answerable": float(100 * (f1s * answered)[answerable].mean()),
        "accuracy": float(np.where(answered, right, ~answerable).mean()),
        "ece": expected_calibration_error(list(conf), list(right)),
        "by_kind": {
            kind: float(refused[[r.kind == kind for r in rows]].mean())
            for kind in sorted({r.kind for r in rows})
        },
    }


def ask_halves(
    squad: Path,
    reader_path: Path | None,
    sample: int,
    size_open: int,
    names: tuple[str, ...] = ("fit", "test"),
) -> dict[str, list[Asked]]:
    """The hard and open sets of the halves ``names``, asked."""
    from qa.reader import load_reader

    reader = load_reader(reader_path)
    fit_half, test_half, pools = halves(squad)
    sets: dict[str, list[Asked]] = {}
    for name, articles in (("fit", fit_half), ("test", test_half)):
        if name not in names:
            continue
        sets[f"{name} hard"] = gold_rows(hard_set(articles, pools, sample), reader)
        sets[f"{name} open"] = open_rows(articles, size_open, reader=reader)
        print(f"{name} half asked", file=sys.stderr, flush=True)
    return sets


def measure(sets: dict[str, list[Row]], calibration: Calibration) -> dict[str, dict[str, Any]]:
    """Each set's scores under ``calibration``, with how right its "high confidence" was."""
    measured = {}
    for name, rows in sets.items():
        conf = confidences(rows, calibration)
        right = np.array([r.right for r in rows])
        high = conf >= calibration.high
        measured[name] = {
            **scores(rows, conf, calibration.abstain, vetoed(rows, calibration)),
            "high_precision": float(right[high].mean()) if high.any() else None,
            "high_share": float(high.mean()),
            "reliability": reliability(list(conf), list(right)),
        }
    return measured


def report(title: str, measured: dict[str, dict[str, Any]]) -> None:
    print(title)
    for name, m in measured.items():
        high = "-" if m["high_precision"] is None else f"{m['high_precision']:.3f}"
        kinds = ", ".join(f"{k} {v:.2f}" for k, v in m["by_kind"].items())
        print(
            f"  {name:9} n={m['questions']:5}  abstention recall {m['abstention_recall']:.3f} "
            f"precision {m['abstention_precision']:.3f}  F1 answerable {m['f1_answerable']:5.1f}"
            f"  accuracy {m['accuracy']:.3f}  ECE {m['ece']:.3f}  high: precision {high}, "
            f"share {m['high_share']:.2f}\n            no answer given, by kind: {kinds}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, help="an exported reader (default: the shipped one)")
    parser.add_argument("--sample", type=int, default=1200, help="answerable questions per set")
    parser.add_argument("--open", type=int, default=600, help="open-corpus questions per half")
    parser.add_argument("--write", action="store_true", help=f"store the fit in {CALIBRATION_FILE}")
    parser.add_argument("--plot", type=Path, help="write reliability.png into this folder")
    parser.add_argument(
        "--squad", type=Path, default=squad_path(), help="SQuAD v1.1 train (.json.gz)"
    )
    parser.add_argument(
        "--rows",
        type=Path,
        help="JSON file of the questions asked and their answers' evidence: read if there "
        "(the features are computed again), else written",
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="ask the test half only and score the confidence before this calibration (the "
        "reader's ranking score alone): the figures to compare with, for any --reader",
    )
    args = parser.parse_args(argv)

    if args.rows and args.rows.exists():
        asked = {
            name: [Asked(**row) for row in rows]
            for name, rows in json.loads(args.rows.read_text()).items()
        }
    else:
        names = ("test",) if args.before else ("fit", "test")
        asked = ask_halves(args.squad, args.reader, args.sample, args.open, names)
        if args.rows:
            args.rows.write_text(
                json.dumps({name: [asdict(r) for r in rows] for name, rows in asked.items()})
            )
    sets = {name: [a.row() for a in rows] for name, rows in asked.items()}
    report("reader score alone (the confidence before):", measure(sets, SCORE_ONLY))
    if args.before:
        return 0
    weights, bias = fit(sets["fit hard"] + sets["fit open"])
    draft = Calibration(tuple(float(w) for w in weights), bias, 0.5, 1.0, {}, VETO)
    abstain = choose_abstain(sets["fit hard"], draft)
    # "high" is set on every held-out answer a rival does not veto (both halves): the top
    # of one half is too thin to set it
    pooled = [r for rows in sets.values() for r in rows if not vetoed([r], draft)[0]]
    right = np.array([r.right for r in pooled])
    high = round(high_threshold(confidences(pooled, draft), right), 3)
    calibration = Calibration(draft.weights, bias, abstain, high, {}, VETO)
    measured = measure(sets, calibration)
    report(f"calibrated (abstain under {abstain}, high confidence from {high}):", measured)
    print("weights", dict(zip(FEATURES, calibration.weights)), "bias", round(bias, 3))
    calibration = Calibration(
        calibration.weights,
        bias,
        abstain,
        high,
        {
            "data": "SQuAD v1.1 train, the articles held out of the reader's training, split "
            "in halves by title: fit on one half, measured on both (python -m qa.eval.calibrate)",
            "right": "token F1 >= 0.5 with the gold answer (qa.eval.metrics.answer_right)",
            "abstain": f"the lowest confidence refusing at least {REFUSED:.0%} of the fit "
            "half's near misses of every kind (nearby, swap, other, removed), those whose "
            "sentence holds a rival (vetoed whatever their confidence) counted as refused",
            "high": f"the lowest confidence from which at least {HIGH_PRECISION:.0%} of the "
            "answers of both halves that no rival vetoes were right",
            "high_precision_target": HIGH_PRECISION,
            "sets": measured,
        },
        VETO,
    )
    if args.write:
        calibration.save(CALIBRATION_FILE)
        print(f"wrote {CALIBRATION_FILE}")
    if args.plot:
        from qa.eval.plots import reliability_plot

        args.plot.mkdir(parents=True, exist_ok=True)
        curves = {name: m["reliability"] for name, m in measured.items() if "test" in name}
        print(reliability_plot(curves, args.plot / "reliability.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
