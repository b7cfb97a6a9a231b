"""Segments: writes in proportion to the change; merges and removals keep the same answers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.embed import Embedder
from qa.index import Index, dense, derived, sparse
from qa.types import Document

pytestmark = pytest.mark.local_only  # segments and merges are the local backend's

WORDS = "kyiv missile drone six kinzhal river bridge mayor shelling port the of".split()
DIM = 8
TOWNS = ["Kherson", "Kharkiv", "Odesa"]

# one step: add a batch of chunks (their texts as word indexes), or remove chunks (by their
# position among those alive, modulo), then merge as the policy says
STEP = st.one_of(
    st.tuples(
        st.just("add"),
        st.lists(st.lists(st.integers(0, len(WORDS) - 1), max_size=6), min_size=1, max_size=4),
    ),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 1000), min_size=1, max_size=3)),
)


def _fresh(texts: dict[int, str], vectors: dict[int, np.ndarray]) -> derived.Snapshot:
    """One segment holding exactly these chunks: what a rebuild from the store gives."""
    ids = np.array(sorted(texts), dtype=np.int64)
    if not len(ids):
        return derived.empty()
    matrix = np.stack([vectors[int(i)] for i in ids])
    return derived.empty().added(ids, matrix, [texts[int(i)] for i in ids])


def _answers(
    segments: tuple,
    queries: list[str],
    query_vectors: np.ndarray,
    kept: sparse.TermScores | None = None,
) -> list:
    found = []
    for query, vector in zip(queries, query_vectors):
        ranked = sparse.search(segments, query, 5)
        scored = sparse.scores(segments, query, [cid for cid, _ in ranked])
        assert [scored[cid] for cid, _ in ranked] == [s for _, s in ranked]  # as search scores
        prepared = sparse.Query(segments, query, kept)  # counted once, for both
        assert sparse.search(segments, prepared, 5) == ranked
        assert sparse.scores(segments, prepared, [cid for cid, _ in ranked]) == scored
        found.append(
            (ranked, [scored[cid] for cid, _ in ranked], dense.search(segments, vector, 5))
        )
    return found


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_segments_and_merges_answer_as_a_fresh_rebuild(
    steps: list, seed: int, tmp_path_factory: pytest.TempPathFactory, monkeypatch_merge: None
) -> None:
    """Property: whatever the adds, removals and merges, BM25 scores and rankings and dense
    rankings are exactly those of one segment built from the live chunks; a removed chunk is
    never found; and the set reads back from disk the same."""
    rng = np.random.default_rng(seed)
    snapshot, texts, vectors, removed = derived.empty(), {}, {}, set()
    next_id = 1
    for kind, payload in steps:
        kept = snapshot.term_scores
        if kind == "add":
            ids = np.arange(next_id, next_id + len(payload), dtype=np.int64)
            next_id += len(payload)
            batch = [" ".join(WORDS[w] for w in words) for words in payload]
            matrix = rng.normal(size=(len(ids), DIM)).astype(np.float32)
            for cid, text, vector in zip(ids, batch, matrix):
                texts[int(cid)], vectors[int(cid)] = text, vector
            snapshot = snapshot.added(ids, matrix, batch)
        elif texts:
            alive = sorted(texts)
            gone = sorted({alive[p % len(alive)] for p in payload})
            for cid in gone:
                texts.pop(cid), vectors.pop(cid)
            removed |= set(gone)
            snapshot = snapshot.removed(gone)
        snapshot = snapshot.merged()
        for query in ("kyiv missile", "port"):  # terms' scores kept: they must not outlive it
            sparse.search(snapshot.segments, sparse.Query(snapshot.segments, query, kept), 5)
    queries = ["kyiv missile", "six kinzhal kinzhal", "bridge of the river", "port", "the"]
    query_vectors = rng.normal(size=(len(queries), DIM)).astype(np.float32)
    expected = _answers(_fresh(texts, vectors).segments, queries, query_vectors)
    kept = snapshot.term_scores
    assert _answers(snapshot.segments, queries, query_vectors, kept) == expected
    assert snapshot.chunks == len(texts)
    assert len(snapshot.segments) < 2 * derived.MERGE_FACTOR  # merged as it goes
    for ranked, _, nearest in expected:
        assert not {cid for cid, _ in ranked + nearest} & removed
    folder = tmp_path_factory.mktemp("derived")
    saved = derived.save(folder, snapshot.at(1), contextlib.nullcontext())
    loaded = derived.load(folder, DIM)
    assert loaded is not None and loaded.saved == saved.saved
    assert _answers(loaded.segments, queries, query_vectors) == expected


@pytest.mark.parametrize("removed", [[], [3, 40, 77]])
def test_bm25_selects_alike_among_few_touched_chunks_and_among_many(removed: list[int]) -> None:
    """A rare word touches few chunks (they are gathered, then ranked), a common one most (the
    top is selected among all scores in place): both give the top of every chunk's score."""
    rng = np.random.default_rng(7)
    texts = [
        " ".join(["missile"] * int(rng.integers(1, 4)) + (["kinzhal"] if i % 30 == 0 else []))
        + f" report {i}"
        for i in range(120)
    ]
    ids = np.arange(1, 121, dtype=np.int64)
    snapshot = derived.empty().added(ids, rng.normal(size=(120, DIM)).astype(np.float32), texts)
    snapshot = snapshot.removed(removed)
    live = [int(i) for i in ids if int(i) not in removed]
    for query, many in (("kinzhal", False), ("missile", True), ("missile kinzhal", True)):
        q = sparse.Query(snapshot.segments, query)
        touched = sum(len(q.postings[t][0][0]) for t in q.tokens)
        assert (touched * sparse.DENSE_SHARE >= 120) is many
        every = sparse.scores(snapshot.segments, q, live)
        expected = sorted(((c, v) for c, v in every.items() if v > 0), key=lambda p: (-p[1], p[0]))
        found = sparse.search(snapshot.segments, q, 10)
        assert [c for c, _ in found] == [c for c, _ in expected[:10]]
        assert [v for _, v in found] == pytest.approx([v for _, v in expected[:10]])
        assert not {c for c, _ in sparse.search(snapshot.segments, q, 200)} & set(removed)


def test_a_query_is_split_as_bm25s_splits_it() -> None:
    queries = [
        "How many Kinzhal missiles were fired?",
        "Who is the mayor of Kharkiv?",
        "0-dimensional biomaterials show inductive properties.",
        "the of and a",  # stop words only
        "",
        "?!",
        "Київ, 81 ракета — Zaluzhny's forces' (Ukraine) 2023-03-09",
        "IL-10 cells producing TGF-β in ΔF508 mice",
    ]
    for query in queries:
        assert sparse.query_terms(query) == sparse.tokenize([query])[0]


@pytest.fixture
def monkeypatch_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Merge three at a time, so a few steps exercise the policy."""
    monkeypatch.setattr(derived, "MERGE_FACTOR", 3)


def doc(text: str, source: str) -> Document:
    return Document(text=text, source=source, title=source, format="txt")


def _files(index: Index) -> dict[str, int]:
    """Every derived file but the state, with its modification time."""
    folder = index.backend.path / "derived"
    return {
        p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file() and p.name != "state.json"
    }


def test_terms_scores_are_kept_within_their_bound_least_recently_used_out() -> None:
    kept = sparse.TermScores(limit=100)
    kept.put("port", 1.0, [np.zeros(10, np.float32)])  # 40 bytes
    kept.put("kyiv", 2.0, [np.zeros(5, np.float32), np.zeros(5, np.float32)])  # 40 more
    assert kept.get("port") is not None  # now the most recently used
    kept.put("mayor", 3.0, [np.zeros(10, np.float32)])  # over 100: "kyiv" goes
    assert kept.get("kyiv") is None and [kept.get(t)[0] for t in ("port", "mayor")] == [1.0, 3.0]
    kept.put("river", 4.0, [np.zeros(30, np.float32)])  # larger than the bound: not kept
    assert kept.get("river") is None and kept.get("port") is not None


def test_a_search_after_a_write_scores_with_the_new_statistics(index: Index) -> None:
    """The terms' scores kept between searches go with the state they were counted on."""
    texts = {
        f"{i}.txt": f"The port of {town} was shelled. Report {i}." for i, town in enumerate(TOWNS)
    }
    index.add_documents([doc(text, source) for source, text in texts.items()])
    texts["ships.txt"] = "The port reopened; ships left the port."
    index.add_documents([doc(texts["ships.txt"], "ships.txt")])
    for gone in (None, "0.txt"):
        if gone:
            index.remove(gone)
            del texts[gone]
        model = sparse.bm25_model(list(texts.values()))
        expected = dict(zip(texts, model.get_scores(sparse.query_terms("port shelled")).tolist()))
        for _ in range(2):  # the second search uses what the first kept
            hits = index.search("port shelled", k=10, mode="bm25")
            assert {h.source: h.score for h in hits} == pytest.approx(expected, rel=1e-5)


def test_adding_a_report_writes_only_its_own_segment(sample_index: Index) -> None:
    before = _files(sample_index)
    sample_index.add_documents([doc("A ferry sank near Izmail on Tuesday.", "ferry.txt")])
    after = _files(sample_index)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing rewritten
    new = {k.split("/")[0] for k in after if k not in before}
    assert len(new) == 1 and len(sample_index.backend.snapshot.segments) == 2
    assert sample_index.search("ferry Izmail", k=1)[0].source == "ferry.txt"


def test_removing_a_report_rewrites_no_segment(index: Index) -> None:
    index.add_documents(
        [doc(f"Report {i}: {town} was shelled.", f"{i}.txt") for i, town in enumerate(TOWNS)]
    )
    before = _files(index)
    index.remove("0.txt")
    after = _files(index)
    assert {k: v for k, v in after.items() if not k.startswith("removed-")} == before
    assert any(k.startswith("removed-") for k in after)
    for mode in ("hybrid", "dense", "bm25"):
        assert all(h.source != "0.txt" for h in index.search("Kherson shelled", mode=mode))


def test_a_mostly_removed_segment_is_rewritten(index: Index) -> None:
    index.add_documents(
        [doc(f"Report {i}: {town} was shelled.", f"{i}.txt") for i, town in enumerate(TOWNS)]
    )
    (segment,) = index.backend.snapshot.segments
    index.remove("0.txt")
    index.remove("1.txt")
    index.wait_for_merges()
    (rewritten,) = index.backend.snapshot.segments
    assert rewritten.name != segment.name and len(rewritten) == rewritten.alive == 1
    assert not (index.backend.path / "derived" / segment.name).exists()
    assert [h.source for h in index.search("shelled", mode="bm25")] == ["2.txt"]


def test_removed_reports_never_return_after_merges_or_reopening(
    index: Index, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derived, "MERGE_FACTOR", 2)
    index.add_documents([doc("The Kakhovka dam was destroyed on Tuesday.", "dam.txt")])
    index.remove("dam.txt")
    for i in range(6):  # enough single-chunk segments for merges of merges
        index.add_documents([doc(f"Report {i}: the port of Odesa was shelled again.", f"{i}.txt")])
    index.wait_for_merges()
    assert len(index.backend.snapshot.segments) <= 2
    index.close()
    with Index.open(index.backend.path, embedder=embedder) as again:
        for mode in ("hybrid", "dense", "bm25"):
            assert all(h.source != "dam.txt" for h in again.search("Kakhovka dam", k=10, mode=mode))
        assert again.counts() == {"documents": 6, "chunks": 6}


def test_a_crash_after_a_removal_is_committed_is_caught_up_on_open(
    index: Index, embedder: Embedder
) -> None:
    index.add_documents(
        [doc(f"Report {i}: {town} was shelled.", f"{i}.txt") for i, town in enumerate(TOWNS)]
    )
    segments = [s.name for s in index.backend.snapshot.segments]
    index.close()
    env = {**os.environ, "QA_CRASH_AT": "after-commit"}
    cmd = [sys.executable, "-m", "qa.cli", "remove", "0.txt", "--index", str(index.backend.path)]
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 86
    with Index.open(index.backend.path, embedder=embedder) as again:
        # caught up, not rebuilt
        assert [s.name for s in again.backend.snapshot.segments] == segments
        assert again.backend.snapshot.chunks == again.counts()["chunks"] == 2
        for mode in ("hybrid", "dense", "bm25"):
            assert all(h.source != "0.txt" for h in again.search("Kherson", k=10, mode=mode))
    assert derived.load(Path(index.backend.path), 384) is not None


def _unit(n: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_large_segment_searches_approximately_and_agrees_with_exact(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """HNSW past the size threshold: with as many candidates as rows it gives exact search's
    answers, filtered or not, before and after a save, and its removals hold."""
    from qa.index import segment

    monkeypatch.setattr(segment, "ANN_ROWS", 2000)
    vectors, ids = _unit(3000, 1), np.arange(1, 3001, dtype=np.int64)
    texts = ["kyiv"] * len(ids)
    approximate = segment.Segment.build("a", ids, vectors, texts)
    monkeypatch.setattr(segment, "ANN_ROWS", 10**9)
    exact = segment.Segment.build("e", ids, vectors, texts)
    assert isinstance(approximate.vectors, faiss.IndexHNSW)
    assert isinstance(exact.vectors, faiss.IndexFlat)
    monkeypatch.setattr(dense, "HNSW_SEARCH", len(ids))  # every row a candidate: exact
    approximate.save(tmp_path / "a")
    loaded = segment.Segment.load("a", tmp_path / "a", DIM)
    allowed = ids[::7]
    for query in _unit(20, 2):
        want = dense.search([exact], query, 10)
        assert [c for c, _ in dense.search([approximate], query, 10)] == [c for c, _ in want]
        assert [c for c, _ in dense.search([loaded], query, 10)] == [c for c, _ in want]
        filtered = [c for c, _ in dense.search([exact], query, 10, allowed)]
        assert [c for c, _ in dense.search([approximate], query, 10, allowed)] == filtered
        gone = np.array([want[0][0]])
        assert want[0][0] not in [
            c for c, _ in dense.search([approximate.without(gone)], query, 10)
        ]


def test_an_approximate_search_finds_stored_vectors_with_its_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from qa.index import segment

    monkeypatch.setattr(segment, "ANN_ROWS", 2000)
    vectors = _unit(4000, 3)
    built = segment.Segment.build("a", np.arange(4000), vectors, ["x"] * 4000)
    assert isinstance(built.vectors, faiss.IndexHNSW)
    assert all(dense.search([built], vectors[i], 1)[0][0] == i for i in range(0, 4000, 97))


def test_an_index_from_before_segments_is_rebuilt_once_and_its_old_files_go(
    sample_index: Index, embedder: Embedder
) -> None:
    """The previous layout (one dense.faiss, one bm25/ folder, a state without segments)."""
    import json
    import shutil

    before = [h.to_dict() for h in sample_index.search("Kinzhal", k=5)]
    sample_index.close()
    folder = sample_index.backend.path / "derived"
    shutil.rmtree(folder)
    (folder / "bm25").mkdir(parents=True)
    (folder / "bm25" / "ids.npy").write_bytes(b"old")
    (folder / "dense.faiss").write_bytes(b"old")
    manifest = json.loads((sample_index.backend.path / "manifest.json").read_text())
    state = {"generation": manifest["generation"]}
    (folder / "state.json").write_text(json.dumps({**state, "files": {}}), encoding="utf-8")
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        assert [h.to_dict() for h in again.search("Kinzhal", k=5)] == before
    assert not (folder / "dense.faiss").exists() and not (folder / "bm25").exists()
    assert derived.load(sample_index.backend.path, 384) is not None


def test_a_write_does_not_wait_for_a_merge_and_a_removal_during_it_holds(
    index: Index, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setattr(derived, "MERGE_FACTOR", 2)
    started, release = threading.Event(), threading.Event()
    merge = derived.merge

    def slow_merge(name: str, group: list) -> object:
        started.set()
        assert release.wait(60)
        return merge(name, group)

    monkeypatch.setattr(derived, "merge", slow_merge)
    index.add_documents([doc("The Kakhovka dam was destroyed on Tuesday.", "dam.txt")])
    index.add_documents([doc("Trains to Odesa ran late on Sunday.", "trains.txt")])
    assert started.wait(60)  # the merge of the two segments is under way, and waits
    index.remove("dam.txt")  # a write while it runs: does not wait for it
    index.add_documents([doc("Ferries to Kherson stopped on Monday.", "ferries.txt")])
    assert all(h.source != "dam.txt" for h in index.search("Kakhovka dam", k=10))
    release.set()
    index.wait_for_merges()
    assert index.backend.snapshot.chunks == index.counts()["chunks"] == 2
    for mode in ("hybrid", "dense", "bm25"):
        assert all(h.source != "dam.txt" for h in index.search("Kakhovka dam", k=10, mode=mode))
    index.close()
    with Index.open(index.backend.path, embedder=embedder) as again:
        assert again.backend.snapshot.chunks == 2
        assert {h.source for h in again.search("trains ferries", k=10)} == {
            "trains.txt",
            "ferries.txt",
        }


def test_a_handle_takes_up_another_handles_merge_before_it_writes(
    index: Index, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process merged (the store did not move): this one writes on top of the merge,
    not of the segments the merge replaced."""
    import threading

    monkeypatch.setattr(derived, "MERGE_FACTOR", 2)
    release = threading.Event()
    merge = derived.merge
    monkeypatch.setattr(derived, "merge", lambda *a: release.wait(60) and merge(*a))
    index.add_documents([doc("The Kakhovka dam was destroyed on Tuesday.", "dam.txt")])
    index.add_documents([doc("Trains to Odesa ran late on Sunday.", "trains.txt")])
    other = Index.open(index.backend.path, embedder=embedder)  # the two segments, not merged yet
    assert len(other.backend.snapshot.segments) == 2
    release.set()
    index.wait_for_merges()
    (merged,) = index.backend.snapshot.segments
    monkeypatch.setattr(derived, "MERGE_FACTOR", 10)  # no merge of other's write
    other.add_documents([doc("Ferries to Kherson stopped on Monday.", "ferries.txt")])
    assert merged.name in {s.name for s in other.backend.snapshot.segments}  # on top of the merge
    assert len(other.backend.snapshot.segments) == 2
    other.close()
    folders = {p.name for p in (index.backend.path / "derived").iterdir() if p.is_dir()}
    assert folders == {s.name for s in derived.load(index.backend.path, 384).segments}  # type: ignore[union-attr]
    assert len(folders) == 2
