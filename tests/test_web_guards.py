"""The server's guards against other pages and hostile clients: the chat reads only what was
uploaded to it, no other origin may write or read, its upload route keeps report files only."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from qa.engine import Engine
from qa.index import Index
from qa.ui.server import create_app
from qa.ui.service import Service

BASE = "http://127.0.0.1:7860"
OTHER_PORT = "http://localhost:9999"  # another page served from this machine
SECRET = "# Launch codes\n\nThe password is swordfish.\n"


@pytest.fixture
def client(
    sample_index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    app = create_app(Service(Engine(sample_index)), host="127.0.0.1")
    with TestClient(app, base_url=BASE) as client:
        yield client


def file_events(client: TestClient) -> list[tuple[int, int, list[bool]]]:
    """(fn_index, trigger id, which of its inputs are files) of every chat event that takes
    files."""
    config = client.get("/config").json()
    files = {c["id"] for c in config["components"] if c.get("type") == "file"}
    return [
        (dep["id"], dep["targets"][0][0], [i in files for i in dep["inputs"]])
        for dep in config["dependencies"]
        if set(dep["inputs"]) & files
    ]


def event_data(kinds: list[bool], files: list[dict[str, Any]]) -> list[Any]:
    """An event's input values: ``files`` for each file input, empty text for the others."""
    return [files if is_file else "" for is_file in kinds]


def run_event(
    client: TestClient, fn_index: int, trigger: int, data: list[Any], headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Send a chat event through Gradio's queue as a client would; its messages, in order."""
    body = {"data": data, "fn_index": fn_index, "trigger_id": trigger, "session_hash": "s1"}
    joined = client.post("/gradio_api/queue/join", json=body, headers=headers)
    if joined.status_code != 200:
        return [{"msg": "refused", "status": joined.status_code}]
    messages = []
    with client.stream("GET", "/gradio_api/queue/data?session_hash=s1") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                messages.append(json.loads(line[5:]))
                if messages[-1].get("msg") in ("process_completed", "close_stream"):
                    break
    return messages


@pytest.mark.parametrize("origin", [None, OTHER_PORT])
def test_the_file_read_exploit_reads_nothing(
    client: TestClient, sample_index: Index, tmp_path: Path, origin: str | None
) -> None:
    """Replays the exploit of issue 9: an upload event naming a file elsewhere on disk."""
    secret = tmp_path / "launch-codes.md"
    secret.write_text(SECRET, encoding="utf-8")
    before = client.get("/api/v1/documents").json()
    headers = {"Origin": origin} if origin else {}
    events = file_events(client)
    assert events  # the upload box
    for fn_index, trigger, kinds in events:
        data = event_data(kinds, [{"path": str(secret), "meta": {"_type": "gradio.FileData"}}])
        messages = run_event(client, fn_index, trigger, data, headers)
        if origin:
            assert messages == [{"msg": "refused", "status": 403}]
        else:
            assert messages[-1]["msg"] == "process_completed" and not messages[-1]["success"]
            assert "not uploaded by a user" in json.dumps(messages)
    assert client.get("/api/v1/documents").json() == before
    assert client.get("/api/v1/documents/launch-codes.md").status_code == 404
    hits = client.post("/api/v1/search", json={"query": "password swordfish"}).json()["hits"]
    assert not any("swordfish" in hit["text"] for hit in hits)
    assert secret.read_text(encoding="utf-8") == SECRET  # not read, not deleted


def test_a_real_upload_through_the_chat_is_stored(client: TestClient) -> None:
    upload = client.post(
        "/gradio_api/upload",
        files=[("files", ("odesa.md", b"# Odesa\n\nThe port of Odesa reopened today.\n"))],
    )
    assert upload.status_code == 200
    path = upload.json()[0]
    (fn_index, trigger, kinds), *_ = file_events(client)
    data = event_data(
        kinds, [{"path": path, "orig_name": "odesa.md", "meta": {"_type": "gradio.FileData"}}]
    )
    messages = run_event(client, fn_index, trigger, data, {})
    assert "Added: “Odesa” (odesa.md)" in json.dumps(messages, ensure_ascii=False)
    assert not Path(path).exists()  # Gradio's copy is gone once read
    assert client.get("/api/v1/documents/odesa.md").json()["title"] == "Odesa"


def test_the_upload_route_keeps_report_files_only(client: TestClient, tmp_path: Path) -> None:
    refused = client.post(
        "/gradio_api/upload",
        files=[("files", ("notes.md", b"# fine\n")), ("files", ("tool.exe", b"MZ\x90\x00"))],
    )
    assert refused.status_code == 415 and "tool.exe" in refused.json()["detail"]
    saved = [p for p in (tmp_path / "gradio").rglob("*") if p.is_file()]
    assert saved == []  # neither file of the refused upload is kept


def test_other_origins_may_neither_write_nor_read(client: TestClient) -> None:
    for path in ("/gradio_api/queue/join", "/gradio_api/upload", "/api/v1/ask"):
        response = client.post(path, json={}, headers={"Origin": OTHER_PORT})
        assert response.status_code == 403, path
        assert "cross-site request refused" in response.json()["detail"]
    preflight = client.options(
        "/gradio_api/queue/join",
        headers={"Origin": OTHER_PORT, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    for path in ("/config", "/api/v1/documents", "/gradio_api/info"):
        read = client.get(path, headers={"Origin": OTHER_PORT})
        assert "access-control-allow-origin" not in read.headers, path
    own = client.post("/api/v1/search", json={"query": "Kinzhal"}, headers={"Origin": BASE})
    assert own.status_code == 200  # the server's own pages still work


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets: the server must send none."""
    contacted: list[str] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            contacted.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"The port of Odesa reopened today.\n")

        do_HEAD = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", contacted
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    "route",
    [
        "/gradio_api/file={url}/report.txt",
        "/gradio_api/file={quoted}%2Freport.txt",
        "/gradio_api/file=//127.0.0.1:{port}/report.txt",
        "/gradio_api/proxy={url}/report.txt",
    ],
)
def test_no_file_route_fetches_a_url(
    client: TestClient, listener: tuple[str, list[str]], route: str
) -> None:
    url, contacted = listener
    port = url.rsplit(":", 1)[1]
    path = route.format(url=url, quoted=quote(url, safe=""), port=port)
    for method in ("GET", "HEAD"):
        reply = client.request(method, path)
        assert reply.status_code in (403, 404), (path, reply.status_code)
    assert contacted == []


def test_no_chat_event_fetches_a_file_given_by_url(
    client: TestClient, listener: tuple[str, list[str]]
) -> None:
    url, contacted = listener
    before = client.get("/api/v1/documents").json()
    events = file_events(client)
    for fn_index, trigger, kinds in events:
        for path in (f"{url}/report.txt", f"  {url.upper()}/report.txt"):
            data = event_data(
                kinds, [{"path": path, "url": path, "meta": {"_type": "gradio.FileData"}}]
            )
            assert run_event(client, fn_index, trigger, data, {}) == [
                {"msg": "refused", "status": 400}
            ]
    assert contacted == []
    assert client.get("/api/v1/documents").json() == before
    # the chat's own events still go through the guard's replay of their bodies
    upload = client.post("/gradio_api/upload", files=[("files", ("odesa.md", b"# Odesa\n\nA.\n"))])
    fn_index, trigger, kinds = events[0]
    data = event_data(
        kinds,
        [{"path": upload.json()[0], "orig_name": "odesa.md", "meta": {"_type": "gradio.FileData"}}],
    )
    assert "Added" in json.dumps(run_event(client, fn_index, trigger, data, {}))


@pytest.mark.parametrize(("name", "status"), [("..", 400), ("../..", 400), (".", 415)])
def test_a_refused_upload_leaves_no_file(
    client: TestClient, tmp_path: Path, name: str, status: int
) -> None:
    """Issue 23: a file named ".." made Gradio answer 400 and keep its temporary files."""
    reply = client.post(
        "/gradio_api/upload",
        files=[("files", ("fine.md", b"# fine\n")), ("files", (name, b"x" * 100_000))],
    )
    assert reply.status_code == status
    left = [p for p in (tmp_path / "gradio").rglob("*") if p.is_file()]
    assert left == []
    ok = client.post("/gradio_api/upload", files=[("files", ("kept.md", b"# kept\n"))])
    assert ok.status_code == 200 and Path(ok.json()[0]).exists()  # a good upload stays
