"""The files derived from SQLite, FAISS vectors and BM25, tagged with their generation.

They live in ``derived/`` (``dense.faiss``, ``bm25/``, ``state.json``). A new set is written
to ``derived.tmp`` and swapped in by renames. ``state.json`` records the generation the set
was built from and a SHA-256 of every file, so a set that is stale, or damaged in a way that
keeps its size (shuffled ids, overwritten vectors), is not used but rebuilt from the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from qa.index.dense import DenseIndex
from qa.index.sparse import SparseIndex
from qa.index.store import Store

DERIVED = "derived"
STATE = "state.json"
SWAP_LOCK = ".derived.lock"  # held exclusively while a set is swapped in, shared while read


def load(folder: Path, store: Store, dim: int) -> tuple[DenseIndex, SparseIndex, int] | None:
    """The saved indexes and their generation if they match the store, else None.

    They are a cache of SQLite: any damage (missing, truncated, changed bytes, wrong JSON
    shapes) means None, and the caller rebuilds them.
    """
    derived = folder / DERIVED
    try:
        state = json.loads((derived / STATE).read_text(encoding="utf-8"))
        generation = store.generation()
        if not isinstance(state, dict) or state.get("generation") != generation:
            return None
        if state.get("files") != checksums(derived):
            return None
        dense = DenseIndex.load(derived / "dense.faiss", dim)
        sparse = SparseIndex.load(derived / "bm25")
        if not len(dense) == len(sparse.ids) == store.counts()["chunks"] or dense.index.d != dim:
            return None
    except Exception:  # any damage to a rebuildable cache means: rebuild it
        return None
    return dense, sparse, generation


def build(store: Store, dim: int) -> tuple[DenseIndex, SparseIndex]:
    """Both indexes from the store's embeddings and chunk texts."""
    ids, vectors = store.embeddings(dim)
    dense = DenseIndex(dim)
    dense.add(ids, vectors)
    return dense, SparseIndex.build(list(store.chunk_texts()))


def save(folder: Path, dense: DenseIndex, sparse: SparseIndex, generation: int) -> None:
    """Write a new set and swap it in; call with the index's exclusive locks held."""
    tmp, final, old = (folder / f"{DERIVED}{suffix}" for suffix in (".tmp", "", ".old"))
    _remove(tmp)
    tmp.mkdir()
    dense.save(tmp / "dense.faiss")
    sparse.save(tmp / "bm25")
    state = {"generation": generation, "files": checksums(tmp)}
    (tmp / STATE).write_text(json.dumps(state), encoding="utf-8")
    _remove(old)
    if final.exists() or final.is_symlink():
        final.rename(old)
    tmp.rename(final)
    with contextlib.suppress(OSError):  # the new set is in place; a leftover is removed next time
        _remove(old)


def checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the state file, by relative path."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            relative = path.relative_to(folder).as_posix()
            if relative != STATE:
                found[relative] = _digest(path)
    return found


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def _remove(path: Path) -> None:
    """Remove a leftover folder, or a file or link in its place."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
