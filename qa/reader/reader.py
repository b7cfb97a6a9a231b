"""The reader: a transformer that reads a question with each passage and scores every span.

Long passages are read in overlapping windows. A span's score is its start logit plus its end
logit, so scores compare across windows and passages (as in DrQA and Haystack); the window's
[CLS] scores the same way say "no answer here". Spans come back as character offsets into the
passage, so a caller can always quote ``passage[start:end]``.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import ModelLoadError
from qa.worker import Worker

MAX_LENGTH = 256  # tokens per window: question, passage part, special tokens
STRIDE = 96  # tokens two windows of one passage share
MAX_ANSWER_TOKENS = 30
TOP_TOKENS = 20  # start and end candidates looked at per window
BATCH = 32  # windows per forward pass
BUNDLED_READER = Path(__file__).with_name("model")  # trained by qa.reader.training, shipped
READER_ENV = "QA_READER"  # another exported reader to answer with
READER_FILES = ("config.json", "model.safetensors", "tokenizer.json")

_cache: dict[Path, Reader] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Span:
    """The best answer found in one passage, and how strongly the reader says there is none."""

    passage: int
    start: int
    end: int
    score: float
    no_answer: float

    @property
    def margin(self) -> float:
        """How much the span beats "no answer" (positive: the reader prefers the span)."""
        return self.score - self.no_answer


def encode(
    tokenizer: Any,
    questions: list[str],
    passages: list[str],
    max_length: int = MAX_LENGTH,
    stride: int = STRIDE,
) -> Any:
    """Windows over each (question, passage) pair, with offsets and the pair each came from."""
    return tokenizer(
        questions,
        passages,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
        return_tensors="np",
    )


class Reader:
    """A question-answering model (``AutoModelForQuestionAnswering``) and its tokenizer."""

    def __init__(self, model: Any, tokenizer: Any, *, bf16: bool | None = None) -> None:
        """``bf16``: autocast to bf16 (default: on a GPU, or a CPU with bf16 instructions)."""
        from qa.embed import native_bf16

        self.model = model.eval()
        self.tokenizer = tokenizer
        on_gpu = next(model.parameters()).device.type != "cpu"
        self.bf16 = bf16 if bf16 is not None else on_gpu or native_bf16()
        self._worker = Worker("qa-reader")  # one read at a time, on every core (qa.worker)

    @classmethod
    def load(cls, path: str | Path, *, bf16: bool | None = None) -> Reader:
        """The model saved in ``path`` (weights in any precision; run in float32 or bf16)."""
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # its "Loading weights" bar would reach stderr
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForQuestionAnswering.from_pretrained(
            str(path), local_files_only=True, dtype=torch.float32
        )
        return cls(model, tokenizer, bf16=bf16)

    def logits(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of a batch of windows, as float32 arrays."""
        import torch

        device = next(self.model.parameters()).device
        inputs = {
            k: torch.from_numpy(v.astype(np.int64)).to(device)
            for k, v in batch.items()
            if k in ("input_ids", "attention_mask", "token_type_ids")
        }
        with (
            torch.inference_mode(),
            torch.autocast(device.type, torch.bfloat16, enabled=self.bf16),
        ):
            out = self.model(**inputs)
        return out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()

    def read(
        self,
        question: str,
        passages: list[str],
        max_answer_tokens: int = MAX_ANSWER_TOKENS,
        accept: Callable[[str], bool] | None = None,
    ) -> list[Span]:
        """The best span of each passage (in passage order); empty passages give none.
        With ``accept``, the best span whose text it accepts ("one figure" for a "how many"
        question); a passage with none gives no span."""
        if not passages:
            return []
        return self._worker.run(
            functools.partial(self._read, question, passages, max_answer_tokens, accept)
        )

    def _read(
        self,
        question: str,
        passages: list[str],
        max_answer_tokens: int,
        accept: Callable[[str], bool] | None,
    ) -> list[Span]:
        enc = encode(self.tokenizer, [question] * len(passages), passages)
        owner = enc["overflow_to_sample_mapping"]
        best: dict[int, Span] = {}
        for first in range(0, len(owner), BATCH):
            rows = slice(first, first + BATCH)
            batch = {k: enc[k][rows] for k in ("input_ids", "attention_mask", "token_type_ids")}
            starts, ends = self.logits(batch)
            for row in range(starts.shape[0]):
                i = first + row
                context = np.asarray(enc.sequence_ids(i)) == 1
                p = int(owner[i])
                span = best_span(
                    starts[row],
                    ends[row],
                    context,
                    enc["offset_mapping"][i],
                    max_answer_tokens,
                    None if accept is None else _on_text(accept, passages[p]),
                )
                if span is None:
                    continue
                start, end, score = span
                null = float(starts[row][0] + ends[row][0])
                old = best.get(p)
                no_answer = null if old is None else max(old.no_answer, null)
                if old is None or score > old.score:
                    best[p] = Span(p, start, end, score, no_answer)
                else:
                    best[p] = Span(p, old.start, old.end, old.score, no_answer)
        return [best[p] for p in sorted(best)]


def _on_text(accept: Callable[[str], bool], text: str) -> Callable[[int, int], bool]:
    return lambda start, end: accept(text[start:end])


def load_reader(path: str | Path | None = None) -> Reader:
    """The reader exported to ``path`` (default: ``$QA_READER``, else the one shipped in the
    package), loaded on first use and shared within the process; nothing is downloaded."""
    folder = Path(path or os.environ.get(READER_ENV) or BUNDLED_READER).expanduser().resolve()
    with _cache_lock:
        if folder not in _cache:
            missing = [n for n in READER_FILES if not (folder / n).is_file()]
            if missing:
                raise ModelLoadError(
                    f"cannot load the reader from {folder}: no {', '.join(missing)} there "
                    "(python -m qa.reader.training.train --export writes a reader)"
                )
            try:
                _cache[folder] = Reader.load(folder)
            except (OSError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ModelLoadError(f"cannot load the reader from {folder}: {first}") from None
        return _cache[folder]


def best_span(
    starts: np.ndarray,
    ends: np.ndarray,
    context: np.ndarray,
    offsets: np.ndarray,
    max_answer_tokens: int,
    accept: Callable[[int, int], bool] | None = None,
) -> tuple[int, int, float] | None:
    """The highest-scoring (start char, end char, score) inside the context tokens, of
    those ``accept`` takes (given the character span) when it is given."""
    s_logits = np.where(context, starts, -np.inf)
    e_logits = np.where(context, ends, -np.inf)
    top_s = np.argsort(-s_logits)[:TOP_TOKENS]
    top_e = np.argsort(-e_logits)[:TOP_TOKENS]
    pairs = []
    for s in top_s:
        if not np.isfinite(s_logits[s]):
            break
        for e in top_e:
            if not np.isfinite(e_logits[e]) or e < s or e - s + 1 > max_answer_tokens:
                continue
            pairs.append((float(s_logits[s] + e_logits[e]), int(offsets[s][0]), int(offsets[e][1])))
    for score, start, end in sorted(pairs, reverse=True):
        if accept is None or accept(start, end):
            return start, end, score
    return None
