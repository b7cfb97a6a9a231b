"""Chunking keeps offsets, respects token limits and sentence boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import Chunker, count_tokens
from qa.embed import Embedder
from qa.sentences import split_sentences

WORDS = st.sampled_from(
    """the missile strike hit Kyiv on Thursday , 81 six Mr. Zelenskyy said “quoted”
    infrastructure héllo 東京 — power cuts 150,000 households""".split()
)
SENTENCE = st.lists(WORDS, min_size=1, max_size=40).map(lambda ws: " ".join(ws) + ".")
PROSE = st.lists(
    st.tuples(SENTENCE, st.sampled_from([" ", "  ", "\n", "\n\n", " \t"])), max_size=30
).map(lambda parts: "".join(s + sep for s, sep in parts))
# Words longer than a chunk: text without spaces (CJK, URLs, digits, emoji).
RUN = st.lists(
    st.sampled_from(["東京都", "https://example.org/a?b=", "a", "😀", "1234567", "é", "-", "."]),
    min_size=1,
    max_size=300,
).map("".join)
TEXT = st.one_of(
    PROSE, RUN, st.lists(st.one_of(PROSE, RUN), max_size=4).map(lambda parts: " ".join(parts))
)


@settings(max_examples=150, deadline=None)
@given(text=TEXT, size=st.integers(16, 120), overlap_ratio=st.floats(0, 0.5))
def test_chunks_are_slices_within_limits_covering_the_text(
    text: str, size: int, overlap_ratio: float
) -> None:
    chunker = Chunker(size, int(size * overlap_ratio))
    spans = chunker.spans(text)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        chunk = text[start:end]
        assert chunk == chunk.strip()
        assert count_tokens(chunk) <= size
    assert spans == sorted(spans)
    assert all(a[0] < b[0] for a, b in zip(spans, spans[1:])), "every chunk makes progress"
    covered = set()
    for start, end in spans:
        covered.update(range(start, end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=50, deadline=None)
@given(text=PROSE)
def test_chunks_never_cross_segment_boundaries(text: str) -> None:
    middle = len(text) // 2
    segments = [(0, middle), (middle, len(text))]
    for start, end in Chunker(32, 8).spans(text, segments):
        assert end <= middle or start >= middle


def test_chunks_end_at_sentence_boundaries() -> None:
    text = " ".join(f"Sentence number {i} talks about the power grid in Kyiv." for i in range(40))
    ends = {end for _, end in split_sentences(text)}
    for _, end in Chunker(64, 16).spans(text):
        assert end in ends


def test_overlap_repeats_trailing_sentences() -> None:
    text = " ".join(f"Report line {i} mentions drones." for i in range(30))
    spans = Chunker(40, 12).spans(text)
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:]))
    plain = Chunker(40, 0).spans(text)
    assert all(b[0] >= a[1] for a, b in zip(plain, plain[1:]))


def test_model_limit_is_enforced(embedder) -> None:  # type: ignore[no-untyped-def]
    """Digits cost more model tokens than tiktoken tokens; the model's window still holds."""
    text = " ".join(str(10_000_000 + i * 7919) for i in range(400)) + "."
    chunker = Chunker(250, 0, embedder.fits)
    for start, end in chunker.spans(text):
        assert embedder.count_tokens(text[start:end]) <= embedder.max_tokens


@pytest.mark.parametrize(
    "text",
    ["東京都" * 400, "See https://example.org/" + "report/2024/kyiv-" * 150 + " for more."],
    ids=["cjk", "url"],
)
def test_words_longer_than_a_chunk_are_cut_between_characters(
    embedder: Embedder, text: str
) -> None:
    chunker = Chunker(128, 32, embedder.fits)
    spans = chunker.spans(text)
    assert len(spans) > 1
    for start, end in spans:
        assert count_tokens(text[start:end]) <= 128
        assert embedder.count_tokens(text[start:end]) <= embedder.max_tokens
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(not text[a[1] : b[0]].strip() for a, b in zip(spans, spans[1:])), "no text lost"


@pytest.mark.parametrize(("size", "overlap"), [(4, 0), (64, 64), (64, -1)])
def test_bad_chunk_settings_name_the_value(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match=str(size) if size < 8 else str(overlap)):
        Chunker(size, overlap)


def test_sentences_respect_abbreviations_and_lines() -> None:
    text = (
        "Mr. Marchenko said on Telegram. Power was cut.\nHeadline without stop\nU.S. aid arrived."
    )
    got = [text[s:e] for s, e in split_sentences(text)]
    assert got == [
        "Mr. Marchenko said on Telegram.",
        "Power was cut.",
        "Headline without stop",
        "U.S. aid arrived.",
    ]


class EveryStep(Chunker):
    """The packing as it was: both limits checked at every step a chunk grows."""

    def _pack(self, text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        first = 0
        while first < len(pieces):
            last = first
            while last + 1 < len(pieces) and self.fits(
                text[pieces[first][0] : pieces[last + 1][1]]
            ):
                last += 1
            spans.append((pieces[first][0], pieces[last][1]))
            if last + 1 >= len(pieces):
                break
            first = self._overlap_start(text, pieces, first, last)
        return spans


SENTENCE = st.lists(
    st.sampled_from("Kyiv Zaporizhzhia 81 missiles, 6 Kinzhal; drones — über Lviv's".split()),
    min_size=1,
    max_size=14,
).map(lambda words: " ".join(words) + ".")


@settings(max_examples=150, deadline=None)
@given(
    sentences=st.lists(SENTENCE, min_size=1, max_size=30),
    size=st.integers(8, 60),
    model_limit=st.integers(6, 80),
)
def test_the_model_limit_checked_once_per_chunk_gives_the_same_chunks(
    sentences: list[str], size: int, model_limit: int
) -> None:
    """Property: checking the model's limit only on each chunk found (stepping back while it
    fails) cuts exactly the chunks that checking it at every step cuts."""
    text = " ".join(sentences)

    def fits(chunk: str) -> bool:  # a stand-in model tokenizer: words and punctuation
        return len(chunk.replace(",", " ,").replace(";", " ;").split()) <= model_limit

    overlap = size // 4
    assert Chunker(size, overlap, fits).spans(text) == EveryStep(size, overlap, fits).spans(text)
