"""Persistent hybrid index: SQLite documents and chunks, FAISS vectors, BM25."""

from qa.index.base import Filters, Index
from qa.index.ingest import IngestReport
from qa.index.retrieve import MODES

__all__ = ["MODES", "Filters", "Index", "IngestReport"]
