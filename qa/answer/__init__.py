"""The answerer: short answers with verbatim citations, or an honest "the reports don't say"."""

from qa.answer.answerer import ABSTAIN_BELOW, answer_hits, ask_stream

__all__ = ["ABSTAIN_BELOW", "answer_hits", "ask_stream"]
