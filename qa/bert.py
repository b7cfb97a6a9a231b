"""BERT on PyTorch alone: the bundled embedder and the reader, without transformers.

Both shipped models are plain BERT encoders (all-MiniLM-L6-v2 and the reader trained on it).
Importing transformers and sentence-transformers takes 5-7 s on two cores, more than reading
the weights and answering a question, so a command that answers once would spend most of its
time importing. Here the same forward pass is written out (embeddings, then self-attention and
a GELU feed-forward per layer, each followed by a residual LayerNorm), with the parameters
named as transformers names them, so the saved weights load as they are; tokenization is the
model's own ``tokenizer.json`` run by the ``tokenizers`` library, as transformers runs it.
tests/test_bert.py checks both against transformers and sentence-transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional

WEIGHTS = "model.safetensors"


class NotBert(ValueError):
    """A model folder this module cannot run (another architecture or option)."""


@dataclass(frozen=True)
class Config:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def read(cls, folder: Path) -> Config:
        """The folder's ``config.json``, if it describes a BERT this module runs."""
        try:
            raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise NotBert(f"no readable config.json in {folder}: {exc}") from None
        unlike = {
            "model_type": "bert",
            "hidden_act": "gelu",
            "position_embedding_type": "absolute",
        }
        for key, wanted in unlike.items():
            if raw.get(key, wanted) != wanted:
                raise NotBert(f"{folder}: {key} is {raw.get(key)!r}, not {wanted!r}")
        try:
            return cls(**{name: raw[name] for name in cls.__dataclass_fields__})
        except KeyError as exc:
            raise NotBert(f"{folder}/config.json has no {exc.args[0]}") from None


class _Embeddings(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, ids: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        summed = (
            self.word_embeddings(ids)
            + self.position_embeddings(positions)
            + self.token_type_embeddings(types)
        )
        return self.LayerNorm(summed)


class _Dense(nn.Module):
    """A linear map, then LayerNorm over it plus the residual (transformers' BertSelfOutput
    and BertOutput)."""

    def __init__(self, inputs: int, config: Config) -> None:
        super().__init__()
        self.dense = nn.Linear(inputs, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _SelfAttention(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        out = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return out.transpose(1, 2).reshape(batch, length, width)


class _Attention(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.self = _SelfAttention(config)
        self.output = _Dense(config.hidden_size, config)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, mask), x)


class _Intermediate(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.attention = _Attention(config)
        self.intermediate = _Intermediate(config)
        self.output = _Dense(config.intermediate_size, config)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        attended = self.attention(x, mask)
        return self.output(self.intermediate(attended), attended)


class _Encoder(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(config) for _ in range(config.num_hidden_layers))


class Bert(nn.Module):
    """The encoder: token ids in, one hidden vector per token out."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        x = self.embeddings(input_ids, token_type_ids)
        # (batch, 1, 1, length): every query may look at the real tokens, none at padding
        mask = attention_mask.bool()[:, None, None, :]
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


class SpanLogits(NamedTuple):
    start_logits: torch.Tensor
    end_logits: torch.Tensor


class QuestionAnswering(nn.Module):
    """BERT with a start and an end logit per token (transformers' BertForQuestionAnswering)."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.bert = Bert(config)
        self.qa_outputs = nn.Linear(config.hidden_size, 2)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> SpanLogits:
        hidden = self.bert(input_ids, attention_mask, token_type_ids)
        start, end = self.qa_outputs(hidden).unbind(-1)
        return SpanLogits(start, end)


def load(module: type[nn.Module], folder: Path) -> Any:
    """``module`` built from ``folder``'s config.json, its weights from model.safetensors
    (any float precision, run in float32). Weights the module has no use for (a pooler,
    position ids) are left out; a missing one is an error."""
    from safetensors.torch import load_file

    model = module(Config.read(folder))
    try:
        saved = load_file(folder / WEIGHTS)
    except (OSError, ValueError) as exc:
        raise NotBert(f"cannot read {folder / WEIGHTS}: {exc}") from None
    wanted = model.state_dict()
    weights = {}
    for name, tensor in saved.items():
        if name in wanted:
            weights[name] = tensor.float()
    missing = sorted(set(wanted) - set(weights))
    if missing:
        raise NotBert(f"{folder / WEIGHTS} has no {', '.join(missing[:3])}")
    model.load_state_dict(weights)
    return model.eval()


def tokenizer(folder: Path) -> Any:
    """The folder's ``tokenizers.Tokenizer`` from tokenizer.json, with the truncation and
    padding saved in it turned off (callers set their own)."""
    from tokenizers import Tokenizer

    try:
        loaded = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises its own Exception subclass
        raise NotBert(f"cannot read {folder / 'tokenizer.json'}: {exc}") from None
    loaded.no_truncation()
    loaded.no_padding()
    return loaded


def padded(rows: list[list[int]], value: int = 0) -> np.ndarray:
    """Rows of ids as one int64 array, padded on the right to the longest."""
    out = np.full((len(rows), max(map(len, rows), default=0)), value, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out
