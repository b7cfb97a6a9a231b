"""The files derived from SQLite, FAISS vectors and BM25, tagged with their generation.

They live in ``derived/`` (``dense.faiss``, ``bm25/``, ``state.json``). A new set is written
to ``derived.tmp`` and swapped in by renames; a set whose generation or size does not match
the store is not used, and is rebuilt from it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from qa.index.dense import DenseIndex
from qa.index.sparse import SparseIndex
from qa.index.store import Store

DERIVED = "derived"


def load(folder: Path, store: Store, dim: int) -> tuple[DenseIndex, SparseIndex] | None:
    """The saved indexes if they match the store's current generation and size, else None.

    They are a cache of SQLite: any damage (missing, truncated, wrong JSON shapes) means None,
    and the caller rebuilds them.
    """
    derived = folder / DERIVED
    try:
        state = json.loads((derived / "state.json").read_text(encoding="utf-8"))
        if not isinstance(state, dict) or state.get("generation") != store.generation():
            return None
        dense = DenseIndex.load(derived / "dense.faiss", dim)
        sparse = SparseIndex.load(derived / "bm25")
        if not len(dense) == len(sparse.ids) == store.counts()["chunks"] or dense.index.d != dim:
            return None
    except Exception:  # any damage to a rebuildable cache means: rebuild it
        return None
    return dense, sparse


def build(store: Store, dim: int) -> tuple[DenseIndex, SparseIndex]:
    """Both indexes from the store's embeddings and chunk texts."""
    ids, vectors = store.embeddings(dim)
    dense = DenseIndex(dim)
    dense.add(ids, vectors)
    return dense, SparseIndex.build(list(store.chunk_texts()))


def save(folder: Path, dense: DenseIndex, sparse: SparseIndex, generation: int) -> None:
    """Write a new set and swap it in; call with the index's exclusive lock held."""
    tmp, final, old = (folder / f"{DERIVED}{suffix}" for suffix in (".tmp", "", ".old"))
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    dense.save(tmp / "dense.faiss")
    sparse.save(tmp / "bm25")
    (tmp / "state.json").write_text(json.dumps({"generation": generation}), encoding="utf-8")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
