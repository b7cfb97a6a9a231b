"""The learned verifier's training tool (measured, not shipped): its input and its score."""

from __future__ import annotations

import numpy as np
import torch

from qa.reader.training.train import transformers_reader
from qa.reader.training.verifier import Verifier, _auc, pair

SENTENCE = "Kharkiv's mayor, Ihor Terekhov, said the city had no water."
WINDOW = f"Odesa lost power. {SENTENCE} Repairs took days."


def test_the_answer_is_marked_where_its_sentence_says_it() -> None:
    question, window = pair("Who is the mayor of Kharkiv?", "Ihor Terekhov", SENTENCE, WINDOW)
    assert question == "Who is the mayor of Kharkiv?"
    assert window == WINDOW.replace("Ihor Terekhov", "« Ihor Terekhov »")
    # not in the window at all: the window as it is
    assert pair("q?", "Vitaliy Kim", SENTENCE, WINDOW) == ("q?", WINDOW)


def test_auc_is_the_share_of_right_wrong_pairs_ordered_right() -> None:
    right = np.array([True, True, False, False])
    assert _auc(np.array([0.9, 0.8, 0.2, 0.1]), right) == 1.0
    assert _auc(np.array([0.1, 0.2, 0.8, 0.9]), right) == 0.0
    assert _auc(np.array([0.5, 0.9, 0.5, 0.1]), right) == 0.875  # a tie counts half


def test_the_verifier_trains_its_top_layers_on_the_readers_shared_lower_ones() -> None:
    reader = transformers_reader()
    encoder = reader.model.base_model
    verifier = Verifier.from_reader(reader.model, 2)
    assert verifier.bert.embeddings is encoder.embeddings
    assert verifier.bert.encoder.layer[3] is encoder.encoder.layer[3]
    assert verifier.bert.encoder.layer[4] is not encoder.encoder.layer[4]
    own = {k for k in verifier.trained_state()}
    assert own and all(
        k.startswith(("bert.encoder.layer.4.", "bert.encoder.layer.5.", "head.")) for k in own
    )
    with torch.inference_mode():
        logits = verifier.logits(
            reader.tokenizer, [pair("Who?", "Ihor Terekhov", SENTENCE, WINDOW)]
        )
    assert logits.shape == (1,)
    # the reader's weights are frozen: only the verifier's own layers train
    assert all(not p.requires_grad for p in encoder.parameters())
