"""The answerer: short answers with verbatim citations, or an honest "the reports don't say"."""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.answer.answerer import ABSTAIN_BELOW, answer_hits, ask_stream


def __getattr__(name: str) -> Any:
    """The answerer's names, imported when first used: ``qa ask`` printing a server's answer
    needs this package's ``cli``, not the answerer (the index, FAISS, the reader)."""
    if name not in __all__:
        raise AttributeError(f"module 'qa.answer' has no attribute {name!r}")
    value = getattr(importlib.import_module("qa.answer.answerer"), name)
    globals()[name] = value
    return value


__all__ = ["ABSTAIN_BELOW", "answer_hits", "ask_stream"]
