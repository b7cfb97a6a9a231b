"""``qa serve`` without serving: first-run seeding, its options, users, and the bind warning.

``uvicorn.run`` is replaced by a recorder, so each command builds the real app and returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from qa.cli import main
from qa.embed import Embedder
from qa.index import Index
from qa.ui.auth import parse_credentials
from qa.ui.cli import exposure_warning
from qa.ui.service import open_engine


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """The app ``qa serve`` would serve, and the address of the socket it listens on,
    instead of serving (its chats kept in a temporary data folder)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    def record(server: uvicorn.Server, sockets: list[Any]) -> None:
        host, port = sockets[0].getsockname()[:2]
        calls.append({"app": server.config.app, "host": host, "port": port})

    monkeypatch.setattr(uvicorn.Server, "run", record)
    return calls


def test_first_run_ingests_the_sample_reports(tmp_path: Path, embedder: Embedder) -> None:
    index, report = open_engine(tmp_path / "new")
    with index:
        assert report is not None and len(report.added) == 2 and report.errors == []
        assert index.counts()["documents"] == 2
        sources = sorted(Path(d.source).name for d in index.documents())
        assert sources[0].startswith("000_") and sources[1].startswith("004_")
    index, report = open_engine(tmp_path / "new")  # not empty now: nothing added again
    with index:
        assert report is None and index.counts()["documents"] == 2
    index, report = open_engine(tmp_path / "bare", sample=False)
    with index:
        assert report is None and index.counts()["documents"] == 0


def test_serve_seeds_an_empty_index_unless_told_not_to(
    tmp_path: Path, served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--index", str(tmp_path / "a"), "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert "added 2 sample reports" in err and "warning" not in err
    assert (served[-1]["host"], served[-1]["port"]) == ("127.0.0.1", 8123)  # localhost by default
    assert main(["serve", "--index", str(tmp_path / "b"), "--no-sample"]) == 0
    assert "sample" not in capsys.readouterr().err
    assert (tmp_path / "data" / "reportqa" / "chats.sqlite3").is_file()  # the chats' default
    with Index.open(tmp_path / "a") as a, Index.open(tmp_path / "b") as b:
        assert (a.counts()["documents"], b.counts()["documents"]) == (2, 0)


def test_serve_names_a_chats_file_it_cannot_use(
    tmp_path: Path, served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not a folder")
    chats = tmp_path / "file" / "chats.sqlite3"
    assert main(["serve", "--index", str(tmp_path / "a"), "--chats", str(chats)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"qa: error: cannot keep chats in {chats}")
    assert served == []


def test_serve_warns_on_an_open_address_without_users(
    sample_index_path: Path,
    tmp_path: Path,
    served: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = ["--index", str(sample_index_path)]
    assert main(["serve", *index, "--host", "0.0.0.0"]) == 0
    err = capsys.readouterr().err
    assert "qa: warning: serving on 0.0.0.0 without --auth" in err and "--auth-file" in err
    assert served[-1]["host"] == "0.0.0.0"
    users = tmp_path / "users"
    users.write_text("# staff\nalice:s3cret\n", encoding="utf-8")
    assert main(["serve", *index, "--host", "0.0.0.0", "--auth-file", str(users)]) == 0
    assert "warning" not in capsys.readouterr().err
    with TestClient(served[-1]["app"]) as client:  # the users really guard the app
        assert client.get("/api/v1/health").status_code == 401
        assert client.get("/", auth=("alice", "s3cret")).status_code == 200
    assert exposure_warning("::1", {}) is None and exposure_warning("localhost", {}) is None
    assert exposure_warning("192.168.1.5", {"a": "b"}) is None
    assert "192.168.1.5" in (exposure_warning("192.168.1.5", {}) or "")


def test_parse_credentials(tmp_path: Path) -> None:
    file = tmp_path / "users"
    file.write_text("# team\ncarol:pa:ss\n\n  dave:x  \n", encoding="utf-8")
    assert parse_credentials(["alice:a"], [file]) == {"alice": "a", "carol": "pa:ss", "dave": "x"}
    with pytest.raises(ValueError, match="expected user:password"):
        parse_credentials(["alice"])
    with pytest.raises(ValueError, match="cannot read the auth file"):
        parse_credentials([], [tmp_path / "missing"])
    (tmp_path / "empty").write_text("# nobody yet\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no user:password lines"):  # else no login at all
        parse_credentials([], [tmp_path / "empty"])


def test_bad_auth_file_is_one_error_before_anything_loads(
    tmp_path: Path, served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users"
    users.write_text("alice:ok\nbob\n:secret\ncarol:\n", encoding="utf-8")
    index = tmp_path / "index"
    assert main(["serve", "--index", str(index), "--auth-file", str(users)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"qa: error: expected user:password, got {users}:2: 'bob'; {users}:3: ':***'; "
        f"{users}:4: 'carol:'\n"
    )
    assert "secret" not in err and not index.exists() and served == []


@pytest.mark.parametrize(("port", "message"), [("70000", "out of range"), ("web", "not a port")])
def test_serve_checks_the_port(port: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", port])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_ask_and_search_use_a_running_server_of_the_same_index(
    sample_index_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 26: `qa ask` loaded the models itself (6-12 s) though `qa serve` had them loaded."""
    import json
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from qa import servers

    index = tmp_path / "index"
    shutil.copytree(sample_index_path, index)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "qa.cli", "serve", "--index", str(index), "--port", str(port)]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while servers.find(str(index)) is None:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        assert main(["ask", "How many Kinzhal missiles were fired?", "--index", str(index)]) == 0
        out, err = capsys.readouterr()
        assert err == f"qa: asking {url}, which serves this index (--no-server: here)\n"
        assert out.startswith("six")
        assert main(["search", "Kinzhal", "--index", str(index), "--json"]) == 0
        out, err = capsys.readouterr()
        assert "asking" in err and json.loads(out)["hits"][0]["title"]
        here = [
            "ask",
            "How many Kinzhal missiles were fired?",
            "--index",
            str(index),
            "--no-server",
        ]
        assert main(here) == 0
        out, err = capsys.readouterr()
        assert "asking" not in err and out.startswith("six")
        assert servers.find(str(tmp_path / "elsewhere")) is None  # another index: not this one
        assert httpx.get(f"{url}/api/v1/health").status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
    assert servers.find(str(index)) is None
    assert list((tmp_path / "data" / "reportqa" / servers.FOLDER).iterdir()) == []  # cleared


def test_a_server_behind_a_login_or_gone_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import servers

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with servers.registered(str(tmp_path / "a"), "http://127.0.0.1:9", login=True):
        assert servers.find(str(tmp_path / "a")) is None  # the command has no password
    assert not list((tmp_path / "reportqa" / servers.FOLDER).iterdir())
    with servers.registered(str(tmp_path / "b"), "http://127.0.0.1:9", login=False):
        assert servers.find(str(tmp_path / "b")) is None  # nothing answers there


def test_served_connections_send_small_writes_at_once() -> None:
    """A kept-alive connection asking again at once waited ~40 ms per response (Nagle
    against the client's delayed ACK): asyncio turns Nagle off only on the connections of a
    socket that says it is TCP, as the one ``qa serve`` listens on now does."""
    import asyncio
    import socket

    from qa.ui.cli import listen

    async def accepted_nodelay() -> int:
        listening = listen("127.0.0.1", 0)
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
            nodelay = await asyncio.wait_for(seen, 10)
            writer.close()
        return nodelay

    assert asyncio.run(accepted_nodelay()) != 0
