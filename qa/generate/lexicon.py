"""Which capitalised words are names: the English words written mostly in lowercase are not.

A sentence's first word is capitalised whatever it is, so the checker cannot tell "Officials
said" from "Putin said" by its case. This list can: the words (as :func:`key` gives them) that
SQuAD v1.1 train's Wikipedia paragraphs write in lowercase at least as often as capitalised,
past each sentence's first word. A word it lacks ("putin", "kyiv", "energoatom") is taken for a
name. The list ships with the package; ``python -m qa.reader.training.lexicon [SQUAD_FILE]``
rebuilds it (data licence CC BY-SA 4.0).
"""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path

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
