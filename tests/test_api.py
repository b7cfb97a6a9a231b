"""The REST API through an HTTP client, against the real app on a copy of the sample index;
then the chat's handlers and HTML, called directly."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import gradio as gr
import httpx
import pytest
from fastapi.testclient import TestClient

from qa.answer import ABSTAIN_BELOW
from qa.cli import main
from qa.config import sample_corpus
from qa.engine import Engine
from qa.errors import IndexFormatError, ModelLoadError
from qa.index import Index
from qa.types import Answer, Citation, Claim, Document, Generated, Source
from qa.ui import render
from qa.ui.auth import Throttle, parse_credentials
from qa.ui.chat import chat_page
from qa.ui.guards import trusted_hosts
from qa.ui.handlers import FAILED, Handlers, status_html
from qa.ui.server import create_app
from qa.ui.service import MAX_FILES, Service
from qa.ui.sources import relative_source, sources

KINZHAL = "How many Kinzhal missiles were fired?"
MAYOR = "Who is the mayor of Kharkiv?"
LIMIT = 64 * 1024  # upload limit of the test app, so oversize bodies stay small
USERS = {"alice": "s3cret:with:colons", "bob": "hunter2"}
BASE = "http://127.0.0.1:7860"  # the apps are built as if bound to 127.0.0.1
LOCAL = ("127.0.0.1", 50000)  # the address the clients call from: the server's own machine
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def reader(module_sample_index: Index) -> Iterator[TestClient]:
    """A client for tests that must leave the index as it is (they check that they do)."""
    app = create_app(Service(Engine(module_sample_index), LIMIT), host="127.0.0.1")
    with TestClient(app, base_url=BASE, client=LOCAL) as client:
        yield client


@pytest.fixture
def client(sample_index: Index) -> Iterator[TestClient]:
    """A client of an app on a private copy of the sample index, for tests that write."""
    app = create_app(Service(Engine(sample_index), LIMIT), host="127.0.0.1")
    with TestClient(app, base_url=BASE, client=LOCAL) as client:
        yield client


@pytest.fixture
def counts(reader: TestClient) -> dict[str, int]:
    return reader.get("/api/v1/health").json()["counts"]


def test_ask_cites_the_exact_words(reader: TestClient) -> None:
    body = reader.post("/api/v1/ask", json={"question": KINZHAL}).json()
    assert body["short_answer"] == "six" and not body["abstained"]
    assert body["confidence"] >= ABSTAIN_BELOW and "[1]" in body["answer"]
    for c in body["citations"]:
        text = reader.get(f"/api/v1/documents/{c['doc_id']}").json()["text"]
        assert text[c["start"] : c["end"]] == c["quote"]
    first = body["citations"][0]
    text = reader.get(f"/api/v1/documents/{first['doc_id']}").json()["text"]
    assert text[first["answer_start"] : first["answer_end"]] == "six"


def test_ask_returns_what_qa_ask_json_prints(
    reader: TestClient, module_sample_index: Index, capsys: pytest.CaptureFixture[str]
) -> None:
    body = reader.post("/api/v1/ask", json={"question": MAYOR}).json()
    assert body["short_answer"] == "Ihor Terekhov"
    assert main(["ask", "--index", module_sample_index.location, "--json", MAYOR]) == 0
    assert body == json.loads(capsys.readouterr().out)


def test_abstention_lists_related_passages(reader: TestClient) -> None:
    body = reader.post("/api/v1/ask", json={"question": "What is the capital of Australia?"}).json()
    assert body["abstained"] and body["short_answer"] is None and body["citations"] == []
    assert body["related"] and all(hit["text"] for hit in body["related"])


def test_follow_up_uses_the_history(reader: TestClient) -> None:
    alone = reader.post("/api/v1/ask", json={"question": "what did he say?"}).json()
    body = {"question": "what did he say?", "history": [MAYOR]}
    follow_up = reader.post("/api/v1/ask", json=body).json()
    assert alone["abstained"] and not follow_up["abstained"]
    assert "running water" in follow_up["answer"]


def test_filters_narrow_the_sources(reader: TestClient) -> None:
    docs = reader.get("/api/v1/documents").json()
    other = next(d for d in docs if "000_" not in d["source"])
    body = {"question": KINZHAL, "filters": {"doc_ids": [other["id"]]}}
    answer = reader.post("/api/v1/ask", json=body).json()
    assert {c["doc_id"] for c in answer["citations"]} <= {other["id"]}
    assert {h["doc_id"] for h in answer["related"]} <= {other["id"]}
    dated = {"question": KINZHAL, "filters": {"date_from": "2030-01-01"}}
    assert reader.post("/api/v1/ask", json=dated).json()["abstained"]  # the samples are undated


def test_search(reader: TestClient) -> None:
    body = {"query": "Kinzhal hypersonic missiles", "k": 3, "mode": "bm25"}
    result = reader.post("/api/v1/search", json=body).json()
    assert result["query"] == body["query"] and result["mode"] == "bm25"
    assert [h["rank"] for h in result["hits"]] == [1, 2, 3]
    hit = result["hits"][0]
    assert "Kinzhal" in hit["text"] and hit["bm25_score"] is not None and hit["dense_score"] is None
    text = reader.get(f"/api/v1/documents/{hit['doc_id']}").json()["text"]
    assert text[hit["start"] : hit["end"]] == hit["text"]


def test_server_paths_are_shown_only_to_callers_on_the_server(
    module_sample_index: Index,
) -> None:
    app = create_app(Service(Engine(module_sample_index), LIMIT), host="127.0.0.1")
    for caller, full in ((LOCAL, True), (("203.0.113.9", 5000), False)):
        with TestClient(app, base_url=BASE, client=caller) as client:
            listed = client.get("/api/v1/documents").json()
            cited = client.post("/api/v1/ask", json={"question": KINZHAL}).json()["citations"]
            hits = client.post("/api/v1/search", json={"query": "Kinzhal"}).json()["hits"]
            one = client.get(f"/api/v1/documents/{listed[0]['id']}").json()
        sources = [d["source"] for d in (*listed, *cited, *hits, one)]
        assert all(s.startswith(str(sample_corpus())) for s in sources) is full, sources
        # below the folder that was ingested, that folder's name first
        assert all(s.startswith(("corpus/000_", "corpus/004_")) for s in sources) is not full


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("/srv/news/2024/kyiv.md", "news/2024/kyiv.md"),
        ("/srv/news/desk/a.md", "desk/a.md"),  # the deepest folder it is under
        ("/srv/newsroom/a.md", "a.md"),  # under no folder ingested: the file name
        ("/home/x/b.txt", "b.txt"),
        ("flood.html", "flood.html"),  # an upload's name
        ("https://example.org/a/b", "https://example.org/a/b"),
    ],
)
def test_a_source_is_shown_below_the_folder_it_was_ingested_from(source: str, shown: str) -> None:
    assert relative_source(source, ["/srv/news", "/srv/news/desk"]) == shown


def test_documents_list_and_get(reader: TestClient) -> None:
    listing = reader.get("/api/v1/documents")
    docs = listing.json()
    assert len(docs) == 2 and all("text" not in d for d in docs)
    assert listing.headers["X-Total-Count"] == "2" and docs[0]["passages"] > 1
    page = reader.get("/api/v1/documents", params={"contains": "LAUNCHES", "limit": 1})
    assert page.headers["X-Total-Count"] == "1"
    assert [d["title"] for d in page.json()] == ["Russia launches renewed strikes across Ukraine"]
    assert reader.get("/api/v1/documents", params={"offset": 2}).json() == []
    bad = reader.get("/api/v1/documents", params={"limit": 0})
    assert bad.status_code == 422 and "limit" in bad.json()["detail"]
    doc = reader.get(f"/api/v1/documents/{docs[0]['id']}").json()
    assert doc["id"] == docs[0]["id"] and len(doc["text"]) > 1000
    missing = reader.get("/api/v1/documents/ffffffffffffffff")
    assert missing.status_code == 404 and "no document" in missing.json()["detail"]


def test_upload_ask_and_delete(client: TestClient) -> None:
    files = [
        ("files", ("dhaka.md", b"# Floods in Dhaka\n\nThe river rose 4 metres on Tuesday.\n")),
        ("files", ("notes.txt", b"Port report\n\nThe port of Odesa reopened.")),
    ]
    report = client.post("/api/v1/documents", files=files).json()
    assert [d["source"] for d in report["added"]] == ["dhaka.md", "notes.txt"]
    assert report["added"][0]["title"] == "Floods in Dhaka" and report["errors"] == []
    assert client.get("/api/v1/health").json()["counts"]["documents"] == 4
    answer = client.post("/api/v1/ask", json={"question": "How high did the river rise?"}).json()
    assert answer["short_answer"] == "4 metres"
    again = client.post("/api/v1/documents", files=files[:1]).json()
    assert again["added"] == [] and [d["source"] for d in again["unchanged"]] == ["dhaka.md"]
    doc_id = report["added"][0]["id"]
    removed = client.delete(f"/api/v1/documents/{doc_id}")
    assert removed.status_code == 200 and removed.json()["source"] == "dhaka.md"
    assert client.get(f"/api/v1/documents/{doc_id}").status_code == 404
    assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 404
    assert len(client.get("/api/v1/documents").json()) == 3


def test_delete_needs_the_whole_id(client: TestClient) -> None:
    """A prefix or a source finds a report to read, but never one to delete."""
    upload = {"files": ("notes.txt", b"Port report\n\nThe port of Odesa reopened.")}
    assert client.post("/api/v1/documents", files=upload).status_code == 200
    docs = client.get("/api/v1/documents").json()
    doc = next(d for d in docs if d["source"] == "notes.txt")
    assert client.get(f"/api/v1/documents/{doc['id'][:6]}").json()["id"] == doc["id"]
    assert client.get("/api/v1/documents/notes.txt").json()["id"] == doc["id"]
    for key in (doc["id"][:4], doc["id"][:-1], doc["id"] + "0", doc["id"].upper(), "notes.txt"):
        response = client.delete(f"/api/v1/documents/{key}")
        assert response.status_code == 404, key
        assert "give the full id" in response.json()["detail"]
    assert client.get("/api/v1/documents").json() == docs
    removed = client.delete(f"/api/v1/documents/{doc['id']}")
    assert removed.status_code == 200
    assert {k: removed.json()[k] for k in ("id", "source", "title")} == {
        k: doc[k] for k in ("id", "source", "title")
    }
    assert client.get("/api/v1/documents").json() == [d for d in docs if d != doc]


@pytest.mark.parametrize(
    "error",
    [
        IndexFormatError("/srv/index/store.sqlite is damaged; re-ingest"),
        ModelLoadError("cannot load embedding model 'x'; pass a local model directory"),
    ],
)
def test_server_faults_are_503(
    module_sample_index: Index, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """A damaged index or a model that cannot load is the server's fault, not the client's."""
    service = Service(Engine(module_sample_index))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise error

    app = create_app(service, host="127.0.0.1")
    for name in ("ask", "ask_stream", "search", "catalog", "document", "counts"):
        monkeypatch.setattr(service.engine, name, broken)
    with TestClient(app, base_url=BASE) as client:
        for response in (
            client.post("/api/v1/ask", json={"question": KINZHAL}),
            client.post("/api/v1/search", json={"query": "Kinzhal"}),
            client.get("/api/v1/documents"),
            client.get("/api/v1/documents/ffffffffffffffff"),
            client.get("/api/v1/health"),
        ):
            assert response.status_code == 503, response.url
            assert response.json() == {"detail": str(error)}


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ([("evil.exe", b"MZ")], 415, "unsupported file type '.exe'"),
        ([("ok.txt", b"fine text"), ("noext", b"text")], 415, "(no file extension)"),
        ([("big.txt", b"a " * LIMIT)], 413, "upload limit"),
        ([("huge.txt", b"a" * (22 * LIMIT))], 413, "request body is over"),
        ([("binary.txt", bytes(range(256)) * 8)], 422, "binary content"),
        ([("empty.md", b"  \n")], 422, "no text found"),
    ],
)
def test_rejected_uploads_leave_the_index_alone(
    reader: TestClient,
    counts: dict[str, int],
    files: list[tuple[str, bytes]],
    status: int,
    message: str,
) -> None:
    response = reader.post("/api/v1/documents", files=[("files", f) for f in files])
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert reader.get("/api/v1/health").json()["counts"] == counts


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": ""}, "the question is empty"),
        ({"question": "   "}, "the question is empty"),
        ({"question": "why? " * 20_480}, "characters long"),
        ({"question": "bad\x00\x01\x02\x03"}, "binary or control characters"),
        ({"question": KINZHAL, "mode": "fuzzy"}, "hybrid"),
        ({"question": KINZHAL, "k": 0}, "greater than or equal to 1"),
        ({"question": KINZHAL, "k": "many"}, "integer"),
        ({"question": KINZHAL, "filters": {"date_from": "last week"}}, "date"),
        ({"question": KINZHAL, "colour": "red"}, "Extra inputs"),
        ({"question": KINZHAL, "history": [MAYOR, "x" * 2001]}, "at most 2000 characters"),
        ({"k": 3}, "Field required"),
    ],
)
def test_bad_questions_are_422_with_a_message(
    reader: TestClient, counts: dict[str, int], body: dict[str, object], message: str
) -> None:
    response = reader.post("/api/v1/ask", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and message in detail  # one shape for every error
    assert reader.get("/api/v1/health").json()["counts"] == counts


def test_bad_search_is_422(reader: TestClient) -> None:
    assert reader.post("/api/v1/search", json={"query": " "}).status_code == 422
    assert reader.post("/api/v1/search", json={"query": "x", "mode": "fuzzy"}).status_code == 422
    long = reader.post("/api/v1/search", json={"query": "Kinzhal " * 300})
    assert long.status_code == 422 and "at most 2000 characters" in long.json()["detail"]
    short = reader.post("/api/v1/search", json={"query": "x", "filters": {"doc_ids": ["abc"]}})
    assert short.status_code == 422 and "at least 4 characters" in short.json()["detail"]


def test_validation_errors_are_one_message(reader: TestClient) -> None:
    """FastAPI's list of problems becomes one ``detail`` line, as the OpenAPI page says."""
    body = {"question": KINZHAL, "k": 0, "mode": "fuzzy", "history": ["ok", "x" * 2001]}
    detail = reader.post("/api/v1/ask", json=body).json()["detail"]
    assert detail.startswith("k: Input should be greater than or equal to 1; mode: Input ")
    assert "; history.1: String should have at most 2000 characters" in detail
    broken = reader.post(
        "/api/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["detail"].startswith("body: JSON decode")
    spec = reader.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            codes = {code for code in operation["responses"] if code[0] in "45"}
            assert codes, (method, path)
            for code in codes:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == error, (method, path, code)
    ask = spec["paths"]["/api/v1/ask"]["post"]["responses"]
    assert {"422", "503"} <= set(ask) and "404" not in ask


def test_health_and_docs(reader: TestClient) -> None:
    health = reader.get("/api/v1/health").json()
    assert health["status"] == "ok" and health["counts"]["documents"] == 2
    assert health["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    paths = reader.get("/openapi.json").json()["paths"]
    assert {"/api/v1/ask", "/api/v1/search", "/api/v1/documents", "/api/v1/health"} <= set(paths)
    docs = reader.get("/docs").text
    assert "swagger-ui-bundle.js" in docs and "cdn.jsdelivr" not in docs
    assert reader.get("/").status_code == 200  # the chat


def test_auth_protects_chat_and_api(sample_index: Index) -> None:
    app = create_app(Service(Engine(sample_index)), USERS)
    with TestClient(app) as client:
        for path in ("/", "/api/v1/health", "/docs", "/openapi.json", "/config"):
            response = client.get(path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Basic")
        assert client.get("/api/v1/health", auth=("alice", "wrong")).status_code == 401
        assert client.get("/api/v1/health", auth=("carol", "hunter2")).status_code == 401
        assert client.get("/", auth=("alice", USERS["alice"])).status_code == 200
        health = client.get("/api/v1/health", auth=("bob", "hunter2"))
        assert health.status_code == 200 and health.json()["status"] == "ok"
        answer = client.post("/api/v1/ask", json={"question": MAYOR}, auth=("bob", "hunter2"))
        assert answer.json()["short_answer"] == "Ihor Terekhov"


def test_cross_site_writes_are_refused(reader: TestClient, counts: dict[str, int]) -> None:
    doc_id = reader.get("/api/v1/documents").json()[0]["id"]
    upload = {"files": ("x.txt", b"Planted report\n\nNothing happened.")}
    for headers in (
        {"origin": EVIL},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:8000"},  # another port is another origin
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": BASE},
    ):
        for response in (
            reader.post("/api/v1/documents", files=upload, headers=headers),
            reader.delete(f"/api/v1/documents/{doc_id}", headers=headers),
            reader.post("/api/v1/ask", json={"question": MAYOR}, headers=headers),
        ):
            assert response.status_code == 403, headers
            assert "cross-site request refused" in response.json()["detail"]
    assert reader.get("/api/v1/health").json()["counts"] == counts
    assert reader.get("/api/v1/health", headers={"origin": EVIL}).status_code == 200  # reads
    same = {"origin": BASE, "sec-fetch-site": "same-origin"}
    answer = reader.post("/api/v1/ask", json={"question": MAYOR}, headers=same)
    assert answer.json()["short_answer"] == "Ihor Terekhov"


def test_only_loopback_names_are_served(reader: TestClient) -> None:
    for host in ("localhost:7860", "127.0.0.1", "[::1]:7860"):
        assert reader.get("/api/v1/health", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:7860", "localhost.evil.example"):
        assert reader.get("/", headers={"host": host}).status_code == 400, host
    assert trusted_hosts("::1") == ["localhost", "127.0.0.1", "[::1]"]
    assert trusted_hosts("127.0.0.2") == ["localhost", "127.0.0.1", "[::1]", "127.0.0.2"]
    assert trusted_hosts("0.0.0.0") is None and trusted_hosts("reports.example") is None


def test_chunked_upload_is_cut_off_at_the_limit(reader: TestClient, counts: dict[str, int]) -> None:
    """A body without Content-Length is counted as it arrives, and refused once over."""
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
        for _ in range(100):
            pulled += 1
            yield b"a " * (LIMIT // 2)
        yield b"\r\n--b--\r\n"

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=reader.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            headers = {"content-type": "multipart/form-data; boundary=b"}
            return await http.post("/api/v1/documents", content=body(), headers=headers)

    response = asyncio.run(post())
    assert response.status_code == 413 and "request body is over" in response.json()["detail"]
    assert pulled <= 22  # the limit is 20 files of LIMIT bytes: the rest was never read
    assert reader.get("/api/v1/health").json()["counts"] == counts


# -- the chat's handlers and HTML ---------------------------------------------------------


def _uploaded(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Files as Gradio keeps uploads: each in a folder of its own, named by a hash."""
    paths = []
    for i, (name, data) in enumerate(files.items()):
        (folder / f"hash{i}").mkdir(parents=True)
        paths.append(folder / f"hash{i}" / name)
        paths[-1].write_bytes(data)
    return [str(p) for p in paths]


@pytest.fixture
def gradio_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def test_uploads_are_stored_together_and_deleted(
    sample_index: Index, gradio_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = Service(Engine(sample_index), LIMIT)
    writes: list[int] = []
    add = sample_index.add_documents
    monkeypatch.setattr(
        sample_index,
        "add_documents",
        lambda docs, **kw: writes.append(len(docs)) or add(docs, **kw),
    )
    files = {
        "dhaka.md": b"# Floods in Dhaka\n\nThe river rose 4 metres on Tuesday.\n",
        "port.txt": b"Port report\n\nThe port of Odesa reopened.",
        "bad.txt": bytes(range(256)) * 4,
        "evil.exe": b"MZ",
    }
    paths = _uploaded(gradio_folder, files)
    on = handlers(service)
    box, status, header = uploaded(on, list(on.add_reports(paths))[-1])
    assert writes == [2] and box is None and "4 reports" in header
    assert "Added: “Floods in Dhaka” (dhaka.md)" in status and "(port.txt)" in status
    assert "Rejected bad.txt: not a text file (binary content)" in status
    assert "evil.exe: unsupported file type &#x27;.exe&#x27;" in status
    assert list(gradio_folder.iterdir()) == []  # Gradio's copies are gone
    assert service.jobs.recent()[0].state == "done"


def test_files_the_page_took_out_of_an_upload_are_worded_by_the_server(
    module_sample_index: Index, gradio_folder: Path
) -> None:
    """Issue 26: a file of another kind, or too large, was refused in a pop-up of Gradio's;
    the page now takes it out and the server says why in the status, as for its own."""
    on = handlers(Service(Engine(module_sample_index), LIMIT))
    refused = json.dumps([["virus.exe", 2], ["huge.txt", LIMIT + 1], ["fine.txt", 10]])
    lines = on.refused(refused)
    assert lines == [
        '<li class="rejected">Rejected: virus.exe: unsupported file type &#x27;.exe&#x27;; '
        "supported: .htm, .html, .markdown, .md, .pdf, .txt</li>",
        '<li class="rejected">Rejected: huge.txt: 0.1 MB is over the 0.0625 MB upload limit</li>',
    ]  # a file the server would take is not the page's to refuse: no line
    assert on.say_refused(refused) == {on.view.docs.status: status_html(lines)}
    paths = _uploaded(gradio_folder, {"ok.txt": b"Ferry\n\nA ferry sank near Izmail."})
    _, status, _ = uploaded(on, list(on.add_reports(paths, refused))[-1])
    assert status.index("virus.exe") < status.index("huge.txt") < status.index("Added: ")
    for junk in ("", "{", "{}", "[1, [2, 3]]", '[["a.exe", true]]', '[["a.exe", "9"]]'):
        assert on.refused(junk) == []
    assert on.refused(json.dumps([["a.exe", 1]] * 10_000)) == []  # over the text's bound
    assert len(on.refused(json.dumps([["a.exe", 1]] * 1000))) == MAX_FILES


def test_the_chat_reads_only_files_gradio_received(
    sample_index: Index, gradio_folder: Path, tmp_path: Path
) -> None:
    """A client names the paths of its upload: one naming a file elsewhere on the server's
    disk (directly or through a link in the upload folder) gets nothing read or deleted."""
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nThe password is swordfish.\n", encoding="utf-8")
    link = gradio_folder / "hash9" / "notes.md"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    service = Service(Engine(sample_index), LIMIT)
    before, on = sample_index.counts(), handlers(service)
    for path in (str(secret), str(link), str(gradio_folder / ".." / "secret.md")):
        _, status, _ = uploaded(on, list(on.add_reports([path]))[-1])
        assert "not a file uploaded to this server" in status
    assert sample_index.counts() == before and secret.exists()
    assert not sample_index.search("password swordfish", k=3, mode="bm25")


def test_a_failed_upload_job_says_so(
    module_sample_index: Index,
    gradio_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = Service(Engine(module_sample_index))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(module_sample_index, "add_documents", broken)
    paths = _uploaded(gradio_folder, {"a.txt": b"Shelling hit Kherson."})
    with caplog.at_level(logging.ERROR):
        on = handlers(service)
        _, status, _ = uploaded(on, list(on.add_reports(paths))[-1])
    assert "storing the reports failed" in status and "disk on fire" in caplog.text
    assert service.jobs.recent()[0].state == "failed"


def test_unexpected_errors_end_the_wait(
    module_sample_index: Index,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = Service(Engine(module_sample_index))

    def broken(*args: Any, **kwargs: Any) -> Answer:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service.engine, "ask_stream", broken)
    on = handlers(service)
    with caplog.at_level(logging.ERROR):
        last = ask_in_chat(on, MAYOR)[-1]
    view = on.view
    assert last[view.chat.messages][-1]["content"] == render.error_html(FAILED)
    assert view.asked not in last and view.panels not in last  # no question, no sources added
    assert "disk on fire" in caplog.text


def test_the_chat_controls_are_locked_while_an_answer_is_written(
    module_sample_index: Index,
) -> None:
    """Ask, New chat, the chat list, its name, Rename and Delete: an answer being written
    would undo a chat opened or started meanwhile, and Delete would hit the wrong chat."""

    def interactive(update: Any) -> bool:
        return bool(update["interactive"] if isinstance(update, dict) else update.interactive)

    on = handlers(Service(Engine(module_sample_index)))
    view = on.view
    side, chat = view.side, view.chat
    controls = {chat.ask, chat.new, side.chats, side.name, side.rename, side.delete}
    assert set(view.controls) == controls
    started = on.start(KINZHAL, [])
    assert not any(interactive(started[c]) for c in [chat.question, *controls])
    assert started[chat.ask].value == "Working…"
    finished = on.finish()
    assert finished.keys() == {chat.question, *controls}
    assert all(interactive(finished[c]) for c in finished)
    assert finished[chat.ask].value == "Ask"


def test_an_empty_question_asks_nothing(module_sample_index: Index) -> None:
    """Nothing is pending, so the answer step changes nothing (Gradio takes one skip for all
    outputs, not an empty dict)."""
    on = handlers(Service(Engine(module_sample_index)))
    assert on.start(" \n ", []) == {on.view.pending: ""}
    assert list(on.respond(chat_values(on, "", []), None)) == [gr.skip()]  # type: ignore[arg-type]


def handlers(service: Service) -> Handlers:
    """The chat's handlers, keeping chats in memory."""
    return chat_page(service).on


def chat_values(on: Handlers, pending: str, history: list[Any], k: float = 6) -> dict[Any, Any]:
    """What the page sends ``respond`` in a new chat, with the settings as they start; the
    browser's id is made up."""
    view, settings = on.view, on.view.settings
    return {
        view.pending: pending,
        view.chat.messages: history,
        view.asked: [],
        view.panels: [],
        view.chat_id: "",
        view.browser: "0" * 32,
        settings.k: k,
        settings.mode: "hybrid",
        **{box: "" for box in settings.filters},
    }


def ask_in_chat(on: Handlers, question: str, k: float = 6) -> list[Any]:
    """Every update of asking ``question`` in a new chat, as the page does (no request: no
    signed-in user)."""
    started = on.start(question, [])
    values = chat_values(on, started[on.view.pending], started[on.view.chat.messages], k)
    return list(on.respond(values, None))  # type: ignore[arg-type]


def uploaded(on: Handlers, step: Any) -> tuple[Any, Any, Any]:
    """One update of an upload: the upload box, the status list and the header (skipped
    when unchanged)."""
    docs = on.view.docs
    return step[docs.upload], step[docs.status], step.get(on.view.header, gr.skip())


def _answer(text: str, doc: Document, spans: list[tuple[int, int]]) -> Answer:
    citations = tuple(
        Citation(n, doc.id, doc.source, doc.title, None, a, b, doc.text[a:b])
        for n, (a, b) in enumerate(spans, start=1)
    )
    return Answer("How many?", text, "six", False, 0.9, citations)


def test_only_the_answerers_markers_are_links() -> None:
    doc = Document("Six were fired, see note [2].\nTwo hit [1] a depot.", "r.txt", "R [2]", "txt")
    answer = _answer(
        "six [1][2]\n\nSix were fired, see note [2]. [1]\nTwo hit [1] a depot. [2]",
        doc,
        [(0, 29), (30, 50)],
    )
    html = render.answer_html(answer, "a1")
    assert html.count('class="cite"') == 4
    assert '</span></a> <a class="cite" href="#cite-a1-2"' in html  # "[1] [2]", not "[1][2]"
    assert "see note [2]. <a" in html and "Two hit [1] a depot. <a" in html
    differ = _answer("The reports differ: 6 [1] (R [2]); 8 [2] (R [2]).", doc, [(0, 29), (30, 50)])
    assert render.answer_html(differ, "a2").count('class="cite"') == 2


def test_each_report_is_sent_once_per_answer() -> None:
    filler = "Filler line.\n" * 30
    text = f"Six were fired.\n{filler}Unique middle line.\n{filler}Two hit a depot."
    doc = Document(text, "r.txt", "Report", "txt")
    spans = [(0, 15), (len(text) - 16, len(text))]
    answer = _answer("six [1][2]\n\nSix were fired. [1]\nTwo hit a depot. [2]", doc, spans)
    block = sources(answer, "a1", {doc.id: doc})
    assert block.full.count('class="src-text"') == 1 and block.full.count("Unique middle") == 1
    assert 'id="cite-a1-1"' in block.full and 'id="cite-a1-2"' in block.full
    assert "Unique middle" not in block.brief and 'id="cite-a1-2"' in block.brief
    panel = render.panel_html([block] * 5)
    assert panel.count('class="src-text"') == render.FULL_ANSWERS


def _pause_writes(index: Index, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """Make the index's next write stop when it starts embedding, until released."""
    import threading

    embedding, release = threading.Event(), threading.Event()
    add = index.add_documents

    def paused(docs: list[Document], *, progress: Any = None, **kw: Any) -> Any:
        def report(stage: str, done: int, total: int) -> None:
            if progress:
                progress(stage, done, total)
            if stage == "embedding" and not embedding.is_set():
                embedding.set()
                assert release.wait(60)

        return add(docs, progress=report, **kw)

    monkeypatch.setattr(index, "add_documents", paused)
    return embedding, release


def test_an_upload_runs_as_a_job_while_questions_are_answered(
    client: TestClient, sample_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedding, release = _pause_writes(sample_index, monkeypatch)
    files = [("files", ("kherson.txt", b"Kherson report\n\nShelling hit the Kherson ferry.\n"))]
    started = client.post("/api/v1/documents?wait=0", files=files)
    try:
        assert started.status_code == 202
        job = started.json()
        assert started.headers["location"] == f"/api/v1/jobs/{job['id']}"
        assert job["files"] == ["kherson.txt"] and job["state"] in ("queued", "running")
        assert embedding.wait(60)  # the upload is being embedded now
        health = client.get("/api/v1/health")
        answer = client.post("/api/v1/ask", json={"question": KINZHAL})
        assert health.status_code == 200 and answer.json()["short_answer"] == "six"
        running = client.get(started.headers["location"]).json()
        assert running["state"] == "running" and running["stage"] == "embedding"
        assert running["total"] >= 1 and running["report"] is None
    finally:
        release.set()
    for _ in range(200):
        done = client.get(started.headers["location"]).json()
        if done["state"] == "done":
            break
        time.sleep(0.05)
    assert [d["source"] for d in done["report"]["added"]] == ["kherson.txt"]
    assert [j["id"] for j in client.get("/api/v1/jobs?state=done").json()] == [job["id"]]
    assert client.get("/api/v1/jobs?state=bogus").status_code == 422
    assert client.get("/api/v1/jobs/nope").status_code == 404


def test_a_small_upload_still_answers_with_its_report(client: TestClient) -> None:
    files = [("files", ("lviv.txt", b"Lviv report\n\nPower returned to Lviv.\n"))]
    body = client.post("/api/v1/documents", files=files).json()
    assert [d["source"] for d in body["added"]] == ["lviv.txt"]


def test_one_request_cannot_ask_for_unbounded_work(reader: TestClient) -> None:
    too_many = reader.post("/api/v1/ask", json={"question": KINZHAL, "k": 21})
    assert too_many.status_code == 422 and too_many.json()["detail"].startswith("k: ")
    deep = b"[" * 100_000 + b"]" * 100_000  # past what Python's JSON parser takes
    nested = reader.post("/api/v1/ask", content=deep, headers={"content-type": "application/json"})
    assert nested.status_code == 422 and nested.json()["detail"].startswith("body: ")
    search = reader.post("/api/v1/search", json={"query": "Kinzhal", "k": 100})
    assert search.status_code == 200  # a search may return more passages than an answer reads


def test_the_chat_keeps_k_to_its_bound(module_sample_index: Index) -> None:
    service = Service(Engine(module_sample_index))
    seen: list[int] = []
    ask = service.engine.ask_stream
    service.engine.ask_stream = lambda text, options, history: (
        seen.append(options.k)
        or ask(  # type: ignore[method-assign]
            text, options, history
        )
    )
    ask_in_chat(handlers(service), KINZHAL, k=10_000)
    assert seen == [20]


def test_the_page_shows_an_uploads_progress_until_it_is_stored(
    sample_index: Index, gradio_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedding, release = _pause_writes(sample_index, monkeypatch)
    paths = _uploaded(gradio_folder, {"kherson.txt": b"Kherson report\n\nShelling hit the ferry."})
    on = handlers(Service(Engine(sample_index)))
    steps = on.add_reports(paths)
    box, status, header = uploaded(on, next(steps))  # the job has started; the page hears
    assert embedding.wait(60)  # how it goes
    box, status, header = uploaded(on, next(steps))
    assert box is None and header == gr.skip()
    assert "<progress" in status and "Indexing 0/1 passages (1 report)" in status
    release.set()
    box, status, header = uploaded(on, list(steps)[-1])
    assert "Added: “Kherson report” (kherson.txt)" in status and "3 reports" in header


def test_uploads_waiting_to_be_stored_are_bounded(
    client: TestClient, sample_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.ui.jobs import MAX_WAITING

    embedding, release = _pause_writes(sample_index, monkeypatch)

    def upload(i: int) -> httpx.Response:
        files = [("files", (f"r{i}.txt", f"Report {i}\n\n{i} shells hit the port.".encode()))]
        return client.post("/api/v1/documents?wait=0", files=files)

    try:
        assert upload(0).status_code == 202
        assert embedding.wait(60)  # the first is being stored; the next ones wait
        assert [upload(i).status_code for i in range(1, MAX_WAITING + 1)] == [202] * MAX_WAITING
        refused = upload(99)
        assert refused.status_code == 429 and "try again later" in refused.json()["detail"]
    finally:
        release.set()
    for _ in range(400):
        if (
            not client.get("/api/v1/jobs?state=queued").json()
            and not client.get("/api/v1/jobs?state=running").json()
        ):
            break
        time.sleep(0.05)
    stored = {d["source"] for d in client.get("/api/v1/documents").json()}
    assert {f"r{i}.txt" for i in range(MAX_WAITING + 1)} <= stored and "r99.txt" not in stored


@pytest.mark.parametrize(
    ("path", "schema"), [("/api/v1/ask", "AskIn"), ("/api/v1/search", "SearchIn")]
)
def test_the_examples_in_the_api_docs_work_as_they_are(
    reader: TestClient, path: str, schema: str
) -> None:
    spec = reader.get("/openapi.json").json()
    example = spec["components"]["schemas"][schema]["examples"][0]
    reply = reader.post(path, json=example)
    assert reply.status_code == 200
    body = reply.json()
    if path.endswith("ask"):
        assert body["short_answer"] == "six" and not body["abstained"]
    else:
        assert body["hits"] and "Kinzhal" in body["hits"][0]["text"]


def test_a_generated_answer_is_shown_as_text_with_its_checks() -> None:
    doc = Document("Six were fired. Two hit a depot.", "r.txt", "R", "txt")
    answer = _answer("six [1]", doc, [(0, 15)])
    written = Generated(
        "m<b>",
        "<img src=x onerror=alert(1)> Six [1]. Nine [2].",
        (
            Claim("<img src=x onerror=alert(1)> Six [1].", (1,)),
            Claim("Nine [2].", (2,), ("Nine is in none of its passages [2]",)),
        ),
        (Source(1, doc.id, "R", "r.txt", 0, 15), Source(2, doc.id, "R", "r.txt", 16, 32)),
    )
    html = render.answer_html(dataclasses.replace(answer, generated=written), "a1")
    assert "<img" not in html and "&lt;img src=x" in html and "m&lt;b&gt;" in html
    assert 'href="#cite-a1-1"' in html.split("qa-generated")[1]  # [1] holds citation 1
    assert 'href="#gen-a1-2"' in html  # [2] holds none: it opens its own passage's card
    assert "checked sentence by sentence: 1 of 2 supported by the passages they cite" in html
    assert 'qa-unsupported">Nine' in html
    assert "Not supported: Nine is in none of its passages [2]" in html
    block = sources(dataclasses.replace(answer, generated=written), "a1", {doc.id: doc}).full
    assert block.count('class="src-card') == 2 and 'id="card-a1-g2"' in block  # not one for [1]
    assert 'id="gen-a1-2"' in block and "Passages the language model cites" in block
    failed = Generated("m", "", (), (), "No generated answer: the model is rate-limited.")
    html = render.answer_html(dataclasses.replace(answer, generated=failed), "a2")
    assert '<p class="qa-note">No generated answer: the model is rate-limited.</p>' in html
    assert "No answer from the language model (m)" in html and "checked" not in html


def test_failed_logins_are_throttled_with_a_retry_after(sample_index: Index) -> None:
    """Issue 23: 300 wrong passwords at 22 a second, then the right one worked."""
    app = create_app(Service(Engine(sample_index)), USERS)
    with TestClient(app) as client:
        for _ in range(5):
            assert client.get("/api/v1/health", auth=("alice", "wrong")).status_code == 401
        for user, password in (("alice", USERS["alice"]), ("bob", "hunter2")):
            refused = client.get("/api/v1/health", auth=(user, password))  # right, too late
            assert refused.status_code == 429, user
            assert 0 < int(refused.headers["retry-after"]) <= 60
        assert client.get("/api/v1/health").status_code == 401  # no login sent: the challenge


def test_the_throttle_counts_per_address_and_per_user_and_forgets() -> None:
    throttle = Throttle(allowed=3, window=60, keys=4)
    for t in range(3):
        throttle.failed("address a", "user alice", now=float(t))
    assert throttle.wait("address a", "user bob", now=3) == 57  # the address
    assert throttle.wait("address b", "user alice", now=3) == 57  # the user, from elsewhere
    assert throttle.wait("address b", "user bob", now=3) == 0
    assert throttle.wait("address a", now=60.5) == 0.0  # the oldest failure is a minute old
    throttle.failed("address c", now=61)
    throttle.succeeded("address c")
    assert "address c" not in throttle.failures  # a login that works clears its count
    for n in range(10):
        throttle.failed(f"address {n}", now=62)
    assert len(throttle.failures) == 4  # bounded memory


def test_a_read_only_user_may_ask_and_search_but_not_change(
    sample_index: Index, tmp_path: Path
) -> None:
    auth = tmp_path / "users.txt"
    auth.write_text("alice:pw1\nread-only carol:pw:2\n", encoding="utf-8")
    users = parse_credentials(files=[auth])
    assert users == {"alice": "pw1", "carol": "pw:2"} and users.read_only == {"carol"}
    app = create_app(Service(Engine(sample_index)), users)
    carol, alice = ("carol", "pw:2"), ("alice", "pw1")
    upload = {"files": ("x.txt", b"Planted report\n\nNothing happened.")}
    with TestClient(app, base_url=BASE) as client:
        counts = client.get("/api/v1/health", auth=carol).json()["counts"]
        asked = client.post("/api/v1/ask", json={"question": MAYOR}, auth=carol)
        assert asked.json()["short_answer"] == "Ihor Terekhov"
        assert client.post("/api/v1/search", json={"query": "Kharkiv"}, auth=carol).json()["hits"]
        doc_id = client.get("/api/v1/documents", auth=carol).json()[0]["id"]
        for refused in (
            client.post("/api/v1/documents", files=upload, auth=carol),
            client.delete(f"/api/v1/documents/{doc_id}", auth=carol),
            client.patch(f"/api/v1/documents/{doc_id}", json={"title": "Mine"}, auth=carol),
            client.post("/gradio_api/upload", files=upload, auth=carol),
        ):
            assert refused.status_code == 403
            assert "read-only" in refused.json()["detail"]
        assert client.get("/api/v1/health", auth=carol).json()["counts"] == counts
        # the mark is the server's own: a client sending it changes nothing for alice
        spoof = {"x-qa-read-only": "1"}
        added = client.post("/api/v1/documents", files=upload, auth=alice, headers=spoof)
        assert added.status_code == 200
    library = chat_page(Service(Engine(sample_index))).library
    reader, docs = gr.Request(headers={"x-qa-read-only": "1"}), library.view.docs
    removed = library.remove(doc_id, reader)
    assert "not yours" in removed[docs.removed] and sample_index.document(doc_id)
    assert removed.keys() == {docs.removed}  # the report stays open, the list as it was
    # the chat shows a reader no Remove button and no upload box; others both
    writer = gr.Request(headers={})
    buttons = [library.open(doc_id, r)[docs.remove] for r in (reader, writer)]
    assert [button.visible for button in buttons] == [False, True]
    for part in (docs.upload, docs.several):  # nor removal of several at once
        assert [library.writers_only(r)[part].visible for r in (reader, writer)] == [False, True]
    assert library.remove_chosen([doc_id], "", reader).keys() == {docs.removed}


def test_reports_chosen_for_removal_are_removed_with_those_gone_meanwhile_said(
    sample_index: Index,
) -> None:
    library = chat_page(Service(Engine(sample_index))).library
    first, second = (d.id for d in sample_index.documents())
    sample_index.remove(first, exact=True)  # by another user, after the list was shown
    shown = library.remove_chosen([first, second], second, gr.Request(headers={}))
    status = shown[library.view.docs.removed]
    assert "Removed 1 report:" in status and "1 had already been removed." in status
    assert sample_index.documents() == []


def test_read_only_is_marked_in_auth_files_only() -> None:
    users = parse_credentials(["read-only dave:pw"])  # a flag: the user "read-only dave"
    assert users == {"read-only dave": "pw"} and users.read_only == frozenset()


def test_health_and_the_list_are_answered_while_every_worker_is_taken(reader: TestClient) -> None:
    """Issue 23: under saturation, health waited behind questions for the worker threads."""

    async def probe() -> tuple[int, int, bool]:
        taken = anyio.to_thread.current_default_thread_limiter()
        holders = [object() for _ in range(int(taken.total_tokens))]
        for holder in holders:  # as questions in flight would
            await taken.acquire_on_behalf_of(holder)
        try:
            transport = httpx.ASGITransport(app=reader.app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
                with anyio.fail_after(10):
                    health = await http.get("/api/v1/health")
                    listing = await http.get("/api/v1/documents")
                with anyio.move_on_after(1) as waited:  # a question still waits its turn
                    await http.post("/api/v1/search", json={"query": "Kharkiv"})
        finally:
            for holder in holders:
                taken.release_on_behalf_of(holder)
        return health.status_code, listing.status_code, waited.cancelled_caught

    assert asyncio.run(probe()) == (200, 200, True)


def test_a_reports_title_and_date_are_corrected_with_patch(client: TestClient) -> None:
    """Issue 26: PATCH /api/v1/documents/{id}; the correction holds when the file is
    uploaded again."""
    uploaded = client.post(
        "/api/v1/documents", files=[("files", ("kherson.txt", b"Shelling hit Kherson. " * 5))]
    ).json()["added"][0]
    path = f"/api/v1/documents/{uploaded['id']}"
    fixed = client.patch(path, json={"title": "Kherson shelled", "date": "2023-06-07"})
    assert fixed.status_code == 200
    assert (fixed.json()["title"], fixed.json()["date"]) == ("Kherson shelled", "2023-06-07")
    again = client.post(
        "/api/v1/documents", files=[("files", ("kherson.txt", b"Shelling hit Kherson. " * 5))]
    )
    assert [d["id"] for d in again.json()["unchanged"]] == [uploaded["id"]]
    assert client.get(path).json()["title"] == "Kherson shelled"
    for body, status, message in [
        ({"date": "2023-02-30"}, 422, "2023-02-30 is not a day: February 2023 has 28 days"),
        ({}, 422, "give a title or a date"),
        ({"title": "x", "colour": "red"}, 422, "colour: Extra inputs are not permitted"),
        ({"title": " "}, 422, "a title is 1 to 300 characters"),
    ]:
        refused = client.patch(path, json=body)
        assert refused.status_code == status and message in refused.json()["detail"]
    assert client.patch(path[:-4], json={"title": "x"}).status_code == 404  # a prefix: no
    assert client.get(path).json()["date"] == "2023-06-07"  # refusals changed nothing


def test_the_document_list_is_sorted_as_asked(client: TestClient) -> None:
    client.post("/api/v1/documents", files=[("files", ("z.txt", b"Zebra crossing report."))])
    added = client.get("/api/v1/documents", params={"contains": "z.txt"}).json()[0]
    client.patch(f"/api/v1/documents/{added['id']}", json={"date": "2024-01-02"})
    newest = client.get("/api/v1/documents", params={"sort": "date"}).json()
    assert newest[0]["source"] == "z.txt" and newest[0]["date"] == "2024-01-02"
    by_source = client.get("/api/v1/documents").json()
    assert [d["source"] for d in by_source] == sorted(d["source"] for d in by_source)
    refused = client.get("/api/v1/documents", params={"sort": "added"})
    assert (
        refused.status_code == 422 and "sort: Input should be 'source'" in refused.json()["detail"]
    )
