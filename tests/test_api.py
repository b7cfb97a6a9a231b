"""The REST API through an HTTP client, against the real app on a copy of the sample index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.cli import main
from qa.index import Index
from qa.ui.auth import parse_credentials
from qa.ui.server import create_app
from qa.ui.service import Service

KINZHAL = "How many Kinzhal missiles were fired?"
MAYOR = "Who is the mayor of Kharkiv?"
LIMIT = 64 * 1024  # upload limit of the test app, so oversize bodies stay small
USERS = {"alice": "s3cret:with:colons", "bob": "hunter2"}


@pytest.fixture(scope="module")
def reader(module_sample_index: Index) -> Iterator[TestClient]:
    """A client for tests that must leave the index as it is (they check that they do)."""
    with TestClient(create_app(Service(module_sample_index, LIMIT))) as client:
        yield client


@pytest.fixture
def client(sample_index: Index) -> Iterator[TestClient]:
    """A client of an app on a private copy of the sample index, for tests that write."""
    with TestClient(create_app(Service(sample_index, LIMIT))) as client:
        yield client


@pytest.fixture
def counts(reader: TestClient) -> dict[str, int]:
    return reader.get("/api/v1/health").json()["counts"]


def test_ask_cites_the_exact_words(reader: TestClient) -> None:
    body = reader.post("/api/v1/ask", json={"question": KINZHAL}).json()
    assert body["short_answer"] == "six" and not body["abstained"]
    assert body["confidence"] >= 0.45 and "[1]" in body["answer"]
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
    assert main(["ask", "--index", str(module_sample_index.path), "--json", MAYOR]) == 0
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


def test_documents_list_and_get(reader: TestClient) -> None:
    docs = reader.get("/api/v1/documents").json()
    assert len(docs) == 2 and all("text" not in d for d in docs)
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
        ({"k": 3}, "Field required"),
    ],
)
def test_bad_questions_are_422_with_a_message(
    reader: TestClient, counts: dict[str, int], body: dict[str, object], message: str
) -> None:
    response = reader.post("/api/v1/ask", json=body)
    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    assert reader.get("/api/v1/health").json()["counts"] == counts


def test_bad_search_is_422(reader: TestClient) -> None:
    assert reader.post("/api/v1/search", json={"query": " "}).status_code == 422
    assert reader.post("/api/v1/search", json={"query": "x", "mode": "fuzzy"}).status_code == 422


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
    app = create_app(Service(sample_index), USERS)
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


def test_parse_credentials(tmp_path: Path) -> None:
    file = tmp_path / "users"
    file.write_text("# team\ncarol:pa:ss\n\n  dave:x  \n", encoding="utf-8")
    assert parse_credentials(["alice:a"], [file]) == {"alice": "a", "carol": "pa:ss", "dave": "x"}
    with pytest.raises(ValueError, match="expected user:password"):
        parse_credentials(["alice"])
    with pytest.raises(ValueError, match="cannot read the auth file"):
        parse_credentials([], [tmp_path / "missing"])
