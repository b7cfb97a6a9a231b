"""What only the Milvus backend has: its locations, its errors, its engine, and the CLI on a
Milvus Lite file.

The behaviour both backends share is tested once for both (the ``backend`` parameter of the
index fixtures in conftest.py), against the native Milvus engine over TCP (or the server in
``$QA_TEST_MILVUS``); this file holds the Milvus-only parts.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa.cli import main
from qa.config import sample_corpus
from qa.embed import Embedder
from qa.errors import IndexFormatError, IndexNotFoundError, IndexUnavailableError
from qa.index import Index
from qa.index.milvus import Address, parse_location

KINZHAL = "How many Kinzhal missiles were fired?"


def qa(*argv: str) -> subprocess.CompletedProcess[str]:
    """``qa ARGV`` in a new process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *argv], capture_output=True, text=True, timeout=300
    )


def test_ingest_then_ask_on_milvus_lite_cites_the_span_the_local_index_cites(
    tmp_path: Path, sample_index_path: Path
) -> None:
    location = f"milvus://{tmp_path / 'x.db'}"
    ingest = qa("ingest", str(sample_corpus()), "--index", location)
    assert ingest.returncode == 0, ingest.stderr
    assert "added 2" in ingest.stdout and "holds 2 documents, 23 chunks" in ingest.stdout
    # the engine's own output (its log) stays out of the user's terminal
    assert all(line.startswith("qa: ") for line in ingest.stderr.splitlines()), ingest.stderr
    answers = [
        json.loads(qa("ask", KINZHAL, "--json", "--index", where).stdout)
        for where in (location, str(sample_index_path))
    ]
    on_milvus, local = answers
    assert on_milvus["short_answer"] == "six"
    spans = [[(c["doc_id"], c["start"], c["end"]) for c in a["citations"]] for a in answers]
    assert spans[0] == spans[1]
    assert on_milvus["answer"] == local["answer"]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("milvus://relative/x.db", "is not a Milvus location; use milvus:///path/to/file.db"),
        ("milvus:///tmp/reports.txt", "a Milvus Lite index is a file ending in .db"),
        ("milvus://host:19530/bad-name", "is not a Milvus location"),
    ],
)
def test_a_malformed_location_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], location: str, message: str
) -> None:
    assert main(["search", "missiles", "--index", location]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("qa: error: ")


def test_an_unreachable_server_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", KINZHAL, "--index", "milvus://127.0.0.1:1/news"]) == 1
    err = capsys.readouterr().err
    assert "cannot open Milvus at milvus://127.0.0.1:1/news" in err and err.count("\n") == 1


def test_a_missing_lite_file_is_not_created_by_a_read(tmp_path: Path) -> None:
    location = f"milvus://{tmp_path / 'none.db'}"
    with pytest.raises(IndexNotFoundError, match="create one with `qa ingest PATH --index"):
        Index.open(location)
    assert not (tmp_path / "none.db").exists()


def test_without_the_extra_the_error_names_the_install_command(tmp_path: Path) -> None:
    blocked = (
        "import sys; sys.modules['pymilvus'] = None; from qa.cli import main; "
        f"sys.exit(main(['ingest', {str(sample_corpus())!r}, '--index', "
        f"'milvus://{tmp_path / 'x.db'}']))"
    )
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    assert done.returncode == 1
    assert "pip install 'reportqa[milvus]'" in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.milvus_only
def test_a_collection_that_is_not_an_index_is_refused(
    new_location: Callable[[], str], embedder: Embedder
) -> None:
    from pymilvus import DataType, MilvusClient

    location = new_location()
    address = parse_location(location)
    client = MilvusClient(uri=f"http://{address.uri}")
    for suffix in ("documents", "chunks"):
        schema = client.create_schema()
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=96)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
        client.create_collection(f"{address.name}_{suffix}", schema=schema)
    client.close()
    with pytest.raises(IndexFormatError, match="is not a reportqa index"):
        Index.open(location, embedder=embedder)


@pytest.mark.milvus_only
def test_the_manifest_is_kept_in_the_index_and_checked(
    new_location: Callable[[], str], embedder: Embedder, tmp_path: Path
) -> None:
    """The native engine keeps no collection properties: the manifest lives in a row."""
    location = new_location()
    Index.open(location, create=True, embedder=embedder, chunk_size=128).close()
    with Index.open(location, embedder=embedder) as again:
        assert (again.manifest.model, again.manifest.chunk_size) == (embedder.name, 128)
        assert again.backend.store.setting("dense_index") == "AUTOINDEX"
        assert again.counts() == {"documents": 0, "chunks": 0}  # the row is no document
        assert again.catalog().total == 0 and again.documents() == []
    with pytest.raises(Exception, match="was built with embedding model"):
        Index.open(location, model=str(tmp_path / "another-model"))
    with pytest.raises(ValueError, match="built with chunk size 128, not 64"):
        Index.open(location, embedder=embedder, chunk_size=64)


@pytest.mark.milvus_only
def test_a_write_is_seen_by_the_next_read_of_another_client(
    new_location: Callable[[], str], embedder: Embedder
) -> None:
    """Another app server's handle (a client of its own) reads what was just committed."""
    from qa.types import Document

    location = new_location()
    with (
        Index.open(location, create=True, embedder=embedder) as writer,
        Index.open(location, embedder=embedder) as reader,
    ):
        for n in range(3):
            doc = Document(f"Shelling hit Kherson on day {n}.", f"day{n}.txt", f"Day {n}", "txt")
            writer.add_documents([doc])
            assert reader.counts()["documents"] == n + 1
            assert reader.search(f"Kherson day {n}", k=1, mode="bm25")[0].source == f"day{n}.txt"


@pytest.mark.milvus_only
def test_a_filter_over_many_documents(index: Index) -> None:
    from qa.options import Filters
    from qa.types import Document

    docs = [
        Document(
            f"Report {n}: the grain terminal in Odesa loaded {n} ships.", f"wire/{n}", "", "txt"
        )
        for n in range(400)
    ]
    docs.append(Document("The Kinzhal missiles were six.", "desk/kinzhal.txt", "", "txt"))
    index.commit_embedded(_embedded(index, docs))
    hits = index.search("grain terminal", k=5, mode="bm25", filters=Filters(sources=("wire/",)))
    assert hits.matching == 400 and hits and all(h.source.startswith("wire/") for h in hits)
    hits = index.search("grain ships", k=5, filters=Filters(sources=("desk/",)))
    assert hits.matching == 1 and [h.source for h in hits] == ["desk/kinzhal.txt"]


def _embedded(index: Index, docs: list) -> list:
    """Documents chunked as an ingest would, with random unit vectors (what is tested here is
    the filters, not the ranking), for the index's write hook."""
    import numpy as np

    from qa.index.store import NewDocument

    rng = np.random.default_rng(0)
    found = []
    for doc in docs:
        spans = index.chunker.spans(doc.text)
        vectors = rng.normal(size=(len(spans), index.manifest.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        found.append(NewDocument(doc, spans, vectors))
    return found


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An address that takes connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def take() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def test_a_server_that_does_not_answer_times_out_in_one_line(
    silent_server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_MILVUS_TIMEOUT", "2")
    started = time.monotonic()
    assert main(["search", "missiles", "--index", f"milvus://{silent_server}/news"]) == 1
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert f"milvus://{silent_server}/news" in err and err.count("\n") == 1, err
    assert took < 15  # the 2 s asked for, and the start-up of the CLI


@pytest.mark.parametrize(
    ("location", "address"),
    [
        ("milvus:///data/news.db", Address("/data/news.db", "reportqa", True)),
        (
            "milvus://milvus.internal:19530/newsroom",
            Address("milvus.internal:19530", "newsroom", False),
        ),
        ("milvus://10.0.0.5:19530", Address("10.0.0.5:19530", "reportqa", False)),
    ],
)
def test_locations_name_a_lite_file_or_a_server_and_collection(
    location: str, address: Address
) -> None:
    assert parse_location(location) == address


def test_a_server_token_comes_from_the_environment_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QA_MILVUS_TOKEN", "root:secret-token")
    assert main(["search", "x", "--index", "milvus://127.0.0.1:1/news"]) == 1
    assert "secret-token" not in capsys.readouterr().err


def test_unavailable_is_part_of_the_error_tree() -> None:
    import qa

    assert issubclass(IndexUnavailableError, qa.QAError)
    assert "IndexUnavailableError" in qa.__all__


@pytest.mark.milvus_only
def test_qa_eval_scores_a_question_set_on_milvus(
    capsys: pytest.CaptureFixture[str], sample_index: Index
) -> None:
    location = sample_index.location
    questions = Path(__file__).resolve().parents[1] / "eval/data/sample_questions.jsonl"
    code = main(["eval", str(questions), "--index", location, "--limit", "8", "--no-output"])
    out, err = capsys.readouterr()
    assert code == 0 and "accuracy" in out
    assert "qa: asking 8/8 questions (100%)" in err  # progress, in a log as in a terminal
    done = qa("docs", "--json", "--index", location)
    assert json.loads(done.stdout)[0]["id"], done.stderr
