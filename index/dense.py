"""Exact inner-product search over normalised embeddings with FAISS (cosine similarity)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import faiss
import numpy as np

from qa.index.locking import ReadWriteLock


class DenseIndex:
    """Chunk embeddings keyed by chunk id (``IndexIDMap2`` over ``IndexFlatIP``).

    Writes change the FAISS index in place, so searches and writes exclude each other
    through a readers-writer lock; both are short (a write adds or removes a few vectors).
    """

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._lock = ReadWriteLock()

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            with self._lock.write():
                self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)

    def remove(self, ids: list[int]) -> None:
        if ids:
            with self._lock.write():
                self.index.remove_ids(np.array(ids, dtype=np.int64))  # type: ignore[arg-type]

    def search(
        self, query: np.ndarray, k: int, allowed: list[int] | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk id, cosine) pairs, best first, limited to ``allowed`` ids."""
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(  # type: ignore[call-arg]
                sel=faiss.IDSelectorBatch(np.array(allowed, dtype=np.int64))
            )
        with self._lock.read():
            scores, ids = self.index.search(
                query.reshape(1, -1).astype(np.float32), k, params=params
            )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine similarity of the query with each given chunk."""
        if not ids:
            return {}
        found: dict[int, np.ndarray] = {}
        with self._lock.read():
            for i in ids:
                with contextlib.suppress(RuntimeError):  # removed by a write since the search
                    found[i] = np.asarray(self.index.reconstruct(int(i)))
        if not found:
            return {}
        vectors = np.vstack(list(found.values()))
        return dict(zip(found, (vectors @ query.astype(np.float32)).tolist()))

    def save(self, path: Path) -> None:
        with self._lock.read():
            faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> DenseIndex:
        return cls(dim, faiss.read_index(str(path)))
