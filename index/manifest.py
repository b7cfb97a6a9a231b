"""The index manifest: what built the index, checked before anything is searched."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_origin, get_type_hints

from qa.chunking import Chunker
from qa.errors import IndexFormatError, IndexNotFoundError, ModelMismatchError

FORMAT = "reportqa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclass
class Manifest:
    """Contents of ``manifest.json``; ``counts`` and ``generation`` follow each write."""

    model: str
    dim: int
    tokenizer: str
    chunk_size: int
    chunk_overlap: int
    package_version: str
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    counts: dict[str, int] = field(default_factory=lambda: {"documents": 0, "chunks": 0})
    generation: int = 0

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.exists():
            raise IndexNotFoundError(
                f"no index at {directory}; create one with `qa ingest PATH --index {directory}`"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise IndexFormatError(f"{path} is not a readable manifest: {exc}") from exc
        return cls.parse(text, str(path), str(directory))

    @classmethod
    def parse(cls, text: str, path: str, directory: str) -> Manifest:
        """The manifest in ``text``, read from ``path`` (named in errors) for the index at
        ``directory``."""
        try:
            data: Any = json.loads(text)
        except ValueError as exc:
            raise IndexFormatError(f"{path} is not a readable manifest: {exc}") from exc
        if not isinstance(data, dict):
            raise IndexFormatError(
                f"{path} is damaged: it holds a JSON {type(data).__name__}, not an object"
            )
        if data.get("format") != FORMAT:
            raise IndexFormatError(f"{directory} is not a reportqa index ({path} has no format)")
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"{directory} has index format {data.get('format_version')}; this version of "
                f"reportqa reads format {FORMAT_VERSION}: rebuild it with `qa ingest`"
            )
        try:
            manifest = cls(**data)
        except TypeError as exc:
            raise IndexFormatError(f"{path} is damaged: {exc}") from exc
        hints = get_type_hints(cls)
        for name, value in data.items():
            kind = get_origin(hints[name]) or hints[name]
            counts = value.values() if isinstance(value, dict) else ()
            if not _is(value, kind) or not all(_is(n, int) for n in counts):
                raise IndexFormatError(
                    f"{path} is damaged: {name!r} should be {kind.__name__}, not {value!r}"
                )
        manifest._check_values(path)
        return manifest

    def _check_values(self, path: str) -> None:
        """Fail on a dimension or chunking that no index could have been built with."""
        if self.dim <= 0:
            raise IndexFormatError(f"{path} is damaged: 'dim' should be positive, not {self.dim}")
        try:
            Chunker(self.chunk_size, self.chunk_overlap)  # the rules chunking itself applies
        except ValueError as exc:
            raise IndexFormatError(
                f"{path} is damaged: 'chunk_size' {self.chunk_size} with 'chunk_overlap' "
                f"{self.chunk_overlap}: {exc}"
            ) from None

    def settings(self) -> dict[str, str]:
        """What the index's chunks and vectors were made with, as text: the store keeps the
        same, so an edited or swapped manifest is found."""
        names = ("model", "dim", "tokenizer", "chunk_size", "chunk_overlap")
        return {name: str(getattr(self, name)) for name in names}

    def check_vectors(self, width: int, path: Path) -> None:
        """Fail when a stored embedding of ``width`` bytes is not ``dim`` float32 values, before
        the vectors are reshaped; ``path`` is the file holding them."""
        if width != 4 * self.dim:
            raise IndexFormatError(
                f"{path} does not match its manifest: the manifest says {self.dim} dimensions, "
                f"stored vectors have {width / 4:g} ({width} bytes); rebuild it with `qa ingest`"
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def write(self, directory: Path) -> None:
        """Replace the manifest atomically (write a temporary file, then rename)."""
        tmp = directory / f".{MANIFEST}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(self.to_json() + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, directory / MANIFEST)

    def check_model(self, model: str, directory: str | Path) -> None:
        if model != self.model:
            raise ModelMismatchError(
                f"the index at {directory} was built with embedding model {self.model!r} "
                f"({self.dim} dimensions), not {model!r}: open it with that model or "
                "re-ingest into a new index"
            )


def _is(value: object, kind: type) -> bool:
    """``isinstance``, except that JSON's true and false are not integers."""
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))
