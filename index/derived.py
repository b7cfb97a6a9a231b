"""The files derived from SQLite: segments of FAISS vectors and BM25 postings.

Layout of ``derived/``::

    state.json          the generation the set matches, its segments, and the removed-chunk
                        file; replaced by a rename, so it is the commit point of the set
    <segment name>/     one folder per segment (:mod:`qa.index.segment`), written once
    removed-<n>.npy     ids of chunks removed from a segment that still holds them

A write adds one segment (its new chunks) and a new removed-chunk list: it costs time in
proportion to the change. Segments of about the same size are merged, ten at a time, and a
segment is rewritten once more than half of it is removed, so a search visits a few dozen
segments at most and removed rows do not pile up; a chunk is merged about log10(N) times.

``state.json`` records each file's size, modification time and SHA-256 (taken when it was
written). Every file is checked against its SHA-256 before its segment is first searched,
whatever its modification time says: bit rot keeps the time. When another process's write
brings new segments they are checked as they are read; at open the whole set is checked by a
thread of its own (:class:`Check`; SHA-256 runs at 1.4 GB/s on a 2-core EPYC, about 1 s at a
million chunks) while the models load, and the first search waits for it. Segments already in
memory are not read again. Any damage means the set is rebuilt from SQLite, the truth.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import IndexFormatError
from qa.index.segment import Segment
from qa.index.sparse import TermScores
from qa.index.store import Store

DERIVED = "derived"
STATE = "state.json"
SWAP_LOCK = ".derived.lock"  # held exclusively while a set is swapped in, shared while read
MERGE_FACTOR = 10  # segments of one size tier merged together
REBUILD_CHUNKS = 20_000  # chunks per segment when the set is built from the store


@dataclass(frozen=True)
class Snapshot:
    """One consistent state of the derived set: never changed, replaced whole by a write."""

    segments: tuple[Segment, ...]
    generation: int
    next_name: int  # the number the next new segment is named after
    saved: frozenset[str] = field(default=frozenset())  # segments already on disk
    # BM25 terms' scores, kept while this state is searched (a write makes a new state)
    term_scores: TermScores = field(default_factory=TermScores, compare=False, repr=False)

    @property
    def chunks(self) -> int:
        return sum(s.alive for s in self.segments)

    def max_id(self) -> int:
        return max((int(s.ids[-1]) for s in self.segments if len(s)), default=0)

    def name(self) -> str:
        """A new segment's folder name: numbered in order, and never one used before."""
        return f"{self.next_name:08d}-{secrets.token_hex(4)}"

    def added(self, ids: np.ndarray, vectors: np.ndarray, texts: list[str]) -> Snapshot:
        """With a new segment holding these chunks."""
        if not len(ids):
            return self
        segment = Segment.build(self.name(), ids, vectors, texts)
        return Snapshot((*self.segments, segment), self.generation, self.next_name + 1, self.saved)

    def removed(self, ids: Sequence[int] | np.ndarray) -> Snapshot:
        """With these chunks marked removed wherever they are held."""
        if not len(ids):
            return self
        wanted = np.asarray(ids, dtype=np.int64)
        segments = tuple(s.without(wanted) for s in self.segments)
        return Snapshot(segments, self.generation, self.next_name, self.saved)

    def merged(self) -> Snapshot:
        """With every merge the policy asks for done, here and now."""
        snapshot = self
        while group := merge_group(snapshot.segments):
            snapshot = snapshot.replaced(group, merge(snapshot.name(), group))
        return snapshot

    def replaced(self, group: Sequence[Segment], merged: Segment | None) -> Snapshot:
        """With the segments of ``group`` replaced by ``merged``, their merge (None when they
        held no live chunk). It may have been built from an older snapshot: chunks removed
        from the group since are marked removed in it too. If a segment of the group is gone
        (merged by another writer), this snapshot as it is."""
        current = {s.name: s for s in self.segments}
        if any(g.name not in current for g in group):
            return self
        names = {g.name for g in group}
        kept = tuple(s for s in self.segments if s.name not in names)
        if merged is not None:
            dead = [current[g.name].ids[~current[g.name].live] for g in group]
            kept += (merged.without(np.concatenate(dead)),)
        return Snapshot(kept, self.generation, self.next_name + 1, self.saved)

    def at(self, generation: int) -> Snapshot:
        return Snapshot(self.segments, generation, self.next_name, self.saved)


def merge_group(segments: Sequence[Segment]) -> list[Segment]:
    """The segments to merge next: an empty or mostly removed one, else ``MERGE_FACTOR`` of
    one size tier (tier: the number of decimal digits of the live count); none if neither."""
    for segment in segments:
        if segment.alive * 2 < len(segment):
            return [segment]
    tiers: dict[int, list[Segment]] = {}
    for segment in segments:
        tier = tiers.setdefault(int(math.log10(max(1, segment.alive))), [])
        tier.append(segment)
        if len(tier) == MERGE_FACTOR:
            return tier
    return []


def merge(name: str, group: Sequence[Segment]) -> Segment | None:
    """The segment holding the live chunks of ``group``; None if it has none."""
    alive = [s for s in group if s.alive]
    return Segment.merge(name, alive) if alive else None


def empty() -> Snapshot:
    return Snapshot((), 0, 1)


def load(folder: Path, dim: int, known: Snapshot | None = None) -> Snapshot | None:
    """The saved set (stale or not: check its generation), or None if missing or damaged.

    Segments that ``known`` already holds are taken from it, not read again.
    """
    return _load(folder, dim, known, _intact)


def load_checked_later(folder: Path, dim: int) -> tuple[Snapshot | None, Check]:
    """:func:`load`, but the segments' files are hashed by a thread of their own (see
    :class:`Check`) while the caller goes on: sizes are checked now, contents later."""
    unchecked: list[tuple[Path, dict[str, list]]] = []

    def later(folder: Path, files: dict[str, list]) -> bool:
        unchecked.append((folder, files))
        return _sizes_match(folder, files)

    snapshot = _load(folder, dim, None, later)
    return snapshot, Check(unchecked if snapshot else [])


class Check:
    """The SHA-256 check of files already loaded (memory-mapped, so not yet read), run in a
    thread of its own: at a million chunks (1.5 GB) it takes about a second, which opening
    an index need not wait for (loading the models takes longer). Whoever reads the files
    first asks :meth:`intact`, which waits for the check: nothing is searched unchecked."""

    def __init__(self, files: list[tuple[Path, dict[str, list]]]) -> None:
        self._files = files
        self._intact = not files
        self._thread = threading.Thread(target=self._run, name="qa-derived-check", daemon=True)
        if files:
            self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(Exception):  # unreadable is damaged
            self._intact = all(_intact(folder, files) for folder, files in self._files)

    def intact(self) -> bool:
        """Whether every file is as written (waits for the check to end)."""
        if self._files:
            self._thread.join()
        return self._intact


def _load(
    folder: Path,
    dim: int,
    known: Snapshot | None,
    check: Callable[[Path, dict[str, list]], bool],
) -> Snapshot | None:
    derived = folder / DERIVED
    try:
        state = json.loads((derived / STATE).read_text(encoding="utf-8"))
        reuse = {s.name: s for s in known.segments} if known else {}
        segments = []
        for entry in state["segments"]:
            name = entry["name"]
            if name in reuse:
                segments.append(reuse[name])
                continue
            if not check(derived / name, entry["files"]):
                return None
            segments.append(Segment.load(name, derived / name, dim))
        removed = np.zeros(0, dtype=np.int64)
        if state["removed"]:
            if not _intact(derived, state["removed"]):
                return None
            (file,) = state["removed"]
            removed = np.load(derived / file, allow_pickle=False)
        snapshot = Snapshot(
            tuple(segments),
            int(state["generation"]),
            int(state["next"]),
            frozenset(s.name for s in segments),
        )
        return snapshot.removed(removed)
    except Exception:  # any damage to a rebuildable cache means: rebuild it
        return None


def saved_next(folder: Path) -> int | None:
    """The segment counter of the set on disk (None if unreadable): it moves with every
    write and merge, so a handle whose snapshot has another has missed one."""
    try:
        return int(json.loads((folder / DERIVED / STATE).read_text(encoding="utf-8"))["next"])
    except Exception:
        return None


def catch_up(
    store: Store,
    dim: int,
    snapshot: Snapshot | None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> Snapshot:
    """``snapshot`` brought up to the store: chunks added since go into new segments, chunks
    removed since are marked. Costs one read of the chunk ids, plus the new chunks. Without
    a snapshot, or if the store holds chunks the snapshot should have and has not (a store
    restored from a backup), the set is built from scratch. A stored vector that fails its
    checksum is made again from its chunk's text with ``embed`` and stored (without it, an
    IndexFormatError)."""
    generation = store.generation()
    stored = store.chunk_ids()
    snapshot = snapshot or empty()
    held = np.concatenate([s.ids[s.live] for s in snapshot.segments] or [stored[:0]])
    if len(np.setdiff1d(stored[stored <= snapshot.max_id()], held, assume_unique=True)):
        snapshot = empty()  # ids are never reused: only a foreign store gets here
        held = stored[:0]
    snapshot = snapshot.removed(np.setdiff1d(held, stored, assume_unique=True))
    new = stored[stored > snapshot.max_id()]
    for first in range(0, len(new), REBUILD_CHUNKS):
        ids = new[first : first + REBUILD_CHUNKS]
        vectors, texts, damaged = store.chunk_data(int(ids[0]), int(ids[-1]), dim)
        if damaged:
            if embed is None:
                raise IndexFormatError(
                    f"{store.path} is damaged: the vector of chunk {int(ids[damaged[0]])} "
                    "fails its checksum"
                )
            vectors = vectors.copy()
            vectors[damaged] = embed([texts[i] for i in damaged])
            store.put_vectors(ids[damaged], vectors[damaged])
        snapshot = snapshot.added(ids, vectors, texts)
    return snapshot.merged().at(generation)


def save(
    folder: Path, snapshot: Snapshot, publishing: contextlib.AbstractContextManager[object]
) -> Snapshot:
    """Write the segments not yet on disk, then (inside ``publishing``: the lock that keeps
    readers from loading a half-swapped set) the state naming them, and remove what no
    longer belongs to the set. Returns the snapshot with its segments marked saved."""
    derived = folder / DERIVED
    if derived.is_symlink() or (derived.exists() and not derived.is_dir()):
        _remove(derived)
    derived.mkdir(exist_ok=True)
    written = _read_state(derived)
    entries = []
    for segment in snapshot.segments:
        path = derived / segment.name
        if segment.name not in snapshot.saved or segment.name not in written:
            _remove(path)
            segment.save(path)
            written[segment.name] = {p.name: _fingerprint(p) for p in sorted(path.iterdir())}
        entries.append({"name": segment.name, "files": written[segment.name]})
    dead = np.concatenate([s.ids[~s.live] for s in snapshot.segments] or [np.zeros(0, np.int64)])
    removed: dict[str, list] = {}
    if len(dead):
        name = f"removed-{secrets.token_hex(6)}.npy"
        np.save(derived / name, dead.astype(np.int64))
        removed = {name: _fingerprint(derived / name)}
    state = {
        "generation": snapshot.generation,
        "next": snapshot.next_name,
        "segments": entries,
        "removed": removed,
    }
    tmp = derived / f"{STATE}.tmp"
    tmp.write_text(json.dumps(state), encoding="utf-8")
    with publishing:
        os.replace(tmp, derived / STATE)
        keep = {e["name"] for e in entries} | set(removed) | {STATE}
        for leftover in derived.iterdir():
            if leftover.name not in keep:
                with contextlib.suppress(OSError):
                    _remove(leftover)
    saved = frozenset(s.name for s in snapshot.segments)
    return Snapshot(snapshot.segments, snapshot.generation, snapshot.next_name, saved)


def _read_state(derived: Path) -> dict[str, dict]:
    """The file fingerprints of each segment named in the current state, by name."""
    try:
        state = json.loads((derived / STATE).read_text(encoding="utf-8"))
        return {e["name"]: e["files"] for e in state["segments"]}
    except Exception:
        return {}


def _fingerprint(path: Path) -> list:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, digest(path)]


def _intact(folder: Path, files: dict[str, list]) -> bool:
    """Whether the files are as written: same size and same SHA-256 (the time recorded
    with them is not trusted: flipped bits keep it)."""
    return _sizes_match(folder, files) and all(
        digest(folder / name) == sha for name, (_, _, sha) in files.items()
    )


def _sizes_match(folder: Path, files: dict[str, list]) -> bool:
    if not isinstance(files, dict) or not files:
        return False
    return all((folder / name).stat().st_size == size for name, (size, _, _) in files.items())


def digest(path: Path) -> str:
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
