"""Shared fixtures: the real bundled model, loaded once per session; indexes in temp dirs."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa.config import sample_corpus
from qa.embed import Embedder, load_embedder
from qa.index import Index


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder()


BACKENDS = ("local", "milvus")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that take an index run once per backend; ``local_only`` ones (they look at the
    local backend's files or internals) on the local backend alone, ``milvus_only`` ones on
    Milvus alone."""
    if "backend" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker
        only = "local" if marked("local_only") else "milvus" if marked("milvus_only") else ""
        metafunc.parametrize("backend", [only] if only else BACKENDS)


MILVUS_ENV = "QA_TEST_MILVUS"  # host:port of a Milvus server for the Milvus backend's tests


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of the Milvus the Milvus backend is tested against: ``$QA_TEST_MILVUS`` (any
    server or cluster; its token, if any, in ``$QA_MILVUS_TOKEN``), else the native engine
    milvus-lite ships, started here on a free port and reached over TCP, as a server is."""
    if os.environ.get(MILVUS_ENV):
        yield os.environ[MILVUS_ENV]
        return
    from qa.index.milvus_engine import NativeMilvus, free_address

    engine = NativeMilvus(tmp_path_factory.mktemp("milvus") / "tests.db", free_address())
    engine.start()
    try:
        yield str(engine.address)
    finally:
        engine.stop()


@pytest.fixture
def new_location(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> Iterator[Callable[[], str]]:
    """Locations of new indexes of ``backend``: folders under the test's temporary folder,
    or collections of their own on the test Milvus (dropped after the test)."""
    made: list[str] = []

    def new() -> str:
        if backend == "local":
            made.append(str(tmp_path / f"index{len(made) or ''}"))
        else:
            server = request.getfixturevalue("milvus_server")
            made.append(f"milvus://{server}/qa_test_{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield new
    if backend != "local":
        for where in made:
            drop_milvus_index(where)


def drop_milvus_index(location: str) -> None:
    """Drop the collections of a test's Milvus index."""
    from pymilvus import MilvusClient

    from qa.index.milvus import parse_location

    address = parse_location(location)
    client = MilvusClient(uri=f"http://{address.uri}", token=os.environ.get("QA_MILVUS_TOKEN", ""))
    try:
        for suffix in ("documents", "chunks"):
            client.drop_collection(f"{address.name}_{suffix}")
    finally:
        client.close()


@pytest.fixture
def index(new_location: Callable[[], str], embedder: Embedder) -> Iterator[Index]:
    """A new, empty index in a temporary folder or collection."""
    with Index.open(new_location(), create=True, embedder=embedder) as ix:
        yield ix


@pytest.fixture(scope="session")
def sample_index_path(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The local index of the two sample reports, built once; copy it before writing to it."""
    path = tmp_path_factory.mktemp("sample-local") / "index"
    with Index.open(path, create=True, embedder=embedder) as ix:
        ix.add([sample_corpus()])
    return path


@pytest.fixture
def sample_index(
    request: pytest.FixtureRequest,
    sample_index_path: Path,
    new_location: Callable[[], str],
    tmp_path: Path,
    embedder: Embedder,
    backend: str,
) -> Iterator[Index]:
    """A private, writable copy of the sample index: of its folder (local), or its stored
    chunks and vectors written into a new collection (Milvus), through the index's hook."""
    if backend == "local":
        copy = tmp_path / "sample-copy"
        shutil.copytree(sample_index_path, copy)
        with Index.open(copy, embedder=embedder) as ix:
            yield ix
        return
    documents, roots = request.getfixturevalue("sample_embedded")
    with Index.open(new_location(), create=True, embedder=embedder) as ix:
        ix.commit_embedded(documents)
        ix.backend.store.add_roots(roots)
        yield ix


@pytest.fixture(scope="session")
def sample_embedded(sample_index_path: Path, embedder: Embedder) -> tuple[list, list[str]]:
    """The sample index's documents with their stored chunks and vectors, and its ingested
    folders, read once: what a Milvus copy of it is written from."""
    from qa.index.core import local_backend

    with Index.open(sample_index_path, embedder=embedder) as source:
        return list(local_backend(source).embedded_documents()), source.roots()


@pytest.fixture(scope="module")
def module_sample_index(
    sample_index_path: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[Index]:
    """A writable copy of the sample index shared by one test module (e.g. a served app)."""
    path = tmp_path_factory.mktemp("module-sample") / "index"
    shutil.copytree(sample_index_path, path)
    with Index.open(path, embedder=embedder) as ix:
        yield ix
