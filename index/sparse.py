"""BM25 over chunk texts with bm25s: English stop words, Snowball stemming, numbers kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-character tokens: "6", "a" is a stop word anyway
_stemmer = Stemmer.Stemmer("english")


_TOKEN = re.compile(TOKEN_PATTERN)


def stem(word: str) -> str:
    """The BM25 form of one word: lower-cased and stemmed."""
    return str(_stemmer.stemWord(word.lower()))


def terms(text: str) -> list[tuple[int, int, str]]:
    """Every word of ``text`` as BM25 sees it (stop words included), with its span."""
    return [(m.start(), m.end(), stem(m.group())) for m in _TOKEN.finditer(text)]


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(
        texts,
        token_pattern=TOKEN_PATTERN,
        stopwords="en",
        stemmer=_stemmer.stemWords,
        return_ids=False,
        show_progress=False,
    )


class SparseIndex:
    """A BM25 model over all chunks; ``ids[i]`` is the chunk id of BM25 document ``i``."""

    def __init__(self, model: bm25s.BM25 | None, ids: np.ndarray) -> None:
        self.model = model
        self.ids = ids
        self._position = {int(cid): i for i, cid in enumerate(ids)}

    @classmethod
    def build(cls, chunks: list[tuple[int, str]]) -> SparseIndex:
        ids = np.array([cid for cid, _ in chunks], dtype=np.int64)
        tokens = tokenize([text for _, text in chunks])
        if not any(tokens):  # no chunks, or nothing but stop words: nothing to score
            return cls(None, ids)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        return cls(model, ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in the order of ``ids``."""
        tokens = tokenize([query])[0]
        if self.model is None or not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        vocab = self.model.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)

    def search(
        self, query: str, k: int, allowed: list[int] | None = None
    ) -> tuple[list[tuple[int, float]], Callable[[int], float]]:
        """Top ``k`` (chunk id, score) with score > 0, and a lookup of any chunk's score."""
        scores = self.scores(query)
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[[self._position[c] for c in allowed if c in self._position]] = True
            scores = np.where(mask, scores, 0.0)
        ranked = [(int(self.ids[i]), float(scores[i])) for i in top_k(scores, k)]

        def lookup(cid: int) -> float:
            return float(scores[self._position[cid]]) if cid in self._position else 0.0

        return ranked, lookup

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "ids.npy", self.ids)
        if self.model is not None:
            self.model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> SparseIndex:
        """The saved index; ValueError when its files do not fit together (damaged)."""
        ids = np.load(directory / "ids.npy")
        model = None
        if (directory / "params.index.json").exists():
            model = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
            _check(model, len(ids), directory)
        return cls(model, ids)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest positive scores, highest first, ties in position order:
    a stable sort of the whole array cut at ``k``, less its zeros, but sorting only the
    chunks that hold a query term (a few percent of a large index) and of those only the
    ones that can make the top ``k``."""
    hits = np.flatnonzero(scores > 0)
    if k <= 0 or not len(hits):
        return hits[:0]
    values = scores[hits]
    if k < len(hits):
        kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th highest
        hits, values = hits[values >= kth], values[values >= kth]
    return hits[np.argsort(-values, kind="stable")][:k]


def _check(model: bm25s.BM25, n_chunks: int, directory: Path) -> None:
    """Raise ValueError unless vocabulary, score matrix and chunk count agree."""
    vocab, scores = model.vocab_dict, model.scores
    columns = len(scores["indptr"]) - 1
    if (
        not isinstance(vocab, dict)
        or sorted(vocab.values()) != list(range(len(vocab)))
        or len(vocab) not in (columns, columns + 1)  # bm25s may add "" past the last column
        or scores.get("num_docs") != n_chunks
        or len(scores["data"]) != len(scores["indices"])
    ):
        raise ValueError(f"the BM25 files in {directory} do not fit together")
