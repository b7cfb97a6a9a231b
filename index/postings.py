"""BM25 postings of one segment: for each term, the chunks that hold it and how often.

Statistics (document frequency, chunk count, average length) are not baked in: they are
summed over all segments at query time, less the removed chunks, so a search over many
segments scores every chunk exactly as one segment holding the same chunks would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

VOCAB = "vocab.txt"
ARRAYS = ("indptr", "docs", "tf", "lengths")  # each in its own .npy file, mapped when read


@dataclass(frozen=True)
class Postings:
    """Term ``t``'s postings are ``docs[indptr[t]:indptr[t + 1]]`` (positions in the
    segment, ascending) with their term frequencies ``tf``; ``lengths`` counts each chunk's
    terms (stop words left out). Frequencies are float32 (small whole numbers, exact), the
    type the scores are computed in."""

    vocab: dict[str, int]
    indptr: np.ndarray
    docs: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray

    @classmethod
    def build(cls, tokens: list[list[str]]) -> Postings:
        """Postings of tokenized chunks (chunk ``i`` is position ``i``)."""
        vocab: dict[str, int] = {}
        terms = np.fromiter(
            (vocab.setdefault(t, len(vocab)) for chunk in tokens for t in chunk), dtype=np.int64
        )
        lengths = np.array([len(chunk) for chunk in tokens], dtype=np.int32)
        owners = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
        return cls.from_pairs(vocab, terms, owners, np.ones(len(terms), np.int64), lengths)

    @classmethod
    def from_pairs(
        cls,
        vocab: dict[str, int],
        terms: np.ndarray,
        docs: np.ndarray,
        counts: np.ndarray,
        lengths: np.ndarray,
    ) -> Postings:
        """Postings from (term, doc, count) triples; a pair given twice has its counts summed."""
        n_docs = max(1, len(lengths))
        keys, where = np.unique(terms * n_docs + docs, return_inverse=True)
        tf = np.bincount(where, weights=counts, minlength=len(keys)).astype(np.float32)
        term_of = keys // n_docs
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_of, minlength=len(vocab)), out=indptr[1:])
        return cls(vocab, indptr, (keys % n_docs).astype(np.int32), tf, lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    def term(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the chunks holding ``term`` and its frequency in each."""
        t = self.vocab.get(term)
        if t is None:
            return self.docs[:0], self.tf[:0]
        a, b = self.indptr[t], self.indptr[t + 1]
        return self.docs[a:b], self.tf[a:b]

    @classmethod
    def merge(cls, parts: list[tuple[Postings, np.ndarray]]) -> Postings:
        """One segment's postings from several, each with a mask of the chunks to keep (in
        order); terms left in no kept chunk are dropped from the vocabulary."""
        vocab: dict[str, int] = {}
        terms, docs, counts, lengths = [], [], [], []
        offset = 0
        for postings, keep in parts:
            order = sorted(postings.vocab, key=postings.vocab.__getitem__)
            mapping = np.array([vocab.setdefault(t, len(vocab)) for t in order], dtype=np.int64)
            renumber = np.cumsum(keep) - 1 + offset
            per_term = np.diff(postings.indptr)
            owner_terms = np.repeat(mapping, per_term)
            kept = keep[postings.docs]
            terms.append(owner_terms[kept])
            docs.append(renumber[postings.docs[kept]])
            counts.append(postings.tf[kept].astype(np.int64))
            lengths.append(postings.lengths[keep])
            offset += int(keep.sum())
        merged = cls.from_pairs(
            vocab,
            np.concatenate(terms) if terms else np.zeros(0, np.int64),
            np.concatenate(docs) if docs else np.zeros(0, np.int64),
            np.concatenate(counts) if counts else np.zeros(0, np.int64),
            np.concatenate(lengths) if lengths else np.zeros(0, np.int32),
        )
        return merged.compact()

    def compact(self) -> Postings:
        """The same postings without terms that no chunk holds."""
        per_term = np.diff(self.indptr)
        if per_term.all():
            return self
        used = np.flatnonzero(per_term)
        order = sorted(self.vocab, key=self.vocab.__getitem__)
        vocab = {order[t]: i for i, t in enumerate(used)}
        indptr = np.zeros(len(used) + 1, dtype=np.int64)
        np.cumsum(per_term[used], out=indptr[1:])
        return Postings(vocab, indptr, self.docs, self.tf, self.lengths)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        order = sorted(self.vocab, key=self.vocab.__getitem__)
        (folder / VOCAB).write_text("\n".join(order), encoding="utf-8")
        for name in ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> Postings:
        """The saved postings, their big arrays mapped from the files (read as searches need
        them, shared with other processes through the page cache); ValueError when the files
        do not fit together. Their bytes are not scanned: the set's fingerprints vouch for
        them (:mod:`qa.index.derived`)."""
        text = (folder / VOCAB).read_text(encoding="utf-8")
        order = text.split("\n") if text else []
        # plain array views of the maps: a memmap's slices are memmaps too, each made with
        # Python-level overhead (a quarter of a BM25 search's time at 100,000 chunks)
        indptr, docs, tf, lengths = (
            np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)
            for name in ARRAYS
        )
        vocab = {term: i for i, term in enumerate(order)}
        if (
            len(vocab) != len(order)
            or len(indptr) != len(order) + 1
            or indptr[0] != 0
            or indptr[-1] != len(docs)
            or len(tf) != len(docs)
            or tf.dtype != np.float32
            or np.any(np.diff(indptr) < 0)
        ):
            raise ValueError(f"the BM25 postings in {folder} do not fit together")
        return cls(vocab, indptr, docs, tf, lengths)
