"""The persistent hybrid index: identity, updates, removal, filters, reopening, crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.embed import Embedder
from qa.engine import Engine
from qa.errors import (
    DocumentNotFoundError,
    IndexFormatError,
    IndexNotFoundError,
    ModelMismatchError,
)
from qa.index import Index
from qa.options import Filters
from qa.types import Document
from tests.indexes import chunk_ids, searched_ids

KINZHAL = "how many Kinzhal missiles were fired"


def doc(text: str, source: str = "a.txt", date: str | None = None) -> Document:
    return Document(text=text, source=source, title=source, format="txt", date=date)


def test_sample_search_finds_kinzhal_sentence_with_exact_span(sample_index: Index) -> None:
    hits = sample_index.search(KINZHAL, k=3)
    assert "six Kinzhal hypersonic missiles" in hits[0].text
    stored = sample_index.document(hits[0].doc_id).text
    for hit in hits:
        assert stored is not None
        assert sample_index.document(hit.doc_id).text[hit.start : hit.end] == hit.text
    assert hits[0].dense_score is not None and hits[0].bm25_score is not None
    assert [h.rank for h in hits] == [1, 2, 3]
    dense = sample_index.search(KINZHAL, k=3, mode="dense")  # BM25 is not run at all
    assert all(h.dense_score is not None and h.bm25_score is h.bm25_rank is None for h in dense)
    bm25 = sample_index.search(KINZHAL, k=3, mode="bm25")
    assert all(h.bm25_score and h.dense_score is h.dense_rank is None for h in bm25)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_mode_ranks_the_answer_first(sample_index: Index, mode: str) -> None:
    hits = sample_index.search(KINZHAL, k=5, mode=mode)
    assert "six Kinzhal" in hits[0].text
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_every_chunk_is_a_slice_of_its_document(sample_index: Index) -> None:
    texts = sample_index.backend.store.chunk_ids()
    hits = sample_index.search("missile", k=len(texts), mode="bm25")
    for hit in hits:
        assert sample_index.document(hit.doc_id).text[hit.start : hit.end] == hit.text
    assert sample_index.counts()["chunks"] == len(texts)


def test_reingest_changes_nothing(sample_index: Index, sample_index_path: Path) -> None:
    from qa.config import sample_corpus

    before = sample_index.counts()
    ids = chunk_ids(sample_index)
    report = sample_index.add([sample_corpus()])
    assert (len(report.added), len(report.unchanged)) == (0, 2)
    assert sample_index.counts() == before
    assert chunk_ids(sample_index) == ids


def test_changed_source_replaces_old_version(index: Index) -> None:
    index.add_documents([doc("The bridge over the Dnipro was closed on Monday.")])
    old = chunk_ids(index)
    report = index.add_documents([doc("The airport in Lviv reopened on Tuesday.")])
    assert len(report.replaced) == 1 and not report.added
    assert index.counts() == {"documents": 1, "chunks": 1}
    assert not old & chunk_ids(index)
    assert searched_ids(index) == chunk_ids(index) and len(chunk_ids(index)) == 1
    for mode in ("bm25", "dense"):
        assert all("bridge" not in h.text for h in index.search("bridge Dnipro", mode=mode))


def test_remove_drops_chunks_from_dense_and_bm25(sample_index: Index) -> None:
    hit = sample_index.search(KINZHAL, k=1)[0]
    removed = sample_index.remove(hit.doc_id)
    assert removed.id == hit.doc_id
    assert sample_index.counts()["documents"] == 1
    assert searched_ids(sample_index) == chunk_ids(sample_index)
    for mode in ("hybrid", "dense", "bm25"):
        assert all(h.doc_id != hit.doc_id for h in sample_index.search(KINZHAL, k=20, mode=mode))
    with pytest.raises(DocumentNotFoundError):
        sample_index.remove(hit.doc_id)


def test_remove_by_source_and_id_prefix(index: Index) -> None:
    index.add_documents([doc("One text here.", "one.txt"), doc("Another text here.", "two.txt")])
    assert index.remove("one.txt").source == "one.txt"
    two = index.documents()[0]
    assert index.remove(two.id[:6]).id == two.id
    assert index.counts() == {"documents": 0, "chunks": 0}
    assert index.search("text", mode="bm25") == []


def test_several_documents_are_removed_together_or_not_at_all(index: Index) -> None:
    index.add_documents([doc(f"Report {n} about the port.", f"{n}.txt") for n in range(4)])
    with pytest.raises(DocumentNotFoundError):
        index.remove_many(["0.txt", "1.txt", "missing.txt"])
    assert index.counts()["documents"] == 4  # one not found: none removed
    removed = index.remove_many(["0.txt", "1.txt", "0.txt"])
    assert [d.source for d in removed] == ["0.txt", "1.txt"]  # each once
    assert sorted(d.source for d in index.documents()) == ["2.txt", "3.txt"]
    assert {h.source for h in index.search("port", mode="bm25")} == {"2.txt", "3.txt"}
    assert index.remove_many([]) == []
    # those already gone skipped, the rest removed (a list chosen before another removal)
    kept = index.remove_many(["1.txt", "2.txt"], missing_ok=True)
    assert [d.source for d in kept] == ["2.txt"]
    assert [d.source for d in index.documents()] == ["3.txt"]


def test_catalog_lists_a_page_of_documents_without_text(index: Index) -> None:
    docs = [
        Document(
            "Shelling hit Kherson overnight.", "reports/kherson.txt", "Kherson shelled", "txt"
        ),
        Document("Trains to Odesa resumed.", "reports/odesa.txt", "Odesa trains", "txt"),
        Document("Prices rose.", "misc/prices_now.txt", "A 50% rise", "txt", "2024-01-02"),
        Document("Обстріл тривав.", "звіти/київ.txt", "Обстріл Києва", "txt"),
    ]
    index.add_documents(docs)
    listing = index.catalog()
    assert listing.total == 4
    assert [d.source for d in listing.documents] == [
        "misc/prices_now.txt",
        "reports/kherson.txt",
        "reports/odesa.txt",
        "звіти/київ.txt",
    ]
    prices = listing.documents[0]
    assert (prices.id, prices.title, prices.date, prices.passages) == (
        docs[2].id,
        "A 50% rise",
        "2024-01-02",
        1,
    )
    assert not hasattr(prices, "text")
    page = index.catalog("REPORTS/", limit=1, offset=1)  # source, any case
    assert (page.total, [d.title for d in page.documents]) == (2, ["Odesa trains"])
    assert [d.title for d in index.catalog("odesa TRAINS").documents] == ["Odesa trains"]
    # any letter's case, not only ASCII's
    assert [index.catalog(c).total for c in ("КИЄВА", "ЗВІТИ/", "києва")] == [1, 1, 1]
    # % and _ are themselves, not wildcards
    assert [index.catalog(c).total for c in ("%", "_", "t%s", "a_t")] == [1, 1, 0, 0]
    assert index.catalog("zzz") == (0, [])
    for bad in ({"limit": 0}, {"limit": 10_001}, {"offset": -1}):
        with pytest.raises(ValueError, match=r"^(limit|offset) must be"):
            index.catalog(**bad)


def test_documents_are_read_by_full_id_and_missing_ones_left_out(index: Index) -> None:
    doc = Document("Trains to Odesa resumed.", "reports/odesa.txt", "Odesa trains", "txt")
    index.add_documents([doc])
    found = index.documents_by_id([doc.id, "0" * 16, doc.id, doc.id[:6]])
    assert list(found) == [doc.id] and found[doc.id].text == doc.text  # a prefix names nothing


def test_the_folders_ingested_are_remembered(index: Index, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "kyiv.txt").write_text("Kyiv report\n\nThe metro ran all night.")
    (tmp_path / "one.txt").write_text("One report\n\nThe port reopened.")
    assert index.roots() == []
    index.add([folder, tmp_path / "one.txt"])
    index.add(folder)  # again: nothing new to remember
    assert index.roots() == sorted([str(folder.resolve()), str(tmp_path.resolve())])
    index.add(tmp_path / "missing")  # nothing read: nothing remembered
    assert len(index.roots()) == 2


def test_filters_by_document_source_and_date(index: Index) -> None:
    index.add_documents(
        [
            doc("Shelling hit Kherson overnight.", "reports/kherson.txt", "2022-12-15"),
            doc("Shelling hit Kharkiv overnight.", "reports/kharkiv.txt", "2023-03-09"),
            doc("Shelling hit Odesa overnight.", "other/odesa.txt"),
        ]
    )
    sources = lambda **f: {  # noqa: E731
        h.source for h in index.search("shelling", k=10, filters=Filters(**f))
    }
    assert sources() == {"reports/kherson.txt", "reports/kharkiv.txt", "other/odesa.txt"}
    assert sources(sources=["reports/"]) == {"reports/kherson.txt", "reports/kharkiv.txt"}
    assert sources(date_from="2023-01-01") == {"reports/kharkiv.txt"}
    assert sources(date_to="2022-12-31") == {"reports/kherson.txt"}
    odesa = next(d for d in index.documents() if d.source == "other/odesa.txt")
    assert sources(doc_ids=[odesa.id]) == {"other/odesa.txt"}
    assert sources(doc_ids=[odesa.id[:6].upper()]) == {"other/odesa.txt"}  # a prefix, any case
    kherson = next(d for d in index.documents() if d.source == "reports/kherson.txt")
    both = sources(doc_ids=[odesa.id[:6], kherson.id[:6]])
    assert both == {"other/odesa.txt", "reports/kherson.txt"}
    assert sources(doc_ids=["%%%%"]) == set() == sources(doc_ids=["____"])  # no wildcards
    assert sources(sources=["nowhere"]) == set()
    # a source's "_" and "%" are themselves, not wildcards
    index.add_documents([doc("Shelling hit Sumy overnight.", "wire/004_sumy%.txt")])
    assert sources(sources=["004_"]) == {"wire/004_sumy%.txt"} == sources(sources=["y%."])
    assert sources(sources=["004x"]) == set() == sources(sources=["sumy%x"])
    # a date edited (same text) moves the document in and out of a date filter
    index.add_documents([doc("Shelling hit Odesa overnight.", "other/odesa.txt", "2024-05-01")])
    assert sources(date_from="2024-01-01") == {"other/odesa.txt"}
    assert "other/odesa.txt" not in sources(date_to="2023-12-31", sources=["odesa"])


def test_reopen_gives_identical_results(sample_index: Index, embedder: Embedder) -> None:
    before = [h.to_dict() for h in sample_index.search(KINZHAL, k=5)]
    sample_index.close()
    with Index.open(sample_index.location, embedder=embedder) as again:
        assert [h.to_dict() for h in again.search(KINZHAL, k=5)] == before


@pytest.mark.local_only
def test_counts_are_kept_by_each_write_and_counted_where_an_older_write_kept_none(
    index: Index,
) -> None:
    """Counting reads the whole index (30 ms at a million chunks, on every write before):
    each write now keeps them beside its generation."""
    import contextlib
    import sqlite3

    from qa.index.store import Store, _counted

    index.add_documents([doc(f"Report {n}. The port reopened.", f"{n}.txt") for n in range(3)])
    index.remove("1.txt")
    index.correct("0.txt", title="The port")
    index.add_documents([doc("Another report. Ships left.", "5.txt")])
    store = index.backend.store
    with store._db() as db:
        counted = _counted(db)
    assert index.counts() == counted == {"documents": 3, "chunks": 3}
    # a write by a version that kept no counts: the kept ones are of an older generation
    path = index.backend.path / "index.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM documents WHERE id = ?", (index.document("5.txt").id,))
        db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    assert Store(path).counts() == {"documents": 2, "chunks": 2}
    index.add_documents([doc("A sixth report. Rain.", "6.txt")])  # counted again, then kept
    assert index.counts() == {"documents": 3, "chunks": 3}


@pytest.mark.local_only
def test_stale_derived_files_are_rebuilt(sample_index: Index, embedder: Embedder) -> None:
    import shutil

    before = [h.to_dict() for h in sample_index.search(KINZHAL, k=5)]
    sample_index.close()
    shutil.rmtree(sample_index.backend.path / "derived")
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        assert [h.to_dict() for h in again.search(KINZHAL, k=5)] == before
    assert (sample_index.backend.path / "derived" / "state.json").exists()


def test_model_mismatch_is_a_clear_error(sample_index: Index, tmp_path: Path) -> None:
    with pytest.raises(ModelMismatchError, match="all-MiniLM-L6-v2"):
        Index.open(sample_index.location, model=str(tmp_path / "some-other-model"))


def test_index_of_a_different_real_model_refuses_the_default(
    tmp_path: Path, embedder: Embedder
) -> None:
    """A real, different model (MiniLM plus a 64-d projection) builds its own index."""
    from sentence_transformers import SentenceTransformer, models

    from qa.embed import BUNDLED_MODEL, load_embedder, model_path

    base = SentenceTransformer(model_path(BUNDLED_MODEL), device="cpu")
    dense = models.Dense(embedder.dim, 64)
    small = SentenceTransformer(modules=[*base, dense], device="cpu")
    model_dir = tmp_path / "minilm-64"
    small.save(str(model_dir))
    other = load_embedder(str(model_dir))
    assert other.dim == 64
    with Index.open(tmp_path / "ix", create=True, embedder=other) as ix:
        ix.add_documents([doc("A short report about a bridge.")])
    with pytest.raises(ModelMismatchError, match="minilm-64"):
        Index.open(tmp_path / "ix", embedder=embedder)
    with Index.open(tmp_path / "ix", model=str(model_dir)) as ix:
        assert ix.search("bridge", k=1)[0].dense_score is not None


def test_missing_index_and_foreign_folder(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="qa ingest"):
        Index.open(tmp_path / "nothing")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(IndexFormatError):
        Index.open(tmp_path / "photos", create=True)


def test_bad_search_arguments(sample_index: Index) -> None:
    for kwargs in ({"k": 0}, {"mode": "fuzzy"}):
        with pytest.raises(ValueError):
            sample_index.search("missiles", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        sample_index.search("   ")


@pytest.mark.parametrize("crash_at", ["before-commit", "after-commit"])
def test_crash_during_ingest_leaves_a_working_index(
    sample_index: Index, tmp_path: Path, embedder: Embedder, crash_at: str
) -> None:
    before = sample_index.counts()
    sample_index.close()
    report = tmp_path / "new.txt"
    report.write_text("Engineers restored the bridge over the river Siverskyi Donets.\n")
    env = {**os.environ, "QA_CRASH_AT": crash_at}
    cmd = [sys.executable, "-m", "qa.cli", "ingest", str(report), "--index", sample_index.location]
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 86
    with Index.open(sample_index.location, embedder=embedder) as again:
        expected = (
            before
            if crash_at == "before-commit"
            else {
                "documents": before["documents"] + 1,
                "chunks": before["chunks"] + 1,
            }
        )
        assert again.counts() == expected
        assert (
            searched_ids(again) == chunk_ids(again) and len(chunk_ids(again)) == expected["chunks"]
        )
        assert "six Kinzhal" in again.search(KINZHAL, k=1)[0].text


CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x7f", "\x85"]
TEXT = st.text(
    alphabet=st.sampled_from([*"abc xyz.,\n\t", "é", "東", "😀", "\u200b", "Ω", "—", *CONTROLS]),
    min_size=1,
    max_size=400,
).filter(lambda t: t.replace("\x00", "").strip())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=3, unique=True))
def test_stored_chunks_are_slices_of_stored_text(texts: list[str], embedder: Embedder) -> None:
    """Property: whatever the text (any Unicode, control characters), SQLite hands back
    doc.text[start:end]; a text with NUL, which SQLite cannot slice, is refused."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Index.open(
            Path(tmp) / "ix", create=True, embedder=embedder, chunk_size=16, chunk_overlap=4
        ) as ix,
    ):
        docs = [doc(t, f"{i}.txt") for i, t in enumerate(texts)]
        if any("\x00" in t for t in texts):
            with pytest.raises(ValueError, match="NUL"):
                ix.add_documents(docs)
            assert ix.counts() == {"documents": 0, "chunks": 0}
            docs = [doc(t.replace("\x00", ""), f"{i}.txt") for i, t in enumerate(texts)]
        ix.add_documents(docs)
        stored = {d.id: d.text for d in ix.documents()}
        chunks = ix.backend.store.chunks(ix.backend.store.chunk_ids().tolist())
        for item in chunks.values():
            chunk = item.chunk
            assert stored[chunk.doc_id][chunk.start : chunk.end] == chunk.text
            assert chunk.text.strip()


@pytest.mark.local_only
def test_a_stale_handle_can_still_write(index: Index, embedder: Embedder) -> None:
    """Another process wrote and its derived files are gone: this handle rebuilds, then writes."""
    import shutil

    assert index.counts() == {"documents": 0, "chunks": 0}  # counted, and kept
    other = Index.open(index.backend.path, embedder=embedder)
    other.add_documents([doc("Trains to Odesa resumed on Sunday.", "trains.txt")])
    assert index.counts() == {"documents": 1, "chunks": 1}  # the other handle's write shows
    shutil.rmtree(index.backend.path / "derived")
    index.add_documents([doc("Ferries to Kherson stopped on Monday.", "ferries.txt")])
    assert index.counts() == {"documents": 2, "chunks": 2}
    assert searched_ids(index) == chunk_ids(index) and len(chunk_ids(index)) == 2
    other.close()


def test_same_source_twice_in_one_batch_is_reported(index: Index) -> None:
    report = index.add_documents([doc("First draft.", "x.txt"), doc("Final text.", "x.txt")])
    assert [d.text for d in report.added] == ["Final text."]
    assert len(report.errors) == 1 and "twice" in report.errors[0].reason
    assert index.counts()["documents"] == 1


def test_source_changed_to_a_text_stored_elsewhere_drops_its_old_version(index: Index) -> None:
    index.add_documents([doc("Bridge closed.", "a.txt"), doc("Airport open.", "b.txt")])
    report = index.add_documents([doc("Airport open.", "a.txt")])
    assert len(report.unchanged) == 1
    assert [d.text for d in index.documents()] == ["Airport open."]
    assert all("Bridge" not in h.text for h in index.search("bridge", mode="bm25"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": 0}, "k must be at least 1"),
        ({"mode": "sparse"}, "unknown mode 'sparse'"),
    ],
)
def test_bad_search_arguments_name_the_value(
    sample_index: Index, arguments: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sample_index.search("missiles", **arguments)


@pytest.mark.local_only
def test_damaged_index_folders_are_clear_errors(sample_index: Index, embedder: Embedder) -> None:
    sample_index.close()
    with pytest.raises(ValueError, match="chunk size 128, not 64"):
        Index.open(sample_index.backend.path, create=True, embedder=embedder, chunk_size=64)
    (sample_index.backend.path / "index.sqlite").rename(sample_index.backend.path / "moved.sqlite")
    with pytest.raises(IndexFormatError, match="missing"):
        Index.open(sample_index.backend.path, embedder=embedder)
    (sample_index.backend.path / "index.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexFormatError, match="not a readable index database"):
        Index.open(sample_index.backend.path, embedder=embedder)


def test_a_document_with_nul_is_refused(index: Index) -> None:
    with pytest.raises(ValueError, match=r"'a.txt' contains a NUL character"):
        index.add_documents([doc("Power cut\x00 in Kyiv.")])
    assert index.counts() == {"documents": 0, "chunks": 0}


def test_add_takes_one_path_as_one_path(index: Index, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_text("Sirens sounded over Lviv at dawn.", encoding="utf-8")
    (folder / "b.txt").write_text("Trains to Kharkiv ran late again.", encoding="utf-8")
    report = index.add(str(folder))
    assert (len(report.added), report.errors) == (2, [])
    assert len(index.add(folder / "a.txt").unchanged) == 1
    report = index.add(str(tmp_path / "missing.txt"))
    assert [e.reason for e in report.errors] == ["file not found"]


@pytest.mark.local_only
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("SEGMENT/vocab.txt", "kinzhal"),
        ("SEGMENT/vocab.txt", ""),
        ("SEGMENT/docs.npy", "not numpy"),
        ("SEGMENT/tf.npy", "not numpy"),
        ("SEGMENT/ids.npy", "not numpy"),
        ("SEGMENT/dense.faiss", "not faiss"),
        ("state.json", "[1]"),
        ("state.json", '{"generation": "x"}'),
        ("state.json", '{"generation": 1, "next": 1, "segments": [], "removed": {}}'),
    ],
)
def test_damaged_derived_files_are_rebuilt(
    sample_index: Index, embedder: Embedder, name: str, content: str
) -> None:
    before = [h.to_dict() for h in sample_index.search(KINZHAL, k=5)]
    sample_index.close()
    path = sample_index.backend.path / "derived" / name.replace("SEGMENT", _segment(sample_index))
    path.write_text(content, encoding="utf-8")
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        assert [h.to_dict() for h in again.search(KINZHAL, k=5)] == before
        assert again.search(KINZHAL, k=1, mode="bm25")[0].bm25_score
    assert not path.exists() or path.read_text(errors="replace") != content


def _segment(index: Index) -> str:
    """The folder name of the index's first segment."""
    return index.backend.snapshot.segments[0].name


@pytest.mark.local_only
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: [m], "holds a JSON list"),
        (lambda m: {**m, "generation": "x"}, "'generation' should be int, not 'x'"),
        (lambda m: {**m, "dim": "384"}, "'dim' should be int, not '384'"),
        (lambda m: {**m, "model": None}, "'model' should be str, not None"),
        (lambda m: {**m, "counts": {"documents": "2"}}, "'counts'"),
        (lambda m: {**m, "chunk_size": True}, "'chunk_size' should be int, not True"),
        (lambda m: {**m, "colour": "red"}, "colour"),
    ],
)
def test_damaged_manifest_names_the_file(
    sample_index: Index, embedder: Embedder, change: Callable[[dict], object], message: str
) -> None:
    import json

    sample_index.close()
    manifest = sample_index.backend.path / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps(change(data)), encoding="utf-8")
    with pytest.raises(IndexFormatError, match=r"manifest\.json") as error:
        Index.open(sample_index.backend.path, embedder=embedder)
    assert message in str(error.value)


def test_progress_is_told_of_reading_and_embedding(
    index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import embed

    texts = [f"Report {i}: shelling damaged {i} houses in Kherson." for i in range(7)]
    for i, text in enumerate(texts):
        (tmp_path / f"r{i}.txt").write_text(text, encoding="utf-8")
    monkeypatch.setattr(embed, "BULK_SLICE", 2)
    calls: list[tuple[str, int, int]] = []
    index.add(sorted(tmp_path.glob("r*.txt")), progress=lambda *call: calls.append(call))
    reading = [c for c in calls if c[0] == "reading"]
    embedding = [c for c in calls if c[0] == "embedding"]
    assert reading[0] == ("reading", 0, 7) and reading[-1] == ("reading", 7, 7)
    assert embedding[-1] == ("embedding", 7, 7) and len(embedding) >= 4  # batches of two
    assert [c[1] for c in embedding] == sorted(c[1] for c in embedding)
    assert searched_ids(index) == chunk_ids(index) and index.counts()["chunks"] == 7
    for text in texts:
        assert index.search(text, k=1, mode="dense")[0].text == text


def test_exact_lookup_takes_only_the_full_id(sample_index: Index) -> None:
    doc = sample_index.documents()[0]
    assert sample_index.document(doc.id[:6]).id == doc.id  # a prefix, as qa show takes it
    for key in (doc.id[:6], doc.source, doc.id + "0"):
        with pytest.raises(DocumentNotFoundError, match="full id"):
            sample_index.remove(key, exact=True)
    assert sample_index.remove(doc.id, exact=True).id == doc.id


def test_a_document_with_undecodable_bytes_is_a_clear_error() -> None:
    text = b"six Kinzhal\xff missiles".decode("utf-8", "surrogateescape")
    with pytest.raises(ValueError, match="not valid text"):
        Document(text, "r.txt", "R", "txt")


def _shuffle_ids(folder: Path) -> None:
    import numpy as np

    ids = np.load(folder / "ids.npy")
    np.save(folder / "ids.npy", ids[::-1].copy())


def _overwrite_vectors(folder: Path) -> None:
    path = folder / "dense.faiss"
    data = bytearray(path.read_bytes())
    data[200:1800] = b"\x7f" * 1600  # same size: only the bytes change
    path.write_bytes(bytes(data))


def _rot(name: str, at: int = 100, size: int = 64) -> Callable[[Path], None]:
    """Bit rot: ``size`` bytes of a segment file flipped, its size and time kept."""

    def damage(folder: Path) -> None:
        path = folder / name
        stat = path.stat()
        data = bytearray(path.read_bytes())
        start = min(at, max(0, len(data) - size))
        data[start : start + size] = bytes(b ^ 0x55 for b in data[start : start + size])
        path.write_bytes(bytes(data))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    damage.__name__ = f"rot_{name}"
    return damage


SEGMENT_FILES = ("dense.faiss", "docs.npy", "ids.npy", "indptr.npy", "lengths.npy", "tf.npy")


@pytest.mark.local_only
@pytest.mark.parametrize(
    "damage",
    [_shuffle_ids, _overwrite_vectors, *(_rot(name) for name in SEGMENT_FILES), _rot("vocab.txt")],
    ids=lambda d: d.__name__,
)
def test_same_size_damage_to_derived_files_is_found_and_repaired(
    sample_index: Index, embedder: Embedder, damage: Callable[[Path], None]
) -> None:
    from qa.index import derived

    before = [h.to_dict() for h in sample_index.search(KINZHAL, k=5)]
    sample_index.close()
    folder = sample_index.backend.path / "derived"
    sizes = {p.name: p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    damage(folder / _segment(sample_index))
    assert {p.name: p.stat().st_size for p in folder.rglob("*") if p.is_file()} == sizes
    assert derived.load(sample_index.backend.path, 384) is None  # found, by its SHA-256
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        assert [h.to_dict() for h in again.search(KINZHAL, k=5)] == before
        assert all(abs(h.dense_score or 0) <= 1.0001 for h in again.search(KINZHAL, k=5))
    assert derived.load(sample_index.backend.path, 384) is not None  # the repaired set was saved


@pytest.mark.local_only
def test_open_checks_the_files_in_the_background_and_the_first_search_waits_for_it(
    sample_index: Index, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing every derived file made opening grow with the index (~1 s at a million
    chunks): now it runs beside whatever follows the open; no search reads unchecked files."""
    import threading

    from qa.index import derived

    before = [h.to_dict() for h in sample_index.search(KINZHAL, k=5)]
    sample_index.close()
    _rot("dense.faiss")(sample_index.backend.path / "derived" / _segment(sample_index))
    hashing, go_on = threading.Event(), threading.Event()
    digest = derived.digest

    def slow_digest(path: Path) -> str:
        hashing.set()
        assert go_on.wait(30)
        return digest(path)

    monkeypatch.setattr(derived, "digest", slow_digest)
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        assert hashing.wait(10)  # opened while the check is still hashing
        found: list[list[dict]] = []
        searching = threading.Thread(
            target=lambda: found.append([h.to_dict() for h in again.search(KINZHAL, k=5)])
        )
        searching.start()
        searching.join(0.5)
        assert searching.is_alive() and not found  # the search waits for the check ...
        go_on.set()
        searching.join(30)
        assert found == [before]  # ... which found the damage: the set was rebuilt
    monkeypatch.undo()
    assert derived.load(sample_index.backend.path, 384) is not None


@pytest.mark.local_only
def test_files_left_in_the_derived_folder_do_not_break_writes(index: Index) -> None:
    index.add_documents([doc("Six Kinzhal missiles were fired.")])
    (index.backend.path / "derived" / "state.json.tmp").write_text("left over", encoding="utf-8")
    (index.backend.path / "derived" / "00000099-stray").mkdir()
    index.add_documents([doc("Two drones were shot down.", "b.txt")])
    assert not (index.backend.path / "derived" / "00000099-stray").exists()
    assert index.counts() == {"documents": 2, "chunks": 2}
    assert searched_ids(index) == chunk_ids(index)


@pytest.mark.local_only
def test_a_file_in_place_of_the_derived_folder_is_replaced(
    sample_index: Index, embedder: Embedder
) -> None:
    sample_index.close()
    import shutil

    shutil.rmtree(sample_index.backend.path / "derived")
    (sample_index.backend.path / "derived").write_text("not a folder", encoding="utf-8")
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        assert "six Kinzhal" in again.search(KINZHAL, k=1)[0].text
    assert (sample_index.backend.path / "derived" / "state.json").exists()


def test_an_interrupted_ingest_keeps_the_committed_batches(index: Index) -> None:
    docs = [doc(f"Report {i}: {i} shells hit the port of Odesa.", f"r{i}.txt") for i in range(5)]

    def interrupt(stage: str, done: int, total: int) -> None:
        if done >= 3:  # Ctrl-C once the third document is embedded, before it is committed
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.add_documents(docs, progress=interrupt, batch_chunks=1)
    assert [d.source for d in index.documents()] == ["r0.txt", "r1.txt"]
    assert searched_ids(index) == chunk_ids(index) and index.counts()["chunks"] == 2
    report = index.add_documents(docs, batch_chunks=1)  # a re-run resumes
    assert len(report.unchanged) == 2 and len(report.added) == 3
    assert index.counts() == {"documents": 5, "chunks": 5}


def test_a_replaced_file_keeps_its_old_text_until_its_new_one_is_stored(index: Index) -> None:
    index.add_documents([doc("Old text about Kharkiv.", "k.txt"), doc("Other.", "o.txt")])

    seen: list[int] = []

    def interrupt(stage: str, done: int, total: int) -> None:
        seen.append(done)
        if seen.count(1) == 2:  # the second batch starts: the first one is committed
            raise KeyboardInterrupt

    new = [doc("A new report from Lviv.", "l.txt"), doc("New text about Kharkiv.", "k.txt")]
    with pytest.raises(KeyboardInterrupt):
        index.add_documents(new, progress=interrupt, batch_chunks=1)
    texts = {d.source: d.text for d in index.documents()}
    assert texts["k.txt"] == "Old text about Kharkiv." and "l.txt" in texts


def _blocking_writer(index: Index, docs: list[Document]) -> tuple[Any, Any, Any]:
    """Start ``index.add_documents(docs)`` in a thread that stops while embedding."""
    import threading

    embedding, release = threading.Event(), threading.Event()

    def pause(stage: str, done: int, total: int) -> None:
        if stage == "embedding" and done == 0:
            embedding.set()
            assert release.wait(60)

    writer = threading.Thread(
        target=index.add_documents, args=(docs,), kwargs={"progress": pause}, daemon=True
    )
    writer.start()
    assert embedding.wait(60)
    return writer, release, embedding


def test_reads_go_on_while_a_write_embeds(sample_index: Index) -> None:
    from concurrent.futures import ThreadPoolExecutor

    before = sample_index.counts()
    writer, release, _ = _blocking_writer(sample_index, [doc("Shelling hit Kherson.", "n.txt")])
    try:
        with ThreadPoolExecutor(4) as pool:  # each read must finish while the write waits
            jobs = [
                pool.submit(sample_index.search, KINZHAL, 3),
                pool.submit(Engine(sample_index).ask, "How many Kinzhal missiles were fired?"),
                pool.submit(sample_index.counts),
                pool.submit(sample_index.documents),
            ]
            hits, answer, counts, docs = (job.result(timeout=60) for job in jobs)
        assert writer.is_alive()
        assert "six Kinzhal" in hits[0].text and answer.short_answer == "six"
        assert counts == before and len(docs) == before["documents"]
    finally:
        release.set()
        writer.join(60)
    assert sample_index.counts()["documents"] == before["documents"] + 1
    # dense: Milvus Lite scores BM25 per segment, a new one's few chunks with their own IDF
    assert sample_index.search("Shelling hit Kherson", k=1, mode="dense")[0].source == "n.txt"


@pytest.mark.local_only
def test_reads_go_on_while_another_process_writes(sample_index: Index, embedder: Embedder) -> None:
    other = Index.open(sample_index.backend.path, embedder=embedder)  # as a `qa ingest` would
    docs = [doc("Shelling hit Kherson.", "n.txt"), doc("A ferry sank near Izmail.", "f.txt")]
    import threading

    second, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def pause(stage: str, done: int, total: int) -> None:
        seen.append(done)
        if stage == "embedding" and seen.count(1) == 2:  # the first batch is committed
            second.set()
            assert release.wait(60)

    writer = threading.Thread(
        target=other.add_documents,
        args=(docs,),
        kwargs={"progress": pause, "batch_chunks": 1},
        daemon=True,
    )
    writer.start()
    try:
        assert second.wait(60)
        assert other.backend._files.busy()  # the other writer holds the index's writer lock
        hits = sample_index.search("Shelling hit Kherson", k=1)  # answered, not waiting
        assert hits[0].source == "n.txt"  # its committed batch is already seen
        assert writer.is_alive()
    finally:
        release.set()
        writer.join(60)
        other.close()
    assert sample_index.search("A ferry sank near Izmail", k=1)[0].source == "f.txt"


@pytest.mark.local_only
def test_a_search_during_a_removal_leaves_the_removed_chunks_out(sample_index: Index) -> None:
    from qa.index.retrieve import Retriever, SegmentCandidates

    segments = sample_index.backend.snapshot.segments  # the state a search started with
    doc_id = sample_index.search(KINZHAL, k=1)[0].doc_id
    sample_index.remove(doc_id)
    embed = sample_index.embedder.encode
    candidates = SegmentCandidates(sample_index.backend.store, segments, None)
    hits = Retriever(candidates, lambda q: embed([q])[0]).search(KINZHAL, 5, "hybrid")
    assert hits and all(h.doc_id != doc_id for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


@pytest.mark.local_only
def test_a_manifest_whose_dim_disagrees_with_the_vectors_is_a_clear_error(
    sample_index: Index, embedder: Embedder
) -> None:
    sample_index.close()
    manifest = sample_index.backend.path / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "dim": 383}), encoding="utf-8")
    with pytest.raises(IndexFormatError, match=r"says 383 dimensions, stored vectors have 384"):
        Index.open(sample_index.backend.path, embedder=embedder)


@pytest.mark.parametrize("seed", range(20))
def test_bm25_top_k_is_a_stable_full_sort_cut_at_k_without_zeros(seed: int) -> None:
    """Both selections: among the touched chunks, and in place among all (many touched)."""
    from qa.index.sparse import top_k, top_k_dense

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    scores = rng.integers(0, 6, n).astype(np.float32)  # few values: many ties
    for k in (0, 1, 2, 5, n - 1, n, n + 3):
        expected = [i for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0]
        assert top_k(scores, k).tolist() == expected
        assert top_k_dense(scores, k).tolist() == expected


def test_opening_an_index_does_not_start_jax(tmp_path: Path) -> None:
    """bm25s runs a JAX operation when it is imported, if JAX is installed, and JAX then takes
    most of a GPU's memory: the index imports bm25s with JAX hidden, and JAX stays importable."""
    marker = tmp_path / "jax-started"
    stand_in = tmp_path / "site" / "jax"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text(
        f"open({str(marker)!r}, 'a').write('imported ')\n", encoding="utf-8"
    )
    (stand_in / "lax.py").write_text(
        f"def top_k(x, k):\n    open({str(marker)!r}, 'a').write('ran ')\n", encoding="utf-8"
    )
    code = (
        "import os, sys\n"
        "import qa.index.sparse\n"
        f"print(os.path.exists({str(marker)!r}))\n"
        "import jax\n"
        f"print(open({str(marker)!r}).read().strip())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), *sys.path])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["False", "imported"]


@pytest.mark.local_only
@pytest.mark.parametrize(("key", "value"), [("chunk_size", 300), ("chunk_overlap", 10)])
def test_an_edited_manifest_is_found(
    sample_index: Index, embedder: Embedder, key: str, value: int
) -> None:
    """Issue 23: a manifest's chunk_size edited by hand was taken as the truth."""
    sample_index.close()
    path = sample_index.backend.path / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    was = manifest[key]
    path.write_text(json.dumps({**manifest, key: value}), encoding="utf-8")
    with pytest.raises(
        IndexFormatError, match=rf"it says {key} {value}, the index was built with {was}"
    ):
        Index.open(sample_index.backend.path, embedder=embedder)
    path.write_text(json.dumps(manifest), encoding="utf-8")  # put back: it opens again
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        assert again.search(KINZHAL, k=1)


@pytest.mark.local_only
def test_a_vector_rotted_in_the_store_is_made_again_when_the_index_is_rebuilt(
    sample_index: Index, embedder: Embedder
) -> None:
    """Issue 23: bytes flipped inside index.sqlite's vectors, then a rebuild, gave wrong
    answers while PRAGMA integrity_check said ok."""
    import shutil
    import sqlite3

    before = sample_index.search(KINZHAL, k=5)
    sample_index.close()
    store = sample_index.backend.path / "index.sqlite"
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT id, embedding FROM chunks ORDER BY id LIMIT 3").fetchall()
        for chunk_id, vector in rows:
            flipped = vector[:100] + bytes(b ^ 0x55 for b in vector[100:164]) + vector[164:]
            db.execute("UPDATE chunks SET embedding = ? WHERE id = ?", (flipped, chunk_id))
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    shutil.rmtree(sample_index.backend.path / "derived")  # the rebuild reads every row
    with Index.open(sample_index.backend.path, embedder=embedder) as again:
        after = again.search(KINZHAL, k=5)
    # the same hits; the scores as close as a text embedded in another batch allows (cosine
    # 0.9999, test_embed: it pads the text otherwise; with both cores busy, a score moved by
    # 1.1e-4)
    assert [(h.doc_id, h.start) for h in after] == [(h.doc_id, h.start) for h in before]
    for was, now in zip(before, after):
        assert now.dense_score == pytest.approx(was.dense_score, abs=1e-3)
    with sqlite3.connect(store) as db:  # repaired in the store too
        repaired = db.execute("SELECT embedding FROM chunks ORDER BY id LIMIT 3").fetchall()
    for (fixed,), (_, original) in zip(repaired, rows):  # the text's embedding again
        again_vector = np.frombuffer(fixed, dtype=np.float32)
        assert float(again_vector @ np.frombuffer(original, dtype=np.float32)) >= 0.9999


@pytest.mark.local_only
def test_a_text_rotted_in_the_store_is_a_clear_error(
    sample_index: Index, embedder: Embedder
) -> None:
    import shutil
    import sqlite3

    sample_index.close()
    with sqlite3.connect(sample_index.backend.path / "index.sqlite") as db:
        doc_id, text = db.execute("SELECT id, text FROM documents LIMIT 1").fetchone()
        db.execute("UPDATE documents SET text = ? WHERE id = ?", (text.swapcase(), doc_id))
    shutil.rmtree(sample_index.backend.path / "derived")
    with pytest.raises(IndexFormatError, match=f"the text of document {doc_id} no longer"):
        Index.open(sample_index.backend.path, embedder=embedder)


def test_the_benchmarks_hook_copies_embedded_documents(
    index: Index, sample_index_path: Path, embedder: Embedder, tmp_path: Path
) -> None:
    """qa.eval.bench's hook: the local index's documents with their stored spans and vectors,
    committed into an index of either backend without embedding, search as the source does."""
    import shutil

    from qa.index.core import local_backend

    shutil.copytree(sample_index_path, tmp_path / "source")
    with Index.open(tmp_path / "source", embedder=embedder) as source:
        documents = list(local_backend(source).embedded_documents())
        assert sum(len(d.spans) for d in documents) == source.counts()["chunks"]
        for d in documents:
            assert len(d.spans) == len(d.embeddings) and d.embeddings.shape[1] == embedder.dim
        index.commit_embedded(documents[:1])
        index.commit_embedded(documents[1:])
        assert index.counts() == source.counts()
        for mode in ("dense", "bm25"):
            assert [(h.doc_id, h.start, h.end) for h in index.search(KINZHAL, k=5, mode=mode)] == [
                (h.doc_id, h.start, h.end) for h in source.search(KINZHAL, k=5, mode=mode)
            ]


def test_a_corrected_title_and_date_are_kept_when_the_file_comes_again(index: Index) -> None:
    """Issue 26: a report's title and date could not be corrected; an ingest of the same
    file would have put its own back."""
    text = "Six Kinzhal missiles were fired on Thursday, the air force said.\nMore follows."
    doc = Document(text, "news/a.txt", "Six Kinzhal missiles were fired on Thursday, the", "txt")
    index.add_documents([doc])
    fixed = index.correct(doc.id, title="  Kinzhal   strikes ", date="2023-03-09")
    assert (fixed.title, fixed.date) == ("Kinzhal strikes", "2023-03-09")
    hit = index.search("Kinzhal", k=1)[0]
    assert (hit.title, hit.date) == ("Kinzhal strikes", "2023-03-09")
    assert index.search("Kinzhal", k=1, filters=Filters(date_from="2023-03-09"))
    assert not index.search("Kinzhal", k=1, filters=Filters(date_to="2023-03-08"))
    report = index.add_documents([doc])  # the same file again: its own title stays out
    assert report.unchanged == [fixed] and index.document(doc.id) == fixed
    newer = Document(text + "\nAn update.", "news/a.txt", doc.title, "txt")
    report = index.add_documents([newer])  # a new version of the file: the correction holds
    assert [d.id for d in report.replaced] == [newer.id]
    assert (index.document("news/a.txt").title, index.document("news/a.txt").date) == (
        "Kinzhal strikes",
        "2023-03-09",
    )
    later = index.correct(newer.id, date="2023-03-10")  # one field: the other kept
    assert (later.title, later.date) == ("Kinzhal strikes", "2023-03-10")
    with pytest.raises(ValueError, match="2023-02-30 is not a day"):
        index.correct(newer.id, date="2023-02-30")
    with pytest.raises(ValueError, match="a title is 1 to 300 characters"):
        index.correct(newer.id, title=" \n ")
    assert index.document(newer.id) == later  # a refused correction changed nothing
    index.remove(newer.id)  # a removed report is forgotten, its correction too
    index.add_documents([doc])
    assert index.document(doc.id) == doc


def test_the_catalog_is_ordered_by_source_title_or_newest_first(index: Index) -> None:
    """Issue 26: the document list could be read in one order only."""
    index.add_documents(
        [
            Document("Alpha text about drones.", "c.txt", "alpha", "txt", "2023-01-05"),
            Document("Beta text about drones.", "a.txt", "Beta", "txt", None),
            Document("Gamma text about drones.", "b.txt", "gamma", "txt", "2023-03-01"),
        ]
    )

    def titles(order: Any) -> list[str]:
        return [d.title for d in index.catalog(order=order).documents]

    assert titles("source") == ["Beta", "gamma", "alpha"]
    assert titles("title") == ["alpha", "Beta", "gamma"]  # whatever the case
    assert titles("date") == ["gamma", "alpha", "Beta"]  # newest first, undated last
    assert [d.title for d in index.catalog(order="date", limit=1, offset=1).documents] == ["alpha"]
    with pytest.raises(ValueError, match="order must be one of source, title, date"):
        index.catalog(order="added")  # type: ignore[arg-type]
