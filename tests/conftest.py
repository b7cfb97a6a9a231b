"""Shared fixtures: the real bundled model, loaded once per session; indexes in temp dirs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.config import sample_corpus
from qa.embed import Embedder, load_embedder
from qa.index import Index


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder()


@pytest.fixture
def index(tmp_path: Path, embedder: Embedder) -> Iterator[Index]:
    """A new, empty index in a temporary folder."""
    with Index.open(tmp_path / "index", create=True, embedder=embedder) as ix:
        yield ix


@pytest.fixture(scope="session")
def sample_index_path(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index of the two sample reports, built once; copy it before writing to it."""
    path = tmp_path_factory.mktemp("sample") / "index"
    with Index.open(path, create=True, embedder=embedder) as ix:
        ix.add([sample_corpus()])
    return path


@pytest.fixture
def sample_index(sample_index_path: Path, tmp_path: Path, embedder: Embedder) -> Iterator[Index]:
    """A private, writable copy of the sample index."""
    path = tmp_path / "sample-index"
    shutil.copytree(sample_index_path, path)
    with Index.open(path, embedder=embedder) as ix:
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
