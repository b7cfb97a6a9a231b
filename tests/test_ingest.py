"""What an ingest changes when texts swap, move or keep their text under new metadata."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.embed import Embedder
from qa.index import Index
from qa.options import Filters
from qa.types import Document
from tests.indexes import chunk_ids, searched_ids

A = "Engineers closed the Antonivka bridge after the flood."
B = "Bakers in Bucha reopened their ovens on Monday."
C = "Cargo trains to Chernihiv resumed on Friday."


def doc(text: str, source: str, title: str | None = None, date: str | None = None) -> Document:
    return Document(text=text, source=source, title=title or source, format="txt", date=date)


def stored(index: Index) -> dict[str, str]:
    """Source -> text of every stored document."""
    return {d.source: d.text for d in index.documents()}


def assert_consistent(index: Index) -> None:
    """SQLite, FAISS and BM25 agree, and every search hit names its document's source."""
    counts = index.counts()
    docs = {d.id: d for d in index.documents()}
    assert counts["documents"] == len(docs)
    assert len({d.source for d in docs.values()}) == len(docs), "one document per source"
    searched = searched_ids(index)
    assert searched == chunk_ids(index) and len(searched) == counts["chunks"]
    for d in docs.values():
        words = " ".join(d.text.split()[:4])
        for mode in ("dense", "bm25"):
            hits = index.search(words, k=max(1, counts["chunks"]), mode=mode)
            assert {h.doc_id for h in hits} <= set(docs)
            for hit in hits:
                assert hit.source == docs[hit.doc_id].source
                assert hit.title == docs[hit.doc_id].title
                assert docs[hit.doc_id].text[hit.start : hit.end] == hit.text
        top = index.search(words, k=1, mode="bm25")[0]
        assert top.doc_id == d.id and top.source == d.source


def test_swapped_contents_keep_both_documents(index: Index) -> None:
    index.add_documents([doc(A, "a.txt"), doc(B, "b.txt")])
    before = chunk_ids(index)
    report = index.add_documents([doc(B, "a.txt"), doc(A, "b.txt")])
    assert sorted(d.source for d in report.replaced) == ["a.txt", "b.txt"]
    assert not report.added and not report.unchanged
    assert stored(index) == {"a.txt": B, "b.txt": A}
    assert chunk_ids(index) == before, "moved texts keep their chunks, nothing re-embedded"
    assert_consistent(index)


def test_rotated_contents_lose_nothing(index: Index) -> None:
    index.add_documents([doc(A, "today.txt")])
    report = index.add_documents([doc(A, "yesterday.txt"), doc(C, "today.txt")])
    assert sorted(d.source for d in report.replaced) == ["today.txt", "yesterday.txt"]
    assert stored(index) == {"yesterday.txt": A, "today.txt": C}
    assert_consistent(index)
    report = index.add_documents(
        [doc(A, "two-days-ago.txt"), doc(C, "yesterday.txt"), doc(B, "today.txt")]
    )
    assert len(report.replaced) == 3
    assert stored(index) == {"two-days-ago.txt": A, "yesterday.txt": C, "today.txt": B}
    assert_consistent(index)


def test_a_text_under_an_untouched_source_stays_there(index: Index) -> None:
    index.add_documents([doc(A, "a.txt"), doc(B, "b.txt")])
    report = index.add_documents([doc(B, "copy-of-b.txt"), doc(C, "c.txt")])
    assert [d.source for d in report.unchanged] == ["copy-of-b.txt"]
    assert stored(index) == {"a.txt": A, "b.txt": B, "c.txt": C}
    assert_consistent(index)


def test_title_and_date_edit_updates_the_stored_document(index: Index, tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    body = f"# Flood report\n\n{A}\n"
    path.write_text(f"---\ntitle: Draft\ndate: 2024-03-01\n---\n{body}", encoding="utf-8")
    index.add([path])
    before = chunk_ids(index)
    path.write_text(f"---\ntitle: Final flood report\ndate: 2024-03-09\n---\n{body}")
    report = index.add(path)
    assert [d.title for d in report.replaced] == ["Final flood report"]
    (stored_doc,) = index.documents()
    assert (stored_doc.title, stored_doc.date) == ("Final flood report", "2024-03-09")
    assert chunk_ids(index) == before
    hit = index.search("Antonivka bridge", k=1, filters=Filters(date_from="2024-03-05"))[0]
    assert (hit.title, hit.date) == ("Final flood report", "2024-03-09")
    assert_consistent(index)
    assert len(index.add(path).unchanged) == 1


def test_new_page_offsets_store_the_text_again(index: Index) -> None:
    text = f"{A}\n\n{B}"
    index.add_documents([Document(text, "r.pdf", "R", "pdf", pages=(0,))])
    assert index.search("Bucha ovens", k=1, mode="bm25")[0].page == 1
    second_page = text.index(B)
    report = index.add_documents([Document(text, "r.pdf", "R", "pdf", pages=(0, second_page))])
    assert len(report.replaced) == 1
    (stored_doc,) = index.documents()
    assert stored_doc.pages == (0, second_page)
    assert index.search("Bucha ovens", k=1, mode="bm25")[0].page == 2
    assert_consistent(index)


def test_folder_with_an_undecodable_file_name(index: Index, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "good.txt").write_text(B, encoding="utf-8")
    try:
        fd = os.open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), os.O_CREAT | os.O_WRONLY)
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    os.write(fd, A.encode())
    os.close(fd)
    report = index.add(folder)
    assert not report.errors
    assert sorted(Path(d.source).name for d in index.documents()) == ["caf\ufffd.txt", "good.txt"]
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    assert_consistent(index)


def test_html_with_a_late_nul_keeps_offsets(index: Index, tmp_path: Path) -> None:
    filler = "<p>Rain fell on Kyiv all day long.</p>\n" * 300  # past the 8 KB sniffed for binary
    page = tmp_path / "late-nul.html"
    page.write_bytes(
        f"<html><body>{filler}<p>Sirens\x00 sounded at noon.</p></body></html>".encode()
    )
    assert page.stat().st_size > 8192
    index.add(page)
    (stored_doc,) = index.documents()
    assert "\x00" not in stored_doc.text and "Sirens sounded at noon." in stored_doc.text
    chunks = index.backend.store.chunks(sorted(chunk_ids(index)))
    for item in chunks.values():
        assert stored_doc.text[item.chunk.start : item.chunk.end] == item.chunk.text
    assert_consistent(index)


SOURCES = st.sampled_from(["a.txt", "b.txt", "c.txt"])
TEXTS = st.sampled_from([A, B, C, "Drones struck Dnipro before dawn."])
BATCH = st.lists(st.tuples(SOURCES, TEXTS), min_size=1, max_size=3)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(BATCH, min_size=1, max_size=4))
def test_no_ingest_loses_a_text_of_its_batch(
    batches: list[list[tuple[str, str]]], embedder: Embedder
) -> None:
    """Property: after each batch every text it gave is stored, each source holds at most one
    text, what the batch did not touch is as it was, and every part of the index agrees."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Index.open(Path(tmp) / "ix", create=True, embedder=embedder) as ix,
    ):
        for batch in batches:
            before = stored(ix)
            given_now = dict(batch)  # the last text given for a source wins
            ix.add_documents([doc(text, source) for source, text in batch])
            after = stored(ix)
            assert set(given_now.values()) <= set(after.values())
            for source, text in before.items():
                if source not in given_now:
                    assert after[source] == text
            for source, text in given_now.items():
                assert after.get(source, text) == text
            assert_consistent(ix)
