"""A learned extractive reader: reads a question with passages and points at the answer span."""

from qa.reader.answers import Passage, ReaderAnswer, Reading, read_passages
from qa.reader.reader import Reader, load_reader

__all__ = ["Passage", "Reader", "ReaderAnswer", "Reading", "load_reader", "read_passages"]
