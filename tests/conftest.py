"""Shared fixtures: the real bundled model, loaded once per session; indexes in temp dirs."""

from __future__ import annotations

import shutil
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
    local backend's files or internals) on the local backend alone."""
    if "backend" in metafunc.fixturenames:
        local_only = metafunc.definition.get_closest_marker("local_only")
        metafunc.parametrize("backend", ["local"] if local_only else BACKENDS)


def location(folder: Path, backend: str) -> str:
    """Where an index of ``backend`` lives in ``folder``."""
    return str(folder / "index") if backend == "local" else f"milvus://{folder / 'index.db'}"


@pytest.fixture
def index(tmp_path: Path, embedder: Embedder, backend: str) -> Iterator[Index]:
    """A new, empty index in a temporary folder."""
    with Index.open(location(tmp_path, backend), create=True, embedder=embedder) as ix:
        yield ix


@pytest.fixture(scope="session")
def sample_folders(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Callable[[str], Path]:
    """The folder of an index of the two sample reports per backend, built once on first
    use; copy it before writing to it."""
    built: dict[str, Path] = {}

    def folder(backend: str) -> Path:
        if backend not in built:
            made = tmp_path_factory.mktemp(f"sample-{backend}")
            with Index.open(location(made, backend), create=True, embedder=embedder) as ix:
                ix.add([sample_corpus()])
            built[backend] = made
        return built[backend]

    return folder


@pytest.fixture(scope="session")
def sample_index_path(sample_folders: Callable[[str], Path]) -> Path:
    """The local index of the two sample reports; copy it before writing to it."""
    return sample_folders("local") / "index"


@pytest.fixture
def sample_index(
    sample_folders: Callable[[str], Path], tmp_path: Path, embedder: Embedder, backend: str
) -> Iterator[Index]:
    """A private, writable copy of the sample index."""
    copy = tmp_path / "sample-copy"
    shutil.copytree(sample_folders(backend), copy)
    with Index.open(location(copy, backend), embedder=embedder) as ix:
        yield ix


@pytest.fixture(scope="module")
def module_sample_index(
    sample_index_path: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[Index]:
    """A writable copy of the sample index shared by one test module (e.g. a served app)."""
    path = tmp_path_factory.mktemp("module-sample") / "index"
    shutil.copytree(sample_index_path, path)
    with Index.open(path, embedder=embedder) as ix:
        yield ix
