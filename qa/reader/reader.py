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
from qa.sentences import split_sentences
from qa.worker import Worker

MAX_LENGTH = 256  # tokens per window: question, passage part, special tokens
STRIDE = 96  # tokens two windows of one passage share
MAX_ANSWER_TOKENS = 30
TOP_TOKENS = 20  # start and end candidates looked at per window
BATCH = 32  # windows per forward pass
MAX_SHARES = 8  # threads a read's windows are shared out between, one core each
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


@dataclass(frozen=True)
class Windows:
    """Token windows over (question, passage) pairs, padded to the longest: a long passage
    gives several, overlapping by ``STRIDE`` tokens."""

    input_ids: np.ndarray  # (windows, tokens) int64
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    offsets: np.ndarray  # (windows, tokens, 2): each token's characters in its text
    context: np.ndarray  # (windows, tokens) bool: the token is the passage's
    owner: np.ndarray  # (windows,): the pair each window reads


def windowing(tokenizer: Any, max_length: int = MAX_LENGTH, stride: int = STRIDE) -> Any:
    """A ``tokenizers.Tokenizer`` of the reader's own that cuts pairs into windows: from a
    tokenizer of that library, or a transformers tokenizer's backend (as training has)."""
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    windows = Tokenizer.from_str(backend.to_str())
    windows.no_padding()
    windows.enable_truncation(max_length, stride=stride, strategy="only_second")
    return windows


def encode(tokenizer: Any, questions: list[str], passages: list[str]) -> Windows:
    """Windows over each (question, passage) pair, cut by a :func:`windowing` tokenizer as
    transformers cuts them with ``truncation="only_second"`` and ``return_overflowing_tokens``."""
    from qa.bert import padded

    parts, owner = [], []
    for pair, whole in enumerate(tokenizer.encode_batch(list(zip(questions, passages)))):
        for part in (whole, *whole.overflowing):
            parts.append(part)
            owner.append(pair)
    ids = padded([p.ids for p in parts])
    offsets = np.zeros((*ids.shape, 2), dtype=np.int64)
    context = np.zeros(ids.shape, dtype=bool)
    for i, part in enumerate(parts):
        offsets[i, : len(part.ids)] = part.offsets
        context[i, : len(part.ids)] = [s == 1 for s in part.sequence_ids]
    return Windows(
        ids,
        padded([p.attention_mask for p in parts]),
        padded([p.type_ids for p in parts]),
        offsets,
        context,
        np.asarray(owner, dtype=np.int64),
    )


class Reader:
    """A question-answering model and its tokenizer: the model takes ``input_ids``,
    ``attention_mask`` and ``token_type_ids`` and gives ``start_logits`` and ``end_logits``
    (:class:`qa.bert.QuestionAnswering`, or transformers' ``AutoModelForQuestionAnswering`` in
    training); the tokenizer is a ``tokenizers.Tokenizer`` or a transformers fast tokenizer."""

    def __init__(
        self, model: Any, tokenizer: Any, *, bf16: bool | None = None, cores: int | None = None
    ) -> None:
        """``bf16``: compute in bf16 (default: on a GPU, or a CPU with bf16 instructions),
        by autocast, or in the weights' own bf16 where :meth:`load` cast them. ``cores``:
        how many threads a read's windows are shared out between on a CPU (default: one
        per core, up to :data:`MAX_SHARES`)."""
        from qa.embed import native_bf16

        self.model = model.eval()
        self.tokenizer = tokenizer
        self._windowing = windowing(tokenizer)
        on_gpu = next(model.parameters()).device.type != "cpu"
        self.bf16 = bf16 if bf16 is not None else on_gpu or native_bf16()
        self._worker = Worker("qa-reader")  # one read at a time (qa.worker)
        # on a CPU, a read's windows are shared out, one thread per core each, instead of
        # every core working on each matrix product: on two cores (AMX, bf16) 42 against 21
        # forwards a second, and a read in about half the time
        if cores is None:
            cores = min(os.cpu_count() or 1, MAX_SHARES)
        cores = 1 if on_gpu else max(1, cores)
        self._helpers = [Worker(f"qa-reader-{i}") for i in range(1, cores)]

    @classmethod
    def load(
        cls, path: str | Path, *, bf16: bool | None = None, cores: int | None = None
    ) -> Reader:
        """The model saved in ``path`` (weights in any precision; run in float32 or bf16),
        on PyTorch alone (:mod:`qa.bert`): no transformers import."""
        from qa import bert

        folder = Path(path)
        try:
            model, tokenizer = bert.load(bert.QuestionAnswering, folder), bert.tokenizer(folder)
            reader = cls(model, tokenizer, bf16=bf16, cores=cores)
        except bert.NotBert as exc:
            raise ValueError(str(exc)) from None
        if reader.bf16:
            import torch

            # weights cast once: a fifth faster than autocast, which casts them on every
            # call (on a CPU with AMX: 49 against 59 ms for six windows), logits as close
            reader.model.to(torch.bfloat16)
        return reader

    def logits(
        self, windows: Windows, rows: slice, length: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of some of the windows (their first ``length`` tokens, if
        given: the rest is padding), as float32 arrays."""
        import torch

        device = next(self.model.parameters()).device
        inputs = {
            name: torch.from_numpy(getattr(windows, name)[rows, :length]).to(device)
            for name in ("input_ids", "attention_mask", "token_type_ids")
        }
        cast = next(self.model.parameters()).dtype == torch.bfloat16
        with (
            torch.inference_mode(),
            torch.autocast(device.type, torch.bfloat16, enabled=self.bf16 and not cast),
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
        windows = encode(self._windowing, [question] * len(passages), passages)
        best: dict[int, Span] = {}
        for first in range(0, len(windows.owner), BATCH):
            rows = slice(first, first + BATCH)
            starts, ends = self._shared_logits(windows, rows)
            for row in range(starts.shape[0]):
                i = first + row
                p = int(windows.owner[i])
                span = best_span(
                    starts[row],
                    ends[row],
                    windows.context[i],
                    windows.offsets[i],
                    max_answer_tokens,
                    _on_text(accept, passages[p]),
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

    def _shared_logits(self, windows: Windows, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`logits` of ``rows``, shared out between this thread and the helpers, each
        on one core and its share cut to its longest window."""
        first, stop, _ = rows.indices(len(windows.owner))
        shares = [
            s for s in np.array_split(np.arange(first, stop), len(self._helpers) + 1) if len(s)
        ]
        if len(shares) < 2:
            return self.logits(windows, rows)
        futures = [
            helper.submit(functools.partial(self._one_core, windows, share))
            for helper, share in zip(self._helpers, shares[1:])
        ]
        parts = [self._one_core(windows, shares[0])] + [f.result() for f in futures]
        width = windows.input_ids.shape[1]

        def padded(logits: np.ndarray) -> np.ndarray:  # back to the windows' width
            return np.pad(logits, ((0, 0), (0, width - logits.shape[1])), constant_values=-1e4)

        starts = np.concatenate([padded(s) for s, _ in parts])
        return starts, np.concatenate([padded(e) for _, e in parts])

    def _one_core(self, windows: Windows, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`logits` of the windows ``share`` (consecutive rows), on this thread alone."""
        import torch

        length = int(windows.attention_mask[share].sum(axis=1).max())
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # this thread's own setting
        try:
            return self.logits(windows, slice(int(share[0]), int(share[-1]) + 1), length)
        finally:
            torch.set_num_threads(threads)


def _on_text(accept: Callable[[str], bool] | None, text: str) -> Callable[[int, int], bool]:
    """Which character spans of ``text`` can be answers: none across a line that ends a
    sentence (a short answer never runs from one paragraph or title into the next; a line
    break inside a hard-wrapped paragraph is a space), and those ``accept`` takes."""
    breaks: list[int] = []

    def ok(start: int, end: int) -> bool:
        span = text[start:end]
        if "\n" in span:
            if not breaks:
                bounds = split_sentences(text)
                breaks.extend(b[0] for a, b in zip(bounds, bounds[1:]) if "\n" in text[a[1] : b[0]])
                breaks.append(len(text) + 1)  # split once, even where no line ends one
            if any(start < at < end for at in breaks):
                return False
        return accept is None or accept(span)

    return ok


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
