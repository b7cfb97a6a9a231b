"""The embedder: one encode at a time, questions before bulk work, counting beside encoding."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from qa.embed import BULK_SLICE, Embedder
from qa.worker import Worker


def test_bulk_encoding_matches_one_call(embedder: Embedder) -> None:
    texts = [f"Report {i}: {i} shells hit the port." for i in range(BULK_SLICE + 5)]
    bulk = embedder.encode(texts, bulk=True)
    assert bulk.shape == (len(texts), embedder.dim)
    assert np.allclose(bulk, embedder.encode(texts), atol=1e-5)


def test_a_question_does_not_wait_for_a_bulk_encode(embedder: Embedder) -> None:
    texts = [f"Report {i}: {i} shells hit the port of Odesa overnight." for i in range(400)]
    started = threading.Event()
    worker = threading.Thread(
        target=lambda: (started.set(), embedder.encode(texts, bulk=True)), daemon=True
    )
    worker.start()
    started.wait()
    time.sleep(0.2)  # the bulk encode is under way
    vector = embedder.encode(["How many shells hit the port?"])
    assert worker.is_alive()  # answered between two slices, not after the whole job
    assert vector.shape == (1, embedder.dim)
    worker.join(120)


def test_counting_tokens_runs_beside_encoding(embedder: Embedder) -> None:
    errors: list[BaseException] = []

    def count() -> None:
        try:
            for i in range(300):
                assert embedder.count_tokens(f"word {i} " * 20) > 20
        except BaseException as exc:  # "Already borrowed" if the tokenizer were shared
            errors.append(exc)

    counter = threading.Thread(target=count)
    counter.start()
    for _ in range(5):
        embedder.encode([f"sentence {i}" for i in range(64)])
    counter.join()
    assert not errors


def test_urgent_jobs_go_first_and_errors_come_back() -> None:
    worker = Worker()
    order: list[str] = []
    hold = threading.Event()
    first = threading.Thread(target=lambda: worker.run(hold.wait))  # keeps the worker busy
    first.start()
    time.sleep(0.05)
    threads = [
        threading.Thread(target=lambda: worker.run(lambda: order.append("bulk"), urgent=False)),
        threading.Thread(target=lambda: worker.run(lambda: order.append("urgent"))),
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    hold.set()
    for thread in [first, *threads]:
        thread.join(5)
    assert order == ["urgent", "bulk"]
    with pytest.raises(ZeroDivisionError):
        worker.run(lambda: 1 / 0)


def test_bf16_and_fp32_give_the_same_vectors(embedder: Embedder) -> None:
    from qa.embed import load_embedder

    texts = ["Six Kinzhal hypersonic missiles were fired.", "The mayor of Kharkiv spoke."]
    other = "fp32" if embedder.precision == "bf16" else "bf16"
    vectors = embedder.encode(texts)
    again = load_embedder(precision=other).encode(texts)
    assert again.dtype == vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(again, axis=1), 1.0, atol=1e-5)
    assert float((vectors * again).sum(axis=1).min()) > 0.999


def test_a_bad_precision_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.embed import PRECISION_ENV, default_precision

    monkeypatch.setenv(PRECISION_ENV, "int4")
    with pytest.raises(ValueError, match="QA_EMBED_PRECISION must be bf16 or fp32"):
        default_precision()
    monkeypatch.setenv(PRECISION_ENV, "FP32")
    assert default_precision() == "fp32"
