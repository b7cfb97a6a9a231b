"""Rebuild the checker's list of lowercase words (:mod:`qa.generate.lexicon`) from SQuAD v1.1.

    python -m qa.reader.training.lexicon [SQUAD_FILE] [--out FILE]

Offline, like the reader's training: it reads the same SQuAD v1.1 train file and writes the
list that ships in the package (``qa/generate/lowercase-words.txt.gz``; data licence CC BY-SA
4.0). The same data gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
from collections import Counter
from collections.abc import Iterable

from qa.generate.lexicon import LOWERCASE_WORDS, WORD, key
from qa.reader.training.data import load_squad, squad_path
from qa.sentences import split_sentences


def count(texts: Iterable[str]) -> set[str]:
    """The words of ``texts`` written in lowercase at least as often as capitalised, each
    sentence's first word aside."""
    lower: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    for text in texts:
        for start, end in split_sentences(text):
            for word in WORD.findall(text, start, end)[1:]:
                (lower if word[0].islower() else upper)[key(word)] += 1
    return {word for word, n in lower.items() if n >= upper[word]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m qa.reader.training.lexicon", description=__doc__.split("\n")[0]
    )
    parser.add_argument("squad", nargs="?", default=str(squad_path()), help="SQuAD v1.1 train")
    parser.add_argument("--out", default=str(LOWERCASE_WORDS), help="where to write the list")
    args = parser.parse_args(argv)
    paragraphs = {context for a in load_squad(args.squad) for context, _ in a.paragraphs}
    words = sorted(count(paragraphs))
    # mtime 0: the same data gives the same bytes
    with gzip.GzipFile(args.out, "wb", mtime=0) as file:
        file.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words):,} lowercase words from {len(paragraphs):,} paragraphs -> {args.out}")


if __name__ == "__main__":
    main()
