"""The ``qa`` command as a user runs it: output, JSON, and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.cli import main
from qa.config import sample_corpus
from qa.engine import Engine
from qa.index import Index
from tests.pdfs import make_pdf

KINZHAL = "how many Kinzhal missiles were fired"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def index_dir(sample_index_path: Path, tmp_path: Path) -> str:
    import shutil

    shutil.copytree(sample_index_path, tmp_path / "index")
    return str(tmp_path / "index")


def test_search_json_span_matches_show(capsys: pytest.CaptureFixture[str], index_dir: str) -> None:
    code, out, _ = run(capsys, "search", KINZHAL, "--json", "--index", index_dir)
    assert code == 0
    hit = json.loads(out)["hits"][0]
    assert "six Kinzhal hypersonic missiles" in hit["text"]
    assert {"dense_score", "bm25_score", "score", "page", "source", "title"} <= set(hit)
    code, out, _ = run(capsys, "show", hit["doc_id"], "--json", "--index", index_dir)
    assert json.loads(out)["text"][hit["start"] : hit["end"]] == hit["text"]
    code, out, _ = run(capsys, "show", hit["doc_id"], "--index", index_dir)
    assert out[hit["start"] : hit["end"]] == hit["text"]


def test_search_is_readable_by_default(capsys: pytest.CaptureFixture[str], index_dir: str) -> None:
    code, out, _ = run(capsys, "search", KINZHAL, "-k", "2", "--mode", "bm25", "--index", index_dir)
    assert code == 0 and out.startswith("1. ") and "2. " in out and "bm25" in out


def test_reingest_and_remove(capsys: pytest.CaptureFixture[str], index_dir: str) -> None:
    code, out, _ = run(capsys, "ingest", str(sample_corpus()), "--index", index_dir)
    assert code == 0 and "added 0, replaced 0, unchanged 2" in out
    code, out, _ = run(capsys, "docs", "--json", "--index", index_dir)
    docs = json.loads(out)
    assert len(docs) == 2 and all("text" not in d for d in docs)
    code, out, _ = run(capsys, "remove", docs[0]["id"], "--index", index_dir)
    assert code == 0 and docs[0]["id"] in out
    code, out, _ = run(capsys, "docs", "--index", index_dir)
    assert "1 documents" in out


def test_bad_files_in_a_folder_are_reported_and_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "good.txt").write_text("Kyiv\nThe metro was closed on Friday.\n")
    (folder / "paged.pdf").write_bytes(make_pdf(["Page one talks about drones.", "Page two."]))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage that is not a pdf")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    index = str(tmp_path / "index")
    code, out, err = run(capsys, "ingest", str(folder), "--index", index)
    assert code == 1
    assert "added 2" in out and "skipped 2" in out
    assert "broken.pdf" in err and "binary.txt" in err
    code, out, _ = run(capsys, "search", "drones", "--json", "--index", index)
    hit = json.loads(out)["hits"][0]
    assert hit["page"] == 1 and hit["source"].endswith("paged.pdf")


def test_file_names_cannot_forge_output_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = (tmp_path / "reports").resolve()
    folder.mkdir()
    (folder / "evil\nqa: skipped fake.txt: x.txt").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "good\rremoved 0 (x).txt").write_text("Kyiv\nThe metro was closed on Friday.\n")
    index = str(tmp_path / "index")
    code, out, err = run(capsys, "ingest", str(folder), "--index", index)
    assert code == 1 and "added 1" in out
    assert [line for line in err.splitlines() if line.startswith("qa: ")] == [
        f"qa: skipped {folder}/evil\\nqa: skipped fake.txt: x.txt: not a text file (binary content)"
    ]
    code, out, _ = run(capsys, "docs", "--index", index)
    assert out.splitlines()[1:] == ["1 documents"] and "\r" not in out
    assert out.splitlines()[0].endswith(f"  {folder}/good\\rremoved 0 (x).txt")
    doc_id = out.split()[0]
    code, out, _ = run(capsys, "remove", doc_id, "--index", index)
    assert out == f"removed {doc_id} ({folder}/good\\rremoved 0 (x).txt)\n"
    code, _, err = run(capsys, "ingest", str(folder / "gone\nqa: added.txt"), "--index", index)
    assert code == 1 and err == f"qa: error: {folder}/gone\\nqa: added.txt: file not found\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "   "], "query is empty"),
        (["ask", ""], "question is empty"),
        (["show", "no-such-doc"], "no document"),
        (["remove", "nothing"], "no document"),
        (["ingest", "/no/such/file.pdf"], "file not found"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], index_dir: str, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv, "--index", index_dir)
    assert code != 0
    assert err.count("\n") <= 2 and message in err and "Traceback" not in err


def test_no_index_yet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "search", "missiles", "--index", str(tmp_path / "none"))
    assert code == 1 and err.startswith("qa: error: no index at") and "qa ingest" in err


def test_a_reader_that_is_not_there_is_one_line(
    capsys: pytest.CaptureFixture[str],
    index_dir: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QA_READER", str(tmp_path / "no-reader"))
    code, out, err = run(capsys, "ask", KINZHAL, "--index", index_dir)
    assert code == 1 and not out
    assert err.startswith("qa: error: cannot load the reader from") and err.count("\n") == 1


def test_index_location_from_environment(
    capsys: pytest.CaptureFixture[str], index_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_INDEX", index_dir)
    code, out, _ = run(capsys, "docs")
    assert code == 0 and "2 documents" in out
    code, out, _ = run(capsys, "docs", "launches", "--limit", "1")
    assert code == 0 and out.splitlines()[-1] == "1 documents"
    code, out, _ = run(capsys, "docs", "--limit", "1", "--offset", "1")
    assert code == 0 and out.splitlines()[-1] == "documents 2-2 of 2 (--offset and --limit page on)"
    with pytest.raises(SystemExit):
        run(capsys, "docs", "--limit", "0")
    assert "argument --limit: '0' is not a whole number from 1 to 10000" in capsys.readouterr().err
    code, out, _ = run(capsys, "docs", "--sort", "title")
    assert code == 0 and "Russia launches" in out.splitlines()[0]  # "launches" < "says"


def test_ask_reads_questions_from_stdin(
    capsys: pytest.CaptureFixture[str], index_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = "How many Kinzhal missiles were fired?\n\nWhat is the capital of Australia?\n"
    lines = (
        questions.encode() + b"x" * 5000 + b"\nwhat\xff is this?\nWho is the mayor of Kharkiv?\n"
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    code, out, _ = run(capsys, "ask", "-", "--json", "--index", index_dir)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows[:2]] == [q for q in questions.split("\n") if q]
    assert rows[0]["short_answer"] == "six" and rows[1]["abstained"] is True
    assert "error" in rows[2] and "not valid text" in rows[3]["error"] and code == 1
    assert rows[4]["short_answer"] == "Ihor Terekhov"  # a bad line does not stop the batch


def test_undecodable_arguments_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], index_dir: str
) -> None:
    question = b"how many Kinzhal missiles\xff were fired".decode("utf-8", "surrogateescape")
    for command in ("ask", "search"):
        code, _, err = run(capsys, command, question, "--index", index_dir)
        assert code == 1 and "not valid text" in err and "Traceback" not in err


def test_ingest_of_a_missing_path_creates_no_index(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "ingest", "typo.pdf", "--index", str(tmp_path / "index"))
    assert code == 1 and "typo.pdf: file not found" in err
    assert not (tmp_path / "index").exists()


def test_remove_of_several_removes_none_when_one_is_unknown(
    capsys: pytest.CaptureFixture[str], index_dir: str
) -> None:
    _, out, _ = run(capsys, "docs", "--json", "--index", index_dir)
    first = json.loads(out)[0]["id"]
    code, _, err = run(capsys, "remove", first, "no-such-doc", "--index", index_dir)
    assert code == 1 and "no-such-doc" in err
    _, out, _ = run(capsys, "docs", "--index", index_dir)
    assert "2 documents" in out


def test_unexpected_failures_are_one_line_too(
    capsys: pytest.CaptureFixture[str], index_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr("qa.cli.cmd_docs", broken)
    code, _, err = run(capsys, "docs", "--index", index_dir)
    assert code == 2 and err.count("\n") == 1 and "RuntimeError: boom" in err


def test_ask_is_readable_by_default(capsys: pytest.CaptureFixture[str], index_dir: str) -> None:
    code, out, _ = run(capsys, "ask", "Who is the mayor of Kharkiv?", "--index", index_dir)
    assert code == 0 and out.startswith("Ihor Terekhov [1]") and "[1] " in out


def test_a_new_process_gives_identical_results(
    capsys: pytest.CaptureFixture[str], index_dir: str
) -> None:
    _, here, _ = run(capsys, "search", KINZHAL, "--json", "--index", index_dir)
    cmd = [sys.executable, "-m", "qa.cli", "search", KINZHAL, "--json", "--index", index_dir]
    there = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert json.loads(there) == json.loads(here)


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("ingest", "search", "ask", "docs", "show", "remove", "eval", "serve"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "usage: qa " + command in capsys.readouterr().out


def test_a_closed_pipe_is_not_an_error(index_dir: str) -> None:
    # `qa show ID | head -1`: the reader is gone before qa writes; that is no failure
    cmd = [sys.executable, "-m", "qa.cli", "docs", "--index", index_dir]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Broken pipe" not in err and "Traceback" not in err


def test_ingest_into_a_log_shows_progress_lines(
    capsys: pytest.CaptureFixture[str], index_dir: str, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for i in range(6):
        (folder / f"r{i}.txt").write_text(f"Report {i}\n\n{i} shells hit the port of Odesa.\n")
    code, out, err = run(capsys, "ingest", str(folder), "--index", index_dir)
    assert code == 0 and "added 6" in out
    assert "qa: reading 6/6 files (100%)" in err.splitlines()  # stderr is not a terminal here
    assert "qa: embedding 6/6 chunks (100%)" in err.splitlines()


@pytest.fixture(scope="module")
def server(module_sample_index: Index) -> Iterator[str]:
    """The sample index served over HTTP, behind a login; the URL carries the credentials."""
    from qa.ui.server import create_app
    from qa.ui.service import Service
    from tests.servers import served

    app = create_app(Service(Engine(module_sample_index)), {"ann": "pw"}, host="127.0.0.1")
    with served(app) as url:
        yield url.replace("http://", "http://ann:pw@")


@pytest.mark.parametrize("command", ["ask", "search"])
def test_asking_a_running_server_prints_what_the_index_gives(
    server: str, module_sample_index: Index, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = module_sample_index.location
    for extra in ([], ["--json"]):
        code, local, _ = run(capsys, command, KINZHAL, "--index", path, *extra)
        assert code == 0
        code, remote, _ = run(capsys, command, KINZHAL, "--server", server, *extra)
        assert code == 0 and remote == local


def test_a_server_answer_loads_no_model(server: str) -> None:
    code = (
        "import sys; from qa.cli import main; rc = main(['ask', '--server', sys.argv[1], "
        "'How many Kinzhal missiles were fired?']); "
        "print(rc, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, server], capture_output=True, text=True)
    assert out.stdout.startswith("six [1]")
    assert out.stdout.strip().splitlines()[-1] == "0 False False"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9", "cannot reach the server at http://127.0.0.1:9"),
        ("WRONG", "answered 401"),
    ],
)
def test_a_server_that_cannot_answer_is_one_line(
    server: str, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    url = server.replace("ann:pw", "ann:nope") if url == "WRONG" else url
    code, out, err = run(capsys, "ask", KINZHAL, "--server", url)
    assert code == 1 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_a_bad_question_to_a_server_is_its_422(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "ask", "   ", "--server", server)
    assert code == 1 and "answered 422" in err and "empty" in err


@pytest.mark.parametrize(
    "extra",
    [["--model", "some-model"], ["--index", "elsewhere"], ["--llm-url", "http://127.0.0.1:9/v1"]],
)
def test_a_flag_the_server_decides_is_refused_with_server(
    capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    code, out, err = run(capsys, "ask", KINZHAL, "--server", "http://127.0.0.1:9", *extra)
    assert code == 1 and out == ""
    assert f"{extra[0]} goes to `qa serve`, not to `qa ask --server`" in err


@pytest.mark.parametrize("command", [["serve"], ["remove", "abcd"]])
def test_commands_without_json_output_do_not_take_json(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--json"])
    assert done.value.code == 2 and "unrecognized arguments: --json" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from qa import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"qa (reportqa) {__version__}\n"


def test_show_takes_a_file_name_when_it_is_unique(
    capsys: pytest.CaptureFixture[str], index_dir: str, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "show", "000_214ac054cd4d5203.txt", "--index", index_dir)
    assert code == 0 and out.startswith("Russia says a missile strike")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "000_214ac054cd4d5203.txt").write_text("Another report with that name.\n")
    assert run(capsys, "ingest", str(other), "--index", index_dir)[0] == 0
    code, _, err = run(capsys, "show", "000_214ac054cd4d5203.txt", "--index", index_dir)
    assert code == 1 and "matches 2 documents; give more of the path" in err
    code, out, _ = run(capsys, "show", "elsewhere/000_214ac054cd4d5203.txt", "--index", index_dir)
    assert code == 0 and out.startswith("Another report")


@pytest.mark.parametrize("flag", ["--from", "--to"])
def test_a_bad_date_names_the_flag_typed(
    capsys: pytest.CaptureFixture[str], index_dir: str, flag: str
) -> None:
    code, _, err = run(capsys, "search", "missiles", flag, "2024-13-01", "--index", index_dir)
    assert (
        code == 1 and err == f"qa: error: {flag}: 2024-13-01 is not a day: there is no month 13\n"
    )
    code, _, err = run(capsys, "search", "missiles", flag, "13/01/2024", "--index", index_dir)
    assert (
        code == 1 and err == f"qa: error: {flag} must be a date as YYYY-MM-DD, got '13/01/2024'\n"
    )


def test_serve_on_a_busy_port_fails_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        code, _, err = run(capsys, "serve", "--port", port, "--index", "/nonexistent/never-read")
    assert code == 1 and f"port {port} on 127.0.0.1 is in use" in err and err.count("\n") == 1


def test_eval_prints_n_a_for_a_ratio_without_cases(
    capsys: pytest.CaptureFixture[str], index_dir: str, tmp_path: Path
) -> None:
    questions = tmp_path / "answerable.jsonl"
    questions.write_text(
        json.dumps(
            {"id": "k", "question": "How many Kinzhal missiles were fired?", "answers": ["six"]}
        )
        + "\n"
    )
    code, out, _ = run(capsys, "eval", str(questions), "--index", index_dir, "--no-output")
    assert code == 0 and "recall n/a" in out and "0.000" not in out.split("abstention")[1]
