"""BM25 over segments' postings: English stop words, Snowball stemming, numbers kept."""

from __future__ import annotations

import contextlib
import math
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import Stemmer


@contextlib.contextmanager
def _jax_hidden() -> Iterator[None]:
    """JAX unimportable for a moment, unless the process has imported it already. Where JAX is
    installed, bm25s imports it and runs a JAX operation at import time, which makes JAX claim
    75% of a GPU's memory in every process that opens an index; qa never uses bm25s's JAX path."""
    if "jax" in sys.modules:
        yield
        return
    sys.modules["jax"] = None  # type: ignore[assignment]  # "import jax" fails while it is set
    try:
        yield
    finally:
        del sys.modules["jax"]


with _jax_hidden():
    import bm25s

if TYPE_CHECKING:
    from qa.index.segment import Segment

K1, B = 1.5, 0.75  # bm25s's defaults
DENSE_SHARE = 16  # postings over 1/16 of a segment's chunks: select among all its scores
FEW = 4096  # chunks at or above a hint's floor sorted as they are (else: select among all)
SCORES_KEPT = 256 * 2**20  # bytes of terms' scores kept between searches of one snapshot
TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-character tokens: "6", "a" is a stop word anyway
_stemmer = Stemmer.Stemmer("english")


_TOKEN = re.compile(TOKEN_PATTERN)
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)  # tokenize's stopwords="en"


def stem(word: str) -> str:
    """The BM25 form of one word: lower-cased and stemmed."""
    return str(_stemmer.stemWord(word.lower()))


def terms(text: str) -> list[tuple[int, int, str]]:
    """Every word of ``text`` as BM25 sees it (stop words included), with its span."""
    return [(m.start(), m.end(), stem(m.group())) for m in _TOKEN.finditer(text)]


def query_terms(text: str) -> list[str]:
    """``tokenize([text])[0]`` without bm25s's per-call set-up (three progress bars and a
    stop-word set built per text: a quarter of a BM25 search at 100,000 chunks)."""
    words = _TOKEN.findall(text.lower())
    return list(_stemmer.stemWords([w for w in words if w not in _STOPWORDS]))


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(
        texts,
        token_pattern=TOKEN_PATTERN,
        stopwords="en",
        stemmer=_stemmer.stemWords,
        return_ids=False,
        show_progress=False,
    )


def bm25_model(texts: list[str]) -> bm25s.BM25:
    """A bm25s model over whole ``texts`` (split by :func:`tokenize`), to score texts against
    a query with ``get_scores``."""
    model = bm25s.BM25()
    model.index(tokenize(texts), show_progress=False)
    return model


class TermScores:
    """Terms' idf and their scores in the chunks that hold them, per segment, kept between
    the searches of one snapshot (whose statistics no write changes: a write makes a new
    snapshot, with a new, empty one), up to ``limit`` bytes, the least recently used
    dropped first. Safe to share between threads."""

    def __init__(self, limit: int = SCORES_KEPT) -> None:
        self.limit = limit
        self._kept: OrderedDict[str, tuple[float, list[np.ndarray]]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, term: str) -> tuple[float, list[np.ndarray]] | None:
        with self._lock:
            found = self._kept.get(term)
            if found is not None:
                self._kept.move_to_end(term)
            return found

    def put(self, term: str, idf: float, scores: list[np.ndarray]) -> None:
        size = sum(part.nbytes for part in scores)
        with self._lock:
            if term in self._kept or size > self.limit:
                return
            while self._bytes + size > self.limit:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._bytes -= sum(part.nbytes for part in dropped)
            self._kept[term] = (idf, scores)
            self._bytes += size


class Query:
    """A query's terms and the statistics of every segment's live chunks it is scored with:
    Lucene's BM25 (as bm25s scores it), idf = ln(1 + (N - df + 0.5) / (df + 0.5)) and
    tf / (tf + k1 (1 - b + b len / avglen)), with N, df and avglen counted over the live
    chunks of every segment, so the scores do not depend on how chunks fall into segments.
    A term's scores in the chunks holding it are computed once per ``kept`` (the segments'
    :class:`TermScores`; without it, once per query)."""

    def __init__(
        self, segments: Sequence[Segment], query: str, kept: TermScores | None = None
    ) -> None:
        self.tokens = query_terms(query)
        self.segments = segments
        self.kept = kept if kept is not None else TermScores()
        alive = sum(s.alive for s in segments)
        length = sum(s.live_length for s in segments)
        self.empty = not self.tokens or not length  # nothing asked, or no live chunk has a word
        if self.empty:
            return
        self.postings = {t: [s.postings.term(t) for s in segments] for t in set(self.tokens)}
        self.idf = {}
        for t, found in self.postings.items():
            known = self.kept.get(t)
            if known is None:
                df = sum(_live_count(s, docs) for s, (docs, _) in zip(segments, found))
                self.idf[t] = math.log(1 + (alive - df + 0.5) / (df + 0.5))
            else:
                self.idf[t] = known[0]
        # tf / (tf + k1 (1 - b) + k1 b len / avglen), in float32 with as few passes as can be
        self.base, self.per_term = np.float32(K1 * (1 - B)), np.float32(K1 * B * alive / length)

    def term_scores(self, t: str) -> list[np.ndarray]:
        """Term ``t``'s score in each segment's chunks that hold it, in its postings' order;
        or, where many chunks hold it (1/``DENSE_SHARE`` or more), in every row, 0 where it is
        absent: adding those scores is then one pass over contiguous memory, not a scatter.
        Read-only, as they are kept."""
        known = self.kept.get(t)
        if known is not None:
            return known[1]
        scores = []
        for segment, (docs, tf) in zip(self.segments, self.postings[t]):
            part = self.part(segment, t, docs, tf)
            if len(docs) * DENSE_SHARE >= len(segment):
                whole = np.zeros(len(segment), dtype=np.float32)
                whole[docs] = part
                part = whole
            part.flags.writeable = False  # kept: shared by every search of this state
            scores.append(part)
        self.kept.put(t, self.idf[t], scores)
        return scores

    def part(self, segment: Segment, t: str, docs: np.ndarray, tf: np.ndarray) -> np.ndarray:
        """Term ``t``'s score in the rows ``docs`` of ``segment``, which hold it ``tf`` times."""
        part = segment.lengths32[docs]
        part *= self.per_term
        part += self.base
        part += tf
        np.divide(tf, part, out=part)
        part *= np.float32(self.idf[t])
        return part


def search(
    segments: Sequence[Segment], query: str | Query, k: int, allowed: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """Top ``k`` (chunk id, BM25 score) with score > 0 (see :class:`Query`; a query
    prepared over the same ``segments`` is not prepared again)."""
    q = query if isinstance(query, Query) else Query(segments, query)
    if q.empty:
        return []
    candidates = []
    for i, segment in enumerate(segments):
        # work in proportion to the query terms' postings, but for one scan of the scores
        total = np.zeros(len(segment), dtype=np.float32)  # pages are only touched if written
        touched, rarest = 0, None
        for t in q.tokens:  # a word asked twice counts twice, as in bm25s
            docs, _ = q.postings[t][i]
            if not len(docs):
                continue
            part = q.term_scores(t)[i]
            if len(part) == len(segment):  # every row's (see Query.term_scores)
                total += part
            else:
                total[docs] += part
            touched += len(docs)
            rarest = docs if rarest is None or len(docs) < len(rarest) else rarest
        if allowed is not None:  # a filter's few chunks: only theirs are looked at
            rows = segment.rows(allowed)
            rows = rows[segment.live[rows]]
            best = rows[top_k(total[rows], k)]
        elif touched * DENSE_SHARE >= len(segment):  # many chunks hold a term: select in place
            if segment.alive < len(segment):
                total *= segment.live
            best = top_k_dense(total, k, rarest)
        else:  # few do: gather them, then select
            rows = np.flatnonzero(total)  # every term adds a positive score: the chunks touched
            rows = rows[segment.live[rows]]
            best = rows[top_k(total[rows], k)]
        candidates += [(int(segment.ids[r]), float(total[r])) for r in best]
    return sorted(candidates, key=lambda pair: (-pair[1], pair[0]))[:k]


def scores(segments: Sequence[Segment], query: str | Query, ids: Sequence[int]) -> dict[int, float]:
    """The BM25 score of each given live chunk for ``query``, as :func:`search` scores it
    (0 for a chunk that holds no query term), growing with the chunks asked for only once
    the query is prepared (its statistics cost what they cost :func:`search`: pass the
    :class:`Query` that search used)."""
    q = query if isinstance(query, Query) else Query(segments, query)
    wanted = np.asarray(ids, dtype=np.int64)
    found: dict[int, float] = {}
    for i, segment in enumerate(segments):
        rows = np.sort(segment.rows(wanted))
        rows = rows[segment.live[rows]]
        if not len(rows):
            continue
        total = np.zeros(len(rows), dtype=np.float32)
        for t in [] if q.empty else q.tokens:
            docs, tf = q.postings[t][i]
            at = np.minimum(np.searchsorted(docs, rows), max(0, len(docs) - 1))
            held = (docs[at] == rows) if len(docs) else np.zeros(len(rows), dtype=bool)
            if held.any():
                total[held] += q.part(segment, t, rows[held], tf[at[held]])
        found.update({int(segment.ids[r]): float(v) for r, v in zip(rows, total)})
    return found


def _live_count(segment: Segment, docs: np.ndarray) -> int:
    """How many of ``docs`` (rows of ``segment``) are live."""
    return len(docs) if segment.alive == len(segment) else int(segment.live[docs].sum())


def top_k_dense(scores: np.ndarray, k: int, hint: np.ndarray | None = None) -> np.ndarray:
    """What :func:`top_k` gives, for scores most of which may be positive, without gathering
    every positive one. ``hint`` (positions, such as the chunks holding the query's rarest
    word, which hold most of the best scores) gives a floor: the k-th highest score among
    them is at most the k-th highest of all, so the chunks scoring at least that hold the top
    k, and only they are sorted. Without a useful hint, the k-th highest is found by one
    selection over the whole array."""
    if k <= 0 or not len(scores):
        return np.zeros(0, dtype=np.int64)
    if hint is not None and len(hint) >= k:
        among = scores[hint]
        floor = np.partition(among, len(among) - k)[len(among) - k]
        if floor > 0:
            rows = np.flatnonzero(scores >= floor)
            if len(rows) <= max(FEW, 16 * k):
                return rows[np.argsort(-scores[rows], kind="stable")][:k]
    n = len(scores)
    kth = np.partition(scores, n - k)[n - k] if k < n else np.float32(0)
    rows = np.flatnonzero(scores >= kth) if kth > 0 else np.flatnonzero(scores > 0)
    return rows[np.argsort(-scores[rows], kind="stable")][:k]


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
