"""What only the Milvus backend has: its locations, its errors, and the CLI on Milvus Lite.

The behaviour both backends share is tested once for both (the ``backend`` parameter of the
index fixtures in conftest.py); this file holds the Milvus-only parts, on real Milvus Lite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
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


def test_a_collection_that_is_not_an_index_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    from milvus_lite.server_manager import server_manager_instance
    from pymilvus import DataType, MilvusClient

    path = str(tmp_path / "other.db")
    client = MilvusClient(path)
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection("reportqa_chunks", schema=schema)
    client.close()
    server_manager_instance.release_server(path)
    with pytest.raises(IndexFormatError, match="is not a reportqa index"):
        Index.open(f"milvus://{path}", embedder=embedder)


def test_the_model_is_checked_against_the_collection(tmp_path: Path, embedder: Embedder) -> None:
    location = f"milvus://{tmp_path / 'x.db'}"
    Index.open(location, create=True, embedder=embedder).close()
    with pytest.raises(Exception, match="was built with embedding model"):
        Index.open(location, model=str(tmp_path / "another-model"))


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


def test_qa_eval_scores_a_question_set_on_milvus(
    capsys: pytest.CaptureFixture[str], sample_folders: Callable[[str], Path], tmp_path: Path
) -> None:
    shutil.copytree(sample_folders("milvus"), tmp_path / "copy")
    location = f"milvus://{tmp_path / 'copy' / 'index.db'}"
    questions = Path(__file__).resolve().parents[1] / "eval/data/sample_questions.jsonl"
    code = main(["eval", str(questions), "--index", location, "--limit", "8", "--no-output"])
    out, err = capsys.readouterr()
    assert code == 0 and "accuracy" in out
    assert "qa: asking 8/8 questions (100%)" in err  # progress, in a log as in a terminal
    done = qa("docs", "--json", "--index", location)
    assert json.loads(done.stdout)[0]["id"], done.stderr
