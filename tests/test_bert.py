"""BERT on PyTorch alone (qa.bert) gives what transformers and sentence-transformers give."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from qa import bert
from qa.embed import BUNDLED_MODEL, Embedder, MeanPooled, model_path
from qa.reader.reader import BUNDLED_READER, Reader, encode
from qa.reader.training.train import transformers_reader

CORPUS = Path(__file__).parents[1] / "qa" / "corpus"


def texts() -> list[str]:
    reports = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.iterdir()) if p.is_file()]
    pieces = [r[i : i + 900] for r in reports for i in range(0, len(r), 700)]
    odd = ["", "   ", "How many Kinzhal missiles were fired?", "Київ — 81 ракета, 6 «Кинджалів»"]
    return reports + pieces + odd + ["word " * 400]  # the last is cut at the model's length


def test_the_bundled_embedder_gives_sentence_transformers_vectors(embedder: Embedder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(model_path(BUNDLED_MODEL), device="cpu")
    ours = Embedder(BUNDLED_MODEL, "fp32")
    assert isinstance(ours._model, MeanPooled)
    got = ours.encode(texts())
    wanted = reference.encode(texts(), normalize_embeddings=True, convert_to_numpy=True)
    assert got.shape == wanted.shape
    assert np.abs(got - wanted).max() < 1e-5
    assert ours.max_tokens == reference.max_seq_length == 256
    counts = [len(reference.tokenizer(t)["input_ids"]) for t in texts()]
    assert [ours.count_tokens(t) for t in texts()] == counts


def test_the_reader_cuts_and_scores_windows_as_transformers_does() -> None:
    lean = Reader.load(BUNDLED_READER, bf16=False)  # both in float32, whatever the CPU has
    reference = transformers_reader()
    assert isinstance(lean.model, bert.QuestionAnswering)
    passages = texts()
    for question in ("How many Kinzhal missiles were fired?", "Who?"):
        windows = encode(lean._windowing, [question] * len(passages), passages)
        wanted = reference.tokenizer(
            [question] * len(passages),
            passages,
            truncation="only_second",
            max_length=256,
            stride=96,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="np",
        )
        assert len(windows.owner) > len(passages)  # long passages read in several windows
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            assert (getattr(windows, name) == wanted[name]).all()
        assert (windows.offsets == wanted["offset_mapping"]).all()
        assert (windows.owner == wanted["overflow_to_sample_mapping"]).all()
        context = [[s == 1 for s in wanted.sequence_ids(i)] for i in range(len(windows.owner))]
        assert (windows.context == np.array(context)).all()
        rows = slice(0, 16)
        for got, expected in zip(lean.logits(windows, rows), reference.logits(windows, rows)):
            assert np.abs(got - expected).max() < 1e-4
        assert lean.read(question, passages) == reference.read(question, passages)


def test_answering_imports_neither_transformers_nor_sentence_transformers() -> None:
    """They take 5-7 s to import: a cold `qa ask` would spend most of its time on them."""
    script = (
        "import sys\n"
        "from qa.embed import load_embedder\n"
        "from qa.reader import load_reader\n"
        "load_embedder().encode(['a question?'])\n"
        "load_reader().read('Who?', ['Ihor Terekhov is the mayor.'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('transformers', 'sentence_transformers', 'sklearn')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(BUNDLED_READER, folder)
    return folder


def test_a_model_it_cannot_run_is_named(tmp_path: Path) -> None:
    folder = copy_model(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(bert.NotBert, match="hidden_act is 'relu'"):
        bert.load(bert.QuestionAnswering, folder)
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    with pytest.raises(bert.NotBert, match="model_type"):
        bert.load(bert.QuestionAnswering, folder)
    # the encoder's weights without the question-answering head
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(bert.NotBert, match="qa_outputs"):
        bert.load(bert.QuestionAnswering, _without(folder, "qa_outputs."))


def _without(folder: Path, prefix: str) -> Path:
    from safetensors.torch import load_file, save_file

    weights = load_file(folder / bert.WEIGHTS)
    save_file({k: v for k, v in weights.items() if not k.startswith(prefix)}, folder / bert.WEIGHTS)
    return folder


def test_the_encoder_masks_padding() -> None:
    """A text padded in a batch gets the vector it gets alone."""
    model = MeanPooled(Path(model_path(BUNDLED_MODEL)))
    alone = model.encode(["Six Kinzhal missiles."], 8)
    together = model.encode(["Six Kinzhal missiles.", "a much longer text " * 20], 8)
    assert np.abs(alone[0] - together[0]).max() < 1e-5
    with torch.inference_mode():
        ids = torch.tensor([[101, 2416, 102, 0, 0]])
        short = model.model(ids[:, :3], torch.ones(1, 3, dtype=torch.long), ids[:, :3] * 0)
        long = model.model(ids, (ids != 0).long(), ids * 0)
    assert torch.allclose(short[0], long[0, :3], atol=1e-5)
