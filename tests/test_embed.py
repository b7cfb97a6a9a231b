"""The embedder: one encode at a time, questions before bulk work, counting beside encoding."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from qa.embed import BULK_SLICE, Embedder
from qa.worker import Worker


def test_bulk_encoding_matches_one_call(embedder: Embedder) -> None:
    """Bulk work goes in slices of texts sorted by length; each vector comes back in its
    text's place. Vectors agree to cosine 0.9999, not bit for bit: another batch pads a text
    differently, and in bf16 (where the CPU has it) that moves the fourth decimal."""
    texts = [f"Report {i}: {i} shells hit the port." + " More." * (i % 7) for i in range(150)]
    assert len(texts) > 2 * BULK_SLICE
    bulk = embedder.encode(texts, bulk=True)
    alone = np.concatenate([embedder.encode([t]) for t in texts])
    assert bulk.shape == alone.shape == (len(texts), embedder.dim)
    assert (bulk * alone).sum(axis=1).min() >= 0.9999


def test_a_question_does_not_wait_for_a_bulk_encode(embedder: Embedder) -> None:
    """Bulk work held between two slices (its ``done`` callback waits on an event): a
    question asked then comes back before the bulk work goes on."""
    texts = [f"Report {i}: {i} shells hit the port of Odesa overnight." for i in range(200)]
    between, release = threading.Event(), threading.Event()
    counts: list[int] = []

    def done(count: int) -> None:
        counts.append(count)
        between.set()
        release.wait(60)

    bulk = threading.Thread(
        target=lambda: embedder.encode(texts, bulk=True, done=done), daemon=True
    )
    bulk.start()
    try:
        assert between.wait(60)
        vector = embedder.encode(["How many shells hit the port?"])
        assert counts == [BULK_SLICE]  # answered between two slices, not after the job
    finally:
        release.set()
        bulk.join(120)
    assert vector.shape == (1, embedder.dim)
    assert counts == [*range(BULK_SLICE, len(texts), BULK_SLICE), len(texts)]


def test_a_question_runs_beside_bulk_work_on_a_thread_of_its_own(embedder: Embedder) -> None:
    """The bulk worker held mid-slice (an event instead of a timing): a question's embedding
    still comes back, and it is the vector it would be at rest."""
    alone = embedder.encode(["How many shells hit the port?"])
    held, release = threading.Event(), threading.Event()
    slice_ = threading.Thread(
        target=lambda: embedder._worker.run(lambda: (held.set(), release.wait(60)), urgent=False)
    )
    slice_.start()
    held.wait(60)
    try:
        vector = embedder.encode(["How many shells hit the port?"])
        assert slice_.is_alive()  # the slice is still under way
    finally:
        release.set()
        slice_.join(60)
    assert (vector * alone).sum() >= 0.9999


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
