"""Which capitalised words are names: the English words written mostly in lowercase are not.

A sentence's first word is capitalised whatever it is, so the checker cannot tell "Officials
said" from "Putin said" by its case. This list can: the words (as :func:`key` gives them) that
SQuAD v1.1 train's Wikipedia paragraphs write in lowercase at least as often as capitalised,
past each sentence's first word. A word it lacks ("putin", "kyiv", "energoatom") is taken for a
name. The list ships with the package; ``python -m qa.generate.lexicon [SQUAD_FILE]`` rebuilds
it (data licence CC BY-SA 4.0).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from qa.reader.data import SQUAD, load_squad
from qa.sentences import split_sentences

LOWERCASE_WORDS = Path(__file__).with_name("lowercase-words.txt.gz")
WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][\w'’-]*")


def key(word: str) -> str:
    """A word as names are compared: any case, without a possessive or a plural s."""
    return word.lower().removesuffix("'s").removesuffix("’s").rstrip("s")


@functools.cache
def lowercase_words() -> frozenset[str]:
    """The shipped list, read once per process."""
    with gzip.open(LOWERCASE_WORDS, "rt", encoding="utf-8") as file:
        return frozenset(file.read().split())


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
        prog="python -m qa.generate.lexicon", description=__doc__.split("\n")[0]
    )
    parser.add_argument("squad", nargs="?", default=str(SQUAD), help="SQuAD v1.1 train")
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
