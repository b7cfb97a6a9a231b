"""The answerer: short answers with verbatim citations, or an honest "the reports don't say"."""

from typing import TYPE_CHECKING

from qa.lazy import lazy_names

if TYPE_CHECKING:
    from qa.answer.answerer import ABSTAIN_BELOW, answer_hits, ask_stream

__all__ = ["ABSTAIN_BELOW", "answer_hits", "ask_stream"]

# the answerer (the index, FAISS, the reader) imported when first used: `qa ask` printing a
# server's answer needs this package's `cli` only
__getattr__ = lazy_names(__name__, dict.fromkeys(__all__, "qa.answer.answerer"))
